/* The virtio-blk device layer over the register-level model (see virtio_fake_blk.h). */
#include <string.h>

#include "tests/host/virtio_fake_blk.h"

#define SECTOR 512
#define ID_BYTES 20

static bool negotiated(const struct vfb *b, unsigned bit)
{
	return (b->m->gfeat >> bit) & 1;
}

static bool offered(const struct vfb *b, unsigned bit)
{
	return (b->m->features >> bit) & 1;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

void vfb_config(struct vfb *b)
{
	/* 5.2.4: capacity @0, size_max @8, seg_max @12, geometry @16, blk_size @20. */
	uint8_t *c = b->m->devcfg;
	memset(c, 0, 60);
	memcpy(c, &b->capacity, 8);
	put32(c + 8, b->size_max);
	put32(c + 12, b->seg_max);
	put32(c + 20, b->blk_size);
	/* topology @24, writeback @32, then the discard and write-zeroes limits @36..56 */
	c[24] = b->physical_block_exp;
	c[25] = b->alignment_offset;
	memcpy(c + 26, &b->min_io_size, 2);
	put32(c + 28, b->opt_io_size);
	c[32] = b->writeback;
	put32(c + 36, b->max_discard_sectors);
	put32(c + 40, b->max_discard_seg);
	put32(c + 44, b->discard_sector_alignment);
	put32(c + 48, b->max_write_zeroes_sectors);
	put32(c + 52, b->max_write_zeroes_seg);
	c[56] = b->write_zeroes_may_unmap;
	b->m->devcfg_len = 60;
}

/* Execute one request; returns the status, and in *written the data bytes written. */
static uint8_t execute(struct vfb *b, uint32_t type, uint64_t sector, struct vfd_seg *data,
		       unsigned nd, uint32_t len, uint32_t *written)
{
	*written = 0;
	if (type < 32 && (b->unsupp_types >> type) & 1)
		return VFB_S_UNSUPP;
	switch (type) {
	case VFB_T_IN:
	case VFB_T_OUT: {
		if (len % SECTOR || len == 0)
			vfd_violation(b->m, "blk: %s of %u bytes, not whole sectors",
				      type ? "write" : "read", len);
		if (sector > b->capacity || len / SECTOR > b->capacity - sector) {
			vfd_violation(b->m, "blk: request past capacity (sector %llu + %u bytes)",
				      (unsigned long long)sector, len);
			return VFB_S_IOERR;
		}
		if (type == VFB_T_OUT && offered(b, VFB_F_RO))
			vfd_violation(b->m, "blk: write to a read-only device");
		if (b->ioerr && b->ioerr_sector >= sector && b->ioerr_sector < sector + len / SECTOR)
			return VFB_S_IOERR;
		uint8_t *at = b->disk + sector * SECTOR;
		for (unsigned i = 0; i < nd; i++) {
			if (type == VFB_T_IN)
				memcpy(data[i].addr, at, data[i].len);
			else
				memcpy(at, data[i].addr, data[i].len);
			at += data[i].len;
		}
		*written = type == VFB_T_IN ? len : 0;
		return VFB_S_OK;
	}
	case VFB_T_FLUSH:
		if (!negotiated(b, VFB_F_FLUSH))
			vfd_violation(b->m, "blk: FLUSH without VIRTIO_BLK_F_FLUSH");
		if (sector || nd)
			vfd_violation(b->m, "blk: FLUSH with sector %llu and %u data segments",
				      (unsigned long long)sector, nd);
		return VFB_S_OK;
	case VFB_T_GET_ID:
		if (nd != 1 || len != ID_BYTES || sector)
			vfd_violation(b->m, "blk: GET_ID with %u segments of %u bytes, sector %llu",
				      nd, len, (unsigned long long)sector);
		if (nd >= 1) {
			uint32_t n = data[0].len < ID_BYTES ? data[0].len : ID_BYTES;
			memcpy(data[0].addr, b->serial, b->id_bytes && b->id_bytes < n ? b->id_bytes : n);
			*written = n;
		}
		return VFB_S_OK;
	case VFB_T_DISCARD:
	case VFB_T_WRITE_ZEROES: {
		bool zeroes = type == VFB_T_WRITE_ZEROES;
		if (!negotiated(b, zeroes ? VFB_F_WRITE_ZEROES : VFB_F_DISCARD))
			vfd_violation(b->m, "blk: %s without its feature", zeroes ? "WRITE_ZEROES" : "DISCARD");
		if (offered(b, VFB_F_RO))
			vfd_violation(b->m, "blk: %s to a read-only device", zeroes ? "WRITE_ZEROES" : "DISCARD");
		if (sector)
			vfd_violation(b->m, "blk: sector %llu in a %s header", (unsigned long long)sector,
				      zeroes ? "WRITE_ZEROES" : "DISCARD");
		uint8_t ranges[16 * 64];
		if (len == 0 || len % 16 || len > sizeof(ranges)) {
			vfd_violation(b->m, "blk: %u bytes of ranges", len);
			return VFB_S_IOERR;
		}
		for (unsigned i = 0, at = 0; i < nd; at += data[i].len, i++)
			memcpy(ranges + at, data[i].addr, data[i].len);
		uint32_t max_seg = zeroes ? b->max_write_zeroes_seg : b->max_discard_seg;
		uint32_t max_sec = zeroes ? b->max_write_zeroes_sectors : b->max_discard_sectors;
		if (len / 16 > (max_seg ? max_seg : 1))
			vfd_violation(b->m, "blk: %u ranges, at most %u", len / 16, max_seg);
		for (uint32_t at = 0; at < len; at += 16) {
			uint64_t s0;
			uint32_t n, fl;
			memcpy(&s0, ranges + at, 8);
			memcpy(&n, ranges + at + 8, 4);
			memcpy(&fl, ranges + at + 12, 4);
			if (at == 0 && b->nreq <= VFB_MAX_LOG && b->nreq) {
				struct vfb_req *q = &b->log[b->nreq - 1];
				q->range_sector = s0, q->range_sectors = n, q->range_flags = fl;
				q->ranges = len / 16;
			}
			if (n == 0 || (max_sec && n > max_sec))
				vfd_violation(b->m, "blk: a range of %u sectors, at most %u", n, max_sec);
			if (fl & ~(zeroes ? 1u : 0u))
				vfd_violation(b->m, "blk: flags %#x in a %s range", fl,
					      zeroes ? "WRITE_ZEROES" : "DISCARD");
			if (s0 > b->capacity || n > b->capacity - s0) {
				vfd_violation(b->m, "blk: a range past capacity");
				return VFB_S_IOERR;
			}
			/* Both read zeroes afterwards here (a discard's contents are undefined). */
			memset(b->disk + s0 * SECTOR, 0, (size_t)n * SECTOR);
		}
		return VFB_S_OK;
	}
	default:
		return VFB_S_UNSUPP;
	}
}

/* Take one chain and complete it (or hold it). */
static void one(struct vfb *b, const struct vfd_ring *r, uint16_t head)
{
	struct vfd_seg segs[VFB_MAX_SEGS];
	unsigned nring;
	int ns = vfd_walk(b->m, r, head, segs, VFB_MAX_SEGS, &nring);
	if (ns < 0)
		return;
	if (ns < 2 || segs[0].write || segs[0].len != 16) {
		vfd_violation(b->m, "blk: request without a 16-byte readable header first");
		return;
	}
	struct vfd_seg *st = &segs[ns - 1];
	if (!st->write || st->len != 1) {
		vfd_violation(b->m, "blk: request without a 1-byte writable status last");
		return;
	}
	uint32_t type, reserved;
	uint64_t sector;
	memcpy(&type, segs[0].addr, 4);
	memcpy(&reserved, segs[0].addr + 4, 4);
	memcpy(&sector, segs[0].addr + 8, 8);
	if (reserved)
		vfd_violation(b->m, "blk: reserved header field %#x, not 0", reserved);
	struct vfd_seg *data = &segs[1];
	unsigned nd = (unsigned)ns - 2;
	uint32_t len = 0, max_seg = 0;
	bool want_write = type == VFB_T_IN || type == VFB_T_GET_ID;
	if (b->nreq < VFB_MAX_LOG)
		b->log[b->nreq] = (struct vfb_req){.type = type, .sector = sector};
	b->nreq++; /* (the log entry is completed below) */
	for (unsigned i = 0; i < nd; i++) {
		len += data[i].len;
		if (data[i].len > max_seg)
			max_seg = data[i].len;
		if (data[i].write != want_write)
			vfd_violation(b->m, "blk: type %u with a %s data segment", type,
				      data[i].write ? "writable" : "readable");
	}
	if (negotiated(b, VFB_F_SEG_MAX) && nd > b->seg_max)
		vfd_violation(b->m, "blk: %u data segments, seg_max %u", nd, b->seg_max);
	if (negotiated(b, VFB_F_SIZE_MAX) && max_seg > b->size_max)
		vfd_violation(b->m, "blk: a %u-byte segment, size_max %u", max_seg, b->size_max);
	if (b->nreq <= VFB_MAX_LOG) {
		b->log[b->nreq - 1].len = len;
		b->log[b->nreq - 1].segs = nd;
		b->log[b->nreq - 1].max_seg = max_seg;
	}

	uint32_t written;
	uint8_t status = execute(b, type, sector, data, nd, len, &written);
	if (!b->no_status)
		*st->addr = status;
	vfd_push_used(b->m, 0, r, head, b->short_len ? 1 : written + 1);
}

static void hook(struct vfd *m, unsigned q)
{
	struct vfb *b = m->hook_ctx;
	struct vfd_ring r;
	if (q != 0) {
		vfd_violation(m, "blk: notify for queue %u (one request queue)", q);
		return;
	}
	unsigned p = vfd_pending(m, 0, &r);
	if (!p)
		return;
	uint16_t old = m->q[0].used_idx;
	for (unsigned k = 0; k < p; k++) {
		uint16_t head = vfd_head_at(m, 0, &r, 0);
		if (b->bad_id_once) {
			b->bad_id_once = false;
			vfd_push_used(m, 0, &r, (uint16_t)(r.num + 5), 1);
			continue;
		}
		if (b->hold || b->hold_n) {
			if (b->hold_n)
				b->hold_n--;
			b->held[b->nheld++ % 256] = head;
			m->q[0].last_avail++;
			continue;
		}
		one(b, &r, head);
	}
	vfd_used_flush(m, 0, old);
}

void vfb_complete_held(struct vfb *b)
{
	struct vfd_ring r;
	if (!vfd_ring(b->m, 0, &r))
		return;
	uint16_t old = b->m->q[0].used_idx;
	b->hold = false;
	for (unsigned i = 0; i < b->nheld; i++) {
		/* one() takes the chain by advancing last_avail; these were taken already. */
		b->m->q[0].last_avail--;
		one(b, &r, b->held[i]);
	}
	b->nheld = 0;
	vfd_used_flush(b->m, 0, old);
}

void vfb_init(struct vfb *b, struct vfd *m, uint8_t *disk, uint64_t capacity)
{
	memset(b, 0, sizeof(*b));
	b->m = m;
	b->disk = disk;
	b->capacity = capacity;
	b->blk_size = SECTOR;
	m->num_queues = 1;
	m->queue_max[0] = 64;
	m->queue_hook = hook;
	m->hook_ctx = b;
	vfb_config(b);
}
