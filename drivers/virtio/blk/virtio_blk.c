/*
 * The virtio-blk driver.
 *
 * A request is three parts (5.2.6): a device-readable header {type, reserved, sector}, the data
 * (device-readable for writes, device-writable for reads, absent for flush), and one
 * device-writable status byte. Each part is its own descriptor, or the whole request is one
 * INDIRECT descriptor when negotiated (the ring core decides). The status byte is pre-set to a
 * value the device never writes, so a device that completes a request without writing its
 * status is caught instead of looking like success.
 */
#include "drivers/virtio/blk/virtio_blk.h"
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/core/core_port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_DISKS 8
#define STATUS_UNSET 0xff

struct vblk {
	struct virtio_device *vd;
	struct virtqueue *vq;
	struct vblk_info info;
	/* Most data segments one request may carry: seg_max, our table, and the queue size (a
	 * chain -- or an indirect table -- never has more descriptors than the queue, 2.7.5.2 /
	 * 2.7.5.3.1, and a request has a header and a status besides its data). */
	unsigned max_segs;
};
static struct vblk disks[MAX_DISKS];
static unsigned ndisks;

static const char *const blk_feature_names[24] = {
	[VIRTIO_BLK_F_SIZE_MAX] = "SIZE_MAX",   [VIRTIO_BLK_F_SEG_MAX] = "SEG_MAX",
	[VIRTIO_BLK_F_GEOMETRY] = "GEOMETRY",   [VIRTIO_BLK_F_RO] = "RO",
	[VIRTIO_BLK_F_BLK_SIZE] = "BLK_SIZE",   [VIRTIO_BLK_F_FLUSH] = "FLUSH",
	[VIRTIO_BLK_F_TOPOLOGY] = "TOPOLOGY",   [VIRTIO_BLK_F_CONFIG_WCE] = "CONFIG_WCE",
	[VIRTIO_BLK_F_MQ] = "MQ",               [VIRTIO_BLK_F_DISCARD] = "DISCARD",
	[VIRTIO_BLK_F_WRITE_ZEROES] = "WRITE_ZEROES",
};

/* The ranges of a DISCARD or WRITE_ZEROES request (5.2.6.1): each whole logical blocks, at
 * most the device's sectors per range, inside the disk, with only the flags the type allows;
 * at most its ranges per request. 0 or the errno vblk_submit returns. */
static int check_ranges(const struct vblk_info *in, const struct blk_req *r)
{
	bool zeroes = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
	if (!(zeroes ? in->write_zeroes : in->discard))
		return -EOPNOTSUPP;
	if (in->read_only)
		return -EROFS;
	const size_t one = sizeof(struct virtio_blk_discard_write_zeroes);
	uint32_t n = r->len / one;
	if (r->len == 0 || r->len % one || n > (zeroes ? in->max_write_zeroes_seg : in->max_discard_seg))
		return -EINVAL;
	uint32_t max = zeroes ? in->max_write_zeroes_sectors : in->max_discard_sectors;
	uint32_t flags = zeroes && in->write_zeroes_may_unmap ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
	uint64_t per_block = in->blk_size / VIRTIO_BLK_SECTOR;
	const struct virtio_blk_discard_write_zeroes *g = r->buf;
	for (uint32_t i = 0; i < n; i++) {
		if (g[i].num_sectors == 0 || g[i].num_sectors > max || (g[i].flags & ~flags))
			return -EINVAL;
		if (g[i].sector > in->capacity || g[i].num_sectors > in->capacity - g[i].sector)
			return -ERANGE;
		if ((g[i].sector | g[i].num_sectors) & (per_block - 1))
			return -EINVAL;
	}
	return 0;
}

unsigned vblk_count(void)
{
	return ndisks;
}

struct vblk *vblk_at(unsigned i)
{
	return i < ndisks ? &disks[i] : NULL;
}

struct vblk *vblk_find(const char *name)
{
	for (unsigned i = 0; i < ndisks; i++)
		if (strcmp(disks[i].info.name, name) == 0)
			return &disks[i];
	return NULL;
}

const struct vblk_info *vblk_info(const struct vblk *d)
{
	return &d->info;
}

struct virtio_device *vblk_virtio(struct vblk *d)
{
	return d->vd;
}

struct virtqueue *vblk_queue(struct vblk *d)
{
	return d->vq;
}

/* ---- completion ---- */

static int status_to_errno(uint8_t s)
{
	switch (s) {
	case VIRTIO_BLK_S_OK:
		return 0;
	case VIRTIO_BLK_S_IOERR:
		return -EIO;
	case VIRTIO_BLK_S_UNSUPP:
		return -EOPNOTSUPP;
	default:
		return -EPROTO; /* not written: the device completed without a status */
	}
}

/* The queue callback: harvest every used request. Interrupt context in irq mode. */
static void blk_harvest(struct virtqueue *vq)
{
	struct vblk *d = virtio_vq_priv(vq);
	struct blk_req *r;
	uint32_t len;
	while ((r = virtqueue_get_buf(vq, &len))) {
		r->complete_ns = virtio_time_ns();
		/* The device vouches only for the first len bytes it wrote (2.7.8.2), and the
		 * status byte is the last. A failure the status reports is believed whatever len
		 * says (believing it loses nothing), but success needs a used length that covers
		 * the data of a read and the status: anything shorter leaves data nobody wrote.
		 * A status never written still reads STATUS_UNSET, which is no status at all. */
		uint32_t status_end =
			(r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_GET_ID ? r->len : 0) + 1;
		r->result = status_to_errno(r->status);
		if (r->result == 0 && len < status_end)
			r->result = -EPROTO;
		if (r->result) {
			d->info.errors++;
			if (r->result == -EOPNOTSUPP)
				d->info.unsupported++;
			virtio_log("%s: %s of sector %llu (+%u bytes) failed: %s\n", d->info.name,
				   r->type == VIRTIO_BLK_T_IN	 ? "read"
				   : r->type == VIRTIO_BLK_T_OUT ? "write"
								 : "request",
				   (unsigned long long)r->sector, r->len,
				   r->result == -EIO	      ? "I/O error (IOERR)"
				   : r->result == -EOPNOTSUPP ? "unsupported (UNSUPP)"
							      : "no status from the device");
		}
		if (r->done)
			r->done(r);
	}
}

/* ---- submission ---- */

/* The next segment of a buffer at address at with len bytes left: up to the page's end (as a
 * page-based kernel hands out memory, virtio_virt_to_phys's contiguity rule) and at most
 * size_max (5.2.6.1: no segment larger than size_max when SIZE_MAX is negotiated). */
static uint32_t segment_at(const struct vblk *d, uintptr_t at, uint64_t len)
{
	uint32_t in_page = VIRTIO_PAGE_SIZE - (uint32_t)(at % VIRTIO_PAGE_SIZE);
	uint32_t take = len < in_page ? (uint32_t)len : in_page;
	if (d->info.size_max && take > d->info.size_max)
		take = d->info.size_max;
	return take;
}

/* Split [buf, buf+len) into segments. Returns the number of segments, or -EINVAL when
 * seg_max or our table would be exceeded. */
static int build_segments(const struct vblk *d, struct vq_sg *sg, uint8_t *buf, uint32_t len)
{
	int n = 0;
	while (len) {
		uint32_t take = segment_at(d, (uintptr_t)buf, len);
		if ((unsigned)n == d->max_segs)
			return -EINVAL;
		sg[n++] = (struct vq_sg){buf, take};
		buf += take;
		len -= take;
	}
	return n;
}

/* How many bytes from address at (len at most) one request carries: as many whole logical blocks as
 * max_segs segments hold, with the segments cut where build_segments cuts them. Exact for any
 * size_max and alignment (a size_max that does not divide the page leaves a short segment at
 * each page's end, so no fixed bytes-per-segment figure is right). 0: not even one block. */
static uint32_t request_bytes(const struct vblk *d, uintptr_t at, uint64_t len)
{
	uint64_t fit = 0;
	for (unsigned n = 0; n < d->max_segs && fit < len && fit < UINT32_MAX / 2; n++)
		fit += segment_at(d, at + (uintptr_t)fit, len - fit);
	if (fit > len)
		fit = len;
	return (uint32_t)(fit / d->info.blk_size * d->info.blk_size);
}

int vblk_submit(struct vblk *d, struct blk_req *r, bool kick)
{
	const struct vblk_info *in = &d->info;
	bool write = r->type == VIRTIO_BLK_T_OUT;
	if (d->vd->failed || !d->vq)
		return -EIO; /* dead, or between a reset and its re-initialisation */
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (r->len == 0 || r->len % VIRTIO_BLK_SECTOR)
			return -EINVAL;
		/* 5.2.6.2: never past capacity; checked here so the device never sees it. */
		if (r->sector > in->capacity || r->len / VIRTIO_BLK_SECTOR > in->capacity - r->sector)
			return -ERANGE;
		/* A device with a larger logical block (BLK_SIZE) still counts in 512-byte sectors,
		 * but QEMU fails a request that is not whole blocks with IOERR, which would look like
		 * a media error: refuse it here instead. */
		if ((r->sector | r->len / VIRTIO_BLK_SECTOR) & (in->blk_size / VIRTIO_BLK_SECTOR - 1))
			return -EINVAL;
		if (write && in->read_only)
			return -EROFS;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (in->read_only)
			return -EROFS; /* nothing was written to make durable */
		if (!in->flush)
			return -EOPNOTSUPP;
		r->len = 0;
		r->sector = 0; /* 5.2.6.2: sector 0 for FLUSH */
		break;
	case VIRTIO_BLK_T_GET_ID:
		if (r->len != VIRTIO_BLK_ID_BYTES)
			return -EINVAL;
		r->sector = 0;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		int err = check_ranges(in, r);
		if (err)
			return err;
		r->sector = 0; /* 5.2.6: unused but for reads and writes; the ranges say where */
		break;
	}
	default:
		return -EINVAL;
	}

	r->hdr = (struct virtio_blk_outhdr){.type = r->type, .reserved = 0, .sector = r->sector};
	r->status = STATUS_UNSET;
	r->result = -EINPROGRESS;
	unsigned nsg = 0;
	r->sg[nsg++] = (struct vq_sg){&r->hdr, sizeof(r->hdr)};
	int ndata = 0;
	if (r->len) {
		ndata = build_segments(d, &r->sg[nsg], r->buf, r->len);
		if (ndata < 0)
			return ndata;
		nsg += (unsigned)ndata;
	}
	r->sg[nsg++] = (struct vq_sg){&r->status, 1};
	/* Readable first, then writable (2.7.4.2): header (+ data for a write) | (data for a
	 * read +) status. */
	bool data_out = write || r->type == VIRTIO_BLK_T_DISCARD ||
			r->type == VIRTIO_BLK_T_WRITE_ZEROES; /* the ranges are the device's to read */
	unsigned out = data_out ? 1 + (unsigned)ndata : 1;
	unsigned inn = nsg - out;

	unsigned long fl = virtio_lock();
	r->submit_ns = virtio_time_ns();
	int err = virtqueue_add(d->vq, r->sg, out, inn, r);
	if (!err && kick)
		virtqueue_kick(d->vq);
	virtio_unlock(fl);
	if (!err) {
		if (r->type == VIRTIO_BLK_T_IN)
			d->info.reads++;
		else if (write)
			d->info.writes++;
		else if (r->type == VIRTIO_BLK_T_FLUSH)
			d->info.flushes++;
		else if (r->type == VIRTIO_BLK_T_DISCARD)
			d->info.discards++;
		else if (r->type == VIRTIO_BLK_T_WRITE_ZEROES)
			d->info.zeroes++;
	}
	return err;
}

void vblk_kick(struct vblk *d)
{
	unsigned long fl = virtio_lock();
	virtqueue_kick(d->vq);
	virtio_unlock(fl);
}

void vblk_poll(struct vblk *d)
{
	unsigned long fl = virtio_lock();
	virtio_vq_service(d->vd, d->vq);
	virtio_unlock(fl);
}

int vblk_wait(struct vblk *d, bool (*cond)(void *arg), void *arg, uint64_t timeout_ns)
{
	int err = virtio_wait(d->vd, d->vq, cond, arg, timeout_ns);
	if (err && !d->vd->dead) {
		/* The caller gives up on requests the device still owns and will reuse their
		 * memory (sync_one's request and status byte are on its stack): a late completion
		 * would write into it. Reset the device first; the recovery fails every request
		 * still queued (blk_reset_done) and brings the disk back (docs/FAILURES.md). */
		struct virtio_device *vd = d->vd;
		virtio_recover(vd, vd->reset_pending ? vd->reset_reason
				   : err == -ETIMEDOUT	 ? "a request timed out"
							 : "the request queue broke");
	}
	return err;
}

/* ---- synchronous wrapper ---- */

static void sync_done(struct blk_req *r)
{
	*(volatile bool *)r->ctx = true;
}

static bool sync_cond(void *arg)
{
	return *(volatile bool *)arg;
}

static int sync_one(struct vblk *d, struct blk_req *r)
{
	volatile bool done = false;
	r->done = sync_done;
	r->ctx = (void *)&done;
	int err;
	uint64_t t0 = virtio_time_ns();
	while ((err = vblk_submit(d, r, true)) == -ENOSPC) {
		/* Ring full of others' requests: let some complete, then retry, for as long as a
		 * request may take (after that the device is stuck, and vblk_wait's abandon
		 * applies to it too). */
		if (virtio_time_ns() - t0 > VIRTIO_TIMEOUT_NS) {
			virtio_recover(d->vd, "the request ring stayed full");
			return -ETIMEDOUT;
		}
		vblk_poll(d);
		virtio_idle();
	}
	if (err)
		return err;
	if ((err = vblk_wait(d, sync_cond, (void *)&done, VIRTIO_TIMEOUT_NS)))
		return err;
	return r->result;
}

int vblk_io(struct vblk *d, uint32_t type, uint64_t sector, void *buf, size_t len)
{
	if (d->vd->failed || !d->vq)
		return -EIO; /* dead, or between a reset and its re-initialisation */
	uint8_t *p = buf;
	while (len) {
		uint32_t n = request_bytes(d, (uintptr_t)p, len);
		if (n == 0)
			return -EINVAL; /* not one whole block fits the segments (or len is not blocks) */
		struct blk_req r = {.type = type, .sector = sector, .buf = p, .len = n};
		int err = sync_one(d, &r);
		if (err)
			return err;
		p += n;
		len -= n;
		sector += n / VIRTIO_BLK_SECTOR;
	}
	return 0;
}

int vblk_flush(struct vblk *d)
{
	struct blk_req r = {.type = VIRTIO_BLK_T_FLUSH};
	return sync_one(d, &r);
}

/* One range per request, each as long as the device takes (whole logical blocks). */
static int ranges(struct vblk *d, uint32_t type, uint64_t sector, uint64_t sectors, uint32_t flags)
{
	const struct vblk_info *in = &d->info;
	bool zeroes = type == VIRTIO_BLK_T_WRITE_ZEROES;
	if (d->vd->failed || !d->vq)
		return -EIO;
	if (!(zeroes ? in->write_zeroes : in->discard))
		return -EOPNOTSUPP;
	uint32_t max = zeroes ? in->max_write_zeroes_sectors : in->max_discard_sectors;
	uint32_t step = max / (in->blk_size / VIRTIO_BLK_SECTOR) * (in->blk_size / VIRTIO_BLK_SECTOR);
	if (sectors == 0 || step == 0)
		return -EINVAL;
	while (sectors) {
		struct virtio_blk_discard_write_zeroes g = {
			.sector = sector,
			.num_sectors = (uint32_t)(sectors < step ? sectors : step),
			.flags = flags,
		};
		struct blk_req r = {.type = type, .buf = &g, .len = sizeof(g)};
		int err = sync_one(d, &r);
		if (err)
			return err;
		sector += g.num_sectors;
		sectors -= g.num_sectors;
	}
	return 0;
}

int vblk_discard(struct vblk *d, uint64_t sector, uint64_t sectors)
{
	return ranges(d, VIRTIO_BLK_T_DISCARD, sector, sectors, 0);
}

int vblk_write_zeroes(struct vblk *d, uint64_t sector, uint64_t sectors, bool unmap)
{
	/* The unmap flag only means something where the device says it may deallocate. */
	uint32_t flags = unmap && d->info.write_zeroes_may_unmap ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
	return ranges(d, VIRTIO_BLK_T_WRITE_ZEROES, sector, sectors, flags);
}

static int get_id(struct vblk *d)
{
	static uint8_t id[VIRTIO_BLK_ID_BYTES];
	struct blk_req r = {.type = VIRTIO_BLK_T_GET_ID, .buf = id, .len = sizeof(id)};
	memset(id, 0, sizeof(id));
	int err = sync_one(d, &r);
	if (err)
		return err;
	/* 5.2.6: NUL-padded, and not NUL-terminated when all 20 bytes are used. */
	memcpy(d->info.id, id, VIRTIO_BLK_ID_BYTES);
	d->info.id[VIRTIO_BLK_ID_BYTES] = 0;
	return 0;
}

/* ---- probe and config ---- */

static int read_capacity(struct vblk *d)
{
	uint64_t cap = 0;
	int err = virtio_cread(d->vd, struct virtio_blk_config, capacity, &cap);
	if (!err)
		d->info.capacity = cap;
	return err;
}

static void blk_config_changed(struct virtio_device *vd)
{
	struct vblk *d = vd->priv;
	uint64_t old = d->info.capacity;
	int err = read_capacity(d);
	if (err)
		virtio_set_error(vd, "capacity unreadable after a config change (%d); keeping %llu "
				 "sectors", err, (unsigned long long)old);
	else if (d->info.capacity != old)
		virtio_log("%s: capacity changed from %llu to %llu sectors\n", d->info.name,
			   (unsigned long long)old, (unsigned long long)d->info.capacity);
}

/* After a reset for a recovery (virtio_recover): the device no longer touches the queue, so
 * every request still in it fails now, with -EIO, instead of never. */
static void blk_reset_done(struct virtio_device *vd)
{
	struct vblk *d = vd->priv;
	struct blk_req *r;
	while (d->vq && (r = virtqueue_detach_unused(d->vq))) {
		r->result = -EIO;
		r->complete_ns = virtio_time_ns();
		d->info.errors++;
		if (r->done)
			r->done(r);
	}
	d->vq = NULL; /* vblk_submit refuses until probe sets it again */
}

/* The optional groups of 5.2.4 whose features were negotiated: topology, the cache mode, the
 * discard and write-zeroes limits. A limit of 0 is taken as "none" (segments: one). */
static int read_optional_config(struct vblk *d)
{
	struct virtio_device *vd = d->vd;
	struct vblk_info *in = &d->info;
	struct virtio_blk_topology t = {0};
	int err = 0;
	if (virtio_has_feature(vd, VIRTIO_BLK_F_TOPOLOGY) &&
	    !(err = virtio_cread(vd, struct virtio_blk_config, topology, &t))) {
		in->physical_block_exp = t.physical_block_exp;
		in->alignment_offset = t.alignment_offset;
		in->min_io_size = t.min_io_size;
		in->opt_io_size = t.opt_io_size;
	}
	in->wce = virtio_has_feature(vd, VIRTIO_BLK_F_CONFIG_WCE);
	uint8_t wb = 0;
	if (!err && in->wce && !(err = virtio_cread(vd, struct virtio_blk_config, writeback, &wb)))
		in->writeback = wb != 0;
	in->discard = virtio_has_feature(vd, VIRTIO_BLK_F_DISCARD);
	if (!err && in->discard &&
	    !(err = virtio_cread(vd, struct virtio_blk_config, max_discard_sectors,
				 &in->max_discard_sectors)) &&
	    !(err = virtio_cread(vd, struct virtio_blk_config, max_discard_seg,
				 &in->max_discard_seg)))
		err = virtio_cread(vd, struct virtio_blk_config, discard_sector_alignment,
				   &in->discard_sector_alignment);
	in->write_zeroes = virtio_has_feature(vd, VIRTIO_BLK_F_WRITE_ZEROES);
	uint8_t may_unmap = 0;
	if (!err && in->write_zeroes &&
	    !(err = virtio_cread(vd, struct virtio_blk_config, max_write_zeroes_sectors,
				 &in->max_write_zeroes_sectors)) &&
	    !(err = virtio_cread(vd, struct virtio_blk_config, max_write_zeroes_seg,
				 &in->max_write_zeroes_seg)))
		err = virtio_cread(vd, struct virtio_blk_config, write_zeroes_may_unmap, &may_unmap);
	in->write_zeroes_may_unmap = may_unmap != 0;
	if (!in->max_discard_sectors)
		in->max_discard_sectors = UINT32_MAX;
	if (!in->max_discard_seg)
		in->max_discard_seg = 1;
	if (!in->max_write_zeroes_sectors)
		in->max_write_zeroes_sectors = UINT32_MAX;
	if (!in->max_write_zeroes_seg)
		in->max_write_zeroes_seg = 1;
	return err;
}

static int blk_probe(struct virtio_device *vd)
{
	struct vblk *d = vd->priv; /* set: a re-initialisation after a reset; same disk, name */
	bool again = d != NULL;
	if (!again) {
		if (ndisks == MAX_DISKS)
			return -ENOSPC;
		d = &disks[ndisks];
		memset(d, 0, sizeof(*d));
		d->vd = vd;
		vd->priv = d;
		snprintf(d->info.name, sizeof(d->info.name), "vd%c", 'a' + ndisks);
	}

	uint64_t want = VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
			VIRTIO_BIT(VIRTIO_BLK_F_GEOMETRY) | VIRTIO_BIT(VIRTIO_BLK_F_RO) |
			VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
			VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY) | VIRTIO_BIT(VIRTIO_BLK_F_CONFIG_WCE) |
			VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	int err = virtio_negotiate(vd, want);
	if (err)
		return err;

	struct vblk_info *in = &d->info;
	in->blk_size = VIRTIO_BLK_SECTOR;
	/* Optional fields are only valid when their feature is negotiated (5.2.4). A field that
	 * cannot be read consistently (the generation kept changing) fails the probe: a torn
	 * capacity or segment limit would be trusted for every request. */
	err = read_capacity(d);
	if (!err && virtio_has_feature(vd, VIRTIO_BLK_F_BLK_SIZE))
		err = virtio_cread(vd, struct virtio_blk_config, blk_size, &in->blk_size);
	if (!err && virtio_has_feature(vd, VIRTIO_BLK_F_SEG_MAX))
		err = virtio_cread(vd, struct virtio_blk_config, seg_max, &in->seg_max);
	if (!err && virtio_has_feature(vd, VIRTIO_BLK_F_SIZE_MAX))
		err = virtio_cread(vd, struct virtio_blk_config, size_max, &in->size_max);
	if (!err)
		err = read_optional_config(d);
	if (err) {
		virtio_fail(vd, "cannot read a consistent configuration (%d)", err);
		return err;
	}
	in->read_only = virtio_has_feature(vd, VIRTIO_BLK_F_RO);
	in->flush = virtio_has_feature(vd, VIRTIO_BLK_F_FLUSH);
	if (in->blk_size < VIRTIO_BLK_SECTOR || (in->blk_size & (in->blk_size - 1))) {
		virtio_fail(vd, "blk_size %u is not a power of two >= 512", in->blk_size);
		in->blk_size = VIRTIO_BLK_SECTOR; /* the disk stays listed: keep its figures sane */
		return -EINVAL;
	}

	/* Each request has a header and a status besides its data: the ring core sends it as one
	 * INDIRECT descriptor when negotiated, so size the tables for the most segments. */
	struct virtio_vq_spec spec = {.name = "requestq",
				      .callback = blk_harvest,
				      .priv = d,
				      .indirect_max = VBLK_MAX_SEGS + 2};
	if ((err = virtio_setup_vqs(vd, 1, &spec)))
		return err;
	d->vq = vd->vqs[0].vq;
	d->max_segs = VBLK_MAX_SEGS;
	if (in->seg_max && in->seg_max < d->max_segs)
		d->max_segs = in->seg_max;
	unsigned qsize = virtqueue_size(d->vq);
	if (qsize < d->max_segs + 2)
		d->max_segs = qsize > 2 ? qsize - 2 : 0;
	if (d->max_segs < 1) {
		virtio_fail(vd, "queue size %u leaves no room for data", virtqueue_size(d->vq));
		return -EINVAL;
	}
	in->max_request = request_bytes(d, 0, UINT32_MAX); /* from a page-aligned buffer */
	if (in->max_request == 0) {
		virtio_fail(vd, "%u segments of at most %u bytes hold no %u-byte block", d->max_segs,
			    in->size_max, in->blk_size);
		return -EINVAL;
	}
	snprintf(vd->name, sizeof(vd->name), "%s", in->name);
	if (!again)
		ndisks++;
	virtio_device_ready(vd);

	if (get_id(d) != 0)
		in->id[0] = 0; /* GET_ID is optional: UNSUPP is fine */
	virtio_log("%s: %llu sectors (%llu MiB), block %u, seg_max %u, size_max %u%s%s, id \"%s\"\n",
		   in->name, (unsigned long long)in->capacity,
		   (unsigned long long)(in->capacity >> 11), in->blk_size, in->seg_max,
		   in->size_max, in->read_only ? ", read-only" : "",
		   in->flush ? ", flush" : "", in->id);
	if (virtio_has_feature(vd, VIRTIO_BLK_F_TOPOLOGY))
		virtio_log("%s: topology: %u logical blocks per physical, alignment offset %u, "
			   "min I/O %u, optimal I/O %u blocks\n", in->name,
			   1u << (in->physical_block_exp & 31), in->alignment_offset,
			   in->min_io_size, in->opt_io_size);
	if (in->wce)
		virtio_log("%s: cache: %s\n", in->name, in->writeback ? "writeback" : "writethrough");
	if (in->discard)
		virtio_log("%s: discard: up to %u sectors x %u ranges, alignment %u\n", in->name,
			   in->max_discard_sectors, in->max_discard_seg, in->discard_sector_alignment);
	if (in->write_zeroes)
		virtio_log("%s: write zeroes: up to %u sectors x %u ranges%s\n", in->name,
			   in->max_write_zeroes_sectors, in->max_write_zeroes_seg,
			   in->write_zeroes_may_unmap ? ", may unmap" : "");
	return 0;
}

static void blk_describe(struct virtio_device *vd, int (*out)(const char *fmt, ...))
{
	const struct vblk_info *in = &((struct vblk *)vd->priv)->info;
	out("  disk %s: %llu sectors, %s, id \"%s\", reads=%llu writes=%llu flushes=%llu "
	    "errors=%llu unsupported=%llu discards=%llu zeroes=%llu\n",
	    in->name, (unsigned long long)in->capacity, in->read_only ? "ro" : "rw", in->id,
	    (unsigned long long)in->reads, (unsigned long long)in->writes,
	    (unsigned long long)in->flushes, (unsigned long long)in->errors,
	    (unsigned long long)in->unsupported, (unsigned long long)in->discards,
	    (unsigned long long)in->zeroes);
}

static const struct virtio_driver blk_driver = {
	.name = "virtio-blk",
	.device_type = VIRTIO_ID_BLOCK,
	.feature_names = blk_feature_names,
	.probe = blk_probe,
	.config_changed = blk_config_changed,
	.reset_done = blk_reset_done,
	.describe = blk_describe,
};

int virtio_blk_register(void)
{
	return virtio_register_driver(&blk_driver);
}
