/*
 * Host unit tests of the virtio-blk driver (drivers/virtio/blk/virtio_blk.c), end to end over
 * the virtio-mmio transport and the device core, against a virtio-blk device
 * (virtio_fake_blk.c) that executes requests on a RAM disk and records every breach of a
 * driver MUST of VIRTIO 1.2 5.2.6.1 it can see.
 *
 * Expected values come from the spec (5.2.3 features, 5.2.4 config, 5.2.6 requests and
 * status values) and from the driver's API contract (virtio_blk.h: which errno for what),
 * not from the driver's code. The core keeps static tables, so each test runs in a forked
 * child (ISOLATED).
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

#include "tests/host/cmocka_isolate.h"
#include "drivers/virtio/blk/virtio_blk.h"
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/mmio/virtio_mmio.h"
#include "tests/host/virtio_fake_blk.h"
#include "tests/host/virtio_fake_dev.h"

#define BIT(n) (1ull << (n))
#define F_INDIRECT BIT(28)
#define F_EVENT_IDX BIT(29)
#define F_VERSION_1 BIT(32)
#define BASE_F (F_INDIRECT | F_EVENT_IDX | F_VERSION_1)
#define ID_BLOCK 2
#define SECTORS 4096 /* 2 MiB */

static struct vfd dev;
static struct vfb blk;
static struct virtio_mmio_window win;
static uint8_t disk[SECTORS * 512];
static uint8_t buf[1 << 20] __attribute__((aligned(4096)));

static void assert_clean(void)
{
	if (dev.nviolations)
		fail_msg("the device model recorded %u violation(s):\n%s", dev.nviolations,
			 dev.violations);
}

/* A disk of distinct bytes, offering BASE_F | features. */
static void model(uint64_t features)
{
	vfd_init(&dev, VFD_MMIO, ID_BLOCK);
	dev.features = BASE_F | features;
	for (size_t i = 0; i < sizeof(disk); i++)
		disk[i] = (uint8_t)(i * 7 + (i >> 9) * 13 + (i >> 17));
	vfb_init(&blk, &dev, disk, SECTORS);
}

/* Bind virtio-blk to the model; returns the disk, or NULL when the probe failed. */
static struct vblk *boot(void)
{
	assert_int_equal(virtio_blk_register(), 0);
	vfb_config(&blk);
	vfd_build_mmio(&dev, &win);
	virtio_mmio_add(&win);
	return vblk_count() ? vblk_at(0) : NULL;
}

static struct vblk *boot_ok(void)
{
	struct vblk *d = boot();
	if (!d)
		fail_msg("virtio-blk did not bind; log:\n%s", vfd_log());
	return d;
}

/* How many requests of type t the device saw. */
static unsigned seen(uint32_t t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < blk.nreq && i < VFB_MAX_LOG; i++)
		n += blk.log[i].type == t;
	return n;
}

/* ======================================================================================== */
/* Data and layout (5.2.6)                                                                   */

static void test_write_then_read_back(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	for (size_t i = 0; i < 65536; i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_OUT, 100, buf, 65536), 0);
	assert_memory_equal(disk + 100 * 512, buf, 65536);
	memset(buf, 0, 65536);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 100, buf, 65536), 0);
	assert_memory_equal(buf, disk + 100 * 512, 65536);
	assert_true(seen(VFB_T_OUT) >= 1 && seen(VFB_T_IN) >= 1);
	assert_clean();
}
ISOLATED(test_write_then_read_back)

/* The status byte is pre-set: a device that completes a request (claiming the byte in its
 * used length) without writing a status does not look like success. */
static void test_status_not_written_is_an_error(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	blk.no_status = true;
	memset(disk, 0, 512);
	int err = vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512);
	assert_true(err < 0);
	assert_true(vblk_info(d)->errors >= 1);
}
ISOLATED(test_status_not_written_is_an_error)

/* A used length that stops short of the read's data: success is not believed (2.7.8.2). */
static void test_short_used_length_is_not_success(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	blk.short_len = true;
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 4096), -EPROTO);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_OUT, 0, buf, 4096), 0); /* writes only status */
}
ISOLATED(test_short_used_length_is_not_success)

/* IOERR fails the request covering the bad sector with -EIO, and only that one; counted. */
static void test_ioerr(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	blk.ioerr = true;
	blk.ioerr_sector = 10;
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 8, buf, 8 * 512), -EIO);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 8 * 512), 0);
	assert_memory_equal(buf, disk, 8 * 512);
	assert_int_equal(vblk_info(d)->errors, 1);
	assert_int_equal(vblk_info(d)->unsupported, 0);
	assert_false(vblk_virtio(d)->failed); /* a media error is the request's, not the device's */
	assert_clean();
}
ISOLATED(test_ioerr)

/* UNSUPP is -EOPNOTSUPP for the caller, and counted as such. */
static void test_unsupp(void **state)
{
	(void)state;
	model(BIT(VFB_F_FLUSH));
	blk.unsupp_types = 1u << VFB_T_FLUSH;
	struct vblk *d = boot_ok();
	assert_int_equal(vblk_flush(d), -EOPNOTSUPP);
	assert_int_equal(vblk_info(d)->unsupported, 1);
	assert_int_equal(vblk_info(d)->errors, 1);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), 0);
	assert_clean();
}
ISOLATED(test_unsupp)

/* ======================================================================================== */
/* What the driver refuses before the device sees it (5.2.6.1)                              */

static void test_capacity_is_checked(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	unsigned before = blk.nreq;
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, SECTORS - 1, buf, 2 * 512), -ERANGE);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, SECTORS, buf, 512), -ERANGE);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, UINT64_MAX - 1, buf, 4 * 512), -ERANGE);
	assert_int_equal(blk.nreq, before);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, SECTORS - 1, buf, 512), 0);
	assert_clean();
}
ISOLATED(test_capacity_is_checked)

static void test_read_only(void **state)
{
	(void)state;
	model(BIT(VFB_F_RO) | BIT(VFB_F_FLUSH));
	struct vblk *d = boot_ok();
	assert_true(vblk_info(d)->read_only);
	unsigned before = blk.nreq;
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_OUT, 0, buf, 512), -EROFS);
	assert_int_equal(vblk_flush(d), -EROFS);
	assert_int_equal(blk.nreq, before);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), 0);
	assert_clean();
}
ISOLATED(test_read_only)

/* FLUSH only when negotiated; then with sector 0 and no data. */
static void test_flush_needs_the_feature(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	assert_int_equal(vblk_flush(d), -EOPNOTSUPP);
	assert_int_equal(seen(VFB_T_FLUSH), 0);
	assert_clean();
}
ISOLATED(test_flush_needs_the_feature)

static void test_flush(void **state)
{
	(void)state;
	model(BIT(VFB_F_FLUSH));
	struct vblk *d = boot_ok();
	assert_int_equal(vblk_flush(d), 0);
	assert_int_equal(seen(VFB_T_FLUSH), 1);
	assert_clean();
}
ISOLATED(test_flush)

/* blk_size is only valid with BLK_SIZE (5.2.4): without it, 512 whatever the field says. */
static void test_blk_size_only_with_the_feature(void **state)
{
	(void)state;
	model(0);
	blk.blk_size = 4096;
	struct vblk *d = boot_ok();
	assert_int_equal(vblk_info(d)->blk_size, 512);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 1, buf, 512), 0);
	assert_clean();
}
ISOLATED(test_blk_size_only_with_the_feature)

static void test_blk_size_4096(void **state)
{
	(void)state;
	model(BIT(VFB_F_BLK_SIZE));
	blk.blk_size = 4096;
	struct vblk *d = boot_ok();
	assert_int_equal(vblk_info(d)->blk_size, 4096);
	unsigned before = blk.nreq;
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 1, buf, 4096), -EINVAL);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 8, buf, 512), -EINVAL);
	assert_int_equal(blk.nreq, before);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 8, buf, 8192), 0);
	assert_memory_equal(buf, disk + 8 * 512, 8192);
	assert_clean();
}
ISOLATED(test_blk_size_4096)

/* ======================================================================================== */
/* Segments: seg_max, size_max (5.2.6.1)                                                     */

/* A large read at an odd offset: every request within the limits, the data all there. */
static void read_large(struct vblk *d, size_t off, size_t len)
{
	memset(buf, 0, sizeof(buf));
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 3, buf + off, len), 0);
	assert_memory_equal(buf + off, disk + 3 * 512, len);
	assert_clean();
}

static void test_seg_max(void **state)
{
	(void)state;
	model(BIT(VFB_F_SEG_MAX));
	blk.seg_max = 3;
	struct vblk *d = boot_ok();
	read_large(d, 512, 65536);
	for (unsigned i = 0; i < blk.nreq && i < VFB_MAX_LOG; i++)
		if (blk.log[i].type == VFB_T_IN)
			assert_true(blk.log[i].segs <= 3);
}
ISOLATED(test_seg_max)

/* seg_max 1: one segment per request, also for a buffer that crosses pages. */
static void test_seg_max_1(void **state)
{
	(void)state;
	model(BIT(VFB_F_SEG_MAX));
	blk.seg_max = 1;
	struct vblk *d = boot_ok();
	read_large(d, 1024, 5 * 4096);
}
ISOLATED(test_seg_max_1)

/* size_max below the page and not dividing it: each page splits into 1536 + 1536 + 1024, so
 * no fixed bytes-per-segment figure is right; large reads must still be cut to fit. */
static void test_size_max_not_dividing_the_page(void **state)
{
	(void)state;
	model(BIT(VFB_F_SIZE_MAX));
	blk.size_max = 1536;
	struct vblk *d = boot_ok();
	read_large(d, 0, 512 * 1024);
	read_large(d, 512, 300 * 1024);
	for (unsigned i = 0; i < blk.nreq && i < VFB_MAX_LOG; i++)
		assert_true(blk.log[i].max_seg <= 1536);
}
ISOLATED(test_size_max_not_dividing_the_page)

static void test_size_max_and_seg_max(void **state)
{
	(void)state;
	model(BIT(VFB_F_SIZE_MAX) | BIT(VFB_F_SEG_MAX));
	blk.size_max = 1000; /* not even a sector multiple */
	blk.seg_max = 2;
	struct vblk *d = boot_ok();
	read_large(d, 0, 64 * 1024);
	read_large(d, 3584, 20 * 1024);
}
ISOLATED(test_size_max_and_seg_max)

/* ======================================================================================== */
/* GET_ID (5.2.6: 20 bytes, NUL-padded, not terminated when all are used)                    */

static void test_get_id_all_20_bytes(void **state)
{
	(void)state;
	model(0);
	memcpy(blk.serial, "ABCDEFGHIJKLMNOPQRST", 20);
	struct vblk *d = boot_ok();
	assert_string_equal(vblk_info(d)->id, "ABCDEFGHIJKLMNOPQRST");
	assert_clean();
}
ISOLATED(test_get_id_all_20_bytes)

static void test_get_id_short_and_unsupported(void **state)
{
	(void)state;
	model(0);
	memcpy(blk.serial, "disk-7", 6);
	struct vblk *d = boot_ok();
	assert_string_equal(vblk_info(d)->id, "disk-7");
	assert_clean();
}
ISOLATED(test_get_id_short_and_unsupported)

static void test_get_id_unsupp(void **state)
{
	(void)state;
	model(0);
	blk.unsupp_types = 1u << VFB_T_GET_ID;
	struct vblk *d = boot_ok();
	assert_string_equal(vblk_info(d)->id, "");
	assert_false(vblk_virtio(d)->failed);
	assert_clean();
}
ISOLATED(test_get_id_unsupp)

/* GET_ID's buffer is 20 bytes exactly (5.2.6), or the request is refused before it reaches
 * the device. */
static void test_get_id_length_is_checked(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	unsigned before = blk.nreq;
	static uint8_t id[32];
	static const uint32_t lens[] = {19, 21, 0};
	for (unsigned i = 0; i < 3; i++) {
		struct blk_req r = {.type = VIRTIO_BLK_T_GET_ID, .buf = id, .len = lens[i]};
		assert_int_equal(vblk_submit(d, &r, true), -EINVAL);
	}
	assert_int_equal(blk.nreq, before);
	assert_clean();
}
ISOLATED(test_get_id_length_is_checked)

/* ======================================================================================== */
/* Configuration (2.5.1, 4.2.2.2)                                                            */

/* A configuration that never reads the same twice fails the probe with a reason, instead of
 * a torn capacity being trusted. */
static void test_torn_config_fails_the_probe(void **state)
{
	(void)state;
	model(BIT(VFB_F_SEG_MAX));
	dev.gen_bumps = 100000;
	assert_null(boot());
	assert_true(vfd_log_has("cannot read a consistent configuration"));
	assert_int_equal(virtio_device_count(), 1);
	assert_true(virtio_device_at(0)->failed);
}
ISOLATED(test_torn_config_fails_the_probe)


/* ======================================================================================== */
/* Recovery (docs/FAILURES.md): DEVICE_NEEDS_RESET, a broken queue, a timeout                */

static struct virtio_device *the_vd(void)
{
	assert_int_equal(virtio_device_count(), 1);
	return virtio_device_at(0);
}

/* The device enters an error state (2.1.1): DEVICE_NEEDS_RESET and a config interrupt. */
static void needs_reset(void)
{
	dev.status |= 64;
	vfd_config_change(&dev);
	vfd_deliver(&dev);
}

static void async_done(struct blk_req *r)
{
	(*(unsigned *)r->ctx)++;
}

/* A device that writes fewer bytes of its id than it reports leaves nothing of an earlier
 * answer behind: the driver's buffer starts cleared each time (here the second probe, after
 * a reset, reads a shorter serial). */
static void test_get_id_buffer_starts_clear(void **state)
{
	(void)state;
	model(0);
	memcpy(blk.serial, "ABCDEFGHIJKLMNOPQRST", 20);
	struct vblk *d = boot_ok();
	assert_string_equal(vblk_info(d)->id, "ABCDEFGHIJKLMNOPQRST");
	memset(blk.serial, 0, sizeof(blk.serial));
	memcpy(blk.serial, "disk-7", 6);
	blk.id_bytes = 6; /* no NUL written, 20 bytes reported */
	needs_reset();
	virtio_maintain();
	assert_int_equal(the_vd()->resets, 1);
	assert_string_equal(vblk_info(d)->id, "disk-7");
	assert_clean();
}
ISOLATED(test_get_id_buffer_starts_clear)

/* Requests in flight when the device needs a reset fail with -EIO (none is lost in silence),
 * the device is reset and initialised again, and the same disk works afterwards. */
static void test_needs_reset_recovers(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	struct virtio_device *vd = the_vd();
	blk.hold = true;
	static struct blk_req r[4];
	unsigned completed = 0;
	for (unsigned i = 0; i < 4; i++) {
		r[i] = (struct blk_req){.type = VIRTIO_BLK_T_IN, .sector = i, .buf = buf + 512 * i,
					.len = 512, .done = async_done, .ctx = &completed};
		assert_int_equal(vblk_submit(d, &r[i], true), 0);
	}
	assert_int_equal(blk.nheld, 4);
	blk.hold = false;
	blk.nheld = 0;
	long dma_before = vfd_dma_outstanding;
	needs_reset();
	assert_true(vd->reset_pending);
	assert_int_equal(completed, 0);
	virtio_maintain();
	assert_int_equal(completed, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(r[i].result, -EIO);
	assert_int_equal(vd->resets, 1);
	assert_non_null(strstr(vd->reset_reason, "DEVICE_NEEDS_RESET"));
	assert_false(vd->failed);
	assert_false(vd->dead);
	assert_int_equal(vfd_dma_outstanding, dma_before); /* old rings freed, new ones made */
	assert_ptr_equal(vblk_at(0), d);
	assert_int_equal(vblk_count(), 1);
	assert_string_equal(vblk_info(d)->name, "vda");
	assert_true(dev.status & 4); /* DRIVER_OK again */
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 5, buf, 512), 0);
	assert_memory_equal(buf, disk + 5 * 512, 512);
	assert_clean();
}
ISOLATED(test_needs_reset_recovers)

/* While a reset is pending, a waiter gives up at once (-EIO) rather than waiting on a device
 * that needs one, and its request is failed by the recovery. */
static void test_needs_reset_during_a_wait(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	blk.hold_n = 1;
	dev.status |= 64;
	vfd_config_change(&dev); /* delivered at the waiter's first halt */
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), -EIO);
	assert_int_equal(the_vd()->resets, 1);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), 0);
	assert_clean();
}
ISOLATED(test_needs_reset_during_a_wait)

/* A used id out of range breaks the queue (the ring's check); the recovery brings it back. */
static void test_broken_queue_recovers(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	blk.bad_id_once = true;
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), -EIO);
	struct virtio_device *vd = the_vd();
	assert_int_equal(vd->resets, 1);
	assert_non_null(strstr(vd->reset_reason, "broke"));
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), 0);
	assert_memory_equal(buf, disk, 512);
}
ISOLATED(test_broken_queue_recovers)

/* A request the device never completes times out; the reset brings the disk back. */
static void test_timeout_recovers(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	blk.hold_n = 1;
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), -ETIMEDOUT);
	assert_int_equal(the_vd()->resets, 1);
	assert_non_null(strstr(the_vd()->reset_reason, "timed out"));
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), 0);
	assert_clean();
}
ISOLATED(test_timeout_recovers)

/* A ring that stays full of requests the device never completes: a synchronous request
 * retries for as long as a request may take, then gives up with -ETIMEDOUT and resets the
 * device, which fails the held requests (-EIO) and brings the disk back. */
static void test_ring_that_stays_full_times_out(void **state)
{
	(void)state;
	model(0);
	dev.queue_max[0] = 8;
	struct vblk *d = boot_ok();
	blk.hold_n = 8; /* the eight that fill the ring (one descriptor each, INDIRECT) */
	static struct blk_req r[8];
	unsigned completed = 0, n = 0;
	for (; n < 8; n++) {
		r[n] = (struct blk_req){.type = VIRTIO_BLK_T_IN, .sector = n, .buf = buf + 512 * n,
					.len = 512, .done = async_done, .ctx = &completed};
		int err = vblk_submit(d, &r[n], true);
		if (err == -ENOSPC)
			break;
		assert_int_equal(err, 0);
	}
	assert_int_equal(n, 8);
	assert_int_equal(vblk_submit(d, &(struct blk_req){.type = VIRTIO_BLK_T_IN, .buf = buf,
							    .len = 512, .done = async_done,
							    .ctx = &completed}, true), -ENOSPC);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf + 8 * 512, 512), -ETIMEDOUT);
	assert_int_equal(the_vd()->resets, 1);
	assert_non_null(strstr(the_vd()->reset_reason, "the request ring stayed full"));
	assert_int_equal(completed, n);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(r[i].result, -EIO);
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 3, buf, 512), 0);
	assert_memory_equal(buf, disk + 3 * 512, 512);
	assert_clean();
}
ISOLATED(test_ring_that_stays_full_times_out)

/* A reset that never completes: the device may still use its rings, so they stay allocated,
 * and the device is dead; nothing touches it again. */
static void test_reset_that_never_completes_leaks(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	long dma_before = vfd_dma_outstanding;
	needs_reset();
	dev.reset_never = true; /* from the reset on (the model reads back the old status) */
	virtio_maintain();
	struct virtio_device *vd = the_vd();
	assert_true(vd->dead);
	assert_true(vd->failed);
	assert_int_equal(vfd_dma_outstanding, dma_before);
	assert_true(vfd_log_has("stay allocated"));
	unsigned before = blk.nreq;
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), -EIO);
	assert_int_equal(blk.nreq, before);
}
ISOLATED(test_reset_that_never_completes_leaks)

/* A device that keeps failing: the fourth reset within a minute is not tried; dead. */
static void test_fourth_reset_in_a_minute_is_dead(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	struct virtio_device *vd = the_vd();
	for (unsigned i = 1; i <= 3; i++) {
		needs_reset();
		virtio_maintain();
		assert_int_equal(vd->resets, i);
		assert_false(vd->dead);
		assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), 0);
	}
	needs_reset();
	virtio_maintain();
	assert_true(vd->dead);
	assert_true(vfd_log_has("4 resets within a minute"));
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), -EIO);
}
ISOLATED(test_fourth_reset_in_a_minute_is_dead)

/* A recovery whose re-initialisation fails (GET_ID never answered) ends dead, not in a loop. */
static void test_failed_reinit_is_dead(void **state)
{
	(void)state;
	model(0);
	struct vblk *d = boot_ok();
	blk.hold = true;
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), -ETIMEDOUT);
	assert_true(the_vd()->dead);
	assert_int_equal(the_vd()->resets, 1);
	/* The queue its probe made went back with the device: the disk holds no pointer to it. */
	assert_null(vblk_queue(d));
	assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, 0, buf, 512), -EIO);
}
ISOLATED(test_failed_reinit_is_dead)


/* ======================================================================================== */
/* DISCARD, WRITE_ZEROES, topology, cache mode (5.2.3, 5.2.4, 5.2.6)                         */

static const struct vfb_req *last_of(uint32_t t)
{
	for (unsigned i = blk.nreq < VFB_MAX_LOG ? blk.nreq : VFB_MAX_LOG; i-- > 0;)
		if (blk.log[i].type == t)
			return &blk.log[i];
	return NULL;
}

/* Zeroes reach the disk; ranges longer than the device takes are split at its limit; the
 * unmap flag only where the device says it may deallocate. */
static void test_write_zeroes(void **state)
{
	(void)state;
	model(BIT(VFB_F_WRITE_ZEROES));
	blk.max_write_zeroes_sectors = 8;
	blk.max_write_zeroes_seg = 1;
	struct vblk *d = boot_ok();
	assert_true(vblk_info(d)->write_zeroes);
	assert_int_equal(vblk_info(d)->max_write_zeroes_sectors, 8);
	assert_int_equal(vblk_write_zeroes(d, 10, 20, true), 0);
	assert_int_equal(seen(VFB_T_WRITE_ZEROES), 3); /* 8 + 8 + 4 */
	for (size_t i = 10 * 512; i < 30 * 512; i++)
		assert_int_equal(disk[i], 0);
	assert_int_not_equal(disk[9 * 512], 0);
	assert_int_not_equal(disk[30 * 512], 0);
	const struct vfb_req *q = last_of(VFB_T_WRITE_ZEROES);
	assert_int_equal(q->range_sector, 26);
	assert_int_equal(q->range_sectors, 4);
	assert_int_equal(q->range_flags, 0); /* write_zeroes_may_unmap is 0 */
	assert_int_equal(q->ranges, 1);
	assert_int_equal(vblk_info(d)->zeroes, 3);
	assert_clean();
}
ISOLATED(test_write_zeroes)

static void test_write_zeroes_may_unmap(void **state)
{
	(void)state;
	model(BIT(VFB_F_WRITE_ZEROES));
	blk.write_zeroes_may_unmap = 1;
	struct vblk *d = boot_ok();
	assert_int_equal(vblk_write_zeroes(d, 0, 8, true), 0);
	assert_int_equal(last_of(VFB_T_WRITE_ZEROES)->range_flags, 1);
	assert_int_equal(vblk_write_zeroes(d, 0, 8, false), 0);
	assert_int_equal(last_of(VFB_T_WRITE_ZEROES)->range_flags, 0);
	assert_clean();
}
ISOLATED(test_write_zeroes_may_unmap)

static void test_discard(void **state)
{
	(void)state;
	model(BIT(VFB_F_DISCARD));
	blk.max_discard_sectors = 16;
	blk.discard_sector_alignment = 8;
	struct vblk *d = boot_ok();
	assert_true(vblk_info(d)->discard);
	assert_int_equal(vblk_info(d)->discard_sector_alignment, 8);
	assert_int_equal(vblk_info(d)->max_discard_seg, 1); /* 0 from the device: one range */
	assert_int_equal(vblk_discard(d, 64, 40), 0);
	assert_int_equal(seen(VFB_T_DISCARD), 3); /* 16 + 16 + 8 */
	assert_int_equal(last_of(VFB_T_DISCARD)->range_flags, 0);
	assert_int_equal(vblk_info(d)->discards, 3);
	assert_clean();
}
ISOLATED(test_discard)

/* Refused before the device sees them: no feature, past capacity, read-only, not whole
 * blocks, an empty range. */
static void test_discard_and_zeroes_refused(void **state)
{
	(void)state;
	model(BIT(VFB_F_DISCARD) | BIT(VFB_F_BLK_SIZE));
	blk.blk_size = 4096;
	struct vblk *d = boot_ok();
	unsigned before = blk.nreq;
	assert_int_equal(vblk_write_zeroes(d, 0, 8, false), -EOPNOTSUPP);
	assert_int_equal(vblk_discard(d, SECTORS - 8, 16), -ERANGE);
	assert_int_equal(vblk_discard(d, 4, 8), -EINVAL);
	assert_int_equal(vblk_discard(d, 8, 0), -EINVAL);
	assert_int_equal(blk.nreq, before);
	assert_int_equal(vblk_discard(d, 8, 8), 0);
	assert_clean();
}
ISOLATED(test_discard_and_zeroes_refused)

static void test_discard_read_only(void **state)
{
	(void)state;
	model(BIT(VFB_F_DISCARD) | BIT(VFB_F_WRITE_ZEROES) | BIT(VFB_F_RO));
	struct vblk *d = boot_ok();
	unsigned before = blk.nreq;
	assert_int_equal(vblk_discard(d, 0, 8), -EROFS);
	assert_int_equal(vblk_write_zeroes(d, 0, 8, false), -EROFS);
	assert_int_equal(blk.nreq, before);
	assert_clean();
}
ISOLATED(test_discard_read_only)

/* Topology and the cache mode are read only when offered, and shown as the device says. */
static void test_topology_and_cache_mode(void **state)
{
	(void)state;
	model(BIT(VFB_F_TOPOLOGY) | BIT(VFB_F_CONFIG_WCE));
	blk.physical_block_exp = 3;
	blk.alignment_offset = 1;
	blk.min_io_size = 8;
	blk.opt_io_size = 256;
	blk.writeback = 1;
	struct vblk *d = boot_ok();
	const struct vblk_info *in = vblk_info(d);
	assert_int_equal(in->physical_block_exp, 3);
	assert_int_equal(in->alignment_offset, 1);
	assert_int_equal(in->min_io_size, 8);
	assert_int_equal(in->opt_io_size, 256);
	assert_true(in->wce);
	assert_true(in->writeback);
	assert_true(vfd_log_has("vda: topology: 8 logical blocks per physical"));
	assert_true(vfd_log_has("vda: cache: writeback"));
	assert_clean();
}
ISOLATED(test_topology_and_cache_mode)

static void test_topology_only_with_the_feature(void **state)
{
	(void)state;
	model(0);
	blk.physical_block_exp = 3;
	blk.writeback = 1;
	struct vblk *d = boot_ok();
	assert_int_equal(vblk_info(d)->physical_block_exp, 0);
	assert_false(vblk_info(d)->wce);
	assert_false(vfd_log_has("topology"));
	assert_clean();
}
ISOLATED(test_topology_only_with_the_feature)


/* seg_max, size_max and the discard limits are valid only with their features (5.2.4): the
 * same config without them is not taken (a seg_max of 1 there would cut every request). */
static void test_optional_limits_only_with_their_features(void **state)
{
	(void)state;
	model(0);
	blk.seg_max = 1;
	blk.size_max = 512;
	struct vblk *d = boot_ok();
	assert_int_equal(vblk_info(d)->seg_max, 0);
	assert_int_equal(vblk_info(d)->size_max, 0);
	assert_false(vblk_info(d)->discard);
	unsigned before = blk.nreq;
	assert_int_equal(vblk_discard(d, 0, 8), -EOPNOTSUPP);
	assert_int_equal(blk.nreq, before);
	read_large(d, 0, 16 * 4096);
	assert_int_equal(blk.nreq, before + 1); /* one request, not sixteen or more */
}
ISOLATED(test_optional_limits_only_with_their_features)

/* ======================================================================================== */
/* Hybrid mode (docs/PERFORMANCE.md)                                                          */

/* A device that answers a lone request at once is polled, never slept on; and every wait
 * hands the interrupt back, so a completion after it is announced. (This device completes
 * within the kick, before the wait turns interrupts off, so it may still raise some.) */
static void test_hybrid_polls_lone_requests_and_leaves_interrupts_on(void **state)
{
	(void)state;
	virtio_options.mode = VIRTIO_MODE_HYBRID;
	model(0);
	struct vblk *d = boot_ok();
	/* The first waits learn how long a lone request takes (the first one halts once). */
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, i, buf, 512), 0);
	assert_true(the_vd()->vqs[0].wait_avg_ns > 0);
	unsigned idle0 = vfd_idle_calls;
	for (unsigned i = 0; i < 16; i++) {
		assert_int_equal(vblk_io(d, VIRTIO_BLK_T_IN, i, buf, 512), 0);
		assert_memory_equal(buf, disk + i * 512, 512);
	}
	assert_int_equal(vfd_idle_calls, idle0);
	/* A request the device completes later, when nobody waits: it must interrupt. */
	vfd_deliver(&dev);
	unsigned irqs0 = dev.q[0].irqs;
	blk.hold_n = 1;
	unsigned completed = 0;
	static struct blk_req r;
	r = (struct blk_req){.type = VIRTIO_BLK_T_IN, .sector = 3, .buf = buf, .len = 512,
			     .done = async_done, .ctx = &completed};
	assert_int_equal(vblk_submit(d, &r, true), 0);
	vfb_complete_held(&blk);
	assert_int_equal(dev.q[0].irqs, irqs0 + 1);
	vfd_deliver(&dev);
	assert_int_equal(completed, 1);
	assert_int_equal(r.result, 0);
	assert_clean();
}
ISOLATED(test_hybrid_polls_lone_requests_and_leaves_interrupts_on)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_that_stays_full_times_out_isolated),
		cmocka_unit_test(test_get_id_length_is_checked_isolated),
		cmocka_unit_test(test_get_id_buffer_starts_clear_isolated),
		cmocka_unit_test(test_hybrid_polls_lone_requests_and_leaves_interrupts_on_isolated),
		cmocka_unit_test(test_write_then_read_back_isolated),
		cmocka_unit_test(test_status_not_written_is_an_error_isolated),
		cmocka_unit_test(test_short_used_length_is_not_success_isolated),
		cmocka_unit_test(test_ioerr_isolated),
		cmocka_unit_test(test_unsupp_isolated),
		cmocka_unit_test(test_capacity_is_checked_isolated),
		cmocka_unit_test(test_read_only_isolated),
		cmocka_unit_test(test_flush_needs_the_feature_isolated),
		cmocka_unit_test(test_flush_isolated),
		cmocka_unit_test(test_blk_size_only_with_the_feature_isolated),
		cmocka_unit_test(test_blk_size_4096_isolated),
		cmocka_unit_test(test_seg_max_isolated),
		cmocka_unit_test(test_seg_max_1_isolated),
		cmocka_unit_test(test_size_max_not_dividing_the_page_isolated),
		cmocka_unit_test(test_size_max_and_seg_max_isolated),
		cmocka_unit_test(test_get_id_all_20_bytes_isolated),
		cmocka_unit_test(test_get_id_short_and_unsupported_isolated),
		cmocka_unit_test(test_get_id_unsupp_isolated),
		cmocka_unit_test(test_torn_config_fails_the_probe_isolated),
		cmocka_unit_test(test_optional_limits_only_with_their_features_isolated),
		cmocka_unit_test(test_write_zeroes_isolated),
		cmocka_unit_test(test_write_zeroes_may_unmap_isolated),
		cmocka_unit_test(test_discard_isolated),
		cmocka_unit_test(test_discard_and_zeroes_refused_isolated),
		cmocka_unit_test(test_discard_read_only_isolated),
		cmocka_unit_test(test_topology_and_cache_mode_isolated),
		cmocka_unit_test(test_topology_only_with_the_feature_isolated),
		cmocka_unit_test(test_needs_reset_recovers_isolated),
		cmocka_unit_test(test_needs_reset_during_a_wait_isolated),
		cmocka_unit_test(test_broken_queue_recovers_isolated),
		cmocka_unit_test(test_timeout_recovers_isolated),
		cmocka_unit_test(test_reset_that_never_completes_leaks_isolated),
		cmocka_unit_test(test_fourth_reset_in_a_minute_is_dead_isolated),
		cmocka_unit_test(test_failed_reinit_is_dead_isolated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
