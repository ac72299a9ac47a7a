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
#define HYBRID_SPIN_NS 50000ull     /* hybrid: poll this long before sleeping on an interrupt */

void virtio_service_vq_irq(struct virtio_device *vd, struct virtqueue *vq)
{
	/* Counts the interrupt, spots a spurious one, runs the driver's callback (harvest). */
	virtqueue_interrupt(vq);
	if (vd->mode == VIRTIO_MODE_HYBRID)
		virtqueue_disable_cb(vq); /* the woken waiter polls from here on */
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

int virtio_wait(struct virtio_device *vd, struct virtqueue *vq, bool (*done)(void *arg), void *arg,
		uint64_t timeout_ns)
{
	uint64_t start = virtio_time_ns(), spin_until = start + HYBRID_SPIN_NS;
	while (!done(arg)) {
		if (virtqueue_is_broken(vq) || vd->reset_pending)
			return -EIO;
		uint64_t now = virtio_time_ns();
		if (timeout_ns && now - start > timeout_ns)
			return -ETIMEDOUT;
		switch (vd->mode) {
		case VIRTIO_MODE_POLL:
			virtio_vq_service(vd, vq);
			break;
		case VIRTIO_MODE_HYBRID:
			virtio_vq_service(vd, vq);
			if (done(arg) || now < spin_until)
				break;
			/* Going to sleep: ask for an interrupt, and re-check so a completion that
			 * landed in between is not slept through (the lost wake-up race). Under the
			 * lock: the interrupt path disables callbacks on the same queue, and the two
			 * must not interleave their updates of its interrupt state. */
			unsigned long fl = virtio_lock();
			bool idle = virtqueue_enable_cb(vq);
			virtio_unlock(fl);
			if (!idle)
				break;
			virtio_idle();
			fl = virtio_lock();
			virtqueue_disable_cb(vq);
			virtio_unlock(fl);
			spin_until = virtio_time_ns() + HYBRID_SPIN_NS;
			break;
		case VIRTIO_MODE_IRQ:
			/* The interrupt handler harvests; halt until it (or anything) fires. The
			 * handler's virtio_wake() keeps a completion from being slept through. */
			virtio_idle();
			break;
		}
	}
	return 0;
}
