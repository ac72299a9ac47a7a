/*
 * Completions, three ways (virtio.h, enum virtio_mode): what an interrupt does in each mode,
 * how a waiter harvests, and how poll-mode devices notice configuration changes.
 */
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/virtio/core/virtio_config.h"
#include "drivers/virtio/core/virtio_transport.h"

#include <errno.h>
#include <string.h>

#define CONFIG_POLL_NS 100000000ull /* poll mode: look for config changes every 100 ms */
#define HYBRID_SPIN_FACTOR 4         /* hybrid: poll a lone request 4x its average wait ... */
#define HYBRID_SPIN_MAX_NS 500000ull /* ... but never longer than this */
#define HYBRID_AVG_SHIFT 3           /* hybrid: each wait moves the average 1/8 of the way */

void virtio_service_vq_irq(struct virtio_device *vd, struct virtqueue *vq)
{
	/* Counts the interrupt, spots a spurious one, runs the driver's callback (harvest). */
	(void)vd;
	virtqueue_interrupt(vq);
	virtio_wake();
}

void virtio_service_config_irq(struct virtio_device *vd)
{
	vd->config_changes++;
	/* 2.1.1 / 4.1.4.5 / 4.2.2: a device that enters an error state sets DEVICE_NEEDS_RESET
	 * and sends a configuration change notification. Nothing it does is meaningful until a
	 * reset, so the reset is asked for instead of passing the change on. */
	if (vd->ops->get_status(vd) & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		virtio_request_reset(vd, "the device set DEVICE_NEEDS_RESET");
	else if (vd->driver && vd->driver->config_changed)
		vd->driver->config_changed(vd);
	virtio_wake();
}

void virtio_maintain(void)
{
	for (size_t i = 0; i < virtio_device_count(); i++) {
		struct virtio_device *vd = virtio_device_at(i);
		if (vd->reset_pending) {
			char why[sizeof(vd->reset_reason)];
			memcpy(why, vd->reset_reason, sizeof(why));
			virtio_recover(vd, why);
		}
	}
	/* Poll mode takes no interrupts, so nothing announces a configuration change (a disk
	 * resize, a link change, DEVICE_NEEDS_RESET): ask the transport now and then instead. */
	static uint64_t last;
	uint64_t now = virtio_time_ns();
	if (now - last < CONFIG_POLL_NS)
		return;
	last = now;
	for (size_t i = 0; i < virtio_device_count(); i++) {
		struct virtio_device *vd = virtio_device_at(i);
		if (vd->mode != VIRTIO_MODE_POLL || !vd->driver || vd->failed || !vd->nvqs)
			continue;
		if (vd->ops->config_pending(vd))
			virtio_service_config_irq(vd);
	}
}

void virtio_vq_service(struct virtio_device *vd, struct virtqueue *vq)
{
	(void)vd;
	/* With the interrupt handler kept out: in hybrid mode an interrupt may still arrive while
	 * we harvest (disabling callbacks is only a hint to the device), and two harvesters on one
	 * used ring would hand out the same entry twice. */
	unsigned long fl = virtio_lock();
	if (virtqueue_poll(vq) && vq->callback)
		vq->callback(vq);
	virtio_unlock(fl);
}

/* Requests handed to the device and not harvested yet. */
static uint64_t in_flight(const struct virtqueue *vq)
{
	return vq->stats.added - vq->stats.completed;
}

/* Interrupts back on for vq after hybrid polled it, harvesting until the re-check finds
 * nothing new: an entry used while they were off was never announced, and none that comes
 * later would announce it (the device interrupts only when its index crosses used_event).
 * Under the lock: the interrupt handler harvests the same queue. */
static void hybrid_interrupts_on(struct virtio_device *vd, struct virtqueue *vq)
{
	for (;;) {
		unsigned long fl = virtio_lock();
		bool idle = virtqueue_enable_cb(vq);
		virtio_unlock(fl);
		if (idle)
			return;
		virtio_vq_service(vd, vq);
	}
}

int virtio_wait(struct virtio_device *vd, struct virtqueue *vq, bool (*done)(void *arg), void *arg,
		uint64_t timeout_ns)
{
	struct virtio_vq_info *info = vq->priv;
	uint64_t start = virtio_time_ns();
	/* Hybrid (docs/PERFORMANCE.md) is irq mode, except that a lone request is polled, with
	 * its interrupt off, for HYBRID_SPIN_FACTOR times as long as lone requests have been
	 * taking (at most HYBRID_SPIN_MAX_NS): a device that answers within that is never
	 * slept on (a wake-up by interrupt costs more than such a wait), and one that does not
	 * costs at most that much polling. With more requests out, interrupts batch anyway. */
	bool lone = in_flight(vq) <= 1, waited = false, polling = false;
	uint64_t spin = HYBRID_SPIN_FACTOR * info->wait_avg_ns;
	if (spin > HYBRID_SPIN_MAX_NS)
		spin = HYBRID_SPIN_MAX_NS;
	int err = 0;
	while (!done(arg)) {
		waited = true;
		if (virtqueue_is_broken(vq) || vd->reset_pending) {
			err = -EIO;
			break;
		}
		uint64_t now = virtio_time_ns();
		if (timeout_ns && now - start > timeout_ns) {
			err = -ETIMEDOUT;
			break;
		}
		switch (vd->mode) {
		case VIRTIO_MODE_POLL:
			virtio_vq_service(vd, vq);
			break;
		case VIRTIO_MODE_HYBRID:
			if (lone && now - start < spin) {
				if (!polling) {
					unsigned long fl = virtio_lock();
					virtqueue_disable_cb(vq);
					virtio_unlock(fl);
					polling = true;
				}
				virtio_vq_service(vd, vq);
				break;
			}
			if (polling) {
				hybrid_interrupts_on(vd, vq);
				polling = false;
				break; /* done() may hold now */
			}
			virtio_idle();
			break;
		case VIRTIO_MODE_IRQ:
			/* The interrupt handler harvests; halt until it (or anything) fires. The
			 * handler's virtio_wake() keeps a completion from being slept through. */
			virtio_idle();
			break;
		}
	}
	if (polling)
		hybrid_interrupts_on(vd, vq);
	if (!err && vd->mode == VIRTIO_MODE_HYBRID && lone && waited) {
		/* Move the average 1/2^HYBRID_AVG_SHIFT of the way to this wait. */
		uint64_t w = virtio_time_ns() - start, avg = info->wait_avg_ns;
		info->wait_avg_ns = w > avg ? avg + ((w - avg) >> HYBRID_AVG_SHIFT)
					    : avg - ((avg - w) >> HYBRID_AVG_SHIFT);
	}
	return err;
}
