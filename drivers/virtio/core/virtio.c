/*
 * The virtio device core: the initialization sequence and feature negotiation (3.1.1),
 * virtqueue set-up, and what happens when a device fails. It reaches a device only through its
 * transport's ops (virtio_transport.h).
 */
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/virtio/core/virtio_transport.h"
#include "drivers/virtio/ring/virtio_ring.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define RESET_TIMEOUT_NS 1000000000ull /* 1 s: QEMU resets at once; real devices may take a while */

struct virtio_options virtio_options;

bool virtio_flag_option_for(const struct virtio_flag_option *o, uint16_t type)
{
	return type < 8 && o->set_by_type[type] ? o->by_type[type] : o->on;
}

/* ---- status, reset and errors ---- */

int virtio_status_reset(struct virtio_device *vd)
{
	/* 2.1.2 / 4.1.4.3.2 / 4.2.3.1: write 0, then wait until the device reads back 0 before
	 * anything else. */
	vd->ops->set_status(vd, 0);
	uint64_t t0 = virtio_time_ns();
	while (vd->ops->get_status(vd) != 0) {
		if (virtio_time_ns() - t0 > RESET_TIMEOUT_NS)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Status bits are only ever added (2.1.1: the driver MUST NOT clear a device status bit). */
static void add_status(struct virtio_device *vd, uint8_t bits)
{
	vd->ops->set_status(vd, vd->ops->get_status(vd) | bits);
}

static void set_error_v(struct virtio_device *vd, const char *fmt, va_list ap)
{
	/* Format into a copy: the reason may quote the previous vd->error. */
	char msg[sizeof(vd->error)];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	memcpy(vd->error, msg, sizeof(msg));
}

void virtio_set_error(struct virtio_device *vd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_error_v(vd, fmt, ap);
	va_end(ap);
	virtio_log("%s: %s\n", vd->name, vd->error);
}

void virtio_fail(struct virtio_device *vd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_error_v(vd, fmt, ap);
	va_end(ap);
	vd->failed = true;
	if (vd->ops)
		add_status(vd, VIRTIO_STATUS_FAILED);
	virtio_log("%s: failed: %s\n", vd->name, vd->error);
}

static void break_queues(struct virtio_device *vd, const char *why)
{
	unsigned long fl = virtio_lock();
	for (unsigned i = 0; i < vd->nvqs; i++)
		virtqueue_break(vd->vqs[i].vq, why);
	virtio_unlock(fl);
}

/* The sticky end: FAILED, every queue broken, never touched again. A device that had failed
 * already keeps that first reason in vd->error; the log has both. */
static void die(struct virtio_device *vd, const char *why)
{
	break_queues(vd, why);
	vd->dead = true;
	if (vd->failed)
		virtio_log("%s: dead: %s\n", vd->name, why);
	else
		virtio_fail(vd, "dead: %s", why);
}

/* Reset before reclaiming anything the device was given (2.1.2, 3.3.1). Returns false, with
 * the device dead and the log saying what stays allocated, when the reset does not complete:
 * the device may still read and write the rings and buffers, so they must not be reused. */
static bool reset_to_reclaim(struct virtio_device *vd)
{
	if (vd->ops->reset(vd) == 0)
		return true;
	char why[96];
	snprintf(why, sizeof(why), "the reset did not complete; %u queue(s) stay allocated", vd->nvqs);
	die(vd, why);
	return false;
}

/* ---- features ---- */

int virtio_negotiate(struct virtio_device *vd, uint64_t wanted)
{
	const struct virtio_transport_ops *ops = vd->ops;
	int err = ops->reset(vd);
	if (err) {
		virtio_fail(vd, "the device did not finish its reset (status stays %#x)",
			    ops->get_status(vd));
		return err;
	}
	add_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	add_status(vd, VIRTIO_STATUS_DRIVER);

	unsigned banks = ops->legacy ? 1 : 2; /* the legacy feature register is 32 bits wide */
	vd->device_features = 0;
	for (unsigned b = 0; b < banks; b++)
		vd->device_features |= (uint64_t)ops->get_features(vd, b) << (32 * b);
	uint64_t accept = wanted | VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) |
			  VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
	if (!ops->legacy) {
		accept |= VIRTIO_BIT(VIRTIO_F_VERSION_1); /* 6.1: accept VERSION_1 when offered */
		/* The packed format needs VERSION_1 (2.8): never on the legacy interface. */
		if (virtio_flag_option_for(&virtio_options.packed, vd->device_type))
			accept |= VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	}
	if (virtio_flag_option_for(&virtio_options.in_order, vd->device_type))
		accept |= VIRTIO_BIT(VIRTIO_F_IN_ORDER);
	if (virtio_options.no_indirect)
		accept &= ~VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC);
	if (virtio_options.no_event_idx)
		accept &= ~VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
	/* Only offered features, and never ones we do not implement (6: "ignore unknown"). */
	vd->features = vd->device_features & accept;
	/* Nor one whose prerequisite is missing. One pass suffices: no prerequisite has one. */
	for (const struct virtio_feature_dep *d = vd->driver ? vd->driver->feature_deps : NULL;
	     d && (d->feature || d->requires); d++)
		if (!virtio_has_feature(vd, d->requires))
			vd->features &= ~VIRTIO_BIT(d->feature);
	for (unsigned b = 0; b < banks; b++)
		ops->set_features(vd, b, (uint32_t)(vd->features >> (32 * b)));

	if (ops->legacy)
		return 0; /* no FEATURES_OK step (4.1.4.10, 4.2.4) */
	if (!virtio_has_feature(vd, VIRTIO_F_VERSION_1)) {
		virtio_fail(vd, "a modern transport without VERSION_1 offered");
		return -EIO;
	}
	/* 3.1.1 step 5-6: FEATURES_OK, then re-read: a clear bit means refused. */
	add_status(vd, VIRTIO_STATUS_FEATURES_OK);
	if (!(ops->get_status(vd) & VIRTIO_STATUS_FEATURES_OK)) {
		char names[160];
		virtio_feature_string(vd, vd->features, names, sizeof(names));
		virtio_fail(vd, "the device refused FEATURES_OK for: %s", names);
		return -EIO;
	}
	return 0;
}

int virtio_config_read(struct virtio_device *vd, unsigned off, void *buf, unsigned len)
{
	return vd->ops->read_config(vd, off, buf, len);
}

/* ---- virtqueues ---- */

/* Each virtqueue's notify callback: the transport's doorbell. */
static void notify_vq(struct virtqueue *vq)
{
	struct virtio_device *vd = virtio_vq_device(vq);
	vd->ops->notify(vd, vq->index);
}

static bool is_pow2(unsigned n)
{
	return n && !(n & (n - 1));
}

static void destroy_queues(struct virtio_device *vd)
{
	for (unsigned i = 0; i < vd->nvqs; i++)
		virtqueue_destroy(vd->vqs[i].vq);
	vd->nvqs = 0;
}

int virtio_setup_vqs(struct virtio_device *vd, unsigned n, const struct virtio_vq_spec *specs)
{
	int err = 0;
	if (n > VIRTIO_MAX_VQS)
		return -EINVAL;
	vd->nvqs = 0;
	for (unsigned i = 0; i < n; i++) {
		vd->error[0] = '\0';
		uint16_t max = vd->ops->queue_max(vd, i);
		unsigned size;
		if (max == 0) {
			if (vd->error[0]) /* the transport said why */
				virtio_fail(vd, "%s", vd->error);
			else
				virtio_fail(vd, "queue %u (%s) does not exist (size 0)", i, specs[i].name);
			err = -ENOENT;
			goto undo_queues;
		}
		bool packed = virtio_has_feature(vd, VIRTIO_F_RING_PACKED);
		if (vd->ops->legacy) {
			size = max; /* legacy: the device's size, no choice */
		} else {
			size = specs[i].size ? specs[i].size : VIRTIO_DEFAULT_QUEUE_SIZE;
			if (size > max)
				size = max;
		}
		/* Split rings are powers of two (2.7); a packed one may have any size (2.8). */
		if ((!packed && !is_pow2(size)) || size > VRING_MAX_NUM) {
			virtio_fail(vd, "queue %u (%s): size %u is not a power of two <= 32768", i,
				    specs[i].name, size);
			err = -EINVAL;
			goto undo_queues;
		}
		struct virtio_vq_info *info = &vd->vqs[i];
		info->vd = vd;
		info->priv = specs[i].priv;
		info->wait_avg_ns = 0;
		struct virtqueue_config cfg = {
			.name = specs[i].name,
			.index = i,
			.num = size,
			.layout = vd->ops->legacy ? VIRTQUEUE_LAYOUT_LEGACY : VIRTQUEUE_LAYOUT_MODERN,
			.packed = packed,
			.in_order = virtio_has_feature(vd, VIRTIO_F_IN_ORDER),
			.indirect = virtio_has_feature(vd, VIRTIO_RING_F_INDIRECT_DESC),
			.event_idx = virtio_has_feature(vd, VIRTIO_RING_F_EVENT_IDX),
			.indirect_max = specs[i].indirect_max,
			.notify = notify_vq,
			.callback = specs[i].callback,
			.priv = info,
		};
		if ((err = virtqueue_create(&cfg, &info->vq))) {
			virtio_fail(vd, "queue %u (%s): cannot create (%d)", i, specs[i].name, err);
			goto undo_queues;
		}
		vd->nvqs = i + 1;
	}
	if (vd->mode == VIRTIO_MODE_POLL)
		for (unsigned i = 0; i < vd->nvqs; i++)
			virtqueue_disable_cb(vd->vqs[i].vq); /* the rings ask for no interrupts */
	if ((err = vd->ops->setup_irqs(vd))) {
		virtio_fail(vd, "interrupts: %.100s", vd->error[0] ? vd->error : "failed");
		goto undo_irqs;
	}
	for (unsigned i = 0; i < vd->nvqs; i++) {
		vd->error[0] = '\0';
		if ((err = vd->ops->queue_activate(vd, i, vd->vqs[i].vq))) {
			if (vd->error[0]) /* the transport said why */
				virtio_fail(vd, "%s", vd->error);
			else
				virtio_fail(vd, "queue %u: the device refused it (%d)", i, err);
			goto undo_irqs;
		}
	}
	return 0;

undo_irqs:
	vd->ops->free_irqs(vd);
undo_queues:
	if (reset_to_reclaim(vd)) /* 3.1.1 / 2.1.2: the device must not use the rings we free */
		destroy_queues(vd);
	return err;
}

void virtio_device_ready(struct virtio_device *vd)
{
	add_status(vd, VIRTIO_STATUS_DRIVER_OK);
	char feats[256], where[48];
	virtio_feature_string(vd, vd->features, feats, sizeof(feats));
	vd->ops->location(vd, false, where, sizeof(where));
	virtio_log("%s: %s %s, %s transport, %s ring, %s mode, irq %s; features: %s\n", vd->name,
		   where, virtio_type_name(vd->device_type), vd->ops->name, virtio_ring_name(vd->features),
		   virtio_mode_name(vd->mode), vd->ops->irq_name(vd), feats);
	for (unsigned i = 0; i < vd->nvqs; i++) {
		char vec[32] = "none";
		if (vd->ops->describe_queue)
			vd->ops->describe_queue(vd, i, true, vec, sizeof(vec));
		virtio_log("%s:   queue %u %s: size %u, vector %s\n", vd->name, i,
			   vd->vqs[i].vq->name, virtqueue_size(vd->vqs[i].vq), vec);
	}
}

static void free_queues(struct virtio_device *vd)
{
	vd->ops->free_irqs(vd);
	destroy_queues(vd);
}

void virtio_abandon(struct virtio_device *vd, const char *why)
{
	break_queues(vd, why);
	virtio_fail(vd, "%s", why);
	if (vd->ops->reset(vd))
		die(vd, "the reset did not complete; its buffers must not be reused");
}

void virtio_teardown(struct virtio_device *vd)
{
	if (reset_to_reclaim(vd))
		free_queues(vd);
}

/* A fourth reset within a minute means the device keeps failing: recovery is not helping. */
#define RESET_WINDOW_NS 60000000000ull

int virtio_recover(struct virtio_device *vd, const char *why)
{
	if (vd->dead)
		return -EIO;
	if (vd->recovering) {
		die(vd, "a recovery failed while re-initialising");
		return -EIO;
	}
	vd->reset_pending = false;
	uint64_t now = virtio_time_ns();
	unsigned n = sizeof(vd->reset_times) / sizeof(vd->reset_times[0]);
	bool too_often = vd->resets >= n && now - vd->reset_times[vd->resets % n] < RESET_WINDOW_NS;
	vd->reset_times[vd->resets % n] = now;
	vd->resets++;
	snprintf(vd->reset_reason, sizeof(vd->reset_reason), "%s", why);
	virtio_log("%s: reset %u: %s\n", vd->name, vd->resets, why);
	if (too_often || !vd->driver || !vd->driver->reset_done) {
		die(vd, too_often ? "4 resets within a minute" : "its driver cannot be re-initialised");
		return -EIO;
	}
	break_queues(vd, why); /* the interrupt path harvests nothing more */
	if (!reset_to_reclaim(vd))
		return -EIO;
	vd->recovering = true;
	vd->driver->reset_done(vd); /* every queued request fails with -EIO */
	free_queues(vd);
	vd->failed = false;
	vd->error[0] = 0;
	int err = vd->driver->probe(vd);
	vd->recovering = false;
	if (err || vd->failed) {
		char msg[sizeof(vd->error) + 32];
		snprintf(msg, sizeof(msg), "re-initialisation failed: %s", vd->error[0] ? vd->error : "probe");
		if (reset_to_reclaim(vd)) {
			vd->driver->reset_done(vd); /* the driver lets go of the queues probe made */
			free_queues(vd);
		}
		if (!vd->dead)
			die(vd, msg);
		return -EIO;
	}
	virtio_log("%s: reset %u done; the device works again\n", vd->name, vd->resets);
	return 0;
}

void virtio_request_reset(struct virtio_device *vd, const char *why)
{
	if (vd->reset_pending || vd->dead)
		return;
	snprintf(vd->reset_reason, sizeof(vd->reset_reason), "%s", why);
	vd->reset_pending = true;
	virtio_wake();
}
