/*
 * Device side of a split virtqueue from the VIRTIO 1.x spec; see vring_device_model.h.
 * Every offset below is quoted from the spec's structure definitions:
 *   2.7.5  struct virtq_desc  { le64 addr; le32 len; le16 flags; le16 next; }       16 bytes
 *   2.7.6  struct virtq_avail { le16 flags; le16 idx; le16 ring[N]; le16 used_event; }
 *   2.7.8  struct virtq_used  { le16 flags; le16 idx; struct virtq_used_elem ring[N];
 *                               le16 avail_event; }   virtq_used_elem { le32 id; le32 len; }
 *   2.7.2  legacy: desc at 0, avail right after, used at the next 4096 boundary.
 */
#include <stdio.h>
#include <string.h>

#include "tests/host/le_bytes.h"
#include "tests/host/vring_device_model.h"

/* Flag values from 2.7.5 / 2.7.7 / 2.7.10. */
#define SPEC_DESC_F_NEXT       1
#define SPEC_DESC_F_WRITE      2
#define SPEC_DESC_F_INDIRECT   4
#define SPEC_AVAIL_F_NO_INTERRUPT 1
#define SPEC_USED_F_NO_NOTIFY  1

static uint8_t *phys(uint64_t a)
{
	return (uint8_t *)(uintptr_t)a;
}

static void start(struct vdm *d, uint16_t num, bool event_idx, bool indirect)
{
	d->num = num;
	d->event_idx = event_idx;
	d->indirect = indirect;
	d->ignore_suppression = false;
	d->last_avail = ld16(d->avail + 2);
	d->used_idx = ld16(d->used + 2);
	d->signalled_idx = d->used_idx;
	d->interrupts = 0;
	d->publishes = 0;
	d->error[0] = '\0';
}

void vdm_attach_modern(struct vdm *d, uint64_t desc, uint64_t avail, uint64_t used, uint16_t num,
		       bool event_idx, bool indirect)
{
	d->desc = phys(desc);
	d->avail = phys(avail);
	d->used = phys(used);
	start(d, num, event_idx, indirect);
}

void vdm_attach_legacy(struct vdm *d, uint64_t pfn, uint16_t num, bool event_idx, bool indirect)
{
	uint64_t base = pfn * 4096;
	uint64_t avail_end = base + 16u * num + 2u * (3u + num);

	d->desc = phys(base);
	d->avail = phys(base + 16u * num);
	d->used = phys((avail_end + 4095) & ~(uint64_t)4095);
	start(d, num, event_idx, indirect);
}

static uint8_t *desc_at(const struct vdm *d, uint8_t *table, uint16_t i)
{
	(void)d;
	return table + 16u * i;
}

uint16_t vdm_read_avail_idx(const struct vdm *d)
{
	return ld16(d->avail + 2);
}

uint16_t vdm_read_avail_flags(const struct vdm *d)
{
	return ld16(d->avail);
}

uint16_t vdm_read_used_event(const struct vdm *d)
{
	return ld16(d->avail + 4 + 2u * d->num);
}

uint16_t vdm_read_used_idx(const struct vdm *d)
{
	return ld16(d->used + 2);
}

static uint16_t read_avail_event(const struct vdm *d)
{
	return ld16(d->used + 4 + 8u * d->num);
}

uint16_t vdm_avail_pending(const struct vdm *d)
{
	return (uint16_t)(vdm_read_avail_idx(d) - d->last_avail);
}

static int violation(struct vdm *d, const char *what, unsigned a, unsigned b)
{
	if (!d->error[0])
		snprintf(d->error, sizeof(d->error), "%s (%u, %u)", what, a, b);
	return -1;
}

/* Walk one descriptor table (the ring's, or an indirect one of n entries) from index i. */
static int walk(struct vdm *d, struct vdm_chain *c, uint8_t *table, unsigned n, uint16_t i,
		bool in_indirect)
{
	unsigned steps = 0;
	bool seen_writable = c->nseg > 0 && c->seg[c->nseg - 1].writable;

	for (;;) {
		uint8_t *e;
		uint16_t flags;

		if (i >= n)
			return violation(d, "descriptor index out of table", i, n);
		if (++steps > n) /* 2.7.5.2: no loops, chain never longer than the table */
			return violation(d, "chain loops or exceeds table size", steps, n);
		e = desc_at(d, table, i);
		flags = ld16(e + 12);
		if (flags & SPEC_DESC_F_INDIRECT) {
			uint32_t len = ld32(e + 8);

			if (!d->indirect)
				return violation(d, "INDIRECT without the feature", i, flags);
			if (in_indirect)
				return violation(d, "INDIRECT inside an indirect table", i, flags);
			if (flags & SPEC_DESC_F_NEXT)
				return violation(d, "INDIRECT together with NEXT", i, flags);
			if (len == 0 || len % 16 != 0)
				return violation(d, "indirect table length not a multiple of 16", i, len);
			if (len / 16 > d->num)
				return violation(d, "indirect table longer than queue", len / 16, d->num);
			if (c->nseg > 0)
				return violation(d, "INDIRECT descriptor not alone in chain", i, c->nseg);
			c->indirect = true;
			return walk(d, c, phys(ld64(e)), len / 16, 0, true);
		}
		if (c->nseg >= VDM_MAX_SEGS)
			return violation(d, "chain longer than the model supports", c->nseg, 0);
		c->seg[c->nseg].addr = ld64(e);
		c->seg[c->nseg].len = ld32(e + 8);
		c->seg[c->nseg].writable = (flags & SPEC_DESC_F_WRITE) != 0;
		/* 2.7.4.2: device-readable descriptors before device-writable ones. */
		if (seen_writable && !c->seg[c->nseg].writable)
			return violation(d, "readable descriptor after a writable one", i, c->nseg);
		seen_writable = c->seg[c->nseg].writable;
		if (seen_writable)
			c->writable_bytes += c->seg[c->nseg].len;
		else
			c->readable_bytes += c->seg[c->nseg].len;
		c->nseg++;
		if (!(flags & SPEC_DESC_F_NEXT))
			return 0;
		i = ld16(e + 14);
	}
}

int vdm_pop(struct vdm *d, struct vdm_chain *c)
{
	uint16_t head;

	if (vdm_avail_pending(d) == 0)
		return 0;
	if (vdm_avail_pending(d) > d->num)
		return violation(d, "avail idx ran more than queue size ahead", vdm_avail_pending(d),
				 d->num);
	head = ld16(d->avail + 4 + 2u * (d->last_avail % d->num));
	d->last_avail++;
	c->head = head;
	c->indirect = false;
	c->nseg = 0;
	c->readable_bytes = 0;
	c->writable_bytes = 0;
	if (walk(d, c, d->desc, d->num, head, false) < 0)
		return -1;
	return 1;
}

size_t vdm_chain_read(const struct vdm_chain *c, void *dst, size_t max)
{
	size_t done = 0;

	for (unsigned i = 0; i < c->nseg && done < max; i++) {
		size_t n = c->seg[i].len;

		if (c->seg[i].writable)
			break;
		if (n > max - done)
			n = max - done;
		memcpy((uint8_t *)dst + done, phys(c->seg[i].addr), n);
		done += n;
	}
	return done;
}

uint32_t vdm_chain_write(const struct vdm_chain *c, const void *src, size_t n)
{
	size_t done = 0;

	for (unsigned i = 0; i < c->nseg && done < n; i++) {
		size_t k = c->seg[i].len;

		if (!c->seg[i].writable)
			continue;
		if (k > n - done)
			k = n - done;
		memcpy(phys(c->seg[i].addr), (const uint8_t *)src + done, k);
		done += k;
	}
	return (uint32_t)done;
}

void vdm_push(struct vdm *d, uint32_t id, uint32_t len)
{
	vdm_raw_used_elem(d, d->used_idx, id, len);
	d->used_idx++;
}

bool vdm_publish(struct vdm *d)
{
	uint16_t old = d->signalled_idx, new_idx = d->used_idx;
	bool need;

	st16(d->used + 2, new_idx);
	d->publishes++;
	d->signalled_idx = new_idx;
	if (d->ignore_suppression) {
		need = true;
	} else if (d->event_idx) {
		/* 2.7.7.2: interrupt if used_event lies in [old, new): written here as a window
		 * test on the distance from old rather than with the spec's helper. */
		uint16_t event = vdm_read_used_event(d);

		need = (uint16_t)(event - old) < (uint16_t)(new_idx - old);
	} else {
		need = !(vdm_read_avail_flags(d) & SPEC_AVAIL_F_NO_INTERRUPT);
	}
	if (need)
		d->interrupts++;
	return need;
}

void vdm_want_notify(struct vdm *d, bool want)
{
	if (d->event_idx) {
		/* Notify me once avail->idx passes last_avail, i.e. on the next buffer; when not
		 * wanted, park the event just behind (crossed only after 2^16 more buffers). */
		st16(d->used + 4 + 8u * d->num, want ? d->last_avail : (uint16_t)(d->last_avail - 1));
	} else {
		st16(d->used, want ? 0 : SPEC_USED_F_NO_NOTIFY);
	}
}

bool vdm_notify_required(const struct vdm *d, uint16_t old, uint16_t new_idx)
{
	if (old == new_idx)
		return false;
	if (d->event_idx) {
		uint16_t event = read_avail_event(d);

		return (uint16_t)(event - old) < (uint16_t)(new_idx - old);
	}
	return !(ld16(d->used) & SPEC_USED_F_NO_NOTIFY);
}

void vdm_read_desc(const struct vdm *d, uint16_t i, uint64_t *addr, uint32_t *len,
		   uint16_t *flags, uint16_t *next)
{
	const uint8_t *e = d->desc + 16u * i;

	*addr = ld64(e);
	*len = ld32(e + 8);
	*flags = ld16(e + 12);
	*next = ld16(e + 14);
}

void vdm_raw_write_desc(struct vdm *d, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
			uint16_t next)
{
	uint8_t *e = d->desc + 16u * i;

	st64(e, addr);
	st32(e + 8, len);
	st16(e + 12, flags);
	st16(e + 14, next);
}

void vdm_raw_set_avail_event(struct vdm *d, uint16_t v)
{
	st16(d->used + 4 + 8u * d->num, v);
}

void vdm_raw_set_used_flags(struct vdm *d, uint16_t v)
{
	st16(d->used, v);
}

void vdm_raw_used_elem(struct vdm *d, uint16_t pos, uint32_t id, uint32_t len)
{
	uint8_t *e = d->used + 4 + 8u * (pos % d->num);

	st32(e, id);
	st32(e + 4, len);
}

void vdm_raw_set_used_idx(struct vdm *d, uint16_t idx)
{
	st16(d->used + 2, idx);
	d->used_idx = idx;
}
