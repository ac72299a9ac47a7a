/*
 * netdev — the seam between a network driver (virtio-net) and the TCP/IP stack (lwIP).
 *
 * The driver fills a struct netdev and its ops and calls netdev_register(); the stack fills the
 * callbacks. Frames move without copies where the stack allows:
 *   RX: the driver hands the stack a filled buffer (rx), which owns it until it calls
 *       ops->rx_release(token) — lwIP wraps it in a custom pbuf whose free does that.
 *   TX: the stack hands the driver fragments (xmit) and keeps them alive until the driver calls
 *       tx_done(token) after the device has consumed them.
 * Neither side knows the other's types, so the driver builds and is tested without lwIP and
 * the stack port is tested against a fake netdev.
 */
#ifndef VIREO_NETDEV_H
#define VIREO_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netdev;

struct netdev_frag {
	const void *data;
	size_t len;
};

/* netdev.features */
#define NETDEV_F_TX_CSUM (1u << 0) /* device fills in TCP/UDP checksums (csum_start/offset) */
#define NETDEV_F_RX_CSUM (1u << 1) /* device validates checksums: rx csum_ok may be true */

/* Checksum request for one TX frame (only with NETDEV_F_TX_CSUM): the device computes the
 * ones'-complement sum from csum_start to the end and stores it at csum_start + csum_offset. */
struct netdev_tx_csum {
	bool needed;
	uint16_t csum_start, csum_offset;
};

struct netdev_ops {
	/* Queue one frame made of nfrags fragments (at most NETDEV_MAX_FRAGS). Returns 0, -ENOSPC
	 * when the TX ring is full (the stack may retry after a tx_done), -ENETDOWN when the link
	 * is down, -EIO when the device is broken, -EINVAL for a bad frame. */
	int (*xmit)(struct netdev *nd, const struct netdev_frag *frags, unsigned nfrags,
		    const struct netdev_tx_csum *csum, void *token);
	/* Give back an RX buffer the driver passed to rx(). */
	void (*rx_release)(struct netdev *nd, void *rx_token);
	/* Harvest RX and TX completions now (poll and hybrid modes; harmless in irq mode). */
	void (*poll)(struct netdev *nd);
	/* Receive filtering (optional; NULL: the device takes what its hardware lets through).
	 * set_promisc: every frame, or only those for the filter. set_mac_filter: the unicast
	 * addresses received besides the card's own (at most NETDEV_MAX_FILTER). Both return 0,
	 * -EOPNOTSUPP when the device cannot filter, -EINVAL, or -EIO when it refused. Thread
	 * context; they may wait for the device. */
	int (*set_promisc)(struct netdev *nd, bool on);
	int (*set_mac_filter)(struct netdev *nd, const uint8_t (*macs)[6], unsigned n);
};

#define NETDEV_MAX_FILTER 7

#define NETDEV_MAX_FRAGS 16

struct netdev_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors, tx_busy;
};

struct netdev {
	char name[8]; /* "eth0" */
	uint8_t mac[6];
	uint16_t mtu; /* IP MTU, 1500 */
	bool link_up;
	uint32_t features; /* NETDEV_F_* */
	const struct netdev_ops *ops;
	void *driver_priv;
	struct netdev_stats stats; /* kept by the driver */

	/* Filled by the stack. Called only from ops->poll, i.e. from the kernel's main loop,
	 * never from an interrupt handler: lwIP (NO_SYS) is not reentrant. In irq mode the
	 * driver's interrupt handler just wakes the main loop (idle_kick), which calls poll.
	 * len is 14 to 1518 bytes: an Ethernet frame without FCS, perhaps 802.1Q-tagged. */
	void (*rx)(struct netdev *nd, void *data, size_t len, bool csum_ok, void *rx_token);
	void (*tx_done)(struct netdev *nd, void *token);
	void (*link_changed)(struct netdev *nd);
	void *stack_priv;
};

/* Hand a ready device to the network stack (net/lwip). Returns 0 or -errno. */
int netdev_register(struct netdev *nd);
/* Registered devices, for the shell. */
struct netdev *netdev_at(unsigned i);

#endif
