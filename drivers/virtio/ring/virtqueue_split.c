/*
 * The split ring format (VIRTIO 1.2, 2.7 "Split Virtqueues"): a descriptor table the driver
 * writes, an available ring of chain heads, a used ring the device writes. virtqueue.c has the
 * API around it; docs/VRING.md the design.
 *
 * Trust model: everything the device can write (the used ring, used->flags, avail_event, and in
 * principle the descriptor table, which lives in shared memory too) is read at most once per
 * decision and validated before use. The driver's own view of each chain -- token, length
 * offered, descriptors used, free-list links -- lives in private arrays (heads[],
 * next_shadow[]) the device is never given the address of; the descriptor table is write-only
 * for the driver.
 *
 * With VIRTIO_F_IN_ORDER (2.7.9) descriptors are taken in ring order and come back in that
 * order, so the free list is just a position; the device may write one used element for a
 * batch, naming the batch's last buffer.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/ring/vq_format.h"

static inline uint16_t *used_event_ptr(struct virtqueue *vq)
{
	return &vring_used_event(&vq->vring);
}

static inline uint16_t *avail_event_ptr(struct virtqueue *vq)
{
	return &vring_avail_event(&vq->vring);
}

static inline uint16_t used_idx(const struct virtqueue *vq)
{
	return vq_rd16(&vq->vring.used->idx);
}

static inline uint16_t mask(const struct virtqueue *vq)
{
	return (uint16_t)(vq->num - 1);
}

/* ---- layout ---- */

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Modern layout in one allocation: the three parts back to back, each at its own alignment
 * (desc 16: the allocation is page-aligned; avail 2: desc_bytes is a multiple of 16; used 4).
 * The transport still programs three addresses, so this is only a packing choice. */
static size_t modern_used_offset(unsigned int num)
{
	return align_up(vring_desc_bytes(num) + vring_avail_bytes(num), VRING_USED_ALIGN_SIZE);
}

size_t vq_split_ring_bytes(unsigned int num, bool legacy)
{
	return legacy ? vring_size(num, VRING_LEGACY_ALIGN)
		      : modern_used_offset(num) + vring_used_bytes(num);
}

void vq_split_init(struct virtqueue *vq, void *ring)
{
	unsigned int num = vq->num;
	if (vq->legacy) {
		vring_init(&vq->vring, num, ring, VRING_LEGACY_ALIGN);
	} else {
		vq->vring.num = num;
		vq->vring.desc = ring;
		vq->vring.avail = (struct vring_avail *)((char *)ring + vring_desc_bytes(num));
		vq->vring.used = (struct vring_used *)((char *)ring + modern_used_offset(num));
	}
	/* All descriptors on the free list, in order (in order: the list is not used). */
	for (unsigned int i = 0; i < num; i++)
		vq->next_shadow[i] = (uint16_t)((i + 1) & (num - 1));
	vq->free_head = 0;
	vq->oldest = 0;
	/* Interrupts on: avail->flags 0 and used_event 0 (zeroed) ask for the first one. */
}

/* ---- adding ---- */

static inline void desc_write(struct vring_desc *d, const struct vq_sg *sg, uint16_t flags,
			      uint16_t next)
{
	d->addr = virtio_virt_to_phys(sg->addr);
	d->len = sg->len;
	d->flags = flags;
	d->next = next;
}

/* The descriptor after i in this queue's allocation order. */
static inline uint16_t next_desc(const struct virtqueue *vq, uint16_t i)
{
	return vq->in_order ? (uint16_t)((i + 1) & mask(vq)) : vq->next_shadow[i];
}

void vq_split_add(struct virtqueue *vq, const struct vq_add *a)
{
	uint16_t head = vq->free_head, last = head, i;
	unsigned int needed = a->indirect ? 1 : a->total;

	if (a->indirect) {
		struct vring_desc *table = vq->indirect_slab + (size_t)head * vq->indirect_max;
		uint64_t table_phys = vq->indirect_slab_phys +
				      sizeof(struct vring_desc) * (size_t)head * vq->indirect_max;
		struct vring_desc *d = &vq->vring.desc[head];

		/* Table entries chain by index within the table (2.7.5.3.2); readable first. */
		for (unsigned int k = 0; k < a->total; k++) {
			uint16_t flags = k >= a->out ? VRING_DESC_F_WRITE : 0;
			bool more = k + 1 < a->total;

			desc_write(&table[k], &a->sg[k],
				   (uint16_t)(flags | (more ? VRING_DESC_F_NEXT : 0)),
				   (uint16_t)(more ? k + 1 : 0));
		}
		/* INDIRECT alone: never together with NEXT (2.7.5.3.1). */
		d->addr = table_phys;
		d->len = (uint32_t)(sizeof(struct vring_desc) * a->total);
		d->flags = VRING_DESC_F_INDIRECT;
		d->next = 0;
		vq->free_head = next_desc(vq, head);
	} else {
		/* Take total descriptors off the free list; their links already form the chain,
		 * so the device-visible next fields are copied from our own. */
		i = head;
		for (unsigned int k = 0; k < a->total; k++) {
			uint16_t flags = k >= a->out ? VRING_DESC_F_WRITE : 0;
			bool more = k + 1 < a->total;

			desc_write(&vq->vring.desc[i], &a->sg[k],
				   (uint16_t)(flags | (more ? VRING_DESC_F_NEXT : 0)),
				   more ? next_desc(vq, i) : 0);
			last = i;
			i = next_desc(vq, i);
		}
		vq->free_head = i;
	}
	vq->num_free = (uint16_t)(vq->num_free - needed);

	struct vq_head_state *h = &vq->heads[head];
	h->token = a->token;
	h->in_len = a->in_len;
	h->ndesc = (uint16_t)needed;
	h->last = last;
	h->avail_pos = vq->avail_idx_shadow;

	/* The ring entry is not visible yet: avail->idx is only moved by kick_prepare. The slot
	 * is free: at most num heads are in flight, so the entry num positions back belongs to a
	 * request the device already took. */
	vq->vring.avail->ring[vq->avail_idx_shadow & mask(vq)] = head;
	vq->avail_idx_shadow++;
}

/* ---- notification ---- */

bool vq_split_kick_prepare(struct virtqueue *vq)
{
	uint16_t old = vq->avail_idx_published, new = vq->avail_idx_shadow;
	bool need;

	if (old == new)
		return false;
	/* Orders the descriptor, indirect table and avail->ring stores before the avail->idx
	 * store: once the device sees the new idx, the entries it covers must be complete. */
	virtio_wmb();
	vq_wr16(&vq->vring.avail->idx, new);
	vq->avail_idx_published = new;
	/* Orders the avail->idx store before the avail_event / used->flags load below
	 * (store -> load, a real fence on x86). Without it we could read a stale "no
	 * notification needed" written just before the device went to sleep, while the device
	 * has not yet seen our idx: both would wait forever. */
	virtio_mb();

	if (vq->event_idx) {
		/* Everything published since the last decision counts: old is the idx at the last
		 * kick_prepare, whether it notified or not (the device compares each publish). */
		need = vring_need_event(vq_rd16(avail_event_ptr(vq)), new, old);
	} else {
		need = !(vq_rd16(&vq->vring.used->flags) & VRING_USED_F_NO_NOTIFY);
	}
	if (!need)
		vq->stats.kicks_suppressed++;
	return need;
}

/* ---- completion ---- */

/* Recycle a chain's descriptors: back on the free list in O(1) thanks to the recorded last
 * descriptor; in order, the freed chain is the oldest and the free region simply grows. */
void vq_split_detach(struct virtqueue *vq, uint16_t head)
{
	struct vq_head_state *h = &vq->heads[head];

	if (!vq->in_order) {
		vq->next_shadow[h->last] = vq->free_head;
		vq->free_head = head;
	}
	vq->num_free = (uint16_t)(vq->num_free + h->ndesc);
	h->token = NULL;
}

/* The checks every used element passes, whatever the ordering (*used_len_p: 0 when the
 * length is ignored). */
static bool used_elem_ok(struct virtqueue *vq, uint32_t id, uint32_t *used_len_p)
{
	uint16_t unpublished = (uint16_t)(vq->avail_idx_shadow - vq->avail_idx_published);
	struct vq_head_state *h;

	if (id >= vq->num) {
		vq_set_broken(vq, "used id %u out of range (queue size %u, used idx %u)", id,
			      vq->num, vq->last_used);
		return false;
	}
	h = &vq->heads[id];
	if (!h->token) {
		vq_set_broken(vq, "used id %u is not the head of an in-flight chain (used idx %u)",
			      id, vq->last_used);
		return false;
	}
	if ((uint16_t)(h->avail_pos - vq->avail_idx_published) < unpublished) {
		vq_set_broken(vq, "used id %u was never made available (used idx %u)", id,
			      vq->last_used);
		return false;
	}
	/* A buffer with nothing device-writable (a transmitted frame) has no data a wrong length
	 * could make us read: some devices report one anyway (as Linux found when it validated
	 * lengths), so it is counted and taken as 0 rather than breaking the queue. Where the
	 * device could write, a length beyond the offer breaks it: the driver would read bytes
	 * nobody wrote. */
	uint32_t used_len = *used_len_p;
	if (used_len > 0 && h->in_len == 0) {
		vq->stats.bad_len_ignored++;
		*used_len_p = 0;
	} else if (used_len > h->in_len) {
		vq_set_broken(vq,
			      "used len %u for id %u exceeds the %u device-writable bytes offered "
			      "(used idx %u)",
			      used_len, id, h->in_len, vq->last_used);
		return false;
	}
	return true;
}

/* In order: a used element for id X completes every buffer from the oldest up to X. Find how
 * many that is; a device naming a buffer out of that order broke the protocol. */
static bool start_batch(struct virtqueue *vq, uint32_t id, uint32_t used_len, uint16_t pending)
{
	uint16_t h = vq->oldest, count = 1;
	while (h != id) {
		h = (uint16_t)((h + vq->heads[h].ndesc) & mask(vq));
		if (++count > pending || !vq->heads[h].token) {
			vq_set_broken(vq,
				      "used id %u is out of order (the oldest buffer is %u, %u used "
				      "entries pending)",
				      id, vq->oldest, pending);
			return false;
		}
	}
	vq->batch = true;
	vq->batch_last = (uint16_t)id;
	vq->batch_len = used_len;
	vq->last_used = (uint16_t)(vq->last_used + count); /* the device skipped as many */
	return true;
}

/* In order: hand out the oldest buffer of the batch. */
static void *take_from_batch(struct virtqueue *vq, uint32_t *len)
{
	uint16_t h = vq->oldest;
	void *token = vq->heads[h].token;
	bool last = h == vq->batch_last;

	if (len)
		*len = last ? vq->batch_len : vq->heads[h].in_len; /* skipped: fully used */
	vq->oldest = (uint16_t)((h + vq->heads[h].ndesc) & mask(vq));
	vq_split_detach(vq, h);
	if (last)
		vq->batch = false;
	return token;
}

void *vq_split_get_buf(struct virtqueue *vq, uint32_t *len)
{
	uint16_t idx, pending, outstanding, slot;
	uint32_t id, used_len;
	void *token;

	if (vq->batch) {
		token = take_from_batch(vq, len);
		goto done;
	}
	idx = used_idx(vq);
	if (idx == vq->last_used)
		return NULL;

	/* The device can only return what it was given: never more than the buffers we
	 * published and did not harvest yet (which is also at most num). */
	pending = (uint16_t)(idx - vq->last_used);
	outstanding = (uint16_t)(vq->avail_idx_published - vq->last_used);
	if (pending > outstanding) {
		vq_set_broken(vq,
			      "used idx %u runs ahead of %u by %u entries but only %u buffers are "
			      "outstanding (queue size %u)",
			      idx, vq->last_used, pending, outstanding, vq->num);
		return NULL;
	}

	/* Orders the used->idx load above before the loads of the used element it covers: the
	 * device writes the element, then (after its own barrier) the idx. */
	virtio_rmb();

	slot = vq->last_used & mask(vq);
	/* Each field read exactly once; the checks and the use see the same value. */
	id = vq_rd32(&vq->vring.used->ring[slot].id);
	used_len = vq_rd32(&vq->vring.used->ring[slot].len);
	if (!used_elem_ok(vq, id, &used_len))
		return NULL;

	if (vq->in_order) {
		if (!start_batch(vq, id, used_len, pending))
			return NULL;
		token = take_from_batch(vq, len);
	} else {
		token = vq->heads[id].token;
		vq_split_detach(vq, (uint16_t)id);
		vq->last_used++;
		if (len)
			*len = used_len;
	}

done:
	vq->stats.completed++;
	if (vq->event_idx && vq->cb_state == VQ_CB_ENABLED) {
		/* Interrupts are on: ask for one on the next used entry. The full barrier orders
		 * this store before the used->idx load of the next get_buf/enable_cb, else a
		 * device adding an entry in between could read the old used_event, skip the
		 * interrupt, and we would conclude "nothing pending" -- a lost wake-up. In the
		 * DELAYED state the target set by enable_cb_delayed is kept. */
		vq_wr16(used_event_ptr(vq), vq->last_used);
		virtio_mb();
	}
	return token;
}

/* ---- interrupt control ---- */

void vq_split_disable_cb(struct virtqueue *vq)
{
	if (vq->event_idx) {
		/* avail->flags must stay 0 with EVENT_IDX (2.7.7.1); instead park used_event just
		 * behind last_used: the device interrupts only when its used idx crosses it,
		 * i.e. after almost 2^16 more completions. No barrier: suppression is a hint and
		 * a late interrupt is handled as spurious. */
		vq_wr16(used_event_ptr(vq), (uint16_t)(vq->last_used - 1));
	} else {
		vq->avail_flags_shadow |= VRING_AVAIL_F_NO_INTERRUPT;
		vq_wr16(&vq->vring.avail->flags, vq->avail_flags_shadow);
	}
}

bool vq_split_enable_cb(struct virtqueue *vq, bool delayed)
{
	uint16_t bufs = 0;

	if (vq->batch)
		return false; /* buffers of a batch are still to be handed out */
	if (vq->event_idx) {
		/* Delayed: interrupt when ~3/4 of what is outstanding has been used. */
		if (delayed)
			bufs = (uint16_t)((uint16_t)(vq->avail_idx_published - vq->last_used) * 3 / 4);
		vq_wr16(used_event_ptr(vq), (uint16_t)(vq->last_used + bufs));
	} else if (vq->avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT) {
		vq->avail_flags_shadow &= (uint16_t)~VRING_AVAIL_F_NO_INTERRUPT;
		vq_wr16(&vq->vring.avail->flags, vq->avail_flags_shadow);
	}
	/* The lost wake-up race: the device may have used a buffer after our last look but
	 * before it could see the store above, and then decided not to interrupt. Order the
	 * store before re-reading used->idx (store -> load: a full fence) and tell the caller
	 * to harvest if anything arrived. */
	virtio_mb();
	return (uint16_t)(used_idx(vq) - vq->last_used) <= bufs;
}

bool vq_split_poll(const struct virtqueue *vq)
{
	return vq->batch || used_idx(vq) != vq->last_used;
}
