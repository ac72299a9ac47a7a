/*
 * A virtio device's side of a packed virtqueue, written from the VIRTIO 1.2 specification
 * (2.8 "Packed Virtqueues": 2.8.1 wrap counters, 2.8.6 chains, 2.8.7 indirect tables, 2.8.8 in
 * order, 2.8.10 event suppression, 2.8.13/2.8.14 formats) and not from the driver: it does not
 * include the driver's headers and reads and writes the ring as raw little-endian bytes at the
 * offsets the spec gives. Host only; phys == virt.
 *
 * It checks the driver's obligations as it consumes chains (AVAIL/USED bits of every
 * descriptor for its lap, readable before writable, chain length, INDIRECT rules, the id in
 * the last descriptor) and records the first violation in dev->error. The pdm_raw_* functions
 * let a test play a malicious device.
 */
#ifndef VIREO_TESTS_PACKED_DEVICE_MODEL_H
#define VIREO_TESTS_PACKED_DEVICE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/host/vring_device_model.h" /* struct vdm_seg, VDM_MAX_SEGS */

struct pdm_chain {
	uint16_t id;        /* buffer id (from the chain's last descriptor) */
	uint16_t first;     /* ring position of its first descriptor */
	uint16_t ndesc;     /* ring descriptors it occupies */
	bool indirect;
	unsigned int nseg;
	struct vdm_seg seg[VDM_MAX_SEGS];
	uint64_t readable_bytes;
	uint64_t writable_bytes;
};

struct pdm {
	uint16_t num;
	uint8_t *desc, *drv_event, *dev_event; /* raw areas */
	bool event_idx, indirect;
	bool ignore_suppression;  /* interrupt on every publish, whatever the driver asked */
	uint16_t avail_pos;       /* next descriptor to read */
	bool avail_wrap;          /* the Driver Ring Wrap Counter expected there */
	uint16_t used_pos;        /* where the next used descriptor goes */
	bool used_wrap;           /* the Device Ring Wrap Counter */
	uint16_t signalled_pos;   /* used_pos at the previous interrupt decision */
	bool signalled_wrap;
	unsigned long interrupts, publishes;
	char error[256];          /* first driver spec violation seen, "" if none */
};

/* The three addresses the transport would program; both wrap counters start at 1. */
void pdm_attach(struct pdm *d, uint64_t desc, uint64_t driver, uint64_t device, uint16_t num,
		bool event_idx, bool indirect);
/* Consume the next available chain: 1 and *c filled, 0 if none, -1 on a driver violation. */
int pdm_pop(struct pdm *d, struct pdm_chain *c);
/* Write n bytes into the chain's writable segments; returns bytes written. */
uint32_t pdm_chain_write(const struct pdm_chain *c, const void *src, size_t n);
/* Mark buffer id used: a used descriptor at used_pos (id, len; WRITE when len > 0; its flags
 * last), then skip ndesc descriptors (a chain's, or with IN_ORDER a whole batch's). */
void pdm_push(struct pdm *d, uint16_t id, uint32_t len, uint16_t ndesc);
/* Decide, per the driver event suppression structure (2.8.10), whether the descriptors used
 * since the last decision call for an interrupt; returns that decision. */
bool pdm_publish(struct pdm *d);
/* Device event suppression: want=true asks for a notification on the next available
 * descriptor (DESC at avail_pos with EVENT_IDX, else ENABLE), false DISABLEs. */
void pdm_want_notify(struct pdm *d, bool want);
/* Would the spec require a notification for the driver making descriptors available from
 * (old_pos, old_wrap) up to (new_pos, new_wrap), given the device event structure? */
bool pdm_notify_required(const struct pdm *d, uint16_t old_pos, bool old_wrap, uint16_t new_pos,
			 bool new_wrap);

/* Raw access. */
uint16_t pdm_read_flags(const struct pdm *d, uint16_t pos);
uint16_t pdm_read_driver_event_flags(const struct pdm *d);
uint16_t pdm_read_driver_event_off_wrap(const struct pdm *d);
void pdm_raw_desc(struct pdm *d, uint16_t pos, uint64_t addr, uint32_t len, uint16_t id,
		  uint16_t flags);
void pdm_raw_device_event(struct pdm *d, uint16_t off_wrap, uint16_t flags);

#endif
