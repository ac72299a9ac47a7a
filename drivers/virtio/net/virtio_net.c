/*
 * The virtio-net driver.
 *
 * receiveq1 (0) is kept full of 2 KiB buffers from a pool larger than the ring: the stack keeps
 * a received buffer (zero-copy) until it is done with it, while the ring is refilled from the
 * rest of the pool after every harvest, so a flood cannot starve the receiver of buffers.
 * transmitq1 (1) carries a header descriptor plus the stack's fragments; the stack's token is
 * handed back through tx_done once the device has used them. controlq (2) exists only with
 * CTRL_VQ.
 *
 * The stack (lwIP) is not reentrant, so nothing here calls it from an interrupt handler:
 * interrupts disable the queue's callbacks and wake the main loop, whose poll does the work and
 * re-enables them with the re-check that prevents a lost wake-up.
 */
#include "drivers/virtio/net/virtio_net.h"
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/net/netdev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RX_BUF_SIZE  2048u /* >= 1526 (5.1.6.3.1: a 1514-byte frame plus a 12-byte header) */
#define RX_POOL_LENT 256u  /* buffers the stack may hold on top of a full ring */
#define ETH_MIN      14u
#define ETH_MAX      1518u /* 1514 + an 802.1Q tag */
#define MAX_NICS     4

struct rx_buf {
	struct rx_buf *next;
	uint8_t *data; /* RX_BUF_SIZE bytes of DMA memory */
	uint8_t *bounce; /* a merged frame handed to the stack instead of data (MRG_RXBUF) */
};

struct tx_slot {
	struct virtio_net_hdr hdr; /* first: DMA-visible */
	void *token;
	struct tx_slot *next;
};

struct ctrl_msg {
	struct virtio_net_ctrl_hdr hdr;
	uint8_t data[2 * (4 + 6 * 8)]; /* two MAC tables of up to 8 entries */
	uint8_t ack;
	volatile bool done;
};

struct vnet {
	struct virtio_device *vd;
	struct netdev nd;
	struct virtqueue *rxq, *txq, *ctrlq;
	unsigned hdr_len;
	bool mrg, rx_split; /* rx_split: header in its own descriptor (legacy, no ANY_LAYOUT) */

	struct rx_buf *bufs, *free_rx;
	unsigned nbufs, rx_free_count;
	uint8_t *rx_mem;

	struct tx_slot *slots, *free_tx;
	unsigned nslots;
	/* While received frames go up the stack, what it transmits in reply (ACKs, mostly) is
	 * queued without a notification, and one kick after the batch sends it all. */
	bool tx_batch, tx_unkicked;

	struct ctrl_msg *ctrl;
	volatile bool link_check;
	uint64_t rx_runts, rx_oversize, rx_merged, rx_no_buffers;
};

static struct vnet nics[MAX_NICS];
static unsigned nnics;

static const char *const net_feature_names[24] = {
	[VIRTIO_NET_F_CSUM] = "CSUM",
	[VIRTIO_NET_F_GUEST_CSUM] = "GUEST_CSUM",
	[VIRTIO_NET_F_CTRL_GUEST_OFFLOADS] = "CTRL_GUEST_OFFLOADS",
	[VIRTIO_NET_F_MTU] = "MTU",
	[VIRTIO_NET_F_MAC] = "MAC",
	[VIRTIO_NET_F_GSO] = "GSO",
	[VIRTIO_NET_F_GUEST_TSO4] = "GUEST_TSO4",
	[VIRTIO_NET_F_GUEST_TSO6] = "GUEST_TSO6",
	[VIRTIO_NET_F_GUEST_ECN] = "GUEST_ECN",
	[VIRTIO_NET_F_GUEST_UFO] = "GUEST_UFO",
	[VIRTIO_NET_F_HOST_TSO4] = "HOST_TSO4",
	[VIRTIO_NET_F_HOST_TSO6] = "HOST_TSO6",
	[VIRTIO_NET_F_HOST_ECN] = "HOST_ECN",
	[VIRTIO_NET_F_HOST_UFO] = "HOST_UFO",
	[VIRTIO_NET_F_MRG_RXBUF] = "MRG_RXBUF",
	[VIRTIO_NET_F_STATUS] = "STATUS",
	[VIRTIO_NET_F_CTRL_VQ] = "CTRL_VQ",
	[VIRTIO_NET_F_CTRL_RX] = "CTRL_RX",
	[VIRTIO_NET_F_CTRL_VLAN] = "CTRL_VLAN",
	[VIRTIO_NET_F_GUEST_ANNOUNCE] = "GUEST_ANNOUNCE",
	[VIRTIO_NET_F_MQ] = "MQ",
	[VIRTIO_NET_F_CTRL_MAC_ADDR] = "CTRL_MAC_ADDR",
};

static struct vnet *from_nd(struct netdev *nd)
{
	return nd->driver_priv;
}

/* ---- receive ---- */

static void rx_put_free(struct vnet *n, struct rx_buf *b)
{
	b->next = n->free_rx;
	n->free_rx = b;
	n->rx_free_count++;
}

/* Post free buffers until the ring is full; returns how many. Called with the virtio lock
 * held. */
static unsigned rx_fill(struct vnet *n)
{
	unsigned posted = 0;
	while (n->free_rx) {
		struct rx_buf *b = n->free_rx;
		struct vq_sg sg[2] = {{b->data, RX_BUF_SIZE}};
		unsigned nsg = 1;
		if (n->rx_split) {
			sg[0].len = n->hdr_len;
			sg[1] = (struct vq_sg){b->data + n->hdr_len, RX_BUF_SIZE - n->hdr_len};
			nsg = 2;
		}
		if (virtqueue_add(n->rxq, sg, 0, nsg, b))
			break; /* ring full (or broken): the rest stay in the pool */
		n->free_rx = b->next;
		n->rx_free_count--;
		posted++;
	}
	return posted;
}

static void rx_refill(struct vnet *n)
{
	if (rx_fill(n))
		virtqueue_kick(n->rxq);
}

static void rx_release(struct netdev *nd, void *token)
{
	struct vnet *n = from_nd(nd);
	struct rx_buf *b = token;
	if (b->bounce) {
		free(b->bounce);
		b->bounce = NULL;
	}
	unsigned long fl = virtio_lock();
	rx_put_free(n, b);
	virtio_unlock(fl);
}

static void rx_drop(struct vnet *n, struct rx_buf *b)
{
	n->nd.stats.rx_dropped++;
	rx_put_free(n, b);
}

/* Merge the num_buffers buffers of one frame (MRG_RXBUF, 5.1.6.4.2) into one allocation: rare
 * with a 1500-byte MTU and 2 KiB buffers, but the device is allowed to do it. */
static uint8_t *rx_merge(struct vnet *n, struct rx_buf *first, uint32_t first_len, uint16_t count,
			 uint32_t *total)
{
	/* count is the device's: more buffers than the ring holds cannot belong to one frame.
	 * Checked before it sizes an allocation. */
	if (count > virtqueue_size(n->rxq)) {
		virtqueue_break(n->rxq, "num_buffers larger than the ring");
		return NULL;
	}
	size_t cap = (size_t)count * RX_BUF_SIZE;
	uint8_t *m = malloc(cap);
	uint32_t have = first_len - n->hdr_len;
	if (m)
		memcpy(m, first->data + n->hdr_len, have);
	for (uint16_t i = 1; i < count; i++) {
		uint32_t len;
		struct rx_buf *b = virtqueue_get_buf(n->rxq, &len);
		if (!b) {
			virtqueue_break(n->rxq, "num_buffers larger than the buffers used");
			free(m);
			return NULL;
		}
		if (m && have + len <= cap)
			memcpy(m + have, b->data, len);
		have += len;
		rx_put_free(n, b);
	}
	if (!m || have > cap) {
		free(m);
		return NULL;
	}
	*total = have;
	n->rx_merged++;
	return m;
}

static void rx_harvest(struct vnet *n)
{
	struct rx_buf *b;
	uint32_t len;
	unsigned long fl = virtio_lock();
	n->tx_batch = true;
	while ((b = virtqueue_get_buf(n->rxq, &len))) {
		if (len < n->hdr_len) {
			n->rx_runts++; /* not even a header: num_buffers cannot be read */
			n->nd.stats.rx_errors++;
			rx_drop(n, b);
			continue;
		}
		struct virtio_net_hdr *h = (struct virtio_net_hdr *)b->data;
		uint16_t nbuf = n->mrg ? h->num_buffers : 1;
		uint8_t *frame = b->data + n->hdr_len;
		uint32_t flen = len - n->hdr_len;
		if (nbuf > 1) {
			frame = b->bounce = rx_merge(n, b, len, nbuf, &flen);
			if (!frame) {
				n->nd.stats.rx_errors++;
				rx_drop(n, b);
				continue;
			}
		} else if (nbuf == 0) {
			n->nd.stats.rx_errors++;
			rx_drop(n, b);
			continue;
		}
		/* A runt by the whole frame: with MRG_RXBUF the device may put as little as the
		 * header in the first buffer (5.1.6.4.2), and a short merged frame must take all
		 * its buffers with it, or the next one would be read as a header. */
		if (flen < ETH_MIN) {
			n->rx_runts++;
			n->nd.stats.rx_errors++;
			free(b->bounce);
			b->bounce = NULL;
			rx_drop(n, b);
			continue;
		}
		if (flen > ETH_MAX) {
			n->rx_oversize++;
			n->nd.stats.rx_errors++;
			free(b->bounce);
			b->bounce = NULL;
			rx_drop(n, b);
			continue;
		}
		/* DATA_VALID: the device checked it; NEEDS_CSUM: the checksum is partial but the
		 * packet is intact (it never crossed a wire). Either way the stack can skip it. */
		bool csum_ok = virtio_has_feature(n->vd, VIRTIO_NET_F_GUEST_CSUM) &&
			       (h->flags & (VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_NEEDS_CSUM));
		n->nd.stats.rx_packets++;
		n->nd.stats.rx_bytes += flen;
		if (!n->nd.rx) {
			free(b->bounce); /* no stack yet: nobody will release it */
			b->bounce = NULL;
			rx_put_free(n, b);
			continue;
		}
		/* Hand over without the lock: the stack may transmit a reply from here. */
		virtio_unlock(fl);
		n->nd.rx(&n->nd, frame, flen, csum_ok, b);
		fl = virtio_lock();
	}
	n->tx_batch = false;
	if (n->tx_unkicked) {
		n->tx_unkicked = false;
		virtqueue_kick(n->txq);
	}
	rx_refill(n);
	if (!n->free_rx && virtqueue_num_free(n->rxq) == virtqueue_size(n->rxq))
		n->rx_no_buffers++; /* the stack holds every buffer: nothing to receive into */
	virtio_unlock(fl);
}

/* ---- transmit ---- */

static void tx_reclaim(struct vnet *n)
{
	struct tx_slot *s;
	uint32_t len;
	for (;;) {
		unsigned long fl = virtio_lock();
		s = virtqueue_get_buf(n->txq, &len);
		if (s) {
			s->next = n->free_tx;
			n->free_tx = s;
		}
		virtio_unlock(fl);
		if (!s)
			break;
		if (n->nd.tx_done)
			n->nd.tx_done(&n->nd, s->token);
	}
}

static int net_xmit(struct netdev *nd, const struct netdev_frag *frags, unsigned nfrags,
		    const struct netdev_tx_csum *csum, void *token)
{
	struct vnet *n = from_nd(nd);
	size_t total = 0;
	if (nfrags == 0 || nfrags > NETDEV_MAX_FRAGS)
		return -EINVAL;
	for (unsigned i = 0; i < nfrags; i++)
		total += frags[i].len;
	if (total < ETH_MIN || total > ETH_MAX) {
		nd->stats.tx_errors++;
		return -EINVAL;
	}
	if (n->vd->failed || !n->txq || virtqueue_is_broken(n->txq))
		return -EIO; /* dead, broken (a reset is on its way), or being reset */
	if (!nd->link_up) {
		nd->stats.tx_dropped++;
		return -ENETDOWN;
	}
	if (!n->free_tx)
		tx_reclaim(n);

	unsigned long fl = virtio_lock();
	struct tx_slot *s = n->free_tx;
	if (!s) {
		if (n->tx_unkicked) { /* the device can only free slots it has been told of */
			n->tx_unkicked = false;
			virtqueue_kick(n->txq);
		}
		virtio_unlock(fl);
		nd->stats.tx_busy++;
		return -ENOSPC;
	}
	memset(&s->hdr, 0, sizeof(s->hdr));
	/* 5.1.6.2: flags 0 and GSO_NONE unless offloads were negotiated. */
	if (csum && csum->needed && virtio_has_feature(n->vd, VIRTIO_NET_F_CSUM)) {
		s->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		s->hdr.csum_start = csum->csum_start;
		s->hdr.csum_offset = csum->csum_offset;
	}
	s->hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	s->token = token;
	struct vq_sg sg[NETDEV_MAX_FRAGS + 1];
	sg[0] = (struct vq_sg){&s->hdr, n->hdr_len};
	for (unsigned i = 0; i < nfrags; i++)
		sg[i + 1] = (struct vq_sg){frags[i].data, (uint32_t)frags[i].len};
	int err = virtqueue_add(n->txq, sg, nfrags + 1, 0, s);
	if (!err) {
		n->free_tx = s->next;
		if (n->tx_batch)
			n->tx_unkicked = true;
		else
			virtqueue_kick(n->txq);
		nd->stats.tx_packets++;
		nd->stats.tx_bytes += total;
	} else if (err == -ENOSPC) {
		if (n->tx_unkicked) {
			n->tx_unkicked = false;
			virtqueue_kick(n->txq);
		}
		nd->stats.tx_busy++;
	}
	virtio_unlock(fl);
	return err;
}

/* ---- main-loop work ---- */

static void link_update(struct vnet *n)
{
	bool up = true;
	if (virtio_has_feature(n->vd, VIRTIO_NET_F_STATUS)) {
		uint16_t st = 0;
		if (virtio_cread(n->vd, struct virtio_net_config, status, &st)) {
			virtio_set_error(n->vd, "link status unreadable; keeping link %s",
					 n->nd.link_up ? "up" : "down");
			return;
		}
		up = st & VIRTIO_NET_S_LINK_UP;
	}
	if (up != n->nd.link_up) {
		n->nd.link_up = up;
		virtio_log("%s: link %s\n", n->nd.name, up ? "up" : "down");
		if (n->nd.link_changed)
			n->nd.link_changed(&n->nd);
	}
}

static void net_poll(struct netdev *nd)
{
	struct vnet *n = from_nd(nd);
	if (n->vd->failed || !n->txq)
		return;
	/* A queue the device broke (the ring's checks, a num_buffers that cannot be) stays
	 * broken until a reset: ask for one (docs/FAILURES.md). */
	struct virtqueue *broken = virtqueue_is_broken(n->rxq)	 ? n->rxq
				   : virtqueue_is_broken(n->txq) ? n->txq
				   : n->ctrlq && virtqueue_is_broken(n->ctrlq) ? n->ctrlq
									: NULL;
	if (broken) {
		char why[sizeof(n->vd->reset_reason)];
		snprintf(why, sizeof(why), "the %s queue broke: %.60s", broken->name,
			 broken->broken_reason);
		virtio_request_reset(n->vd, why);
		return;
	}
	if (n->link_check) {
		n->link_check = false;
		link_update(n);
	}
	rx_harvest(n);
	tx_reclaim(n);
	if (n->vd->mode == VIRTIO_MODE_POLL) {
		virtio_wake(); /* poll mode: the main loop keeps polling instead of halting */
		return;
	}
	/* Ask for the next interrupt, and look again: what arrived in between would otherwise
	 * wait for the next unrelated wake-up. */
	unsigned long fl = virtio_lock();
	bool rx_idle = virtqueue_enable_cb(n->rxq);
	bool tx_idle = virtqueue_enable_cb_delayed(n->txq);
	virtio_unlock(fl);
	if (!rx_idle || !tx_idle)
		virtio_wake();
}

/* Interrupt context: stop further interrupts from this queue and let the main loop work. */
static void net_vq_interrupt(struct virtqueue *vq)
{
	virtqueue_disable_cb(vq);
	virtio_wake();
}

static void net_config_changed(struct virtio_device *vd)
{
	struct vnet *n = vd->priv;
	n->link_check = true; /* read in the main loop: the stack's callback must not run here */
}

/* ---- control queue ---- */

static void ctrl_harvest(struct virtqueue *vq)
{
	struct vnet *n = virtio_vq_priv(vq);
	uint32_t len;
	while (virtqueue_get_buf(vq, &len))
		n->ctrl->done = true;
}

static bool ctrl_done(void *arg)
{
	return ((struct vnet *)arg)->ctrl->done;
}

static int ctrl_cmd(struct vnet *n, uint8_t class, uint8_t cmd, const void *data, size_t len)
{
	if (!n->ctrlq)
		return -EOPNOTSUPP;
	struct ctrl_msg *m = n->ctrl;
	m->hdr = (struct virtio_net_ctrl_hdr){class, cmd};
	memcpy(m->data, data, len);
	m->ack = 0xff; /* neither OK nor ERR until the device writes it */
	m->done = false;
	struct vq_sg sg[3] = {{&m->hdr, sizeof(m->hdr)}, {m->data, (uint32_t)len}, {&m->ack, 1}};
	unsigned long fl = virtio_lock();
	int err = virtqueue_add(n->ctrlq, sg, 2, 1, m);
	if (!err)
		virtqueue_kick(n->ctrlq);
	virtio_unlock(fl);
	if (err)
		return err;
	if ((err = virtio_wait(n->vd, n->ctrlq, ctrl_done, n, VIRTIO_TIMEOUT_NS))) {
		/* The message is still the device's: a late answer would complete the next command
		 * that reuses it. Stop using the control queue instead. */
		if (err == -ETIMEDOUT) {
			virtqueue_break(n->ctrlq, "control command timed out");
			virtio_request_reset(n->vd, "a control command timed out");
		}
		return err;
	}
	return m->ack == VIRTIO_NET_OK ? 0 : -EIO;
}

/* 5.1.6.5.1: CTRL_RX PROMISC (VIRTIO_NET_F_CTRL_RX). */
static int net_set_promisc(struct netdev *nd, bool on)
{
	struct vnet *n = from_nd(nd);
	if (!virtio_has_feature(n->vd, VIRTIO_NET_F_CTRL_RX))
		return -EOPNOTSUPP;
	uint8_t v = on;
	return ctrl_cmd(n, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &v, 1);
}

/* Replace the unicast/multicast MAC filter (CTRL_MAC TABLE_SET) with the card's own address
 * plus `extra` addresses. */
static int net_set_mac_filter(struct netdev *nd, const uint8_t (*extra)[6], unsigned count)
{
	struct vnet *n = from_nd(nd);
	if (!virtio_has_feature(n->vd, VIRTIO_NET_F_CTRL_RX))
		return -EOPNOTSUPP;
	if (count > NETDEV_MAX_FILTER)
		return -EINVAL;
	/* 5.1.6.5.2: two tables, unicast then multicast, each a le32 count and the entries. */
	uint8_t buf[sizeof(n->ctrl->data)];
	size_t off = 0;
	uint32_t uni = 1 + count, multi = 0;
	memcpy(buf + off, &uni, 4);
	off += 4;
	memcpy(buf + off, n->nd.mac, 6);
	off += 6;
	for (unsigned i = 0; i < count; i++, off += 6)
		memcpy(buf + off, extra[i], 6);
	memcpy(buf + off, &multi, 4);
	off += 4;
	return ctrl_cmd(n, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, buf, off);
}

/* ---- probe ---- */

static const struct netdev_ops net_ops = {
	.xmit = net_xmit,
	.rx_release = rx_release,
	.poll = net_poll,
	.set_promisc = net_set_promisc,
	.set_mac_filter = net_set_mac_filter,
};

static int alloc_buffers(struct vnet *n)
{
	unsigned ring = virtqueue_size(n->rxq);
	n->nbufs = ring + RX_POOL_LENT;
	uint64_t phys;
	n->rx_mem = virtio_dma_alloc((size_t)n->nbufs * RX_BUF_SIZE, &phys);
	n->bufs = calloc(n->nbufs, sizeof(*n->bufs));
	n->nslots = virtqueue_size(n->txq);
	n->slots = virtio_dma_alloc(n->nslots * sizeof(*n->slots), &phys);
	n->ctrl = virtio_dma_alloc(sizeof(*n->ctrl), &phys);
	if (!n->rx_mem || !n->bufs || !n->slots || !n->ctrl) {
		/* Give back what was had: the probe fails, and nothing else frees it. */
		if (n->rx_mem)
			virtio_dma_free(n->rx_mem, (size_t)n->nbufs * RX_BUF_SIZE);
		free(n->bufs);
		if (n->slots)
			virtio_dma_free(n->slots, n->nslots * sizeof(*n->slots));
		if (n->ctrl)
			virtio_dma_free(n->ctrl, sizeof(*n->ctrl));
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n->nbufs; i++) {
		n->bufs[i].data = n->rx_mem + (size_t)i * RX_BUF_SIZE;
		rx_put_free(n, &n->bufs[i]);
	}
	for (unsigned i = 0; i < n->nslots; i++) {
		n->slots[i].next = n->free_tx;
		n->free_tx = &n->slots[i];
	}
	return 0;
}

/* After a reset for a recovery: the device no longer touches the queues. Frames the stack
 * handed over are given back as done (the stack frees them; they were not sent), posted
 * receive buffers return to the pool, and a control command waiting fails. The pools, the
 * address and the netdev stay for probe. */
static void net_reset_done(struct virtio_device *vd)
{
	struct vnet *n = vd->priv;
	struct tx_slot *s;
	struct rx_buf *b;
	if (!n->txq)
		return; /* let go already (a failed re-initialisation that made no queues) */
	while ((s = virtqueue_detach_unused(n->txq))) {
		s->next = n->free_tx;
		n->free_tx = s;
		n->nd.stats.tx_dropped++;
		if (n->nd.tx_done)
			n->nd.tx_done(&n->nd, s->token);
	}
	while ((b = virtqueue_detach_unused(n->rxq)))
		rx_put_free(n, b);
	if (n->ctrlq)
		while (virtqueue_detach_unused(n->ctrlq))
			n->ctrl->done = true;
	n->rxq = n->txq = n->ctrlq = NULL;
}

/* A locally administered, unicast address (bit 1 set, bit 0 clear) that differs from boot to
 * boot: the clock at probe time, mixed (splitmix64), not rand(), which nobody has seeded yet. */
static void random_mac(uint8_t mac[6])
{
	uint64_t z = virtio_time_ns() + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(z >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

static int net_probe(struct virtio_device *vd)
{
	struct vnet *n = vd->priv; /* set: a re-initialisation after a reset */
	bool again = n != NULL;
	if (!again) {
		if (nnics == MAX_NICS)
			return -ENOSPC;
		n = &nics[nnics];
		memset(n, 0, sizeof(*n));
		n->vd = vd;
		vd->priv = n;
	}
	uint64_t want = VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) |
			VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) |
			VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) |
			VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) | VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT);
	/* Not F_MTU: accepting it would oblige us (5.1.4.2) to receive mtu-sized frames, and the
	 * 2 KiB buffers only hold 1500. Without it the device keeps to the standard 1514. */
	int err = virtio_negotiate(vd, want);
	if (err)
		return err;

	bool modern = virtio_has_feature(vd, VIRTIO_F_VERSION_1);
	n->mrg = virtio_has_feature(vd, VIRTIO_NET_F_MRG_RXBUF);
	/* 5.1.6.1: 12 bytes with VERSION_1 or MRG_RXBUF, else the legacy 10. */
	n->hdr_len = modern || n->mrg ? sizeof(struct virtio_net_hdr) : VIRTIO_NET_HDR_LEGACY_LEN;
	/* Legacy devices without ANY_LAYOUT want the header in a descriptor of its own. */
	n->rx_split = !modern && !virtio_has_feature(vd, VIRTIO_F_ANY_LAYOUT);

	struct netdev *nd = &n->nd;
	if (!again)
		snprintf(nd->name, sizeof(nd->name), "eth%u", nnics);
	if (virtio_has_feature(vd, VIRTIO_NET_F_MAC)) {
		/* A torn address would be used for every frame: fail instead (2.5.1). */
		if ((err = virtio_cread(vd, struct virtio_net_config, mac, nd->mac))) {
			virtio_fail(vd, "cannot read a consistent MAC address (%d)", err);
			return err;
		}
	} else if (!again) {
		random_mac(nd->mac);
	}
	nd->mtu = 1500;

	bool ctrl = virtio_has_feature(vd, VIRTIO_NET_F_CTRL_VQ);
	struct virtio_vq_spec specs[3] = {
		{.name = "rx", .callback = net_vq_interrupt, .priv = n},
		{.name = "tx", .callback = net_vq_interrupt, .priv = n, .indirect_max = NETDEV_MAX_FRAGS + 1},
		{.name = "ctrl", .size = 64, .callback = ctrl_harvest, .priv = n},
	};
	if ((err = virtio_setup_vqs(vd, ctrl ? 3 : 2, specs)))
		return err;
	n->rxq = vd->vqs[0].vq;
	n->txq = vd->vqs[1].vq;
	n->ctrlq = ctrl ? vd->vqs[2].vq : NULL;
	if (again && (n->nbufs != virtqueue_size(n->rxq) + RX_POOL_LENT ||
		      n->nslots != virtqueue_size(n->txq))) {
		virtio_fail(vd, "the queue sizes changed across the reset");
		return -EINVAL;
	}
	if (!again && (err = alloc_buffers(n))) {
		virtio_fail(vd, "out of memory for buffers");
		return err;
	}
	if (virtio_has_feature(vd, VIRTIO_NET_F_CSUM))
		nd->features |= NETDEV_F_TX_CSUM;
	if (virtio_has_feature(vd, VIRTIO_NET_F_GUEST_CSUM))
		nd->features |= NETDEV_F_RX_CSUM;
	nd->ops = &net_ops;
	nd->driver_priv = n;
	snprintf(vd->name, sizeof(vd->name), "%s", nd->name);
	if (!again)
		nnics++;

	/* 5.1.5: fill the receive queue before DRIVER_OK, so the device has buffers from the
	 * first frame on. Notifications wait for DRIVER_OK (3.1.1), hence no kick yet. */
	unsigned long fl = virtio_lock();
	rx_fill(n);
	virtqueue_kick_prepare(n->rxq); /* publish avail->idx; the notify follows DRIVER_OK */
	virtio_unlock(fl);
	virtio_device_ready(vd);
	virtqueue_notify(n->rxq);

	nd->link_up = false;
	link_update(n);
	virtio_log("%s: mac %02x:%02x:%02x:%02x:%02x:%02x, header %u bytes%s, %u rx buffers, "
		   "link %s\n",
		   nd->name, nd->mac[0], nd->mac[1], nd->mac[2], nd->mac[3], nd->mac[4], nd->mac[5],
		   n->hdr_len, n->mrg ? " (mergeable rx)" : "", n->nbufs,
		   nd->link_up ? "up" : "down");
	return again ? 0 : netdev_register(nd);
}

static void net_describe(struct virtio_device *vd, int (*out)(const char *fmt, ...))
{
	struct vnet *n = vd->priv;
	const struct netdev_stats *s = &n->nd.stats;
	out("  %s: link %s, header %u, rx pool %u/%u free, rx=%llu (%llu bytes) dropped=%llu "
	    "errors=%llu (runts %llu, oversize %llu) merged=%llu starved=%llu\n",
	    n->nd.name, n->nd.link_up ? "up" : "down", n->hdr_len, n->rx_free_count, n->nbufs,
	    (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
	    (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_errors,
	    (unsigned long long)n->rx_runts, (unsigned long long)n->rx_oversize,
	    (unsigned long long)n->rx_merged, (unsigned long long)n->rx_no_buffers);
	out("  %s: tx=%llu (%llu bytes) busy=%llu dropped=%llu errors=%llu\n", n->nd.name,
	    (unsigned long long)s->tx_packets, (unsigned long long)s->tx_bytes,
	    (unsigned long long)s->tx_busy, (unsigned long long)s->tx_dropped,
	    (unsigned long long)s->tx_errors);
}

/* 5.1.3.1: the control-queue features need the control queue. */
static const struct virtio_feature_dep net_feature_deps[] = {
	{VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_VQ},
	{VIRTIO_NET_F_CTRL_VLAN, VIRTIO_NET_F_CTRL_VQ},
	{VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_VQ},
	{0, 0},
};

static const struct virtio_driver net_driver = {
	.name = "virtio-net",
	.device_type = VIRTIO_ID_NET,
	.feature_names = net_feature_names,
	.feature_deps = net_feature_deps,
	.probe = net_probe,
	.config_changed = net_config_changed,
	.reset_done = net_reset_done,
	.describe = net_describe,
};

int virtio_net_register(void)
{
	return virtio_register_driver(&net_driver);
}
