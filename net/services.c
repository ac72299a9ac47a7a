/*
 * The network services kernel init starts once the devices are up, all on lwIP's raw
 * (callback) API and bound to every address, so they answer on 127.0.0.1 and on each interface
 * as soon as it has an address:
 *   HTTP/1.0 on 80: a status page (uptime, interfaces, stack and virtio counters)
 *   TCP echo on 7:  with flow control: data is acknowledged to the sender (tcp_recved) only
 *                   once it is copied into the send buffer, so a fast sender is slowed to the
 *                   rate its echo drains instead of filling memory
 *   UDP echo on 7
 *   iperf2 on 5001: lwIP's lwiperf (TCP, as `iperf -c HOST -p 5001`)
 */
#include "net/services.h"
#include "drivers/virtio/core/virtio.h"
#include "kernel/time.h"
#include "net/lwip/net_port.h"

#include "lwip/apps/lwiperf.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_PORT 7
#define HTTP_PORT 80
#define HTTP_REQ_MAX 2048
#define HTTP_PAGE_MAX 16384

static bool started;

/* ---- TCP echo ---------------------------------------------------------------------------- */

struct echo {
	struct pbuf *pending; /* received, not yet in the send buffer */
	bool peer_closed;
};

/* Unhook our callbacks from a connection (NULL: already gone, after an error callback). */
static void tcp_detach(struct tcp_pcb *pcb)
{
	if (pcb) {
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_poll(pcb, NULL, 0);
	}
}

/* Close, or abort when lwIP cannot queue the FIN now. Returns ERR_ABRT after an abort:
 * callbacks must then return ERR_ABRT themselves. */
static err_t tcp_close_or_abort(struct tcp_pcb *pcb)
{
	if (tcp_close(pcb) == ERR_OK)
		return ERR_OK;
	tcp_abort(pcb);
	return ERR_ABRT;
}

static void echo_free(struct tcp_pcb *pcb, struct echo *e)
{
	tcp_detach(pcb);
	if (e->pending)
		pbuf_free(e->pending);
	free(e);
}

static err_t echo_close(struct tcp_pcb *pcb, struct echo *e)
{
	echo_free(pcb, e);
	return tcp_close_or_abort(pcb);
}

/* Move as much pending data into the send buffer as it takes; acknowledge to the peer exactly
 * what was moved. May close the connection (the peer closed and everything was echoed). */
static err_t echo_flush(struct tcp_pcb *pcb, struct echo *e)
{
	bool wrote = false;
	while (e->pending) {
		if (e->pending->len == 0) { /* an empty pbuf inside a chain */
			struct pbuf *h = e->pending;
			e->pending = h->next;
			h->next = NULL;
			h->tot_len = 0;
			pbuf_free(h);
			continue;
		}
		u16_t room = tcp_sndbuf(pcb);
		u16_t n = e->pending->len;
		if (n > room)
			n = room;
		if (n == 0)
			break;
		if (tcp_write(pcb, e->pending->payload, n, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break; /* out of segments or memory: the sent/poll callbacks try again */
		e->pending = pbuf_free_header(e->pending, n);
		tcp_recved(pcb, n);
		wrote = true;
	}
	if (wrote)
		tcp_output(pcb);
	if (!e->pending && e->peer_closed && tcp_sndqueuelen(pcb) == 0)
		return echo_close(pcb, e);
	return ERR_OK;
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct echo *e = arg;
	if (!p) {
		e->peer_closed = true;
		return echo_flush(pcb, e);
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return err;
	}
	if (e->pending)
		pbuf_cat(e->pending, p);
	else
		e->pending = p;
	return echo_flush(pcb, e);
}

static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)len;
	return echo_flush(pcb, arg);
}

static err_t echo_poll(void *arg, struct tcp_pcb *pcb)
{
	return echo_flush(pcb, arg);
}

static void echo_err(void *arg, err_t err)
{
	(void)err;
	if (arg)
		echo_free(NULL, arg); /* lwIP has freed the pcb already */
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct echo *e = calloc(1, sizeof(*e));
	if (!e)
		return ERR_MEM; /* lwIP aborts the connection */
	tcp_arg(pcb, e);
	tcp_recv(pcb, echo_recv);
	tcp_sent(pcb, echo_sent);
	tcp_err(pcb, echo_err);
	tcp_poll(pcb, echo_poll, 2); /* every second: retry after an ERR_MEM */
	tcp_nagle_disable(pcb);
	return ERR_OK;
}

/* ---- UDP echo ---------------------------------------------------------------------------- */

static void udp_echo_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
			  u16_t port)
{
	(void)arg;
	/* p may be the driver's own buffer (zero-copy RX): lwIP chains a header pbuf in front
	 * and the device sends the payload straight from it. */
	udp_sendto(pcb, p, addr, port);
	pbuf_free(p);
}

/* ---- HTTP -------------------------------------------------------------------------------- */

struct http {
	char req[HTTP_REQ_MAX];
	size_t req_len;
	char *resp;
	size_t resp_len, resp_off;
};

static void add(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	if (*used >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n < len - *used ? (size_t)n : len - *used - 1;
}

static void page_devices(char *b, size_t len, size_t *u)
{
	add(b, len, u, "<h2>Interfaces</h2>\n<table border=1>\n<tr><th>dev</th><th>MAC</th>"
		       "<th>address</th><th>link</th><th>rx pkts</th><th>rx bytes</th>"
		       "<th>rx drop</th><th>tx pkts</th><th>tx bytes</th><th>tx drop</th>"
		       "<th>tx busy</th><th>stack: tx busy drops</th><th>rx deferred</th></tr>\n");
	struct netdev *nd;
	for (unsigned i = 0; (nd = netdev_at(i)); i++) {
		struct netif *n = net_port_netif(nd);
		const struct net_port_stats *ps = net_port_stats(nd);
		char ip[16] = "-";
		if (n && !ip4_addr_isany_val(*netif_ip4_addr(n)))
			ip4addr_ntoa_r(netif_ip4_addr(n), ip, sizeof(ip));
		const struct netdev_stats *s = &nd->stats;
		add(b, len, u,
		    "<tr><td>%s</td><td>%02x:%02x:%02x:%02x:%02x:%02x</td><td>%s (%s)</td>"
		    "<td>%s</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td>"
		    "<td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td></tr>\n",
		    nd->name, nd->mac[0], nd->mac[1], nd->mac[2], nd->mac[3], nd->mac[4],
		    nd->mac[5], ip, net_port_config_source(nd), nd->link_up ? "up" : "down",
		    (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
		    (unsigned long long)s->rx_dropped, (unsigned long long)s->tx_packets,
		    (unsigned long long)s->tx_bytes, (unsigned long long)s->tx_dropped,
		    (unsigned long long)s->tx_busy, (unsigned long long)ps->tx_busy_drops,
		    (unsigned long long)ps->rx_deferred);
	}
	add(b, len, u, "</table>\n");
}

static void page_lwip(char *b, size_t len, size_t *u)
{
#if LWIP_STATS
	add(b, len, u,
	    "<h2>Stack</h2>\n<pre>\n"
	    "tcp  xmit=%u recv=%u drop=%u chkerr=%u memerr=%u\n"
	    "udp  xmit=%u recv=%u drop=%u chkerr=%u\n"
	    "icmp xmit=%u recv=%u\n"
	    "ip   xmit=%u recv=%u drop=%u\n"
	    "</pre>\n",
	    (unsigned)lwip_stats.tcp.xmit, (unsigned)lwip_stats.tcp.recv,
	    (unsigned)lwip_stats.tcp.drop, (unsigned)lwip_stats.tcp.chkerr,
	    (unsigned)lwip_stats.tcp.memerr, (unsigned)lwip_stats.udp.xmit,
	    (unsigned)lwip_stats.udp.recv, (unsigned)lwip_stats.udp.drop,
	    (unsigned)lwip_stats.udp.chkerr, (unsigned)lwip_stats.icmp.xmit,
	    (unsigned)lwip_stats.icmp.recv, (unsigned)lwip_stats.ip.xmit,
	    (unsigned)lwip_stats.ip.recv, (unsigned)lwip_stats.ip.drop);
#else
	(void)b, (void)len, (void)u;
#endif
}

/* The virtio section: one row per queue with its counters. */
static void page_virtio(char *b, size_t len, size_t *u)
{
	add(b, len, u,
	    "<h2>virtio</h2>\n<table border=1>\n<tr><th>device</th><th>transport</th><th>mode</th>"
	    "<th>irq</th><th>queue</th><th>size</th><th>requests</th><th>kicks</th>"
	    "<th>suppressed</th><th>interrupts</th><th>spurious</th><th>indirect</th></tr>\n");
	for (size_t i = 0; i < virtio_device_count(); i++) {
		struct virtio_device *vd = virtio_device_at(i);
		for (unsigned q = 0; q < vd->nvqs; q++) {
			const struct virtqueue *vq = vd->vqs[q].vq;
			const struct virtqueue_stats *st = &vq->stats;
			add(b, len, u,
			    "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s%s</td><td>%u</td>"
			    "<td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td>"
			    "<td>%llu</td></tr>\n",
			    vd->name, virtio_transport_name(vd), virtio_mode_name(vd->mode),
			    virtio_irq_name(vd), vq->name ? vq->name : "?",
			    vq->broken ? " (BROKEN)" : "", virtqueue_size(vq),
			    (unsigned long long)st->added, (unsigned long long)st->kicks,
			    (unsigned long long)st->kicks_suppressed,
			    (unsigned long long)st->interrupts, (unsigned long long)st->spurious,
			    (unsigned long long)st->indirect);
		}
	}
	add(b, len, u, "</table>\n");
}

/* The status page as a whole HTTP/1.0 response; *out_len is its length. NULL without memory. */
static char *http_page(size_t *out_len)
{
	char *b = malloc(HTTP_PAGE_MAX);
	if (!b)
		return NULL;
	size_t len = HTTP_PAGE_MAX, u = 0;
	/* The body first, after room for the header, so Content-Length is known. */
	const size_t hdr_room = 160;
	u = hdr_room;
	uint64_t ms = time_ns() / 1000000;
	add(b, len, &u,
	    "<!DOCTYPE html>\n<html><head><title>Vireo</title>"
	    "<meta http-equiv=\"refresh\" content=\"5\"></head><body>\n"
	    "<h1>Vireo</h1>\n<p>uptime: %llu.%03llu s</p>\n",
	    (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
	page_devices(b, len, &u);
	page_lwip(b, len, &u);
	page_virtio(b, len - 64, &u); /* keep room for the closing tags */
	add(b, len, &u, "</body></html>\n");
	size_t body = u - hdr_room;
	char hdr[160];
	int h = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 body);
	memmove(b + h, b + hdr_room, body);
	memcpy(b, hdr, (size_t)h);
	*out_len = (size_t)h + body;
	return b;
}

static char *http_simple(int code, const char *reason, size_t *out_len)
{
	char *b = malloc(256);
	if (!b)
		return NULL;
	int n = snprintf(b, 256,
			 "HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s\n",
			 code, reason, strlen(reason) + 1, reason);
	*out_len = (size_t)n;
	return b;
}

static void http_free(struct tcp_pcb *pcb, struct http *h)
{
	tcp_detach(pcb);
	free(h->resp);
	free(h);
}

static err_t http_close(struct tcp_pcb *pcb, struct http *h)
{
	http_free(pcb, h);
	return tcp_close_or_abort(pcb);
}

static err_t http_send_more(struct tcp_pcb *pcb, struct http *h)
{
	while (h->resp_off < h->resp_len) {
		size_t n = h->resp_len - h->resp_off;
		if (n > tcp_sndbuf(pcb))
			n = tcp_sndbuf(pcb);
		if (n == 0)
			break;
		/* Copied: a reset frees the connection while a frame may still sit in the TX
		 * ring, and a page is a few KiB. */
		if (tcp_write(pcb, h->resp + h->resp_off, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		h->resp_off += n;
	}
	tcp_output(pcb);
	if (h->resp_off == h->resp_len && tcp_sndqueuelen(pcb) == 0)
		return http_close(pcb, h);
	return ERR_OK;
}

static err_t http_respond(struct tcp_pcb *pcb, struct http *h)
{
	char method[8] = "", path[64] = "";
	/* "GET /path HTTP/1.x" */
	if (sscanf(h->req, "%7s %63s", method, path) != 2)
		h->resp = http_simple(400, "Bad Request", &h->resp_len);
	else if (strcmp(method, "GET") != 0)
		h->resp = http_simple(501, "Not Implemented", &h->resp_len);
	else if (strcmp(path, "/") != 0 && strcmp(path, "/index.html") != 0)
		h->resp = http_simple(404, "Not Found", &h->resp_len);
	else
		h->resp = http_page(&h->resp_len);
	if (!h->resp) {
		http_free(pcb, h);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return http_send_more(pcb, h);
}

static err_t http_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct http *h = arg;
	if (!p) {
		if (!h->resp)
			return http_close(pcb, h); /* closed before a whole request */
		return ERR_OK;
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return err;
	}
	tcp_recved(pcb, p->tot_len);
	err_t ret = ERR_OK;
	if (!h->resp) {
		size_t room = sizeof(h->req) - 1 - h->req_len;
		size_t n = p->tot_len < room ? p->tot_len : room;
		pbuf_copy_partial(p, h->req + h->req_len, (u16_t)n, 0);
		h->req_len += n;
		h->req[h->req_len] = 0;
		/* HTTP/1.0 request: the header ends with an empty line (RFC 1945 5). */
		if (strstr(h->req, "\r\n\r\n") || strstr(h->req, "\n\n") ||
		    h->req_len == sizeof(h->req) - 1)
			ret = http_respond(pcb, h);
	}
	pbuf_free(p);
	return ret;
}

static err_t http_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)len;
	return http_send_more(pcb, arg);
}

static err_t http_poll(void *arg, struct tcp_pcb *pcb)
{
	struct http *h = arg;
	if (!h->resp)
		return http_close(pcb, h); /* no request within the poll interval */
	return http_send_more(pcb, h);
}

static void http_err(void *arg, err_t err)
{
	(void)err;
	if (arg)
		http_free(NULL, arg);
}

static err_t http_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct http *h = calloc(1, sizeof(*h));
	if (!h)
		return ERR_MEM;
	tcp_arg(pcb, h);
	tcp_recv(pcb, http_recv);
	tcp_sent(pcb, http_sent);
	tcp_err(pcb, http_err);
	tcp_poll(pcb, http_poll, 20); /* 10 s to send a request */
	return ERR_OK;
}

/* ---- iperf ------------------------------------------------------------------------------- */

static void iperf_report(void *arg, enum lwiperf_report_type type, const ip_addr_t *local_addr,
			 u16_t local_port, const ip_addr_t *remote_addr, u16_t remote_port,
			 u32_t bytes, u32_t ms, u32_t kbps)
{
	(void)arg, (void)local_addr, (void)local_port, (void)remote_port;
	char peer[16];
	ipaddr_ntoa_r(remote_addr, peer, sizeof(peer));
	printf("iperf: %s %s: %lu bytes in %lu ms, %lu kbit/s\n", peer,
	       type == LWIPERF_TCP_DONE_SERVER ? "done" : "aborted", (unsigned long)bytes,
	       (unsigned long)ms, (unsigned long)kbps);
}

/* ---- Start ------------------------------------------------------------------------------- */

static int listen_tcp(u16_t port, tcp_accept_fn accept)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (!pcb)
		return -ENOMEM;
	if (tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
		tcp_close(pcb);
		return -EADDRINUSE;
	}
	struct tcp_pcb *l = tcp_listen(pcb);
	if (!l) {
		tcp_close(pcb);
		return -ENOMEM;
	}
	tcp_accept(l, accept);
	return 0;
}

void net_services_start(void)
{
	if (started)
		return;
	started = true;
	net_stack_init();
	int e1 = listen_tcp(HTTP_PORT, http_accept);
	int e2 = listen_tcp(ECHO_PORT, echo_accept);
	int e3 = -ENOMEM;
	struct udp_pcb *u = udp_new_ip_type(IPADDR_TYPE_V4);
	if (u) {
		e3 = udp_bind(u, IP4_ADDR_ANY, ECHO_PORT) == ERR_OK ? 0 : -EADDRINUSE;
		if (e3)
			udp_remove(u);
		else
			udp_recv(u, udp_echo_recv, NULL);
	}
	void *ip = lwiperf_start_tcp_server_default(iperf_report, NULL);
	if (e1 || e2 || e3 || !ip)
		printf("net: services: http %d, tcp echo %d, udp echo %d, iperf %s\n", e1, e2, e3,
		       ip ? "ok" : "failed");
	else
		printf("net: services: http :%d, echo tcp+udp :%d, iperf :%d\n", HTTP_PORT,
		       ECHO_PORT, LWIPERF_TCP_PORT_DEFAULT);
}
