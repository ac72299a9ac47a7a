/*
 * Host unit tests of the lwIP netif glue (net/lwip/netif.c) against fake netdevs,
 * with the real lwIP core built for the host.
 *
 * The test plays both the driver (a fake netdev that records what xmit is given and hands in
 * frames through nd->rx) and the far end of the wire (frames built here byte by byte from the
 * RFCs: Ethernet II, ARP (RFC 826), IPv4 (RFC 791), UDP (RFC 768), checksums (RFC 1071)), so a
 * frame lwIP accepts or emits is checked against the wire format, not against lwIP's own
 * helpers.
 *
 * Devices (registered once, in order; the glue has no unregister):
 *   eth0  no offloads, static 10.0.2.15/24 gw 10.0.2.2 (net.ip/net.gw, net.eth0.dhcp=0)
 *   eth1  TX+RX checksum offload, static 192.168.7.1/24 (net.eth1.ip, net.eth1.dhcp=0)
 *   eth2  DHCP, no server: falls back to net.eth2.ip after net.dhcp_timeout (last test)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/cmdline.h"
#include "kernel/idle.h"
#include "kernel/time.h"
#include "net/lwip/net_port.h"

#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

/* ---- The kernel functions the glue uses ---------------------------------------------------- */

static uint64_t now_ns = 1000000000ull;
uint64_t time_ns(void)
{
	return now_ns;
}

static const char *const cmdline[][2] = {
	{"net.ip", "10.0.2.15/24"},	{"net.gw", "10.0.2.2"},	      {"net.eth0.dhcp", "0"},
	{"net.eth1.ip", "192.168.7.1/24"}, {"net.eth1.dhcp", "0"},     {"net.eth2.ip", "10.9.0.5/16"},
	{"net.eth2.gw", "10.9.0.1"},	   {"net.dhcp_timeout", "5"},
};
const char *cmdline_get(const char *key)
{
	for (size_t i = 0; i < sizeof(cmdline) / sizeof(cmdline[0]); i++)
		if (strcmp(cmdline[i][0], key) == 0)
			return cmdline[i][1];
	return NULL;
}
long cmdline_get_int(const char *key, long def)
{
	const char *v = cmdline_get(key);
	return v ? strtol(v, NULL, 10) : def;
}

static void (*idle_fn)(void *);
int idle_hook_add(void (*fn)(void *ctx), void *ctx)
{
	(void)ctx;
	idle_fn = fn;
	return 0;
}

/* ---- The fake device ------------------------------------------------------------------------ */

#define MAX_SENT 32
struct sent {
	uint8_t data[2048]; /* the frame, gathered from its fragments */
	size_t len;
	unsigned nfrags;
	const void *frag_data[NETDEV_MAX_FRAGS];
	size_t frag_len[NETDEV_MAX_FRAGS];
	bool has_csum;
	struct netdev_tx_csum csum;
	void *token; /* NULL once completed */
};

struct fake {
	struct netdev nd;
	struct sent sent[MAX_SENT];
	unsigned nsent;
	int enospc; /* xmit says -ENOSPC this many more times; -1: always */
	unsigned polls;
	void (*poll_hook)(struct fake *f); /* runs once, from the next poll */
	void *released[64];
	unsigned nreleased;
};

static int fake_xmit(struct netdev *nd, const struct netdev_frag *frags, unsigned nfrags,
		     const struct netdev_tx_csum *csum, void *token)
{
	struct fake *f = (struct fake *)nd;
	if (f->enospc) {
		if (f->enospc > 0)
			f->enospc--;
		return -ENOSPC;
	}
	assert_true(nfrags >= 1 && nfrags <= NETDEV_MAX_FRAGS);
	assert_true(f->nsent < MAX_SENT);
	struct sent *s = &f->sent[f->nsent++];
	s->len = 0;
	s->nfrags = nfrags;
	for (unsigned i = 0; i < nfrags; i++) {
		assert_true(s->len + frags[i].len <= sizeof(s->data));
		memcpy(s->data + s->len, frags[i].data, frags[i].len);
		s->len += frags[i].len;
		s->frag_data[i] = frags[i].data;
		s->frag_len[i] = frags[i].len;
	}
	s->has_csum = csum != NULL;
	if (csum)
		s->csum = *csum;
	s->token = token;
	return 0;
}

static void fake_rx_release(struct netdev *nd, void *token)
{
	struct fake *f = (struct fake *)nd;
	assert_true(f->nreleased < 64);
	f->released[f->nreleased++] = token;
}

static void fake_poll(struct netdev *nd)
{
	struct fake *f = (struct fake *)nd;
	f->polls++;
	void (*hook)(struct fake *) = f->poll_hook;
	f->poll_hook = NULL;
	if (hook)
		hook(f);
}

static const struct netdev_ops fake_ops = {
	.xmit = fake_xmit, .rx_release = fake_rx_release, .poll = fake_poll};

static struct fake eth0 = {.nd = {.name = "eth0",
				  .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
				  .mtu = 1500,
				  .link_up = true,
				  .ops = &fake_ops}};
static struct fake eth1 = {.nd = {.name = "eth1",
				  .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57},
				  .mtu = 1500,
				  .link_up = true,
				  .features = NETDEV_F_TX_CSUM | NETDEV_F_RX_CSUM,
				  .ops = &fake_ops}};
static struct fake eth2 = {.nd = {.name = "eth2",
				  .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x58},
				  .mtu = 1500,
				  .link_up = true,
				  .ops = &fake_ops}};

/* The driver finishes every frame it holds: tx_done once per token. */
static void complete_all(struct fake *f)
{
	for (unsigned i = 0; i < f->nsent; i++)
		if (f->sent[i].token) {
			void *t = f->sent[i].token;
			f->sent[i].token = NULL;
			f->nd.tx_done(&f->nd, t);
		}
}

static void reset(struct fake *f)
{
	complete_all(f);
	f->nsent = 0;
	f->nreleased = 0;
	f->enospc = 0;
	f->polls = 0;
	f->poll_hook = NULL;
}

/* ---- Wire formats ---------------------------------------------------------------------------- */

static const uint8_t peer_mac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* RFC 1071: the 16-bit ones'-complement sum, not complemented, not folded. */
static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}
static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}
/* Sum of the IPv4 pseudo header (RFC 768 / RFC 9293 3.1) of the packet at ip. */
static uint32_t pseudo_sum(const uint8_t *iph)
{
	unsigned ihl = (iph[0] & 0xf) * 4u;
	uint32_t s = sum_bytes(0, iph + 12, 8);
	return s + iph[9] + (uint32_t)(get16(iph + 2) - ihl);
}
/* True when the TCP/UDP checksum of the IPv4 packet at iph verifies. */
static bool l4_csum_ok(const uint8_t *iph)
{
	unsigned ihl = (iph[0] & 0xf) * 4u;
	unsigned l4 = get16(iph + 2) - ihl;
	return fold(sum_bytes(pseudo_sum(iph), iph + ihl, l4)) == 0xffff;
}

static size_t eth_hdr(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return 14;
}

/* An ARP packet (RFC 826) for Ethernet/IPv4. */
static size_t arp_frame(uint8_t *f, uint16_t op, const uint8_t *dst_mac, const uint8_t *sha,
			uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	size_t n = eth_hdr(f, dst_mac, sha, 0x0806);
	uint8_t *a = f + n;
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	return 60; /* padded to the Ethernet minimum */
}

/* An Ethernet + IPv4 + UDP frame with correct checksums, then *bad_csum flips the UDP sum. */
static size_t udp_frame(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src,
			uint32_t dst, uint16_t sport, uint16_t dport, const void *payload,
			size_t plen, bool bad_csum)
{
	size_t n = eth_hdr(f, dst_mac, src_mac, 0x0800);
	uint8_t *iph = f + n, *u = iph + 20;
	memset(iph, 0, 20);
	iph[0] = 0x45;
	put16(iph + 2, (uint16_t)(20 + 8 + plen));
	put16(iph + 4, 0x1234);
	iph[8] = 64;
	iph[9] = 17;
	put32(iph + 12, src);
	put32(iph + 16, dst);
	put16(iph + 10, (uint16_t)~fold(sum_bytes(0, iph, 20)));
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + plen));
	put16(u + 6, 0);
	memcpy(u + 8, payload, plen);
	uint16_t c = (uint16_t)~fold(sum_bytes(pseudo_sum(iph), u, 8 + plen));
	put16(u + 6, c ? c : 0xffff);
	if (bad_csum)
		u[6] ^= 0x55;
	return n + 20 + 8 + plen;
}

/* Hand a frame to the stack as the driver would; the buffer must outlive the pbuf. */
static void rx(struct fake *f, void *frame, size_t len, bool csum_ok, void *token)
{
	f->nd.rx(&f->nd, frame, len, csum_ok, token);
}

/* Teach the stack peer's MAC for addr via an ARP reply. */
static void learn_peer(struct fake *f, uint32_t our_ip, uint32_t peer_ip)
{
	static uint8_t frame[64];
	size_t n = arp_frame(frame, 2, f->nd.mac, peer_mac, peer_ip, f->nd.mac, our_ip);
	unsigned before = f->nreleased;
	rx(f, frame, n, false, frame);
	assert_int_equal(f->nreleased, before + 1); /* ARP is consumed at once */
}

/* A payload pbuf that says when lwIP lets go of it. */
static int payload_frees;
static void payload_free(struct pbuf *p)
{
	(void)p;
	payload_frees++;
}
static struct pbuf *payload_pbuf(struct pbuf_custom *pc, void *data, u16_t len)
{
	pc->custom_free_function = payload_free;
	return pbuf_alloced_custom(PBUF_RAW, len, PBUF_REF, pc, data, len);
}

static struct udp_pcb *udp_from(uint32_t src, uint16_t port)
{
	struct udp_pcb *pcb = udp_new();
	ip_addr_t a;
	IP_ADDR4(&a, src >> 24, (src >> 16) & 0xff, (src >> 8) & 0xff, src & 0xff);
	assert_non_null(pcb);
	assert_int_equal(udp_bind(pcb, &a, port), ERR_OK);
	return pcb;
}

static err_t send_udp(struct udp_pcb *pcb, struct pbuf *p, uint32_t dst, uint16_t port)
{
	ip_addr_t a;
	IP_ADDR4(&a, dst >> 24, (dst >> 16) & 0xff, (dst >> 8) & 0xff, dst & 0xff);
	return udp_sendto(pcb, p, &a, port);
}

/* ---- Tests ----------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	assert_int_equal(netdev_register(&eth0.nd), 0);
	assert_int_equal(netdev_register(&eth1.nd), 0);
	return 0;
}

static void test_register(void **state)
{
	(void)state;
	struct netdev bad = {.name = "bad"};
	assert_int_equal(netdev_register(&bad), -EINVAL);
	assert_int_equal(netdev_register(NULL), -EINVAL);
	assert_int_equal(netdev_register(&eth0.nd), -EEXIST);
	assert_ptr_equal(netdev_at(0), &eth0.nd);
	assert_ptr_equal(netdev_at(1), &eth1.nd);
	assert_null(netdev_at(2));
	assert_non_null(eth0.nd.rx);
	assert_non_null(eth0.nd.tx_done);
	assert_non_null(eth0.nd.link_changed);
	assert_non_null(idle_fn);

	struct netif *n = net_port_netif(&eth0.nd);
	assert_non_null(n);
	assert_memory_equal(n->hwaddr, eth0.nd.mac, 6);
	assert_int_equal(n->mtu, 1500);
	assert_true(netif_is_up(n) && netif_is_link_up(n));
	assert_int_equal(lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(n))), ip(10, 0, 2, 15));
	assert_int_equal(lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(n))), 0xffffff00);
	assert_int_equal(lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(n))), ip(10, 0, 2, 2));
	assert_string_equal(net_port_config_source(&eth0.nd), "static");
	assert_ptr_equal(netif_default, n);

	n = net_port_netif(&eth1.nd);
	assert_int_equal(lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(n))), ip(192, 168, 7, 1));
	assert_int_equal(ip4_addr_get_u32(netif_ip4_gw(n)), 0);
	assert_null(net_port_netif(&bad));
}

/* The first packet to an unknown neighbour waits for ARP; the ARP request is a well-formed
 * broadcast; the reply releases the queued datagram. */
static void test_tx_arp_then_queued_udp(void **state)
{
	(void)state;
	reset(&eth0);
	struct udp_pcb *pcb = udp_from(ip(10, 0, 2, 15), 5000);
	static uint8_t data[100];
	memset(data, 0xab, sizeof(data));
	struct pbuf_custom pc;
	payload_frees = 0;
	struct pbuf *p = payload_pbuf(&pc, data, sizeof(data));
	assert_int_equal(send_udp(pcb, p, ip(10, 0, 2, 2), 7), ERR_OK);
	pbuf_free(p);

	assert_int_equal(eth0.nsent, 1);
	const uint8_t *a = eth0.sent[0].data;
	assert_memory_equal(a, bcast, 6);
	assert_memory_equal(a + 6, eth0.nd.mac, 6);
	assert_int_equal(get16(a + 12), 0x0806);
	assert_int_equal(get16(a + 14 + 6), 1); /* request */
	assert_int_equal(get16(a + 14 + 24) << 16 | get16(a + 14 + 26), ip(10, 0, 2, 2));
	assert_false(eth0.sent[0].has_csum);

	learn_peer(&eth0, ip(10, 0, 2, 15), ip(10, 0, 2, 2));
	assert_int_equal(eth0.nsent, 2);
	const uint8_t *f = eth0.sent[1].data;
	assert_memory_equal(f, peer_mac, 6);
	assert_int_equal(get16(f + 12), 0x0800);
	assert_int_equal(eth0.sent[1].len, 14 + 20 + 8 + sizeof(data));
	assert_int_equal(get16(f + 14 + 20 + 2), 7);
	assert_memory_equal(f + 42, data, sizeof(data));
	assert_true(l4_csum_ok(f + 14)); /* no offload on eth0: lwIP summed it */
	assert_false(eth0.sent[1].has_csum);
	udp_remove(pcb);
	reset(&eth0);
	assert_int_equal(net_port_stats(&eth0.nd)->tokens_outstanding, 0);
	assert_int_equal(payload_frees, 1);
}

/* A chain goes out as one fragment per pbuf, the payload straight from the caller's memory;
 * lwIP's references are dropped only when the driver completes the frame, exactly once. */
static void test_tx_fragments_zero_copy(void **state)
{
	(void)state;
	reset(&eth0);
	struct udp_pcb *pcb = udp_from(ip(10, 0, 2, 15), 5001);
	static uint8_t data[300];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	struct pbuf_custom pc;
	payload_frees = 0;
	struct pbuf *p = payload_pbuf(&pc, data, sizeof(data));
	assert_int_equal(send_udp(pcb, p, ip(10, 0, 2, 2), 7), ERR_OK);
	pbuf_free(p);

	assert_int_equal(eth0.nsent, 1);
	struct sent *s = &eth0.sent[0];
	assert_int_equal(s->nfrags, 2);
	assert_int_equal(s->frag_len[0], 14 + 20 + 8);
	assert_ptr_equal(s->frag_data[1], data); /* zero copy */
	assert_int_equal(s->frag_len[1], sizeof(data));
	assert_true(l4_csum_ok(s->data + 14));
	assert_int_equal(net_port_stats(&eth0.nd)->tokens_outstanding, 1);
	assert_int_equal(payload_frees, 0); /* the driver still holds it */

	complete_all(&eth0);
	assert_int_equal(payload_frees, 1);
	assert_int_equal(net_port_stats(&eth0.nd)->tokens_outstanding, 0);
	udp_remove(pcb);
}

/* More pbufs than NETDEV_MAX_FRAGS: one linear copy, the chain released at once. */
static void test_tx_long_chain_linearized(void **state)
{
	(void)state;
	reset(&eth0);
	struct udp_pcb *pcb = udp_from(ip(10, 0, 2, 15), 5002);
	static uint8_t data[20][10];
	static struct pbuf_custom pcs[20];
	payload_frees = 0;
	struct pbuf *chain = NULL;
	for (int i = 0; i < 20; i++) {
		memset(data[i], i, 10);
		struct pbuf *q = payload_pbuf(&pcs[i], data[i], 10);
		if (chain)
			pbuf_cat(chain, q);
		else
			chain = q;
	}
	uint64_t lin = net_port_stats(&eth0.nd)->tx_linearized;
	assert_int_equal(send_udp(pcb, chain, ip(10, 0, 2, 2), 7), ERR_OK);
	pbuf_free(chain);
	assert_int_equal(eth0.nsent, 1);
	assert_int_equal(eth0.sent[0].nfrags, 1);
	assert_int_equal(net_port_stats(&eth0.nd)->tx_linearized, lin + 1);
	assert_int_equal(payload_frees, 20); /* the copy went out, the chain is gone */
	for (int i = 0; i < 20; i++)
		assert_int_equal(eth0.sent[0].data[42 + i * 10], i);
	assert_true(l4_csum_ok(eth0.sent[0].data + 14));
	complete_all(&eth0);
	assert_int_equal(net_port_stats(&eth0.nd)->tokens_outstanding, 0);
	udp_remove(pcb);
}

/* A frame that arrives while linkoutput polls the device must wait: lwIP is mid-output. */
static uint8_t arp_req_frame[64];
static void inject_arp_request(struct fake *f)
{
	size_t n = arp_frame(arp_req_frame, 1, bcast, peer_mac, ip(10, 0, 2, 3), bcast,
			     ip(10, 0, 2, 15));
	rx(f, arp_req_frame, n, false, arp_req_frame);
}

static void test_tx_enospc(void **state)
{
	(void)state;
	reset(&eth0);
	const struct net_port_stats *st = net_port_stats(&eth0.nd);
	struct udp_pcb *pcb = udp_from(ip(10, 0, 2, 15), 5003);
	static uint8_t data[16];
	struct pbuf_custom pc;

	/* Full for three tries: polled, retried, sent. */
	uint64_t retries = st->tx_busy_retries, drops = st->tx_busy_drops;
	eth0.enospc = 3;
	eth0.poll_hook = inject_arp_request;
	payload_frees = 0;
	struct pbuf *p = payload_pbuf(&pc, data, sizeof(data));
	assert_int_equal(send_udp(pcb, p, ip(10, 0, 2, 2), 7), ERR_OK);
	pbuf_free(p);
	assert_int_equal(eth0.nsent, 1);
	assert_int_equal(eth0.polls, 3);
	assert_int_equal(st->tx_busy_retries, retries + 3);
	/* The ARP request that came in during the poll waits for the main loop. */
	assert_int_equal(eth0.nreleased, 0);
	uint64_t deferred = st->rx_deferred;
	net_stack_poll();
	assert_int_equal(st->rx_deferred, deferred);
	assert_int_equal(eth0.nreleased, 1);
	assert_int_equal(eth0.nsent, 2);
	const uint8_t *r = eth0.sent[1].data;
	assert_int_equal(get16(r + 12), 0x0806);
	assert_int_equal(get16(r + 14 + 6), 2); /* our ARP reply */
	assert_memory_equal(r, peer_mac, 6);
	complete_all(&eth0);
	assert_int_equal(payload_frees, 1);

	/* Full for good: bounded retries, then dropped and counted; nothing leaks. */
	reset(&eth0);
	eth0.enospc = -1;
	payload_frees = 0;
	p = payload_pbuf(&pc, data, sizeof(data));
	assert_int_equal(send_udp(pcb, p, ip(10, 0, 2, 2), 7), ERR_MEM);
	pbuf_free(p);
	assert_int_equal(eth0.nsent, 0);
	assert_true(eth0.polls >= 1 && eth0.polls <= 1000);
	assert_int_equal(st->tx_busy_drops, drops + 1);
	assert_int_equal(payload_frees, 1);
	assert_int_equal(st->tokens_outstanding, 0);
	eth0.enospc = 0;
	udp_remove(pcb);
}

struct held {
	struct pbuf *p;
	int count;
};
static void hold_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		      u16_t port)
{
	(void)pcb, (void)addr, (void)port;
	struct held *h = arg;
	h->count++;
	if (h->p)
		pbuf_free(p);
	else
		h->p = p; /* keep the first */
}

/* RX is zero-copy: the pbuf lwIP hands the application points into the driver's buffer, and
 * the buffer goes back to the driver once, when the last reference is dropped. */
static void test_rx_zero_copy_release_once(void **state)
{
	(void)state;
	reset(&eth0);
	struct udp_pcb *pcb = udp_from(ip(10, 0, 2, 15), 9999);
	struct held h = {0};
	udp_recv(pcb, hold_recv, &h);
	static uint8_t frame[256];
	size_t n = udp_frame(frame, eth0.nd.mac, peer_mac, ip(10, 0, 2, 2), ip(10, 0, 2, 15), 1234,
			     9999, "hello", 5, false);
	void *token = (void *)0x5151;
	rx(&eth0, frame, n, false, token);
	assert_int_equal(h.count, 1);
	assert_non_null(h.p);
	assert_ptr_equal(h.p->payload, frame + 42);
	assert_int_equal(h.p->tot_len, 5);
	assert_int_equal(eth0.nreleased, 0);
	pbuf_ref(h.p);
	pbuf_free(h.p);
	assert_int_equal(eth0.nreleased, 0);
	pbuf_free(h.p);
	assert_int_equal(eth0.nreleased, 1);
	assert_ptr_equal(eth0.released[0], token);

	/* Dropped frames go back at once, once: a runt, another host's address, a bad sum. */
	const struct net_port_stats *st = net_port_stats(&eth0.nd);
	uint64_t drops = st->rx_drops;
	rx(&eth0, frame, 10, false, (void *)1);
	assert_int_equal(eth0.nreleased, 2);
	assert_ptr_equal(eth0.released[1], (void *)1);
	assert_int_equal(st->rx_drops, drops + 1);
	n = udp_frame(frame, eth0.nd.mac, peer_mac, ip(10, 0, 2, 2), ip(10, 0, 2, 99), 1, 9999,
		      "x", 1, false);
	rx(&eth0, frame, n, false, (void *)2);
	assert_int_equal(eth0.nreleased, 3);
	uint32_t chkerr = lwip_stats.udp.chkerr;
	n = udp_frame(frame, eth0.nd.mac, peer_mac, ip(10, 0, 2, 2), ip(10, 0, 2, 15), 1, 9999,
		      "x", 1, true);
	rx(&eth0, frame, n, true /* ignored: eth0 has no RX_CSUM */, (void *)3);
	assert_int_equal(eth0.nreleased, 4);
	assert_int_equal(h.count, 1);
	assert_int_equal(lwip_stats.udp.chkerr, chkerr + 1);
	udp_remove(pcb);
}

static void link_down_hook(struct fake *f)
{
	f->nd.link_up = false;
	f->nd.link_changed(&f->nd);
}

static void test_link_changes(void **state)
{
	(void)state;
	reset(&eth0);
	struct netif *n = net_port_netif(&eth0.nd);
	eth0.nd.link_up = false;
	eth0.nd.link_changed(&eth0.nd);
	assert_false(netif_is_link_up(n));
	eth0.nd.link_up = true;
	eth0.nd.link_changed(&eth0.nd);
	assert_true(netif_is_link_up(n));

	/* A change seen while linkoutput polls is applied from the main loop. */
	struct udp_pcb *pcb = udp_from(ip(10, 0, 2, 15), 5004);
	static uint8_t data[8];
	struct pbuf_custom pc;
	eth0.enospc = 1;
	eth0.poll_hook = link_down_hook;
	struct pbuf *p = payload_pbuf(&pc, data, sizeof(data));
	assert_int_equal(send_udp(pcb, p, ip(10, 0, 2, 2), 7), ERR_OK);
	pbuf_free(p);
	assert_true(netif_is_link_up(n));
	net_stack_poll();
	assert_false(netif_is_link_up(n));
	eth0.nd.link_up = true;
	eth0.nd.link_changed(&eth0.nd);
	assert_true(netif_is_link_up(n));
	udp_remove(pcb);
	reset(&eth0);
}

/* What a NEEDS_CSUM device does: sum from csum_start to the end (the field holds the pseudo
 * header sum) and store the complement at csum_start + csum_offset. */
static void device_complete_csum(struct sent *s)
{
	uint8_t *at = s->data + s->csum.csum_start + s->csum.csum_offset;
	uint16_t c = (uint16_t)~fold(
		sum_bytes(0, s->data + s->csum.csum_start, s->len - s->csum.csum_start));
	put16(at, c);
}

static void test_tx_csum_offload(void **state)
{
	(void)state;
	reset(&eth1);
	learn_peer(&eth1, ip(192, 168, 7, 1), ip(192, 168, 7, 2));
	eth1.nreleased = 0;

	/* UDP: the request points at the UDP checksum; the field holds the pseudo-header sum. */
	struct udp_pcb *pcb = udp_from(ip(192, 168, 7, 1), 6000);
	static uint8_t data[77];
	memset(data, 0x3c, sizeof(data));
	struct pbuf_custom pc;
	struct pbuf *p = payload_pbuf(&pc, data, sizeof(data));
	assert_int_equal(send_udp(pcb, p, ip(192, 168, 7, 2), 7), ERR_OK);
	pbuf_free(p);
	assert_int_equal(eth1.nsent, 1);
	struct sent *s = &eth1.sent[0];
	assert_true(s->has_csum && s->csum.needed);
	assert_int_equal(s->csum.csum_start, 14 + 20);
	assert_int_equal(s->csum.csum_offset, 6);
	assert_int_equal(get16(s->data + 14 + 20 + 6), fold(pseudo_sum(s->data + 14)));
	device_complete_csum(s);
	assert_true(l4_csum_ok(s->data + 14));
	/* The IP header sum is never offloaded. */
	assert_int_equal(fold(sum_bytes(0, s->data + 14, 20)), 0xffff);
	udp_remove(pcb);

	/* TCP: the SYN of a connection. */
	struct tcp_pcb *t = tcp_new();
	ip_addr_t dst;
	IP_ADDR4(&dst, 192, 168, 7, 2);
	assert_int_equal(tcp_connect(t, &dst, 80, NULL), ERR_OK);
	assert_int_equal(eth1.nsent, 2);
	s = &eth1.sent[1];
	assert_int_equal(s->data[14 + 9], 6);
	assert_true(s->has_csum);
	assert_int_equal(s->csum.csum_start, 34);
	assert_int_equal(s->csum.csum_offset, 16);
	device_complete_csum(s);
	assert_true(l4_csum_ok(s->data + 14));
	tcp_abort(t); /* sends a RST, also offloaded */
	assert_int_equal(eth1.nsent, 3);
	assert_true(eth1.sent[2].has_csum);

	/* ICMP is summed by lwIP: an echo reply goes out without a request. */
	static uint8_t ping[14 + 20 + 8 + 4];
	eth_hdr(ping, eth1.nd.mac, peer_mac, 0x0800);
	uint8_t *iph = ping + 14, *icmp = iph + 20;
	memset(iph, 0, 20);
	iph[0] = 0x45;
	put16(iph + 2, 32);
	iph[8] = 64;
	iph[9] = 1;
	put32(iph + 12, ip(192, 168, 7, 2));
	put32(iph + 16, ip(192, 168, 7, 1));
	put16(iph + 10, (uint16_t)~fold(sum_bytes(0, iph, 20)));
	icmp[0] = 8; /* echo request */
	put16(icmp + 4, 0x77);
	put16(icmp + 6, 1);
	memcpy(icmp + 8, "ping", 4);
	put16(icmp + 2, (uint16_t)~fold(sum_bytes(0, icmp, 12)));
	rx(&eth1, ping, sizeof(ping), false, ping);
	assert_int_equal(eth1.nsent, 4);
	s = &eth1.sent[3];
	assert_false(s->has_csum);
	assert_int_equal(s->data[14 + 20], 0); /* echo reply */
	assert_int_equal(fold(sum_bytes(0, s->data + 34, 12)), 0xffff);
	reset(&eth1);
}

/* The glue's header parser on its own: only whole IPv4 TCP/UDP datagrams get a request. */
static void test_tx_csum_prepare_parsing(void **state)
{
	(void)state;
	static uint8_t f[128];
	size_t n = udp_frame(f, peer_mac, eth1.nd.mac, ip(1, 2, 3, 4), ip(5, 6, 7, 8), 1, 2,
			     "abcd", 4, false);
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
	struct netdev_tx_csum c;

	memcpy(p->payload, f, n);
	assert_true(net_port_tx_csum_prepare(p, &c));
	assert_int_equal(c.csum_start, 34);
	assert_int_equal(c.csum_offset, 6);

	/* A fragment (MF set): the device cannot sum a datagram it sees only part of. */
	memcpy(p->payload, f, n);
	((uint8_t *)p->payload)[14 + 6] = 0x20;
	assert_false(net_port_tx_csum_prepare(p, &c));
	assert_false(c.needed);
	assert_memory_equal(p->payload, f, 14 + 6); /* left alone */

	/* Not IPv4, truncated, an IP length beyond the frame. */
	memcpy(p->payload, f, n);
	put16((uint8_t *)p->payload + 12, 0x86dd);
	assert_false(net_port_tx_csum_prepare(p, &c));
	memcpy(p->payload, f, n);
	put16((uint8_t *)p->payload + 16, 200);
	assert_false(net_port_tx_csum_prepare(p, &c));
	pbuf_free(p);

	/* IP options move csum_start. */
	static uint8_t g[128];
	memcpy(g, f, 14);
	g[14] = 0x46; /* IHL 6 */
	memcpy(g + 15, f + 15, 19);
	put16(g + 16, (uint16_t)(get16(f + 16) + 4));
	memset(g + 34, 1, 4); /* a NOP option word */
	memcpy(g + 38, f + 34, n - 34);
	p = pbuf_alloc(PBUF_RAW, (u16_t)(n + 4), PBUF_RAM);
	memcpy(p->payload, g, n + 4);
	assert_true(net_port_tx_csum_prepare(p, &c));
	assert_int_equal(c.csum_start, 38);
	pbuf_free(p);
}

/* RX_CSUM: a frame the device vouched for skips lwIP's TCP/UDP check; one it did not is
 * checked. */
static void test_rx_csum_trust(void **state)
{
	(void)state;
	reset(&eth1);
	const struct net_port_stats *st = net_port_stats(&eth1.nd);
	struct udp_pcb *pcb = udp_from(ip(192, 168, 7, 1), 9998);
	struct held h = {0};
	udp_recv(pcb, hold_recv, &h);
	static uint8_t frame[128];
	size_t n = udp_frame(frame, eth1.nd.mac, peer_mac, ip(192, 168, 7, 2), ip(192, 168, 7, 1),
			     1, 9998, "data", 4, true /* wrong sum: only trust lets it in */);
	uint64_t trusted = st->rx_csum_trusted;
	rx(&eth1, frame, n, true, (void *)10);
	assert_int_equal(h.count, 1);
	assert_int_equal(st->rx_csum_trusted, trusted + 1);
	pbuf_free(h.p);
	h.p = NULL;
	assert_int_equal(eth1.nreleased, 1);

	uint32_t chkerr = lwip_stats.udp.chkerr;
	rx(&eth1, frame, n, false, (void *)11);
	assert_int_equal(h.count, 1);
	assert_int_equal(lwip_stats.udp.chkerr, chkerr + 1);
	assert_int_equal(eth1.nreleased, 2);
	/* The trust was for that one frame: the interface checks again. */
	assert_true(net_port_netif(&eth1.nd)->chksum_flags & NETIF_CHECKSUM_CHECK_UDP);
	udp_remove(pcb);
}

/* DHCP first (a DISCOVER goes out), no answer, then the static fallback at the deadline. */
static void test_dhcp_timeout_fallback(void **state)
{
	(void)state;
	assert_int_equal(netdev_register(&eth2.nd), 0);
	struct netif *n = net_port_netif(&eth2.nd);
	assert_int_equal(ip4_addr_get_u32(netif_ip4_addr(n)), 0);
	assert_string_equal(net_port_config_source(&eth2.nd), "");
	assert_true(eth2.nsent >= 1);
	const uint8_t *d = eth2.sent[0].data;
	assert_memory_equal(d, bcast, 6);
	assert_int_equal(d[14 + 9], 17);
	assert_int_equal(get16(d + 34), 68);
	assert_int_equal(get16(d + 36), 67);
	assert_int_equal(d[42], 1); /* BOOTREQUEST (RFC 2131) */

	now_ns += 4000000000ull;
	net_stack_poll();
	assert_int_equal(ip4_addr_get_u32(netif_ip4_addr(n)), 0);
	now_ns += 1500000000ull;
	net_stack_poll();
	assert_int_equal(lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(n))), ip(10, 9, 0, 5));
	assert_int_equal(lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(n))), 0xffff0000);
	assert_int_equal(lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(n))), ip(10, 9, 0, 1));
	assert_string_equal(net_port_config_source(&eth2.nd), "static");
	/* eth0 keeps the default route. */
	assert_ptr_equal(netif_default, net_port_netif(&eth0.nd));
	reset(&eth2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_tx_arp_then_queued_udp),
		cmocka_unit_test(test_tx_fragments_zero_copy),
		cmocka_unit_test(test_tx_long_chain_linearized),
		cmocka_unit_test(test_tx_enospc),
		cmocka_unit_test(test_rx_zero_copy_release_once),
		cmocka_unit_test(test_link_changes),
		cmocka_unit_test(test_tx_csum_offload),
		cmocka_unit_test(test_tx_csum_prepare_parsing),
		cmocka_unit_test(test_rx_csum_trust),
		cmocka_unit_test(test_dhcp_timeout_fallback),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
