/*
 * A virtio-net device (VIRTIO 1.2, 5.1) on top of the register-level virtio-pci model of
 * virtio_fake_dev.c, playing QEMU's virtio-net for the host tests of drivers/virtio/net/virtio_net.c.
 *
 * It hooks the model's queue processing (vfd.queue_hook) and reads the split rings from guest
 * memory by the spec's layout, never through the driver's structures:
 *   receiveq1 (0)  buffers stay with the device until the test injects a frame (vfn_rx): the
 *                  header (10 or 12 bytes as the negotiated features say) and the frame are
 *                  written into the next posted buffer(s), spread over several with MRG_RXBUF;
 *   transmitq1 (1) chains are consumed on notify (or held, tx_hold, until vfn_tx_complete):
 *                  header and fragments are parsed and recorded;
 *   controlq (2)   class, command and data are recorded and answered with ctrl_ack.
 * Spec breaches it can see (a header not in its own descriptor on a legacy device without
 * ANY_LAYOUT, writable TX descriptors, a bad control layout) are recorded as violations of
 * the underlying model, so a test's "no violations" check covers them too.
 */
#ifndef VIREO_TESTS_VIRTIO_FAKE_NET_H
#define VIREO_TESTS_VIRTIO_FAKE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/host/virtio_fake_dev.h"

#define VFN_RXQ 0
#define VFN_TXQ 1
#define VFN_CTRLQ 2
#define VFN_MAX_SEGS 48
#define VFN_TX_KEEP 64 /* TX frames kept (the last ones) */
#define VFN_CTRL_KEEP 8

/* Spec constants (5.1.3, 5.1.6), written out rather than taken from the driver. */
#define VFN_F_CSUM 0
#define VFN_F_GUEST_CSUM 1
#define VFN_F_MAC 5
#define VFN_F_MRG_RXBUF 15
#define VFN_F_STATUS 16
#define VFN_F_CTRL_VQ 17
#define VFN_F_CTRL_RX 18
#define VFN_F_ANY_LAYOUT 27
#define VFN_F_INDIRECT 28
#define VFN_F_EVENT_IDX 29
#define VFN_F_VERSION_1 32
#define VFN_S_LINK_UP 1
#define VFN_HDR_F_NEEDS_CSUM 1
#define VFN_HDR_F_DATA_VALID 2

struct vfn_tx_frame {
	uint8_t hdr[12];      /* the header as read (hdr_len bytes of it) */
	unsigned hdr_len;     /* what the device expected, from the negotiated features */
	uint8_t data[2048];   /* the frame: every readable byte after the header */
	size_t len;
	unsigned nsegs;       /* readable descriptors (inside an indirect table if used) */
	uint32_t seg_len[VFN_MAX_SEGS];
};

struct vfn_ctrl_cmd {
	uint8_t cls, cmd;
	uint8_t data[256];
	size_t len;
	unsigned nsegs_out, in_len; /* readable descriptors; writable bytes (the ack) */
};

struct vfn_rx_opts {
	uint8_t flags;      /* virtio_net_hdr.flags */
	unsigned spread;    /* buffers to spread the frame over (MRG_RXBUF); 0 or 1: one */
	int num_buffers;    /* written into num_buffers; < 0: the number of buffers used */
	uint32_t used_len;  /* > 0: the used length the first buffer reports, whatever it holds */
};

struct vfn {
	struct vfd *m;
	/* ---- behaviour ---- */
	bool tx_hold;     /* leave TX chains in the ring until vfn_tx_complete */
	uint32_t tx_used_len; /* the used length TX completions report (the spec's: 0) */
	uint8_t ctrl_ack; /* 0 OK, 1 ERR */
	/* ---- records ---- */
	struct vfn_tx_frame tx[VFN_TX_KEEP]; /* frame i at tx[i % VFN_TX_KEEP] */
	unsigned ntx;
	struct vfn_ctrl_cmd ctrl[VFN_CTRL_KEEP];
	unsigned nctrl;
	unsigned rx_frames;        /* frames injected */
	uint32_t rx_last_first_seg; /* first writable descriptor of the last buffer filled */
};

/* vfd_init for a virtio-net device of `kind` offering exactly `features`: 2 queues (3 with
 * CTRL_VQ) of 64, config {mac, status} (12 bytes: mac, status, max_virtqueue_pairs 1, mtu
 * 1500), 4 MSI-X entries, and the hook. Call vfd_build afterwards. */
void vfn_init(struct vfn *n, struct vfd *m, enum vfd_kind kind, uint64_t features,
	      const uint8_t mac[6], uint16_t status);
/* Header length the device uses now (5.1.6: 12 with VERSION_1 or MRG_RXBUF, else 10). */
unsigned vfn_hdr_len(const struct vfn *n);
/* The device's view of the receive queue: buffers posted and not yet used, the ring
 * descriptors they occupy (an indirect table counts 1), the smallest writable size. */
void vfn_rx_scan(struct vfn *n, unsigned *bufs, unsigned *descs, uint32_t *min_bytes);
/* A frame arrives: written (header + frame) into the next posted buffer(s), used, and the
 * interrupt raised if the ring asks for one (delivered by vfd_deliver / virtio_idle). Returns
 * the buffers used, -1 when there are not enough posted (nothing is consumed then) or the
 * frame does not fit. */
int vfn_rx(struct vfn *n, const void *frame, size_t len, const struct vfn_rx_opts *o);
/* Consume up to max TX chains (parse, record, used with len 0); returns how many. */
unsigned vfn_tx_complete(struct vfn *n, unsigned max);
/* TX chains posted and not yet consumed. */
unsigned vfn_tx_pending(struct vfn *n);
/* Change the config status field and raise a config-change notification. */
void vfn_set_status(struct vfn *n, uint16_t status);
/* The last TX frame / control command recorded. */
const struct vfn_tx_frame *vfn_tx_last(const struct vfn *n);

#endif
