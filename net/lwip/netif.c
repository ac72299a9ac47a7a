/*
 * The netif glue: every struct netdev a driver registers becomes an lwIP Ethernet interface.
 *
 *   TX: lwIP calls linkoutput with a pbuf chain. Each pbuf becomes one netdev_frag (no copy)
 *       and the chain itself is the driver's token: we take a reference (pbuf_ref) so lwIP may
 *       drop its own, and tx_done gives it back (pbuf_free). A TX ring that is full (-ENOSPC)
 *       is polled for completions and retried for a bounded time, then the frame is dropped and
 *       counted; TCP retransmits it.
 *   RX: the driver's filled buffer is wrapped, not copied, in a PBUF_REF custom pbuf whose free
 *       function hands the buffer back (ops->rx_release). lwIP frees it when it is done, which
 *       for a UDP echo is after the echoed frame has left the device.
 *
 * Reentrancy: lwIP (NO_SYS) must not be entered while it is running. Polling the device from
 * linkoutput (to make room after -ENOSPC) can deliver frames and link changes; those wait in a
 * small per-device queue until the next pass of the main loop (net_stack_poll).
 *
 * Configuration: DHCP with a deadline (net.dhcp_timeout, seconds, default 5), then the static
 * fallback from the command line (net.ip=A.B.C.D/NN net.gw=A.B.C.D for the first device,
 * net.<dev>.ip/gw for any) or QEMU user networking's 10.0.2.15/24 via 10.0.2.2 for the first
 * device. net.dhcp=0 (or net.<dev>.dhcp=0) skips DHCP and goes straight to the static address.
 */
#include "net/lwip/net_port.h"
#include "kernel/cmdline.h"
#include "kernel/idle.h"
#include "kernel/time.h"

#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RX_DEFER_MAX 64	     /* frames held while xmit polls the device */
#define TX_RETRY_MAX 1000    /* polls after -ENOSPC ... */
#define TX_RETRY_NS 500000u  /* ... and at most this long */
#define DHCP_TIMEOUT_S 5     /* under TCG QEMU's DHCP answers in well under a second */
#define RX_PBUFS 512	     /* RX buffers lwIP may hold at once, all devices together */
/* Driver buffers one device may lend to lwIP at once; frames beyond are copied and the buffer
 * goes straight back. Must stay below what the driver has on top of a full RX ring (virtio-net:
 * RX_POOL_LENT, 256), or holders that wait for the peer (the TCP echo's pending data waits for
 * ACKs, out-of-order queues wait for the gap) can take every buffer: the ring runs dry and the
 * ACKs they wait for can no longer be received -- a deadlock. */
#define RX_ZEROCOPY_MAX 128

struct port {
	struct netif netif;
	struct netdev *nd;
	struct net_port_stats st;
	int in_xmit;	   /* depth of polls from linkoutput: defer RX and link changes */
	bool link_pending; /* link_changed arrived while in_xmit */
	bool dhcp_on;
	const char *source; /* "dhcp"/"static" once configured */
	uint32_t shown_ip;  /* the address last announced on the console */
	struct {
		struct pbuf *p;
		bool csum_ok;
	} rxq[RX_DEFER_MAX];
	unsigned rxq_head, rxq_len;
	unsigned rx_lent; /* driver buffers wrapped in pbufs lwIP has not freed yet */
};

/* A driver buffer wrapped as a pbuf. pc must stay first: lwIP hands its custom free function
 * the struct pbuf, which is this object's address. */
struct rx_pbuf {
	struct pbuf_custom pc;
	struct netdev *nd;
	void *token;
	bool csum_ok;
};
LWIP_MEMPOOL_DECLARE(VIREO_RX_PBUF, RX_PBUFS, sizeof(struct rx_pbuf), "vireo rx pbuf")

static struct port ports[NET_PORT_MAX_NETDEVS];
static unsigned nports;
static bool stack_up;

char net_port_raw_tokens[NET_PORT_RAW_TOKENS];
volatile uint64_t net_port_raw_done;

static struct port *port_of(const struct netdev *nd)
{
	for (unsigned i = 0; i < nports; i++)
		if (ports[i].nd == nd)
			return &ports[i];
	return NULL;
}

struct netdev *netdev_at(unsigned i)
{
	return i < nports ? ports[i].nd : NULL;
}

struct netif *net_port_netif(struct netdev *nd)
{
	struct port *pp = port_of(nd);
	return pp ? &pp->netif : NULL;
}

const struct net_port_stats *net_port_stats(const struct netdev *nd)
{
	struct port *pp = port_of(nd);
	return pp ? &pp->st : NULL;
}

const char *net_port_config_source(const struct netdev *nd)
{
	struct port *pp = port_of(nd);
	return pp && pp->source ? pp->source : "";
}

/* ---- TX ---------------------------------------------------------------------------------- */

/* Ones'-complement sum of a 16-bit big-endian word sequence; folded at the end. */
static uint32_t sum16(uint32_t sum, uint32_t word)
{
	return sum + (word & 0xffff);
}

bool net_port_tx_csum_prepare(struct pbuf *p, struct netdev_tx_csum *csum)
{
	csum->needed = false;
	if (p->tot_len < SIZEOF_ETH_HDR + IP_HLEN)
		return false;
	u16_t type = (u16_t)(pbuf_get_at(p, 12) << 8 | pbuf_get_at(p, 13));
	if (type != ETHTYPE_IP)
		return false;
	const u16_t ip = SIZEOF_ETH_HDR;
	u8_t vhl = pbuf_get_at(p, ip);
	if ((vhl >> 4) != 4)
		return false;
	u16_t ihl = (u16_t)((vhl & 0xf) * 4);
	u16_t tot = (u16_t)(pbuf_get_at(p, ip + 2) << 8 | pbuf_get_at(p, ip + 3));
	u16_t frag = (u16_t)(pbuf_get_at(p, ip + 6) << 8 | pbuf_get_at(p, ip + 7));
	u8_t proto = pbuf_get_at(p, ip + 9);
	/* A fragment's transport checksum covers the whole datagram, which the device never sees
	 * in one frame. lwIP leaves a UDP checksum of 0 there, "no checksum" in IPv4 (RFC 768). */
	if (frag & (IP_MF | IP_OFFMASK))
		return false;
	u16_t off;
	if (proto == IP_PROTO_TCP)
		off = 16; /* RFC 9293 3.1: checksum at byte 16 of the TCP header */
	else if (proto == IP_PROTO_UDP)
		off = 6; /* RFC 768 */
	else
		return false;
	if (ihl < IP_HLEN || tot < ihl + off + 2 || (u32_t)ip + tot > p->tot_len)
		return false;
	u16_t l4len = (u16_t)(tot - ihl);

	/* Pseudo header (RFC 9293 3.1, RFC 768): source, destination, zero+protocol, length. */
	uint32_t sum = 0;
	for (u16_t i = 12; i < 20; i += 2)
		sum = sum16(sum, (u32_t)pbuf_get_at(p, ip + i) << 8 | pbuf_get_at(p, ip + i + 1));
	sum = sum16(sum, proto);
	sum = sum16(sum, l4len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);

	/* Not complemented: the device adds the data to it and complements the total. */
	u16_t at = (u16_t)(ip + ihl + off);
	pbuf_put_at(p, at, (u8_t)(sum >> 8));
	pbuf_put_at(p, at + 1, (u8_t)sum);
	csum->needed = true;
	csum->csum_start = (uint16_t)(ip + ihl);
	csum->csum_offset = off;
	return true;
}

static void port_poll_from_xmit(struct port *pp)
{
	pp->in_xmit++;
	pp->nd->ops->poll(pp->nd);
	pp->in_xmit--;
}

static err_t port_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct port *pp = netif->state;
	struct netdev *nd = pp->nd;
	struct pbuf *frame = p;

	if (pbuf_clen(p) > NETDEV_MAX_FRAGS) {
		/* More fragments than a frame may have: one copy, rare (lwIP chains a header pbuf
		 * to at most a few data pbufs). */
		frame = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
		if (!frame) {
			pp->st.tx_errors++;
			return ERR_MEM;
		}
		pp->st.tx_linearized++;
	} else {
		pbuf_ref(p); /* the driver's reference, dropped in tx_done */
	}

	struct netdev_frag frags[NETDEV_MAX_FRAGS];
	unsigned n = 0;
	for (struct pbuf *q = frame; q; q = q->next)
		if (q->len) {
			frags[n].data = q->payload;
			frags[n].len = q->len;
			n++;
		}

	struct netdev_tx_csum csum = {0};
	const struct netdev_tx_csum *cs = NULL;
	if ((nd->features & NETDEV_F_TX_CSUM) && net_port_tx_csum_prepare(frame, &csum)) {
		cs = &csum;
		pp->st.tx_csum_offload++;
	}

	int err = nd->ops->xmit(nd, frags, n, cs, frame);
	if (err == -ENOSPC) {
		uint64_t start = time_ns();
		for (unsigned tries = 0; err == -ENOSPC && tries < TX_RETRY_MAX; tries++) {
			if (time_ns() - start > TX_RETRY_NS)
				break;
			pp->st.tx_busy_retries++;
			port_poll_from_xmit(pp);
			err = nd->ops->xmit(nd, frags, n, cs, frame);
		}
	}
	if (err) {
		pbuf_free(frame); /* the driver did not take it */
		if (err == -ENOSPC) {
			pp->st.tx_busy_drops++;
			return ERR_MEM; /* TCP keeps the segment and retries from its timer */
		}
		pp->st.tx_errors++;
		return ERR_IF;
	}
	pp->st.tokens_outstanding++;
	return ERR_OK;
}

static void port_tx_done(struct netdev *nd, void *token)
{
	char *t = token;
	if (t >= net_port_raw_tokens && t < net_port_raw_tokens + NET_PORT_RAW_TOKENS) {
		net_port_raw_done++;
		return;
	}
	struct port *pp = nd->stack_priv;
	pp->st.tokens_outstanding--;
	pbuf_free((struct pbuf *)token);
}

/* ---- RX ---------------------------------------------------------------------------------- */

static void rx_pbuf_free(struct pbuf *p)
{
	struct rx_pbuf *r = (struct rx_pbuf *)p;
	struct netdev *nd = r->nd;
	void *token = r->token;
	struct port *pp = nd->stack_priv;
	LWIP_MEMPOOL_FREE(VIREO_RX_PBUF, r);
	pp->rx_lent--;
	nd->ops->rx_release(nd, token);
}

/* Hand one frame to lwIP. The device's checksum verdict is per frame while lwIP's checks are
 * per interface, so the TCP/UDP checks are switched off around this one input call when the
 * device vouched for the frame. Input runs to completion (NO_SYS), so no other frame sees it;
 * replies sent meanwhile are unaffected (only the CHECK flags change). */
static void port_deliver(struct port *pp, struct pbuf *p, bool csum_ok)
{
	u16_t flags = pp->netif.chksum_flags;
	if (csum_ok && (pp->nd->features & NETDEV_F_RX_CSUM)) {
		pp->st.rx_csum_trusted++;
		pp->netif.chksum_flags =
			flags & (u16_t) ~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP);
	}
	if (pp->netif.input(p, &pp->netif) != ERR_OK)
		pbuf_free(p);
	pp->netif.chksum_flags = flags;
}

static void port_rx(struct netdev *nd, void *data, size_t len, bool csum_ok, void *token)
{
	struct port *pp = nd->stack_priv;
	struct rx_pbuf *r = NULL;

	struct pbuf *p;
	if (len < SIZEOF_ETH_HDR || len > 0xffff)
		goto drop;
	if (pp->rx_lent >= RX_ZEROCOPY_MAX) {
		/* lwIP sits on many of the driver's buffers: copy, give this one back now. */
		p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
		if (!p)
			goto drop;
		memcpy(p->payload, data, len); /* PBUF_RAM: one contiguous pbuf */
		nd->ops->rx_release(nd, token);
		pp->st.rx_copied++;
	} else {
		r = LWIP_MEMPOOL_ALLOC(VIREO_RX_PBUF);
		if (!r)
			goto drop;
		r->pc.custom_free_function = rx_pbuf_free;
		r->nd = nd;
		r->token = token;
		r->csum_ok = csum_ok;
		pp->rx_lent++;
		p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &r->pc, data, (u16_t)len);
	}
	/* Keep arrival order: once something waits, later frames wait behind it. */
	if (pp->in_xmit || pp->rxq_len) {
		if (pp->rxq_len == RX_DEFER_MAX) {
			pbuf_free(p); /* releases the buffer */
			pp->st.rx_drops++;
			return;
		}
		unsigned at = (pp->rxq_head + pp->rxq_len++) % RX_DEFER_MAX;
		pp->rxq[at].p = p;
		pp->rxq[at].csum_ok = csum_ok;
		pp->st.rx_deferred++;
		return;
	}
	port_deliver(pp, p, csum_ok);
	return;
drop:
	pp->st.rx_drops++;
	nd->ops->rx_release(nd, token);
}

static void port_apply_link(struct port *pp)
{
	pp->link_pending = false;
	if (pp->nd->link_up)
		netif_set_link_up(&pp->netif);
	else
		netif_set_link_down(&pp->netif);
}

static void port_link_changed(struct netdev *nd)
{
	struct port *pp = nd->stack_priv;
	if (pp->in_xmit)
		pp->link_pending = true;
	else
		port_apply_link(pp);
}

/* ---- Configuration ------------------------------------------------------------------------ */

static int prefix_len(u32_t mask_be)
{
	return __builtin_popcount(mask_be);
}

static void port_announce(struct port *pp)
{
	struct netif *n = &pp->netif;
	u32_t ip = ip4_addr_get_u32(netif_ip4_addr(n));
	if (ip == 0 || ip == pp->shown_ip)
		return;
	pp->shown_ip = ip;
	char a[16], g[16];
	ip4addr_ntoa_r(netif_ip4_addr(n), a, sizeof(a));
	ip4addr_ntoa_r(netif_ip4_gw(n), g, sizeof(g));
	printf("net: %s %s/%d gw %s (%s)\n", pp->nd->name, a,
	       prefix_len(ip4_addr_get_u32(netif_ip4_netmask(n))), g, pp->source);
}

static void port_status_cb(struct netif *n)
{
	struct port *pp = n->state;
	if (pp->dhcp_on && dhcp_supplied_address(n))
		pp->source = "dhcp";
	if (pp->source)
		port_announce(pp);
}

/* "A.B.C.D/NN" or "A.B.C.D" (then /24). Returns 0 or -EINVAL. */
static int parse_cidr(const char *s, ip4_addr_t *ip, ip4_addr_t *mask)
{
	char buf[24];
	size_t n = strlen(s);
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n + 1);
	int prefix = 24;
	char *slash = strchr(buf, '/');
	if (slash) {
		*slash = 0;
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || v < 0 || v > 32)
			return -EINVAL;
		prefix = (int)v;
	}
	if (!ip4addr_aton(buf, ip))
		return -EINVAL;
	ip4_addr_set_u32(mask, lwip_htonl(prefix ? 0xffffffffu << (32 - prefix) : 0));
	return 0;
}

/* net.<dev>.<what>, else net.<what>: for the address options only on the first device (two
 * devices with one address would fight), for the others (dhcp) on every device. */
static const char *port_opt(const struct port *pp, const char *what)
{
	char key[40];
	snprintf(key, sizeof(key), "net.%s.%s", pp->nd->name, what);
	const char *v = cmdline_get(key);
	bool per_address = strcmp(what, "ip") == 0 || strcmp(what, "gw") == 0;
	if (!v && (pp == &ports[0] || !per_address)) {
		snprintf(key, sizeof(key), "net.%s", what);
		v = cmdline_get(key);
	}
	return v;
}

static void port_static(struct port *pp, const char *why)
{
	ip4_addr_t ip, mask, gw;
	const char *sip = port_opt(pp, "ip"), *sgw = port_opt(pp, "gw");

	if (pp->dhcp_on) {
		dhcp_release_and_stop(&pp->netif);
		pp->dhcp_on = false;
	}
	if (sip) {
		if (parse_cidr(sip, &ip, &mask)) {
			printf("net: %s: bad net.ip=%s (want A.B.C.D/NN)\n", pp->nd->name, sip);
			return;
		}
	} else if (pp == &ports[0]) {
		IP4_ADDR(&ip, 10, 0, 2, 15); /* QEMU user networking's guest address */
		IP4_ADDR(&mask, 255, 255, 255, 0);
	} else {
		printf("net: %s: no address (%s, no net.%s.ip=)\n", pp->nd->name, why,
		       pp->nd->name);
		return;
	}
	if (sgw) {
		if (!ip4addr_aton(sgw, &gw)) {
			printf("net: %s: bad net.gw=%s\n", pp->nd->name, sgw);
			return;
		}
	} else if (!sip) {
		IP4_ADDR(&gw, 10, 0, 2, 2);
	} else {
		ip4_addr_set_zero(&gw); /* an address without a gateway: on-link only */
	}
	pp->source = "static";
	netif_set_addr(&pp->netif, &ip, &mask, &gw);
	port_announce(pp);
}

static void port_dhcp_deadline(void *arg)
{
	struct port *pp = arg;
	if (pp->dhcp_on && !dhcp_supplied_address(&pp->netif)) {
		printf("net: %s: no DHCP answer in %ld s; static address\n", pp->nd->name,
		       cmdline_get_int("net.dhcp_timeout", DHCP_TIMEOUT_S));
		port_static(pp, "dhcp timed out");
	}
}

static void port_configure(struct port *pp)
{
	const char *dhcp = port_opt(pp, "dhcp");
	if (dhcp && strcmp(dhcp, "0") == 0) {
		port_static(pp, "net.dhcp=0");
		return;
	}
	err_t e = dhcp_start(&pp->netif);
	if (e != ERR_OK) {
		printf("net: %s: dhcp_start failed (%d)\n", pp->nd->name, e);
		port_static(pp, "dhcp failed");
		return;
	}
	pp->dhcp_on = true;
	long s = cmdline_get_int("net.dhcp_timeout", DHCP_TIMEOUT_S);
	sys_timeout((u32_t)(s > 0 ? s * 1000 : 1), port_dhcp_deadline, pp);
}

/* ---- Interface set-up --------------------------------------------------------------------- */

static err_t port_netif_init(struct netif *n)
{
	struct port *pp = n->state;
	struct netdev *nd = pp->nd;
	n->name[0] = 'e';
	n->name[1] = 'n';
	n->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(n->hwaddr, nd->mac, ETH_HWADDR_LEN);
	n->mtu = nd->mtu ? nd->mtu : 1500;
	n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	n->output = etharp_output;
	n->linkoutput = port_linkoutput;
	netif_set_hostname(n, "vireo");
	/* Software checksums for whatever the device does not do. IP header and ICMP sums are
	 * never offloaded (virtio-net only offers TCP/UDP). */
	u16_t flags = NETIF_CHECKSUM_ENABLE_ALL;
	if (nd->features & NETDEV_F_TX_CSUM)
		flags &= (u16_t) ~(NETIF_CHECKSUM_GEN_TCP | NETIF_CHECKSUM_GEN_UDP);
	NETIF_SET_CHECKSUM_CTRL(n, flags);
	return ERR_OK;
}

static void net_idle_hook(void *ctx)
{
	(void)ctx;
	net_stack_poll();
}

void net_stack_init(void)
{
	if (stack_up)
		return;
	stack_up = true;
	srand((unsigned)time_ns());
	lwip_init(); /* also adds the loopback interface, 127.0.0.1 */
	LWIP_MEMPOOL_INIT(VIREO_RX_PBUF);
	if (idle_hook_add(net_idle_hook, NULL))
		printf("net: no free main-loop hook; the stack will not run\n");
}

void net_stack_poll(void)
{
	static bool busy;
	if (busy || !stack_up)
		return; /* a hook that ends up spinning the main loop must not nest */
	busy = true;
	for (unsigned i = 0; i < nports; i++) {
		struct port *pp = &ports[i];
		pp->nd->ops->poll(pp->nd);
		if (pp->link_pending)
			port_apply_link(pp);
		while (pp->rxq_len) {
			struct pbuf *p = pp->rxq[pp->rxq_head].p;
			bool csum_ok = pp->rxq[pp->rxq_head].csum_ok;
			pp->rxq_head = (pp->rxq_head + 1) % RX_DEFER_MAX;
			pp->rxq_len--;
			port_deliver(pp, p, csum_ok);
		}
	}
	netif_poll_all(); /* packets looped back to our own addresses */
	sys_check_timeouts();
	busy = false;
}

int netdev_register(struct netdev *nd)
{
	if (!nd || !nd->ops || !nd->ops->xmit || !nd->ops->rx_release || !nd->ops->poll ||
	    !nd->name[0])
		return -EINVAL;
	if (port_of(nd))
		return -EEXIST;
	if (nports == NET_PORT_MAX_NETDEVS)
		return -ENOSPC;
	net_stack_init();

	struct port *pp = &ports[nports];
	memset(pp, 0, sizeof(*pp));
	pp->nd = nd;
	nd->stack_priv = pp;
	nd->rx = port_rx;
	nd->tx_done = port_tx_done;
	nd->link_changed = port_link_changed;
	if (!netif_add(&pp->netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, pp,
		       port_netif_init, ethernet_input)) {
		nd->rx = NULL;
		nd->tx_done = NULL;
		nd->link_changed = NULL;
		nd->stack_priv = NULL;
		return -EIO;
	}
	nports++; /* only now: the netdev is visible to netdev_at and the poll hook */
	netif_set_status_callback(&pp->netif, port_status_cb);
	if (nports == 1)
		netif_set_default(&pp->netif);
	netif_set_up(&pp->netif);
	if (nd->link_up)
		netif_set_link_up(&pp->netif);
	port_configure(pp);
	return 0;
}
