/*
 * Inside the virtqueue core: what the API file (virtqueue.c: creation, the checks on every
 * request, the entry points) calls in each ring format, virtqueue_split.c (2.7) and
 * virtqueue_packed.c (2.8), and what all three share (vq_broken.c, the accessors below).
 * Nothing outside drivers/virtio/ring includes this; it does not include the API header, so
 * the formats sit below the file that calls them.
 */
#ifndef VIREO_VQ_FORMAT_H
#define VIREO_VQ_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtio/ring/ring_port.h"
#include "drivers/virtio/ring/vq_state.h"

/* ---- shared-memory accessors ----
 * volatile: each access happens exactly once, at full width (no tearing, no re-reading a value
 * the device may change between two uses, no merged or elided stores). Ordering between them
 * is the job of the explicit barriers. */
static inline uint16_t vq_rd16(const uint16_t *p)
{
	return *(const volatile uint16_t *)p;
}

static inline uint32_t vq_rd32(const uint32_t *p)
{
	return *(const volatile uint32_t *)p;
}

static inline void vq_wr16(uint16_t *p, uint16_t v)
{
	*(volatile uint16_t *)p = v;
}

/* Mark the queue broken with a reason (%u, %lu, %s); the first reason stays (vq_broken.c). */
void vq_set_broken(struct virtqueue *vq, const char *fmt, ...);

/* A request virtqueue_add has checked: the format only lays it out. */
struct vq_add {
	const struct vq_sg *sg;
	unsigned int out, in, total; /* readable, writable, all segments */
	uint32_t in_len;             /* writable bytes */
	bool indirect;               /* as one INDIRECT descriptor (else a chain of total) */
	void *token;
};

/* The split format (virtqueue_split.c). vq_split_init: point the vring at ring memory and
 * put every descriptor on the free list. */
void vq_split_init(struct virtqueue *vq, void *ring);
size_t vq_split_ring_bytes(unsigned int num, bool legacy);
void vq_split_add(struct virtqueue *vq, const struct vq_add *a);
bool vq_split_kick_prepare(struct virtqueue *vq);
void *vq_split_get_buf(struct virtqueue *vq, uint32_t *len);
void vq_split_disable_cb(struct virtqueue *vq);
bool vq_split_enable_cb(struct virtqueue *vq, bool delayed);
bool vq_split_poll(const struct virtqueue *vq);
void vq_split_detach(struct virtqueue *vq, uint16_t head);

/* The packed format (virtqueue_packed.c), likewise. */
void vq_packed_init(struct virtqueue *vq, void *ring);
size_t vq_packed_ring_bytes(unsigned int num);
void vq_packed_add(struct virtqueue *vq, const struct vq_add *a);
bool vq_packed_kick_prepare(struct virtqueue *vq);
void *vq_packed_get_buf(struct virtqueue *vq, uint32_t *len);
void vq_packed_disable_cb(struct virtqueue *vq);
bool vq_packed_enable_cb(struct virtqueue *vq, bool delayed);
bool vq_packed_poll(const struct virtqueue *vq);
void vq_packed_detach(struct virtqueue *vq, uint16_t id);

#define VQ_NONE 0xffffu /* no descriptor, no id */

#endif /* VIREO_VQ_FORMAT_H */
