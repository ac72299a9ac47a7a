/*
 * The virtio device core: initialisation sequence, feature negotiation, virtqueue set-up,
 * interrupt-mode policy, waiting for completions, and the device table.
 */
#include "drivers/virtio/virtio.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio_pci.h"
#include "drivers/virtio/virtio_pci_regs.h"
#include "drivers/virtio/virtio_platform.h"
#include "drivers/virtio/virtio_ring.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEVICES 16
#define MAX_DRIVERS 8
#define RESET_TIMEOUT_NS 1000000000ull /* 1 s: QEMU resets at once; real devices may take a while */
#define CONFIG_POLL_NS 100000000ull   /* poll mode: look for config changes every 100 ms */
#define HYBRID_SPIN_NS 50000ull         /* hybrid: poll this long before sleeping on an interrupt */

struct virtio_options virtio_options;

static struct virtio_device devices[MAX_DEVICES];
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

const struct virtio_driver *virtio_driver_for(uint16_t type);
const struct virtio_driver *virtio_driver_for(uint16_t type)
{
	for (size_t i = 0; i < ndrivers; i++)
		if (drivers[i]->device_type == type)
			return drivers[i];
	return NULL;
}

struct virtio_device *virtio_device_new(void);
struct virtio_device *virtio_device_new(void)
{
	if (ndevices == MAX_DEVICES)
		return NULL;
	struct virtio_device *vd = &devices[ndevices++];
	memset(vd, 0, sizeof(*vd));
	return vd;
}

size_t virtio_device_count(void)
{
	return ndevices;
}

struct virtio_device *virtio_device_at(size_t i)
{
	return i < ndevices ? &devices[i] : NULL;
}

struct virtio_device *virtio_find(const char *name)
{
	for (size_t i = 0; i < ndevices; i++)
		if (strcmp(devices[i].name, name) == 0)
			return &devices[i];
	return NULL;
}

/* ---- status and reset ---- */

/* 2.1.2 / 4.1.4.3.2: write 0, then wait until the device reads back 0 before anything else. */
static int reset(struct virtio_device *vd)
{
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

void virtio_fail(struct virtio_device *vd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vd->error, sizeof(vd->error), fmt, ap);
	va_end(ap);
	vd->failed = true;
	if (vd->ops)
		add_status(vd, VIRTIO_STATUS_FAILED);
	virtio_log("%s: failed: %s\n", vd->name, vd->error);
}

int virtio_negotiate(struct virtio_device *vd, uint64_t wanted)
{
	int err = reset(vd);
	if (err) {
		virtio_fail(vd, "the device did not finish its reset (status stays %#x)",
			    vd->ops->get_status(vd));
		return err;
	}
	add_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	add_status(vd, VIRTIO_STATUS_DRIVER);

	vd->device_features = vd->ops->get_features(vd);
	bool legacy = vd->ops == &virtio_pci_legacy_ops;
	uint64_t accept = wanted | VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) |
			  VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
	if (!legacy)
		accept |= VIRTIO_BIT(VIRTIO_F_VERSION_1); /* 6.1: accept VERSION_1 when offered */
	if (virtio_options.no_indirect)
		accept &= ~VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC);
	if (virtio_options.no_event_idx)
		accept &= ~VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
	if (legacy)
		accept &= 0xffffffffull; /* the legacy feature register is 32 bits wide */
	/* Only offered features, and never ones we do not implement (6: "ignore unknown"). */
	vd->features = vd->device_features & accept;
	/* Nor one whose prerequisite is missing. One pass suffices: no prerequisite has one. */
	for (const struct virtio_feature_dep *d = vd->driver ? vd->driver->feature_deps : NULL;
	     d && (d->feature || d->requires); d++)
		if (!virtio_has_feature(vd, d->requires))
			vd->features &= ~VIRTIO_BIT(d->feature);
	vd->ops->set_features(vd, vd->features);

	if (!legacy && !virtio_has_feature(vd, VIRTIO_F_VERSION_1)) {
		virtio_fail(vd, "a modern transport without VERSION_1 offered");
		return -EIO;
	}
	if (!legacy) {
		/* 3.1.1 step 5-6: FEATURES_OK, then re-read: a clear bit means refused. */
		add_status(vd, VIRTIO_STATUS_FEATURES_OK);
		if (!(vd->ops->get_status(vd) & VIRTIO_STATUS_FEATURES_OK)) {
			char names[160];
			virtio_feature_string(vd, vd->features, names, sizeof(names));
			virtio_fail(vd, "the device refused FEATURES_OK for: %s", names);
			return -EIO;
		}
	}
	return 0;
}

int virtio_config_read(struct virtio_device *vd, unsigned off, void *buf, unsigned len)
{
	return vd->ops->read_config(vd, off, buf, len);
}

/* ---- virtqueues ---- */

void virtio_notify_vq(struct virtqueue *vq)
{
	struct virtio_device *vd = virtio_vq_device(vq);
	vd->ops->notify(vd, vq->index);
}

static bool is_pow2(unsigned n)
{
	return n && !(n & (n - 1));
}

int virtio_setup_vqs(struct virtio_device *vd, unsigned n, const struct virtio_vq_spec *specs)
{
	int err = 0;
	if (n > VIRTIO_MAX_VQS)
		return -EINVAL;
	vd->nvqs = 0;
	for (unsigned i = 0; i < n; i++) {
		uint16_t max = vd->ops->queue_max(vd, i);
		unsigned size;
		if (max == 0) {
			virtio_fail(vd, "queue %u (%s) does not exist (size 0)", i, specs[i].name);
			err = -ENOENT;
			goto undo_queues;
		}
		if (vd->ops->layout == VIRTQUEUE_LAYOUT_LEGACY) {
			size = max; /* legacy: the device's size, no choice */
		} else {
			size = specs[i].size ? specs[i].size : VIRTIO_DEFAULT_QUEUE_SIZE;
			if (size > max)
				size = max;
		}
		if (!is_pow2(size) || size > VRING_MAX_NUM) {
			virtio_fail(vd, "queue %u (%s): size %u is not a power of two <= 32768", i,
				    specs[i].name, size);
			err = -EINVAL;
			goto undo_queues;
		}
		struct virtio_vq_info *info = &vd->vqs[i];
		info->vd = vd;
		info->priv = specs[i].priv;
		struct virtqueue_config cfg = {
			.name = specs[i].name,
			.index = i,
			.num = size,
			.layout = vd->ops->layout,
			.indirect = virtio_has_feature(vd, VIRTIO_RING_F_INDIRECT_DESC),
			.event_idx = virtio_has_feature(vd, VIRTIO_RING_F_EVENT_IDX),
			.indirect_max = specs[i].indirect_max,
			.notify = virtio_notify_vq,
			.callback = specs[i].callback,
			.priv = info,
		};
		if ((err = virtqueue_create(&cfg, &info->vq))) {
			virtio_fail(vd, "queue %u (%s): cannot create (%d)", i, specs[i].name, err);
			goto undo_queues;
		}
		vd->nvqs = i + 1;
	}
	if ((err = virtio_pci_setup_irqs(vd))) {
		/* virtio_fail formats into vd->error: hand it a copy of the reason, not the
		 * buffer it overwrites. */
		char why[sizeof(vd->error)];
		snprintf(why, sizeof(why), "%s", vd->error[0] ? vd->error : "failed");
		virtio_fail(vd, "interrupts/queues: %.100s", why);
		goto undo_irqs;
	}
	return 0;

undo_irqs:
	virtio_pci_free_irqs(vd);
undo_queues:
	reset(vd); /* 3.1.1 / 2.1.2: the device must not use the rings we free */
	for (unsigned i = 0; i < vd->nvqs; i++)
		virtqueue_destroy(vd->vqs[i].vq);
	vd->nvqs = 0;
	return err;
}

void virtio_device_ready(struct virtio_device *vd)
{
	add_status(vd, VIRTIO_STATUS_DRIVER_OK);
	char feats[256];
	virtio_feature_string(vd, vd->features, feats, sizeof(feats));
	virtio_log("%s: %02x:%02x.%x %s, %s transport, %s mode, irq %s; features: %s\n", vd->name,
		   vd->pci->bus, vd->pci->dev, vd->pci->fn, virtio_type_name(vd->device_type),
		   vd->ops->name, virtio_mode_name(vd->mode), virtio_irq_kind_name(vd->irq_kind),
		   feats);
	for (unsigned i = 0; i < vd->nvqs; i++) {
		struct virtio_vq_info *q = &vd->vqs[i];
		char vec[24] = "none";
		if (q->msix_entry != VIRTIO_MSI_NO_VECTOR)
			snprintf(vec, sizeof(vec), "msix %u -> %d", q->msix_entry, q->cpu_vector);
		else if (vd->irq_kind == VIRTIO_IRQ_INTX)
			snprintf(vec, sizeof(vec), "intx line %u", vd->pci->irq_line);
		virtio_log("%s:   queue %u %s: size %u, vector %s\n", vd->name, i, q->vq->name,
			   virtqueue_size(q->vq), vec);
	}
}

void virtio_abandon(struct virtio_device *vd, const char *why)
{
	unsigned long fl = virtio_lock();
	for (unsigned i = 0; i < vd->nvqs; i++)
		virtqueue_break(vd->vqs[i].vq, why);
	virtio_unlock(fl);
	virtio_fail(vd, "%s", why);
	reset(vd);
}

void virtio_teardown(struct virtio_device *vd)
{
	reset(vd); /* 2.1.2: reset before reclaiming buffers of a live queue */
	virtio_pci_free_irqs(vd);
	for (unsigned i = 0; i < vd->nvqs; i++)
		virtqueue_destroy(vd->vqs[i].vq);
	vd->nvqs = 0;
}

int virtio_bind(struct virtio_device *vd);
int virtio_bind(struct virtio_device *vd)
{
	const struct virtio_driver *drv = virtio_driver_for(vd->device_type);
	uint16_t t = vd->device_type;
	vd->mode = (t < 8 && virtio_options.mode_set_by_type[t]) ? virtio_options.mode_by_type[t]
								 : virtio_options.mode;
	if (!drv) {
		/* Reset it, so firmware's leftovers cannot DMA behind our back. */
		reset(vd);
		snprintf(vd->error, sizeof(vd->error), "no driver for device type %u", t);
		virtio_log("%s: %s type %u: no driver\n", vd->name, virtio_type_name(t), t);
		return 0;
	}
	vd->driver = drv;
	int err = drv->probe(vd);
	if (err) {
		if (!vd->failed)
			virtio_fail(vd, "%s probe failed (%d)", drv->name, err);
		virtio_teardown(vd);
	}
	return 0;
}

/* ---- interrupts and waiting ---- */

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
	if (vd->driver && vd->driver->config_changed)
		vd->driver->config_changed(vd);
	virtio_wake();
}

void virtio_poll_config(void)
{
	/* Poll mode takes no interrupts, so nothing announces a configuration change (a disk
	 * resize, a link change). Look at the ISR's config bit now and then instead: with no
	 * interrupt handler reading it, it stays set until we do (4.1.4.5). */
	static uint64_t last;
	uint64_t now = virtio_time_ns();
	if (now - last < CONFIG_POLL_NS)
		return;
	last = now;
	for (size_t i = 0; i < ndevices; i++) {
		struct virtio_device *vd = &devices[i];
		if (vd->mode != VIRTIO_MODE_POLL || !vd->ops || !vd->driver || vd->failed ||
		    !vd->nvqs)
			continue;
		if (vd->ops->read_isr(vd) & VIRTIO_ISR_CONFIG)
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
		if (virtqueue_is_broken(vq))
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
			 * landed in between is not slept through (the lost wake-up race). */
			if (!virtqueue_enable_cb(vq))
				break;
			virtio_idle();
			virtqueue_disable_cb(vq);
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

/* ---- names ---- */

const char *virtio_mode_name(enum virtio_mode m)
{
	return m == VIRTIO_MODE_POLL ? "poll" : m == VIRTIO_MODE_HYBRID ? "hybrid" : "irq";
}

const char *virtio_irq_kind_name(enum virtio_irq_kind k)
{
	switch (k) {
	case VIRTIO_IRQ_MSIX:
		return "msix";
	case VIRTIO_IRQ_MSIX_SHARED:
		return "msix-shared";
	case VIRTIO_IRQ_INTX:
		return "intx";
	default:
		return "none";
	}
}

const char *virtio_type_name(uint16_t type)
{
	switch (type) {
	case VIRTIO_ID_NET:
		return "virtio-net";
	case VIRTIO_ID_BLOCK:
		return "virtio-blk";
	case VIRTIO_ID_CONSOLE:
		return "virtio-console";
	case VIRTIO_ID_RNG:
		return "virtio-rng";
	default:
		return "virtio";
	}
}

static const char *generic_feature_name(unsigned bit)
{
	switch (bit) {
	case VIRTIO_F_NOTIFY_ON_EMPTY:
		return "NOTIFY_ON_EMPTY";
	case VIRTIO_F_ANY_LAYOUT:
		return "ANY_LAYOUT";
	case VIRTIO_RING_F_INDIRECT_DESC:
		return "RING_INDIRECT_DESC";
	case VIRTIO_RING_F_EVENT_IDX:
		return "RING_EVENT_IDX";
	case VIRTIO_F_VERSION_1:
		return "VERSION_1";
	case VIRTIO_F_ACCESS_PLATFORM:
		return "ACCESS_PLATFORM";
	case VIRTIO_F_RING_PACKED:
		return "RING_PACKED";
	case VIRTIO_F_IN_ORDER:
		return "IN_ORDER";
	case VIRTIO_F_ORDER_PLATFORM:
		return "ORDER_PLATFORM";
	case VIRTIO_F_SR_IOV:
		return "SR_IOV";
	case VIRTIO_F_NOTIFICATION_DATA:
		return "NOTIFICATION_DATA";
	case 30:
		return "BAD_FEATURE"; /* legacy devices offer it so drivers that accept it fail */
	case 39:
		return "NOTIF_CONFIG_DATA";
	case 40:
		return "RING_RESET";
	default:
		return NULL;
	}
}

void virtio_feature_string(const struct virtio_device *vd, uint64_t features, char *buf,
			   size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	for (unsigned bit = 0; bit < 64 && n < len; bit++) {
		if (!((features >> bit) & 1))
			continue;
		const char *name = NULL;
		if (bit < 24 && vd->driver && vd->driver->feature_names)
			name = vd->driver->feature_names[bit];
		else if (bit >= 24)
			name = generic_feature_name(bit);
		int w = name ? snprintf(buf + n, len - n, "%s%s", n ? " " : "", name)
			     : snprintf(buf + n, len - n, "%sbit%u", n ? " " : "", bit);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (!n)
		snprintf(buf, len, "(none)");
}

void virtio_describe_all(int (*out)(const char *fmt, ...))
{
	if (!ndevices)
		out("no virtio devices\n");
	for (size_t i = 0; i < ndevices; i++) {
		struct virtio_device *vd = &devices[i];
		const struct pci_dev *d = vd->pci;
		out("%s: %02x:%02x.%x %04x:%04x %s, transport %s, mode %s, irq %s%s%s\n", vd->name,
		    d->bus, d->dev, d->fn, d->vendor, d->device, virtio_type_name(vd->device_type),
		    vd->ops ? vd->ops->name : "none", virtio_mode_name(vd->mode),
		    virtio_irq_kind_name(vd->irq_kind), vd->failed ? ", FAILED" : "",
		    vd->driver ? "" : ", no driver");
		if (vd->error[0])
			out("  error: %s\n", vd->error);
		char feats[320];
		virtio_feature_string(vd, vd->device_features, feats, sizeof(feats));
		out("  offered:    %s\n", feats);
		virtio_feature_string(vd, vd->features, feats, sizeof(feats));
		out("  negotiated: %s\n", feats);
		if (vd->irq_kind == VIRTIO_IRQ_INTX)
			out("  intx: line %u, %llu interrupts, %llu not ours\n", d->irq_line,
			    (unsigned long long)vd->intx_interrupts,
			    (unsigned long long)vd->intx_spurious);
		out("  config changes: %llu\n", (unsigned long long)vd->config_changes);
		for (unsigned q = 0; q < vd->nvqs; q++) {
			const struct virtio_vq_info *qi = &vd->vqs[q];
			const struct virtqueue_stats *s = &qi->vq->stats;
			char vec[24] = "none";
			if (qi->msix_entry != VIRTIO_MSI_NO_VECTOR)
				snprintf(vec, sizeof(vec), "msix%u/%d", qi->msix_entry,
					 qi->cpu_vector);
			else if (vd->irq_kind == VIRTIO_IRQ_INTX)
				snprintf(vec, sizeof(vec), "intx");
			out("  queue %u %-8s size %-4u vector %-10s requests=%llu completed=%llu "
			    "kicks=%llu suppressed=%llu interrupts=%llu spurious=%llu indirect=%llu%s\n",
			    q, qi->vq->name ? qi->vq->name : "", virtqueue_size(qi->vq), vec,
			    (unsigned long long)s->added, (unsigned long long)s->completed,
			    (unsigned long long)s->kicks, (unsigned long long)s->kicks_suppressed,
			    (unsigned long long)s->interrupts, (unsigned long long)s->spurious,
			    (unsigned long long)s->indirect, qi->vq->broken ? " BROKEN" : "");
			if (qi->vq->broken)
				out("    broken: %s\n", qi->vq->broken_reason);
		}
		if (vd->driver && vd->driver->describe && !vd->failed)
			vd->driver->describe(vd, out);
	}
}
