/*
 * Host unit tests of the virtio-net driver (drivers/virtio/net/virtio_net.c): its header and buffer
 * handling, link state, MAC, control queue and interrupt/poll discipline, end to end over the
 * PCI fake and the virtio-pci transports, against a virtio-net device (virtio_fake_net.c) on
 * top of the register-level virtio-pci model (virtio_fake_dev.c).
 *
 * This file also plays the network stack: netdev_register() (the kernel's is in net/lwip)
 * captures the struct netdev and installs rx / tx_done / link_changed callbacks that record
 * what they get, and whether they ran inside an interrupt (the test delivers interrupts
 * itself, flagging that it is doing so).
 *
 * Expected values come from VIRTIO 1.2 section 5.1 (header sizes and fields, feature bits,
 * control commands) and drivers/net/netdev.h (the stack contract), not from the driver. The core
 * keeps static tables, so each test runs in a forked child (isolate()).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/host/cmocka_isolate.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/net/virtio_net.h"
#include "drivers/virtio/pci/virtio_pci.h"
#include "drivers/net/netdev.h"
#include "tests/host/pci_fake.h"
#include "tests/host/virtio_fake_dev.h"
#include "tests/host/virtio_fake_net.h"

#define BIT(n) (1ull << (n))
/* 5.1.3 and 6 (written out: the spec's numbers, not the driver's). */
#define F_CSUM BIT(VFN_F_CSUM)
#define F_GUEST_CSUM BIT(VFN_F_GUEST_CSUM)
#define F_MAC BIT(VFN_F_MAC)
#define F_MRG BIT(VFN_F_MRG_RXBUF)
#define F_STATUS BIT(VFN_F_STATUS)
#define F_CTRL_VQ BIT(VFN_F_CTRL_VQ)
#define F_CTRL_RX BIT(VFN_F_CTRL_RX)
#define F_ANY_LAYOUT BIT(VFN_F_ANY_LAYOUT)
#define F_INDIRECT BIT(VFN_F_INDIRECT)
#define F_EVENT_IDX BIT(VFN_F_EVENT_IDX)
#define F_V1 BIT(VFN_F_VERSION_1)
#define RING_F (F_INDIRECT | F_EVENT_IDX)
#define QSIZE 64    /* the model's queue size */
#define POOL_EXTRA 256 /* buffers the stack may hold beyond a full ring (virtio_net.c) */
#define VRING_AVAIL_F_NO_INTERRUPT 1

static struct fake_pci fake;
static struct vfd dev;
static struct vfn net;
static const uint8_t MAC[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* ---------------------------------------------------------------------------------------- */
/* The stack                                                                                 */

#define MAX_RX 512
#define MAX_TXD 1024
static bool in_irq; /* the test is delivering an interrupt right now */
static struct {
	struct netdev *nd;
	unsigned registered;
	bool hold; /* keep RX buffers (no rx_release) */
	bool reply; /* transmit a 60-byte frame for every frame received, as an ACK would */
	int reply_err;
	unsigned tx_notifies_at_err; /* the device's TX notifications when a reply first failed */
	unsigned nrx;
	struct {
		uint8_t data[2048];
		size_t len;
		bool csum_ok;
		void *token;
	} rx[MAX_RX];
	unsigned ntx_done;
	void *tx_tokens[MAX_TXD];
	unsigned tx_consumed_at_done[MAX_TXD]; /* frames the device had consumed by then */
	unsigned nlink;
	bool link_state[16];
	unsigned in_irq_calls;
} st;

static void stack_rx(struct netdev *nd, void *data, size_t len, bool csum_ok, void *token)
{
	if (in_irq)
		st.in_irq_calls++;
	assert_ptr_equal(nd, st.nd);
	assert_true(st.nrx < MAX_RX);
	assert_true(len <= sizeof(st.rx[0].data));
	memcpy(st.rx[st.nrx].data, data, len);
	st.rx[st.nrx].len = len;
	st.rx[st.nrx].csum_ok = csum_ok;
	st.rx[st.nrx].token = token;
	st.nrx++;
	if (!st.hold)
		nd->ops->rx_release(nd, token);
	if (st.reply) {
		static uint8_t f[MAX_RX][60];
		struct netdev_frag fr = {f[st.nrx - 1], 60};
		memset(f[st.nrx - 1], 0xac, 60);
		int err = nd->ops->xmit(nd, &fr, 1, NULL, (void *)(uintptr_t)st.nrx);
		if (err && !st.reply_err) {
			st.reply_err = err;
			st.tx_notifies_at_err = dev.q[VFN_TXQ].notifies;
		}
	}
}

static void stack_tx_done(struct netdev *nd, void *token)
{
	if (in_irq)
		st.in_irq_calls++;
	assert_ptr_equal(nd, st.nd);
	assert_true(st.ntx_done < MAX_TXD);
	st.tx_consumed_at_done[st.ntx_done] = net.ntx;
	st.tx_tokens[st.ntx_done++] = token;
}

static void stack_link_changed(struct netdev *nd)
{
	if (in_irq)
		st.in_irq_calls++;
	if (st.nlink < 16)
		st.link_state[st.nlink] = nd->link_up;
	st.nlink++;
}

int netdev_register(struct netdev *nd)
{
	st.nd = nd;
	st.registered++;
	nd->rx = stack_rx;
	nd->tx_done = stack_tx_done;
	nd->link_changed = stack_link_changed;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */

static void assert_clean(void)
{
	if (dev.nviolations)
		fail_msg("the device model recorded %u violation(s):\n%s", dev.nviolations,
			 dev.violations);
}

static void model(enum vfd_kind kind, uint64_t features, uint16_t status)
{
	vfn_init(&net, &dev, kind, features, MAC, status);
}

static void boot(void)
{
	vfd_build(&dev, &fake);
	assert_int_equal(pci_init(fake.cfg_size), 2);
	assert_int_equal(virtio_pci_register(), 0);
	assert_int_equal(virtio_net_register(), 0);
	pci_probe_all();
	if (!st.nd)
		fail_msg("virtio-net did not register a netdev; log:\n%s", vfd_log());
	assert_int_equal(st.registered, 1);
}

static struct virtio_device *the_vd(void)
{
	assert_true(virtio_device_count() > 0);
	return virtio_device_at(virtio_device_count() - 1);
}

static struct virtqueue *vq(unsigned i)
{
	return the_vd()->vqs[i].vq;
}

static void poll_nd(void)
{
	st.nd->ops->poll(st.nd);
}

/* The CPU takes the pending interrupts now; callbacks to the stack must not run inside. */
static void take_interrupts(void)
{
	in_irq = true;
	vfd_deliver(&dev);
	in_irq = false;
}

/* An Ethernet frame of len bytes whose contents depend on seed. */
static void mkframe(uint8_t *f, size_t len, unsigned seed)
{
	static const uint8_t hdr[14] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0, 0, 0, 0, 1,
					0x08, 0x00};
	for (size_t i = 0; i < len; i++)
		f[i] = i < 14 ? hdr[i] : (uint8_t)(i * 7 + seed * 13 + (i >> 8));
}

/* The receive ring is full: every descriptor is posted (the device sees them available). */
static void assert_rx_ring_full(void)
{
	unsigned bufs, descs;
	uint32_t min;
	vfn_rx_scan(&net, &bufs, &descs, &min);
	if (descs != QSIZE)
		fail_msg("receive ring not full: %u buffers in %u of %u descriptors", bufs, descs,
			 QSIZE);
}

static unsigned rx_posted(void)
{
	unsigned bufs, descs;
	uint32_t min;
	vfn_rx_scan(&net, &bufs, &descs, &min);
	return bufs;
}

/* Inject one frame of len bytes and poll; it must reach the stack exactly. */
static void rx_roundtrip(size_t len, unsigned seed)
{
	uint8_t f[1518];
	unsigned before = st.nrx;
	mkframe(f, len, seed);
	assert_int_equal(vfn_rx(&net, f, len, NULL), 1);
	poll_nd();
	assert_int_equal(st.nrx, before + 1);
	assert_int_equal(st.rx[before].len, len);
	assert_memory_equal(st.rx[before].data, f, len);
}

/* Send one frame of len bytes in one fragment; returns xmit's result. */
static int tx_frame(size_t len, unsigned seed, const struct netdev_tx_csum *csum, void *token)
{
	static uint8_t f[256][2048]; /* stays alive until tx_done (the stack's promise) */
	uint8_t *b = f[seed % 256];
	mkframe(b, len, seed);
	struct netdev_frag fr = {b, len};
	return st.nd->ops->xmit(st.nd, &fr, 1, csum, token);
}

/* Header fields of a recorded TX frame (5.1.6: le16 after flags, gso_type). */
static uint16_t hdr16(const struct vfn_tx_frame *f, unsigned off)
{
	return (uint16_t)(f->hdr[off] | f->hdr[off + 1] << 8);
}

/* ---------------------------------------------------------------------------------------- */
/* Isolation: each test in a forked child                                                    */

/* cmocka_isolate.h: ISOLATED(fn) runs fn in a forked child. */

/* ======================================================================================== */
/* Header length and layout (5.1.6, 5.1.6.6 legacy)                                          */

/* Modern: 12-byte header both ways; RX buffers posted before DRIVER_OK fill the ring. */
static void test_modern_header_is_12(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	assert_int_equal(vfn_hdr_len(&net), 12);
	assert_rx_ring_full();
	rx_roundtrip(60, 1);
	rx_roundtrip(1514, 2);
	assert_int_equal(tx_frame(100, 3, NULL, (void *)1), 0);
	const struct vfn_tx_frame *f = vfn_tx_last(&net);
	assert_non_null(f);
	assert_int_equal(f->len, 100); /* 112 readable bytes = 12 + 100 */
	uint8_t want[100];
	mkframe(want, 100, 3);
	assert_memory_equal(f->data, want, 100);
	assert_clean();
}
ISOLATED(test_modern_header_is_12)

/* Legacy without MRG_RXBUF: the 10-byte header; with ANY_LAYOUT one RX descriptor is fine. */
static void test_legacy_header_is_10(void **state)
{
	(void)state;
	model(VFD_LEGACY, RING_F | F_MAC | F_STATUS | F_ANY_LAYOUT, VFN_S_LINK_UP);
	boot();
	assert_int_equal(vfn_hdr_len(&net), 10);
	assert_rx_ring_full();
	rx_roundtrip(60, 1);
	rx_roundtrip(1514, 2);
	rx_roundtrip(14, 3);
	assert_int_equal(tx_frame(60, 4, NULL, (void *)1), 0);
	const struct vfn_tx_frame *f = vfn_tx_last(&net);
	assert_int_equal(f->len, 60);
	uint8_t want[60];
	mkframe(want, 60, 4);
	assert_memory_equal(f->data, want, 60);
	assert_clean();
}
ISOLATED(test_legacy_header_is_10)

/* Legacy without ANY_LAYOUT: the header is a descriptor of its own, RX and TX (5.1.6.6). */
static void test_legacy_no_any_layout_header_descriptor(void **state)
{
	(void)state;
	model(VFD_LEGACY, RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	assert_int_equal(vfn_hdr_len(&net), 10);
	assert_rx_ring_full();
	rx_roundtrip(1514, 1);
	assert_int_equal(net.rx_last_first_seg, 10);
	rx_roundtrip(60, 2);
	assert_int_equal(net.rx_last_first_seg, 10);
	assert_int_equal(tx_frame(60, 3, NULL, (void *)1), 0);
	const struct vfn_tx_frame *f = vfn_tx_last(&net);
	assert_int_equal(f->seg_len[0], 10);
	assert_int_equal(f->len, 60);
	assert_rx_ring_full();
	assert_clean(); /* the model checks the header descriptors too */
}
ISOLATED(test_legacy_no_any_layout_header_descriptor)

/* The same without INDIRECT: each RX buffer is a two-descriptor chain. */
static void test_legacy_no_any_layout_no_indirect(void **state)
{
	(void)state;
	model(VFD_LEGACY, F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	assert_rx_ring_full();
	assert_int_equal(rx_posted(), QSIZE / 2);
	rx_roundtrip(1514, 1);
	assert_int_equal(net.rx_last_first_seg, 10);
	assert_rx_ring_full();
	assert_clean();
}
ISOLATED(test_legacy_no_any_layout_no_indirect)

/* Legacy with MRG_RXBUF: num_buffers exists, 12 bytes (5.1.6). */
static void test_legacy_mrg_header_is_12(void **state)
{
	(void)state;
	model(VFD_LEGACY, RING_F | F_MAC | F_STATUS | F_MRG | F_ANY_LAYOUT, VFN_S_LINK_UP);
	boot();
	assert_int_equal(vfn_hdr_len(&net), 12);
	rx_roundtrip(1514, 1);
	rx_roundtrip(60, 2);
	assert_int_equal(tx_frame(60, 3, NULL, (void *)1), 0);
	assert_int_equal(vfn_tx_last(&net)->len, 60);
	assert_int_equal(hdr16(vfn_tx_last(&net), 10), 0); /* num_buffers 0 on TX */
	assert_clean();
}
ISOLATED(test_legacy_mrg_header_is_12)

/* ======================================================================================== */
/* Transmit                                                                                  */

/* Without CSUM: flags 0, GSO_NONE, everything 0, even when the stack asks for a checksum. */
static void test_tx_header_without_csum(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS | F_MRG, VFN_S_LINK_UP);
	boot();
	assert_false(st.nd->features & NETDEV_F_TX_CSUM);
	struct netdev_tx_csum c = {true, 34, 16};
	assert_int_equal(tx_frame(100, 1, &c, (void *)1), 0);
	const struct vfn_tx_frame *f = vfn_tx_last(&net);
	static const uint8_t zero[12];
	assert_memory_equal(f->hdr, zero, 12); /* flags, gso_type, hdr_len, gso_size, csum, nb */
	assert_int_equal(tx_frame(100, 2, NULL, (void *)2), 0);
	assert_memory_equal(vfn_tx_last(&net)->hdr, zero, 12);
	assert_clean();
}
ISOLATED(test_tx_header_without_csum)

/* With CSUM: a checksum request becomes NEEDS_CSUM with csum_start/offset as given; no request,
 * flags 0. gso_type stays NONE and num_buffers 0. */
static void test_tx_header_with_csum(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS | F_CSUM, VFN_S_LINK_UP);
	boot();
	assert_true(st.nd->features & NETDEV_F_TX_CSUM);
	struct netdev_tx_csum c = {true, 34, 16};
	assert_int_equal(tx_frame(100, 1, &c, (void *)1), 0);
	const struct vfn_tx_frame *f = vfn_tx_last(&net);
	assert_int_equal(f->hdr[0], VFN_HDR_F_NEEDS_CSUM);
	assert_int_equal(f->hdr[1], 0);      /* GSO_NONE */
	assert_int_equal(hdr16(f, 2), 0);    /* hdr_len */
	assert_int_equal(hdr16(f, 4), 0);    /* gso_size */
	assert_int_equal(hdr16(f, 6), 34);   /* csum_start */
	assert_int_equal(hdr16(f, 8), 16);   /* csum_offset */
	assert_int_equal(hdr16(f, 10), 0);   /* num_buffers */
	struct netdev_tx_csum udp = {true, 34, 6};
	assert_int_equal(tx_frame(100, 2, &udp, (void *)2), 0);
	assert_int_equal(hdr16(vfn_tx_last(&net), 8), 6);
	struct netdev_tx_csum no = {false, 34, 16};
	assert_int_equal(tx_frame(100, 3, &no, (void *)3), 0);
	static const uint8_t zero[12];
	assert_memory_equal(vfn_tx_last(&net)->hdr, zero, 12);
	assert_int_equal(tx_frame(100, 4, NULL, (void *)4), 0);
	assert_memory_equal(vfn_tx_last(&net)->hdr, zero, 12);
	/* A slot given back and taken again carries no field of its last frame: a checksummed
	 * frame, its completion, then a plain one in the same slot. */
	assert_int_equal(tx_frame(100, 5, &c, (void *)5), 0);
	poll_nd();
	assert_int_equal(tx_frame(100, 6, NULL, (void *)6), 0);
	assert_memory_equal(vfn_tx_last(&net)->hdr, zero, 12);
	assert_clean();
}
ISOLATED(test_tx_header_with_csum)

/* The fragments arrive in order, whole, as one frame; with and without INDIRECT. */
static void tx_fragments(uint64_t ring)
{
	model(VFD_MODERN, F_V1 | ring | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	uint8_t whole[1518];
	mkframe(whole, sizeof(whole), 9);
	static const size_t cuts[][5] = {{14, 20, 20, 1000, 0}, {1, 13, 1, 1503, 0},
					 {100, 200, 300, 400, 518}};
	for (unsigned t = 0; t < 3; t++) {
		struct netdev_frag fr[5];
		size_t off = 0;
		unsigned k = 0;
		for (; k < 5 && cuts[t][k]; k++) {
			fr[k] = (struct netdev_frag){whole + off, cuts[t][k]};
			off += cuts[t][k];
		}
		assert_int_equal(st.nd->ops->xmit(st.nd, fr, k, NULL, (void *)(uintptr_t)(t + 1)), 0);
		const struct vfn_tx_frame *f = vfn_tx_last(&net);
		assert_int_equal(f->len, off);
		assert_memory_equal(f->data, whole, off);
	}
	/* NETDEV_MAX_FRAGS fragments of one byte and a tail */
	struct netdev_frag fr[NETDEV_MAX_FRAGS];
	for (unsigned i = 0; i < NETDEV_MAX_FRAGS; i++)
		fr[i] = (struct netdev_frag){whole + i, 1};
	fr[NETDEV_MAX_FRAGS - 1].len = 100;
	assert_int_equal(st.nd->ops->xmit(st.nd, fr, NETDEV_MAX_FRAGS, NULL, (void *)9), 0);
	assert_int_equal(vfn_tx_last(&net)->len, NETDEV_MAX_FRAGS - 1 + 100);
	assert_memory_equal(vfn_tx_last(&net)->data, whole, NETDEV_MAX_FRAGS - 1 + 100);
	poll_nd();
	assert_int_equal(st.ntx_done, 4);
	assert_clean();
}

static void test_tx_fragments_in_order(void **state)
{
	(void)state;
	tx_fragments(RING_F);
}
ISOLATED(test_tx_fragments_in_order)

static void test_tx_fragments_in_order_no_indirect(void **state)
{
	(void)state;
	tx_fragments(F_EVENT_IDX);
}
ISOLATED(test_tx_fragments_in_order_no_indirect)

/* tx_done: exactly once per frame, with its token, only after the device used the frame, and
 * from poll (main loop), not from the interrupt. */
static void test_tx_done_after_device_used(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	net.tx_hold = true;
	boot();
	void *tok[5] = {(void *)0x100, (void *)0x200, (void *)0x300, (void *)0x400, (void *)0x500};
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(tx_frame(60 + i, i, NULL, tok[i]), 0);
	assert_int_equal(vfn_tx_pending(&net), 5);
	poll_nd();
	take_interrupts();
	poll_nd();
	assert_int_equal(st.ntx_done, 0); /* nothing used yet */
	assert_int_equal(vfn_tx_complete(&net, 2), 2);
	take_interrupts();
	assert_int_equal(st.ntx_done, 0); /* the interrupt only wakes the main loop */
	poll_nd();
	assert_int_equal(st.ntx_done, 2);
	assert_ptr_equal(st.tx_tokens[0], tok[0]);
	assert_ptr_equal(st.tx_tokens[1], tok[1]);
	assert_int_equal(vfn_tx_complete(&net, 10), 3);
	take_interrupts();
	poll_nd();
	poll_nd();
	assert_int_equal(st.ntx_done, 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_ptr_equal(st.tx_tokens[i], tok[i]);
		assert_true(st.tx_consumed_at_done[i] > i); /* the device had used frame i */
	}
	assert_int_equal(st.in_irq_calls, 0);
	assert_int_equal(st.nd->stats.tx_packets, 5);
	assert_clean();
}
ISOLATED(test_tx_done_after_device_used)

/* Frames shorter than an Ethernet header or longer than 1518 are refused: -EINVAL. */
static void test_tx_bad_sizes(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	assert_int_equal(tx_frame(13, 1, NULL, (void *)1), -EINVAL);
	assert_int_equal(tx_frame(1519, 2, NULL, (void *)2), -EINVAL);
	assert_int_equal(tx_frame(0, 3, NULL, (void *)3), -EINVAL);
	assert_int_equal(st.nd->ops->xmit(st.nd, NULL, 0, NULL, (void *)4), -EINVAL);
	assert_int_equal(net.ntx, 0);
	assert_int_equal(tx_frame(14, 5, NULL, (void *)5), 0);
	assert_int_equal(tx_frame(1518, 6, NULL, (void *)6), 0);
	assert_int_equal(net.ntx, 2);
	assert_int_equal(vfn_tx_last(&net)->len, 1518);
	poll_nd();
	assert_int_equal(st.ntx_done, 2);
	assert_ptr_equal(st.tx_tokens[0], (void *)5);
	assert_ptr_equal(st.tx_tokens[1], (void *)6);
	assert_clean();
}
ISOLATED(test_tx_bad_sizes)

/* A full TX ring: -ENOSPC, no token lost or duplicated, and after completions the whole ring
 * can be used again (nothing leaked), round after round. */
static void tx_full_ring(uint64_t ring, unsigned nfrags)
{
	model(VFD_MODERN, F_V1 | ring | F_MAC | F_STATUS, VFN_S_LINK_UP);
	dev.queue_max[VFN_TXQ] = 16;
	net.tx_hold = true;
	boot();
	uint8_t f[60];
	mkframe(f, sizeof(f), 1);
	struct netdev_frag fr[3] = {{f, 20}, {f + 20, 20}, {f + 40, 20}};
	unsigned sent = 0, first_round = 0;
	for (unsigned round = 0; round < 40; round++) {
		unsigned this_round = 0;
		int err;
		while ((err = st.nd->ops->xmit(st.nd, fr, nfrags, NULL,
					       (void *)(uintptr_t)(sent + 1))) == 0) {
			sent++;
			this_round++;
			assert_true(this_round <= 16);
		}
		assert_int_equal(err, -ENOSPC);
		if (round == 0)
			first_round = this_round;
		assert_int_equal(this_round, first_round); /* no slot or descriptor leaked */
		assert_int_equal(vfn_tx_complete(&net, ~0u), this_round);
		poll_nd();
		assert_int_equal(st.ntx_done, sent);
	}
	/* 16 slots; a frame takes 1 descriptor with INDIRECT, else 1 + nfrags */
	assert_int_equal(first_round, ring & F_INDIRECT ? 16 : 16 / (nfrags + 1));
	/* Single-fragment frames now: a slot lost on an -ENOSPC above would show here (the
	 * rounds above need fewer slots than there are). */
	unsigned single = 0;
	while (st.nd->ops->xmit(st.nd, fr, 1, NULL, (void *)(uintptr_t)(sent + 1)) == 0) {
		sent++;
		single++;
		assert_true(single <= 16);
	}
	assert_int_equal(single, ring & F_INDIRECT ? 16 : 8);
	assert_int_equal(vfn_tx_complete(&net, ~0u), single);
	poll_nd();
	assert_int_equal(st.ntx_done, sent);
	for (unsigned i = 0; i < sent; i++)
		assert_ptr_equal(st.tx_tokens[i], (void *)(uintptr_t)(i + 1));
	assert_true(st.nd->stats.tx_busy >= 40);
	assert_clean();
}

static void test_tx_full_ring(void **state)
{
	(void)state;
	tx_full_ring(RING_F, 1);
}
ISOLATED(test_tx_full_ring)

static void test_tx_full_ring_chains(void **state)
{
	(void)state;
	tx_full_ring(F_EVENT_IDX, 3); /* 4 descriptors a frame: the ring fills before the slots */
}
ISOLATED(test_tx_full_ring_chains)

/* Link down: -ENETDOWN, nothing reaches the device. */
static void test_tx_link_down(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, 0);
	boot();
	assert_false(st.nd->link_up);
	assert_int_equal(tx_frame(60, 1, NULL, (void *)1), -ENETDOWN);
	assert_int_equal(net.ntx, 0);
	assert_int_equal(dev.q[VFN_TXQ].notifies, 0);
	assert_clean();
}
ISOLATED(test_tx_link_down)

/* ======================================================================================== */
/* Receive                                                                                   */

/* Buffers of at least 1526 bytes without MRG_RXBUF (5.1.6.3.1), ring kept full. */
static void test_rx_buffers_and_refill(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	unsigned bufs, descs;
	uint32_t min;
	vfn_rx_scan(&net, &bufs, &descs, &min);
	assert_int_equal(bufs, QSIZE);
	assert_int_equal(descs, QSIZE);
	assert_true(min >= 1526);
	/* several batches, each harvested by one poll: the ring is full again after each */
	unsigned n = 0;
	for (unsigned batch = 1; batch <= QSIZE; batch *= 2) {
		uint8_t f[1514];
		for (unsigned i = 0; i < batch; i++, n++) {
			mkframe(f, 60 + n, n);
			assert_int_equal(vfn_rx(&net, f, 60 + n, NULL), 1);
		}
		assert_int_equal(rx_posted(), QSIZE - batch);
		poll_nd();
		assert_rx_ring_full();
		assert_int_equal(st.nrx, n);
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t f[1514];
		mkframe(f, 60 + i, i);
		assert_int_equal(st.rx[i].len, 60 + i);
		assert_memory_equal(st.rx[i].data, f, 60 + i);
	}
	vfn_rx_scan(&net, &bufs, &descs, &min);
	assert_true(min >= 1526);
	assert_int_equal(st.nd->stats.rx_packets, n);
	assert_int_equal(st.in_irq_calls, 0);
	assert_clean();
}
ISOLATED(test_rx_buffers_and_refill)

/* What the stack transmits while a batch of received frames goes up (TCP's ACKs) is queued
 * without a notification each; one kick after the batch hands it all to the device. And when
 * the ring fills during a batch, the frames queued so far are kicked then: the device can only
 * free slots it has been told of. */
static void test_tx_replies_to_a_batch_take_one_kick(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	st.reply = true;
	uint8_t f[100];
	for (unsigned i = 0; i < 8; i++) {
		mkframe(f, sizeof(f), i);
		assert_int_equal(vfn_rx(&net, f, sizeof(f), NULL), 1);
	}
	unsigned kicks0 = dev.q[VFN_TXQ].notifies, ntx0 = net.ntx;
	poll_nd();
	assert_int_equal(st.nrx, 8);
	assert_int_equal(st.reply_err, 0);
	assert_int_equal(dev.q[VFN_TXQ].notifies, kicks0 + 1);
	assert_int_equal(net.ntx, ntx0 + 8);
	/* Outside a batch, a frame is kicked at once. */
	assert_int_equal(tx_frame(60, 1, NULL, (void *)0x1), 0);
	assert_int_equal(dev.q[VFN_TXQ].notifies, kicks0 + 2);
	assert_int_equal(net.ntx, ntx0 + 9);
	assert_clean();
}
ISOLATED(test_tx_replies_to_a_batch_take_one_kick)

static void test_tx_ring_full_in_a_batch_kicks_at_once(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	dev.queue_max[VFN_TXQ] = 16;
	net.tx_hold = true; /* the device takes nothing off the ring */
	boot();
	st.reply = true;
	uint8_t f[100];
	for (unsigned i = 0; i < 20; i++) {
		mkframe(f, sizeof(f), i);
		assert_int_equal(vfn_rx(&net, f, sizeof(f), NULL), 1);
	}
	unsigned kicks0 = dev.q[VFN_TXQ].notifies;
	poll_nd();
	assert_int_equal(st.nrx, 20);
	assert_int_equal(st.reply_err, -ENOSPC);
	assert_int_equal(st.tx_notifies_at_err, kicks0 + 1);
	assert_int_equal(vfn_tx_pending(&net), 16);
	assert_clean();
}
ISOLATED(test_tx_ring_full_in_a_batch_kicks_at_once)

/* csum_ok only with GUEST_CSUM and DATA_VALID or NEEDS_CSUM. */
static void rx_csum(uint64_t extra, const bool want[4])
{
	static const uint8_t flags[4] = {0, VFN_HDR_F_DATA_VALID, VFN_HDR_F_NEEDS_CSUM,
					 VFN_HDR_F_DATA_VALID | VFN_HDR_F_NEEDS_CSUM};
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS | extra, VFN_S_LINK_UP);
	boot();
	uint8_t f[100];
	mkframe(f, sizeof(f), 1);
	for (unsigned i = 0; i < 4; i++) {
		struct vfn_rx_opts o = {.flags = flags[i], .num_buffers = -1};
		assert_int_equal(vfn_rx(&net, f, sizeof(f), &o), 1);
		poll_nd();
		assert_int_equal(st.nrx, i + 1);
		if (st.rx[i].csum_ok != want[i])
			fail_msg("flags %#x: csum_ok %d, want %d", flags[i], st.rx[i].csum_ok, want[i]);
		assert_memory_equal(st.rx[i].data, f, sizeof(f));
	}
	assert_clean();
}

static void test_rx_csum_with_guest_csum(void **state)
{
	(void)state;
	static const bool want[4] = {false, true, true, true};
	rx_csum(F_GUEST_CSUM, want);
	assert_true(st.nd->features & NETDEV_F_RX_CSUM);
}
ISOLATED(test_rx_csum_with_guest_csum)

static void test_rx_csum_without_guest_csum(void **state)
{
	(void)state;
	static const bool want[4] = {false, false, false, false};
	rx_csum(0, want);
	assert_false(st.nd->features & NETDEV_F_RX_CSUM);
}
ISOLATED(test_rx_csum_without_guest_csum)

/* The stack keeps buffers (zero-copy): the ring stays full until the pool is exhausted;
 * rx_release gives them back and the next harvest posts them. */
static void test_rx_held_buffers(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	st.hold = true;
	uint8_t f[100];
	unsigned n = 0;
	/* up to POOL_EXTRA frames held: the ring is refilled from the rest of the pool */
	while (n < POOL_EXTRA) {
		for (unsigned i = 0; i < 32; i++, n++) {
			mkframe(f, sizeof(f), n);
			assert_int_equal(vfn_rx(&net, f, sizeof(f), NULL), 1);
		}
		poll_nd();
		assert_int_equal(st.nrx, n);
		assert_rx_ring_full();
	}
	/* tokens are distinct buffers */
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			assert_ptr_not_equal(st.rx[i].token, st.rx[j].token);
	/* the pool runs dry: the ring empties and no more frames can be received */
	for (unsigned i = 0; i < QSIZE; i++, n++) {
		mkframe(f, sizeof(f), n);
		assert_int_equal(vfn_rx(&net, f, sizeof(f), NULL), 1);
	}
	poll_nd();
	assert_int_equal(st.nrx, POOL_EXTRA + QSIZE);
	assert_int_equal(rx_posted(), 0);
	assert_int_equal(vfn_rx(&net, f, sizeof(f), NULL), -1);
	/* the frames the stack holds are intact (no buffer was reused under it) */
	for (unsigned i = 0; i < st.nrx; i++) {
		mkframe(f, sizeof(f), i);
		assert_memory_equal(st.rx[i].data, f, sizeof(f));
	}
	/* release: a harvest posts them again */
	for (unsigned i = 0; i < st.nrx; i++)
		st.nd->ops->rx_release(st.nd, st.rx[i].token);
	poll_nd();
	assert_rx_ring_full();
	st.hold = false;
	unsigned before = st.nrx;
	rx_roundtrip(100, 7);
	assert_int_equal(st.nrx, before + 1);
	assert_rx_ring_full();
	assert_clean();
}
ISOLATED(test_rx_held_buffers)

/* MRG_RXBUF: one frame spread over 3 buffers (num_buffers = 3) reaches the stack whole, once;
 * all three are refilled. */
static void test_rx_merged_frame(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS | F_MRG, VFN_S_LINK_UP);
	boot();
	uint8_t f[1514];
	mkframe(f, sizeof(f), 5);
	struct vfn_rx_opts o = {.spread = 3, .num_buffers = -1};
	assert_int_equal(vfn_rx(&net, f, sizeof(f), &o), 3);
	assert_int_equal(rx_posted(), QSIZE - 3);
	poll_nd();
	assert_int_equal(st.nrx, 1);
	assert_int_equal(st.rx[0].len, sizeof(f));
	assert_memory_equal(st.rx[0].data, f, sizeof(f));
	assert_rx_ring_full();
	/* a merged frame among single-buffer ones, held then released */
	st.hold = true;
	uint8_t g[300];
	mkframe(g, sizeof(g), 6);
	assert_int_equal(vfn_rx(&net, g, sizeof(g), NULL), 1);
	o.spread = 2;
	assert_int_equal(vfn_rx(&net, g, sizeof(g), &o), 2);
	assert_int_equal(vfn_rx(&net, f, 60, NULL), 1);
	poll_nd();
	assert_int_equal(st.nrx, 4);
	assert_int_equal(st.rx[1].len, 300);
	assert_int_equal(st.rx[2].len, 300);
	assert_memory_equal(st.rx[2].data, g, 300);
	assert_int_equal(st.rx[3].len, 60);
	assert_memory_equal(st.rx[3].data, f, 60);
	for (unsigned i = 1; i < 4; i++)
		st.nd->ops->rx_release(st.nd, st.rx[i].token);
	poll_nd();
	assert_rx_ring_full();
	assert_int_equal(st.nd->stats.rx_errors, 0);
	assert_false(vq(VFN_RXQ)->broken);
	assert_clean();
}
ISOLATED(test_rx_merged_frame)

/* Runts (used len < header + 14) and oversized frames are dropped and counted, never passed
 * up; the ring is refilled all the same. */
static void rx_bad_sizes(uint64_t extra)
{
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS | extra, VFN_S_LINK_UP);
	boot();
	uint8_t f[2100];
	mkframe(f, sizeof(f), 3);
	for (size_t len = 0; len < 14; len += 13) {
		assert_int_equal(vfn_rx(&net, f, len, NULL), 1);
		poll_nd();
	}
	assert_int_equal(st.nrx, 0);
	assert_int_equal(st.nd->stats.rx_errors, 2);
	assert_int_equal(vfn_rx(&net, f, 1519, NULL), 1);
	poll_nd();
	assert_int_equal(st.nrx, 0);
	assert_int_equal(st.nd->stats.rx_errors, 3);
	if (extra & F_MRG) {
		struct vfn_rx_opts o = {.spread = 2, .num_buffers = -1};
		assert_int_equal(vfn_rx(&net, f, 2000, &o), 2);
		poll_nd();
		assert_int_equal(st.nrx, 0);
		assert_int_equal(st.nd->stats.rx_errors, 4);
	}
	/* A used length shorter than the header: a runt (no num_buffers to read), not an
	 * oversized frame by an unsigned underflow. */
	struct vfn_rx_opts shorter = {.used_len = 5};
	unsigned errors = (unsigned)st.nd->stats.rx_errors;
	assert_int_equal(vfn_rx(&net, f, 100, &shorter), 1);
	poll_nd();
	assert_int_equal(st.nd->stats.rx_errors, errors + 1);
	char want[40];
	snprintf(want, sizeof(want), "(runts 3, oversize %u)", extra & F_MRG ? 2 : 1);
	if (!strstr(vfd_describe(), want))
		fail_msg("expected %s in:\n%s", want, vfd_describe());
	assert_int_equal(st.nd->stats.rx_packets, 0);
	assert_rx_ring_full();
	/* the boundaries pass */
	rx_roundtrip(14, 1);
	rx_roundtrip(1518, 2);
	assert_rx_ring_full();
	assert_false(vq(VFN_RXQ)->broken);
	assert_clean();
}

static void test_rx_runts_and_oversize(void **state)
{
	(void)state;
	rx_bad_sizes(0);
}
ISOLATED(test_rx_runts_and_oversize)

static void test_rx_runts_and_oversize_mrg(void **state)
{
	(void)state;
	rx_bad_sizes(F_MRG);
}
ISOLATED(test_rx_runts_and_oversize_mrg)

/* MRG_RXBUF lets the device divide a frame among its buffers as it likes (5.1.6.4.2): a first
 * buffer holding less than an Ethernet header is no runt when the frame is whole; a merged
 * frame that is short in total is one runt, and all its buffers go with it. */
static void test_rx_merged_small_first_buffer(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS | F_MRG, VFN_S_LINK_UP);
	boot();
	uint8_t f[60];
	mkframe(f, sizeof(f), 4);
	struct vfn_rx_opts o = {.spread = 6, .num_buffers = -1}; /* 12 + 10, then 5 x 10 */
	assert_int_equal(vfn_rx(&net, f, sizeof(f), &o), 6);
	poll_nd();
	assert_int_equal(st.nd->stats.rx_errors, 0);
	assert_int_equal(st.nrx, 1);
	assert_int_equal(st.rx[0].len, sizeof(f));
	assert_memory_equal(st.rx[0].data, f, sizeof(f));
	assert_rx_ring_full();
	/* 12 bytes in two buffers: one runt, both buffers consumed; the next frame is fine */
	o.spread = 2;
	assert_int_equal(vfn_rx(&net, f, 12, &o), 2);
	poll_nd();
	assert_int_equal(st.nrx, 1);
	assert_int_equal(st.nd->stats.rx_errors, 1);
	rx_roundtrip(100, 5);
	assert_int_equal(st.nd->stats.rx_errors, 1);
	assert_rx_ring_full();
	assert_false(vq(VFN_RXQ)->broken);
	assert_clean();
}
ISOLATED(test_rx_merged_small_first_buffer)

/* num_buffers larger than the buffers the device used: the queue is broken, nothing passed up,
 * no crash; the broken queue asks for a reset, and after it (virtio_maintain, the main loop's)
 * receiving and sending work again, with frames handed over before it given back as done. */
static void test_rx_num_buffers_too_large(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS | F_MRG, VFN_S_LINK_UP);
	boot();
	uint8_t f[1000];
	mkframe(f, sizeof(f), 1);
	net.tx_hold = true;
	assert_int_equal(tx_frame(60, 1, NULL, (void *)1), 0); /* in flight across the reset */
	struct vfn_rx_opts o = {.spread = 1, .num_buffers = 3};
	assert_int_equal(vfn_rx(&net, f, sizeof(f), &o), 1);
	poll_nd();
	assert_int_equal(st.nrx, 0);
	assert_true(vq(VFN_RXQ)->broken);
	poll_nd();
	struct virtio_device *vd = the_vd();
	assert_true(vd->reset_pending);
	assert_int_equal(st.ntx_done, 0);
	net.tx_hold = false;
	virtio_maintain();
	assert_int_equal(vd->resets, 1);
	assert_non_null(strstr(vd->reset_reason, "the rx queue broke"));
	assert_false(vd->failed);
	assert_int_equal(st.ntx_done, 1); /* the held frame, given back */
	assert_ptr_equal(st.tx_tokens[0], (void *)1);
	assert_int_equal(st.registered, 1); /* the same netdev, not a second one */
	assert_rx_ring_full();
	rx_roundtrip(100, 2);
	assert_int_equal(tx_frame(60, 3, NULL, (void *)3), 0);
	poll_nd();
	assert_int_equal(st.ntx_done, 2);
	assert_clean();
}
ISOLATED(test_rx_num_buffers_too_large)

/* A num_buffers beyond the ring is refused before it sizes an allocation (65535 x 2 KiB). */
static void test_rx_num_buffers_beyond_the_ring(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS | F_MRG, VFN_S_LINK_UP);
	boot();
	uint8_t f[100];
	mkframe(f, sizeof(f), 1);
	struct vfn_rx_opts o = {.spread = 1, .num_buffers = 65535};
	assert_int_equal(vfn_rx(&net, f, sizeof(f), &o), 1);
	poll_nd();
	assert_int_equal(st.nrx, 0);
	assert_true(vq(VFN_RXQ)->broken);
	assert_non_null(strstr(vq(VFN_RXQ)->broken_reason, "num_buffers larger than the ring"));
}
ISOLATED(test_rx_num_buffers_beyond_the_ring)

static void test_rx_num_buffers_zero(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS | F_MRG, VFN_S_LINK_UP);
	boot();
	uint8_t f[100];
	mkframe(f, sizeof(f), 1);
	struct vfn_rx_opts o = {.spread = 1, .num_buffers = 0};
	assert_int_equal(vfn_rx(&net, f, sizeof(f), &o), 1);
	poll_nd();
	assert_int_equal(st.nrx, 0);
	assert_true(st.nd->stats.rx_errors >= 1);
	assert_rx_ring_full();
	assert_clean();
}
ISOLATED(test_rx_num_buffers_zero)

/* A TX completion claiming bytes written (72) into a frame that had nothing device-writable:
 * counted and ignored, the frame done, transmit keeps working (Linux drops such checks too). */
static void test_tx_used_length_ignored(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	net.tx_used_len = 72;
	assert_int_equal(tx_frame(60, 1, NULL, (void *)1), 0);
	poll_nd();
	assert_int_equal(st.ntx_done, 1);
	assert_false(vq(VFN_TXQ)->broken);
	assert_int_equal(vq(VFN_TXQ)->stats.bad_len_ignored, 1);
	assert_int_equal(tx_frame(60, 2, NULL, (void *)2), 0);
	poll_nd();
	assert_int_equal(st.ntx_done, 2);
	assert_clean();
}
ISOLATED(test_tx_used_length_ignored)

/* DEVICE_NEEDS_RESET (2.1.1) on the NIC: reset and set up again behind the same netdev, with
 * the address kept and the receive ring full again. */
static void test_needs_reset_recovers(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS | F_MRG, VFN_S_LINK_UP);
	boot();
	dev.status |= 64;
	vfd_config_change(&dev);
	take_interrupts();
	assert_true(the_vd()->reset_pending);
	poll_nd(); /* does nothing harmful while the reset is pending */
	virtio_maintain();
	assert_int_equal(the_vd()->resets, 1);
	assert_memory_equal(st.nd->mac, MAC, 6);
	assert_int_equal(st.registered, 1);
	assert_rx_ring_full();
	rx_roundtrip(200, 4);
	assert_int_equal(st.in_irq_calls, 0);
	assert_clean();
}
ISOLATED(test_needs_reset_recovers)

/* A MAC that cannot be read consistently (the generation keeps changing) fails the probe. */
static void test_torn_mac_fails_the_probe(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	dev.gen_bumps = 100000;
	vfd_build(&dev, &fake);
	assert_int_equal(pci_init(fake.cfg_size), 2);
	assert_int_equal(virtio_pci_register(), 0);
	assert_int_equal(virtio_net_register(), 0);
	pci_probe_all();
	assert_null(st.nd);
	assert_true(vfd_log_has("cannot read a consistent MAC address"));
	assert_true(the_vd()->failed);
}
ISOLATED(test_torn_mac_fails_the_probe)

/* ======================================================================================== */
/* Link and MAC (5.1.4)                                                                       */

static void test_link_down_at_probe(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, 0);
	boot();
	assert_false(st.nd->link_up);
	assert_clean();
}
ISOLATED(test_link_down_at_probe)

static void test_link_up_without_status_feature(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC, 0); /* status field says down, but no F_STATUS */
	boot();
	assert_true(st.nd->link_up);
	assert_int_equal(tx_frame(60, 1, NULL, (void *)1), 0);
	assert_clean();
}
ISOLATED(test_link_up_without_status_feature)

/* A config-change interrupt with the status flipped: link_changed from poll, not from the
 * interrupt handler. */
static void link_change_irq(bool msix)
{
	if (!msix)
		virtio_pci_options.no_msix = true;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, 0);
	boot();
	assert_int_equal(the_vd()->irq_kind, msix ? VIRTIO_IRQ_PER_QUEUE : VIRTIO_IRQ_LINE);
	assert_false(st.nd->link_up);
	assert_int_equal(st.nlink, 0);
	vfn_set_status(&net, VFN_S_LINK_UP);
	unsigned wakes = vfd_wake_calls;
	take_interrupts();
	assert_int_equal(the_vd()->config_changes, 1);
	assert_int_equal(st.nlink, 0); /* not inside the interrupt */
	assert_true(vfd_wake_calls > wakes);
	poll_nd();
	assert_int_equal(st.nlink, 1);
	assert_true(st.link_state[0]);
	assert_true(st.nd->link_up);
	poll_nd();
	assert_int_equal(st.nlink, 1); /* once */
	vfn_set_status(&net, 0);
	take_interrupts();
	assert_int_equal(st.nlink, 1);
	poll_nd();
	assert_int_equal(st.nlink, 2);
	assert_false(st.link_state[1]);
	assert_int_equal(tx_frame(60, 1, NULL, (void *)1), -ENETDOWN);
	assert_int_equal(st.in_irq_calls, 0);
	assert_clean();
}

static void test_link_change_msix(void **state)
{
	(void)state;
	link_change_irq(true);
}
ISOLATED(test_link_change_msix)

static void test_link_change_intx(void **state)
{
	(void)state;
	link_change_irq(false);
}
ISOLATED(test_link_change_intx)

/* Poll mode: no config interrupt; the main loop's virtio_maintain() finds the ISR's config
 * bit (at most every 100 ms) and the next ops->poll tells the stack. */
static void test_link_change_poll_mode(void **state)
{
	(void)state;
	virtio_options.mode = VIRTIO_MODE_POLL;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	assert_true(st.nd->link_up);
	vfn_set_status(&net, 0);
	vfd_time_step_ns = 50000000; /* 50 ms per clock read */
	for (unsigned i = 0; i < 5 && !the_vd()->config_changes; i++) {
		virtio_maintain();
		assert_int_equal(st.nlink, 0); /* only ever from ops->poll */
	}
	assert_int_equal(the_vd()->config_changes, 1);
	poll_nd();
	assert_int_equal(st.nlink, 1);
	assert_false(st.link_state[0]);
	assert_false(st.nd->link_up);
	assert_int_equal(dev.msix_irqs + dev.intx_irqs, 0);
	assert_clean();
}
ISOLATED(test_link_change_poll_mode)

static void test_mac_from_config(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	assert_memory_equal(st.nd->mac, MAC, 6);
	assert_clean();
}
ISOLATED(test_mac_from_config)

static void test_mac_legacy_from_config(void **state)
{
	(void)state;
	model(VFD_LEGACY, RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	assert_memory_equal(st.nd->mac, MAC, 6);
	assert_true(st.nd->link_up);
	assert_clean();
}
ISOLATED(test_mac_legacy_from_config)

/* Without F_MAC: a locally administered unicast address (bit 1 set, bit 0 clear of the first
 * octet), not the config's. The address is random, so the probe runs under several seeds
 * (each in a child of its own) for a wrong bit to show whatever the draw. */
static void test_mac_without_feature(void **state)
{
	(void)state;
	/* Boots at different moments (the clock moved on by i ms) get different addresses, each
	 * locally administered unicast; rand() is never seeded this early, so it cannot be the
	 * source. */
	uint8_t macs[16][6];
	for (unsigned i = 0; i < 16; i++) {
		int fd[2];
		assert_int_equal(pipe(fd), 0);
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			for (unsigned k = 0; k < i * 1000; k++)
				virtio_time_ns();
			model(VFD_MODERN, F_V1 | RING_F | F_STATUS, VFN_S_LINK_UP);
			boot();
			const uint8_t *mac = st.nd->mac;
			bool ok = !(mac[0] & 1) && (mac[0] & 2) && !dev.nviolations;
			_exit(write(fd[1], mac, 6) == 6 && ok ? 0 : 1);
		}
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("boot %u: not a locally administered unicast address", i);
		assert_int_equal(read(fd[0], macs[i], 6), 6);
		close(fd[0]);
		close(fd[1]);
		for (unsigned j = 0; j < i; j++)
			if (memcmp(macs[i], macs[j], 6) == 0)
				fail_msg("boots %u and %u got the same address", j, i);
	}
}
ISOLATED(test_mac_without_feature)

/* ======================================================================================== */
/* Control queue (5.1.6.5)                                                                   */

static void ctrl_model(uint64_t extra)
{
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS | extra, VFN_S_LINK_UP);
	boot();
}

static void promisc(enum virtio_mode mode)
{
	virtio_options.mode = mode;
	ctrl_model(F_CTRL_VQ | F_CTRL_RX);
	net.ctrl_ack = 0;
	assert_int_equal(st.nd->ops->set_promisc(st.nd, true), 0);
	assert_int_equal(net.nctrl, 1);
	assert_int_equal(net.ctrl[0].cls, 0); /* VIRTIO_NET_CTRL_RX */
	assert_int_equal(net.ctrl[0].cmd, 0); /* VIRTIO_NET_CTRL_RX_PROMISC */
	assert_int_equal(net.ctrl[0].len, 1);
	assert_int_equal(net.ctrl[0].data[0], 1);
	assert_int_equal(st.nd->ops->set_promisc(st.nd, false), 0);
	assert_int_equal(net.ctrl[1].len, 1);
	assert_int_equal(net.ctrl[1].data[0], 0);
	net.ctrl_ack = 1; /* VIRTIO_NET_ERR */
	assert_int_equal(st.nd->ops->set_promisc(st.nd, true), -EIO);
	net.ctrl_ack = 0;
	assert_int_equal(st.nd->ops->set_promisc(st.nd, true), 0);
	assert_int_equal(net.nctrl, 4);
	assert_int_equal(st.in_irq_calls, 0);
	assert_clean();
}

static void test_ctrl_promisc(void **state)
{
	(void)state;
	promisc(VIRTIO_MODE_IRQ);
}
ISOLATED(test_ctrl_promisc)

static void test_ctrl_promisc_poll(void **state)
{
	(void)state;
	promisc(VIRTIO_MODE_POLL);
	assert_int_equal(dev.msix_irqs + dev.intx_irqs, 0);
}
ISOLATED(test_ctrl_promisc_poll)

static void test_ctrl_without_ctrl_rx(void **state)
{
	(void)state;
	ctrl_model(F_CTRL_VQ);
	assert_int_equal(st.nd->ops->set_promisc(st.nd, true), -EOPNOTSUPP);
	assert_int_equal(st.nd->ops->set_mac_filter(st.nd, NULL, 0), -EOPNOTSUPP);
	assert_int_equal(net.nctrl, 0);
	assert_clean();
}
ISOLATED(test_ctrl_without_ctrl_rx)

static void test_ctrl_without_ctrl_vq(void **state)
{
	(void)state;
	ctrl_model(F_CTRL_RX); /* CTRL_RX needs CTRL_VQ: not offered, no control queue */
	assert_int_equal(dev.num_queues, 2);
	/* 5.1.3.1: CTRL_RX is offered but must not be accepted without CTRL_VQ. */
	assert_true(the_vd()->device_features & F_CTRL_RX);
	assert_false(the_vd()->features & F_CTRL_RX);
	assert_int_equal(st.nd->ops->set_promisc(st.nd, true), -EOPNOTSUPP);
	assert_int_equal(net.nctrl, 0);
	assert_clean();
}
ISOLATED(test_ctrl_without_ctrl_vq)

/* MAC_TABLE_SET: unicast table then multicast table, each le32 entries + 6-byte addresses. */
static void test_ctrl_mac_filter(void **state)
{
	(void)state;
	ctrl_model(F_CTRL_VQ | F_CTRL_RX);
	static const uint8_t extra[2][6] = {{0x02, 1, 2, 3, 4, 5}, {0x02, 6, 7, 8, 9, 10}};
	assert_int_equal(st.nd->ops->set_mac_filter(st.nd, extra, 2), 0);
	assert_int_equal(net.nctrl, 1);
	const struct vfn_ctrl_cmd *c = &net.ctrl[0];
	assert_int_equal(c->cls, 1); /* VIRTIO_NET_CTRL_MAC */
	assert_int_equal(c->cmd, 0); /* VIRTIO_NET_CTRL_MAC_TABLE_SET */
	uint8_t want[4 + 3 * 6 + 4] = {3, 0, 0, 0};
	memcpy(want + 4, MAC, 6);
	memcpy(want + 10, extra[0], 6);
	memcpy(want + 16, extra[1], 6);
	/* multicast: 0 entries */
	assert_int_equal(c->len, sizeof(want));
	assert_memory_equal(c->data, want, sizeof(want));
	net.ctrl_ack = 1;
	assert_int_equal(st.nd->ops->set_mac_filter(st.nd, extra, 0), -EIO);
	uint8_t want0[4 + 6 + 4] = {1, 0, 0, 0};
	memcpy(want0 + 4, MAC, 6);
	assert_int_equal(net.ctrl[1].len, sizeof(want0));
	assert_memory_equal(net.ctrl[1].data, want0, sizeof(want0));
	assert_clean();
}
ISOLATED(test_ctrl_mac_filter)

/* ======================================================================================== */
/* Interrupts and polling                                                                    */

/* Poll mode: no interrupts wired or raised; poll harvests RX and TX. */
static void test_poll_mode(void **state)
{
	(void)state;
	virtio_options.mode = VIRTIO_MODE_POLL;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	assert_int_equal(the_vd()->irq_kind, VIRTIO_IRQ_NONE);
	assert_int_equal(vfd_irq_allocs, 0);
	for (unsigned i = 0; i < 10; i++) {
		rx_roundtrip(60 + i, i);
		assert_int_equal(tx_frame(60, i, NULL, (void *)(uintptr_t)(i + 1)), 0);
	}
	poll_nd();
	assert_int_equal(st.ntx_done, 10);
	take_interrupts();
	assert_int_equal(dev.q[VFN_RXQ].irqs + dev.q[VFN_TXQ].irqs, 0);
	assert_int_equal(dev.msix_irqs + dev.intx_irqs, 0);
	assert_rx_ring_full();
	assert_clean();
}
ISOLATED(test_poll_mode)

/* IRQ mode (no EVENT_IDX, so suppression is visible in avail->flags): an RX interrupt disables
 * the queue's interrupts and wakes the main loop, without calling the stack; poll delivers
 * and re-enables. */
static void test_irq_mode_disable_wake_reenable(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | F_INDIRECT | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	assert_int_equal(the_vd()->irq_kind, VIRTIO_IRQ_PER_QUEUE);
	struct vfd_ring r;
	assert_true(vfd_ring(&dev, VFN_RXQ, &r));
	uint16_t *flags = (uint16_t *)r.avail;
	assert_int_equal(*flags & VRING_AVAIL_F_NO_INTERRUPT, 0); /* wants interrupts */
	uint8_t f[200];
	mkframe(f, sizeof(f), 1);
	assert_int_equal(vfn_rx(&net, f, sizeof(f), NULL), 1);
	assert_int_equal(dev.q[VFN_RXQ].irqs, 1);
	unsigned wakes = vfd_wake_calls;
	take_interrupts();
	assert_int_equal(dev.msix_irqs, 1);
	assert_int_equal(st.nrx, 0);                               /* not from the handler */
	assert_true(vfd_wake_calls > wakes);                       /* main loop woken */
	assert_int_equal(*flags & VRING_AVAIL_F_NO_INTERRUPT, 1);  /* callbacks disabled */
	/* a second frame meanwhile: no interrupt asked for */
	assert_int_equal(vfn_rx(&net, f, 100, NULL), 1);
	assert_int_equal(dev.q[VFN_RXQ].irqs, 1);
	poll_nd();
	assert_int_equal(st.nrx, 2);
	assert_memory_equal(st.rx[0].data, f, sizeof(f));
	assert_int_equal(*flags & VRING_AVAIL_F_NO_INTERRUPT, 0); /* re-enabled */
	assert_rx_ring_full();
	/* TX completions likewise */
	assert_int_equal(tx_frame(60, 1, NULL, (void *)1), 0);
	take_interrupts();
	assert_int_equal(st.ntx_done, 0);
	poll_nd();
	assert_int_equal(st.ntx_done, 1);
	/* next frame interrupts again */
	assert_int_equal(vfn_rx(&net, f, 60, NULL), 1);
	assert_int_equal(dev.q[VFN_RXQ].irqs, 2);
	take_interrupts();
	poll_nd();
	assert_int_equal(st.nrx, 3);
	assert_int_equal(st.in_irq_calls, 0);
	assert_clean();
}
ISOLATED(test_irq_mode_disable_wake_reenable)

/* IRQ mode with EVENT_IDX: frames arriving while the main loop works are not lost. */
static void test_irq_mode_event_idx(void **state)
{
	(void)state;
	model(VFD_MODERN, F_V1 | RING_F | F_MAC | F_STATUS, VFN_S_LINK_UP);
	boot();
	uint8_t f[200];
	mkframe(f, sizeof(f), 1);
	for (unsigned i = 0; i < 3 * QSIZE; i++) {
		assert_int_equal(vfn_rx(&net, f, 60 + i % 100, NULL), 1);
		if (i % 5 == 4) {
			take_interrupts();
			poll_nd();
			assert_int_equal(st.nrx, i + 1);
		}
	}
	take_interrupts();
	poll_nd();
	assert_int_equal(st.nrx, 3 * QSIZE);
	assert_true(dev.q[VFN_RXQ].irqs > 0);
	assert_int_equal(st.in_irq_calls, 0);
	assert_rx_ring_full();
	assert_clean();
}
ISOLATED(test_irq_mode_event_idx)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_ring_full_in_a_batch_kicks_at_once_isolated),
		cmocka_unit_test(test_tx_replies_to_a_batch_take_one_kick_isolated),
		cmocka_unit_test(test_modern_header_is_12_isolated),
		cmocka_unit_test(test_legacy_header_is_10_isolated),
		cmocka_unit_test(test_legacy_no_any_layout_header_descriptor_isolated),
		cmocka_unit_test(test_legacy_no_any_layout_no_indirect_isolated),
		cmocka_unit_test(test_legacy_mrg_header_is_12_isolated),
		cmocka_unit_test(test_tx_header_without_csum_isolated),
		cmocka_unit_test(test_tx_header_with_csum_isolated),
		cmocka_unit_test(test_tx_fragments_in_order_isolated),
		cmocka_unit_test(test_tx_fragments_in_order_no_indirect_isolated),
		cmocka_unit_test(test_tx_done_after_device_used_isolated),
		cmocka_unit_test(test_tx_bad_sizes_isolated),
		cmocka_unit_test(test_tx_full_ring_isolated),
		cmocka_unit_test(test_tx_full_ring_chains_isolated),
		cmocka_unit_test(test_tx_link_down_isolated),
		cmocka_unit_test(test_rx_buffers_and_refill_isolated),
		cmocka_unit_test(test_rx_csum_with_guest_csum_isolated),
		cmocka_unit_test(test_rx_csum_without_guest_csum_isolated),
		cmocka_unit_test(test_rx_held_buffers_isolated),
		cmocka_unit_test(test_rx_merged_frame_isolated),
		cmocka_unit_test(test_rx_runts_and_oversize_isolated),
		cmocka_unit_test(test_rx_runts_and_oversize_mrg_isolated),
		cmocka_unit_test(test_rx_merged_small_first_buffer_isolated),
		cmocka_unit_test(test_rx_num_buffers_too_large_isolated),
		cmocka_unit_test(test_rx_num_buffers_beyond_the_ring_isolated),
		cmocka_unit_test(test_rx_num_buffers_zero_isolated),
		cmocka_unit_test(test_tx_used_length_ignored_isolated),
		cmocka_unit_test(test_needs_reset_recovers_isolated),
		cmocka_unit_test(test_torn_mac_fails_the_probe_isolated),
		cmocka_unit_test(test_link_down_at_probe_isolated),
		cmocka_unit_test(test_link_up_without_status_feature_isolated),
		cmocka_unit_test(test_link_change_msix_isolated),
		cmocka_unit_test(test_link_change_intx_isolated),
		cmocka_unit_test(test_link_change_poll_mode_isolated),
		cmocka_unit_test(test_mac_from_config_isolated),
		cmocka_unit_test(test_mac_legacy_from_config_isolated),
		cmocka_unit_test(test_mac_without_feature_isolated),
		cmocka_unit_test(test_ctrl_promisc_isolated),
		cmocka_unit_test(test_ctrl_promisc_poll_isolated),
		cmocka_unit_test(test_ctrl_without_ctrl_rx_isolated),
		cmocka_unit_test(test_ctrl_without_ctrl_vq_isolated),
		cmocka_unit_test(test_ctrl_mac_filter_isolated),
		cmocka_unit_test(test_poll_mode_isolated),
		cmocka_unit_test(test_irq_mode_disable_wake_reenable_isolated),
		cmocka_unit_test(test_irq_mode_event_idx_isolated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
