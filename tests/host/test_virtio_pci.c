/*
 * Host unit tests of the virtio-pci transports (modern and legacy) and the virtio device core,
 * driven end to end: pci_init over the PCI fake, virtio_pci_register, the real virtio-rng driver
 * (or a small test driver with several queues and a device config), pci_probe_all, requests.
 * Behind virtio_io stands the register-level device model of virtio_fake_dev.c, which records
 * every access and every breach of the spec's driver MUSTs (tests end with no violations unless
 * they provoke one on purpose).
 *
 * Expected values come from the VIRTIO 1.2 spec (register order, layouts, feature bits), not
 * from the code under test. The core keeps static tables (devices, drivers, the rng instances),
 * so every test runs in a forked child of its own (see isolate()).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/host/cmocka_isolate.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/pci/virtio_pci.h"
#include "drivers/virtio/pci/virtio_pci_dev.h"
#include "drivers/virtio/rng/virtio_rng.h"
#include "tests/host/pci_fake.h"
#include "tests/host/virtio_fake_dev.h"
#include "tests/host/virtio_test_driver.h"

static struct fake_pci fake;

static void model(enum vfd_kind kind, uint16_t type)
{
	vfd_init(&dev, kind, type);
}

/* Build the fake machine around the model, enumerate, register the drivers, probe. */
static void boot(void)
{
	static bool registered;
	vfd_build(&dev, &fake);
	assert_int_equal(pci_init(fake.cfg_size), 2);
	if (!registered) {
		assert_int_equal(virtio_pci_register(), 0);
		assert_int_equal(virtio_rng_register(), 0);
		assert_int_equal(virtio_register_driver(&vt_driver), 0);
		registered = true;
	}
	pci_probe_all();
}

static void add_extra_cap(uint8_t cap_len, uint8_t type, uint8_t bar, uint32_t off, uint32_t len,
			  uint32_t mult)
{
	assert_true(dev.nextra < VFD_MAX_EXTRA);
	dev.extra[dev.nextra++] = (struct vfd_cap){cap_len, type, bar, off, len, mult};
}

/* ---------------------------------------------------------------------------------------- */
/* Isolation: each test in a forked child (the core's tables are static and never emptied).  */

/* cmocka_isolate.h: ISOLATED(fn) runs fn in a forked child. */

/* ======================================================================================== */
/* Initialisation order                                                                      */

/* The whole modern init of virtio-rng, register by register (3.1.1, 4.1.4.3, 4.1.5.1.2). */
static void test_modern_init_sequence(void **state)
{
	(void)state;
	model(VFD_MODERN, ID_RNG);
	dev.features = F_INDIRECT | F_EVENT_IDX | F_VERSION_1 | BIT(40) /* RING_RESET */;
	boot();
	const char *expect =
		/* reset, and wait: the model shows the old status for 2 more reads */
		"status=0 status?f status?f status?0 "
		/* ACKNOWLEDGE, DRIVER (each read-modify-write: bits are only added) */
		"status?0 status=1 status?1 status=3 "
		/* device features, both halves */
		"dfsel=0 df?30000000 dfsel=1 df?101 "
		/* the accepted subset: INDIRECT|EVENT_IDX, VERSION_1; not RING_RESET (bit 40) */
		"gfsel=0 gf=30000000 gfsel=1 gf=1 "
		/* FEATURES_OK, re-read */
		"status?3 status=b status?b "
		/* queue 0: exists, max 64 */
		"nq?1 qsel=0 qsize?40 "
		/* MSI-X: config on entry 0, queue 0 on entry 1, each read back */
		"cfgvec=0 cfgvec?0 qsel=0 qvec=1 qvec?1 "
		/* queue set-up, queue_enable last */
		"qsel=0 qsize=40 desc_lo=* desc_hi=* drv_lo=* drv_hi=* dev_lo=* dev_hi=* noff?0 qen=1 "
		/* DRIVER_OK */
		"status?b status=f";
	if (strcmp(dev.trace, expect) != 0)
		fail_msg("init sequence differs:\n got: %s\nwant: %s", dev.trace, expect);
	assert_int_equal(dev.status, 0x0f);
	/* The rings are where the driver's queue says, laid out by the spec's alignments. */
	struct virtio_device *vd = the_vd();
	struct virtqueue *vq = vd->vqs[0].vq;
	assert_int_equal(dev.q[0].desc, virtqueue_desc_phys(vq));
	assert_int_equal(dev.q[0].driver, virtqueue_avail_phys(vq));
	assert_int_equal(dev.q[0].device, virtqueue_used_phys(vq));
	assert_int_equal(dev.q[0].size, 64);
	/* and requests work through them */
	vfd_trace_clear(&dev);
	rng_read_ok(64);
	assert_contains(dev.trace, "notify@0=0");
	assert_int_equal(dev.isr_reads, 0); /* MSI-X: the ISR is not read per interrupt */
	assert_true(dev.msix_irqs > 0);
	assert_clean();
}
ISOLATED(test_modern_init_sequence)

/* Legacy init (4.1.4.10, 3.1.2): no FEATURES_OK, 32-bit features, PFN activates the queue. */
static void test_legacy_init_sequence(void **state)
{
	(void)state;
	model(VFD_LEGACY, ID_RNG);
	dev.features = F_INDIRECT | F_EVENT_IDX | BIT(30) /* BAD_FEATURE */ | BIT(24);
	dev.queue_max[0] = 8;
	boot();
	const char *expect =
		"L.status=0 L.status?f L.status?f L.status?0 "
		"L.status?0 L.status=1 L.status?1 L.status=3 "
		"L.hf?71000000 L.gf=30000000 "
		"L.qsel=0 L.qnum?8 "
		/* MSI-X on: the vector registers appear at 20/22 */
		"L.cfgvec=0 L.cfgvec?0 L.qsel=0 L.qvec=1 L.qvec?1 "
		"L.qsel=0 L.qnum?8 L.pfn=1 "
		"L.status?3 L.status=7";
	if (strcmp(dev.trace, expect) != 0)
		fail_msg("init sequence differs:\n got: %s\nwant: %s", dev.trace, expect);
	struct virtio_device *vd = the_vd();
	assert_string_equal(virtio_transport_name(vd), "legacy");
	assert_int_equal(vd->features, F_INDIRECT | F_EVENT_IDX);
	assert_int_equal((uint64_t)dev.q[0].pfn << 12, virtqueue_legacy_pfn(vd->vqs[0].vq) << 12);
	rng_read_ok(100);
	assert_clean();
}
ISOLATED(test_legacy_init_sequence)


/* Reset: the driver waits for status to read back 0 and touches nothing else meanwhile. */
static void test_reset_waits_for_zero(void **state)
{
	(void)state;
	model(VFD_MODERN, ID_RNG);
	dev.reset_delay = 6;
	boot();
	assert_true(strncmp(dev.trace, "status=0 status?f status?f status?f status?f status?f "
				       "status?f status?0 status?0 status=1", 80) == 0);
	assert_int_equal(count_str(dev.trace, "status=0"), 1);
	rng_read_ok(16);
	assert_clean(); /* would hold "accessed before the reset completed" otherwise */
}
ISOLATED(test_reset_waits_for_zero)

static void test_reset_that_never_completes(void **state)
{
	(void)state;
	model(VFD_MODERN, ID_RNG);
	dev.reset_never = true;
	vfd_time_step_ns = 100000;
	boot();
	struct virtio_device *vd = the_vd();
	assert_true(vd->failed);
	assert_contains(vd->error, "did not finish its reset");
	assert_int_equal(dev.old_status & ST_FAILED, ST_FAILED);
	assert_int_equal(dev.driver_ok_writes, 0);
	uint8_t junk[4];
	assert_int_equal(virtio_rng_read(junk, 4), -ENODEV);
	assert_clean(); /* nothing but status was touched */
}
ISOLATED(test_reset_that_never_completes)

/* 3.1.1 step 6: FEATURES_OK not kept → FAILED, a clear error, and the device left alone. */
static void test_features_ok_refused(void **state)
{
	(void)state;
	model(VFD_MODERN, ID_RNG);
	dev.refuse_features_ok = true;
	boot();
	struct virtio_device *vd = the_vd();
	assert_true(vd->failed);
	assert_string_equal(vd->error, "the device refused FEATURES_OK for: RING_INDIRECT_DESC "
				       "RING_EVENT_IDX VERSION_1");
	/* FEATURES_OK written, re-read without it, FAILED added (never a cleared bit), then only
	 * the teardown's reset: no queue register, no DRIVER_OK, no notify. */
	const char *tail = strstr(dev.trace, "status?3 status=b status?3 status?3 status=83 ");
	assert_non_null(tail);
	assert_string_equal(tail + strlen("status?3 status=b status?3 status?3 status=83 "),
			    "status=0 status?83 status?83 status?0");
	assert_int_equal(dev.driver_ok_writes, 0);
	assert_int_equal(vd->nvqs, 0);
	assert_int_equal(vfd_dma_outstanding, 0);
	uint8_t junk[4];
	assert_int_equal(virtio_rng_read(junk, 4), -ENODEV);
	const char *d = vfd_describe();
	assert_contains(d, "transport modern, mode irq, irq none, ring split, FAILED");
	assert_contains(d, "error: the device refused FEATURES_OK for:");
	assert_true(vfd_log_has("failed: the device refused FEATURES_OK"));
	assert_clean();
}
ISOLATED(test_features_ok_refused)

/* 6 / 6.1: only offered features, VERSION_1 always when offered, INDIRECT/EVENT_IDX when
 * offered and not turned off, unknown bits ignored. */
static void test_feature_negotiation(void **state)
{
	(void)state;
	static const struct {
		uint64_t offered, wanted;
		bool no_indirect, no_event_idx;
		uint64_t expect;
	} cases[] = {
		{F_VERSION_1 | F_INDIRECT | F_EVENT_IDX | 3, 1, false, false,
		 F_VERSION_1 | F_INDIRECT | F_EVENT_IDX | 1},
		{F_VERSION_1, 3, false, false, F_VERSION_1},
		{F_VERSION_1 | F_INDIRECT | F_EVENT_IDX, 0, true, false, F_VERSION_1 | F_EVENT_IDX},
		{F_VERSION_1 | F_INDIRECT | F_EVENT_IDX, 0, false, true, F_VERSION_1 | F_INDIRECT},
		{F_VERSION_1 | F_INDIRECT | F_EVENT_IDX, 0, true, true, F_VERSION_1},
		/* everything offered: notify-on-empty, any-layout, bad-feature, access-platform,
		 * packed, in-order, ... are not taken */
		{~0ull, 2, false, false, F_VERSION_1 | F_INDIRECT | F_EVENT_IDX | 2},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		model(VFD_MODERN, VT_TYPE);
		dev.features = cases[i].offered;
		vt.wanted = cases[i].wanted;
		virtio_options.no_indirect = cases[i].no_indirect;
		virtio_options.no_event_idx = cases[i].no_event_idx;
		boot();
		struct virtio_device *vd = the_vd();
		if (vd->features != cases[i].expect || dev.gfeat != cases[i].expect)
			fail_msg("case %u: negotiated %#llx, device got %#llx, want %#llx", i,
				 (unsigned long long)vd->features, (unsigned long long)dev.gfeat,
				 (unsigned long long)cases[i].expect);
		assert_false(vd->failed);
		struct virtqueue *vq = vd->vqs[0].vq;
		assert_int_equal(vq->indirect, !!(cases[i].expect & F_INDIRECT));
		assert_int_equal(vq->event_idx, !!(cases[i].expect & F_EVENT_IDX));
		vt_roundtrip(0);
		vt_roundtrip(0);
		assert_clean();
	}
	/* The names the `virtio` command prints. */
	assert_contains(vfd_describe(), "negotiated: VT_F1 RING_INDIRECT_DESC RING_EVENT_IDX VERSION_1");
}
ISOLATED(test_feature_negotiation)

static void test_modern_without_version_1_fails(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	dev.features = F_INDIRECT;
	boot();
	struct virtio_device *vd = the_vd();
	assert_true(vd->failed);
	assert_contains(vd->error, "without VERSION_1");
	assert_int_equal(dev.driver_ok_writes, 0);
	assert_clean();
}
ISOLATED(test_modern_without_version_1_fails)

/* 4.1.4: a malformed capability is ignored (with its reason logged); the good one after it is
 * used. Each bad one points at the device-config window, so using it would show up in the
 * model as accesses there. */
static void test_malformed_caps_ignored(void **state)
{
	(void)state;
	static const struct {
		struct vfd_cap cap;
		const char *msg; /* NULL: ignored silently */
	} cases[] = {
		{{12, 1, 4, 0x2000, 0x1000, 0}, "capability at 0xa4: cap_len 12 too short, ignored"},
		{{16, 2, 4, 0x2000, 0x1000, 0}, "capability at 0xa4: cap_len 16 too short, ignored"},
		{{16, 1, 6, 0x2000, 0x1000, 0}, "capability at 0xa4: BAR 6 is reserved, ignored"},
		{{16, 1, 7, 0x2000, 0x1000, 0}, "capability at 0xa4: BAR 7 is reserved, ignored"},
		{{16, 1, 4, 0x3800, 0x1000, 0},
		 "capability at 0xa4: window 0x3800+0x1000 past BAR 4 (size 0x4000), ignored"},
		{{16, 3, 4, 0xfffff000, 0x2000, 0},
		 "capability at 0xa4: window 0xfffff000+0x2000 past BAR 4 (size 0x4000), ignored"},
		{{16, 1, 4, 0x2000, 0, 0}, "capability at 0xa4: empty window (length 0), ignored"},
		{{16, 3, 2, 0x0, 0x10, 0},
		 "capability at 0xa4: BAR 2 is not an assigned memory BAR, ignored"},
		{{16, 1, 4, 0x2000, 0x20, 0}, "common config window of 32 bytes is too small"},
		{{16, 9, 4, 0x2000, 0x1000, 0}, NULL}, /* unknown type */
		{{20, 5, 4, 0x2000, 0x1000, 0}, NULL}, /* PCI cfg access: not used */
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		model(VFD_MODERN, VT_TYPE);
		add_extra_cap(cases[i].cap.cap_len, cases[i].cap.cfg_type, cases[i].cap.bar,
			      cases[i].cap.offset, cases[i].cap.length, cases[i].cap.mult);
		boot();
		struct virtio_device *vd = the_vd();
		if (vd->failed || !vd->ops || strcmp(virtio_transport_name(vd), "modern") != 0)
			fail_msg("case %u: device not usable: %s", i, vd->error);
		if (cases[i].msg && !vfd_log_has(cases[i].msg))
			fail_msg("case %u: no \"%s\" in the log:\n%s", i, cases[i].msg, vfd_log());
		if (!cases[i].msg && strstr(vfd_log(), "capability at 0xa4"))
			fail_msg("case %u: unexpected message:\n%s", i, vfd_log());
		vt_roundtrip(0);
		assert_clean();
	}
}
ISOLATED(test_malformed_caps_ignored)

/* 4.1.4.4: queue i notifies at offset + queue_notify_off(i) * multiplier. */
static void test_notify_addresses(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	vt.nvqs = 3;
	dev.num_queues = 3;
	dev.msix_entries = 4;
	dev.notify_off[0] = 2, dev.notify_off[1] = 0, dev.notify_off[2] = 1;
	boot();
	for (unsigned q = 0; q < 3; q++)
		vt_roundtrip(q);
	assert_int_equal(dev.nnotify, 3);
	assert_int_equal(dev.notify_offsets[0], 8);
	assert_int_equal(dev.notify_offsets[1], 0);
	assert_int_equal(dev.notify_offsets[2], 4);
	assert_clean();
}
ISOLATED(test_notify_addresses)

static void test_zero_notify_multiplier(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	vt.nvqs = 3;
	dev.num_queues = 3;
	dev.msix_entries = 4;
	dev.notify_mult = 0; /* legal: every queue notifies at the same address */
	boot();
	assert_false(the_vd()->failed);
	for (unsigned q = 0; q < 3; q++)
		vt_roundtrip(q);
	assert_int_equal(dev.nnotify, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(dev.notify_offsets[i], 0);
	for (unsigned q = 0; q < 3; q++)
		assert_int_equal(dev.q[q].notifies, 1);
	assert_clean();
}
ISOLATED(test_zero_notify_multiplier)

static void test_notify_offset_outside_window(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	dev.notify_off[0] = 0x400; /* * 4 = 0x1000: past the 4 KiB notify window */
	boot();
	struct virtio_device *vd = the_vd();
	assert_true(vd->failed);
	assert_true(vfd_log_has("queue 0 notify offset 0x1000 is outside the 4096-byte notify window"));
	assert_contains(vd->error, "queue 0 notify offset 0x1000 is outside"); /* the reason kept */
	assert_int_equal(dev.q[0].enable, 0);
	assert_int_equal(dev.driver_ok_writes, 0);
	assert_clean();
}
ISOLATED(test_notify_offset_outside_window)

/* The same refusal for the second of three queues, after the first is live: the undo resets
 * the device before the rings go back (the model flags ring memory freed before a completed
 * reset), and nothing is left allocated. */
static void test_queue_refused_after_another_is_live(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	vt.nvqs = 3;
	dev.num_queues = 3;
	dev.msix_entries = 4;
	dev.notify_off[1] = 0x400;
	long dma_before = vfd_dma_outstanding;
	boot();
	struct virtio_device *vd = the_vd();
	assert_true(vd->failed);
	assert_contains(vd->error, "queue 1 notify offset 0x1000 is outside");
	assert_int_equal(vfd_dma_outstanding, dma_before);
	assert_clean();
}
ISOLATED(test_queue_refused_after_another_is_live)

/* 4.1.4: a device may offer a structure type more than once, in its order of preference; the
 * driver uses the first. Here the good one comes first and a second, pointing at another
 * region of the BAR, after it: taking the second would touch the wrong registers. One forked
 * boot per type (common, notify, ISR, device config). */
static void test_first_capability_of_each_type(void **state)
{
	(void)state;
	static const struct {
		struct vfd_cap good, other;
	} cases[] = {
		{{16, 1, 4, VFD_COMMON_OFF, 0x1000, 0}, {16, 1, 4, VFD_ISR_OFF, 0x1000, 0}},
		{{20, 2, 4, VFD_NOTIFY_OFF, 0x1000, 4}, {20, 2, 4, VFD_DEVCFG_OFF, 0x1000, 4}},
		{{16, 3, 4, VFD_ISR_OFF, 0x1000, 0}, {16, 3, 4, VFD_NOTIFY_OFF, 0x1000, 0}},
		{{16, 4, 4, VFD_DEVCFG_OFF, 0x1000, 0}, {16, 4, 4, VFD_COMMON_OFF, 0x1000, 0}},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fflush(stdout);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			model(VFD_MODERN, VT_TYPE);
			dev.omit_caps = (uint8_t)(1u << cases[i].good.cfg_type);
			dev.devcfg_len = 16;
			vt.read_cfg = true;
			vt.cfg_off = 0;
			vt.cfg_len = 4;
			memcpy(dev.devcfg, "\x11\x22\x33\x44", 4);
			if (cases[i].good.cfg_type == 3)
				dev.msix_entries = 0; /* INTx: the handler reads the ISR */
			dev.extra[dev.nextra++] = cases[i].good;
			dev.extra[dev.nextra++] = cases[i].other;
			boot();
			vt_roundtrip(0);
			bool ok = !the_vd()->failed && dev.nviolations == 0 && vt.cfg_ret == 0 &&
				  memcmp(vt.cfg_buf, "\x11\x22\x33\x44", 4) == 0 &&
				  dev.q[0].notifies == 1 && dev.isr_reads == (dev.msix_entries ? 0u : 1u) &&
				  vt.done[0];
			if (!ok)
				fprintf(stderr, "type %u: %s\n%s", cases[i].good.cfg_type,
					the_vd()->error, dev.violations);
			_exit(ok ? 0 : 1);
		}
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail_msg("cfg_type %u: the second capability was used", cases[i].good.cfg_type);
	}
}
ISOLATED(test_first_capability_of_each_type)

/* 4.1.4: a capability longer than the spec's structure (cap_len above 16, or 20 for notify)
 * is accepted; the driver reads the fields it knows. */
static void test_longer_capabilities_accepted(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	dev.omit_caps = 0x1e; /* common, notify, ISR, device: only the long ones below */
	dev.devcfg_len = 16;
	vt.read_cfg = true;
	vt.cfg_off = 0;
	vt.cfg_len = 4;
	memcpy(dev.devcfg, "\x11\x22\x33\x44", 4);
	dev.extra[dev.nextra++] = (struct vfd_cap){24, 1, 4, VFD_COMMON_OFF, 0x1000, 0};
	dev.extra[dev.nextra++] = (struct vfd_cap){24, 3, 4, VFD_ISR_OFF, 0x1000, 0};
	dev.extra[dev.nextra++] = (struct vfd_cap){24, 4, 4, VFD_DEVCFG_OFF, 0x1000, 0};
	dev.extra[dev.nextra++] = (struct vfd_cap){24, 2, 4, VFD_NOTIFY_OFF, 0x1000, 4};
	boot();
	assert_false(the_vd()->failed);
	assert_int_equal(vt.cfg_ret, 0);
	assert_memory_equal(vt.cfg_buf, "\x11\x22\x33\x44", 4);
	vt_roundtrip(0);
	assert_false(vfd_log_has("too short"));
	assert_clean();
}
ISOLATED(test_longer_capabilities_accepted)

/* Legacy: a ring above 16 TiB has a PFN the 32-bit register cannot hold; the driver fails the
 * device with the reason instead of writing a truncated PFN (which would point the device at
 * someone else's memory). */
static void test_legacy_ring_above_16_tib(void **state)
{
	(void)state;
	model(VFD_LEGACY, VT_TYPE);
	vfd_dma_high = true;
	boot();
	struct virtio_device *vd = the_vd();
	assert_true(vd->failed);
	assert_non_null(strstr(vd->error, "does not fit the legacy 32-bit register"));
	assert_int_equal(dev.driver_ok_writes, 0);
	assert_int_equal(dev.q[0].pfn, 0);
	assert_clean();
}
ISOLATED(test_legacy_ring_above_16_tib)

/* Without a usable common config: transitional devices fall back to legacy, modern-only ones
 * cannot be driven (and are not touched). */
static void test_missing_common_transitional_uses_legacy(void **state)
{
	(void)state;
	model(VFD_TRANSITIONAL, ID_RNG);
	dev.omit_caps = 1u << 1;
	boot();
	struct virtio_device *vd = the_vd();
	assert_false(vd->failed);
	assert_string_equal(virtio_transport_name(vd), "legacy");
	assert_int_equal(vd->error[0], 0);
	assert_contains(dev.trace, "L.status=0");
	assert_not_contains(dev.trace, "dfsel");
	rng_read_ok(48);
	assert_contains(vfd_describe(), "transport legacy");
	assert_clean();
}
ISOLATED(test_missing_common_transitional_uses_legacy)

static void test_short_common_cap_transitional_uses_legacy(void **state)
{
	(void)state;
	model(VFD_TRANSITIONAL, ID_RNG);
	boot(); /* builds the standard capabilities; then break the common one and redo */
	model(VFD_TRANSITIONAL, VT_TYPE);
	vfd_build(&dev, &fake);
	fake_set8(dev.fn, VFD_CAP_COMMON + 2, 8); /* cap_len 8 */
	assert_int_equal(pci_init(fake.cfg_size), 2);
	pci_probe_all();
	struct virtio_device *vd = the_vd();
	assert_true(vfd_log_has("capability at 0x4c: cap_len 8 too short, ignored"));
	assert_string_equal(virtio_transport_name(vd), "legacy");
	vt_roundtrip(0);
	assert_clean();
}
ISOLATED(test_short_common_cap_transitional_uses_legacy)

static void test_missing_common_modern_only_is_an_error(void **state)
{
	(void)state;
	model(VFD_MODERN, ID_RNG);
	dev.omit_caps = 1u << 1;
	boot();
	struct virtio_device *vd = the_vd();
	assert_string_equal(virtio_transport_name(vd), "none");
	assert_string_equal(vd->error, "no usable transport: modern transport needs common, notify "
				       "and ISR capabilities (have notify isr)");
	assert_int_equal(dev.accesses, 0);
	uint8_t junk[4];
	assert_int_equal(virtio_rng_read(junk, 4), -ENODEV);
	const char *d = vfd_describe();
	assert_contains(d, "virtio-rng, transport none");
	assert_contains(d, "error: no usable transport");
	assert_clean();
}
ISOLATED(test_missing_common_modern_only_is_an_error)

/* 4.1.2.1: a device with a modern id (0x1040 + type) is not transitional; even with a legacy
 * I/O BAR behind it, a driver that finds no usable modern capabilities must not fall back to
 * the legacy interface. */
static void test_modern_id_never_falls_back_to_legacy(void **state)
{
	(void)state;
	model(VFD_TRANSITIONAL, ID_RNG);
	dev.omit_caps = 1u << 1; /* no common config */
	vfd_build(&dev, &fake);
	fake_set16(dev.fn, PCI_DEVICE_ID, 0x1040 + ID_RNG);
	assert_int_equal(pci_init(fake.cfg_size), 2);
	assert_int_equal(virtio_pci_register(), 0);
	assert_int_equal(virtio_rng_register(), 0);
	pci_probe_all();
	struct virtio_device *vd = the_vd();
	assert_string_equal(virtio_transport_name(vd), "none");
	assert_not_contains(dev.trace, "L.");
	assert_int_equal(dev.accesses, 0);
	assert_clean();
}
ISOLATED(test_modern_id_never_falls_back_to_legacy)

/* virtio.transport=legacy: transitional devices use the legacy interface; modern-only ones
 * cannot and stay modern. */
static void test_force_legacy(void **state)
{
	(void)state;
	virtio_pci_options.force_legacy = true;
	model(VFD_TRANSITIONAL, ID_RNG);
	boot();
	assert_string_equal(the_vd()->ops->name, "legacy");
	assert_not_contains(dev.trace, "dfsel");
	rng_read_ok(32);
	assert_clean();

	model(VFD_MODERN, VT_TYPE);
	boot();
	assert_string_equal(the_vd()->ops->name, "modern");
	vt_roundtrip(0);
	assert_clean();
}
ISOLATED(test_force_legacy)

static void test_transitional_defaults_to_modern(void **state)
{
	(void)state;
	model(VFD_TRANSITIONAL, ID_RNG);
	boot();
	struct virtio_device *vd = the_vd();
	assert_string_equal(virtio_transport_name(vd), "modern");
	assert_true(vd->features & F_VERSION_1);
	assert_not_contains(dev.trace, "L.");
	rng_read_ok(32);
	assert_clean();
}
ISOLATED(test_transitional_defaults_to_modern)

/* 2.7 / 4.1.4.3: size 0 means no such queue; sizes must be powers of two. */
static void test_queue_size_zero(void **state)
{
	(void)state;
	static const enum vfd_kind kinds[] = {VFD_MODERN, VFD_LEGACY};
	for (unsigned k = 0; k < 2; k++) {
		for (unsigned v = 0; v < 2; v++) {
			model(kinds[k], VT_TYPE);
			if (v == 0)
				dev.queue_max[0] = 0;
			else
				dev.num_queues = 0;
			boot();
			struct virtio_device *vd = the_vd();
			assert_true(vd->failed);
			assert_string_equal(vd->error, "queue 0 (q0) does not exist (size 0)");
			assert_int_equal(dev.q[0].enable, 0);
			assert_int_equal(dev.q[0].pfn, 0);
			assert_int_equal(dev.driver_ok_writes, 0);
			assert_clean();
		}
	}
}
ISOLATED(test_queue_size_zero)

static void test_queue_size_not_power_of_two(void **state)
{
	(void)state;
	static const enum vfd_kind kinds[] = {VFD_MODERN, VFD_LEGACY};
	for (unsigned k = 0; k < 2; k++) {
		model(kinds[k], VT_TYPE);
		dev.queue_max[0] = 100;
		boot();
		struct virtio_device *vd = the_vd();
		assert_true(vd->failed);
		assert_string_equal(vd->error, "queue 0 (q0): size 100 is not a power of two <= 32768");
		assert_int_equal(dev.driver_ok_writes, 0);
		assert_clean();
	}
}
ISOLATED(test_queue_size_not_power_of_two)

/* Modern: the driver may pick a smaller size (4.1.4.3.2); legacy must use the device's. */
static void test_queue_size_choice(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	dev.queue_max[0] = 32768;
	boot();
	assert_int_equal(dev.q[0].size, 256); /* VIRTIO_DEFAULT_QUEUE_SIZE */
	assert_contains(dev.trace, "qsize=100 ");
	vt_roundtrip(0);
	assert_clean();

	model(VFD_MODERN, VT_TYPE);
	vt.sizes[0] = 16;
	boot();
	assert_int_equal(dev.q[0].size, 16);
	vt_roundtrip(0);
	assert_clean();

	model(VFD_LEGACY, VT_TYPE);
	dev.queue_max[0] = 512;
	boot();
	assert_int_equal(virtqueue_size(the_vd()->vqs[0].vq), 512);
	vt_roundtrip(0);
	assert_clean();
}
ISOLATED(test_queue_size_choice)

/* ---------------------------------------------------------------------------------------- */
/* Interrupts                                                                                */

static void assert_entry_routes(unsigned entry, int cpu_vector)
{
	uint64_t addr;
	uint32_t data, ctrl;
	vfd_msix_entry(&dev, entry, &addr, &data, &ctrl);
	assert_int_equal(addr, 0xFEE00000u | VFD_IRQ_CPU << 12);
	assert_int_equal(data, (uint32_t)cpu_vector);
	assert_int_equal(ctrl & 1, 0); /* unmasked */
}

/* Enough entries: one per queue plus config (4.1.5.1.2). */
static void test_msix_per_queue(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	vt.nvqs = 3;
	dev.num_queues = 3;
	dev.msix_entries = 4;
	boot();
	struct virtio_device *vd = the_vd();
	assert_int_equal(vd->irq_kind, VIRTIO_IRQ_PER_QUEUE);
	assert_int_equal(dev.config_vector, 0);
	for (unsigned q = 0; q < 3; q++) {
		assert_int_equal(dev.q[q].vector, q + 1);
		assert_entry_routes(q + 1, to_vpci(vd)->q[q].cpu_vector);
	}
	assert_entry_routes(0, to_vpci(vd)->config_cpu_vector);
	assert_true(vfd_msix_enabled(&dev));
	assert_true(vfd_intx_disabled(&dev));
	assert_int_equal(vfd_irq_allocs, 4);
	/* Each queue's completion arrives on its own vector. */
	for (unsigned q = 0; q < 3; q++) {
		unsigned before = vfd_irqs[to_vpci(vd)->q[q].cpu_vector].fired;
		vt_roundtrip(q);
		assert_int_equal(vfd_irqs[to_vpci(vd)->q[q].cpu_vector].fired, before + 1);
		assert_int_equal(vd->vqs[q].vq->stats.interrupts, 1);
	}
	/* A config change on entry 0 reaches the driver. */
	vfd_config_change(&dev);
	vfd_deliver(&dev);
	assert_int_equal(vt.config_changed, 1);
	assert_int_equal(vd->config_changes, 1);
	assert_int_equal(dev.isr_reads, 0);
	assert_contains(vfd_describe(), "irq msix, ring split\n");
	assert_clean();
}
ISOLATED(test_msix_per_queue)

/* Too few entries: config on 0, the queues share 1; or everything on 0. */
static void test_msix_shared(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	vt.nvqs = 3;
	dev.num_queues = 3;
	dev.msix_entries = 2;
	boot();
	struct virtio_device *vd = the_vd();
	assert_int_equal(vd->irq_kind, VIRTIO_IRQ_SHARED);
	assert_int_equal(dev.config_vector, 0);
	for (unsigned q = 0; q < 3; q++) {
		assert_int_equal(dev.q[q].vector, 1);
		assert_int_equal(to_vpci(vd)->q[q].cpu_vector, to_vpci(vd)->q[0].cpu_vector);
	}
	assert_true(to_vpci(vd)->q[0].cpu_vector != to_vpci(vd)->config_cpu_vector);
	assert_int_equal(vfd_irq_allocs, 2);
	for (unsigned q = 0; q < 3; q++)
		vt_roundtrip(q);
	assert_contains(vfd_describe(), "irq msix-shared");
	assert_clean();

	model(VFD_MODERN, VT_TYPE);
	dev.num_queues = 3;
	dev.msix_entries = 1;
	boot();
	vd = the_vd();
	assert_int_equal(vd->irq_kind, VIRTIO_IRQ_SHARED);
	assert_int_equal(dev.config_vector, 0);
	for (unsigned q = 0; q < 3; q++)
		assert_int_equal(dev.q[q].vector, 0);
	/* Completions on the shared entry are not config changes (the ISR tells them apart). */
	for (unsigned q = 0; q < 3; q++)
		vt_roundtrip(q);
	assert_int_equal(vt.config_changed, 0);
	assert_int_equal(vd->config_changes, 0);
	vfd_config_change(&dev);
	vfd_deliver(&dev);
	assert_int_equal(vt.config_changed, 1);
	assert_int_equal(vd->config_changes, 1);
	assert_int_equal(dev.isr, 0); /* read, so cleared */
	assert_clean();
}
ISOLATED(test_msix_shared)

/* QEMU's vectors=1 / vectors=2 for virtio-rng (one queue). */
static void test_msix_rng_one_entry(void **state)
{
	(void)state;
	model(VFD_MODERN, ID_RNG);
	dev.msix_entries = 1;
	boot();
	assert_int_equal(the_vd()->irq_kind, VIRTIO_IRQ_SHARED);
	assert_int_equal(dev.config_vector, 0);
	assert_int_equal(dev.q[0].vector, 0);
	rng_read_ok(64);
	assert_int_equal(the_vd()->config_changes, 0);
	assert_clean();
}
ISOLATED(test_msix_rng_one_entry)

static void test_msix_rng_two_entries(void **state)
{
	(void)state;
	model(VFD_MODERN, ID_RNG);
	dev.msix_entries = 2;
	boot();
	assert_int_equal(the_vd()->irq_kind, VIRTIO_IRQ_PER_QUEUE);
	assert_int_equal(dev.config_vector, 0);
	assert_int_equal(dev.q[0].vector, 1);
	rng_read_ok(64);
	assert_clean();
}
ISOLATED(test_msix_rng_two_entries)

/* A refused queue vector (reads back NO_VECTOR) falls back to the shared layout, on the
 * modern and the legacy interface. */
static void refusal_falls_back_to_shared(enum vfd_kind kind)
{
	model(kind, VT_TYPE);
	vt.nvqs = 3;
	dev.num_queues = 3;
	dev.msix_entries = 4;
	dev.refuse_vectors = 1u << 2;
	boot();
	struct virtio_device *vd = the_vd();
	assert_int_equal(vd->irq_kind, VIRTIO_IRQ_SHARED);
	assert_true(vfd_log_has("device refused MSI-X layout 0"));
	for (unsigned q = 0; q < 3; q++)
		assert_int_equal(dev.q[q].vector, 1);
	for (unsigned q = 0; q < 3; q++)
		vt_roundtrip(q);
	assert_clean();
}

static void test_msix_refusal_falls_back_to_shared(void **state)
{
	(void)state;
	refusal_falls_back_to_shared(VFD_MODERN);
}
ISOLATED(test_msix_refusal_falls_back_to_shared)

static void test_msix_refusal_falls_back_to_shared_legacy(void **state)
{
	(void)state;
	refusal_falls_back_to_shared(VFD_LEGACY);
}
ISOLATED(test_msix_refusal_falls_back_to_shared_legacy)

/* The config vector refused (entry 0 reads back NO_VECTOR), on the modern and the legacy
 * interface: the driver notices on the read-back and falls back rather than waiting for config
 * interrupts that never come; a config change is still delivered. */
static void test_msix_config_vector_refused(void **state)
{
	(void)state;
	static const enum vfd_kind kinds[] = {VFD_MODERN, VFD_LEGACY};
	for (unsigned i = 0; i < 2; i++) {
		fflush(stdout);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			model(kinds[i], VT_TYPE);
			dev.msix_entries = 2;
			dev.refuse_vectors = 1u << 0;
			boot();
			struct virtio_device *vd = the_vd();
			vt_roundtrip(0);
			vfd_config_change(&dev);
			vfd_deliver(&dev);
			bool ok = !vd->failed && vd->irq_kind != VIRTIO_IRQ_PER_QUEUE &&
				  vt.config_changed == 1 && dev.nviolations == 0;
			if (!ok)
				fprintf(stderr, "kind %u: irq kind %d, config changes %u\n%s", i,
					vd->irq_kind, vt.config_changed, dev.violations);
			_exit(ok ? 0 : 1);
		}
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail_msg("%s: a refused config vector was not noticed",
				 i ? "legacy" : "modern");
	}
}
ISOLATED(test_msix_config_vector_refused)

/* Every vector refused: no MSI-X at all, INTx with the ISR. */
static void test_msix_refusal_falls_back_to_intx(void **state)
{
	(void)state;
	model(VFD_MODERN, ID_RNG);
	dev.refuse_all_vectors = true;
	boot();
	struct virtio_device *vd = the_vd();
	assert_int_equal(vd->irq_kind, VIRTIO_IRQ_LINE);
	assert_false(vfd_msix_enabled(&dev));
	assert_false(vfd_intx_disabled(&dev));
	assert_int_equal(dev.config_vector, VFD_NO_VECTOR);
	assert_int_equal(dev.q[0].vector, VFD_NO_VECTOR);
	assert_int_equal(vfd_irq_allocs - vfd_irq_frees, 0);
	assert_int_equal(fake.nintx, 1);
	rng_read_ok(64);
	assert_true(dev.intx_irqs > 0);
	assert_true(dev.isr_reads >= dev.intx_irqs);
	assert_int_equal(dev.msix_irqs, 0);
	assert_contains(vfd_describe(), "irq intx");
	assert_clean();
}
ISOLATED(test_msix_refusal_falls_back_to_intx)

/* Out of CPU vectors half way through: the device must still end up interrupting somehow, with
 * nothing leaked and MSI-X state consistent. */
static void test_irq_alloc_failure(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	vt.nvqs = 3;
	dev.num_queues = 3;
	dev.msix_entries = 4;
	vfd_irq_alloc_fail_after = 2; /* config and queue 0 get one, queue 1 does not */
	boot();
	struct virtio_device *vd = the_vd();
	assert_false(vd->failed);
	assert_int_equal(vd->irq_kind, VIRTIO_IRQ_LINE);
	assert_true(vfd_log_has("no CPU vector for MSI-X"));
	assert_false(vfd_msix_enabled(&dev));
	assert_false(vfd_intx_disabled(&dev));
	assert_int_equal(vfd_irq_allocs, 2);
	assert_int_equal(vfd_irq_frees, 2);
	assert_int_equal(dev.config_vector, VFD_NO_VECTOR);
	for (unsigned q = 0; q < 3; q++) {
		assert_int_equal(dev.q[q].vector, VFD_NO_VECTOR);
		assert_int_equal(to_vpci(vd)->q[q].cpu_vector, -1);
	}
	for (unsigned q = 0; q < 3; q++)
		vt_roundtrip(q);
	assert_true(dev.intx_irqs >= 3);
	assert_clean();
}
ISOLATED(test_irq_alloc_failure)

/* Poll mode: no vectors, INTx off, rings ask for no interrupts, nothing fires. */
static void test_poll_mode(void **state)
{
	(void)state;
	virtio_options.mode = VIRTIO_MODE_POLL;
	model(VFD_MODERN, ID_RNG);
	boot();
	struct virtio_device *vd = the_vd();
	assert_int_equal(vd->mode, VIRTIO_MODE_POLL);
	assert_int_equal(vd->irq_kind, VIRTIO_IRQ_NONE);
	assert_not_contains(dev.trace, "cfgvec=");
	assert_not_contains(dev.trace, "qvec=");
	assert_false(vfd_msix_enabled(&dev));
	assert_true(vfd_intx_disabled(&dev));
	assert_int_equal(vfd_irq_allocs, 0);
	assert_int_equal(fake.nintx, 0);
	rng_read_ok(200);
	assert_int_equal(dev.q[0].irqs, 0); /* the ring said NO_INTERRUPT / used_event */
	assert_int_equal(dev.msix_irqs + dev.intx_irqs, 0);
	const char *d = vfd_describe();
	assert_contains(d, "mode poll, irq none");
	assert_contains(d, "interrupts=0");
	assert_clean();
}
ISOLATED(test_poll_mode)

static void test_poll_mode_by_type(void **state)
{
	(void)state;
	virtio_options.mode_set_by_type[ID_RNG] = true;
	virtio_options.mode_by_type[ID_RNG] = VIRTIO_MODE_POLL;
	model(VFD_MODERN, ID_RNG);
	boot();
	assert_int_equal(the_vd()->mode, VIRTIO_MODE_POLL);
	assert_int_equal(vfd_irq_allocs, 0);
	rng_read_ok(8);
	model(VFD_MODERN, VT_TYPE);
	boot();
	assert_int_equal(the_vd()->mode, VIRTIO_MODE_IRQ);
	assert_int_equal(the_vd()->irq_kind, VIRTIO_IRQ_PER_QUEUE);
	assert_clean();
}
ISOLATED(test_poll_mode_by_type)

static void test_hybrid_mode(void **state)
{
	(void)state;
	virtio_options.mode = VIRTIO_MODE_HYBRID;
	model(VFD_MODERN, ID_RNG);
	dev.features &= ~F_EVENT_IDX;
	boot();
	struct virtio_device *vd = the_vd();
	assert_int_equal(vd->irq_kind, VIRTIO_IRQ_PER_QUEUE);
	rng_read_ok(64);
	assert_contains(vfd_describe(), "mode hybrid, irq msix");
	assert_clean();
}
ISOLATED(test_hybrid_mode)

/* virtio.msix=0: INTx although MSI-X is there; MSI-X stays off. */
static void test_no_msix_option_uses_intx(void **state)
{
	(void)state;
	virtio_pci_options.no_msix = true;
	model(VFD_MODERN, ID_RNG);
	boot();
	struct virtio_device *vd = the_vd();
	assert_int_equal(vd->irq_kind, VIRTIO_IRQ_LINE);
	assert_false(vfd_msix_enabled(&dev));
	assert_not_contains(dev.trace, "cfgvec=");
	rng_read_ok(64);
	assert_true(dev.intx_irqs > 0);
	assert_clean();
}
ISOLATED(test_no_msix_option_uses_intx)

static void test_no_interrupt_source(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	dev.msix_entries = 0;
	dev.irq_pin = 0;
	boot();
	struct virtio_device *vd = the_vd();
	assert_true(vd->failed);
	assert_contains(vd->error, "no MSI-X and no INTx pin: cannot interrupt (use virtio.mode=poll)");
	assert_int_equal(dev.driver_ok_writes, 0);
	assert_clean();

	virtio_options.mode = VIRTIO_MODE_POLL;
	model(VFD_MODERN, VT_TYPE);
	dev.msix_entries = 0;
	dev.irq_pin = 0;
	boot();
	assert_false(the_vd()->failed);
	vt_roundtrip(0);
	assert_clean();
}
ISOLATED(test_no_interrupt_source)

/* 4.1.4.5: the INTx handler reads (and so clears) the ISR; 0 means the interrupt on the shared
 * line was someone else's. */
static void test_intx_handler_reads_isr(void **state)
{
	(void)state;
	virtio_pci_options.no_msix = true;
	model(VFD_MODERN, VT_TYPE);
	boot();
	struct virtio_device *vd = the_vd();
	assert_int_equal(fake.nintx, 1);
	assert_int_equal(fake.intx[0].line, VFD_IRQ_LINE);
	pci_intx_handler_t h = fake.intx[0].handler;
	void *arg = fake.intx[0].arg;

	dev.isr = 0;
	assert_false(h(arg));
	assert_int_equal(to_vpci(vd)->intx_spurious, 1);
	assert_int_equal(to_vpci(vd)->intx_interrupts, 0);
	assert_int_equal(dev.isr_reads, 1);
	assert_int_equal(vd->vqs[0].vq->stats.interrupts, 0);

	dev.isr = 2; /* config change */
	assert_true(h(arg));
	assert_int_equal(dev.isr, 0);
	assert_int_equal(vt.config_changed, 1);
	assert_int_equal(vd->config_changes, 1);
	assert_int_equal(vd->vqs[0].vq->stats.interrupts, 0);

	dev.isr = 1; /* queue */
	assert_true(h(arg));
	assert_int_equal(dev.isr, 0);
	assert_int_equal(vd->vqs[0].vq->stats.interrupts, 1);
	assert_int_equal(vt.config_changed, 1);
	assert_int_equal(to_vpci(vd)->intx_interrupts, 2);

	vt_roundtrip(0);
	assert_contains(vfd_describe(), "intx: line 11, 3 interrupts, 1 not ours");
	assert_clean();
}
ISOLATED(test_intx_handler_reads_isr)

/* ---------------------------------------------------------------------------------------- */
/* Device configuration                                                                      */

/* Legacy: the device config is at 20, or at 24 once MSI-X is enabled (4.1.4.10). */
static void test_legacy_config_offset(void **state)
{
	(void)state;
	static const uint8_t cfg[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
	uint8_t got[8];
	for (unsigned variant = 0; variant < 3; variant++) {
		model(VFD_LEGACY, VT_TYPE);
		memcpy(dev.devcfg, cfg, sizeof(cfg));
		dev.devcfg_len = 8;
		virtio_pci_options.no_msix = variant == 1;
		dev.refuse_all_vectors = variant == 2;
		boot();
		struct virtio_device *vd = the_vd();
		assert_false(vd->failed);
		assert_int_equal(vd->irq_kind, variant == 0 ? VIRTIO_IRQ_PER_QUEUE : VIRTIO_IRQ_LINE);
		assert_int_equal(vfd_legacy_cfg_off(&dev), variant == 0 ? 24 : 20);
		memset(got, 0, sizeof(got));
		vfd_trace_clear(&dev);
		assert_int_equal(virtio_config_read(vd, 0, got, 8), 0);
		assert_memory_equal(got, cfg, 8);
		assert_int_equal(virtio_config_read(vd, 5, got, 2), 0);
		assert_memory_equal(got, cfg + 5, 2);
		/* Legacy has no config length: the I/O BAR (64 ports) bounds it. */
		assert_int_equal(virtio_config_read(vd, 40, got, 8), -EINVAL);
		vt_roundtrip(0);
		assert_clean();
	}
}
ISOLATED(test_legacy_config_offset)

/* 4.1.4.3.1 / 2.5.1: reads spanning fields retry until config_generation is stable. */
static void test_config_generation_retry(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	for (unsigned i = 0; i < 16; i++)
		dev.devcfg[i] = (uint8_t)(0xa0 + i);
	dev.devcfg_len = 16;
	boot();
	struct virtio_device *vd = the_vd();
	uint8_t got[8];

	dev.gen_bumps = 3; /* the config changes during the first three tries */
	dev.gen_reads = 0;
	assert_int_equal(virtio_config_read(vd, 0, got, 8), 0);
	assert_memory_equal(got, dev.devcfg, 8); /* the final, consistent value */
	assert_int_not_equal(got[0], 0xa0);      /* changed an odd number of times */
	/* Each 4-byte read during a change bumps the generation: tries 1 and 2 see it move,
	 * try 3 is stable: 3 x (before, after). */
	assert_int_equal(dev.gen_reads, 6);

	dev.gen_bumps = 1000; /* never settles */
	assert_int_equal(virtio_config_read(vd, 0, got, 8), -EIO);
	dev.gen_bumps = 0;

	/* Widths: naturally aligned, widest possible. */
	vfd_trace_clear(&dev);
	assert_int_equal(virtio_config_read(vd, 0, got, 8), 0);
	assert_string_equal(dev.trace, "cfg0? cfg4?");
	vfd_trace_clear(&dev);
	assert_int_equal(virtio_config_read(vd, 1, got, 5), 0);
	assert_string_equal(dev.trace, "cfg1? cfg2? cfg4?"); /* 1 + 2 + 2 bytes */
	/* Out of the window: refused without touching the device. */
	vfd_trace_clear(&dev);
	assert_int_equal(virtio_config_read(vd, 12, got, 8), -EINVAL);
	assert_int_equal(virtio_config_read(vd, 0xffffffffu, got, 2), -EINVAL);
	assert_string_equal(dev.trace, "");
	assert_clean();
}
ISOLATED(test_config_generation_retry)

static void test_config_read_during_probe(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	dev.devcfg[2] = 0x42;
	dev.devcfg[3] = 0x24;
	dev.devcfg_len = 4;
	vt.read_cfg = true;
	vt.cfg_off = 2;
	vt.cfg_len = 2;
	boot();
	assert_int_equal(vt.cfg_ret, 0);
	assert_int_equal(vt.cfg_buf[0], 0x42);
	assert_int_equal(vt.cfg_buf[1], 0x24);
	assert_clean();
}
ISOLATED(test_config_read_during_probe)

/* ---------------------------------------------------------------------------------------- */
/* Failure paths                                                                             */

static void test_probe_failure_tears_down(void **state)
{
	(void)state;
	model(VFD_MODERN, VT_TYPE);
	vt.nvqs = 2;
	dev.num_queues = 2;
	dev.msix_entries = 3;
	vt.fail_after_vqs = true;
	boot();
	struct virtio_device *vd = the_vd();
	assert_true(vd->failed);
	assert_string_equal(vd->error, "virtio-test probe failed (-5)");
	assert_int_equal(dev.status, 0);          /* reset: the device lets go of the rings */
	assert_int_equal(vfd_irq_allocs, 3);
	assert_int_equal(vfd_irq_frees, 3);
	assert_false(vfd_msix_enabled(&dev));
	assert_int_equal(vfd_dma_outstanding, 0); /* rings freed (after the reset) */
	assert_int_equal(vd->nvqs, 0);
	assert_contains(vfd_describe(), "FAILED");
	assert_clean();
}
ISOLATED(test_probe_failure_tears_down)

static void test_device_without_driver_is_reset(void **state)
{
	(void)state;
	model(VFD_MODERN, 30);
	boot();
	struct virtio_device *vd = the_vd();
	assert_null(vd->driver);
	assert_string_equal(vd->error, "no driver for device type 30");
	assert_string_equal(dev.trace, "status=0 status?f status?f status?0");
	assert_contains(vfd_describe(), "no driver");
	assert_clean();
}
ISOLATED(test_device_without_driver_is_reset)

/* A device that returns fewer bytes than asked: the rng driver asks again. */
static void test_rng_short_reads(void **state)
{
	(void)state;
	model(VFD_LEGACY, ID_RNG);
	dev.max_fill = 16;
	boot();
	rng_read_ok(64);
	assert_int_equal(dev.q[0].requests, 4);
	assert_clean();
}
ISOLATED(test_rng_short_reads)

/* A device that sits on a request until the driver gives up: virtio_abandon must break the
 * queue, set FAILED and reset before the buffer is handed back, so that the device, coming to
 * the request late, can no longer write into memory that is someone else's again (3.3.1). */
static void hold_requests(struct vfd *m, unsigned q)
{
	(void)m;
	(void)q;
}

static void test_abandon_resets_before_buffers_are_reused(void **state)
{
	(void)state;
	static uint8_t buf[32];
	model(VFD_MODERN, VT_TYPE);
	boot();
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
	assert_string_equal(vt.vd->error, "a request timed out");
	assert_true(virtqueue_is_broken(vq));
	/* FAILED, then the reset and its wait (the model shows the old status twice more) */
	assert_string_equal(dev.trace, "status?f status=8f status=0 status?8f status?8f status?0");
	/* The device gets to the queue now: after the reset there is nothing it may use. */
	dev.queue_hook = NULL;
	size_t before = dev.nproduced;
	vfd_process(&dev, 0);
	assert_int_equal(dev.nproduced, before);
	assert_false(vt.done[0]);
	assert_int_equal(virtio_wait(vt.vd, vq, vt_is_done, &vt.done[0], 5000000ull), -EIO);
	assert_int_equal(virtqueue_add(vq, &sg, 0, 1, &vt.done[0]), -EIO);
	assert_clean();
}
ISOLATED(test_abandon_resets_before_buffers_are_reused)


/* 4.1.2.1: vendor 0x1AF4 with a device id 0x1000 through 0x107F is virtio, nothing else is: not
 * an ivshmem device (1af4:1110) or a virtio device id under another vendor, and a legacy id
 * (0x1000..0x103F) takes its type from the subsystem id, not the device id. */
static void test_pci_ids_outside_virtio(void **state)
{
	(void)state;
	static const struct {
		uint16_t vendor, device;
	} cases[] = {{0x1af4, 0x1110}, {0x1af4, 0x0fff}, {0x1af4, 0x1080}, {0x1234, 0x1044}};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fflush(stdout);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			model(VFD_MODERN, ID_RNG);
			vfd_build(&dev, &fake);
			struct fake_fn *fn = fake_find(&fake, VFD_BUS, VFD_DEV, 0);
			fake_set16(fn, 0x00, cases[i].vendor);
			fake_set16(fn, 0x02, cases[i].device);
			assert_int_equal(pci_init(fake.cfg_size), 2);
			assert_int_equal(virtio_pci_register(), 0);
			pci_probe_all();
			_exit(virtio_device_count() == 0 && dev.status_writes == 0 ? 0 : 1);
		}
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail_msg("%04x:%04x was taken for a virtio device", cases[i].vendor,
				 cases[i].device);
	}
}
ISOLATED(test_pci_ids_outside_virtio)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modern_id_never_falls_back_to_legacy_isolated),
		cmocka_unit_test(test_legacy_ring_above_16_tib_isolated),
		cmocka_unit_test(test_longer_capabilities_accepted_isolated),
		cmocka_unit_test(test_pci_ids_outside_virtio_isolated),
		cmocka_unit_test(test_modern_init_sequence_isolated),
		cmocka_unit_test(test_legacy_init_sequence_isolated),
		cmocka_unit_test(test_reset_waits_for_zero_isolated),
		cmocka_unit_test(test_reset_that_never_completes_isolated),
		cmocka_unit_test(test_features_ok_refused_isolated),
		cmocka_unit_test(test_feature_negotiation_isolated),
		cmocka_unit_test(test_modern_without_version_1_fails_isolated),
		cmocka_unit_test(test_malformed_caps_ignored_isolated),
		cmocka_unit_test(test_notify_addresses_isolated),
		cmocka_unit_test(test_zero_notify_multiplier_isolated),
		cmocka_unit_test(test_notify_offset_outside_window_isolated),
		cmocka_unit_test(test_queue_refused_after_another_is_live_isolated),
		cmocka_unit_test(test_first_capability_of_each_type_isolated),
		cmocka_unit_test(test_missing_common_transitional_uses_legacy_isolated),
		cmocka_unit_test(test_short_common_cap_transitional_uses_legacy_isolated),
		cmocka_unit_test(test_missing_common_modern_only_is_an_error_isolated),
		cmocka_unit_test(test_force_legacy_isolated),
		cmocka_unit_test(test_transitional_defaults_to_modern_isolated),
		cmocka_unit_test(test_queue_size_zero_isolated),
		cmocka_unit_test(test_queue_size_not_power_of_two_isolated),
		cmocka_unit_test(test_queue_size_choice_isolated),
		cmocka_unit_test(test_msix_per_queue_isolated),
		cmocka_unit_test(test_msix_shared_isolated),
		cmocka_unit_test(test_msix_rng_one_entry_isolated),
		cmocka_unit_test(test_msix_rng_two_entries_isolated),
		cmocka_unit_test(test_msix_refusal_falls_back_to_shared_isolated),
		cmocka_unit_test(test_msix_refusal_falls_back_to_shared_legacy_isolated),
		cmocka_unit_test(test_msix_config_vector_refused_isolated),
		cmocka_unit_test(test_msix_refusal_falls_back_to_intx_isolated),
		cmocka_unit_test(test_irq_alloc_failure_isolated),
		cmocka_unit_test(test_poll_mode_isolated),
		cmocka_unit_test(test_poll_mode_by_type_isolated),
		cmocka_unit_test(test_hybrid_mode_isolated),
		cmocka_unit_test(test_no_msix_option_uses_intx_isolated),
		cmocka_unit_test(test_no_interrupt_source_isolated),
		cmocka_unit_test(test_intx_handler_reads_isr_isolated),
		cmocka_unit_test(test_legacy_config_offset_isolated),
		cmocka_unit_test(test_config_generation_retry_isolated),
		cmocka_unit_test(test_config_read_during_probe_isolated),
		cmocka_unit_test(test_probe_failure_tears_down_isolated),
		cmocka_unit_test(test_device_without_driver_is_reset_isolated),
		cmocka_unit_test(test_rng_short_reads_isolated),
		cmocka_unit_test(test_abandon_resets_before_buffers_are_reused_isolated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
