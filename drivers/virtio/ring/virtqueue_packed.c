/*
 * The packed ring format (VIRTIO 1.2, 2.8 "Packed Virtqueues"): one ring of descriptors both
 * sides write, told apart by the AVAIL/USED flag bits and each side's wrap counter, plus two
 * event suppression structures. virtqueue.c has the API around it; docs/VRING.md the design.
 *
 * Trust model, as in split: the driver never reads back what it wrote (the chain's shape,
 * token, length offered and head position live in heads[], indexed by buffer id) and reads a
 * used descriptor's fields once each, after its flags, checking the id (in range, in flight,
 * published), the length, that the descriptors it covers were outstanding, and that anything
 * was outstanding at all.
 *
 * Publishing: virtqueue_add writes every descriptor of a request but its first one's flags;
 * virtqueue_kick_prepare writes those, oldest request first, after one write barrier, so the
 * device never sees part of a chain (2.8.6) and nothing is visible before the publish, as with
 * split's avail->idx.
 *
 * With VIRTIO_F_IN_ORDER (2.8.8) buffer ids are handed out in ring order, and one used
 * descriptor may complete a batch: every buffer up to the id it names.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/ring/vq_format.h"

#define F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED  (1u << VRING_PACKED_DESC_F_USED)

/* ---- layout ---- */

/* Descriptor ring (16-aligned: the allocation is page-aligned), then the driver's and the
 * device's event suppression structures (4-aligned: 16 * num is a multiple of 4). */
size_t vq_packed_ring_bytes(unsigned int num)
{
	return sizeof(struct vring_packed_desc) * (size_t)num +
	       2 * sizeof(struct vring_packed_desc_event);
}

void vq_packed_init(struct virtqueue *vq, void *ring)
{
	vq->pdesc = ring;
	vq->driver_event = (struct vring_packed_desc_event *)(vq->pdesc + vq->num);
	vq->device_event = vq->driver_event + 1;
	/* Both wrap counters start at 1 (2.8.1); the zeroed ring holds nothing available. */
	vq->next_avail = vq->pub_pos = vq->next_used = 0;
	vq->avail_wrap = vq->pub_wrap = vq->used_wrap = true;
	for (unsigned int i = 0; i < vq->num; i++)
		vq->heads[i].next = (uint16_t)(i + 1 < vq->num ? i + 1 : VQ_NONE);
	vq->free_id = 0;
	vq->oldest = 0;
	vq->pend_first = vq->pend_last = VQ_NONE;
	vq->in_flight = 0;
	/* Driver event flags 0 = ENABLE: an interrupt for every used buffer, until told else. */
	vq->event_flags_shadow = VRING_PACKED_EVENT_FLAG_ENABLE;
}

/* AVAIL to the wrap counter, USED to its inverse: "available" in that lap (2.8.1). */
static inline uint16_t avail_bits(bool wrap)
{
	return (uint16_t)(wrap ? F_AVAIL : F_USED);
}

/* Has the device marked this descriptor used in the lap whose wrap counter is wrap? Both bits
 * equal it (2.8.1). One bit alone proves nothing: a descriptor of a chain the device skipped
 * (it writes one used descriptor per chain) still carries the driver's bits of an older lap,
 * whose USED bit may equal the current counter. */
static inline bool is_used(uint16_t flags, bool wrap)
{
	return !!(flags & F_USED) == wrap && !!(flags & F_AVAIL) == wrap;
}

/* ---- adding ---- */

/* The id after id in ring order. */
static inline uint16_t next_id(const struct virtqueue *vq, uint16_t id)
{
	return (uint16_t)(id + 1u < vq->num ? id + 1u : 0);
}

static uint16_t take_id(struct virtqueue *vq)
{
	uint16_t id = vq->free_id;
	if (vq->in_order)
		vq->free_id = next_id(vq, id); /* ids in ring order */
	else
		vq->free_id = vq->heads[id].next;
	return id;
}

void vq_packed_add(struct virtqueue *vq, const struct vq_add *a)
{
	uint16_t id = take_id(vq), first = vq->next_avail, pos = first, head_flags;
	bool wrap = vq->avail_wrap;
	unsigned int needed = a->indirect ? 1 : a->total;

	if (a->indirect) {
		/* The table has the split entries' size; only WRITE is valid in it, and its id
		 * is ignored (2.8.7). */
		struct vring_packed_desc *table =
			(struct vring_packed_desc *)(vq->indirect_slab + (size_t)id * vq->indirect_max);
		uint64_t table_phys = vq->indirect_slab_phys +
				      sizeof(struct vring_packed_desc) * (size_t)id * vq->indirect_max;
		for (unsigned int k = 0; k < a->total; k++) {
			table[k].addr = virtio_virt_to_phys(a->sg[k].addr);
			table[k].len = a->sg[k].len;
			table[k].id = 0;
			table[k].flags = k >= a->out ? VRING_DESC_F_WRITE : 0;
		}
		struct vring_packed_desc *d = &vq->pdesc[pos];
		d->addr = table_phys;
		d->len = (uint32_t)(sizeof(struct vring_packed_desc) * a->total);
		d->id = id;
		head_flags = (uint16_t)(VRING_DESC_F_INDIRECT | avail_bits(wrap));
		if (++pos == vq->num) {
			pos = 0;
			wrap = !wrap;
		}
	} else {
		head_flags = 0;
		for (unsigned int k = 0; k < a->total; k++) {
			struct vring_packed_desc *d = &vq->pdesc[pos];
			uint16_t flags = (uint16_t)((k >= a->out ? VRING_DESC_F_WRITE : 0) |
						    (k + 1 < a->total ? VRING_DESC_F_NEXT : 0) |
						    avail_bits(wrap));
			d->addr = virtio_virt_to_phys(a->sg[k].addr);
			d->len = a->sg[k].len;
			d->id = id; /* the last one's counts (2.8.6); the others' are ignored */
			/* The first descriptor's flags make the chain visible: they wait for the
			 * publish. The others may be written now: the device only looks past the
			 * first once that is available. */
			if (k == 0)
				head_flags = flags;
			else
				d->flags = flags;
			if (++pos == vq->num) {
				pos = 0;
				wrap = !wrap; /* descriptors after the end carry the next lap's bits */
			}
		}
	}
	vq->next_avail = pos;
	vq->avail_wrap = wrap;
	vq->num_free = (uint16_t)(vq->num_free - needed);

	struct vq_head_state *h = &vq->heads[id];
	h->token = a->token;
	h->in_len = a->in_len;
	h->ndesc = (uint16_t)needed;
	h->last = first;
	h->avail_pos = head_flags;
	h->published = false;
	h->next = VQ_NONE;
	if (vq->pend_last == VQ_NONE)
		vq->pend_first = id;
	else
		vq->heads[vq->pend_last].next = id;
	vq->pend_last = id;
}

/* ---- notification ---- */

bool vq_packed_kick_prepare(struct virtqueue *vq)
{
	uint16_t added = 0, old, new, off;
	uint32_t event;
	bool need;

	if (vq->pend_first == VQ_NONE)
		return false;
	/* Orders every descriptor (and indirect table) store of the pending requests before
	 * the first-descriptor flags that make them available (2.8.21.1). */
	virtio_wmb();
	for (uint16_t id = vq->pend_first; id != VQ_NONE; id = vq->heads[id].next) {
		struct vq_head_state *h = &vq->heads[id];
		vq_wr16(&vq->pdesc[h->last].flags, h->avail_pos);
		h->published = true;
		added = (uint16_t)(added + h->ndesc);
	}
	vq->pend_first = vq->pend_last = VQ_NONE;
	vq->in_flight = (uint16_t)(vq->in_flight + added);
	vq->pub_pos = vq->next_avail;
	vq->pub_wrap = vq->avail_wrap;
	/* Orders the flag stores before the device event suppression load (store -> load, a
	 * real fence on x86): the same lost-notification race as split's avail->idx. */
	virtio_mb();

	/* One 32-bit load: off_wrap and flags from the same moment. */
	event = *(const volatile uint32_t *)(const void *)vq->device_event;
	off = (uint16_t)event;
	switch ((event >> 16) & 3) {
	case VRING_PACKED_EVENT_FLAG_DISABLE:
		need = false;
		break;
	case VRING_PACKED_EVENT_FLAG_DESC:
		if (vq->event_idx) {
			/* Positions as free-running 16-bit counts, as vring_need_event wants:
			 * the published range ends at pub_pos, an event in the other lap sits
			 * num before it. */
			uint16_t event_idx = off & 0x7fff;
			new = vq->pub_pos;
			old = (uint16_t)(new - added);
			if (!!(off >> VRING_PACKED_EVENT_F_WRAP_CTR) != vq->pub_wrap)
				event_idx = (uint16_t)(event_idx - vq->num);
			need = vring_need_event(event_idx, new, old);
			break;
		}
		need = true; /* DESC without EVENT_IDX is not a valid request: notify */
		break;
	default:
		need = true;
		break;
	}
	if (!need)
		vq->stats.kicks_suppressed++;
	return need;
}

/* ---- completion ---- */

void vq_packed_detach(struct virtqueue *vq, uint16_t id)
{
	struct vq_head_state *h = &vq->heads[id];
	vq->num_free = (uint16_t)(vq->num_free + h->ndesc);
	h->token = NULL;
	if (!vq->in_order) {
		h->next = vq->free_id;
		vq->free_id = id;
	}
}

/* Move next_used on by n descriptors, flipping the wrap counter at the end of the ring. */
static void advance_used(struct virtqueue *vq, uint16_t n)
{
	uint32_t pos = (uint32_t)vq->next_used + n;
	if (pos >= vq->num) {
		pos -= vq->num;
		vq->used_wrap = !vq->used_wrap;
	}
	vq->next_used = (uint16_t)pos;
	vq->in_flight = (uint16_t)(vq->in_flight - n);
}

/* In order: a used descriptor naming id X completes every buffer from the oldest up to X;
 * the device skipped the descriptors of all of them. */
static bool start_batch(struct virtqueue *vq, uint16_t id, uint32_t used_len)
{
	uint16_t h = vq->oldest;
	uint32_t descs = 0;
	for (unsigned int n = 0;; n++) {
		struct vq_head_state *s = &vq->heads[h];
		if (n == vq->num || !s->token || !s->published ||
		    descs + s->ndesc > vq->in_flight) {
			vq_set_broken(vq, "used id %u is out of order (the oldest buffer is %u)", id,
				      vq->oldest);
			return false;
		}
		descs += s->ndesc;
		if (h == id)
			break;
		h = next_id(vq, h);
	}
	vq->batch = true;
	vq->batch_last = id;
	vq->batch_len = used_len;
	advance_used(vq, (uint16_t)descs);
	return true;
}

static void *take_from_batch(struct virtqueue *vq, uint32_t *len)
{
	uint16_t id = vq->oldest;
	void *token = vq->heads[id].token;
	bool last = id == vq->batch_last;

	if (len)
		*len = last ? vq->batch_len : vq->heads[id].in_len; /* skipped: fully used */
	vq->oldest = next_id(vq, id);
	vq_packed_detach(vq, id);
	if (last)
		vq->batch = false;
	return token;
}

void *vq_packed_get_buf(struct virtqueue *vq, uint32_t *len)
{
	struct vring_packed_desc *d;
	uint16_t flags, id, pos;
	uint32_t used_len;
	void *token;

	if (vq->batch) {
		token = take_from_batch(vq, len);
		goto done;
	}
	pos = vq->next_used;
	d = &vq->pdesc[pos];
	flags = vq_rd16(&d->flags);
	if (!is_used(flags, vq->used_wrap))
		return NULL; /* not used yet (ours, available, or from an older lap) */
	if (vq->in_flight == 0) {
		vq_set_broken(vq, "a used descriptor at %u where none was made available", pos);
		return NULL;
	}
	/* Orders the flags load before the loads of the id and length the device wrote before
	 * them (2.8.22). */
	virtio_rmb();
	id = vq_rd16(&d->id);
	/* 2.8.4 calls the length reserved in a used descriptor without WRITE, but devices do
	 * not set WRITE there (QEMU's do not, and Linux ignores the bit): take the length as
	 * split does, bounded by what was offered. */
	used_len = vq_rd32(&d->len);

	if (id >= vq->num) {
		vq_set_broken(vq, "used buffer id %u out of range (queue size %u, at %u)", id,
			      vq->num, pos);
		return NULL;
	}
	struct vq_head_state *h = &vq->heads[id];
	if (!h->token) {
		vq_set_broken(vq, "used buffer id %u is not in flight (at %u)", id, pos);
		return NULL;
	}
	if (!h->published) {
		vq_set_broken(vq, "used buffer id %u was never made available (at %u)", id, pos);
		return NULL;
	}
	/* A buffer with nothing device-writable (a transmitted frame) has no data a wrong length
	 * could make us read: some devices report one anyway (as Linux found when it validated
	 * lengths), so it is counted and taken as 0 rather than breaking the queue. Where the
	 * device could write, a length beyond the offer breaks it: the driver would read bytes
	 * nobody wrote. */
	if (used_len > 0 && h->in_len == 0) {
		vq->stats.bad_len_ignored++;
		used_len = 0;
	} else if (used_len > h->in_len) {
		vq_set_broken(vq,
			      "used len %u for id %u exceeds the %u device-writable bytes offered "
			      "(at %u)",
			      used_len, id, h->in_len, pos);
		return NULL;
	}
	if (vq->in_order) {
		if (!start_batch(vq, id, used_len))
			return NULL;
		token = take_from_batch(vq, len);
	} else {
		if (h->ndesc > vq->in_flight) {
			vq_set_broken(vq, "used buffer id %u covers %u descriptors, only %u are out",
				      id, h->ndesc, vq->in_flight);
			return NULL;
		}
		token = h->token;
		advance_used(vq, h->ndesc);
		vq_packed_detach(vq, id);
		if (len)
			*len = used_len;
	}

done:
	vq->stats.completed++;
	if (vq->event_idx && vq->cb_state == VQ_CB_ENABLED) {
		/* Ask for the interrupt at the next used descriptor; the full barrier orders the
		 * store before the next look at the ring (the lost wake-up, as in split). */
		vq_wr16(&vq->driver_event->off_wrap,
			(uint16_t)(vq->next_used | (vq->used_wrap << VRING_PACKED_EVENT_F_WRAP_CTR)));
		virtio_mb();
	}
	return token;
}

/* ---- interrupt control ---- */

static void set_event_flags(struct virtqueue *vq, uint16_t flags)
{
	if (vq->event_flags_shadow == flags)
		return;
	vq->event_flags_shadow = flags;
	vq_wr16(&vq->driver_event->flags, flags);
}

void vq_packed_disable_cb(struct virtqueue *vq)
{
	/* No barrier: suppression is a hint; a late interrupt is handled as spurious. */
	set_event_flags(vq, VRING_PACKED_EVENT_FLAG_DISABLE);
}

bool vq_packed_enable_cb(struct virtqueue *vq, bool delayed)
{
	if (vq->batch)
		return false; /* buffers of a batch are still to be handed out */
	if (vq->event_idx) {
		/* The descriptor whose use should interrupt: the next one, or (delayed) about
		 * 3/4 of the outstanding descriptors on. */
		uint32_t pos = vq->next_used + (delayed ? vq->in_flight * 3u / 4 : 0);
		bool wrap = vq->used_wrap;
		if (pos >= vq->num) {
			pos -= vq->num;
			wrap = !wrap;
		}
		vq_wr16(&vq->driver_event->off_wrap,
			(uint16_t)(pos | ((unsigned)wrap << VRING_PACKED_EVENT_F_WRAP_CTR)));
		/* The offset before the mode that makes the device read it. */
		virtio_wmb();
		set_event_flags(vq, VRING_PACKED_EVENT_FLAG_DESC);
	} else {
		set_event_flags(vq, VRING_PACKED_EVENT_FLAG_ENABLE);
	}
	/* The lost wake-up race (see split): the event stores before re-reading the ring. The
	 * re-check looks at the next used descriptor even when delayed: the delayed target may
	 * sit inside a chain, where no used descriptor is ever written. */
	virtio_mb();
	return !is_used(vq_rd16(&vq->pdesc[vq->next_used].flags), vq->used_wrap);
}

bool vq_packed_poll(const struct virtqueue *vq)
{
	return vq->batch || is_used(vq_rd16(&vq->pdesc[vq->next_used].flags), vq->used_wrap);
}
