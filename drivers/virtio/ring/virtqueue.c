/*
 * Split virtqueue core (VIRTIO 1.x section 2.7 "Split Virtqueues"). See docs/VRING.md for the
 * design; this file only talks to the outside world through ring/ring_port.h and the queue's
 * notify/callback pointers, so it builds unchanged for the kernel and for host tests.
 *
 * Trust model: everything the device can write (the used ring, used->flags, avail_event, and in
 * principle the descriptor table, which lives in shared memory too) is read at most once per
 * decision, through volatile accesses, and validated before use. The driver's own view of each
 * chain -- token, length offered, descriptors used, free-list links -- lives in private arrays
 * (heads[], next_shadow[]) that the device is never given the address of; the descriptor table
 * is write-only for the driver.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "drivers/virtio/ring/ring_port.h"
#include "drivers/virtio/ring/virtqueue.h"

/* ---- shared-memory accessors ---------------------------------------------------------------
 * volatile: each access happens exactly once, at full width (no tearing, no re-reading a value
 * the device may change between two uses, no merged or elided stores). Ordering between them
 * is the job of the explicit barriers. */

static inline uint16_t rd16(const uint16_t *p)
{
	return *(const volatile uint16_t *)p;
}

static inline uint32_t rd32(const uint32_t *p)
{
	return *(const volatile uint32_t *)p;
}

static inline void wr16(uint16_t *p, uint16_t v)
{
	*(volatile uint16_t *)p = v;
}

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
	return rd16(&vq->vring.used->idx);
}

/* ---- broken queues --------------------------------------------------------------------------
 * The reason is formatted here rather than with vsnprintf: the core may only use the
 * freestanding headers, and a message needs nothing but strings and unsigned numbers. */

static void buf_puts(char *buf, size_t size, size_t *pos, const char *s)
{
	while (*s && *pos + 1 < size)
		buf[(*pos)++] = *s++;
}

static void buf_putu(char *buf, size_t size, size_t *pos, unsigned long v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n > 0 && *pos + 1 < size)
		buf[(*pos)++] = tmp[--n];
}

/* Tiny formatter: %u (unsigned int), %lu (unsigned long), %s, %%. */
static void vq_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t pos = 0;

	for (; *fmt && pos + 1 < size; fmt++) {
		if (*fmt != '%') {
			buf[pos++] = *fmt;
			continue;
		}
		fmt++;
		if (*fmt == 'u') {
			buf_putu(buf, size, &pos, va_arg(ap, unsigned int));
		} else if (fmt[0] == 'l' && fmt[1] == 'u') {
			fmt++;
			buf_putu(buf, size, &pos, va_arg(ap, unsigned long));
		} else if (*fmt == 's') {
			const char *s = va_arg(ap, const char *);
			buf_puts(buf, size, &pos, s ? s : "(null)");
		} else if (*fmt == '%') {
			buf[pos++] = '%';
		} else {
			break; /* unknown conversion: stop rather than misread the arguments */
		}
	}
	buf[pos] = '\0';
}

static void vq_set_broken(struct virtqueue *vq, const char *fmt, ...)
{
	va_list ap;

	if (vq->broken)
		return; /* keep the first reason: later ones are usually consequences */
	va_start(ap, fmt);
	vq_vformat(vq->broken_reason, sizeof(vq->broken_reason), fmt, ap);
	va_end(ap);
	vq->broken = true;
	virtio_log("virtio: queue %s/%u broken: %s\n", vq->name ? vq->name : "?", vq->index,
		   vq->broken_reason);
}

void virtqueue_break(struct virtqueue *vq, const char *reason)
{
	vq_set_broken(vq, "%s", reason ? reason : "broken by the driver");
}

bool virtqueue_is_broken(const struct virtqueue *vq)
{
	return vq->broken;
}

/* ---- creation ------------------------------------------------------------------------------ */

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

int virtqueue_create(const struct virtqueue_config *cfg, struct virtqueue **out)
{
	struct virtqueue *vq;
	unsigned int num, i;
	size_t heads_off, next_off, self_bytes, ring_bytes;
	uint64_t phys;
	void *ring;

	if (!cfg || !out || !cfg->notify)
		return -EINVAL;
	num = cfg->num;
	if (num == 0 || num > VRING_MAX_NUM || (num & (num - 1)) != 0)
		return -EINVAL;
	if (cfg->layout != VIRTQUEUE_LAYOUT_LEGACY && cfg->layout != VIRTQUEUE_LAYOUT_MODERN)
		return -EINVAL;

	/* Private state: struct, heads[num], next_shadow[num] in one block. It comes from the DMA
	 * allocator only because that is the one allocator the platform interface has; the
	 * device is never told its address. */
	heads_off = align_up(sizeof(*vq), _Alignof(struct vq_head_state));
	next_off = align_up(heads_off + sizeof(struct vq_head_state) * num, _Alignof(uint16_t));
	self_bytes = next_off + sizeof(uint16_t) * num;
	vq = virtio_dma_alloc(self_bytes, &phys);
	if (!vq)
		return -ENOMEM;
	memset(vq, 0, self_bytes);
	vq->self_bytes = self_bytes;
	vq->heads = (struct vq_head_state *)((char *)vq + heads_off);
	vq->next_shadow = (uint16_t *)((char *)vq + next_off);

	vq->name = cfg->name;
	vq->index = cfg->index;
	vq->num = num;
	vq->priv = cfg->priv;
	vq->notify = cfg->notify;
	vq->callback = cfg->callback;
	vq->legacy = cfg->layout == VIRTQUEUE_LAYOUT_LEGACY;
	vq->event_idx = cfg->event_idx;
	vq->indirect = cfg->indirect;

	if (vq->legacy)
		ring_bytes = vring_size(num, VRING_LEGACY_ALIGN);
	else
		ring_bytes = modern_used_offset(num) + vring_used_bytes(num);
	ring = virtio_dma_alloc(ring_bytes, &vq->ring_phys);
	if (!ring)
		goto free_self;
	memset(ring, 0, ring_bytes); /* idx fields and flags must start at 0 (2.7.6, 2.7.8) */
	vq->ring_mem = ring;
	vq->ring_bytes = ring_bytes;
	if (vq->legacy) {
		vring_init(&vq->vring, num, ring, VRING_LEGACY_ALIGN);
	} else {
		vq->vring.num = num;
		vq->vring.desc = ring;
		vq->vring.avail = (struct vring_avail *)((char *)ring + vring_desc_bytes(num));
		vq->vring.used = (struct vring_used *)((char *)ring + modern_used_offset(num));
	}

	if (vq->indirect) {
		/* One table per possible head: a head is in flight at most once, so its table is
		 * free whenever the head is -- no allocation on the request path. */
		vq->indirect_max = cfg->indirect_max ? cfg->indirect_max : VIRTQUEUE_INDIRECT_DEFAULT_MAX;
		if (vq->indirect_max > num) /* 2.7.5.3.1: a table holds at most queue-size entries */
			vq->indirect_max = num;
		vq->indirect_min = cfg->indirect_min > 2 ? cfg->indirect_min : 2;
		vq->slab_bytes = sizeof(struct vring_desc) * vq->indirect_max * (size_t)num;
		vq->indirect_slab = virtio_dma_alloc(vq->slab_bytes, &vq->indirect_slab_phys);
		if (!vq->indirect_slab)
			goto free_ring;
	}

	/* All descriptors on the free list, in order. */
	for (i = 0; i < num; i++)
		vq->next_shadow[i] = (uint16_t)((i + 1) & (num - 1));
	vq->free_head = 0;
	vq->num_free = (uint16_t)num; /* num <= 32768 fits */
	/* Interrupts on: avail->flags 0 and used_event 0 (zeroed) ask for the first one. */
	vq->cb_state = VQ_CB_ENABLED;
	*out = vq;
	return 0;

free_ring:
	virtio_dma_free(ring, ring_bytes);
free_self:
	virtio_dma_free(vq, self_bytes);
	return -ENOMEM;
}

void virtqueue_destroy(struct virtqueue *vq)
{
	if (!vq)
		return;
	if (vq->indirect_slab)
		virtio_dma_free(vq->indirect_slab, vq->slab_bytes);
	virtio_dma_free(vq->ring_mem, vq->ring_bytes);
	virtio_dma_free(vq, vq->self_bytes);
}

int virtqueue_test_set_indices(struct virtqueue *vq, uint16_t idx)
{
	if (vq->stats.added != 0 || vq->avail_idx_shadow != 0 || vq->last_used != 0 || vq->broken)
		return -EINVAL;
	vq->avail_idx_shadow = idx;
	vq->avail_idx_published = idx;
	vq->last_used = idx;
	wr16(&vq->vring.avail->idx, idx);
	if (vq->event_idx)
		wr16(used_event_ptr(vq), idx);
	/* Device-owned fields, as a device reset to this index would have them. */
	wr16(&vq->vring.used->idx, idx);
	wr16(avail_event_ptr(vq), idx);
	return 0;
}

/* ---- adding ------------------------------------------------------------------------------- */

static inline void desc_write(struct vring_desc *d, const struct vq_sg *sg, uint16_t flags,
			      uint16_t next)
{
	d->addr = virtio_virt_to_phys(sg->addr);
	d->len = sg->len;
	d->flags = flags;
	d->next = next;
}

int virtqueue_add(struct virtqueue *vq, const struct vq_sg *sg, unsigned int out, unsigned int in,
		  void *token)
{
	unsigned int total, needed, k;
	uint64_t in_len = 0;
	uint16_t head, last, i;
	bool use_indirect;

	if (vq->broken)
		return -EIO;
	if (!token || !sg || out > VRING_MAX_NUM || in > VRING_MAX_NUM)
		return -EINVAL;
	total = out + in;
	if (total == 0)
		return -EINVAL;
	for (k = out; k < total; k++)
		in_len += sg[k].len;
	if (in_len > UINT32_MAX) /* used len is 32 bits: could not be checked against more */
		return -EINVAL;

	/* Indirect policy (docs/VRING.md): multi-segment requests that fit a table take one ring
	 * slot instead of total, so the ring holds num requests whatever their shape; single
	 * segments never (a table would only add a memory indirection for the device). */
	use_indirect = vq->indirect && total >= vq->indirect_min && total <= vq->indirect_max;
	if (!use_indirect && total > vq->num)
		return -EINVAL; /* 2.7.5.2: a chain is never longer than the queue */
	needed = use_indirect ? 1 : total;
	if (vq->num_free < needed)
		return -ENOSPC;

	head = vq->free_head;
	if (use_indirect) {
		struct vring_desc *table = vq->indirect_slab + (size_t)head * vq->indirect_max;
		uint64_t table_phys = vq->indirect_slab_phys +
				      sizeof(struct vring_desc) * (size_t)head * vq->indirect_max;
		struct vring_desc *d = &vq->vring.desc[head];

		/* Table entries chain by index within the table (2.7.5.3.2); readable first. */
		for (k = 0; k < total; k++) {
			uint16_t flags = k >= out ? VRING_DESC_F_WRITE : 0;
			bool more = k + 1 < total;

			desc_write(&table[k], &sg[k], (uint16_t)(flags | (more ? VRING_DESC_F_NEXT : 0)),
				   (uint16_t)(more ? k + 1 : 0));
		}
		/* INDIRECT alone: never together with NEXT (2.7.5.3.1). */
		d->addr = table_phys;
		d->len = (uint32_t)(sizeof(struct vring_desc) * total);
		d->flags = VRING_DESC_F_INDIRECT;
		d->next = 0;
		last = head;
		vq->free_head = vq->next_shadow[head];
		vq->stats.indirect++;
	} else {
		/* Take total descriptors off the free list; their next_shadow links already form
		 * the chain, so the device-visible next fields are copied from our shadow. */
		i = head;
		last = head;
		for (k = 0; k < total; k++) {
			uint16_t flags = k >= out ? VRING_DESC_F_WRITE : 0;
			bool more = k + 1 < total;

			desc_write(&vq->vring.desc[i], &sg[k],
				   (uint16_t)(flags | (more ? VRING_DESC_F_NEXT : 0)),
				   more ? vq->next_shadow[i] : 0);
			last = i;
			i = vq->next_shadow[i];
		}
		vq->free_head = i;
	}
	vq->num_free = (uint16_t)(vq->num_free - needed);

	vq->heads[head].token = token;
	vq->heads[head].in_len = (uint32_t)in_len;
	vq->heads[head].ndesc = (uint16_t)needed;
	vq->heads[head].last = last;
	vq->heads[head].avail_pos = vq->avail_idx_shadow;

	/* The ring entry is not visible yet: avail->idx is only moved by kick_prepare. The slot
	 * is free: at most num heads are in flight, so the entry num positions back belongs to a
	 * request the device already took. */
	vq->vring.avail->ring[vq->avail_idx_shadow & (vq->num - 1)] = head;
	vq->avail_idx_shadow++;
	vq->stats.added++;
	return 0;
}

/* ---- notification ------------------------------------------------------------------------- */

bool virtqueue_kick_prepare(struct virtqueue *vq)
{
	uint16_t old, new;
	bool need;

	if (vq->broken)
		return false;
	old = vq->avail_idx_published;
	new = vq->avail_idx_shadow;
	if (old == new)
		return false;

	/* Orders the descriptor, indirect table and avail->ring stores before the avail->idx
	 * store: once the device sees the new idx, the entries it covers must be complete. */
	virtio_wmb();
	wr16(&vq->vring.avail->idx, new);
	vq->avail_idx_published = new;
	/* Orders the avail->idx store before the avail_event / used->flags load below
	 * (store -> load, a real fence on x86). Without it we could read a stale "no
	 * notification needed" written just before the device went to sleep, while the device
	 * has not yet seen our idx: both would wait forever. */
	virtio_mb();

	if (vq->event_idx) {
		/* Everything published since the last decision counts: old is the idx at the last
		 * kick_prepare, whether it notified or not (the device compares each publish). */
		need = vring_need_event(rd16(avail_event_ptr(vq)), new, old);
	} else {
		need = !(rd16(&vq->vring.used->flags) & VRING_USED_F_NO_NOTIFY);
	}
	if (!need)
		vq->stats.kicks_suppressed++;
	return need;
}

bool virtqueue_notify(struct virtqueue *vq)
{
	if (vq->broken)
		return false;
	vq->stats.kicks++;
	vq->notify(vq);
	return true;
}

bool virtqueue_kick(struct virtqueue *vq)
{
	if (virtqueue_kick_prepare(vq))
		return virtqueue_notify(vq);
	return false;
}

/* ---- completion --------------------------------------------------------------------------- */

/* Put a chain back on the free list; O(1) thanks to the recorded last descriptor. */
static void detach(struct virtqueue *vq, uint16_t head)
{
	struct vq_head_state *h = &vq->heads[head];

	vq->next_shadow[h->last] = vq->free_head;
	vq->free_head = head;
	vq->num_free = (uint16_t)(vq->num_free + h->ndesc);
	h->token = NULL;
}

void *virtqueue_get_buf(struct virtqueue *vq, uint32_t *len)
{
	uint16_t idx, pending, outstanding, slot, unpublished;
	uint32_t id, used_len;
	struct vq_head_state *h;
	void *token;

	if (vq->broken)
		return NULL;
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

	slot = vq->last_used & (uint16_t)(vq->num - 1);
	/* Each field read exactly once; the checks and the use see the same value. */
	id = rd32(&vq->vring.used->ring[slot].id);
	used_len = rd32(&vq->vring.used->ring[slot].len);

	if (id >= vq->num) {
		vq_set_broken(vq, "used id %u out of range (queue size %u, used idx %u)", id,
			      vq->num, vq->last_used);
		return NULL;
	}
	h = &vq->heads[id];
	if (!h->token) {
		vq_set_broken(vq, "used id %u is not the head of an in-flight chain (used idx %u)",
			      id, vq->last_used);
		return NULL;
	}
	unpublished = (uint16_t)(vq->avail_idx_shadow - vq->avail_idx_published);
	if ((uint16_t)(h->avail_pos - vq->avail_idx_published) < unpublished) {
		vq_set_broken(vq, "used id %u was never made available (used idx %u)", id,
			      vq->last_used);
		return NULL;
	}
	if (used_len > h->in_len) {
		vq_set_broken(vq,
			      "used len %u for id %u exceeds the %u device-writable bytes offered "
			      "(used idx %u)",
			      used_len, id, h->in_len, vq->last_used);
		return NULL;
	}

	token = h->token;
	detach(vq, (uint16_t)id);
	vq->last_used++;
	vq->stats.completed++;
	if (len)
		*len = used_len;

	if (vq->event_idx && vq->cb_state == VQ_CB_ENABLED) {
		/* Interrupts are on: ask for one on the next used entry. The full barrier orders
		 * this store before the used->idx load of the next get_buf/enable_cb, else a
		 * device adding an entry in between could read the old used_event, skip the
		 * interrupt, and we would conclude "nothing pending" -- a lost wake-up. In the
		 * DELAYED state the target set by enable_cb_delayed is kept. */
		wr16(used_event_ptr(vq), vq->last_used);
		virtio_mb();
	}
	return token;
}

void *virtqueue_detach_unused(struct virtqueue *vq)
{
	for (; vq->detach_pos < vq->num; vq->detach_pos++) {
		struct vq_head_state *h = &vq->heads[vq->detach_pos];

		if (h->token) {
			void *token = h->token;

			detach(vq, (uint16_t)vq->detach_pos);
			vq->detach_pos++;
			return token;
		}
	}
	return NULL;
}

/* ---- interrupt control -------------------------------------------------------------------- */

void virtqueue_disable_cb(struct virtqueue *vq)
{
	if (vq->cb_state == VQ_CB_DISABLED)
		return;
	vq->cb_state = VQ_CB_DISABLED;
	if (vq->event_idx) {
		/* avail->flags must stay 0 with EVENT_IDX (2.7.7.1); instead park used_event just
		 * behind last_used: the device interrupts only when its used idx crosses it,
		 * i.e. after almost 2^16 more completions. No barrier: suppression is a hint and
		 * a late interrupt is handled as spurious. */
		wr16(used_event_ptr(vq), (uint16_t)(vq->last_used - 1));
	} else {
		vq->avail_flags_shadow |= VRING_AVAIL_F_NO_INTERRUPT;
		wr16(&vq->vring.avail->flags, vq->avail_flags_shadow);
	}
}

bool virtqueue_enable_cb(struct virtqueue *vq)
{
	if (vq->broken)
		return true;
	vq->cb_state = VQ_CB_ENABLED;
	if (vq->event_idx) {
		wr16(used_event_ptr(vq), vq->last_used);
	} else if (vq->avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT) {
		vq->avail_flags_shadow &= (uint16_t)~VRING_AVAIL_F_NO_INTERRUPT;
		wr16(&vq->vring.avail->flags, vq->avail_flags_shadow);
	}
	/* The lost wake-up race: the device may have used a buffer after our last look but
	 * before it could see the store above, and then decided not to interrupt. Order the
	 * store before re-reading used->idx (store -> load: a full fence) and tell the caller
	 * to harvest if anything arrived. */
	virtio_mb();
	return used_idx(vq) == vq->last_used;
}

bool virtqueue_enable_cb_delayed(struct virtqueue *vq)
{
	uint16_t bufs;

	if (vq->broken)
		return true;
	if (!vq->event_idx)
		return virtqueue_enable_cb(vq);
	vq->cb_state = VQ_CB_DELAYED;
	/* Interrupt when ~3/4 of what is outstanding has been used. */
	bufs = (uint16_t)((uint16_t)(vq->avail_idx_published - vq->last_used) * 3 / 4);
	wr16(used_event_ptr(vq), (uint16_t)(vq->last_used + bufs));
	/* Same race as in enable_cb: used_event store before the used->idx load. */
	virtio_mb();
	return (uint16_t)(used_idx(vq) - vq->last_used) <= bufs;
}

bool virtqueue_poll(const struct virtqueue *vq)
{
	return !vq->broken && used_idx(vq) != vq->last_used;
}

bool virtqueue_interrupt(struct virtqueue *vq)
{
	vq->stats.interrupts++;
	if (vq->broken)
		return false;
	if (used_idx(vq) == vq->last_used) {
		/* Shared IRQ line, a late interrupt we had disabled, or the device raced with a
		 * harvest that already took the entries. Harmless; counted. */
		vq->stats.spurious++;
		return false;
	}
	vq->stats.callbacks++;
	if (vq->callback)
		vq->callback(vq);
	return true;
}

/* ---- accessors for transports ------------------------------------------------------------- */

unsigned int virtqueue_num_free(const struct virtqueue *vq)
{
	return vq->num_free;
}

unsigned int virtqueue_size(const struct virtqueue *vq)
{
	return vq->num;
}

uint64_t virtqueue_desc_phys(const struct virtqueue *vq)
{
	return vq->ring_phys;
}

uint64_t virtqueue_avail_phys(const struct virtqueue *vq)
{
	return vq->ring_phys + (uint64_t)((char *)vq->vring.avail - (char *)vq->ring_mem);
}

uint64_t virtqueue_used_phys(const struct virtqueue *vq)
{
	return vq->ring_phys + (uint64_t)((char *)vq->vring.used - (char *)vq->ring_mem);
}

uint64_t virtqueue_legacy_pfn(const struct virtqueue *vq)
{
	return vq->ring_phys >> 12;
}
