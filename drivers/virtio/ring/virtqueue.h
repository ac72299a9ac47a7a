/*
 * The shared virtqueue core, used by virtio-blk, virtio-net, virtio-rng and any later device:
 * split rings (VIRTIO 1.2 section 2.7, virtqueue_split.c) and packed rings (2.8,
 * virtqueue_packed.c) behind one API, each with or without VIRTIO_F_IN_ORDER. Design notes,
 * the indirect policy, the notification rules and the hardening rules are in docs/VRING.md.
 *
 * Life cycle of a request:
 *   virtqueue_add()            chain (or indirect table) written, not yet visible to the device
 *   virtqueue_kick_prepare()   publishes avail->idx for everything added; says whether to notify
 *   virtqueue_notify()         calls the transport's notify callback
 *   ... device completes ...
 *   virtqueue_interrupt()      from the transport's IRQ handler: counts, calls the callback
 *   virtqueue_get_buf()        returns (token, length) of a completed request, recycles it
 *
 * Concurrency: no internal locking; the caller serialises all calls on one queue.
 * Errors: negative errno values from <errno.h>.
 */
#ifndef VIREO_VIRTQUEUE_H
#define VIREO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/ring/vq_state.h" /* struct virtqueue, struct vq_sg */

enum virtqueue_layout {
	/* Legacy (virtio 0.9.5 / legacy PCI): one contiguous area, used ring at the next 4096
	 * boundary; the transport programs the page frame number (virtqueue_legacy_pfn). */
	VIRTQUEUE_LAYOUT_LEGACY,
	/* Modern (virtio 1.x): three areas, 16/2/4 aligned, programmed separately
	 * (virtqueue_desc_phys / virtqueue_avail_phys / virtqueue_used_phys). */
	VIRTQUEUE_LAYOUT_MODERN,
};

/* Default and limit of the per-request indirect table (entries). */
#define VIRTQUEUE_INDIRECT_DEFAULT_MAX 16

struct virtqueue_config {
	const char *name;    /* for log messages; must outlive the queue (may be NULL) */
	unsigned int index;  /* queue index within the device, for the transport's notify */
	unsigned int num;    /* queue size: 1..32768, a power of two for split (legacy: the
				device's size) */
	enum virtqueue_layout layout; /* split only; a packed queue is always laid out modern */
	bool packed;         /* VIRTIO_F_RING_PACKED negotiated: the packed format (2.8) */
	bool in_order;       /* VIRTIO_F_IN_ORDER negotiated (2.7.9, 2.8.8): descriptors and
				buffer ids in ring order, a used entry may complete a batch */
	bool indirect;       /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool event_idx;      /* VIRTIO_RING_F_EVENT_IDX negotiated */
	/* Indirect tables: at most indirect_max entries (0: VIRTQUEUE_INDIRECT_DEFAULT_MAX,
	 * capped at num), used for requests of at least indirect_min segments (0: 2). */
	unsigned int indirect_max;
	unsigned int indirect_min;
	/* Transport: tell the device that queue `index` has new buffers. Required. */
	void (*notify)(struct virtqueue *vq);
	/* Device driver: used buffers are available (called from virtqueue_interrupt). May be
	 * NULL for a polled queue. */
	void (*callback)(struct virtqueue *vq);
	void *priv; /* for the callbacks: vq->priv */
};

/*
 * Create a queue: allocates the ring (zeroed, from virtio_dma_alloc), the indirect table slab
 * (when cfg->indirect) and the driver-private state. The queue starts with interrupts enabled.
 * Returns 0 and stores the queue in *out, or -EINVAL (bad num / missing notify / packed with the
 * legacy layout), -ENOMEM.
 * The caller owns the queue and frees it with virtqueue_destroy. cfg is copied.
 */
int virtqueue_create(const struct virtqueue_config *cfg, struct virtqueue **out);

/*
 * Free everything virtqueue_create allocated. Precondition: the device no longer uses the
 * queue (device reset or queue disabled); tokens still in flight are not returned -- call
 * virtqueue_detach_unused first to get them back. vq may be NULL.
 */
void virtqueue_destroy(struct virtqueue *vq);

/*
 * Queue a request: sg[0 .. out-1] device-readable, then sg[out .. out+in-1] device-writable
 * (the spec wants readable before writable; this signature guarantees it). token (non-NULL)
 * comes back from virtqueue_get_buf. Nothing is visible to the device until
 * virtqueue_kick_prepare/virtqueue_kick. Uses one INDIRECT descriptor when negotiated and
 * out + in is between indirect_min and indirect_max (docs/VRING.md), otherwise a chain.
 * Returns 0, -EINVAL (out + in == 0, NULL token, chain longer than the queue, writable total
 * over 4 GiB), -ENOSPC (not enough free descriptors: harvest and retry), -EIO (queue broken).
 * The buffers belong to the device until the token is returned.
 */
int virtqueue_add(struct virtqueue *vq, const struct vq_sg *sg, unsigned int out, unsigned int in,
		  void *token);

/*
 * Publish every request added since the last call (one avail->idx store) and decide whether the
 * device must be notified: without EVENT_IDX unless the device set VRING_USED_F_NO_NOTIFY; with
 * EVENT_IDX when avail_event lies in the range published since the last decision.
 * Returns true when the caller must call virtqueue_notify (false also when broken or nothing
 * was added). Counts kicks_suppressed.
 */
bool virtqueue_kick_prepare(struct virtqueue *vq);

/* Call the transport's notify callback. Returns false (and does nothing) if the queue is broken.
 * Counts kicks. May be called without the caller's queue lock held, after kick_prepare. */
bool virtqueue_notify(struct virtqueue *vq);

/* virtqueue_kick_prepare() then, if needed, virtqueue_notify(). Returns true if notified. */
bool virtqueue_kick(struct virtqueue *vq);

/*
 * Harvest one completed request: returns its token and stores in *len (may be NULL) the number
 * of bytes the device wrote (already checked to be at most the device-writable bytes offered;
 * data beyond it is not meaningful). The descriptors are recycled. Returns NULL when nothing is
 * pending or the queue is broken (a device protocol violation found here breaks it).
 */
void *virtqueue_get_buf(struct virtqueue *vq, uint32_t *len);

/* Ask the device not to interrupt (best effort: it may still do so; the handler copes). */
void virtqueue_disable_cb(struct virtqueue *vq);

/*
 * Ask for an interrupt on the next used buffer, then (after a full barrier) re-check the used
 * ring. Returns true when nothing is pending (safe to wait for the interrupt); false when
 * buffers were used meanwhile -- the caller must harvest them (virtqueue_get_buf) and may call
 * again, otherwise it could wait for an interrupt that was never sent. Returns true on a broken
 * queue (there is nothing to harvest; check virtqueue_is_broken).
 */
bool virtqueue_enable_cb(struct virtqueue *vq);

/*
 * Like virtqueue_enable_cb, but with EVENT_IDX ask for the interrupt only after about 3/4 of
 * the buffers now outstanding are used (fewer interrupts for a TX-style queue that is reaped
 * lazily). Without EVENT_IDX this is virtqueue_enable_cb. Returns false when more than that
 * many are already used (harvest now), true otherwise.
 */
bool virtqueue_enable_cb_delayed(struct virtqueue *vq);

/* True when used buffers are waiting to be harvested. Never sleeps, needs no interrupt; false
 * on a broken queue. */
bool virtqueue_poll(const struct virtqueue *vq);

/*
 * For the transport's interrupt handler (after it acked the device's interrupt status): counts
 * the interrupt; if new used buffers are pending calls the queue's callback and returns true;
 * returns false for a spurious interrupt (nothing new; counted) or a broken queue.
 */
bool virtqueue_interrupt(struct virtqueue *vq);

/* True once the device broke the protocol; vq->broken_reason says how. Sticky. */
bool virtqueue_is_broken(const struct virtqueue *vq);

/* Mark the queue broken (e.g. by a transport that saw DEVICE_NEEDS_RESET); reason is copied. */
void virtqueue_break(struct virtqueue *vq, const char *reason);

/*
 * After the device was reset: return the token of one request still owned by the queue (added
 * but never harvested) and recycle its descriptors; NULL when there is none left. Works on a
 * broken queue. Afterwards the queue may only be destroyed.
 */
void *virtqueue_detach_unused(struct virtqueue *vq);

/* Free ring descriptors (a request needs 1 with indirect, else one per segment). */
unsigned int virtqueue_num_free(const struct virtqueue *vq);
/* Queue size. */
unsigned int virtqueue_size(const struct virtqueue *vq);

/* For the modern transport: physical addresses of the three parts (queue_desc, queue_driver,
 * queue_device in the common configuration): split: descriptor table, available ring, used
 * ring; packed: descriptor ring, driver event suppression, device event suppression. */
uint64_t virtqueue_desc_phys(const struct virtqueue *vq);
uint64_t virtqueue_avail_phys(const struct virtqueue *vq);
uint64_t virtqueue_used_phys(const struct virtqueue *vq);
/* For the legacy transport: page frame number (physical address >> 12) of the whole area.
 * Only meaningful for VIRTQUEUE_LAYOUT_LEGACY. The legacy PCI register is 32 bits wide: the
 * transport must refuse (-EIO) a value above UINT32_MAX (ring above 16 TiB). */
uint64_t virtqueue_legacy_pfn(const struct virtqueue *vq);

/* "split" or "packed", with " in-order" when IN_ORDER is on: for the logs. */
const char *virtqueue_format(const struct virtqueue *vq);

/*
 * TEST ONLY (split): start the free-running indices at idx instead of 0 (to test the 65535 -> 0 wrap
 * without 65536 requests). Writes avail->idx and, standing in for a freshly reset device,
 * used->idx and avail_event. Only on a fresh queue before anything was added and before the
 * device reads the ring; returns 0 or -EINVAL. Real devices start at 0: never use it in a driver.
 */
int virtqueue_test_set_indices(struct virtqueue *vq, uint16_t idx);

#endif /* VIREO_VIRTQUEUE_H */
