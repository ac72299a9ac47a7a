/*
 * The state of one virtqueue (virtqueue.h is its API): the fields a user may read, and the
 * private ones the core and its two formats share. It is kept apart from the API so that the
 * formats (virtqueue_split.c, virtqueue_packed.c) sit below the API file that calls them.
 */
#ifndef VIREO_VQ_STATE_H
#define VIREO_VQ_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/ring/virtio_ring.h"
#include "drivers/virtio/ring/virtio_ring_packed.h"

/* One scatter-gather segment: a physically contiguous buffer (virtual address, translated by
 * virtio_virt_to_phys). */
struct vq_sg {
	const void *addr;
	uint32_t len;
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
	uint64_t bad_len_ignored;  /* used lengths > 0 for buffers with nothing device-writable */
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
 * broken_reason, stats); everything else is private to the ring (virtqueue.c and the two
 * format files).
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

#endif /* VIREO_VQ_STATE_H */
