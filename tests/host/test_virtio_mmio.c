/*
 * Host unit tests of the virtio-mmio transport (version 2 and legacy version 1) with the virtio
 * device core, end to end: virtio_mmio_add on a window, the real virtio-rng driver or the test
 * driver of virtio_test_driver.c, requests and interrupts. Behind virtio_reg_read/write stands
 * the register block of virtio_fake_mmio.c, which records every access and every breach of a
 * driver MUST of 4.2.2.2, 4.2.3 and 4.2.4 (tests end with none unless they provoke one).
 * Also the command line syntax virtio_mmio.device=.
 *
 * Expected register sequences are the spec's (4.2.3.1, 4.2.3.2, 4.2.4), not the code's. Each
 * test runs in a forked child (the core's tables are static).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/host/cmocka_isolate.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/mmio/virtio_mmio.h"
#include "drivers/virtio/rng/virtio_rng.h"
#include "tests/host/virtio_fake_dev.h"
#include "tests/host/virtio_test_driver.h"

static struct virtio_mmio_window win;

static void model(enum vfd_kind kind, uint16_t type)
{
	vfd_init(&dev, kind, type);
}

/* Register the drivers, build the window around the model and add it. */
static int boot(void)
{
	static bool registered;
	if (!registered) {
		assert_int_equal(virtio_rng_register(), 0);
		assert_int_equal(virtio_register_driver(&vt_driver), 0);
		registered = true;
	}
	vfd_build_mmio(&dev, &win);
	return virtio_mmio_add(&win);
}

/* ======================================================================================== */
/* Initialisation (4.2.3.1, 3.1.1, 4.2.3.2, 4.2.4)                                         */

static void test_modern_init_sequence(void **state)
{
	(void)state;
	model(VFD_MMIO, ID_RNG);
	dev.features = F_INDIRECT | F_EVENT_IDX | F_VERSION_1 | BIT(40) /* RING_RESET */;
	assert_int_equal(boot(), 0);
	const char *expect =
		/* 4.2.3.1.1: magic, version, device id, before anything else */
		"magic?74726976 version?2 id?4 "
		/* reset and wait for 0 (the model shows the old status twice more) */
		"status=0 status?f status?f status?0 "
		"status?0 status=1 status?1 status=3 "
		/* features: select the bank, then read; select, then write */
		"dfsel=0 df?30000000 dfsel=1 df?101 "
		"gfsel=0 gf=30000000 gfsel=1 gf=1 "
		"status?3 status=b status?b "
		/* 4.2.3.2: select, check QueueReady is 0, read QueueNumMax */
		"qsel=0 ready?0 qmax?40 "
		/* size, the three addresses (low, high), QueueReady = 1 last */
		"qsel=0 qnum=40 desc_lo=1 desc_hi=0 drv_lo=1 drv_hi=0 dev_lo=1 dev_hi=0 ready=1 "
		"status?b status=f";
	if (strcmp(dev.trace, expect) != 0)
		fail_msg("init sequence differs:\n got: %s\nwant: %s", dev.trace, expect);
	struct virtio_device *vd = the_vd();
	struct virtqueue *vq = vd->vqs[0].vq;
	assert_int_equal(dev.q[0].desc, virtqueue_desc_phys(vq));
	assert_int_equal(dev.q[0].driver, virtqueue_avail_phys(vq));
	assert_int_equal(dev.q[0].device, virtqueue_used_phys(vq));
	assert_string_equal(virtio_transport_name(vd), "modern");
	assert_int_equal(vd->features, F_INDIRECT | F_EVENT_IDX | F_VERSION_1);
	/* The interrupt line as firmware described it. */
	assert_int_equal(vfd_nlines, 1);
	assert_int_equal(vfd_lines[0].line, VFD_MMIO_LINE);
	assert_false(vfd_lines[0].level);
	assert_false(vfd_lines[0].active_low);
	vfd_trace_clear(&dev);
	rng_read_ok(64);
	assert_contains(dev.trace, "notify=0");
	/* The handler acknowledges what it read, then looks again. */
	assert_contains(dev.trace, "istat?1 iack=1 istat?0");
	assert_true(dev.line_irqs > 0);
	assert_clean();
}
ISOLATED(test_modern_init_sequence)

static void test_legacy_init_sequence(void **state)
{
	(void)state;
	model(VFD_MMIO_LEGACY, ID_RNG);
	dev.features = F_INDIRECT | F_EVENT_IDX | BIT(24) /* ANY_LAYOUT */;
	dev.queue_max[0] = 8;
	assert_int_equal(boot(), 0);
	const char *expect =
		"magic?74726976 version?1 id?4 "
		"status=0 status?f status?f status?0 "
		"status?0 status=1 status?1 status=3 "
		/* one feature bank; no FEATURES_OK in version 1 */
		"dfsel=0 df?31000000 gfsel=0 gf=30000000 "
		/* 4.2.4: GuestPageSize first, QueuePFN reads 0, the device's size */
		"pagesize=1000 qsel=0 pfn?0 qmax?8 "
		"qsel=0 qnum=8 qalign=1000 pfn=1 "
		"status?3 status=7";
	if (strcmp(dev.trace, expect) != 0)
		fail_msg("init sequence differs:\n got: %s\nwant: %s", dev.trace, expect);
	struct virtio_device *vd = the_vd();
	assert_string_equal(virtio_transport_name(vd), "legacy");
	assert_int_equal(vd->features, F_INDIRECT | F_EVENT_IDX);
	assert_int_equal(dev.q[0].pfn, virtqueue_legacy_pfn(vd->vqs[0].vq));
	assert_int_equal(dev.guest_page_size, 4096);
	rng_read_ok(100);
	assert_clean();
}
ISOLATED(test_legacy_init_sequence)

/* ======================================================================================== */
/* Identification (4.2.3.1.1): what is not a usable device is left alone                    */

static void test_empty_slot(void **state)
{
	(void)state;
	model(VFD_MMIO, 0);
	assert_int_equal(boot(), 0);
	assert_string_equal(dev.trace, "magic?74726976 version?2 id?0");
	assert_int_equal(virtio_device_count(), 0);
	assert_string_equal(vfd_log(), ""); /* nothing reported */
	assert_clean();
}
ISOLATED(test_empty_slot)

static void test_bad_magic(void **state)
{
	(void)state;
	model(VFD_MMIO, ID_RNG);
	dev.mmio_magic = 0xffffffff; /* nothing decodes there */
	assert_int_equal(boot(), -EINVAL);
	assert_string_equal(dev.trace, "magic?ffffffff");
	assert_int_equal(virtio_device_count(), 0);
	assert_true(vfd_log_has("virtio-mmio@0xfeb00000: magic 0xffffffff is not \"virt\" (test); "
				"ignored"));
	assert_clean();
}
ISOLATED(test_bad_magic)

static void test_bad_version(void **state)
{
	(void)state;
	static const uint32_t bad[] = {0, 3, 0x100};
	for (unsigned i = 0; i < 3; i++) {
		model(VFD_MMIO, ID_RNG);
		dev.mmio_version = bad[i];
		assert_int_equal(boot(), -EINVAL);
		char want[64];
		snprintf(want, sizeof(want), "magic?74726976 version?%x", bad[i]);
		assert_string_equal(dev.trace, want);
		snprintf(want, sizeof(want), "version %u is neither 1 (legacy) nor 2 (modern)", bad[i]);
		assert_true(vfd_log_has(want));
	}
	assert_int_equal(virtio_device_count(), 0);
}
ISOLATED(test_bad_version)

static void test_window_too_small(void **state)
{
	(void)state;
	model(VFD_MMIO, ID_RNG);
	vfd_build_mmio(&dev, &win);
	win.size = 0xfc;
	assert_int_equal(virtio_mmio_add(&win), -EINVAL);
	assert_int_equal(dev.accesses, 0);
	assert_true(vfd_log_has("a 252-byte window cannot hold the registers"));
}
ISOLATED(test_window_too_small)

/* ======================================================================================== */
/* Failures during initialisation: a clear error, the device marked, nothing else touched   */

static void test_features_ok_refused(void **state)
{
	(void)state;
	model(VFD_MMIO, ID_RNG);
	dev.refuse_features_ok = true;
	assert_int_equal(boot(), 0);
	struct virtio_device *vd = the_vd();
	assert_true(vd->failed);
	assert_string_equal(vd->error, "the device refused FEATURES_OK for: RING_INDIRECT_DESC "
				       "RING_EVENT_IDX VERSION_1");
	/* FAILED added, then only the teardown's reset: no queue register, no DRIVER_OK. */
	const char *tail = strstr(dev.trace, "status?3 status=b status?3 status?3 status=83 ");
	assert_non_null(tail);
	assert_string_equal(tail + strlen("status?3 status=b status?3 status?3 status=83 "),
			    "status=0 status?83 status?83 status?0");
	assert_int_equal(dev.driver_ok_writes, 0);
	uint8_t junk[4];
	assert_int_equal(virtio_rng_read(junk, 4), -ENODEV);
	assert_contains(vfd_describe(), "FAILED");
	assert_clean();
}
ISOLATED(test_features_ok_refused)

static void test_reset_that_never_completes(void **state)
{
	(void)state;
	model(VFD_MMIO, ID_RNG);
	dev.reset_never = true;
	assert_int_equal(boot(), 0);
	struct virtio_device *vd = the_vd();
	assert_true(vd->failed);
	assert_contains(vd->error, "did not finish its reset");
	assert_int_equal(dev.driver_ok_writes, 0);
	assert_clean(); /* nothing but status was touched */
}
ISOLATED(test_reset_that_never_completes)

static void test_queue_that_does_not_exist(void **state)
{
	(void)state;
	static const enum vfd_kind kinds[] = {VFD_MMIO, VFD_MMIO_LEGACY};
	for (unsigned k = 0; k < 2; k++) {
		model(kinds[k], VT_TYPE);
		dev.queue_max[0] = 0; /* 4.2.3.2: QueueNumMax 0, the queue is not available */
		assert_int_equal(boot(), 0);
		struct virtio_device *vd = the_vd();
		assert_true(vd->failed);
		assert_string_equal(vd->error, "queue 0 (q0) does not exist (size 0)");
		assert_not_contains(dev.trace, "qnum=");
		assert_int_equal(dev.driver_ok_writes, 0);
		assert_clean();
	}
}
ISOLATED(test_queue_that_does_not_exist)

/* 4.2.3.2: a queue whose QueueReady (QueuePFN) is not 0 after the reset is in use; the driver
 * fails the device rather than program it. */
static void test_queue_in_use_after_the_reset(void **state)
{
	(void)state;
	static const enum vfd_kind kinds[] = {VFD_MMIO, VFD_MMIO_LEGACY};
	for (unsigned k = 0; k < 2; k++) {
		model(kinds[k], VT_TYPE);
		dev.queue_stuck = 1;
		assert_int_equal(boot(), 0);
		struct virtio_device *vd = the_vd();
		assert_true(vd->failed);
		assert_non_null(strstr(vd->error, "queue 0 is already in use after the reset"));
		assert_not_contains(dev.trace, "qnum=");
		assert_int_equal(dev.driver_ok_writes, 0);
		assert_clean();
	}
}
ISOLATED(test_queue_in_use_after_the_reset)

/* Version 1: a ring above 16 TiB does not fit the 32-bit QueuePFN; the device is failed with
 * the reason, and no truncated PFN is written. */
static void test_legacy_ring_above_16_tib(void **state)
{
	(void)state;
	model(VFD_MMIO_LEGACY, VT_TYPE);
	vfd_dma_high = true;
	assert_int_equal(boot(), 0);
	struct virtio_device *vd = the_vd();
	assert_true(vd->failed);
	assert_non_null(strstr(vd->error, "does not fit the 32-bit QueuePFN"));
	assert_not_contains(dev.trace, "pfn=");
	assert_int_equal(dev.driver_ok_writes, 0);
	assert_clean();
}
ISOLATED(test_legacy_ring_above_16_tib)

/* Modern: the driver picks the size (up to QueueNumMax), a power of two. */
static void test_queue_size_choice(void **state)
{
	(void)state;
	model(VFD_MMIO, VT_TYPE);
	dev.queue_max[0] = 1024;
	assert_int_equal(boot(), 0);
	assert_clean();
	assert_int_equal(dev.q[0].size, 256); /* VIRTIO_DEFAULT_QUEUE_SIZE */
	vt_roundtrip(0);
	assert_clean();

	model(VFD_MMIO, VT_TYPE);
	dev.queue_max[0] = 100;
	vt.sizes[0] = 64;
	assert_int_equal(boot(), 0);
	assert_int_equal(dev.q[0].size, 64);
	vt_roundtrip(0);
	assert_clean();
}
ISOLATED(test_queue_size_choice)

/* QueueNumMax is 32 bits; a device may offer more than a split ring can have (2^15): the
 * driver takes it as 32768, not as its low 16 bits (65536 would read as 0, "no queue"). */
static void test_queue_num_max_above_32768(void **state)
{
	(void)state;
	model(VFD_MMIO, VT_TYPE);
	dev.mmio_num_max = 65536;
	dev.queue_max[0] = 32768; /* what the model then checks QueueNum against */
	vt.sizes[0] = 32768;
	assert_int_equal(boot(), 0);
	assert_false(the_vd()->failed);
	assert_int_equal(dev.q[0].size, 32768);
	vt_roundtrip(0);
	assert_clean();
}
ISOLATED(test_queue_num_max_above_32768)

/* Several queues: each selected and set up in turn, each notified by its own index. */
static void test_several_queues(void **state)
{
	(void)state;
	static const enum vfd_kind kinds[] = {VFD_MMIO, VFD_MMIO_LEGACY};
	for (unsigned k = 0; k < 2; k++) {
		model(kinds[k], VT_TYPE);
		vt.nvqs = 3;
		dev.num_queues = 3;
		assert_int_equal(boot(), 0);
		for (unsigned q = 0; q < 3; q++) {
			vfd_trace_clear(&dev);
			vt_roundtrip(q);
			char want[16];
			snprintf(want, sizeof(want), "notify=%u", q);
			assert_contains(dev.trace, want);
			assert_int_equal(dev.q[q].notifies, 1);
		}
		assert_clean();
	}
}
ISOLATED(test_several_queues)

/* ======================================================================================== */
/* Interrupts: one line, InterruptStatus / InterruptACK                                    */

static void test_level_triggered_line(void **state)
{
	(void)state;
	model(VFD_MMIO, ID_RNG);
	dev.mmio_level = true;
	assert_int_equal(boot(), 0);
	assert_true(vfd_lines[0].level);
	rng_read_ok(256);
	assert_true(dev.line_irqs > 0);
	assert_int_equal(dev.acks, dev.line_irqs);
	assert_false(dev.line_up); /* every status bit acknowledged: the line is low */
	const char *d = vfd_describe();
	assert_contains(d, "irq line");
	assert_contains(d, "mmio: version 2, 512-byte window, line 5 level");
	assert_clean();
}
ISOLATED(test_level_triggered_line)

/* An event that arrives while the handler serves the previous one: acknowledged before the
 * handler harvests and looked for again after, so it is not lost on an edge-triggered line. */
static void raise_config_change(void)
{
	static bool once;
	if (!once) {
		once = true;
		vfd_config_change(&dev);
	}
}

static void test_event_during_service_is_not_lost(void **state)
{
	(void)state;
	model(VFD_MMIO, VT_TYPE);
	assert_int_equal(boot(), 0);
	vt.harvest_hook = raise_config_change;
	vfd_trace_clear(&dev);
	vt_roundtrip(0);
	assert_int_equal(vt.config_changed, 1);
	assert_int_equal(vt.vd->config_changes, 1);
	/* one interrupt: the queue (acked, served), then the config change found on the re-check
	 * (served after a look at the status for DEVICE_NEEDS_RESET) */
	assert_contains(dev.trace, "istat?1 iack=1 istat?2 iack=2 status?f istat?0");
	assert_clean();
}
ISOLATED(test_event_during_service_is_not_lost)

/* A config change on its own: bit 1, the driver's config_changed. */
static void test_config_change_interrupt(void **state)
{
	(void)state;
	model(VFD_MMIO, VT_TYPE);
	dev.mmio_level = true;
	assert_int_equal(boot(), 0);
	vfd_config_change(&dev);
	vt_roundtrip(0);
	assert_int_equal(vt.config_changed, 1);
	assert_false(dev.line_up);
	assert_clean();
}
ISOLATED(test_config_change_interrupt)

/* Poll mode: no handler on the line, the rings ask for no interrupts. */
static void test_poll_mode(void **state)
{
	(void)state;
	virtio_options.mode = VIRTIO_MODE_POLL;
	model(VFD_MMIO, ID_RNG);
	assert_int_equal(boot(), 0);
	struct virtio_device *vd = the_vd();
	assert_int_equal(vd->irq_kind, VIRTIO_IRQ_NONE);
	assert_int_equal(vfd_nlines, 0);
	rng_read_ok(200);
	assert_int_equal(dev.q[0].irqs, 0);
	assert_contains(vfd_describe(), "mode poll, irq none");
	assert_clean();
}
ISOLATED(test_poll_mode)

static void test_hybrid_mode(void **state)
{
	(void)state;
	virtio_options.mode = VIRTIO_MODE_HYBRID;
	model(VFD_MMIO_LEGACY, ID_RNG);
	dev.features &= ~F_EVENT_IDX;
	assert_int_equal(boot(), 0);
	assert_int_equal(the_vd()->irq_kind, VIRTIO_IRQ_LINE);
	rng_read_ok(64);
	assert_contains(vfd_describe(), "mode hybrid, irq line");
	assert_clean();
}
ISOLATED(test_hybrid_mode)

/* Another device's interrupt on a shared line: status 0, not ours, nothing acknowledged. */
static void test_shared_line_not_ours(void **state)
{
	(void)state;
	model(VFD_MMIO, ID_RNG);
	assert_int_equal(boot(), 0);
	vfd_trace_clear(&dev);
	assert_false(vfd_lines[0].fn(vfd_lines[0].ctx));
	assert_string_equal(dev.trace, "istat?0");
	assert_contains(vfd_describe(), "0 interrupts, 1 not ours");
	assert_clean();
}
ISOLATED(test_shared_line_not_ours)

/* 4.2.2: InterruptStatus bits other than "used buffer" (0) and "configuration change" (1) are
 * not the driver's to handle: a status of only such bits is not ours. A config-only interrupt
 * serves no queue. */
static void test_interrupt_status_bits(void **state)
{
	(void)state;
	model(VFD_MMIO, VT_TYPE);
	assert_int_equal(boot(), 0);
	uint64_t before = vt.vd->vqs[0].vq->stats.interrupts;
	dev.isr = 0x4; /* a reserved bit */
	assert_false(vfd_lines[0].fn(vfd_lines[0].ctx));
	assert_contains(vfd_describe(), "0 interrupts, 1 not ours");
	dev.isr = 0;
	vfd_config_change(&dev);
	vfd_deliver(&dev);
	assert_int_equal(vt.config_changed, 1);
	assert_int_equal(vt.vd->vqs[0].vq->stats.interrupts, before); /* no queue served */
}
ISOLATED(test_interrupt_status_bits)

/* Poll mode finds a config change through InterruptStatus and acknowledges it, so the same
 * change is delivered once, not at every look. */
static void test_poll_mode_config_change_once(void **state)
{
	(void)state;
	virtio_options.mode = VIRTIO_MODE_POLL;
	model(VFD_MMIO, VT_TYPE);
	assert_int_equal(boot(), 0);
	vfd_config_change(&dev);
	vfd_time_step_ns = 200000000; /* each look at the clock: 200 ms, past the 100 between looks */
	for (unsigned i = 0; i < 3; i++)
		virtio_maintain();
	assert_int_equal(vt.config_changed, 1);
	assert_int_equal(dev.isr, 0);
	assert_clean();
}
ISOLATED(test_poll_mode_config_change_once)

/* ======================================================================================== */
/* Device configuration (4.2.2.2): field widths, ConfigGeneration                          */

static void test_config_generation_retry(void **state)
{
	(void)state;
	model(VFD_MMIO, VT_TYPE);
	for (unsigned i = 0; i < 16; i++)
		dev.devcfg[i] = (uint8_t)(0xa0 + i);
	dev.devcfg_len = 16;
	assert_int_equal(boot(), 0);
	struct virtio_device *vd = the_vd();
	uint8_t got[8];

	dev.gen_bumps = 3;
	dev.gen_reads = 0;
	assert_int_equal(virtio_config_read(vd, 0, got, 8), 0);
	assert_memory_equal(got, dev.devcfg, 8);
	assert_int_equal(dev.gen_reads, 6); /* 3 tries x (before, after) */

	dev.gen_bumps = 1000;
	assert_int_equal(virtio_config_read(vd, 0, got, 8), -EIO);
	dev.gen_bumps = 0;

	/* A 64-bit field as two 32-bit halves; 1 and 2 byte fields at their width; other
	 * lengths byte by byte. */
	vfd_trace_clear(&dev);
	assert_int_equal(virtio_config_read(vd, 8, got, 8), 0);
	assert_string_equal(dev.trace, "cfg8? cfg12?");
	vfd_trace_clear(&dev);
	assert_int_equal(virtio_config_read(vd, 2, got, 2), 0);
	assert_string_equal(dev.trace, "cfg2?");
	vfd_trace_clear(&dev);
	assert_int_equal(virtio_config_read(vd, 0, got, 6), 0); /* a MAC address */
	assert_string_equal(dev.trace, "cfg0? cfg1? cfg2? cfg3? cfg4? cfg5?");
	assert_memory_equal(got, dev.devcfg, 6);
	/* Outside the window: refused without an access. */
	vfd_trace_clear(&dev);
	assert_int_equal(virtio_config_read(vd, VFD_MMIO_SIZE - 0x100 - 2, got, 4), -EINVAL);
	assert_int_equal(virtio_config_read(vd, 0xffffffffu, got, 2), -EINVAL);
	assert_string_equal(dev.trace, "");
	assert_clean();
}
ISOLATED(test_config_generation_retry)

/* Version 1 has no ConfigGeneration: one pass, no generation reads. */
static void test_legacy_config_has_no_generation(void **state)
{
	(void)state;
	model(VFD_MMIO_LEGACY, VT_TYPE);
	dev.devcfg[4] = 0x42;
	dev.devcfg_len = 8;
	assert_int_equal(boot(), 0);
	uint8_t got[4];
	dev.gen_reads = 0;
	assert_int_equal(virtio_config_read(the_vd(), 4, got, 4), 0);
	assert_int_equal(got[0], 0x42);
	assert_int_equal(dev.gen_reads, 0);
	assert_clean();
}
ISOLATED(test_legacy_config_has_no_generation)

/* ======================================================================================== */
/* Failure after initialisation                                                             */

static void hold_requests(struct vfd *m, unsigned q)
{
	(void)m;
	(void)q;
}

/* A device that never completes: the waiter gives up, the device is reset (QueueReady reads
 * 0 after it) before the buffer is handed back. */
static void test_abandon_resets(void **state)
{
	(void)state;
	static uint8_t buf[32];
	model(VFD_MMIO, VT_TYPE);
	assert_int_equal(boot(), 0);
	struct virtqueue *vq = vt.vd->vqs[0].vq;
	struct vq_sg sg = {buf, sizeof(buf)};
	dev.queue_hook = hold_requests;
	vt.done[0] = false;
	assert_int_equal(virtqueue_add(vq, &sg, 0, 1, &vt.done[0]), 0);
	virtqueue_kick(vq);
	assert_int_equal(virtio_wait(vt.vd, vq, vt_is_done, &vt.done[0], 5000000ull), -ETIMEDOUT);
	vfd_trace_clear(&dev);
	virtio_abandon(vt.vd, "a request timed out");
	assert_true(vt.vd->failed);
	assert_string_equal(dev.trace, "status?f status=8f status=0 status?8f status?8f status?0");
	assert_int_equal(dev.q[0].enable, 0);
	assert_clean();
}
ISOLATED(test_abandon_resets)

/* ======================================================================================== */
/* virtio_mmio.device=<size>@<base>:<irq>[:<id>]                                           */

static void test_cmdline_valid(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t size, base;
		uint32_t irq;
	} ok[] = {
		{"512@0xfeb00000:12", 512, 0xfeb00000, 12},         /* QEMU's microvm */
		{"4K@0xd0000000:5", 4096, 0xd0000000, 5},           /* Firecracker */
		{"4k@0xd0001000:6:3", 4096, 0xd0001000, 6},         /* with the optional id */
		{"0x200@4273995776:0x17", 0x200, 4273995776u, 0x17},
		{"1M@0x100000000:33", 1 << 20, 0x100000000ull, 33}, /* above 4 GiB */
		{"2G@0x80000000:4294967295", 2ull << 30, 0x80000000, 0xffffffffu},
	};
	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct virtio_mmio_window w;
		char why[128] = "";
		if (virtio_mmio_parse(ok[i].s, &w, why, sizeof(why)) != 0)
			fail_msg("'%s' rejected: %s", ok[i].s, why);
		assert_int_equal(w.size, ok[i].size);
		assert_int_equal(w.phys, ok[i].base);
		assert_int_equal(w.irq, ok[i].irq);
		assert_false(w.irq_level);
		assert_false(w.irq_active_low);
		assert_string_equal(w.source, "cmdline");
	}
}

static void test_cmdline_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *s, *why;
	} bad[] = {
		{"", "the size is not a number"},
		{"@0xfeb00000:12", "the size is not a number"},
		{"0@0xfeb00000:12", "the size is not a number"},
		{"512T@0xfeb00000:12", "want <size>@<base>:<irq>"},
		{"99999999999G@0x1000:1", "the size is not a number"},
		{"512", "want <size>@<base>:<irq>"},
		{"512@", "want <size>@<base>:<irq>"},
		{"512@0:12", "the window is at address 0"},
		{"512@0xfffffffffffffff0:12", "wraps around the address space"},
		{"512@0xfeb00000", "no interrupt line"},
		{"512@0xfeb00000:", "no interrupt line"},
		{"512@0xfeb00000:4294967296", "no interrupt line"},
		{"512@0xfeb00000:12:", "the optional :<id> is not a number"},
		{"512@0xfeb00000:12x", "unexpected 'x' at the end"},
		{"512@0xfeb00000:12:3:4", "unexpected ':4' at the end"},
		{"512@0x1ffffffffffffffff:1", "want <size>@<base>:<irq>"},
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct virtio_mmio_window w;
		char why[160] = "";
		if (virtio_mmio_parse(bad[i].s, &w, why, sizeof(why)) != -EINVAL)
			fail_msg("'%s' accepted", bad[i].s);
		char quoted[80];
		snprintf(quoted, sizeof(quoted), "'%s'", bad[i].s);
		assert_contains(why, quoted); /* the message names the entry */
		assert_contains(why, bad[i].why);
	}
}


/* 5.4.6 lets the device return 0 bytes; one that never returns any ends the read with -EIO
 * instead of spinning for ever (boot reads the rng to seed rand()). */
static void test_rng_that_returns_nothing(void **state)
{
	(void)state;
	model(VFD_MMIO, ID_RNG);
	assert_int_equal(boot(), 0);
	dev.fill_none = true;
	uint8_t out[16];
	assert_int_equal(virtio_rng_read(out, sizeof(out)), -EIO);
	assert_true(vfd_log_has("returned no entropy"));
	dev.fill_none = false;
	assert_int_equal(virtio_rng_read(out, sizeof(out)), (long)sizeof(out));
	assert_clean();
}
ISOLATED(test_rng_that_returns_nothing)

/* DEVICE_NEEDS_RESET on the rng: reset, set up again, and reading works afterwards. */
static void test_rng_recovers_after_needs_reset(void **state)
{
	(void)state;
	model(VFD_MMIO, ID_RNG);
	assert_int_equal(boot(), 0);
	dev.status |= 64;
	vfd_config_change(&dev);
	vfd_deliver(&dev);
	virtio_maintain();
	struct virtio_device *vd = the_vd();
	assert_int_equal(vd->resets, 1);
	assert_false(vd->failed);
	uint8_t out[8];
	assert_int_equal(virtio_rng_read(out, sizeof(out)), (long)sizeof(out));
	assert_clean();
}
ISOLATED(test_rng_recovers_after_needs_reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_num_max_above_32768_isolated),
		cmocka_unit_test(test_legacy_ring_above_16_tib_isolated),
		cmocka_unit_test(test_queue_in_use_after_the_reset_isolated),
		cmocka_unit_test(test_modern_init_sequence_isolated),
		cmocka_unit_test(test_legacy_init_sequence_isolated),
		cmocka_unit_test(test_empty_slot_isolated),
		cmocka_unit_test(test_bad_magic_isolated),
		cmocka_unit_test(test_bad_version_isolated),
		cmocka_unit_test(test_window_too_small_isolated),
		cmocka_unit_test(test_features_ok_refused_isolated),
		cmocka_unit_test(test_reset_that_never_completes_isolated),
		cmocka_unit_test(test_queue_that_does_not_exist_isolated),
		cmocka_unit_test(test_queue_size_choice_isolated),
		cmocka_unit_test(test_several_queues_isolated),
		cmocka_unit_test(test_level_triggered_line_isolated),
		cmocka_unit_test(test_event_during_service_is_not_lost_isolated),
		cmocka_unit_test(test_config_change_interrupt_isolated),
		cmocka_unit_test(test_poll_mode_isolated),
		cmocka_unit_test(test_hybrid_mode_isolated),
		cmocka_unit_test(test_shared_line_not_ours_isolated),
		cmocka_unit_test(test_interrupt_status_bits_isolated),
		cmocka_unit_test(test_poll_mode_config_change_once_isolated),
		cmocka_unit_test(test_config_generation_retry_isolated),
		cmocka_unit_test(test_legacy_config_has_no_generation_isolated),
		cmocka_unit_test(test_abandon_resets_isolated),
		cmocka_unit_test(test_rng_that_returns_nothing_isolated),
		cmocka_unit_test(test_rng_recovers_after_needs_reset_isolated),
		cmocka_unit_test(test_cmdline_valid),
		cmocka_unit_test(test_cmdline_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
