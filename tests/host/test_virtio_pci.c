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
#pragma GCC diagnostic ignored "-Wunused-function"

#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio.h"
#include "drivers/virtio/virtio_pci.h"
#include "drivers/virtio/virtio_rng.h"
#include "tests/host/pci_fake.h"
#include "tests/host/virtio_fake_dev.h"

/* Spec values (VIRTIO 1.2 2.1, 6, 5.4). */
#define ST_ACK 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4
#define ST_FEATURES_OK 8
#define ST_FAILED 128
#define BIT(n) (1ull << (n))
#define F_INDIRECT BIT(28)
#define F_EVENT_IDX BIT(29)
#define F_VERSION_1 BIT(32)
#define ID_RNG 4
#define VT_TYPE 42 /* the test driver's device type */

static struct fake_pci fake;
static struct vfd dev;

/* ---------------------------------------------------------------------------------------- */
/* A test virtio driver: n queues, optional device-config read in probe.                     */

static struct {
	unsigned nvqs;
	uint64_t wanted;
	unsigned sizes[VIRTIO_MAX_VQS];
	bool fail_after_vqs;
	bool read_cfg;
	unsigned cfg_off, cfg_len;
	uint8_t cfg_buf[16];
	int cfg_ret;
	unsigned config_changed;
	int probe_ret;
	struct virtio_device *vd;
	bool done[VIRTIO_MAX_VQS];
	uint32_t len[VIRTIO_MAX_VQS];
} vt = {.nvqs = 1};

static const char *const vt_feature_names[24] = {"VT_F0", "VT_F1"};
static const char *const vt_qnames[VIRTIO_MAX_VQS] = {"q0", "q1", "q2", "q3",
						      "q4", "q5", "q6", "q7"};

static void vt_harvest(struct virtqueue *vq)
{
	uint32_t len;
	bool *token;
	while ((token = virtqueue_get_buf(vq, &len))) {
		*token = true;
		vt.len[token - vt.done] = len;
	}
}

static int vt_probe(struct virtio_device *vd)
{
	struct virtio_vq_spec specs[VIRTIO_MAX_VQS];
	int err = virtio_negotiate(vd, vt.wanted);
	if (err)
		return vt.probe_ret = err;
	if (vt.read_cfg)
		vt.cfg_ret = virtio_config_read(vd, vt.cfg_off, vt.cfg_buf, vt.cfg_len);
	for (unsigned i = 0; i < vt.nvqs; i++)
		specs[i] = (struct virtio_vq_spec){.name = vt_qnames[i], .size = vt.sizes[i],
						   .callback = vt_harvest};
	if ((err = virtio_setup_vqs(vd, vt.nvqs, specs)))
		return vt.probe_ret = err;
	if (vt.fail_after_vqs)
		return vt.probe_ret = -EIO;
	snprintf(vd->name, sizeof(vd->name), "vtest0");
	vt.vd = vd;
	virtio_device_ready(vd);
	return 0;
}

static void vt_config_changed(struct virtio_device *vd)
{
	(void)vd;
	vt.config_changed++;
}

static const struct virtio_driver vt_driver = {
	.name = "virtio-test",
	.device_type = VT_TYPE,
	.feature_names = vt_feature_names,
	.probe = vt_probe,
	.config_changed = vt_config_changed,
};

static bool vt_is_done(void *arg)
{
	return *(bool *)arg;
}

/* One request on queue q: a 32-byte device-writable buffer, filled by the model. */
static void vt_roundtrip(unsigned q)
{
	static uint8_t buf[VIRTIO_MAX_VQS][32];
	struct virtqueue *vq = vt.vd->vqs[q].vq;
	struct vq_sg sg = {buf[q], sizeof(buf[q])};
	size_t before = dev.nproduced;

	vt.done[q] = false;
	assert_int_equal(virtqueue_add(vq, &sg, 0, 1, &vt.done[q]), 0);
	virtqueue_kick(vq);
	assert_int_equal(virtio_wait(vt.vd, vq, vt_is_done, &vt.done[q], 1000000000ull), 0);
	assert_int_equal(vt.len[q], 32);
	assert_memory_equal(buf[q], dev.produced + before, 32);
}

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */

static char out_buf[16384];
static size_t out_len;

static int out_fn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out_buf + out_len, sizeof(out_buf) - out_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		out_len += (size_t)n;
	if (out_len >= sizeof(out_buf))
		out_len = sizeof(out_buf) - 1;
	return n;
}

static const char *describe(void)
{
	out_len = 0;
	out_buf[0] = 0;
	virtio_describe_all(out_fn);
	return out_buf;
}

#define assert_contains(hay, needle)                                                             \
	do {                                                                                      \
		const char *h_ = (hay), *n_ = (needle);                                           \
		if (!strstr(h_, n_))                                                              \
			fail_msg("expected \"%s\" in:\n%s", n_, h_);                              \
	} while (0)
#define assert_not_contains(hay, needle)                                                         \
	do {                                                                                      \
		const char *h_ = (hay), *n_ = (needle);                                           \
		if (strstr(h_, n_))                                                               \
			fail_msg("did not expect \"%s\" in:\n%s", n_, h_);                        \
	} while (0)

static void assert_clean(void)
{
	if (dev.nviolations)
		fail_msg("the device model recorded %u violation(s):\n%s", dev.nviolations,
			 dev.violations);
}

static void model(enum vfd_kind kind, uint16_t type)
{
	vfd_init(&dev, kind, type);
}

/* Build the fake machine around the model, enumerate, register the drivers, probe. */
static void boot(void)
{
	static bool registered;
	vfd_build(&dev, &fake);
	assert_int_equal(pci_init(&fake.plat), 2);
	if (!registered) {
		assert_int_equal(virtio_pci_register(), 0);
		assert_int_equal(virtio_rng_register(), 0);
		assert_int_equal(virtio_register_driver(&vt_driver), 0);
		registered = true;
	}
	pci_probe_all();
}

static struct virtio_device *the_vd(void)
{
	assert_true(virtio_device_count() > 0);
	return virtio_device_at(virtio_device_count() - 1);
}

static void rng_read_ok(size_t n)
{
	uint8_t buf[512];
	size_t before = dev.nproduced;
	assert_true(n <= sizeof(buf));
	assert_int_equal(virtio_rng_read(buf, n), (long)n);
	assert_int_equal(dev.nproduced - before, n);
	assert_memory_equal(buf, dev.produced + before, n);
}

static void add_extra_cap(uint8_t cap_len, uint8_t type, uint8_t bar, uint32_t off, uint32_t len,
			  uint32_t mult)
{
	assert_true(dev.nextra < VFD_MAX_EXTRA);
	dev.extra[dev.nextra++] = (struct vfd_cap){cap_len, type, bar, off, len, mult};
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Isolation: each test in a forked child (the core's tables are static and never emptied).  */

static char child_out[65536];

static void isolate(CMUnitTestFunction body, const char *name)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		const struct CMUnitTest one[] = {{name, body, NULL, NULL, NULL}};
		int failed = cmocka_run_group_tests_name(name, one, NULL, NULL);
		fflush(stdout);
		fflush(stderr);
		_exit(failed ? 1 : 0);
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t r;
	while ((r = read(fds[0], child_out + n, sizeof(child_out) - 1 - n)) > 0)
		n += (size_t)r;
	child_out[n] = 0;
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* Show what the child said, as TAP comments. */
		for (char *line = strtok(child_out, "\n"); line; line = strtok(NULL, "\n"))
			fprintf(stderr, "# %s\n", line);
		fail_msg("%s failed (child status %#x)", name, status);
	}
}

#define ISOLATED(fn)                                                                              \
	static void fn##_isolated(void **state)                                                   \
	{                                                                                         \
		(void)state;                                                                      \
		isolate(fn, #fn);                                                                 \
	}

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
	assert_string_equal(vd->ops->name, "legacy");
	assert_int_equal(vd->features, F_INDIRECT | F_EVENT_IDX);
	assert_int_equal((uint64_t)dev.q[0].pfn << 12, virtqueue_legacy_pfn(vd->vqs[0].vq) << 12);
	rng_read_ok(100);
	assert_clean();
}
ISOLATED(test_legacy_init_sequence)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modern_init_sequence_isolated),
		cmocka_unit_test(test_legacy_init_sequence_isolated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
