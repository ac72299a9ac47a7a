/*
 * Host tests of the split ring (drivers/virtio/ring/virtqueue.c, virtqueue_split.c) against an
 * independent device model (tests/host/vring_device_model.c) that reads the ring memory by the
 * spec's layout.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/virtio/ring/virtqueue.h"
#include "tests/host/ring_port_host.h"
#include "tests/host/vring_device_model.h"

/* ---- fixture ------------------------------------------------------------------------------ */

struct fx {
	struct virtqueue *vq;
	struct vdm dev;
	struct vdm_chain chain;
	unsigned notifies;
	unsigned callbacks;
	bool event_idx;
	long dma_baseline; /* DMA blocks outstanding before the queue was created */
};

static void fx_notify(struct virtqueue *vq)
{
	((struct fx *)vq->priv)->notifies++;
}

static void fx_callback(struct virtqueue *vq)
{
	((struct fx *)vq->priv)->callbacks++;
}

struct fx_opts {
	unsigned num;
	bool legacy, indirect, event_idx, in_order;
	unsigned indirect_max;
	bool set_start;
	uint16_t start;
};

static struct fx *fx_new(struct fx_opts o)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct virtqueue_config cfg = {
		.name = "test",
		.index = 0,
		.num = o.num,
		.layout = o.legacy ? VIRTQUEUE_LAYOUT_LEGACY : VIRTQUEUE_LAYOUT_MODERN,
		.indirect = o.indirect,
		.event_idx = o.event_idx,
		.in_order = o.in_order,
		.indirect_max = o.indirect_max,
		.notify = fx_notify,
		.callback = fx_callback,
		.priv = f,
	};

	assert_non_null(f);
	f->event_idx = o.event_idx;
	f->dma_baseline = virtio_host_dma_outstanding();
	assert_int_equal(virtqueue_create(&cfg, &f->vq), 0);
	if (o.set_start)
		assert_int_equal(virtqueue_test_set_indices(f->vq, o.start), 0);
	if (o.legacy)
		vdm_attach_legacy(&f->dev, virtqueue_legacy_pfn(f->vq), (uint16_t)o.num, o.event_idx,
				  o.indirect);
	else
		vdm_attach_modern(&f->dev, virtqueue_desc_phys(f->vq), virtqueue_avail_phys(f->vq),
				  virtqueue_used_phys(f->vq), (uint16_t)o.num, o.event_idx,
				  o.indirect);
	return f;
}

static void fx_free(struct fx *f)
{
	long baseline = f->dma_baseline;

	while (virtqueue_detach_unused(f->vq))
		;
	virtqueue_destroy(f->vq);
	free(f);
	assert_int_equal(virtio_host_dma_outstanding(), baseline);
}

static int tokens[4096];
#define TOK(i) ((void *)&tokens[(i)])

static uint8_t bufmem[64][256];

/* Add one single-segment readable request of 16 bytes. */
static int add1(struct fx *f, unsigned i)
{
	struct vq_sg sg = {bufmem[i % 64], 16};

	return virtqueue_add(f->vq, &sg, 1, 0, TOK(i));
}

/* Device: pop one chain, complete it with len, publish. Returns the interrupt decision. */
static bool dev_complete_one(struct fx *f, uint32_t len)
{
	assert_int_equal(vdm_pop(&f->dev, &f->chain), 1);
	vdm_push(&f->dev, f->chain.head, len);
	return vdm_publish(&f->dev);
}

/* ---- creation and layout ------------------------------------------------------------------ */

static void notify_nop(struct virtqueue *vq)
{
	(void)vq;
}

static void test_create_rejects_bad_config(void **state)
{
	struct virtqueue *vq = NULL;
	struct virtqueue_config cfg = {.num = 8, .notify = notify_nop};
	unsigned bad[] = {0, 3, 100, 65536, 32769};

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.num = bad[i];
		assert_int_equal(virtqueue_create(&cfg, &vq), -EINVAL);
	}
	cfg.num = 8;
	cfg.notify = NULL;
	assert_int_equal(virtqueue_create(&cfg, &vq), -EINVAL);
	cfg.notify = notify_nop;
	cfg.indirect = true;
	/* The queue and its ring failing unwinds what came before. */
	for (int n = 1; n <= 2; n++) {
		virtio_host_dma_fail_at(n);
		assert_int_equal(virtqueue_create(&cfg, &vq), -ENOMEM);
		assert_int_equal(virtio_host_dma_outstanding(), 0);
	}
	/* No memory for the indirect tables: INDIRECT is an offer, so the queue works with
	 * direct chains (a 4-segment request takes 4 descriptors) instead of failing. */
	virtio_host_dma_fail_at(3);
	assert_int_equal(virtqueue_create(&cfg, &vq), 0);
	{
		static uint8_t b[4][8];
		struct vq_sg sg4[4] = {{b[0], 8}, {b[1], 8}, {b[2], 8}, {b[3], 8}};
		assert_int_equal(virtqueue_add(vq, sg4, 2, 2, TOK(1)), 0);
		assert_int_equal(virtqueue_num_free(vq), 4);
		assert_int_equal(vq->stats.indirect, 0);
	}
	virtqueue_destroy(vq);
	assert_int_equal(virtio_host_dma_outstanding(), 0);
	virtio_host_dma_fail_at(0);
	cfg.num = 32768;
	assert_int_equal(virtqueue_create(&cfg, &vq), 0);
	assert_int_equal(virtqueue_num_free(vq), 32768);
	virtqueue_destroy(vq);
	assert_int_equal(virtio_host_dma_outstanding(), 0);
}

static void test_legacy_layout(void **state)
{
	(void)state;
	/* 2.7.2: desc at 0, avail at 16*num, used at the next 4096 boundary after avail. */
	unsigned nums[] = {1, 8, 128, 256, 1024};
	for (unsigned k = 0; k < 5; k++) {
		unsigned num = nums[k];
		struct fx *f = fx_new((struct fx_opts){.num = num, .legacy = true});
		uint64_t base = virtqueue_desc_phys(f->vq);
		uint64_t avail_end = 16u * num + 6 + 2u * num;

		assert_int_equal(base % 4096, 0);
		assert_int_equal(virtqueue_legacy_pfn(f->vq), base >> 12);
		assert_int_equal(virtqueue_avail_phys(f->vq) - base, 16u * num);
		assert_int_equal(virtqueue_used_phys(f->vq) - base, (avail_end + 4095) / 4096 * 4096);
		assert_int_equal(vring_size(num, 4096),
				 (avail_end + 4095) / 4096 * 4096 + 6 + 8u * num);
		/* A request goes through the model attached by PFN. */
		assert_int_equal(add1(f, 1), 0);
		assert_true(virtqueue_kick(f->vq));
		dev_complete_one(f, 0);
		assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(1));
		fx_free(f);
	}
}

static void test_modern_layout(void **state)
{
	(void)state;
	unsigned nums[] = {1, 2, 8, 256, 1024};
	for (unsigned k = 0; k < 5; k++) {
		unsigned num = nums[k];
		struct fx *f = fx_new((struct fx_opts){.num = num});
		uint64_t d = virtqueue_desc_phys(f->vq), a = virtqueue_avail_phys(f->vq),
			 u = virtqueue_used_phys(f->vq);

		assert_int_equal(d % 16, 0);
		assert_int_equal(a % 2, 0);
		assert_int_equal(u % 4, 0);
		assert_true(a >= d + 16u * num);         /* no overlap */
		assert_true(u >= a + 6 + 2u * num);
		assert_int_equal(add1(f, 2), 0);
		assert_true(virtqueue_kick(f->vq));
		dev_complete_one(f, 0);
		assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(2));
		fx_free(f);
	}
}

/* ---- adding requests ---------------------------------------------------------------------- */

static void test_single_segment(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8});
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
	uint8_t got[16];

	(void)state;
	memcpy(bufmem[5], "0123456789abcdef", 16);
	assert_int_equal(add1(f, 5), 0);
	/* Not visible before the publish. */
	assert_int_equal(vdm_read_avail_idx(&f->dev), 0);
	assert_int_equal(vdm_avail_pending(&f->dev), 0);
	assert_true(virtqueue_kick(f->vq));
	assert_int_equal(f->notifies, 1);
	assert_int_equal(vdm_read_avail_idx(&f->dev), 1);
	assert_int_equal(vdm_pop(&f->dev, &f->chain), 1);
	assert_int_equal(f->chain.nseg, 1);
	assert_false(f->chain.indirect);
	assert_false(f->chain.seg[0].writable);
	assert_int_equal(f->chain.seg[0].len, 16);
	assert_int_equal(vdm_chain_read(&f->chain, got, sizeof(got)), 16);
	assert_memory_equal(got, "0123456789abcdef", 16);
	vdm_read_desc(&f->dev, f->chain.head, &addr, &len, &flags, &next);
	assert_int_equal(flags, 0); /* no NEXT, no WRITE */
	assert_int_equal(addr, (uint64_t)(uintptr_t)bufmem[5]);
	assert_int_equal(virtqueue_num_free(f->vq), 7);
	assert_null(virtqueue_get_buf(f->vq, &len)); /* nothing used yet */
	vdm_push(&f->dev, f->chain.head, 0);
	vdm_publish(&f->dev);
	len = 1234;
	assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(5));
	assert_int_equal(len, 0);
	assert_int_equal(virtqueue_num_free(f->vq), 8);
	assert_null(virtqueue_get_buf(f->vq, &len));
	assert_int_equal(f->vq->stats.added, 1);
	assert_int_equal(f->vq->stats.completed, 1);
	assert_string_equal(f->dev.error, "");
	fx_free(f);
}

/* 2.7.5.3.1: an indirect table has at most queue-size entries, whatever indirect_max asked
 * for: on a 16-entry queue, 16 segments go in one table, 17 neither indirect nor direct. */
static void test_indirect_table_at_most_queue_size(void **state)
{
	(void)state;
	struct fx *f = fx_new((struct fx_opts){.num = 16, .indirect = true, .indirect_max = 66});
	static uint8_t seg[17][4];
	struct vq_sg many[17];
	for (unsigned k = 0; k < 17; k++)
		many[k] = (struct vq_sg){seg[k], 4};
	assert_int_equal(virtqueue_add(f->vq, many, 17, 0, TOK(1)), -EINVAL);
	assert_int_equal(virtqueue_add(f->vq, many, 16, 0, TOK(1)), 0);
	assert_int_equal(virtqueue_num_free(f->vq), 15);
	fx_free(f);
}

static void test_chain_readable_before_writable(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 16});
	struct vq_sg sg[5] = {
		{bufmem[0], 8}, {bufmem[1], 24}, {bufmem[2], 10}, {bufmem[3], 20}, {bufmem[4], 30},
	};
	char reply[60];
	uint32_t len;

	(void)state;
	memset(reply, 'r', sizeof(reply));
	memset(bufmem[2], 0, 3 * 256);
	assert_int_equal(virtqueue_add(f->vq, sg, 2, 3, TOK(9)), 0);
	assert_int_equal(virtqueue_num_free(f->vq), 11);
	virtqueue_kick(f->vq);
	assert_int_equal(vdm_pop(&f->dev, &f->chain), 1);
	assert_string_equal(f->dev.error, "");
	assert_int_equal(f->chain.nseg, 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(f->chain.seg[i].addr, (uint64_t)(uintptr_t)sg[i].addr);
		assert_int_equal(f->chain.seg[i].len, sg[i].len);
		assert_int_equal(f->chain.seg[i].writable, i >= 2);
	}
	assert_int_equal(f->chain.readable_bytes, 32);
	assert_int_equal(f->chain.writable_bytes, 60);
	/* Raw flags by the spec's bit values: NEXT=1 on all but the last, WRITE=2 on the in part. */
	{
		uint16_t i = f->chain.head, flags, next;
		uint64_t addr;
		uint32_t l;
		uint16_t want[5] = {1, 1, 3, 3, 2};
		for (unsigned k = 0; k < 5; k++) {
			vdm_read_desc(&f->dev, i, &addr, &l, &flags, &next);
			assert_int_equal(flags, want[k]);
			i = next;
		}
	}
	assert_int_equal(vdm_chain_write(&f->chain, reply, 45), 45);
	vdm_push(&f->dev, f->chain.head, 45);
	vdm_publish(&f->dev);
	assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(9));
	assert_int_equal(len, 45);
	assert_memory_equal(bufmem[2], reply, 10);
	assert_memory_equal(bufmem[3], reply, 20);
	assert_memory_equal(bufmem[4], reply, 15);
	assert_int_equal(bufmem[4][15], 0);
	assert_int_equal(virtqueue_num_free(f->vq), 16);
	/* 2.7.5.2: at most 2^32 bytes in a chain, readable and writable parts together (the
	 * segments are never touched: the check comes first). */
	{
		struct vq_sg big[2] = {{bufmem[0], 3u << 30}, {bufmem[1], 3u << 30}};
		assert_int_equal(virtqueue_add(f->vq, big, 2, 0, TOK(1)), -EINVAL);
		assert_int_equal(virtqueue_add(f->vq, big, 1, 1, TOK(1)), -EINVAL);
		assert_int_equal(virtqueue_num_free(f->vq), 16);
	}
	/* Writable-only and out-of-bounds shapes. */
	assert_int_equal(virtqueue_add(f->vq, sg, 0, 2, TOK(1)), 0);
	assert_int_equal(virtqueue_add(f->vq, sg, 0, 0, TOK(1)), -EINVAL);
	assert_int_equal(virtqueue_add(f->vq, sg, 1, 0, NULL), -EINVAL);
	fx_free(f);
}

static void test_indirect(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8, .indirect = true, .indirect_max = 4});
	struct vq_sg sg[6] = {
		{bufmem[0], 8}, {bufmem[1], 16}, {bufmem[2], 100}, {bufmem[3], 1}, {bufmem[4], 2},
		{bufmem[5], 3},
	};
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;

	(void)state;
	/* 3 segments: one ring descriptor, INDIRECT alone (no NEXT), table of 3 * 16 bytes. */
	assert_int_equal(virtqueue_add(f->vq, sg, 2, 1, TOK(1)), 0);
	assert_int_equal(virtqueue_num_free(f->vq), 7);
	virtqueue_kick(f->vq);
	assert_int_equal(vdm_pop(&f->dev, &f->chain), 1);
	assert_string_equal(f->dev.error, "");
	assert_true(f->chain.indirect);
	vdm_read_desc(&f->dev, f->chain.head, &addr, &len, &flags, &next);
	assert_int_equal(flags, 4);
	assert_int_equal(len, 48);
	assert_int_equal(addr % 16, 0);
	assert_int_equal(f->chain.nseg, 3);
	assert_false(f->chain.seg[1].writable);
	assert_true(f->chain.seg[2].writable);
	assert_int_equal(f->chain.seg[2].len, 100);
	assert_int_equal(f->vq->stats.indirect, 1);

	/* A single segment never goes indirect. */
	assert_int_equal(virtqueue_add(f->vq, sg, 1, 0, TOK(2)), 0);
	/* More than indirect_max segments: a direct chain. */
	assert_int_equal(virtqueue_add(f->vq, sg, 3, 2, TOK(3)), 0);
	assert_int_equal(virtqueue_num_free(f->vq), 1);
	virtqueue_kick(f->vq);
	assert_int_equal(vdm_pop(&f->dev, &f->chain), 1);
	assert_false(f->chain.indirect);
	assert_int_equal(f->chain.nseg, 1);
	assert_int_equal(vdm_pop(&f->dev, &f->chain), 1);
	assert_false(f->chain.indirect);
	assert_int_equal(f->chain.nseg, 5);
	assert_int_equal(f->vq->stats.indirect, 1);

	/* Complete the first with the full writable length: accepted. */
	vdm_push(&f->dev, 0, 100);
	vdm_publish(&f->dev);
	assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(1));
	assert_int_equal(len, 100);
	fx_free(f);
}

static void test_indirect_fills_ring_by_requests(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 4, .indirect = true});
	struct vq_sg sg[3] = {{bufmem[0], 4}, {bufmem[1], 4}, {bufmem[2], 4}};
	unsigned i;

	(void)state;
	/* Each 3-segment request takes one slot: 4 of them fit a 4-entry ring (direct: 1). */
	for (i = 0; i < 4; i++)
		assert_int_equal(virtqueue_add(f->vq, sg, 1, 2, TOK(i)), 0);
	assert_int_equal(virtqueue_add(f->vq, sg, 1, 2, TOK(4)), -ENOSPC);
	virtqueue_kick(f->vq);
	/* Tables are per head: completing out of order keeps each table intact. */
	struct vdm_chain c[4];
	for (i = 0; i < 4; i++) {
		assert_int_equal(vdm_pop(&f->dev, &c[i]), 1);
		assert_true(c[i].indirect);
		assert_int_equal(c[i].nseg, 3);
	}
	vdm_push(&f->dev, c[2].head, 8);
	vdm_publish(&f->dev);
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(2));
	assert_int_equal(virtqueue_add(f->vq, sg, 2, 1, TOK(5)), 0);
	virtqueue_kick(f->vq);
	struct vdm_chain n;
	assert_int_equal(vdm_pop(&f->dev, &n), 1);
	assert_int_equal(n.head, c[2].head); /* the recycled head */
	assert_false(n.seg[1].writable);     /* new table contents, not the old one */
	assert_true(c[0].seg[1].writable);
	fx_free(f);
}

static void test_full_ring(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8});
	struct vq_sg sg[9];
	unsigned i;

	(void)state;
	for (i = 0; i < 9; i++)
		sg[i] = (struct vq_sg){bufmem[i], 4};
	assert_int_equal(virtqueue_add(f->vq, sg, 9, 0, TOK(0)), -EINVAL); /* longer than queue */
	for (i = 0; i < 8; i++)
		assert_int_equal(add1(f, i), 0);
	assert_int_equal(virtqueue_num_free(f->vq), 0);
	assert_int_equal(add1(f, 8), -ENOSPC);
	virtqueue_kick(f->vq);
	assert_int_equal(vdm_avail_pending(&f->dev), 8);
	dev_complete_one(f, 0);
	dev_complete_one(f, 0);
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(0));
	assert_int_equal(virtqueue_add(f->vq, sg, 1, 1, TOK(20)), -ENOSPC); /* needs 2, has 1 */
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(1));
	assert_int_equal(virtqueue_add(f->vq, sg, 1, 1, TOK(20)), 0);
	assert_int_equal(virtqueue_num_free(f->vq), 0);
	/* The whole ring as one chain. */
	for (i = 2; i < 8; i++)
		dev_complete_one(f, 0);
	virtqueue_kick(f->vq);
	dev_complete_one(f, 4);
	for (i = 2; i < 8; i++)
		assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(i));
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(20));
	assert_int_equal(virtqueue_add(f->vq, sg, 4, 4, TOK(21)), 0);
	assert_int_equal(virtqueue_num_free(f->vq), 0);
	assert_string_equal(f->dev.error, "");
	assert_false(virtqueue_is_broken(f->vq));
	fx_free(f);
}

/* Random shapes, out-of-order completion, device scribbling over the descriptor table after it
 * took each chain: the driver must never depend on what is in the table. */
static void run_random(struct fx_opts o, unsigned rounds, bool scribble)
{
	struct fx *f = fx_new(o);
	struct vdm_chain *pend = calloc(o.num, sizeof(*pend));
	unsigned npend = 0, seq = 0, done = 0, inflight = 0;
	uint32_t expect_len[4096] = {0};
	unsigned rnd = 12345;

	assert_non_null(pend);
	for (unsigned r = 0; r < rounds; r++) {
		/* Driver: add a few requests of 1..5 segments. */
		unsigned adds = (rnd = rnd * 1103515245 + 12345) >> 16 & 3;
		for (unsigned a = 0; a <= adds; a++) {
			struct vq_sg sg[5];
			unsigned total = 1 + ((rnd = rnd * 1103515245 + 12345) >> 16) % 5;
			unsigned out = ((rnd = rnd * 1103515245 + 12345) >> 16) % (total + 1);
			unsigned slot = seq % 4096;
			for (unsigned k = 0; k < total; k++)
				sg[k] = (struct vq_sg){bufmem[(seq + k) % 64], 1 + k};
			uint32_t in_len = 0;
			for (unsigned k = out; k < total; k++)
				in_len += 1 + k;
			int ret = virtqueue_add(f->vq, sg, out, total - out, TOK(slot));
			if (ret == -ENOSPC)
				break;
			assert_int_equal(ret, 0);
			tokens[slot] = (int)in_len;
			expect_len[slot] = in_len;
			seq++;
			inflight++;
		}
		virtqueue_kick(f->vq);
		/* Device: take everything available. */
		while (vdm_pop(&f->dev, &pend[npend]) == 1) {
			if (scribble) {
				/* Scribble the head's table entry: a loop to itself. */
				vdm_raw_write_desc(&f->dev, pend[npend].head, 0xdead0000, 0xffffffff,
						   7, pend[npend].head);
			}
			npend++;
		}
		assert_string_equal(f->dev.error, "");
		/* Complete a random subset in random order, with len = writable bytes. */
		unsigned ncomp = npend ? ((rnd = rnd * 1103515245 + 12345) >> 16) % (npend + 1) : 0;
		for (unsigned c = 0; c < ncomp; c++) {
			unsigned pick = ((rnd = rnd * 1103515245 + 12345) >> 16) % npend;
			vdm_push(&f->dev, pend[pick].head, (uint32_t)pend[pick].writable_bytes);
			pend[pick] = pend[--npend];
		}
		vdm_publish(&f->dev);
		void *t;
		uint32_t len;
		while ((t = virtqueue_get_buf(f->vq, &len)) != NULL) {
			unsigned slot = (unsigned)((int *)t - tokens);
			assert_int_equal(len, expect_len[slot]);
			done++;
			inflight--;
		}
		assert_false(virtqueue_is_broken(f->vq));
	}
	assert_true(done > rounds / 2);
	/* Drain: everything comes back and every descriptor is free again. */
	while (npend) {
		vdm_push(&f->dev, pend[npend - 1].head, 0);
		npend--;
	}
	virtqueue_kick(f->vq);
	while (vdm_pop(&f->dev, &pend[0]) == 1)
		vdm_push(&f->dev, pend[0].head, 0);
	vdm_publish(&f->dev);
	while (virtqueue_get_buf(f->vq, NULL))
		inflight--;
	assert_int_equal(inflight, 0);
	assert_int_equal(virtqueue_num_free(f->vq), o.num);
	assert_null(virtqueue_detach_unused(f->vq));
	free(pend);
	fx_free(f);
}

static void test_random_out_of_order(void **state)
{
	(void)state;
	run_random((struct fx_opts){.num = 16}, 3000, false);
	run_random((struct fx_opts){.num = 16, .indirect = true, .indirect_max = 4}, 3000, false);
	run_random((struct fx_opts){.num = 32, .legacy = true, .event_idx = true}, 3000, false);
}

static void test_device_scribbles_descriptors(void **state)
{
	(void)state;
	run_random((struct fx_opts){.num = 16}, 2000, true);
	run_random((struct fx_opts){.num = 8, .indirect = true}, 2000, true);
}

/* ---- wrap-around -------------------------------------------------------------------------- */

static void test_wraparound(void **state)
{
	(void)state;
	for (int ev = 0; ev < 2; ev++) {
		struct fx *f = fx_new((struct fx_opts){.num = 8, .event_idx = ev, .set_start = true,
						       .start = 65530});
		uint16_t prev_avail = vdm_read_avail_idx(&f->dev);
		assert_int_equal(prev_avail, 65530);
		for (unsigned i = 0; i < 40; i++) {
			/* Batches of 1..5 across the 65535 -> 0 boundary. */
			unsigned n = 1 + i % 5;
			for (unsigned k = 0; k < n; k++)
				assert_int_equal(add1(f, i * 8 + k), 0);
			vdm_want_notify(&f->dev, true);
			uint16_t before = vdm_read_avail_idx(&f->dev);
			bool kicked = virtqueue_kick(f->vq);
			uint16_t after = vdm_read_avail_idx(&f->dev);
			assert_int_equal((uint16_t)(after - before), n);
			assert_int_equal(kicked, vdm_notify_required(&f->dev, before, after));
			assert_true(kicked);
			for (unsigned k = 0; k < n; k++)
				dev_complete_one(f, 0);
			for (unsigned k = 0; k < n; k++)
				assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(i * 8 + k));
			assert_null(virtqueue_get_buf(f->vq, NULL));
		}
		/* 120 requests from 65530: both indices wrapped to 114. */
		assert_int_equal(vdm_read_avail_idx(&f->dev), (uint16_t)(65530 + 120));
		assert_int_equal(vdm_read_used_idx(&f->dev), (uint16_t)(65530 + 120));
		assert_false(virtqueue_is_broken(f->vq));
		assert_string_equal(f->dev.error, "");
		fx_free(f);
	}
}

static void test_set_indices_only_on_fresh_queue(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8});

	(void)state;
	assert_int_equal(add1(f, 0), 0);
	assert_int_equal(virtqueue_test_set_indices(f->vq, 100), -EINVAL);
	fx_free(f);
}

/* ---- notification (kick) decisions -------------------------------------------------------- */

static void test_kick_no_event_idx(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 64});

	(void)state;
	/* Batch of 16, one publish, one kick. */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(add1(f, i), 0);
	assert_int_equal(vdm_read_avail_idx(&f->dev), 0);
	assert_true(virtqueue_kick(f->vq));
	assert_int_equal(f->notifies, 1);
	assert_int_equal(vdm_read_avail_idx(&f->dev), 16);
	/* Nothing new: no kick, nothing counted. */
	assert_false(virtqueue_kick(f->vq));
	assert_int_equal(f->vq->stats.kicks_suppressed, 0);
	/* Device sets NO_NOTIFY (bit 0 of used->flags): suppressed. */
	vdm_want_notify(&f->dev, false);
	assert_int_equal(add1(f, 20), 0);
	assert_false(virtqueue_kick_prepare(f->vq));
	assert_int_equal(f->vq->stats.kicks_suppressed, 1);
	assert_int_equal(vdm_read_avail_idx(&f->dev), 17); /* published anyway */
	/* Another flag bit does not suppress. */
	vdm_raw_set_used_flags(&f->dev, 2);
	assert_int_equal(add1(f, 21), 0);
	assert_true(virtqueue_kick(f->vq));
	assert_int_equal(f->notifies, 2);
	assert_int_equal(f->vq->stats.kicks, 2);
	assert_int_equal(f->vq->stats.added, 18);
	fx_free(f);
}

static void test_kick_event_idx(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 64, .event_idx = true});

	(void)state;
	/* Reset state: avail_event 0 -> the first publish notifies. */
	for (unsigned i = 0; i < 16; i++)
		add1(f, i);
	assert_true(virtqueue_kick(f->vq));
	/* Device has not moved avail_event (still 0): the next batch is not announced. */
	for (unsigned i = 0; i < 16; i++)
		add1(f, 16 + i);
	assert_false(virtqueue_kick(f->vq));
	assert_int_equal(f->vq->stats.kicks_suppressed, 1);
	/* Device consumed 10 and asks for a notification after entry 10 (avail_event = 10)...
	 * which lies in the range already published: the next publish [32, 33) does not cover it */
	for (unsigned i = 0; i < 10; i++)
		dev_complete_one(f, 0);
	vdm_want_notify(&f->dev, true);
	add1(f, 40);
	assert_false(virtqueue_kick(f->vq));
	/* Event in the middle of a batch: [33, 49) covers 40. */
	vdm_raw_set_avail_event(&f->dev, 40);
	for (unsigned i = 0; i < 16; i++)
		add1(f, 41 + i % 20);
	assert_true(virtqueue_kick(f->vq));
	/* Event exactly at old: [49, 50) covers 49. At new: [50, 51) does not cover 51. */
	vdm_raw_set_avail_event(&f->dev, 49);
	while (virtqueue_get_buf(f->vq, NULL))
		;
	add1(f, 60);
	assert_true(virtqueue_kick(f->vq));
	vdm_raw_set_avail_event(&f->dev, 51);
	add1(f, 61);
	assert_false(virtqueue_kick(f->vq));
	/* Suppressed publishes still count as "since the last kick": event 51 is covered by
	 * [51, 53) only, the range that starts where the previous decision ended. */
	add1(f, 62);
	add1(f, 63);
	assert_true(virtqueue_kick(f->vq));
	assert_int_equal(f->notifies, 4);
	assert_int_equal(f->vq->stats.kicks, 4);
	fx_free(f);
}

/* Random batches and random device event positions, near the wrap, vs. the model's rule. */
static void test_kick_decisions_match_spec(void **state)
{
	(void)state;
	for (int ev = 0; ev < 2; ev++) {
		struct fx *f = fx_new((struct fx_opts){.num = 128, .event_idx = ev, .set_start = true,
						       .start = 65000});
		unsigned rnd = 99, kicks = 0, suppressed = 0;
		for (unsigned r = 0; r < 5000; r++) {
			unsigned n = 1 + ((rnd = rnd * 1103515245 + 12345) >> 16) % 64;
			for (unsigned k = 0; k < n; k++)
				assert_int_equal(add1(f, k), 0);
			uint16_t before = vdm_read_avail_idx(&f->dev);
			uint16_t after = (uint16_t)(before + n);
			/* Device picks an event around the publish window, or toggles the flag. */
			if (ev)
				vdm_raw_set_avail_event(&f->dev,
					(uint16_t)(before - 8 + ((rnd = rnd * 1103515245 + 12345) >> 16) % (n + 16)));
			else
				vdm_raw_set_used_flags(&f->dev, ((rnd = rnd * 1103515245 + 12345) >> 16) & 1);
			bool want = vdm_notify_required(&f->dev, before, after);
			bool got = virtqueue_kick(f->vq);
			assert_int_equal(got, want);
			assert_int_equal(vdm_read_avail_idx(&f->dev), after);
			kicks += got;
			suppressed += !got;
			while (vdm_pop(&f->dev, &f->chain) == 1)
				vdm_push(&f->dev, f->chain.head, 0);
			vdm_publish(&f->dev);
			while (virtqueue_get_buf(f->vq, NULL))
				;
		}
		/* Both outcomes must have occurred for the comparison to mean something. */
		assert_true(kicks > 100);
		assert_true(suppressed > 100);
		assert_int_equal(f->vq->stats.kicks, kicks);
		assert_int_equal(f->vq->stats.kicks_suppressed, suppressed);
		assert_false(virtqueue_is_broken(f->vq));
		fx_free(f);
	}
}

/* ---- interrupts ----------------------------------------------------------------------------- */

static void test_interrupt_suppression_flags(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8});

	(void)state;
	assert_int_equal(vdm_read_avail_flags(&f->dev), 0);
	virtqueue_disable_cb(f->vq);
	assert_int_equal(vdm_read_avail_flags(&f->dev), 1); /* NO_INTERRUPT is bit 0 */
	add1(f, 0);
	virtqueue_kick(f->vq);
	assert_false(dev_complete_one(f, 0));
	assert_false(virtqueue_enable_cb(f->vq)); /* pending */
	assert_int_equal(vdm_read_avail_flags(&f->dev), 0);
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(0));
	assert_true(virtqueue_enable_cb(f->vq));
	add1(f, 1);
	virtqueue_kick(f->vq);
	assert_true(dev_complete_one(f, 0));
	assert_true(virtqueue_interrupt(f->vq));
	assert_int_equal(f->callbacks, 1);
	fx_free(f);
}

/* The lost wake-up: the device completes a buffer while interrupts are off and so does not
 * interrupt; the driver then re-enables. enable_cb must report the pending buffer. */
static void test_enable_cb_recheck(void **state)
{
	(void)state;
	for (int ev = 0; ev < 2; ev++) {
		struct fx *f = fx_new((struct fx_opts){.num = 8, .event_idx = ev});
		add1(f, 0);
		add1(f, 1);
		virtqueue_kick(f->vq);
		virtqueue_disable_cb(f->vq);
		assert_false(dev_complete_one(f, 0)); /* device: no interrupt wanted */
		assert_false(virtqueue_enable_cb(f->vq));
		assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(0));
		assert_true(virtqueue_enable_cb(f->vq)); /* nothing pending: safe to sleep */
		/* ... and now the device does interrupt for the next one. */
		assert_true(dev_complete_one(f, 0));
		assert_true(virtqueue_interrupt(f->vq));
		assert_int_equal(f->callbacks, 1);
		assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(1));
		fx_free(f);
	}
}

static void test_event_idx_used_event_tracking(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 16, .event_idx = true});

	(void)state;
	for (unsigned i = 0; i < 6; i++)
		add1(f, i);
	virtqueue_kick(f->vq);
	assert_true(virtqueue_enable_cb(f->vq));
	assert_int_equal(vdm_read_used_event(&f->dev), 0);
	assert_int_equal(vdm_read_avail_flags(&f->dev), 0); /* flags stay 0 with EVENT_IDX */
	/* Each completion interrupts while enabled; get_buf moves used_event along. */
	for (unsigned i = 0; i < 3; i++) {
		assert_true(dev_complete_one(f, 0));
		assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(i));
		assert_int_equal(vdm_read_used_event(&f->dev), i + 1);
	}
	/* Disabled: no interrupt, and avail->flags still 0. */
	virtqueue_disable_cb(f->vq);
	assert_int_equal(vdm_read_avail_flags(&f->dev), 0);
	assert_false(dev_complete_one(f, 0));
	assert_false(dev_complete_one(f, 0));
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(3));
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(4));
	assert_false(dev_complete_one(f, 0));
	fx_free(f);
}

static void test_enable_cb_delayed(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 32, .event_idx = true});

	(void)state;
	for (unsigned i = 0; i < 16; i++)
		add1(f, i);
	virtqueue_kick(f->vq);
	virtqueue_disable_cb(f->vq);
	assert_true(virtqueue_enable_cb_delayed(f->vq));
	assert_int_equal(vdm_read_used_event(&f->dev), 12); /* 3/4 of 16 */
	/* Device completes one at a time: silent for 12, interrupt on the 13th. */
	for (unsigned i = 0; i < 12; i++)
		assert_false(dev_complete_one(f, 0));
	assert_true(dev_complete_one(f, 0));
	assert_true(virtqueue_interrupt(f->vq));
	virtqueue_disable_cb(f->vq);
	for (unsigned i = 0; i < 13; i++)
		assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(i));
	/* 3 outstanding, bufs = 2: returns false when more than 2 are already used. */
	assert_false(dev_complete_one(f, 0));
	assert_false(dev_complete_one(f, 0));
	assert_false(dev_complete_one(f, 0));
	assert_false(virtqueue_enable_cb_delayed(f->vq));
	fx_free(f);

	/* Without EVENT_IDX it is a plain enable. */
	f = fx_new((struct fx_opts){.num = 8});
	add1(f, 0);
	virtqueue_kick(f->vq);
	virtqueue_disable_cb(f->vq);
	assert_true(virtqueue_enable_cb_delayed(f->vq));
	assert_int_equal(vdm_read_avail_flags(&f->dev), 0);
	assert_true(dev_complete_one(f, 0));
	fx_free(f);
}

static void test_polling(void **state)
{
	(void)state;
	for (int ev = 0; ev < 2; ev++) {
		struct fx *f = fx_new((struct fx_opts){.num = 64, .event_idx = ev});
		virtqueue_disable_cb(f->vq);
		vdm_want_notify(&f->dev, false); /* a polling device: no kicks either */
		unsigned got = 0;
		for (unsigned r = 0; r < 200; r++) {
			for (unsigned k = 0; k < 8; k++)
				assert_int_equal(add1(f, r * 8 + k), 0);
			assert_false(virtqueue_kick(f->vq));
			assert_false(virtqueue_poll(f->vq));
			while (vdm_pop(&f->dev, &f->chain) == 1) {
				vdm_push(&f->dev, f->chain.head, 0);
				vdm_want_notify(&f->dev, false);
			}
			assert_false(vdm_publish(&f->dev));
			assert_true(virtqueue_poll(f->vq));
			while (virtqueue_get_buf(f->vq, NULL))
				got++;
			assert_false(virtqueue_poll(f->vq));
		}
		assert_int_equal(got, 1600);
		assert_int_equal(f->notifies, 0);
		assert_int_equal(f->dev.interrupts, 0);
		assert_int_equal(f->vq->stats.interrupts, 0);
		fx_free(f);
	}
}

static void test_spurious_interrupt(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8});

	(void)state;
	assert_false(virtqueue_interrupt(f->vq));
	assert_int_equal(f->callbacks, 0);
	assert_int_equal(f->vq->stats.spurious, 1);
	add1(f, 0);
	virtqueue_kick(f->vq);
	dev_complete_one(f, 0);
	assert_true(virtqueue_interrupt(f->vq));
	assert_int_equal(f->callbacks, 1);
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(0));
	assert_false(virtqueue_interrupt(f->vq)); /* already harvested */
	assert_int_equal(f->vq->stats.interrupts, 3);
	assert_int_equal(f->vq->stats.callbacks, 1);
	assert_int_equal(f->vq->stats.spurious, 2);
	fx_free(f);
}

/* ---- hardening: a malicious device ---------------------------------------------------------- */

/* Two single-segment requests and one 3-desc chain published; returns the chain's head. */
static uint16_t setup_victim(struct fx *f)
{
	struct vq_sg sg[3] = {{bufmem[0], 4}, {bufmem[1], 8}, {bufmem[2], 16}};

	add1(f, 0);
	add1(f, 1);
	assert_int_equal(virtqueue_add(f->vq, sg, 1, 2, TOK(2)), 0);
	virtqueue_kick(f->vq);
	assert_int_equal(vdm_pop(&f->dev, &f->chain), 1);
	assert_int_equal(vdm_pop(&f->dev, &f->chain), 1);
	assert_int_equal(vdm_pop(&f->dev, &f->chain), 1);
	return f->chain.head;
}

static void assert_broken_and_inert(struct fx *f, const char *needle)
{
	unsigned long logs = virtio_host_log_count();

	assert_true(virtqueue_is_broken(f->vq));
	assert_non_null(strstr(f->vq->broken_reason, needle));
	assert_non_null(strstr(virtio_host_last_log(), needle));
	/* Later calls fail cleanly. */
	assert_int_equal(add1(f, 30), -EIO);
	assert_false(virtqueue_kick_prepare(f->vq));
	assert_false(virtqueue_notify(f->vq));
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_false(virtqueue_poll(f->vq));
	assert_true(virtqueue_enable_cb(f->vq));
	assert_false(virtqueue_interrupt(f->vq));
	assert_int_equal(f->callbacks, 0);
	assert_int_equal(virtio_host_log_count(), logs); /* reported once */
	/* Tokens can still be reclaimed after a reset. */
	unsigned n = 0;
	while (virtqueue_detach_unused(f->vq))
		n++;
	assert_true(n >= 1);
	assert_int_equal(virtqueue_num_free(f->vq), f->vq->num);
}

static void test_bad_used_id_out_of_range(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8});

	(void)state;
	virtio_host_log_quiet(true);
	setup_victim(f);
	vdm_push(&f->dev, 8, 0);
	vdm_publish(&f->dev);
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_broken_and_inert(f, "used id 8 out of range");
	fx_free(f);

	f = fx_new((struct fx_opts){.num = 8});
	setup_victim(f);
	vdm_push(&f->dev, 0xffffffffu, 0);
	vdm_publish(&f->dev);
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_broken_and_inert(f, "out of range");
	fx_free(f);
}

static void test_bad_used_id_not_head(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8});
	uint16_t head;

	(void)state;
	head = setup_victim(f);
	/* The second descriptor of the 3-chain, per the driver's own next field. */
	uint64_t a;
	uint32_t l;
	uint16_t fl, next;
	vdm_read_desc(&f->dev, head, &a, &l, &fl, &next);
	vdm_push(&f->dev, next, 0);
	vdm_publish(&f->dev);
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_broken_and_inert(f, "not the head");
	fx_free(f);

	/* A free descriptor. */
	f = fx_new((struct fx_opts){.num = 8});
	setup_victim(f);
	vdm_push(&f->dev, 7, 0);
	vdm_publish(&f->dev);
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_broken_and_inert(f, "not the head");
	fx_free(f);
}

static void test_double_completion(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8});

	(void)state;
	setup_victim(f);
	vdm_push(&f->dev, 0, 0);
	vdm_push(&f->dev, 0, 0);
	vdm_publish(&f->dev);
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(0));
	assert_false(virtqueue_is_broken(f->vq));
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_broken_and_inert(f, "used id 0 is not the head");
	fx_free(f);
}

static void test_bad_used_len(void **state)
{
	(void)state;
	for (int ind = 0; ind < 2; ind++) {
		struct fx *f = fx_new((struct fx_opts){.num = 8, .indirect = ind});
		uint16_t head = setup_victim(f);
		uint32_t len;
		/* Exactly what was offered (8 + 16 writable) is fine, one more is not. */
		vdm_push(&f->dev, head, 24);
		/* Request 0 offered no writable bytes: a length there is meaningless (nothing
		 * could be read past it), so it is counted and taken as 0, not fatal. */
		vdm_push(&f->dev, 0, 1);
		vdm_publish(&f->dev);
		assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(2));
		assert_int_equal(len, 24);
		len = 77;
		assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(0));
		assert_int_equal(len, 0);
		assert_int_equal(f->vq->stats.bad_len_ignored, 1);
		assert_false(virtqueue_is_broken(f->vq));
		fx_free(f);
	}
	struct fx *f = fx_new((struct fx_opts){.num = 8});
	uint16_t head = setup_victim(f);
	vdm_push(&f->dev, head, 25);
	vdm_publish(&f->dev);
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_broken_and_inert(f, "exceeds the 24");
	fx_free(f);
}

static void test_used_idx_runs_ahead(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8});

	(void)state;
	setup_victim(f); /* 3 outstanding */
	vdm_push(&f->dev, 0, 0);
	vdm_raw_set_used_idx(&f->dev, 4);
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_broken_and_inert(f, "runs ahead");
	fx_free(f);

	/* Far ahead (more than the queue size), and "behind" (= 2^16 - 1 ahead). */
	uint16_t bad[] = {9, 40000, 65535};
	for (unsigned i = 0; i < 3; i++) {
		f = fx_new((struct fx_opts){.num = 8});
		setup_victim(f);
		vdm_raw_set_used_idx(&f->dev, bad[i]);
		assert_false(virtqueue_is_broken(f->vq));
		assert_null(virtqueue_get_buf(f->vq, NULL));
		assert_broken_and_inert(f, "runs ahead");
		fx_free(f);
	}
	/* Exactly the outstanding count is legal. */
	f = fx_new((struct fx_opts){.num = 8});
	setup_victim(f);
	vdm_raw_used_elem(&f->dev, 0, 0, 0);
	vdm_raw_used_elem(&f->dev, 1, 1, 0);
	vdm_raw_used_elem(&f->dev, 2, 2, 0);
	vdm_raw_set_used_idx(&f->dev, 3);
	assert_non_null(virtqueue_get_buf(f->vq, NULL));
	assert_non_null(virtqueue_get_buf(f->vq, NULL));
	assert_non_null(virtqueue_get_buf(f->vq, NULL));
	assert_false(virtqueue_is_broken(f->vq));
	fx_free(f);
}

static void test_used_id_never_published(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8});

	(void)state;
	add1(f, 0);
	virtqueue_kick(f->vq);
	add1(f, 1); /* added, not published: head 1 */
	vdm_push(&f->dev, 1, 0);
	vdm_publish(&f->dev);
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_broken_and_inert(f, "never made available");
	fx_free(f);
}

static void test_break_and_detach(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8});
	unsigned seen = 0;
	void *t;

	(void)state;
	for (unsigned i = 0; i < 5; i++)
		add1(f, i);
	virtqueue_kick(f->vq);
	add1(f, 5);
	dev_complete_one(f, 0);
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(0));
	virtqueue_break(f->vq, "device needs reset");
	assert_true(virtqueue_is_broken(f->vq));
	assert_string_equal(f->vq->broken_reason, "device needs reset");
	while ((t = virtqueue_detach_unused(f->vq)) != NULL) {
		unsigned i = (unsigned)((int *)t - tokens);
		assert_true(i >= 1 && i <= 5);
		assert_false(seen & (1u << i));
		seen |= 1u << i;
	}
	assert_int_equal(seen, 0x3e);
	assert_int_equal(virtqueue_num_free(f->vq), 8);
	virtio_host_log_quiet(false);
	fx_free(f);
}

/* ---- IN_ORDER (2.7.9) ------------------------------------------------------------------- */

/* Descriptors in ring order, whatever the chains' lengths; one used element for a batch with
 * the last buffer's id, used->idx moved on by the batch's size; skipped buffers fully used. */
static void test_in_order_batches(void **state)
{
	(void)state;
	for (int ev = 0; ev < 2; ev++) {
		struct fx *f = fx_new((struct fx_opts){.num = 8, .in_order = true, .event_idx = ev});
		struct vq_sg sg[3] = {{bufmem[0], 4}, {bufmem[1], 50}, {bufmem[2], 60}};
		uint16_t heads[4];
		unsigned expect_head = 0;
		assert_string_equal(virtqueue_format(f->vq), "split in-order");
		for (unsigned round = 0; round < 6; round++) {
			for (unsigned i = 0; i < 3; i++) /* chains of 1, 2, 3 descriptors */
				assert_int_equal(virtqueue_add(f->vq, sg, 1, i, TOK(round * 3 + i)), 0);
			virtqueue_kick(f->vq);
			for (unsigned i = 0; i < 3; i++) {
				assert_int_equal(vdm_pop(&f->dev, &f->chain), 1);
				heads[i] = f->chain.head;
				assert_int_equal(heads[i], expect_head % 8); /* ring order */
				expect_head += i + 1;
			}
			/* The first two in one element naming the second; then the third. */
			vdm_raw_used_elem(&f->dev, f->dev.used_idx, heads[1], 7);
			f->dev.used_idx = (uint16_t)(f->dev.used_idx + 2);
			vdm_publish(&f->dev);
			uint32_t len;
			assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(round * 3));
			assert_int_equal(len, 0); /* no writable part */
			assert_true(virtqueue_poll(f->vq));
			assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(round * 3 + 1));
			assert_int_equal(len, 7);
			assert_null(virtqueue_get_buf(f->vq, NULL));
			vdm_push(&f->dev, heads[2], 110);
			vdm_publish(&f->dev);
			assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(round * 3 + 2));
			assert_int_equal(len, 110);
			assert_int_equal(virtqueue_num_free(f->vq), 8);
		}
		assert_string_equal(f->dev.error, "");
		assert_false(virtqueue_is_broken(f->vq));
		fx_free(f);
	}
}

/* 2.7.9: a used element naming the last buffer of an in-order batch means the buffers before
 * it were used in full: each comes back with all its writable bytes as its length. */
static void test_in_order_skipped_buffer_is_fully_used(void **state)
{
	(void)state;
	struct fx *f = fx_new((struct fx_opts){.num = 8, .in_order = true});
	struct vq_sg a[2] = {{bufmem[0], 4}, {bufmem[1], 50}}, b[2] = {{bufmem[2], 4}, {bufmem[3], 60}};
	assert_int_equal(virtqueue_add(f->vq, a, 1, 1, TOK(1)), 0);
	assert_int_equal(virtqueue_add(f->vq, b, 1, 1, TOK(2)), 0);
	virtqueue_kick(f->vq);
	uint16_t heads[2];
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(vdm_pop(&f->dev, &f->chain), 1);
		heads[i] = f->chain.head;
	}
	/* One element naming the second; used->idx moves by the batch, as in_order_batches. */
	vdm_raw_used_elem(&f->dev, f->dev.used_idx, heads[1], 7);
	f->dev.used_idx = (uint16_t)(f->dev.used_idx + 2);
	vdm_publish(&f->dev);
	uint32_t len;
	assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(1));
	assert_int_equal(len, 50);
	assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(2));
	assert_int_equal(len, 7);
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_string_equal(f->dev.error, "");
	assert_false(virtqueue_is_broken(f->vq));
	fx_free(f);
}

/* A used id that is not the head of the oldest buffers in order, or a batch larger than
 * used->idx moved: the device broke the protocol. */
static void test_in_order_violations(void **state)
{
	(void)state;
	struct fx *f = fx_new((struct fx_opts){.num = 8, .in_order = true});
	struct vq_sg sg[2] = {{bufmem[0], 4}, {bufmem[1], 40}};
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(virtqueue_add(f->vq, sg, 1, 1, TOK(i)), 0);
	virtqueue_kick(f->vq);
	/* Head 4 (the third request) completing a batch of 3, but used->idx says 2. */
	vdm_raw_used_elem(&f->dev, 0, 4, 1);
	vdm_raw_set_used_idx(&f->dev, 2);
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_true(virtqueue_is_broken(f->vq));
	assert_non_null(strstr(f->vq->broken_reason, "out of order"));
	fx_free(f);

	f = fx_new((struct fx_opts){.num = 8, .in_order = true});
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(virtqueue_add(f->vq, sg, 1, 1, TOK(i)), 0);
	virtqueue_kick(f->vq);
	/* Descriptor 1 is inside the first chain: not a head at all. */
	vdm_raw_used_elem(&f->dev, 0, 1, 1);
	vdm_raw_set_used_idx(&f->dev, 1);
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_true(virtqueue_is_broken(f->vq));
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_batches),
		cmocka_unit_test(test_in_order_skipped_buffer_is_fully_used),
		cmocka_unit_test(test_in_order_violations),
		cmocka_unit_test(test_create_rejects_bad_config),
		cmocka_unit_test(test_legacy_layout),
		cmocka_unit_test(test_modern_layout),
		cmocka_unit_test(test_single_segment),
		cmocka_unit_test(test_chain_readable_before_writable),
		cmocka_unit_test(test_indirect),
		cmocka_unit_test(test_indirect_fills_ring_by_requests),
		cmocka_unit_test(test_full_ring),
		cmocka_unit_test(test_random_out_of_order),
		cmocka_unit_test(test_device_scribbles_descriptors),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_set_indices_only_on_fresh_queue),
		cmocka_unit_test(test_kick_no_event_idx),
		cmocka_unit_test(test_kick_event_idx),
		cmocka_unit_test(test_kick_decisions_match_spec),
		cmocka_unit_test(test_interrupt_suppression_flags),
		cmocka_unit_test(test_enable_cb_recheck),
		cmocka_unit_test(test_event_idx_used_event_tracking),
		cmocka_unit_test(test_enable_cb_delayed),
		cmocka_unit_test(test_polling),
		cmocka_unit_test(test_spurious_interrupt),
		cmocka_unit_test(test_bad_used_id_out_of_range),
		cmocka_unit_test(test_bad_used_id_not_head),
		cmocka_unit_test(test_double_completion),
		cmocka_unit_test(test_indirect_table_at_most_queue_size),
		cmocka_unit_test(test_bad_used_len),
		cmocka_unit_test(test_used_idx_runs_ahead),
		cmocka_unit_test(test_used_id_never_published),
		cmocka_unit_test(test_break_and_detach),
	};

	return cmocka_run_group_tests_name("vring", tests, NULL, NULL);
}
