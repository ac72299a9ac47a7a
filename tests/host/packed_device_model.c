/*
 * Device side of a packed virtqueue from the VIRTIO 1.2 spec; see packed_device_model.h.
 * Every offset below is quoted from the spec's structure definitions:
 *   2.8.13 struct pvirtq_desc { le64 addr; le32 len; le16 id; le16 flags; }          16 bytes
 *   2.8.14 struct pvirtq_event_suppress { le16 desc (off:15, wrap:1); le16 flags (2 bits) }
 *   flags: NEXT 1, WRITE 2, INDIRECT 4 (2.8.6, 2.8.3, 2.8.7), AVAIL 1<<7, USED 1<<15 (2.8.1)
 *   event flags: ENABLE 0, DISABLE 1, DESC 2 (2.8.10)
 */
#include <stdio.h>
#include <string.h>

#include "tests/host/le_bytes.h"
#include "tests/host/packed_device_model.h"

#define SPEC_F_NEXT     1
#define SPEC_F_WRITE    2
#define SPEC_F_INDIRECT 4
#define SPEC_F_AVAIL    (1u << 7)
#define SPEC_F_USED     (1u << 15)
#define SPEC_EV_ENABLE  0
#define SPEC_EV_DISABLE 1
#define SPEC_EV_DESC    2

static uint8_t *dsc(const struct pdm *d, uint16_t pos)
{
	return d->desc + 16 * (size_t)pos;
}

static void violation(struct pdm *d, const char *what, unsigned a, unsigned b)
{
	if (!d->error[0])
		snprintf(d->error, sizeof(d->error), "%s (%u, %u)", what, a, b);
}

void pdm_attach(struct pdm *d, uint64_t desc, uint64_t driver, uint64_t device, uint16_t num,
		bool event_idx, bool indirect)
{
	memset(d, 0, sizeof(*d));
	d->desc = (uint8_t *)(uintptr_t)desc;
	d->drv_event = (uint8_t *)(uintptr_t)driver;
	d->dev_event = (uint8_t *)(uintptr_t)device;
	d->num = num;
	d->event_idx = event_idx;
	d->indirect = indirect;
	d->avail_wrap = d->used_wrap = d->signalled_wrap = true; /* 2.8.1: both start at 1 */
}

/* A position and its lap as one number mod 2 * num (lap 1: wrap counter 1, lap 2: 0, ...). */
static unsigned lin(const struct pdm *d, uint16_t pos, bool wrap)
{
	return pos + (wrap ? 0u : d->num);
}

static unsigned dist(const struct pdm *d, unsigned from, unsigned to)
{
	return (to + 2u * d->num - from) % (2u * d->num);
}

static void step(const struct pdm *d, uint16_t *pos, bool *wrap)
{
	if (++*pos == d->num) {
		*pos = 0;
		*wrap = !*wrap;
	}
}

static bool add_seg(struct pdm *d, struct pdm_chain *c, uint64_t addr, uint32_t len, bool w,
		    bool *seen_write)
{
	if (c->nseg == VDM_MAX_SEGS) {
		violation(d, "chain has more segments than the model holds", c->nseg, 0);
		return false;
	}
	if (!w && *seen_write) {
		violation(d, "device-readable element after a writable one (2.8.18)", c->nseg, 0);
		return false;
	}
	*seen_write |= w;
	c->seg[c->nseg++] = (struct vdm_seg){addr, len, w};
	if (w)
		c->writable_bytes += len;
	else
		c->readable_bytes += len;
	return true;
}

int pdm_pop(struct pdm *d, struct pdm_chain *c)
{
	uint16_t pos = d->avail_pos, flags = ld16(dsc(d, pos) + 14);
	bool wrap = d->avail_wrap, seen_write = false;
	bool avail = !!(flags & SPEC_F_AVAIL), used = !!(flags & SPEC_F_USED);

	/* 2.8.1: available in this lap when AVAIL matches the driver's counter and USED does
	 * not. */
	if (avail != wrap || used == wrap)
		return 0;
	memset(c, 0, sizeof(*c));
	c->first = pos;
	for (;;) {
		const uint8_t *p = dsc(d, pos);
		flags = ld16(p + 14);
		if (!!(flags & SPEC_F_AVAIL) != wrap || !!(flags & SPEC_F_USED) == wrap) {
			violation(d, "a chain's descriptor is not marked available for its lap", pos,
				  flags);
			return -1;
		}
		if (++c->ndesc > d->num) {
			violation(d, "chain longer than the queue (2.8.17)", c->ndesc, d->num);
			return -1;
		}
		uint64_t addr = ld64(p);
		uint32_t len = ld32(p + 8);
		c->id = ld16(p + 12); /* the last descriptor's counts (2.8.6) */
		if (flags & SPEC_F_INDIRECT) {
			if (!d->indirect)
				violation(d, "INDIRECT without VIRTIO_F_INDIRECT_DESC", pos, 0);
			if (flags & SPEC_F_NEXT)
				violation(d, "INDIRECT in a chain linked by NEXT (2.8.19)", pos, flags);
			if (c->ndesc != 1 || len == 0 || len % 16) {
				violation(d, "bad indirect descriptor (in a chain, or table length)",
					  pos, len);
				return -1;
			}
			c->indirect = true;
			const uint8_t *t = (const uint8_t *)(uintptr_t)addr;
			for (uint32_t k = 0; k < len / 16; k++) {
				uint16_t tf = ld16(t + 16 * k + 14);
				if (tf & ~(uint16_t)SPEC_F_WRITE) {
					violation(d, "a flag other than WRITE in an indirect table (2.8.19)",
						  k, tf);
					return -1;
				}
				if (!add_seg(d, c, ld64(t + 16 * k), ld32(t + 16 * k + 8),
					     tf & SPEC_F_WRITE, &seen_write))
					return -1;
			}
		} else if (!add_seg(d, c, addr, len, flags & SPEC_F_WRITE, &seen_write)) {
			return -1;
		}
		step(d, &pos, &wrap);
		if (!(flags & SPEC_F_NEXT))
			break;
	}
	d->avail_pos = pos;
	d->avail_wrap = wrap;
	return 1;
}

uint32_t pdm_chain_write(const struct pdm_chain *c, const void *src, size_t n)
{
	const uint8_t *s = src;
	uint32_t done = 0;
	for (unsigned i = 0; i < c->nseg && done < n; i++) {
		if (!c->seg[i].writable)
			continue;
		uint32_t k = c->seg[i].len < n - done ? c->seg[i].len : (uint32_t)(n - done);
		memcpy((void *)(uintptr_t)c->seg[i].addr, s + done, k);
		done += k;
	}
	return done;
}

void pdm_push(struct pdm *d, uint16_t id, uint32_t len, uint16_t ndesc)
{
	uint8_t *p = dsc(d, d->used_pos);
	uint16_t flags = (uint16_t)((d->used_wrap ? SPEC_F_AVAIL | SPEC_F_USED : 0) |
				    (len ? SPEC_F_WRITE : 0));
	st16(p + 12, id);
	st32(p + 8, len);
	__atomic_thread_fence(__ATOMIC_RELEASE); /* id and len before the flags that expose them */
	st16(p + 14, flags);
	for (uint16_t i = 0; i < ndesc; i++)
		step(d, &d->used_pos, &d->used_wrap);
}

bool pdm_publish(struct pdm *d)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* our flags before the driver's event fields */
	uint16_t off_wrap = ld16(d->drv_event), flags = ld16(d->drv_event + 2) & 3;
	unsigned old = lin(d, d->signalled_pos, d->signalled_wrap);
	unsigned now = lin(d, d->used_pos, d->used_wrap);
	bool need;

	d->publishes++;
	if (d->ignore_suppression)
		need = true;
	else if (flags == SPEC_EV_DISABLE)
		need = false;
	else if (flags == SPEC_EV_DESC && d->event_idx) {
		unsigned ev = lin(d, off_wrap & 0x7fff, off_wrap >> 15);
		need = dist(d, old, ev) < dist(d, old, now);
	} else
		need = true;
	d->signalled_pos = d->used_pos;
	d->signalled_wrap = d->used_wrap;
	if (need)
		d->interrupts++;
	return need;
}

void pdm_want_notify(struct pdm *d, bool want)
{
	if (!want) {
		st16(d->dev_event + 2, SPEC_EV_DISABLE);
	} else if (d->event_idx) {
		st16(d->dev_event, (uint16_t)(d->avail_pos | (d->avail_wrap ? 0x8000 : 0)));
		st16(d->dev_event + 2, SPEC_EV_DESC);
	} else {
		st16(d->dev_event + 2, SPEC_EV_ENABLE);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool pdm_notify_required(const struct pdm *d, uint16_t old_pos, bool old_wrap, uint16_t new_pos,
			 bool new_wrap)
{
	uint16_t off_wrap = ld16(d->dev_event), flags = ld16(d->dev_event + 2) & 3;
	if (flags == SPEC_EV_DISABLE)
		return false;
	if (flags != SPEC_EV_DESC || !d->event_idx)
		return true;
	unsigned old = lin(d, old_pos, old_wrap), now = lin(d, new_pos, new_wrap);
	unsigned ev = lin(d, off_wrap & 0x7fff, off_wrap >> 15);
	return dist(d, old, ev) < dist(d, old, now);
}

uint16_t pdm_read_flags(const struct pdm *d, uint16_t pos)
{
	return ld16(dsc(d, pos) + 14);
}

uint16_t pdm_read_driver_event_flags(const struct pdm *d)
{
	return ld16(d->drv_event + 2);
}

uint16_t pdm_read_driver_event_off_wrap(const struct pdm *d)
{
	return ld16(d->drv_event);
}

void pdm_raw_desc(struct pdm *d, uint16_t pos, uint64_t addr, uint32_t len, uint16_t id,
		  uint16_t flags)
{
	uint8_t *p = dsc(d, pos);
	st64(p, addr);
	st32(p + 8, len);
	st16(p + 12, id);
	st16(p + 14, flags);
}

void pdm_raw_device_event(struct pdm *d, uint16_t off_wrap, uint16_t flags)
{
	st16(d->dev_event, off_wrap);
	st16(d->dev_event + 2, flags);
}
