/*
 * What the transport tests (test_virtio_pci.c, test_virtio_mmio.c) share: the spec values they
 * assert, the device model they drive (`dev`), a small virtio driver for device type VT_TYPE
 * with n queues and an optional config read in probe, and helpers (the `virtio` report, the
 * model's violations, virtio-rng reads checked against the bytes the model produced).
 */
#ifndef VIREO_TESTS_VIRTIO_TEST_DRIVER_H
#define VIREO_TESTS_VIRTIO_TEST_DRIVER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drivers/virtio/core/virtio.h"
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

/* The model under test. */
extern struct vfd dev;

/* The test driver's knobs and results. */
struct vt_state {
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
	void (*harvest_hook)(void); /* called at the end of each queue callback */
};
extern struct vt_state vt;
extern const struct virtio_driver vt_driver;
bool vt_is_done(void *arg);
/* One request on queue q: a 32-byte device-writable buffer, filled by the model. */
void vt_roundtrip(unsigned q);

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

/* The test fails with the model's violations, if any. */
void assert_clean(void);
/* The device added last. */
struct virtio_device *the_vd(void);
/* virtio_rng_read of n bytes returns exactly the bytes the model produced. */
void rng_read_ok(size_t n);
size_t count_str(const char *hay, const char *needle);

#endif
