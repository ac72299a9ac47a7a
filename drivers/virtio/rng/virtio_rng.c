/*
 * virtio-rng: the smallest virtio device, one queue and no configuration, which makes it the
 * first proof that the transport works end to end. Each request is one device-writable buffer;
 * the device fills some or all of it and says how much in the used length (5.4.6).
 */
#include "drivers/virtio/rng/virtio_rng.h"
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/core/core_port.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define RNG_CHUNK 256
/* 5.4.6 lets the device fill less than offered, 0 bytes included; a device that gives nothing
 * this many times in a row has no entropy to give, and the read fails instead of spinning. */
#define RNG_EMPTY_LIMIT 16

struct rng {
	struct virtio_device *vd;
	struct virtqueue *vq;
	uint8_t *buf;            /* DMA memory the device writes into */
	volatile bool done;
	uint32_t got;
};
static struct rng rngs[2];
static unsigned nrngs;

static void rng_harvest(struct virtqueue *vq)
{
	struct rng *r = virtio_vq_priv(vq);
	uint32_t len;
	while (virtqueue_get_buf(vq, &len)) {
		r->got = len;
		r->done = true;
	}
}

static bool rng_done(void *arg)
{
	return ((struct rng *)arg)->done;
}

long virtio_rng_read(void *out, size_t len)
{
	if (!nrngs || rngs[0].vd->failed || !rngs[0].vq)
		return -ENODEV;
	struct rng *r = &rngs[0];
	size_t have = 0;
	unsigned empty = 0;
	while (have < len) {
		size_t want = len - have < RNG_CHUNK ? len - have : RNG_CHUNK;
		struct vq_sg sg = {r->buf, (uint32_t)want};
		r->done = false;
		/* The interrupt handler harvests this queue: keep it out while adding. */
		unsigned long fl = virtio_lock();
		int err = virtqueue_add(r->vq, &sg, 0, 1, r);
		if (!err)
			virtqueue_kick(r->vq);
		virtio_unlock(fl);
		if (err)
			return err;
		if ((err = virtio_wait(r->vd, r->vq, rng_done, r, VIRTIO_TIMEOUT_NS))) {
			/* The device still owns r->buf: reset it (and bring it back) before the
			 * buffer is reused. */
			struct virtio_device *vd = r->vd;
			virtio_recover(vd, vd->reset_pending	  ? vd->reset_reason
					   : err == -ETIMEDOUT ? "no entropy within the timeout"
							       : "the queue broke");
			return err;
		}
		/* The core already refused a length larger than offered; 0 is allowed. */
		if (r->got == 0 && ++empty == RNG_EMPTY_LIMIT) {
			virtio_set_error(r->vd, "%u requests in a row returned no entropy", empty);
			return -EIO;
		}
		if (r->got)
			empty = 0;
		memcpy((uint8_t *)out + have, r->buf, r->got);
		have += r->got;
	}
	return (long)len;
}

/* After a reset for a recovery: the one request a read may have queued is the reader's, who
 * sees virtio_wait fail; the buffer stays for the next probe. */
static void rng_reset_done(struct virtio_device *vd)
{
	struct rng *r = vd->priv;
	while (r->vq && virtqueue_detach_unused(r->vq))
		;
	r->vq = NULL;
}

static int rng_probe(struct virtio_device *vd)
{
	struct rng *r = vd->priv; /* set: a re-initialisation after a reset */
	bool again = r != NULL;
	if (!again && nrngs == sizeof(rngs) / sizeof(rngs[0]))
		return -ENOSPC;
	if (!again)
		r = &rngs[nrngs];
	int err = virtio_negotiate(vd, 0);
	if (err)
		return err;
	uint64_t phys;
	if (!again && !(r->buf = virtio_dma_alloc(RNG_CHUNK, &phys)))
		return -ENOMEM;
	struct virtio_vq_spec spec = {.name = "requestq", .callback = rng_harvest, .priv = r};
	if ((err = virtio_setup_vqs(vd, 1, &spec))) {
		if (!again && !vd->dead) /* dead: the device may still write into it */
			virtio_dma_free(r->buf, RNG_CHUNK);
		return err;
	}
	r->vd = vd;
	r->vq = vd->vqs[0].vq;
	vd->priv = r;
	if (!again) {
		snprintf(vd->name, sizeof(vd->name), "rng%u", nrngs);
		nrngs++;
	}
	virtio_device_ready(vd);
	return 0;
}

static const struct virtio_driver rng_driver = {
	.name = "virtio-rng",
	.device_type = VIRTIO_ID_RNG,
	.probe = rng_probe,
	.reset_done = rng_reset_done,
};

int virtio_rng_register(void)
{
	return virtio_register_driver(&rng_driver);
}
