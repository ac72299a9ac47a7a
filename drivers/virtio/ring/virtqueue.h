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

#include "drivers/virtio/ring/virtio_ring.h"
#include "drivers/virtio/ring/virtio_ring_packed.h"

struct virtqueue;

/* One scatter-gather segment: a physically contiguous buffer (virtual address, translated by
 * virtio_virt_to_phys). */
struct vq_sg {
	const void *addr;
	uint32_t len;
};

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

/* Per-queue counters; monotonically increasing, never reset by the core. */
struct virtqueue_stats {
	uint64_t added;            /* requests accepted by virtqueue_add */
	uint64_t completed;        /* requests returned by virtqueue_get_buf */
	uint64_t kicks;            /* notifications sent (virtqueue_notify) */
	uint64_t kicks_suppressed; /* publishes where the device said it needs no notification */
	uint64_t interrupts;       /* virtqueue_interrupt calls */
	uint64_t callbacks;        /* ... of which ran the callback (new used entries) */
	uint64_t spurious;         /* ... of which found nothing new */
	uint64_t indirect;         /* requests sent as one INDIRECT descriptor */
};

/* Driver-private bookkeeping for one request (the shadow the device cannot touch), indexed by
 * the chain's head descriptor (split) or by its buffer id (packed). */
struct vq_head_state {
	void *token;     /* caller's token; NULL when this index is not in flight */
	uint32_t in_len; /* device-writable bytes offered: bound for used len */
	uint16_t ndesc;  /* ring descriptors the request occupies (1 when indirect) */
	uint16_t last;   /* split: last descriptor of the chain, to splice it back on the free
			    list; packed: ring position of the first descriptor */
	uint16_t avail_pos; /* split: avail index the head was placed at (to reject
			       never-published ids); packed: the first descriptor's flags, stored
			       when the request is published */
	uint16_t next;   /* packed: the next id on the free list or in the unpublished FIFO */
	bool published;  /* packed: its first descriptor was made available */
};

enum vq_cb_state {
	VQ_CB_DISABLED, /* no interrupts wanted (best effort: the device may still send some) */
	VQ_CB_ENABLED,  /* interrupt on the next used buffer */
	VQ_CB_DELAYED,  /* interrupt once ~3/4 of the outstanding buffers are used */
};

/*
 * The queue. Users may read the fields of the first block (name, index, num, priv, broken,
 * broken_reason, stats); everything else is private to virtqueue.c.
 */
struct virtqueue {
	const char *name;
	unsigned int index;
	unsigned int num;
	void *priv;
	bool broken;            /* sticky: the device broke the protocol; see broken_reason */
	char broken_reason[160];
	struct virtqueue_stats stats;

	/* ---- private ---- */
	void (*notify)(struct virtqueue *vq);
	void (*callback)(struct virtqueue *vq);
	bool legacy, packed, in_order, indirect, event_idx;
	unsigned int indirect_max, indirect_min;
	enum vq_cb_state cb_state;
	uint16_t num_free;      /* free ring descriptors */
	struct vq_head_state *heads; /* [num] */
	/* An in-order batch being handed out (VIRTIO_F_IN_ORDER): one used entry named the
	 * last buffer of a batch; buffers up to it come back one per get_buf. */
	bool batch;
	uint16_t batch_last;    /* head (split) or id (packed) of the batch's last buffer */
	uint32_t batch_len;     /* its used length (the others count as fully used) */

	/* split (2.7) */
	struct vring vring;     /* the shared memory (device-visible) */
	uint16_t free_head;     /* first free descriptor; chain continues through next_shadow
				   (in order: the next descriptor in ring order) */
	uint16_t avail_idx_shadow;    /* avail index the next add will use */
	uint16_t avail_idx_published; /* last value stored to avail->idx (and kick decision) */
	uint16_t last_used;     /* used index of the next entry to harvest */
	uint16_t avail_flags_shadow;  /* what we last wrote to avail->flags */
	uint16_t *next_shadow;  /* [num] our own copy of every descriptor's next */
	uint16_t oldest;        /* in order: head (split) or id (packed) of the oldest request */

	/* packed (2.8) */
	struct vring_packed_desc *pdesc;                /* [num] the descriptor ring */
	struct vring_packed_desc_event *driver_event;   /* written by us, read by the device */
	struct vring_packed_desc_event *device_event;   /* written by the device */
	uint16_t next_avail;    /* ring position of the next descriptor to fill */
	bool avail_wrap;        /* the Driver Ring Wrap Counter at next_avail */
	uint16_t pub_pos;       /* position after the last published descriptor */
	bool pub_wrap;          /* ... and the wrap counter there */
	uint16_t next_used;     /* position of the next used descriptor to look at */
	bool used_wrap;         /* the wrap counter a used descriptor there carries */
	uint16_t free_id;       /* first free buffer id (heads[].next); in order: the next id */
	uint16_t pend_first, pend_last; /* ids added but not yet published, oldest first */
	uint16_t in_flight;     /* descriptors published and not yet used */
	uint16_t event_flags_shadow; /* what we last wrote to driver_event->flags */

	struct vring_desc *indirect_slab; /* [num][indirect_max] split tables (packed: the same
					     16-byte entries), one table per head or id */
	uint64_t indirect_slab_phys;
	void *ring_mem;
	size_t ring_bytes;
	uint64_t ring_phys;
	size_t slab_bytes;
	size_t self_bytes;
	unsigned int detach_pos; /* scan position of virtqueue_detach_unused */
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
