/*
 * `selftest net`: lwIP inside the kernel, without a NIC. Everything goes over lwIP's loopback
 * interface (127.0.0.1), so the kernel's lwIP build, the NO_SYS timer and main-loop glue, the
 * memory configuration and the services are exercised exactly as they run with a device.
 * The netif glue against a (fake) device is covered by the host tests (tests/host/test_netif.c).
 */
#include "arch/x86_64/cpu.h"
#include "kernel/idle.h"
#include "selftest/ktest.h"
#include "shell/shell.h"
#include "kernel/time.h"
#include "net/lwip/net_port.h"

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include <stdlib.h>
#include <string.h>

static const ip_addr_t loopback = IPADDR4_INIT_BYTES(127, 0, 0, 1);
#define LOOPBACK (&loopback)

/* Turn the main loop until *flag or timeout. */
static bool spin_until(volatile bool *flag, uint64_t ms)
{
	uint64_t end = time_ns() + ms * 1000000ull;
	while (!*flag && time_ns() < end) {
		idle_run_hooks();
		cpu_pause();
	}
	return *flag;
}

/* ---- UDP ----------------------------------------------------------------------------------- */

struct udp_rx {
	bool got;
	char data[64];
	u16_t len, port;
};

static void udp_rx_cb(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		      u16_t port)
{
	(void)pcb, (void)addr;
	struct udp_rx *r = arg;
	r->len = pbuf_copy_partial(p, r->data, sizeof(r->data), 0);
	r->port = port;
	r->got = true;
	pbuf_free(p);
}

static int udp_send_str(struct udp_pcb *pcb, u16_t port, const char *s)
{
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)strlen(s), PBUF_RAM);
	if (!p)
		return -1;
	memcpy(p->payload, s, strlen(s));
	err_t e = udp_sendto(pcb, p, LOOPBACK, port);
	pbuf_free(p);
	return e == ERR_OK ? 0 : -1;
}

static int test_udp_loopback(void)
{
	net_stack_init();
	struct udp_rx r = {0};
	struct udp_pcb *srv = udp_new(), *cli = udp_new();
	KT_ASSERT(srv && cli);
	KT_ASSERT(udp_bind(srv, LOOPBACK, 40007) == ERR_OK);
	udp_recv(srv, udp_rx_cb, &r);
	KT_ASSERT(udp_bind(cli, LOOPBACK, 40008) == ERR_OK);
	int sent = udp_send_str(cli, 40007, "vireo udp");
	bool got = spin_until(&r.got, 1000);
	udp_remove(srv);
	udp_remove(cli);
	KT_ASSERT(sent == 0);
	KT_ASSERT(got);
	KT_ASSERT_EQ(r.len, 9);
	KT_ASSERT(memcmp(r.data, "vireo udp", 9) == 0);
	KT_ASSERT_EQ(r.port, 40008);
	return 0;
}

static int test_udp_echo_service(void)
{
	net_stack_init();
	struct udp_rx r = {0};
	struct udp_pcb *cli = udp_new();
	KT_ASSERT(cli);
	udp_recv(cli, udp_rx_cb, &r);
	int sent = udp_send_str(cli, 7, "echo me");
	bool got = spin_until(&r.got, 1000);
	udp_remove(cli);
	KT_ASSERT(sent == 0);
	KT_ASSERT(got);
	KT_ASSERT_EQ(r.len, 7);
	KT_ASSERT(memcmp(r.data, "echo me", 7) == 0);
	KT_ASSERT_EQ(r.port, 7);
	return 0;
}

/* ---- TCP client ---------------------------------------------------------------------------- */

/* Sends tx (len bytes) to 127.0.0.1:port, collects up to cap bytes of what comes back, closes
 * its side when everything was sent if half_close, and finishes when the peer closes. */
struct tcp_client {
	const uint8_t *tx;
	size_t tx_len, tx_off;
	uint8_t *rx;
	size_t rx_cap, rx_len;
	bool half_close, connected, closed_sent, done, failed;
	struct tcp_pcb *pcb;
};

static void cli_push(struct tcp_client *c)
{
	while (c->tx_off < c->tx_len) {
		size_t n = c->tx_len - c->tx_off;
		if (n > tcp_sndbuf(c->pcb))
			n = tcp_sndbuf(c->pcb);
		if (n > 0xffff)
			n = 0xffff;
		if (!n || tcp_write(c->pcb, c->tx + c->tx_off, (u16_t)n, 0) != ERR_OK)
			break;
		c->tx_off += n;
	}
	if (c->tx_off == c->tx_len && c->half_close && !c->closed_sent) {
		tcp_shutdown(c->pcb, 0, 1);
		c->closed_sent = true;
	}
	tcp_output(c->pcb);
}

static err_t cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct tcp_client *c = arg;
	if (!p || err != ERR_OK) {
		if (p)
			pbuf_free(p);
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		if (tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			c->done = true;
			return ERR_ABRT;
		}
		c->done = true;
		return ERR_OK;
	}
	size_t n = p->tot_len;
	if (c->rx_len + n > c->rx_cap) {
		c->failed = true;
		n = c->rx_cap - c->rx_len;
	}
	pbuf_copy_partial(p, c->rx + c->rx_len, (u16_t)n, 0);
	c->rx_len += n;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t cli_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb, (void)len;
	cli_push(arg);
	return ERR_OK;
}

static void cli_err(void *arg, err_t err)
{
	(void)err;
	struct tcp_client *c = arg;
	if (c) {
		c->failed = true;
		c->done = true;
	}
}

static err_t cli_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)pcb;
	struct tcp_client *c = arg;
	if (err != ERR_OK) {
		c->failed = c->done = true;
		return err;
	}
	c->connected = true;
	cli_push(c);
	return ERR_OK;
}

static int tcp_exchange(u16_t port, struct tcp_client *c, uint64_t timeout_ms)
{
	c->pcb = tcp_new();
	if (!c->pcb)
		return -1;
	tcp_arg(c->pcb, c);
	tcp_recv(c->pcb, cli_recv);
	tcp_sent(c->pcb, cli_sent);
	tcp_err(c->pcb, cli_err);
	if (tcp_connect(c->pcb, LOOPBACK, port, cli_connected) != ERR_OK) {
		tcp_abort(c->pcb);
		return -1;
	}
	if (!spin_until(&c->done, timeout_ms)) {
		tcp_arg(c->pcb, NULL);
		tcp_abort(c->pcb); /* still open: the test failed, do not leave it behind */
		printf("        # tcp exchange timed out: sent %zu of %zu, received %zu\n",
		       c->tx_off, c->tx_len, c->rx_len);
		return -1;
	}
	return c->failed ? -1 : 0;
}

/* ---- TCP sink server (for the plain loopback transfer) ------------------------------------- */

struct sink {
	size_t got;
	uint32_t x; /* expected pattern state */
	bool bad, closed;
};
static struct sink sink;

static uint8_t pattern_next(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return (uint8_t)(*x >> 16);
}

static err_t sink_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg, (void)err;
	if (!p) {
		sink.closed = true;
		tcp_recv(pcb, NULL);
		if (tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			return ERR_ABRT;
		}
		return ERR_OK;
	}
	for (struct pbuf *q = p; q; q = q->next)
		for (u16_t i = 0; i < q->len; i++)
			if (((uint8_t *)q->payload)[i] != pattern_next(&sink.x))
				sink.bad = true;
	sink.got += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t sink_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg, (void)err;
	tcp_recv(pcb, sink_recv);
	return ERR_OK;
}

static uint8_t *pattern_buf(size_t len, uint32_t seed)
{
	uint8_t *b = malloc(len);
	if (b)
		for (size_t i = 0; i < len; i++)
			b[i] = pattern_next(&seed);
	return b;
}

static int test_tcp_loopback_transfer(void)
{
	net_stack_init();
	const size_t len = 512 * 1024;
	uint8_t *tx = pattern_buf(len, 1);
	KT_ASSERT(tx);
	memset(&sink, 0, sizeof(sink));
	sink.x = 1;
	struct tcp_pcb *l = tcp_new();
	KT_ASSERT(l && tcp_bind(l, LOOPBACK, 40080) == ERR_OK);
	l = tcp_listen(l);
	KT_ASSERT(l);
	tcp_accept(l, sink_accept);

	struct tcp_client c = {.tx = tx, .tx_len = len, .half_close = true};
	uint64_t t0 = time_ns();
	int r = tcp_exchange(40080, &c, 20000);
	uint64_t us = (time_ns() - t0) / 1000;
	tcp_close(l);
	free(tx);
	KT_ASSERT(r == 0);
	KT_ASSERT(sink.closed);
	KT_ASSERT_EQ(sink.got, len);
	KT_ASSERT(!sink.bad);
	printf("        # 512 KiB over loopback TCP in %llu ms\n", (unsigned long long)(us / 1000));
	return 0;
}

static int test_tcp_echo_service(void)
{
	net_stack_init();
	/* Larger than the send buffer and window together, so the echo's flow control (hold
	 * data, acknowledge only what was queued) has to work for the test to finish. */
	const size_t len = 1024 * 1024;
	uint8_t *tx = pattern_buf(len, 7), *rx = malloc(len);
	KT_ASSERT(tx && rx);
	struct tcp_client c = {.tx = tx, .tx_len = len, .rx = rx, .rx_cap = len, .half_close = true};
	int r = tcp_exchange(7, &c, 60000);
	bool same = c.rx_len == len && memcmp(tx, rx, len) == 0;
	free(tx);
	free(rx);
	KT_ASSERT(r == 0);
	KT_ASSERT_EQ(c.rx_len, len);
	KT_ASSERT(same);
	return 0;
}

static int test_http_service(void)
{
	net_stack_init();
	static const char req[] = "GET / HTTP/1.0\r\nHost: vireo\r\n\r\n";
	char *rx = calloc(1, 32768);
	KT_ASSERT(rx);
	struct tcp_client c = {.tx = (const uint8_t *)req,
			       .tx_len = sizeof(req) - 1,
			       .rx = (uint8_t *)rx,
			       .rx_cap = 32767};
	int r = tcp_exchange(80, &c, 10000);
	bool ok = strncmp(rx, "HTTP/1.0 200 OK\r\n", 17) == 0 && strstr(rx, "uptime:") &&
		  strstr(rx, "</html>");
	char *body = strstr(rx, "\r\n\r\n");
	const char *cl = strstr(rx, "Content-Length: ");
	bool len_ok = body && cl && (size_t)atol(cl + 16) == strlen(body + 4);
	if (!ok || !len_ok)
		printf("        # response: %.80s\n", rx);
	free(rx);
	KT_ASSERT(r == 0);
	KT_ASSERT(ok);
	KT_ASSERT(len_ok);

	char *rx2 = calloc(1, 1024);
	KT_ASSERT(rx2);
	static const char req2[] = "GET /nope HTTP/1.0\r\n\r\n";
	struct tcp_client c2 = {.tx = (const uint8_t *)req2,
				.tx_len = sizeof(req2) - 1,
				.rx = (uint8_t *)rx2,
				.rx_cap = 1023};
	r = tcp_exchange(80, &c2, 10000);
	ok = strncmp(rx2, "HTTP/1.0 404 ", 13) == 0;
	free(rx2);
	KT_ASSERT(r == 0);
	KT_ASSERT(ok);
	return 0;
}

static int test_tcp_refused(void)
{
	net_stack_init();
	struct tcp_client c = {0};
	/* Nothing listens on 40999: lwIP answers the SYN with RST, the client sees an error. */
	KT_ASSERT(tcp_exchange(40999, &c, 3000) < 0);
	KT_ASSERT(c.failed && !c.connected);
	return 0;
}

static int test_ping_loopback(void)
{
	KT_ASSERT_EQ(shell_run_line("ping 127.0.0.1 2"), 0);
	KT_ASSERT(shell_run_line("ping 300.1.1.1") != 0); /* bad address */
	return 0;
}

static int test_bench_udp_loopback(void)
{
	KT_ASSERT_EQ(shell_run_line("net bench udp 127.0.0.1 7 n=50"), 0);
	KT_ASSERT(shell_run_line("net bench udp 127.0.0.1 7 n=0") != 0);
	KT_ASSERT(shell_run_line("net bench tx n=x") != 0);
	return 0;
}

KTEST_SUITE(net, KTEST_CASE(test_udp_loopback), KTEST_CASE(test_udp_echo_service),
	    KTEST_CASE(test_tcp_loopback_transfer), KTEST_CASE(test_tcp_echo_service),
	    KTEST_CASE(test_http_service), KTEST_CASE(test_tcp_refused),
	    KTEST_CASE(test_ping_loopback), KTEST_CASE(test_bench_udp_loopback));
