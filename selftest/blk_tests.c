/*
 * Selftest suite `blk`: runs against the first disk. Tests that write run only on a disk whose
 * serial (GET_ID) is "vireo-selftest", so `selftest` never scribbles on a user's disk:
 *   -drive if=none,id=t,file=scratch.img,format=raw -device virtio-blk-pci,drive=t,serial=vireo-selftest
 */
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/blk/virtio_blk.h"
#include "selftest/ktest.h"
#include "kernel/page_alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SCRATCH_SERIAL "vireo-selftest"

static struct vblk *disk(void)
{
	return vblk_count() ? vblk_at(0) : NULL;
}

static struct vblk *scratch(void)
{
	for (unsigned i = 0; i < vblk_count(); i++)
		if (strcmp(vblk_info(vblk_at(i))->id, SCRATCH_SERIAL) == 0)
			return vblk_at(i);
	return NULL;
}

static int blk_sync_read(void)
{
	struct vblk *d = disk();
	if (!d)
		return KTEST_SKIP;
	uint8_t *buf = pages_alloc(4, 1);
	KT_ASSERT(buf);
	memset(buf, 0x5c, 4 * PAGE_SIZE);
	KT_ASSERT(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 4 * PAGE_SIZE) == 0);
	/* The same sectors read twice must agree (no stale or torn buffers). */
	uint8_t *again = pages_alloc(4, 1);
	KT_ASSERT(again);
	KT_ASSERT(vblk_io(d, VIRTIO_BLK_T_IN, 0, again, 4 * PAGE_SIZE) == 0);
	KT_ASSERT(memcmp(buf, again, 4 * PAGE_SIZE) == 0);
	pages_free(buf, 4);
	pages_free(again, 4);
	return 0;
}

static int blk_refuses_past_capacity(void)
{
	struct vblk *d = disk();
	if (!d)
		return KTEST_SKIP;
	uint64_t cap = vblk_info(d)->capacity;
	uint32_t bs = vblk_info(d)->blk_size, spb = bs / 512; /* sectors per logical block */
	uint8_t *buf = pages_alloc(2 * bs / PAGE_SIZE + 1, 1);
	KT_ASSERT(buf);
	struct blk_req r = {.type = VIRTIO_BLK_T_IN, .sector = cap, .buf = buf, .len = bs};
	KT_ASSERT_EQ(vblk_submit(d, &r, true), (unsigned long long)-ERANGE);
	r.sector = cap - spb;
	r.len = 2 * bs; /* one block inside, one past the end */
	KT_ASSERT_EQ(vblk_submit(d, &r, true), (unsigned long long)-ERANGE);
	r.len = 100; /* not a whole sector */
	KT_ASSERT_EQ(vblk_submit(d, &r, true), (unsigned long long)-EINVAL);
	KT_ASSERT(vblk_io(d, VIRTIO_BLK_T_IN, cap - spb, buf, bs) == 0);
	pages_free(buf, 2 * bs / PAGE_SIZE + 1);
	return 0;
}

static int blk_write_read_round_trip(void)
{
	struct vblk *d = scratch();
	if (!d)
		return KTEST_SKIP;
	/* 33 sectors starting 512 bytes into a page: the data crosses page boundaries and is
	 * split into several segments of one chain (or indirect table). */
	size_t len = 33 * 512;
	uint8_t *page = pages_alloc(6, 1), *in = pages_alloc(6, 1);
	KT_ASSERT(page && in);
	uint8_t *out = page + 512;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 7 + 3);
	KT_ASSERT(vblk_io(d, VIRTIO_BLK_T_OUT, 1000, out, len) == 0);
	KT_ASSERT(vblk_flush(d) == 0);
	KT_ASSERT(vblk_io(d, VIRTIO_BLK_T_IN, 1000, in, len) == 0);
	KT_ASSERT(memcmp(out, in, len) == 0);
	pages_free(page, 6);
	pages_free(in, 6);
	return 0;
}

struct async_state {
	volatile unsigned done;
	volatile int first_error;
};

static void async_done(struct blk_req *r)
{
	struct async_state *s = r->ctx;
	if (r->result && !s->first_error)
		s->first_error = r->result;
	s->done++;
}

static unsigned want_done;
static bool all_done(void *arg)
{
	return ((struct async_state *)arg)->done >= want_done;
}

/* Fill the ring until it reports -ENOSPC, then let everything complete: the full ring is an
 * error the caller sees, and nothing is lost. */
static int blk_async_queue_full(void)
{
	struct vblk *d = disk();
	if (!d)
		return KTEST_SKIP;
	unsigned ring = virtqueue_size(vblk_queue(d)), n = ring + 8;
	struct blk_req *reqs = calloc(n, sizeof(*reqs));
	uint8_t *bufs = pages_alloc(n, 1);
	KT_ASSERT(reqs && bufs);
	struct async_state s = {0, 0};
	unsigned queued = 0;
	int err = 0;
	for (unsigned i = 0; i < n; i++) {
		reqs[i] = (struct blk_req){.type = VIRTIO_BLK_T_IN,
					   .sector = (uint64_t)i * 8 % vblk_info(d)->capacity,
					   .buf = bufs + (size_t)i * PAGE_SIZE,
					   .len = 512,
					   .done = async_done,
					   .ctx = &s};
		err = vblk_submit(d, &reqs[i], false);
		if (err)
			break;
		queued++;
	}
	vblk_kick(d);
	KT_ASSERT_EQ(err, (unsigned long long)-ENOSPC);
	/* Each request takes one descriptor (indirect) or three (header, data, status). */
	KT_ASSERT(queued == ring || queued == ring / 3);
	want_done = queued;
	KT_ASSERT(vblk_wait(d, all_done, &s, VIRTIO_TIMEOUT_NS) == 0);
	KT_ASSERT_EQ(s.done, queued);
	KT_ASSERT_EQ(s.first_error, 0);
	KT_ASSERT_EQ(virtqueue_num_free(vblk_queue(d)), ring);
	free(reqs);
	pages_free(bufs, n);
	return 0;
}

static int blk_read_only_refused(void)
{
	for (unsigned i = 0; i < vblk_count(); i++) {
		struct vblk *d = vblk_at(i);
		if (!vblk_info(d)->read_only)
			continue;
		static uint8_t buf[512];
		struct blk_req r = {.type = VIRTIO_BLK_T_OUT, .sector = 0, .buf = buf, .len = 512};
		KT_ASSERT_EQ(vblk_submit(d, &r, true), (unsigned long long)-EROFS);
		return 0;
	}
	return KTEST_SKIP;
}

KTEST_SUITE(blk, KTEST_CASE(blk_sync_read), KTEST_CASE(blk_refuses_past_capacity),
	    KTEST_CASE(blk_write_read_round_trip), KTEST_CASE(blk_async_queue_full),
	    KTEST_CASE(blk_read_only_refused));
