/*
 * The lwIP port's internal interface, shared by its files (netif glue, services, shell
 * commands, self tests) and the host unit tests. Drivers use drivers/net/netdev.h only.
 */
#ifndef VIREO_NET_PORT_H
#define VIREO_NET_PORT_H

#include "drivers/net/netdev.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netif;
struct pbuf;

#define NET_PORT_MAX_NETDEVS 4

/* The port's own counters for one device (the driver keeps netdev.stats). */
struct net_port_stats {
	uint64_t tx_busy_retries; /* polls after xmit said -ENOSPC */
	uint64_t tx_busy_drops;	  /* frames dropped after the retries ran out */
	uint64_t tx_errors;	  /* xmit failed otherwise (link down, broken, bad frame) */
	uint64_t tx_linearized;	  /* chains longer than NETDEV_MAX_FRAGS, copied into one */
	uint64_t tx_csum_offload; /* frames sent with a checksum request */
	uint64_t rx_deferred;	  /* frames that arrived during xmit's poll and waited */
	uint64_t rx_drops;	  /* no custom pbuf, queue full or runt */
	uint64_t rx_csum_trusted; /* frames whose TCP/UDP checksum the device vouched for */
	uint64_t rx_copied;	  /* frames copied because lwIP held too many driver buffers */
	uint64_t tokens_outstanding; /* TX pbufs the driver holds right now */
};

/* Bring lwIP up once (lwip_init, the loopback interface, the idle hook). Idempotent; called by
 * netdev_register, the shell commands and the self tests. */
void net_stack_init(void);
/* One pass of the stack's share of the main loop: poll every device, deliver deferred frames
 * and looped-back packets, run lwIP's timers. The idle hook calls it. */
void net_stack_poll(void);

/* The lwIP interface of a registered device; NULL when nd is not registered. */
struct netif *net_port_netif(struct netdev *nd);
const struct net_port_stats *net_port_stats(const struct netdev *nd);
/* "dhcp", "static" or "" (not configured yet). */
const char *net_port_config_source(const struct netdev *nd);

/* Frames the shell's raw TX benchmark hands to ops->xmit use these tokens, not pbufs: tx_done
 * counts them in net_port_raw_done instead of freeing a pbuf. */
#define NET_PORT_RAW_TOKENS 64
extern char net_port_raw_tokens[NET_PORT_RAW_TOKENS];
extern volatile uint64_t net_port_raw_done;

/*
 * Fill in the pseudo-header sum of an outgoing IPv4 TCP/UDP frame for a device that computes
 * the rest (NETDEV_F_TX_CSUM: virtio-net's VIRTIO_NET_HDR_F_NEEDS_CSUM, whose contract is "the
 * checksum field holds the pseudo-header sum; sum from csum_start to the end and store the
 * complement at csum_start + csum_offset"). Returns true and fills *csum for such frames; false
 * (and leaves the frame alone) for anything else: ARP, ICMP, IP fragments, options lwIP does
 * not emit. p is the whole frame from the Ethernet header on, possibly a chain.
 */
bool net_port_tx_csum_prepare(struct pbuf *p, struct netdev_tx_csum *csum);

#endif
