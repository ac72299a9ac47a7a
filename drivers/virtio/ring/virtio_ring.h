/*
 * Split virtqueue wire format: OASIS VIRTIO 1.x, section 2.7 "Split Virtqueues"
 * (2.7.5 The Virtqueue Descriptor Table, 2.7.6 The Virtqueue Available Ring,
 *  2.7.8 The Virtqueue Used Ring, 2.7.7 Used Buffer Notification Suppression,
 *  2.7.10 Available Buffer Notification Suppression) and 2.7.2 "Legacy Interfaces: A Note on
 * Virtqueue Layout". Names follow linux/virtio_ring.h so readers can cross-reference.
 *
 * Endianness: modern devices use little-endian fields; legacy devices use guest-native order.
 * Vireo only runs on x86_64 (little-endian), so both are plain uint16_t/uint32_t/uint64_t here.
 * A big-endian port would need le16/le32/le64 accessors around every field access.
 *
 * This header describes shared memory only; it holds no driver state and calls nothing.
 */
#ifndef VIREO_VIRTIO_RING_H
#define VIREO_VIRTIO_RING_H

#include <stddef.h>
#include <stdint.h>

/* Descriptor flags (2.7.5). */
#define VRING_DESC_F_NEXT     1 /* the chain continues through the next field */
#define VRING_DESC_F_WRITE    2 /* device-writable buffer (otherwise device-readable) */
#define VRING_DESC_F_INDIRECT 4 /* addr/len is a table of descriptors (2.7.5.3) */

/* used->flags (2.7.10): device asks the driver not to notify it. A hint only. */
#define VRING_USED_F_NO_NOTIFY 1
/* avail->flags (2.7.7): driver asks the device not to interrupt it. A hint only. */
#define VRING_AVAIL_F_NO_INTERRUPT 1

/* Feature bits (6 "Reserved Feature Bits"). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX     29

/* Alignments of the three parts for modern devices (2.7 table "Virtqueue Part Alignment"). */
#define VRING_DESC_ALIGN_SIZE  16
#define VRING_AVAIL_ALIGN_SIZE 2
#define VRING_USED_ALIGN_SIZE  4
/* Legacy layout: the used ring starts on the next 4096-byte boundary (2.7.2). */
#define VRING_LEGACY_ALIGN 4096

/* Largest queue size the spec allows (2.7: "Queue Size ... maximum 32768"). */
#define VRING_MAX_NUM 32768

/* 2.7.5: one buffer (or, with INDIRECT, one table of descriptors). */
struct vring_desc {
	uint64_t addr;  /* guest-physical address (le64) */
	uint32_t len;   /* length in bytes (le32) */
	uint16_t flags; /* VRING_DESC_F_* (le16) */
	uint16_t next;  /* next descriptor when flags has NEXT (le16) */
};

/* 2.7.6: written by the driver only. After ring[num] comes used_event (with EVENT_IDX). */
struct vring_avail {
	uint16_t flags;  /* VRING_AVAIL_F_* (le16) */
	uint16_t idx;    /* free-running: where the driver puts the next entry, mod 2^16 (le16) */
	uint16_t ring[]; /* heads of chains, slot = idx % num (le16) */
};

/* 2.7.8: one completed chain. */
struct vring_used_elem {
	uint32_t id;  /* head index of the completed chain (le32) */
	uint32_t len; /* bytes the device wrote into the device-writable part (le32) */
};

/* 2.7.8: written by the device only. After ring[num] comes avail_event (with EVENT_IDX). */
struct vring_used {
	uint16_t flags; /* VRING_USED_F_* (le16) */
	uint16_t idx;   /* free-running (le16) */
	struct vring_used_elem ring[];
};

_Static_assert(sizeof(struct vring_desc) == 16, "vring_desc is 16 bytes on the wire");
_Static_assert(offsetof(struct vring_desc, len) == 8, "vring_desc.len at byte 8");
_Static_assert(offsetof(struct vring_desc, flags) == 12, "vring_desc.flags at byte 12");
_Static_assert(offsetof(struct vring_desc, next) == 14, "vring_desc.next at byte 14");
_Static_assert(sizeof(struct vring_avail) == 4, "avail header is flags + idx");
_Static_assert(sizeof(struct vring_used_elem) == 8, "used element is 8 bytes");
_Static_assert(sizeof(struct vring_used) == 4, "used header is flags + idx");

/* Pointers to the three parts of one queue; num is a power of two. */
struct vring {
	unsigned int num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/* Bytes of each part, including the EVENT_IDX trailer fields (always reserved: 2.7.6/2.7.8
 * give the sizes with the trailers, and reserving them costs 2 bytes). */
static inline size_t vring_desc_bytes(unsigned int num)
{
	return sizeof(struct vring_desc) * (size_t)num;
}

static inline size_t vring_avail_bytes(unsigned int num)
{
	return sizeof(uint16_t) * (3 + (size_t)num); /* flags, idx, ring[num], used_event */
}

static inline size_t vring_used_bytes(unsigned int num)
{
	/* flags, idx, ring[num], avail_event */
	return sizeof(uint16_t) * 3 + sizeof(struct vring_used_elem) * (size_t)num;
}

/* used_event: the avail ring's trailer. The driver writes it: "interrupt me when used->idx
 * passes this value" (2.7.7.2). */
#define vring_used_event(vr) ((vr)->avail->ring[(vr)->num])

/* avail_event: the used ring's trailer. The device writes it: "notify me when avail->idx
 * passes this value" (2.7.10.2). It sits right after ring[num]; the address is computed in
 * bytes so no uint16_t is read through a vring_used_elem lvalue. */
#define vring_avail_event(vr)                                                                      \
	(*(uint16_t *)((char *)(vr)->used + sizeof(struct vring_used) +                            \
		       sizeof(struct vring_used_elem) * (vr)->num))

/*
 * Legacy layout (2.7.2): one physically contiguous area starting on an align boundary:
 *   descriptor table (16 * num) | avail ring (6 + 2 * num) | pad to align | used ring (6 + 8 * num)
 * vring_size() gives its total length, vring_init() points vr at the parts inside p.
 * align is a power of two (4096 for the legacy PCI transport).
 */
static inline size_t vring_size(unsigned int num, unsigned long align)
{
	size_t head = vring_desc_bytes(num) + vring_avail_bytes(num);

	return ((head + align - 1) & ~((size_t)align - 1)) + vring_used_bytes(num);
}

static inline void vring_init(struct vring *vr, unsigned int num, void *p, unsigned long align)
{
	uintptr_t used = (uintptr_t)p + vring_desc_bytes(num) + vring_avail_bytes(num);

	vr->num = num;
	vr->desc = (struct vring_desc *)p;
	vr->avail = (struct vring_avail *)((char *)p + vring_desc_bytes(num));
	vr->used = (struct vring_used *)((used + align - 1) & ~((uintptr_t)align - 1));
}

/*
 * EVENT_IDX decision (2.7.7.2 / 2.7.10.2): having moved an index from old to new_idx, must the
 * other side be told, given that it asked to be told once the index passes event_idx? True when
 * event_idx lies in [old, new_idx) modulo 2^16. The uint16_t casts make it correct across the
 * 65535 -> 0 wrap; it holds as long as new_idx - old < 2^16 (a batch never exceeds the queue
 * size, at most 32768).
 */
static inline int vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

#endif /* VIREO_VIRTIO_RING_H */
