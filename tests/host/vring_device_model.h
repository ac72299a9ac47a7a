/*
 * A virtio device's side of a split virtqueue, written from the VIRTIO 1.x specification
 * (2.7 "Split Virtqueues", 2.7.2 legacy layout, 2.7.7 / 2.7.10 notification suppression) and
 * not from the driver: it does not include the driver's headers and reads and writes the ring
 * memory as raw little-endian bytes at the offsets the spec gives. Host only; phys == virt.
 *
 * It checks the driver's obligations as it consumes chains (readable before writable, no loops,
 * chain length, INDIRECT rules) and records the first violation in dev->error.
 * The vdm_raw_* functions let a test play a malicious device.
 */
#ifndef VIREO_TESTS_VRING_DEVICE_MODEL_H
#define VIREO_TESTS_VRING_DEVICE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VDM_MAX_SEGS 1024

struct vdm_seg {
	uint64_t addr;
	uint32_t len;
	bool writable;
};

struct vdm_chain {
	uint16_t head;      /* descriptor index the avail entry named */
	bool indirect;      /* the head was an INDIRECT descriptor */
	unsigned int nseg;
	struct vdm_seg seg[VDM_MAX_SEGS];
	uint64_t readable_bytes;
	uint64_t writable_bytes;
};

struct vdm {
	uint16_t num;
	uint8_t *desc, *avail, *used; /* raw areas */
	bool event_idx;               /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;                /* VIRTIO_F_INDIRECT_DESC negotiated */
	bool ignore_suppression;      /* interrupt on every publish, whatever the driver asked */
	uint16_t last_avail;          /* next avail index to consume */
	uint16_t used_idx;            /* device's private used index (published by vdm_publish) */
	uint16_t signalled_idx;       /* used->idx at the previous interrupt decision */
	unsigned long interrupts;     /* publishes after which the device would interrupt */
	unsigned long publishes;
	char error[256];              /* first driver spec violation seen, "" if none */
};

/* Modern: the three physical addresses the transport would program. The model starts from the
 * indices found in memory (0 after a reset). */
void vdm_attach_modern(struct vdm *d, uint64_t desc, uint64_t avail, uint64_t used, uint16_t num,
		       bool event_idx, bool indirect);
/* Legacy: the page frame number of the one contiguous area (2.7.2). */
void vdm_attach_legacy(struct vdm *d, uint64_t pfn, uint16_t num, bool event_idx, bool indirect);

/* Entries the driver has made available and the device not yet consumed. */
uint16_t vdm_avail_pending(const struct vdm *d);
/* Consume the next available chain: 1 and *c filled, 0 if none, -1 on a driver violation. */
int vdm_pop(struct vdm *d, struct vdm_chain *c);
/* Copy up to max readable bytes of the chain to dst; returns bytes copied. */
size_t vdm_chain_read(const struct vdm_chain *c, void *dst, size_t max);
/* Write n bytes from src into the chain's writable segments; returns bytes written. */
uint32_t vdm_chain_write(const struct vdm_chain *c, const void *src, size_t n);
/* Append a used element (not yet visible: see vdm_publish). */
void vdm_push(struct vdm *d, uint32_t id, uint32_t len);
/* Store used->idx, then decide per 2.7.7.2 whether to interrupt; returns that decision. */
bool vdm_publish(struct vdm *d);
/* Device-side notification suppression: want=true asks for a notification on the next
 * available buffer (avail_event = last_avail, or used->flags = 0), false suppresses. */
void vdm_want_notify(struct vdm *d, bool want);
/* Would the spec require a notification for the driver moving avail->idx from old to new_idx,
 * given the current used->flags / avail_event? (2.7.10) */
bool vdm_notify_required(const struct vdm *d, uint16_t old, uint16_t new_idx);

/* Raw access for tests and the malicious device. */
uint16_t vdm_read_avail_idx(const struct vdm *d);
uint16_t vdm_read_avail_flags(const struct vdm *d);
uint16_t vdm_read_used_event(const struct vdm *d);
uint16_t vdm_read_used_idx(const struct vdm *d);
void vdm_read_desc(const struct vdm *d, uint16_t i, uint64_t *addr, uint32_t *len,
		   uint16_t *flags, uint16_t *next);
void vdm_raw_write_desc(struct vdm *d, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
			uint16_t next);
void vdm_raw_set_avail_event(struct vdm *d, uint16_t v);
void vdm_raw_set_used_flags(struct vdm *d, uint16_t v);
/* Write a used element at used index position pos (slot pos % num), no idx change. */
void vdm_raw_used_elem(struct vdm *d, uint16_t pos, uint32_t id, uint32_t len);
void vdm_raw_set_used_idx(struct vdm *d, uint16_t idx);

#endif
