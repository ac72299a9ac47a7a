/*
 * Host tests of the packed virtqueue format (drivers/virtio/ring/virtqueue_packed.c) through
 * the ring API, against an independent device model (tests/host/packed_device_model.c) that
 * reads and writes the ring by the spec's layout: layout and alignment, publishing, chains and
 * indirect tables, wrap-around over many laps (odd queue sizes too), out-of-order and in-order
 * completion, the kick and interrupt decisions against the spec's rule, and a malicious device.
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
#include "tests/host/packed_device_model.h"
#include "tests/host/ring_port_host.h"

/* Spec values (2.8.1, 2.8.10). */
#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4
#define F_AVAIL (1u << 7)
#define F_USED (1u << 15)
#define EV_ENABLE 0
#define EV_DISABLE 1
#define EV_DESC 2

struct fx {
	struct virtqueue *vq;
	struct pdm dev;
	struct pdm_chain chain;
	unsigned notifies, callbacks;
	long dma_baseline;
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
	bool indirect, event_idx, in_order;
	unsigned indirect_max;
};

static struct fx *fx_new(struct fx_opts o)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct virtqueue_config cfg = {
		.name = "packed", .num = o.num, .layout = VIRTQUEUE_LAYOUT_MODERN, .packed = true,
		.in_order = o.in_order, .indirect = o.indirect, .event_idx = o.event_idx,
		.indirect_max = o.indirect_max, .notify = fx_notify, .callback = fx_callback,
		.priv = f,
	};
	assert_non_null(f);
	f->dma_baseline = virtio_host_dma_outstanding();
	assert_int_equal(virtqueue_create(&cfg, &f->vq), 0);
	pdm_attach(&f->dev, virtqueue_desc_phys(f->vq), virtqueue_avail_phys(f->vq),
		   virtqueue_used_phys(f->vq), (uint16_t)o.num, o.event_idx, o.indirect);
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

static int add1(struct fx *f, unsigned i)
{
	struct vq_sg sg = {bufmem[i % 64], 16};
	return virtqueue_add(f->vq, &sg, 1, 0, TOK(i));
}

/* Device: take one chain, complete it with len, decide on the interrupt. */
static bool dev_complete_one(struct fx *f, uint32_t len)
{
	assert_int_equal(pdm_pop(&f->dev, &f->chain), 1);
	pdm_push(&f->dev, f->chain.id, len, f->chain.ndesc);
	return pdm_publish(&f->dev);
}

static void assert_healthy(struct fx *f)
{
	if (f->dev.error[0])
		fail_msg("device model: %s", f->dev.error);
	if (virtqueue_is_broken(f->vq))
		fail_msg("queue broken: %s", f->vq->broken_reason);
}

/* ---- layout ---- */

static void test_layout_and_config(void **state)
{
	(void)state;
	struct virtqueue *vq;
	struct virtqueue_config cfg = {.num = 8, .layout = VIRTQUEUE_LAYOUT_LEGACY,
				       .packed = true, .notify = fx_notify};
	assert_int_equal(virtqueue_create(&cfg, &vq), -EINVAL); /* no legacy packed layout */

	for (unsigned num = 1; num <= 1024; num = num * 3 + 1) { /* odd sizes are fine (2.8) */
		struct fx *f = fx_new((struct fx_opts){.num = num});
		assert_int_equal(virtqueue_desc_phys(f->vq) % 16, 0);   /* 2.8.10.1 */
		assert_int_equal(virtqueue_avail_phys(f->vq) % 4, 0);
		assert_int_equal(virtqueue_used_phys(f->vq) % 4, 0);
		assert_true(virtqueue_avail_phys(f->vq) >= virtqueue_desc_phys(f->vq) + 16 * num);
		assert_true(virtqueue_used_phys(f->vq) >= virtqueue_avail_phys(f->vq) + 4);
		assert_string_equal(virtqueue_format(f->vq), "packed");
		/* The zeroed ring: nothing available, driver events enabled. */
		assert_int_equal(pdm_read_flags(&f->dev, 0), 0);
		assert_int_equal(pdm_read_driver_event_flags(&f->dev), EV_ENABLE);
		fx_free(f);
	}
}

/* ---- publishing ---- */

/* Nothing is visible before kick_prepare; the first descriptor's flags are written last. */
static void test_publish_on_kick_only(void **state)
{
	(void)state;
	struct fx *f = fx_new((struct fx_opts){.num = 8});
	struct vq_sg sg[3] = {{bufmem[0], 10}, {bufmem[1], 20}, {bufmem[2], 30}};
	assert_int_equal(virtqueue_add(f->vq, sg, 1, 2, TOK(0)), 0);
	assert_int_equal(pdm_pop(&f->dev, &f->chain), 0); /* not yet */
	/* The rest of the chain is already marked available: the device only looks at the
	 * first (2.8.6). */
	assert_int_equal(pdm_read_flags(&f->dev, 1), F_AVAIL | F_NEXT | F_WRITE);
	assert_int_equal(pdm_read_flags(&f->dev, 2), F_AVAIL | F_WRITE);
	assert_int_equal(pdm_read_flags(&f->dev, 0), 0);
	assert_true(virtqueue_kick(f->vq));
	assert_int_equal(f->notifies, 1);
	assert_int_equal(pdm_read_flags(&f->dev, 0), F_AVAIL | F_NEXT);
	assert_int_equal(pdm_pop(&f->dev, &f->chain), 1);
	assert_int_equal(f->chain.ndesc, 3);
	assert_int_equal(f->chain.nseg, 3);
	assert_int_equal(f->chain.readable_bytes, 10);
	assert_int_equal(f->chain.writable_bytes, 50);
	assert_false(f->chain.indirect);
	pdm_push(&f->dev, f->chain.id, 50, f->chain.ndesc);
	assert_true(pdm_publish(&f->dev));
	uint32_t len;
	assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(0));
	assert_int_equal(len, 50);
	assert_int_equal(virtqueue_num_free(f->vq), 8);
	assert_healthy(f);
	fx_free(f);
}

static void test_indirect(void **state)
{
	(void)state;
	struct fx *f = fx_new((struct fx_opts){.num = 8, .indirect = true, .indirect_max = 8});
	struct vq_sg sg[6];
	for (unsigned k = 0; k < 6; k++)
		sg[k] = (struct vq_sg){bufmem[k], 8 + k};
	for (unsigned i = 0; i < 8; i++) /* eight 6-segment requests in a ring of 8 */
		assert_int_equal(virtqueue_add(f->vq, sg, 2, 4, TOK(i)), 0);
	assert_int_equal(virtqueue_num_free(f->vq), 0);
	virtqueue_kick(f->vq);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(pdm_pop(&f->dev, &f->chain), 1);
		assert_true(f->chain.indirect);
		assert_int_equal(f->chain.ndesc, 1);
		assert_int_equal(f->chain.nseg, 6);
		assert_int_equal(f->chain.writable_bytes, 10 + 11 + 12 + 13);
		pdm_push(&f->dev, f->chain.id, 3, 1);
	}
	pdm_publish(&f->dev);
	for (unsigned i = 0; i < 8; i++)
		assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(i));
	assert_int_equal(f->vq->stats.indirect, 8);
	assert_healthy(f);
	fx_free(f);
}

/* ---- random traffic over many laps ---- */

static void run_random(struct fx_opts o, unsigned rounds)
{
	struct fx *f = fx_new(o);
	struct pdm_chain *pend = calloc(o.num + 1, sizeof(*pend));
	unsigned npend = 0, seq = 0, done = 0, inflight = 0, rnd = 4242;
	uint32_t expect_len[4096] = {0};
	unsigned next_done = 0; /* in order: the sequence number expected next */
#define RND() ((rnd = rnd * 1103515245 + 12345) >> 16)

	assert_non_null(pend);
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned a = 0, adds = RND() & 3; a <= adds; a++) {
			struct vq_sg sg[5];
			unsigned total = 1 + RND() % 5, out = RND() % (total + 1), slot = seq % 4096;
			uint32_t in_len = 0;
			for (unsigned k = 0; k < total; k++)
				sg[k] = (struct vq_sg){bufmem[(seq + k) % 64], 1 + k};
			for (unsigned k = out; k < total; k++)
				in_len += 1 + k;
			int ret = virtqueue_add(f->vq, sg, out, total - out, TOK(slot));
			if (ret == -ENOSPC)
				break;
			assert_int_equal(ret, 0);
			expect_len[slot] = in_len;
			seq++;
			inflight++;
		}
		virtqueue_kick(f->vq);
		while (pdm_pop(&f->dev, &pend[npend]) == 1)
			npend++;
		assert_healthy(f);
		unsigned ncomp = npend ? RND() % (npend + 1) : 0;
		if (o.in_order && ncomp) {
			/* One used descriptor for the first ncomp chains: the last one's id, the
			 * skipped ones fully used. */
			uint16_t descs = 0;
			for (unsigned c = 0; c < ncomp; c++)
				descs = (uint16_t)(descs + pend[c].ndesc);
			pdm_push(&f->dev, pend[ncomp - 1].id,
				 (uint32_t)pend[ncomp - 1].writable_bytes / 2, descs);
			memmove(pend, pend + ncomp, (npend - ncomp) * sizeof(*pend));
			npend -= ncomp;
		} else {
			for (unsigned c = 0; c < ncomp; c++) {
				unsigned pick = RND() % npend;
				pdm_push(&f->dev, pend[pick].id, (uint32_t)pend[pick].writable_bytes,
					 pend[pick].ndesc);
				pend[pick] = pend[--npend];
			}
		}
		pdm_publish(&f->dev);
		void *t;
		uint32_t len;
		while ((t = virtqueue_get_buf(f->vq, &len)) != NULL) {
			unsigned slot = (unsigned)((int *)t - tokens);
			if (o.in_order) {
				assert_int_equal(slot, next_done % 4096);
				next_done++;
				assert_true(len == expect_len[slot] || len == expect_len[slot] / 2);
			} else {
				assert_int_equal(len, expect_len[slot]);
			}
			done++;
			inflight--;
		}
		assert_healthy(f);
	}
	assert_true(done > rounds / 2);
	for (unsigned c = 0; c < npend; c++)
		pdm_push(&f->dev, pend[c].id, 0, pend[c].ndesc);
	npend = 0;
	virtqueue_kick(f->vq);
	while (pdm_pop(&f->dev, &pend[0]) == 1)
		pdm_push(&f->dev, pend[0].id, 0, pend[0].ndesc);
	pdm_publish(&f->dev);
	while (virtqueue_get_buf(f->vq, NULL))
		inflight--;
	assert_int_equal(inflight, 0);
	assert_int_equal(virtqueue_num_free(f->vq), o.num);
	assert_healthy(f);
	free(pend);
	fx_free(f);
#undef RND
}

static void test_random_out_of_order(void **state)
{
	(void)state;
	run_random((struct fx_opts){.num = 16}, 3000);
	run_random((struct fx_opts){.num = 7}, 3000); /* chains cross the end at every lap */
	run_random((struct fx_opts){.num = 16, .indirect = true, .indirect_max = 4}, 3000);
	run_random((struct fx_opts){.num = 32, .event_idx = true}, 3000);
}

static void test_random_in_order(void **state)
{
	(void)state;
	run_random((struct fx_opts){.num = 16, .in_order = true}, 3000);
	run_random((struct fx_opts){.num = 5, .in_order = true, .event_idx = true}, 3000);
	run_random((struct fx_opts){.num = 8, .in_order = true, .indirect = true}, 3000);
}

/* ---- notifications ---- */

/* The driver's kick decision is the spec's, for every device event setting and batch. */
static void test_kick_decisions_match_spec(void **state)
{
	(void)state;
	for (int ev = 0; ev < 2; ev++) {
		struct fx *f = fx_new((struct fx_opts){.num = 8, .event_idx = ev});
		unsigned rnd = 7, seq = 0;
		for (unsigned r = 0; r < 2000; r++) {
			uint16_t old_pos = f->dev.avail_pos;
			bool old_wrap = f->dev.avail_wrap;
			rnd = rnd * 1103515245 + 12345;
			switch ((rnd >> 16) % 4) {
			case 0: pdm_raw_device_event(&f->dev, 0, EV_DISABLE); break;
			case 1: pdm_raw_device_event(&f->dev, 0, EV_ENABLE); break;
			default: { /* DESC at a position near the device's */
				uint16_t pos = (uint16_t)((f->dev.avail_pos + (rnd >> 20) % 6) % 8);
				bool wrap = pos < f->dev.avail_pos ? !f->dev.avail_wrap
								   : f->dev.avail_wrap;
				pdm_raw_device_event(&f->dev, (uint16_t)(pos | (wrap ? 0x8000 : 0)),
						     EV_DESC);
			}
			}
			unsigned n = 1 + (rnd >> 24) % 3;
			for (unsigned i = 0; i < n; i++)
				if (add1(f, seq) == 0)
					seq++;
			bool got = virtqueue_kick_prepare(f->vq);
			/* Where the driver's published range ends is where the device's reading
			 * will: pop everything, then compare. */
			while (pdm_pop(&f->dev, &f->chain) == 1)
				pdm_push(&f->dev, f->chain.id, 0, f->chain.ndesc);
			bool want = pdm_notify_required(&f->dev, old_pos, old_wrap, f->dev.avail_pos,
							f->dev.avail_wrap);
			if (old_pos == f->dev.avail_pos && old_wrap == f->dev.avail_wrap)
				want = false; /* nothing new published */
			if (got != want)
				fail_msg("round %u: driver kick %d, spec says %d", r, got, want);
			pdm_publish(&f->dev);
			while (virtqueue_get_buf(f->vq, NULL))
				;
		}
		assert_healthy(f);
		fx_free(f);
	}
}

static void test_interrupt_suppression(void **state)
{
	(void)state;
	/* Without EVENT_IDX: ENABLE / DISABLE. */
	struct fx *f = fx_new((struct fx_opts){.num = 8});
	virtqueue_disable_cb(f->vq);
	assert_int_equal(pdm_read_driver_event_flags(&f->dev), EV_DISABLE);
	add1(f, 0);
	virtqueue_kick(f->vq);
	assert_false(dev_complete_one(f, 0));
	assert_false(virtqueue_enable_cb(f->vq)); /* the re-check sees the used buffer */
	assert_int_equal(pdm_read_driver_event_flags(&f->dev), EV_ENABLE);
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(0));
	assert_true(virtqueue_enable_cb(f->vq));
	add1(f, 1);
	virtqueue_kick(f->vq);
	assert_true(dev_complete_one(f, 0));
	fx_free(f);

	/* With EVENT_IDX: DESC at the next used position, moved on by each harvest, so one
	 * interrupt covers what the device completes before the driver looks. */
	f = fx_new((struct fx_opts){.num = 8, .event_idx = true});
	assert_true(virtqueue_enable_cb(f->vq));
	assert_int_equal(pdm_read_driver_event_flags(&f->dev), EV_DESC);
	assert_int_equal(pdm_read_driver_event_off_wrap(&f->dev), 0x8000 | 0);
	for (unsigned i = 0; i < 4; i++)
		add1(f, i);
	virtqueue_kick(f->vq);
	assert_true(dev_complete_one(f, 0));  /* the descriptor at 0 was asked for */
	assert_false(dev_complete_one(f, 0)); /* not harvested yet: no new interrupt */
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(0));
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(1));
	assert_int_equal(pdm_read_driver_event_off_wrap(&f->dev), 0x8000 | 2);
	assert_true(dev_complete_one(f, 0));
	virtqueue_disable_cb(f->vq);
	assert_false(dev_complete_one(f, 0));
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(2));
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(3));
	/* Delayed: about 3/4 of what is outstanding, on the next lap when it crosses the end. */
	for (unsigned i = 4; i < 12; i++)
		add1(f, i);
	virtqueue_kick(f->vq);
	assert_true(virtqueue_enable_cb_delayed(f->vq));
	assert_int_equal(pdm_read_driver_event_off_wrap(&f->dev), 2); /* 4 + 6 = 10: lap 2, 2 */
	for (unsigned i = 0; i < 6; i++)
		assert_false(dev_complete_one(f, 0));
	assert_true(dev_complete_one(f, 0)); /* the seventh uses position 2 of lap 2 */
	assert_healthy(f);
	fx_free(f);
}

static void test_poll_and_spurious(void **state)
{
	(void)state;
	struct fx *f = fx_new((struct fx_opts){.num = 4});
	assert_false(virtqueue_poll(f->vq));
	assert_false(virtqueue_interrupt(f->vq));
	assert_int_equal(f->vq->stats.spurious, 1);
	add1(f, 0);
	virtqueue_kick(f->vq);
	assert_false(virtqueue_poll(f->vq)); /* available, not used */
	dev_complete_one(f, 0);
	assert_true(virtqueue_poll(f->vq));
	assert_true(virtqueue_interrupt(f->vq));
	assert_int_equal(f->callbacks, 1);
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(0));
	assert_false(virtqueue_poll(f->vq));
	fx_free(f);
}

/* ---- in order ---- */

static void test_in_order_batch(void **state)
{
	(void)state;
	struct fx *f = fx_new((struct fx_opts){.num = 8, .in_order = true});
	struct vq_sg sg[2] = {{bufmem[0], 4}, {bufmem[1], 100}};
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(virtqueue_add(f->vq, sg, 1, 1, TOK(i)), 0);
	virtqueue_kick(f->vq);
	uint16_t ids[4];
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(pdm_pop(&f->dev, &f->chain), 1);
		ids[i] = f->chain.id;
		assert_int_equal(f->chain.first, 2 * i); /* descriptors in ring order */
	}
	assert_int_equal(ids[1], (ids[0] + 1) % 8); /* ids in ring order */
	/* One used descriptor for the first three: the third's id, 8 descriptors skipped... */
	pdm_push(&f->dev, ids[2], 7, 6);
	pdm_publish(&f->dev);
	uint32_t len;
	assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(0));
	assert_int_equal(len, 100); /* skipped: fully used */
	assert_true(virtqueue_poll(f->vq)); /* the batch is not handed out yet */
	assert_false(virtqueue_enable_cb(f->vq));
	assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(1));
	assert_int_equal(len, 100);
	assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(2));
	assert_int_equal(len, 7);
	assert_null(virtqueue_get_buf(f->vq, NULL));
	pdm_push(&f->dev, ids[3], 1, 2);
	pdm_publish(&f->dev);
	assert_ptr_equal(virtqueue_get_buf(f->vq, &len), TOK(3));
	assert_int_equal(len, 1);
	assert_int_equal(virtqueue_num_free(f->vq), 8);
	assert_healthy(f);
	fx_free(f);
}

/* ---- a malicious device ---- */

/* Four requests made available; the device writes a used descriptor at the driver's next
 * used position with the given id, len and flags. */
static struct fx *bad_setup(bool in_order)
{
	struct fx *f = fx_new((struct fx_opts){.num = 8, .in_order = in_order});
	struct vq_sg sg = {bufmem[0], 64};
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(virtqueue_add(f->vq, &sg, 0, 1, TOK(i)), 0);
	virtqueue_kick(f->vq);
	return f;
}

static void expect_broken(struct fx *f, const char *why)
{
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_true(virtqueue_is_broken(f->vq));
	if (!strstr(f->vq->broken_reason, why))
		fail_msg("broken for \"%s\", expected \"%s\"", f->vq->broken_reason, why);
	assert_int_equal(virtqueue_add(f->vq, &(struct vq_sg){bufmem[0], 1}, 1, 0, TOK(9)), -EIO);
	assert_false(virtqueue_kick(f->vq));
	fx_free(f);
}

static void test_bad_id_out_of_range(void **state)
{
	(void)state;
	struct fx *f = bad_setup(false);
	pdm_raw_desc(&f->dev, 0, 0, 1, 8, F_AVAIL | F_USED | F_WRITE);
	expect_broken(f, "id 8 out of range");
}

static void test_bad_id_not_in_flight(void **state)
{
	(void)state;
	struct fx *f = bad_setup(false);
	pdm_raw_desc(&f->dev, 0, 0, 1, 6, F_AVAIL | F_USED | F_WRITE);
	expect_broken(f, "id 6 is not in flight");
}

static void test_double_completion(void **state)
{
	(void)state;
	struct fx *f = bad_setup(false);
	assert_int_equal(pdm_pop(&f->dev, &f->chain), 1);
	pdm_push(&f->dev, f->chain.id, 1, 1);
	pdm_push(&f->dev, f->chain.id, 1, 1); /* the same buffer again */
	assert_non_null(virtqueue_get_buf(f->vq, NULL));
	expect_broken(f, "is not in flight");
}

static void test_bad_len(void **state)
{
	(void)state;
	struct fx *f = bad_setup(false);
	assert_int_equal(pdm_pop(&f->dev, &f->chain), 1);
	pdm_push(&f->dev, f->chain.id, 65, 1);
	expect_broken(f, "used len 65");
}

static void test_used_where_none_was_available(void **state)
{
	(void)state;
	struct fx *f = fx_new((struct fx_opts){.num = 8});
	pdm_raw_desc(&f->dev, 0, 0, 0, 0, F_AVAIL | F_USED);
	expect_broken(f, "where none was made available");
}

/* Only AVAIL and USED both equal to the wrap counter mean used (2.8.1): a descriptor with one
 * of them is not a completion (a skipped chain's descriptors keep an older lap's bits). */
static void test_one_bit_is_not_used(void **state)
{
	(void)state;
	struct fx *f = bad_setup(false);
	pdm_raw_desc(&f->dev, 0, 0, 1, 0, F_USED | F_WRITE); /* USED without AVAIL in lap 1 */
	assert_false(virtqueue_poll(f->vq));
	assert_null(virtqueue_get_buf(f->vq, NULL));
	assert_false(virtqueue_is_broken(f->vq));
	pdm_raw_desc(&f->dev, 0, 0, 1, 0, F_AVAIL | F_USED | F_WRITE);
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(0));
	fx_free(f);
}

static void test_never_published(void **state)
{
	(void)state;
	struct fx *f = fx_new((struct fx_opts){.num = 8});
	add1(f, 0);
	add1(f, 1);
	virtqueue_kick(f->vq);
	add1(f, 2); /* not published */
	assert_int_equal(pdm_pop(&f->dev, &f->chain), 1);
	/* The device names the third request's id (ids are handed out 0, 1, 2 on a fresh
	 * queue), which it was never given. */
	pdm_push(&f->dev, 2, 0, 1);
	expect_broken(f, "never made available");
}

static void test_in_order_id_out_of_order(void **state)
{
	(void)state;
	struct fx *f = bad_setup(true);
	uint16_t first;
	assert_int_equal(pdm_pop(&f->dev, &f->chain), 1);
	first = f->chain.id;
	assert_int_equal(pdm_pop(&f->dev, &f->chain), 1);
	pdm_push(&f->dev, f->chain.id, 1, 2);     /* the second: a batch of both */
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(0));
	assert_ptr_equal(virtqueue_get_buf(f->vq, NULL), TOK(1));
	/* Ids go out in ring order, so a device naming one out of order names one that is
	 * already done (or never went out). */
	pdm_push(&f->dev, first, 1, 1);
	expect_broken(f, "is not in flight");
}

static void test_break_and_detach(void **state)
{
	(void)state;
	struct fx *f = bad_setup(false);
	virtqueue_break(f->vq, "device needs reset");
	assert_true(virtqueue_is_broken(f->vq));
	unsigned n = 0;
	while (virtqueue_detach_unused(f->vq))
		n++;
	assert_int_equal(n, 4);
	assert_int_equal(virtqueue_num_free(f->vq), 8);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_config),
		cmocka_unit_test(test_publish_on_kick_only),
		cmocka_unit_test(test_indirect),
		cmocka_unit_test(test_random_out_of_order),
		cmocka_unit_test(test_random_in_order),
		cmocka_unit_test(test_kick_decisions_match_spec),
		cmocka_unit_test(test_interrupt_suppression),
		cmocka_unit_test(test_poll_and_spurious),
		cmocka_unit_test(test_in_order_batch),
		cmocka_unit_test(test_bad_id_out_of_range),
		cmocka_unit_test(test_bad_id_not_in_flight),
		cmocka_unit_test(test_double_completion),
		cmocka_unit_test(test_bad_len),
		cmocka_unit_test(test_used_where_none_was_available),
		cmocka_unit_test(test_one_bit_is_not_used),
		cmocka_unit_test(test_never_published),
		cmocka_unit_test(test_in_order_id_out_of_order),
		cmocka_unit_test(test_break_and_detach),
	};
	virtio_host_log_quiet(true);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
