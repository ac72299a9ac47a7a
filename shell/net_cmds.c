/*
 * Network shell commands:
 *   net                           interfaces: MAC, address, link, features, counters
 *   net wait [SECONDS]            until every device has an address (DHCP or static)
 *   net bench tx [n=N] [size=B] [dev=NAME] [dst=bcast|gw]
 *                                 raw frames straight to ops->xmit: packets per second
 *   net bench udp HOST PORT [n=N] [size=B]
 *                                 UDP request/response round trips to an echo server
 *   net bench tcp HOST PORT [bytes=N]
 *                                 connect, send N bytes, close: MB/s from connect to the
 *                                 last byte acknowledged
 *   net promisc DEV on|off        receive every frame, or only those for the filter
 *   net filter DEV [MAC...]       the unicast addresses received besides the card's own
 *   ping HOST [COUNT]             ICMP echo over lwIP's raw API
 * Commands that wait keep the main loop turning (idle_run_hooks), so the stack, the services
 * and the drivers keep running while they do.
 */
#include "arch/x86_64/cpu.h"
#include "kernel/idle.h"
#include "shell/shell.h"
#include "kernel/time.h"
#include "net/lwip/net_port.h"

#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/icmp.h"
#include "lwip/raw.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long `net bench tcp` may take in all: a stalled connection must not hang the shell. */
#define TCP_BENCH_NS 300000000000ull

/* How long `net bench tx` waits for the device to finish with the frames it queued: a loaded
 * host may take a while, a dead device never finishes. */
#define TX_DRAIN_NS 30000000000ull

static void loop_once(void)
{
	idle_run_hooks();
	cpu_pause();
}

/* "key=NUMBER" → 1 and *out; another key → 0; key with junk → -1. */
static int kv_num(const char *arg, const char *key, unsigned long long *out)
{
	size_t k = strlen(key);
	if (strncmp(arg, key, k) != 0 || arg[k] != '=')
		return 0;
	return shell_parse_u64(arg + k + 1, out) ? -1 : 1;
}

static const char *kv_str(const char *arg, const char *key)
{
	size_t k = strlen(key);
	return strncmp(arg, key, k) == 0 && arg[k] == '=' ? arg + k + 1 : NULL;
}

static int parse_host(const char *s, ip4_addr_t *ip)
{
	if (!ip4addr_aton(s, ip)) {
		printf("error: bad address '%s' (want A.B.C.D)\n", s);
		return -1;
	}
	return 0;
}

static int check_route(const ip4_addr_t *ip)
{
	struct netif *n = ip4_route(ip);
	if (!n || !netif_is_up(n) || !netif_is_link_up(n)) {
		printf("error: no route to %s (network unreachable)\n", ip4addr_ntoa(ip));
		return -1;
	}
	return 0;
}

/* ---- net ---------------------------------------------------------------------------------- */

static void show_dev(struct netdev *nd)
{
	struct netif *n = net_port_netif(nd);
	const struct net_port_stats *ps = net_port_stats(nd);
	printf("%s: mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u link %s features %s%s%s\n", nd->name,
	       nd->mac[0], nd->mac[1], nd->mac[2], nd->mac[3], nd->mac[4], nd->mac[5], nd->mtu,
	       nd->link_up ? "up" : "down", nd->features & NETDEV_F_TX_CSUM ? "tx-csum " : "",
	       nd->features & NETDEV_F_RX_CSUM ? "rx-csum " : "", nd->features ? "" : "none");
	if (n && !ip4_addr_isany_val(*netif_ip4_addr(n))) {
		char a[16], g[16];
		ip4addr_ntoa_r(netif_ip4_addr(n), a, sizeof(a));
		ip4addr_ntoa_r(netif_ip4_gw(n), g, sizeof(g));
		printf("  inet %s/%d gw %s (%s)%s\n", a,
		       __builtin_popcount(ip4_addr_get_u32(netif_ip4_netmask(n))), g,
		       net_port_config_source(nd), n == netif_default ? " default" : "");
	} else {
		printf("  inet none (waiting for DHCP)\n");
	}
	const struct netdev_stats *s = &nd->stats;
	printf("  driver: rx_packets=%llu rx_bytes=%llu rx_dropped=%llu rx_errors=%llu "
	       "tx_packets=%llu tx_bytes=%llu tx_dropped=%llu tx_errors=%llu tx_busy=%llu\n",
	       (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
	       (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_errors,
	       (unsigned long long)s->tx_packets, (unsigned long long)s->tx_bytes,
	       (unsigned long long)s->tx_dropped, (unsigned long long)s->tx_errors,
	       (unsigned long long)s->tx_busy);
	printf("  stack: tx_busy_retries=%llu tx_busy_drops=%llu tx_errors=%llu tx_linearized=%llu "
	       "tx_csum_offload=%llu tx_in_flight=%llu rx_deferred=%llu rx_drops=%llu "
	       "rx_csum_trusted=%llu rx_copied=%llu\n",
	       (unsigned long long)ps->tx_busy_retries, (unsigned long long)ps->tx_busy_drops,
	       (unsigned long long)ps->tx_errors, (unsigned long long)ps->tx_linearized,
	       (unsigned long long)ps->tx_csum_offload,
	       (unsigned long long)ps->tokens_outstanding, (unsigned long long)ps->rx_deferred,
	       (unsigned long long)ps->rx_drops, (unsigned long long)ps->rx_csum_trusted,
	       (unsigned long long)ps->rx_copied);
}

static int net_show(void)
{
	struct netdev *nd;
	unsigned i;
	for (i = 0; (nd = netdev_at(i)); i++)
		show_dev(nd);
	if (i == 0)
		printf("net: no network devices (lwIP runs on the loopback interface only)\n");
	printf("lo: inet 127.0.0.1/8\n");
#if LWIP_STATS
	printf("lwip: tcp xmit=%u recv=%u drop=%u chkerr=%u; udp xmit=%u recv=%u drop=%u "
	       "chkerr=%u; icmp xmit=%u recv=%u; arp xmit=%u recv=%u; ip drop=%u\n",
	       (unsigned)lwip_stats.tcp.xmit, (unsigned)lwip_stats.tcp.recv,
	       (unsigned)lwip_stats.tcp.drop, (unsigned)lwip_stats.tcp.chkerr,
	       (unsigned)lwip_stats.udp.xmit, (unsigned)lwip_stats.udp.recv,
	       (unsigned)lwip_stats.udp.drop, (unsigned)lwip_stats.udp.chkerr,
	       (unsigned)lwip_stats.icmp.xmit, (unsigned)lwip_stats.icmp.recv,
	       (unsigned)lwip_stats.etharp.xmit, (unsigned)lwip_stats.etharp.recv,
	       (unsigned)lwip_stats.ip.drop);
#endif
	return 0;
}

static int net_wait(int argc, char **argv)
{
	unsigned long long secs = 10;
	if (argc > 3 || (argc == 3 && shell_parse_u64(argv[2], &secs))) {
		printf("error: net wait [SECONDS]\n");
		return 2;
	}
	uint64_t end = time_ns() + secs * 1000000000ull;
	for (;;) {
		struct netdev *nd;
		unsigned i, ready = 0;
		for (i = 0; (nd = netdev_at(i)); i++)
			ready += *net_port_config_source(nd) != 0;
		if (i && ready == i)
			return 0;
		if (time_ns() >= end) {
			printf("error: %s\n", i ? "not every device has an address yet"
						: "no network devices");
			return 1;
		}
		loop_once();
	}
}

/* ---- net bench tx ------------------------------------------------------------------------- */

static uint8_t bench_frame[1514];

static int bench_tx(int argc, char **argv)
{
	unsigned long long n = 100000, size = 60;
	const char *dev = NULL, *dst = "bcast";
	for (int i = 3; i < argc; i++) {
		int r;
		if ((r = kv_num(argv[i], "n", &n)) || (r = kv_num(argv[i], "size", &size))) {
			if (r < 0)
				goto bad;
		} else if (kv_str(argv[i], "dev")) {
			dev = kv_str(argv[i], "dev");
		} else if (kv_str(argv[i], "dst")) {
			dst = kv_str(argv[i], "dst");
		} else {
			goto bad;
		}
	}
	if (n == 0 || n > 100000000ull || size < 60 || size > sizeof(bench_frame) ||
	    (strcmp(dst, "bcast") && strcmp(dst, "gw")))
		goto bad;

	struct netdev *nd = NULL;
	for (unsigned i = 0; netdev_at(i); i++)
		if (!dev || strcmp(netdev_at(i)->name, dev) == 0) {
			nd = netdev_at(i);
			break;
		}
	if (!nd) {
		printf("error: %s\n", dev ? "no such network device" : "no network devices");
		return 1;
	}
	if (!nd->link_up) {
		printf("error: %s: link is down\n", nd->name);
		return 1;
	}

	/* Ethernet header, then an IEEE 802 local experimental EtherType (0x88b5) so no stack on
	 * the other side tries to parse the payload. */
	memset(bench_frame, 0, sizeof(bench_frame));
	if (strcmp(dst, "gw") == 0) {
		struct netif *nif = net_port_netif(nd);
		struct eth_addr *mac;
		const ip4_addr_t *ip;
		if (etharp_find_addr(nif, netif_ip4_gw(nif), &mac, &ip) < 0) {
			printf("error: the gateway's MAC is not in the ARP cache (ping it first)\n");
			return 1;
		}
		memcpy(bench_frame, mac->addr, 6);
	} else {
		memset(bench_frame, 0xff, 6);
	}
	memcpy(bench_frame + 6, nd->mac, 6);
	bench_frame[12] = 0x88;
	bench_frame[13] = 0xb5;
	struct netdev_frag frag = {bench_frame, (size_t)size};

	uint64_t base = net_port_raw_done, busy = 0, sent = 0;
	uint64_t t0 = time_ns();
	while (sent < n) {
		int err = nd->ops->xmit(nd, &frag, 1, NULL,
					&net_port_raw_tokens[sent % NET_PORT_RAW_TOKENS]);
		if (err == -ENOSPC) {
			busy++;
			nd->ops->poll(nd); /* harvest completions (not inside lwIP: safe) */
			continue;
		}
		if (err) {
			printf("error: xmit failed (%d) after %llu frames\n", err,
			       (unsigned long long)sent);
			break;
		}
		sent++;
	}
	/* The rate counts frames the device finished with, not just queued. */
	uint64_t deadline = time_ns() + TX_DRAIN_NS;
	while (net_port_raw_done - base < sent && time_ns() < deadline)
		nd->ops->poll(nd);
	uint64_t ns = time_ns() - t0;
	uint64_t done = net_port_raw_done - base;
	if (!ns)
		ns = 1;
	unsigned long long pps = (unsigned long long)(done * 1000000000ull / ns);
	printf("bench tx: dev=%s dst=%s n=%llu size=%llu sent=%llu completed=%llu elapsed_us=%llu "
	       "pps=%llu mbit_s=%llu busy=%llu\n",
	       nd->name, dst, n, size, (unsigned long long)sent, (unsigned long long)done,
	       (unsigned long long)(ns / 1000), pps, pps * size * 8 / 1000000,
	       (unsigned long long)busy);
	idle_run_hooks(); /* let the stack catch up with whatever arrived meanwhile */
	return done == n ? 0 : 1;
bad:
	printf("error: net bench tx [n=1..100000000] [size=60..1514] [dev=NAME] [dst=bcast|gw]\n");
	return 2;
}

/* ---- net bench udp ------------------------------------------------------------------------ */

struct udp_bench {
	uint32_t want;
	bool got;
	uint64_t t;
};

static void bench_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
			   u16_t port)
{
	(void)pcb, (void)addr, (void)port;
	struct udp_bench *b = arg;
	uint32_t seq;
	if (p->tot_len >= sizeof(seq) && pbuf_copy_partial(p, &seq, sizeof(seq), 0) == sizeof(seq) &&
	    seq == b->want) {
		b->got = true;
		b->t = time_ns();
	}
	pbuf_free(p);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int bench_udp(int argc, char **argv)
{
	unsigned long long n = 1000, size = 32, port;
	ip4_addr_t host;
	if (argc < 5 || parse_host(argv[3], &host) || shell_parse_u64(argv[4], &port) ||
	    port == 0 || port > 65535)
		goto bad;
	for (int i = 5; i < argc; i++) {
		int r;
		if ((r = kv_num(argv[i], "n", &n)) <= 0 && (r = kv_num(argv[i], "size", &size)) <= 0)
			goto bad;
	}
	if (n == 0 || n > 1000000 || size < 4 || size > 1472)
		goto bad;
	if (check_route(&host))
		return 1;

	uint32_t *rtt = malloc(n * sizeof(*rtt));
	struct udp_pcb *pcb = udp_new_ip_type(IPADDR_TYPE_V4);
	if (!rtt || !pcb) {
		printf("error: out of memory\n");
		free(rtt);
		if (pcb)
			udp_remove(pcb);
		return 1;
	}
	struct udp_bench b = {0};
	udp_recv(pcb, bench_udp_recv, &b);
	ip_addr_t dst;
	ip_addr_copy_from_ip4(dst, host);

	unsigned long long got = 0, lost = 0;
	uint64_t sum = 0;
	for (uint32_t seq = 1; seq <= n; seq++) {
		struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)size, PBUF_RAM);
		if (!p) {
			lost++;
			continue;
		}
		memset(p->payload, 0x5a, size);
		memcpy(p->payload, &seq, sizeof(seq));
		b.want = seq;
		b.got = false;
		uint64_t t0 = time_ns();
		err_t e = udp_sendto(pcb, p, &dst, (u16_t)port);
		pbuf_free(p);
		if (e != ERR_OK && e != ERR_MEM) {
			printf("error: udp_sendto: %d\n", e);
			break;
		}
		/* The first round trip may wait for ARP; a second is plenty under TCG. */
		uint64_t deadline = t0 + 1000000000ull;
		while (!b.got && time_ns() < deadline)
			loop_once();
		if (!b.got) {
			lost++;
			continue;
		}
		uint64_t us = (b.t - t0) / 1000;
		rtt[got++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
		sum += us;
	}
	udp_remove(pcb);
	if (!got) {
		printf("error: no replies from %s:%llu (%llu sent)\n", ip4addr_ntoa(&host), port, n);
		free(rtt);
		return 1;
	}
	qsort(rtt, got, sizeof(*rtt), cmp_u32);
	printf("bench udp: host=%s port=%llu n=%llu size=%llu received=%llu lost=%llu "
	       "rtt_avg_us=%llu p50_us=%u p99_us=%u min_us=%u max_us=%u\n",
	       ip4addr_ntoa(&host), port, n, size, got, lost, (unsigned long long)(sum / got),
	       rtt[got / 2], rtt[got * 99 / 100 < got ? got * 99 / 100 : got - 1], rtt[0],
	       rtt[got - 1]);
	free(rtt);
	return 0;
bad:
	printf("error: net bench udp HOST PORT [n=1..1000000] [size=4..1472]\n");
	return 2;
}

static struct netdev *find_netdev(const char *name)
{
	struct netdev *nd;
	for (unsigned i = 0; (nd = netdev_at(i)); i++)
		if (strcmp(nd->name, name) == 0)
			return nd;
	printf("error: no interface '%s'\n", name);
	return NULL;
}

static int rx_filter_result(const char *what, int err)
{
	if (!err)
		return 0;
	printf("error: %s: %s\n", what,
	       err == -EOPNOTSUPP ? "the device cannot filter (no control queue / CTRL_RX)"
	       : err == -EIO	  ? "the device refused the command"
	       : err == -EINVAL	  ? "bad arguments"
				  : "the command failed (timeout, or the device broke)");
	return 1;
}

/* net promisc DEV on|off */
static int net_promisc(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[3], "on") != 0 && strcmp(argv[3], "off") != 0))
		return shell_usage("net");
	struct netdev *nd = find_netdev(argv[2]);
	if (!nd)
		return 1;
	if (!nd->ops->set_promisc)
		return rx_filter_result("promisc", -EOPNOTSUPP);
	return rx_filter_result("promisc", nd->ops->set_promisc(nd, strcmp(argv[3], "on") == 0));
}

/* net filter DEV [MAC...]: receive the card's own address plus these. */
static int net_filter(int argc, char **argv)
{
	uint8_t macs[NETDEV_MAX_FILTER][6];
	unsigned n = 0;
	if (argc < 3 || argc - 3 > NETDEV_MAX_FILTER)
		return shell_usage("net");
	for (int i = 3; i < argc; i++, n++) {
		unsigned b[6];
		char tail;
		if (sscanf(argv[i], "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
			   &tail) != 6 ||
		    b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255 || b[4] > 255 ||
		    b[5] > 255) {
			printf("error: bad MAC address '%s' (want xx:xx:xx:xx:xx:xx)\n", argv[i]);
			return 2;
		}
		for (int k = 0; k < 6; k++)
			macs[n][k] = (uint8_t)b[k];
	}
	struct netdev *nd = find_netdev(argv[2]);
	if (!nd)
		return 1;
	if (!nd->ops->set_mac_filter)
		return rx_filter_result("filter", -EOPNOTSUPP);
	return rx_filter_result("filter", nd->ops->set_mac_filter(nd, macs, n));
}

/* ---- net bench tcp ------------------------------------------------------------------------ */

/* What the sender queues: lwIP references it (no copy) until it is acknowledged, so it must
 * stay put; the contents do not matter. */
static const uint8_t tcp_pattern[16384];

struct tcp_bench {
	struct tcp_pcb *pcb;
	uint64_t total, queued, acked;
	uint64_t t0, t1;
	bool connected, done;
	err_t err;
};

/* Queue as much as the send buffer takes, then push it out. */
static void tcp_bench_fill(struct tcp_bench *b)
{
	while (b->queued < b->total) {
		uint64_t n = b->total - b->queued;
		if (n > sizeof(tcp_pattern))
			n = sizeof(tcp_pattern);
		if (n > tcp_sndbuf(b->pcb))
			n = tcp_sndbuf(b->pcb);
		if (n == 0)
			break;
		bool more = b->queued + n < b->total;
		err_t e = tcp_write(b->pcb, tcp_pattern, (u16_t)n, more ? TCP_WRITE_FLAG_MORE : 0);
		if (e == ERR_MEM)
			break; /* out of segments: tcp_sent calls again */
		if (e != ERR_OK) {
			b->err = e;
			b->done = true;
			return;
		}
		b->queued += n;
	}
	tcp_output(b->pcb);
}

static err_t tcp_bench_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	struct tcp_bench *b = arg;
	b->acked += len;
	if (b->acked >= b->total) {
		b->t1 = time_ns();
		b->done = true;
	} else {
		tcp_bench_fill(b);
	}
	return ERR_OK;
}

static err_t tcp_bench_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)pcb;
	struct tcp_bench *b = arg;
	if (err != ERR_OK) {
		b->err = err;
		b->done = true;
		return err;
	}
	b->connected = true;
	b->t0 = time_ns();
	tcp_bench_fill(b);
	return ERR_OK;
}

/* The receiver sends nothing; if it closes early, the bench ends with what was acked. */
static err_t tcp_bench_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct tcp_bench *b = arg;
	if (!p) {
		if (!b->done) {
			b->err = ERR_CLSD;
			b->done = true;
		}
		return ERR_OK;
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return err;
}

static void tcp_bench_error(void *arg, err_t err)
{
	struct tcp_bench *b = arg;
	b->pcb = NULL; /* lwIP has freed it */
	b->err = err;
	b->done = true;
}

static int bench_tcp(int argc, char **argv)
{
	unsigned long long bytes = 64ull << 20, port;
	ip4_addr_t host;
	if (argc < 5 || parse_host(argv[3], &host) || shell_parse_u64(argv[4], &port) ||
	    port == 0 || port > 65535)
		goto bad;
	for (int i = 5; i < argc; i++)
		if (kv_num(argv[i], "bytes", &bytes) <= 0)
			goto bad;
	if (bytes == 0 || bytes > (1ull << 40))
		goto bad;
	if (check_route(&host))
		return 1;

	struct tcp_bench b = {.total = bytes};
	b.pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (!b.pcb) {
		printf("error: out of memory\n");
		return 1;
	}
	tcp_arg(b.pcb, &b);
	tcp_sent(b.pcb, tcp_bench_sent);
	tcp_recv(b.pcb, tcp_bench_recv);
	tcp_err(b.pcb, tcp_bench_error);
	tcp_nagle_disable(b.pcb); /* full segments anyway; the last one goes out at once */
	ip_addr_t dst;
	ip_addr_copy_from_ip4(dst, host);
	err_t e = tcp_connect(b.pcb, &dst, (u16_t)port, tcp_bench_connected);
	if (e != ERR_OK) {
		printf("error: tcp_connect: %d\n", e);
		tcp_abort(b.pcb);
		return 1;
	}
	uint64_t deadline = time_ns() + TCP_BENCH_NS;
	while (!b.done && time_ns() < deadline)
		loop_once();
	if (b.pcb) {
		tcp_arg(b.pcb, NULL);
		tcp_sent(b.pcb, NULL);
		tcp_recv(b.pcb, NULL);
		tcp_err(b.pcb, NULL);
		if (tcp_close(b.pcb) != ERR_OK)
			tcp_abort(b.pcb);
	}
	if (!b.done || b.err != ERR_OK || !b.connected) {
		if (!b.done)
			printf("error: bench tcp to %s:%llu: timed out", ip4addr_ntoa(&host), port);
		else
			printf("error: bench tcp to %s:%llu: lwIP error %d", ip4addr_ntoa(&host), port,
			       b.err);
		printf(" after %llu of %llu bytes acknowledged\n", (unsigned long long)b.acked, bytes);
		return 1;
	}
	uint64_t us = (b.t1 - b.t0) / 1000;
	if (!us)
		us = 1;
	printf("bench tcp: host=%s port=%llu bytes=%llu elapsed_us=%llu mbps=%.2f\n",
	       ip4addr_ntoa(&host), port, bytes, (unsigned long long)us, (double)bytes / (double)us);
	return 0;
bad:
	printf("error: net bench tcp HOST PORT [bytes=1..2^40]\n");
	return 2;
}

static int cmd_net(int argc, char **argv)
{
	net_stack_init();
	if (argc == 1)
		return net_show();
	if (strcmp(argv[1], "wait") == 0)
		return net_wait(argc, argv);
	if (strcmp(argv[1], "bench") == 0 && argc >= 3 && strcmp(argv[2], "tx") == 0)
		return bench_tx(argc, argv);
	if (strcmp(argv[1], "bench") == 0 && argc >= 3 && strcmp(argv[2], "udp") == 0)
		return bench_udp(argc, argv);
	if (strcmp(argv[1], "bench") == 0 && argc >= 3 && strcmp(argv[2], "tcp") == 0)
		return bench_tcp(argc, argv);
	if (strcmp(argv[1], "promisc") == 0)
		return net_promisc(argc, argv);
	if (strcmp(argv[1], "filter") == 0)
		return net_filter(argc, argv);
	printf("error: unknown net subcommand '%s'\n", argv[1]);
	return shell_usage(argv[0]);
}
SHELL_COMMAND(net, "net",
	      "[wait [SECONDS] | bench tx [n=N] [size=B] [dev=D] [dst=bcast|gw] | "
	      "bench udp HOST PORT [n=N] [size=B] | bench tcp HOST PORT [bytes=N] | "
	      "promisc DEV on|off | filter DEV [MAC...]]",
	      "interfaces and counters; wait for addresses; benchmarks; receive filtering", cmd_net);

/* ---- ping --------------------------------------------------------------------------------- */

#define PING_DATA 56
#define PING_ID 0x7672 /* "vr" */

struct ping {
	u16_t seq;
	bool got;
	uint64_t t;
	u8_t ttl;
};

/* lwIP gives raw PCBs every ICMP packet with the payload at the IP header. Eat only our own
 * echo replies (return 1); everything else goes on to lwIP's ICMP (which answers requests). */
static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
	(void)pcb, (void)addr;
	struct ping *st = arg;
	u8_t vhl = pbuf_get_at(p, 0);
	u16_t ihl = (u16_t)((vhl & 0xf) * 4);
	struct icmp_echo_hdr h;
	if (p->tot_len < ihl + sizeof(h) ||
	    pbuf_copy_partial(p, &h, sizeof(h), ihl) != sizeof(h) || h.type != ICMP_ER ||
	    h.id != lwip_htons(PING_ID) || h.seqno != lwip_htons(st->seq))
		return 0;
	st->got = true;
	st->t = time_ns();
	st->ttl = pbuf_get_at(p, 8);
	pbuf_free(p);
	return 1;
}

static int cmd_ping(int argc, char **argv)
{
	unsigned long long count = 4;
	ip4_addr_t host;
	if (argc < 2 || argc > 3)
		return shell_usage(argv[0]);
	if (parse_host(argv[1], &host))
		return 2;
	if (argc == 3 && (shell_parse_u64(argv[2], &count) || count == 0 || count > 100000)) {
		printf("error: COUNT must be a number from 1 to 100000\n");
		return 2;
	}
	net_stack_init();
	if (check_route(&host))
		return 1;

	struct ping st = {0};
	struct raw_pcb *pcb = raw_new(IP_PROTO_ICMP);
	if (!pcb) {
		printf("error: out of raw PCBs\n");
		return 1;
	}
	raw_recv(pcb, ping_recv, &st);
	ip_addr_t dst;
	ip_addr_copy_from_ip4(dst, host);

	unsigned long long sent = 0, recvd = 0;
	uint64_t min = UINT64_MAX, max = 0, sum = 0;
	printf("PING %s: %d data bytes\n", ip4addr_ntoa(&host), PING_DATA);
	for (unsigned long long i = 0; i < count; i++) {
		u16_t len = sizeof(struct icmp_echo_hdr) + PING_DATA;
		struct pbuf *p = pbuf_alloc(PBUF_IP, len, PBUF_RAM);
		if (!p)
			break;
		struct icmp_echo_hdr *h = p->payload;
		st.seq = (u16_t)(i + 1);
		st.got = false;
		h->type = ICMP_ECHO;
		h->code = 0;
		h->id = lwip_htons(PING_ID);
		h->seqno = lwip_htons(st.seq);
		for (int k = 0; k < PING_DATA; k++)
			((u8_t *)(h + 1))[k] = (u8_t)k;
		h->chksum = 0;
		h->chksum = inet_chksum(h, len); /* raw PCBs do not fill in ICMPv4 sums */
		uint64_t t0 = time_ns();
		err_t e = raw_sendto(pcb, p, &dst);
		pbuf_free(p);
		if (e != ERR_OK) {
			printf("error: send failed (%d)\n", e);
			break;
		}
		sent++;
		/* Wait a second for the reply (the first may wait for ARP), then send the next; a
		 * reply ends the wait early, and the next request follows after a pause. */
		uint64_t deadline = t0 + 1000000000ull;
		while (!st.got && time_ns() < deadline)
			loop_once();
		if (st.got) {
			uint64_t us = (st.t - t0) / 1000;
			recvd++;
			sum += us;
			min = us < min ? us : min;
			max = us > max ? us : max;
			printf("%d bytes from %s: icmp_seq=%u ttl=%u time=%llu.%03llu ms\n",
			       PING_DATA + 8, ip4addr_ntoa(&host), st.seq, st.ttl,
			       (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
			if (i + 1 < count) {
				uint64_t pause = time_ns() + 200000000ull;
				while (time_ns() < pause)
					loop_once();
			}
		} else {
			printf("no reply from %s: icmp_seq=%u (timeout)\n", ip4addr_ntoa(&host),
			       st.seq);
		}
	}
	raw_remove(pcb);
	printf("--- %s ping statistics: %llu sent, %llu received, %llu%% loss", ip4addr_ntoa(&host),
	       sent, recvd, sent ? (sent - recvd) * 100 / sent : 100);
	if (recvd)
		printf(", rtt min/avg/max = %llu.%03llu/%llu.%03llu/%llu.%03llu ms",
		       (unsigned long long)(min / 1000), (unsigned long long)(min % 1000),
		       (unsigned long long)(sum / recvd / 1000),
		       (unsigned long long)(sum / recvd % 1000), (unsigned long long)(max / 1000),
		       (unsigned long long)(max % 1000));
	printf("\n");
	if (!recvd) {
		printf("error: %s did not answer\n", ip4addr_ntoa(&host));
		return 1;
	}
	return 0;
}
SHELL_COMMAND(ping, "ping", "HOST [COUNT]", "ICMP echo to an IPv4 address (default 4 times)",
	      cmd_ping);
