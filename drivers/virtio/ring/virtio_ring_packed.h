/*
 * Packed virtqueue wire format: OASIS VIRTIO 1.2, section 2.8 "Packed Virtqueues" (2.8.13 The
 * Virtqueue Descriptor Format, 2.8.14 Event Suppression Structure Format, 2.8.10.1 Structure
 * Size and Alignment). Little-endian fields; Vireo runs on x86 only, so they are plain
 * integers (see virtio_ring.h).
 *
 * One ring of descriptors that both sides write: the driver marks a descriptor available by
 * setting its AVAIL flag to its wrap counter and USED to the inverse; the device marks it used by
 * setting both to its own wrap counter. Both counters start at 1 and flip each time their side
 * passes the end of the ring.
 */
#ifndef VIREO_VIRTIO_RING_PACKED_H
#define VIREO_VIRTIO_RING_PACKED_H

#include <stddef.h>
#include <stdint.h>

/* Descriptor flags (2.8.1, 2.8.3, 2.8.6, 2.8.7). NEXT, WRITE and INDIRECT as in split. */
#define VRING_PACKED_DESC_F_AVAIL 7  /* bit number: set to the driver's wrap counter */
#define VRING_PACKED_DESC_F_USED  15 /* bit number: the inverse when available, equal when used */

/* Event suppression flags (2.8.10). */
#define VRING_PACKED_EVENT_FLAG_ENABLE  0x0
#define VRING_PACKED_EVENT_FLAG_DISABLE 0x1
#define VRING_PACKED_EVENT_FLAG_DESC    0x2 /* only with VIRTIO_RING_F_EVENT_IDX */
/* off_wrap: bits 0..14 a descriptor offset, bit 15 the wrap counter it applies to. */
#define VRING_PACKED_EVENT_F_WRAP_CTR 15

/* The most entries a packed queue may have (2.8: "up to 2^15 entries"). */
#define VRING_PACKED_MAX_NUM 32768

/* Part alignments (2.8.10.1). */
#define VRING_PACKED_DESC_ALIGN  16
#define VRING_PACKED_EVENT_ALIGN 4

/* 2.8.13: one descriptor; also the entries of an indirect table (where only WRITE is valid). */
struct vring_packed_desc {
	uint64_t addr;  /* available: buffer address; used: unused */
	uint32_t len;   /* available: buffer length; used: bytes written (when WRITE is set) */
	uint16_t id;    /* buffer id: in the last descriptor of a chain, and in a used one */
	uint16_t flags; /* VRING_DESC_F_NEXT/WRITE/INDIRECT and the AVAIL/USED bits */
};

/* 2.8.14: the driver's (read by the device) and the device's (read by the driver). */
struct vring_packed_desc_event {
	uint16_t off_wrap; /* with EVENT_FLAG_DESC: notify when this descriptor is made
			    * available (device's) or used (driver's) */
	uint16_t flags;    /* VRING_PACKED_EVENT_FLAG_* in bits 0..1 */
};

_Static_assert(sizeof(struct vring_packed_desc) == 16, "pvirtq_desc is 16 bytes");
_Static_assert(offsetof(struct vring_packed_desc, id) == 12, "pvirtq_desc.id at byte 12");
_Static_assert(offsetof(struct vring_packed_desc, flags) == 14, "pvirtq_desc.flags at byte 14");
_Static_assert(sizeof(struct vring_packed_desc_event) == 4, "pvirtq_event_suppress is 4 bytes");

#endif /* VIREO_VIRTIO_RING_PACKED_H */
