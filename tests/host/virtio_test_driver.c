/* The virtio test driver and helpers shared by the transport tests (see the header). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tests/host/virtio_test_driver.h"
#include "drivers/virtio/rng/virtio_rng.h"

struct vfd dev;

/* ---------------------------------------------------------------------------------------- */
/* A test virtio driver: n queues, optional device-config read in probe.                     */

struct vt_state vt = {.nvqs = 1};

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
	if (vt.harvest_hook)
		vt.harvest_hook();
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

const struct virtio_driver vt_driver = {
	.name = "virtio-test",
	.device_type = VT_TYPE,
	.feature_names = vt_feature_names,
	.probe = vt_probe,
	.config_changed = vt_config_changed,
};

bool vt_is_done(void *arg)
{
	return *(bool *)arg;
}

/* One request on queue q: a 32-byte device-writable buffer, filled by the model. */
void vt_roundtrip(unsigned q)
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

void assert_clean(void)
{
	if (dev.nviolations)
		fail_msg("the device model recorded %u violation(s):\n%s", dev.nviolations,
			 dev.violations);
}

struct virtio_device *the_vd(void)
{
	assert_true(virtio_device_count() > 0);
	return virtio_device_at(virtio_device_count() - 1);
}

void rng_read_ok(size_t n)
{
	uint8_t buf[512];
	size_t before = dev.nproduced;
	assert_true(n <= sizeof(buf));
	assert_int_equal(virtio_rng_read(buf, n), (long)n);
	assert_int_equal(dev.nproduced - before, n);
	assert_memory_equal(buf, dev.produced + before, n);
}

size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}
