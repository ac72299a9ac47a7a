/*
 * The virtqueue core's format-independent half: creation, the checks on every request, the
 * counters and the broken state; each operation then goes to the queue's format,
 * virtqueue_split.c (VIRTIO 1.2, 2.7) or virtqueue_packed.c (2.8). See docs/VRING.md for the
 * design; the core only talks to the outside world through ring/ring_port.h and the queue's
 * notify/callback pointers, so it builds unchanged for the kernel and for host tests.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "drivers/virtio/ring/virtqueue.h"
#include "drivers/virtio/ring/vq_format.h"

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

int virtqueue_create(const struct virtqueue_config *cfg, struct virtqueue **out)
{
	struct virtqueue *vq;
	unsigned int num;
	size_t heads_off, next_off, self_bytes, ring_bytes;
	uint64_t phys;
	void *ring;

	if (!cfg || !out || !cfg->notify)
		return -EINVAL;
	num = cfg->num;
	if (num == 0 || num > VRING_MAX_NUM)
		return -EINVAL;
	/* Split rings index by masking; a packed ring's size need not be a power of two (2.8). */
	if (!cfg->packed && (num & (num - 1)) != 0)
		return -EINVAL;
	if (cfg->layout != VIRTQUEUE_LAYOUT_LEGACY && cfg->layout != VIRTQUEUE_LAYOUT_MODERN)
		return -EINVAL;
	if (cfg->packed && cfg->layout == VIRTQUEUE_LAYOUT_LEGACY)
		return -EINVAL; /* packed needs VERSION_1: there is no legacy packed layout */

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
	vq->packed = cfg->packed;
	vq->in_order = cfg->in_order;
	vq->event_idx = cfg->event_idx;
	vq->indirect = cfg->indirect;

	ring_bytes = vq->packed ? vq_packed_ring_bytes(num) : vq_split_ring_bytes(num, vq->legacy);
	ring = virtio_dma_alloc(ring_bytes, &vq->ring_phys);
	if (!ring)
		goto free_self;
	/* Split: idx fields and flags start at 0 (2.7.6, 2.7.8); packed: the descriptor ring is
	 * zero-initialised (2.8.13) and event flags 0 mean "enabled". */
	memset(ring, 0, ring_bytes);
	vq->ring_mem = ring;
	vq->ring_bytes = ring_bytes;

	if (vq->indirect) {
		/* One table per possible head or buffer id: each is in flight at most once, so
		 * its table is free whenever it is -- no allocation on the request path. */
		vq->indirect_max = cfg->indirect_max ? cfg->indirect_max : VIRTQUEUE_INDIRECT_DEFAULT_MAX;
		if (vq->indirect_max > num) /* 2.7.5.3.1, 2.8.19: at most queue-size entries */
			vq->indirect_max = num;
		vq->indirect_min = cfg->indirect_min > 2 ? cfg->indirect_min : 2;
		vq->slab_bytes = sizeof(struct vring_desc) * vq->indirect_max * (size_t)num;
		vq->indirect_slab = virtio_dma_alloc(vq->slab_bytes, &vq->indirect_slab_phys);
		if (!vq->indirect_slab) {
			/* INDIRECT is an offer, not an obligation: direct chains work, only with
			 * fewer requests in flight. (The slab is large for big queues: 16 x 66 x
			 * 1024 bytes for a disk of 1024 entries.) */
			virtio_log("virtio: queue %s/%u: no %zu bytes for indirect tables; using "
				   "direct chains\n", vq->name ? vq->name : "", vq->index,
				   vq->slab_bytes);
			vq->indirect = false;
		}
	}
	if (vq->packed)
		vq_packed_init(vq, ring);
	else
		vq_split_init(vq, ring);
	vq->num_free = (uint16_t)num; /* num <= 32768 fits */
	vq->cb_state = VQ_CB_ENABLED;
	*out = vq;
	return 0;

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
	if (vq->packed || vq->stats.added != 0 || vq->avail_idx_shadow != 0 ||
	    vq->last_used != 0 || vq->broken)
		return -EINVAL;
	vq->avail_idx_shadow = idx;
	vq->avail_idx_published = idx;
	vq->last_used = idx;
	vq_wr16(&vq->vring.avail->idx, idx);
	if (vq->event_idx)
		vq_wr16(&vring_used_event(&vq->vring), idx);
	/* Device-owned fields, as a device reset to this index would have them. */
	vq_wr16(&vq->vring.used->idx, idx);
	vq_wr16(&vring_avail_event(&vq->vring), idx);
	return 0;
}

/* ---- adding ------------------------------------------------------------------------------- */

int virtqueue_add(struct virtqueue *vq, const struct vq_sg *sg, unsigned int out, unsigned int in,
		  void *token)
{
	struct vq_add a = {.sg = sg, .out = out, .in = in, .token = token};
	uint64_t in_len = 0;

	if (vq->broken)
		return -EIO;
	if (!token || !sg || out > VRING_MAX_NUM || in > VRING_MAX_NUM)
		return -EINVAL;
	a.total = out + in;
	if (a.total == 0)
		return -EINVAL;
	uint64_t chain_len = 0;
	for (unsigned int k = 0; k < a.total; k++) {
		chain_len += sg[k].len;
		if (k >= out)
			in_len += sg[k].len;
	}
	/* 2.7.5.2: a chain is at most 2^32 bytes in all (packed chains alike); and a used
	 * length, 32 bits, could not be checked against more writable bytes than that. */
	if (chain_len > (1ull << 32) || in_len > UINT32_MAX)
		return -EINVAL;
	a.in_len = (uint32_t)in_len;

	/* Indirect policy (docs/VRING.md): multi-segment requests that fit a table take one ring
	 * slot instead of total, so the ring holds num requests whatever their shape; single
	 * segments never (a table would only add a memory indirection for the device). */
	a.indirect = vq->indirect && a.total >= vq->indirect_min && a.total <= vq->indirect_max;
	if (!a.indirect && a.total > vq->num)
		return -EINVAL; /* 2.7.5.2, 2.8.17: a chain is never longer than the queue */
	if (vq->num_free < (a.indirect ? 1 : a.total))
		return -ENOSPC;
	if (vq->packed)
		vq_packed_add(vq, &a);
	else
		vq_split_add(vq, &a);
	if (a.indirect)
		vq->stats.indirect++;
	vq->stats.added++;
	return 0;
}

/* ---- notification ------------------------------------------------------------------------- */

bool virtqueue_kick_prepare(struct virtqueue *vq)
{
	if (vq->broken)
		return false;
	return vq->packed ? vq_packed_kick_prepare(vq) : vq_split_kick_prepare(vq);
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

void *virtqueue_get_buf(struct virtqueue *vq, uint32_t *len)
{
	if (vq->broken)
		return NULL;
	return vq->packed ? vq_packed_get_buf(vq, len) : vq_split_get_buf(vq, len);
}

void *virtqueue_detach_unused(struct virtqueue *vq)
{
	for (; vq->detach_pos < vq->num; vq->detach_pos++) {
		struct vq_head_state *h = &vq->heads[vq->detach_pos];

		if (h->token) {
			void *token = h->token;

			if (vq->packed)
				vq_packed_detach(vq, (uint16_t)vq->detach_pos);
			else
				vq_split_detach(vq, (uint16_t)vq->detach_pos);
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
	if (vq->packed)
		vq_packed_disable_cb(vq);
	else
		vq_split_disable_cb(vq);
}

static bool enable_cb(struct virtqueue *vq, bool delayed)
{
	if (vq->broken)
		return true;
	vq->cb_state = delayed ? VQ_CB_DELAYED : VQ_CB_ENABLED;
	return vq->packed ? vq_packed_enable_cb(vq, delayed) : vq_split_enable_cb(vq, delayed);
}

bool virtqueue_enable_cb(struct virtqueue *vq)
{
	return enable_cb(vq, false);
}

bool virtqueue_enable_cb_delayed(struct virtqueue *vq)
{
	/* Without EVENT_IDX there is no way to ask for a later interrupt. */
	return enable_cb(vq, vq->event_idx);
}

bool virtqueue_poll(const struct virtqueue *vq)
{
	return !vq->broken && (vq->packed ? vq_packed_poll(vq) : vq_split_poll(vq));
}

bool virtqueue_interrupt(struct virtqueue *vq)
{
	vq->stats.interrupts++;
	if (vq->broken)
		return false;
	if (!virtqueue_poll(vq)) {
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

const char *virtqueue_format(const struct virtqueue *vq)
{
	if (vq->packed)
		return vq->in_order ? "packed in-order" : "packed";
	return vq->in_order ? "split in-order" : "split";
}

uint64_t virtqueue_desc_phys(const struct virtqueue *vq)
{
	return vq->ring_phys;
}

uint64_t virtqueue_avail_phys(const struct virtqueue *vq)
{
	const void *p = vq->packed ? (const void *)vq->driver_event : (const void *)vq->vring.avail;
	return vq->ring_phys + (uint64_t)((const char *)p - (char *)vq->ring_mem);
}

uint64_t virtqueue_used_phys(const struct virtqueue *vq)
{
	const void *p = vq->packed ? (const void *)vq->device_event : (const void *)vq->vring.used;
	return vq->ring_phys + (uint64_t)((const char *)p - (char *)vq->ring_mem);
}

uint64_t virtqueue_legacy_pfn(const struct virtqueue *vq)
{
	return vq->ring_phys >> 12;
}
