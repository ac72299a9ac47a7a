/*
 * The device table: the drivers registered, every device a transport found, binding one to the
 * other, and the `virtio` report of them all.
 */
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/core/virtio_transport.h"

#include <errno.h>
#include <stdio.h>

#define MAX_DEVICES 16
#define MAX_DRIVERS 8

static struct virtio_device *devices[MAX_DEVICES];
static size_t ndevices;
static const struct virtio_driver *drivers[MAX_DRIVERS];
static size_t ndrivers;

int virtio_register_driver(const struct virtio_driver *drv)
{
	if (ndrivers == MAX_DRIVERS)
		return -ENOSPC;
	drivers[ndrivers++] = drv;
	return 0;
}

static const struct virtio_driver *driver_for(uint16_t type)
{
	for (size_t i = 0; i < ndrivers; i++)
		if (drivers[i]->device_type == type)
			return drivers[i];
	return NULL;
}

size_t virtio_device_count(void)
{
	return ndevices;
}

struct virtio_device *virtio_device_at(size_t i)
{
	return i < ndevices ? devices[i] : NULL;
}

static int list_device(struct virtio_device *vd)
{
	if (ndevices == MAX_DEVICES)
		return -ENOSPC;
	devices[ndevices++] = vd;
	return 0;
}

int virtio_device_add_unusable(struct virtio_device *vd, const char *why)
{
	int err = list_device(vd);
	if (!err)
		virtio_set_error(vd, "no usable transport: %s", why);
	return err;
}

int virtio_device_add(struct virtio_device *vd)
{
	int err = list_device(vd);
	if (err)
		return err;
	uint16_t t = vd->device_type;
	vd->mode = (t < 8 && virtio_options.mode_set_by_type[t]) ? virtio_options.mode_by_type[t]
								 : virtio_options.mode;
	const struct virtio_driver *drv = driver_for(t);
	if (!drv) {
		/* Reset it, so firmware's leftovers cannot DMA behind our back. */
		vd->ops->reset(vd);
		virtio_set_error(vd, "no driver for device type %u", t);
		return 0;
	}
	vd->driver = drv;
	err = drv->probe(vd);
	if (err) {
		if (!vd->failed)
			virtio_fail(vd, "%s probe failed (%d)", drv->name, err);
		virtio_teardown(vd);
	}
	return 0;
}

void virtio_describe_all(int (*out)(const char *fmt, ...))
{
	if (!virtio_device_count())
		out("no virtio devices\n");
	for (size_t i = 0; i < virtio_device_count(); i++) {
		struct virtio_device *vd = virtio_device_at(i);
		char where[64];
		virtio_location(vd, true, where, sizeof(where));
		out("%s: %s %s, transport %s, mode %s, irq %s, ring %s%s%s\n", vd->name, where,
		    virtio_type_name(vd->device_type), virtio_transport_name(vd),
		    virtio_mode_name(vd->mode), virtio_irq_name(vd), virtio_ring_name(vd->features),
		    vd->dead ? ", DEAD" : vd->failed ? ", FAILED" : "", vd->driver ? "" : ", no driver");
		if (vd->error[0])
			out("  error: %s\n", vd->error);
		if (vd->resets || vd->reset_pending)
			out("  resets: %u%s, last: %s\n", vd->resets,
			    vd->reset_pending ? " (one pending)" : "", vd->reset_reason);
		char feats[320];
		virtio_feature_string(vd, vd->device_features, feats, sizeof(feats));
		out("  offered:    %s\n", feats);
		virtio_feature_string(vd, vd->features, feats, sizeof(feats));
		out("  negotiated: %s\n", feats);
		if (vd->ops->describe)
			vd->ops->describe(vd, out);
		out("  config changes: %llu\n", (unsigned long long)vd->config_changes);
		for (unsigned q = 0; q < vd->nvqs; q++) {
			const struct virtqueue *vq = vd->vqs[q].vq;
			const struct virtqueue_stats *s = &vq->stats;
			char vec[32] = "none";
			if (vd->ops->describe_queue)
				vd->ops->describe_queue(vd, q, false, vec, sizeof(vec));
			out("  queue %u %-8s size %-4u vector %-10s requests=%llu completed=%llu "
			    "kicks=%llu suppressed=%llu interrupts=%llu spurious=%llu indirect=%llu%s\n",
			    q, vq->name ? vq->name : "", virtqueue_size(vq), vec,
			    (unsigned long long)s->added, (unsigned long long)s->completed,
			    (unsigned long long)s->kicks, (unsigned long long)s->kicks_suppressed,
			    (unsigned long long)s->interrupts, (unsigned long long)s->spurious,
			    (unsigned long long)s->indirect, vq->broken ? " BROKEN" : "");
			if (vq->broken)
				out("    broken: %s\n", vq->broken_reason);
			if (vd->mode == VIRTIO_MODE_HYBRID)
				out("    hybrid: a lone request takes %llu us on average\n",
				    (unsigned long long)(vd->vqs[q].wait_avg_ns / 1000));
			if (s->bad_len_ignored)
				out("    used lengths ignored (nothing device-writable): %llu\n",
				    (unsigned long long)s->bad_len_ignored);
		}
		if (vd->driver && vd->driver->describe && !vd->failed)
			vd->driver->describe(vd, out);
	}
}
