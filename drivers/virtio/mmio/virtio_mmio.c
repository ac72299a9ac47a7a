/*
 * The virtio-mmio transport (VIRTIO 1.2, 4.2): a register block in memory, version 2 (modern)
 * or version 1 (legacy: QueuePFN, GuestPageSize, the 4096-aligned ring layout), one interrupt
 * line with InterruptStatus/InterruptACK, and the device-specific configuration at 0x100.
 */
#include "drivers/virtio/mmio/virtio_mmio.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/virtio/core/virtio_transport.h"
#include "drivers/virtio/mmio/virtio_mmio_regs.h"
#include "drivers/virtio/ring/virtio_ring.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_MMIO_DEVICES 32
/* The interrupt handler looks again after acknowledging, at most this often per interrupt: a
 * device that keeps raising status cannot hold the CPU. */
#define MAX_IRQ_PASSES 16

struct virtio_mmio_dev {
	struct virtio_device vd; /* first: the core's view (to_vmmio undoes it) */
	volatile uint8_t *base;
	uint64_t phys, size;
	uint32_t version;
	uint32_t irq;
	bool irq_level, irq_active_low;
	bool irq_attached; /* the line's handler is registered (it stays: lines have no detach) */
	bool irq_on;       /* between setup_irqs and free_irqs: the handler serves this device */
	uint64_t interrupts, spurious;
};

static struct virtio_mmio_dev mmio_devs[MAX_MMIO_DEVICES];
static unsigned nmmio_devs;

static struct virtio_mmio_dev *to_vmmio(const struct virtio_device *vd)
{
	return (struct virtio_mmio_dev *)((const char *)vd -
					  offsetof(struct virtio_mmio_dev, vd));
}

/* Control registers: one aligned 32-bit access each (4.2.2.2). */
#define REG(field) offsetof(struct virtio_mmio_regs, field)
#define rd(md, field) virtio_reg_read((md)->base + REG(field), 4)
#define wr(md, field, v) virtio_reg_write((md)->base + REG(field), 4, (v))

/* ---- status, features, configuration ---- */

static uint8_t get_status(struct virtio_device *vd)
{
	return (uint8_t)rd(to_vmmio(vd), status);
}

static void set_status(struct virtio_device *vd, uint8_t s)
{
	wr(to_vmmio(vd), status, s);
}

static uint32_t get_features(struct virtio_device *vd, unsigned bank)
{
	struct virtio_mmio_dev *md = to_vmmio(vd);
	wr(md, device_features_sel, bank); /* 4.2.2.2: select, then read */
	return rd(md, device_features);
}

static void set_features(struct virtio_device *vd, unsigned bank, uint32_t bits)
{
	struct virtio_mmio_dev *md = to_vmmio(vd);
	wr(md, driver_features_sel, bank);
	wr(md, driver_features, bits);
}

/* Each field at its own width: a field of 1, 2 or 4 bytes in one access, 8 bytes as two
 * 32-bit halves, anything else (a MAC address) byte by byte (4.2.2.2). */
static void read_fields(struct virtio_mmio_dev *md, unsigned off, uint8_t *out, unsigned len)
{
	volatile uint8_t *cfg = md->base + VIRTIO_MMIO_CONFIG + off;
	if ((len == 1 || len == 2 || len == 4) && off % len == 0) {
		uint32_t v = virtio_reg_read(cfg, (int)len);
		memcpy(out, &v, len);
	} else if (len == 8 && off % 4 == 0) {
		uint32_t lo = virtio_reg_read(cfg, 4), hi = virtio_reg_read(cfg + 4, 4);
		memcpy(out, &lo, 4);
		memcpy(out + 4, &hi, 4);
	} else {
		for (unsigned i = 0; i < len; i++)
			out[i] = (uint8_t)virtio_reg_read(cfg + i, 1);
	}
}

static int read_config(struct virtio_device *vd, unsigned off, void *buf, unsigned len)
{
	struct virtio_mmio_dev *md = to_vmmio(vd);
	if (off + len < off || VIRTIO_MMIO_CONFIG + off + len > md->size)
		return -EINVAL;
	if (md->version == VIRTIO_MMIO_VERSION_LEGACY) {
		read_fields(md, off, buf, len); /* no generation counter in version 1 */
		return 0;
	}
	/* 4.2.2.2 / 2.5.1: repeat until ConfigGeneration reads the same before and after. */
	for (int tries = 0; tries < 100; tries++) {
		uint32_t before = rd(md, config_generation);
		read_fields(md, off, buf, len);
		if (rd(md, config_generation) == before)
			return 0;
	}
	return -EIO;
}

/* ---- queues ---- */

static uint16_t queue_max(struct virtio_device *vd, unsigned idx)
{
	struct virtio_mmio_dev *md = to_vmmio(vd);
	if (md->version == VIRTIO_MMIO_VERSION_LEGACY)
		/* 4.2.4: the PFN unit, before any queue is set up (after the reset). */
		wr(md, guest_page_size, VRING_LEGACY_ALIGN);
	wr(md, queue_sel, idx);
	/* 4.2.3.2: the queue must not be in use (modern: QueueReady 0; legacy: QueuePFN 0). */
	uint32_t busy = md->version == VIRTIO_MMIO_VERSION_LEGACY ? rd(md, queue_pfn)
								     : rd(md, queue_ready);
	if (busy) {
		virtio_set_error(vd, "queue %u is already in use after the reset", idx);
		return 0;
	}
	uint32_t max = rd(md, queue_num_max);
	return max > VRING_MAX_NUM ? VRING_MAX_NUM : (uint16_t)max;
}

static int queue_activate(struct virtio_device *vd, unsigned idx, struct virtqueue *vq)
{
	struct virtio_mmio_dev *md = to_vmmio(vd);
	wr(md, queue_sel, idx);
	wr(md, queue_num, virtqueue_size(vq));
	if (md->version == VIRTIO_MMIO_VERSION_LEGACY) {
		/* 4.2.4: the used ring on a QueueAlign boundary, the ring given in GuestPageSize
		 * units (both 4096: the legacy layout); writing QueuePFN activates the queue. */
		uint64_t pfn = virtqueue_legacy_pfn(vq);
		if (pfn == 0 || pfn > UINT32_MAX) {
			virtio_set_error(vd, "queue %u: the ring's PFN %#llx does not fit the 32-bit "
					 "QueuePFN", idx, (unsigned long long)pfn);
			return -EINVAL;
		}
		wr(md, queue_align, VRING_LEGACY_ALIGN);
		wr(md, queue_pfn, (uint32_t)pfn);
		return 0;
	}
	uint64_t d = virtqueue_desc_phys(vq), a = virtqueue_avail_phys(vq),
		 u = virtqueue_used_phys(vq);
	wr(md, queue_desc_low, (uint32_t)d);
	wr(md, queue_desc_high, (uint32_t)(d >> 32));
	wr(md, queue_driver_low, (uint32_t)a);
	wr(md, queue_driver_high, (uint32_t)(a >> 32));
	wr(md, queue_device_low, (uint32_t)u);
	wr(md, queue_device_high, (uint32_t)(u >> 32));
	/* Last: the queue is fully described before the device may use it (4.2.3.2). */
	wr(md, queue_ready, 1);
	return 0;
}

static void notify(struct virtio_device *vd, unsigned idx)
{
	/* 4.2.3.3: the queue index, written to QueueNotify. */
	wr(to_vmmio(vd), queue_notify, idx);
}

/* ---- interrupts ---- */

/* The line's handler. Acknowledge first, then serve: a completion that lands after the ack
 * raises the line again, so with an edge-triggered line nothing is lost; and look again after
 * serving, for what arrived while we did. */
static bool irq_handler(void *ctx)
{
	struct virtio_mmio_dev *md = ctx;
	struct virtio_device *vd = &md->vd;
	bool ours = false;
	if (!md->irq_on)
		return false;
	for (int pass = 0; pass < MAX_IRQ_PASSES; pass++) {
		uint32_t st = rd(md, interrupt_status) & (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
		if (!st)
			break;
		ours = true;
		wr(md, interrupt_ack, st); /* exactly the bits about to be handled */
		if (st & VIRTIO_MMIO_INT_VRING)
			for (unsigned i = 0; i < vd->nvqs; i++)
				virtio_service_vq_irq(vd, vd->vqs[i].vq);
		if (st & VIRTIO_MMIO_INT_CONFIG)
			virtio_service_config_irq(vd);
	}
	if (ours)
		md->interrupts++;
	else
		md->spurious++;
	return ours;
}

static int setup_irqs(struct virtio_device *vd)
{
	struct virtio_mmio_dev *md = to_vmmio(vd);
	vd->irq_kind = VIRTIO_IRQ_NONE;
	if (vd->mode == VIRTIO_MODE_POLL)
		return 0; /* the device still raises its line; nobody listens */
	if (!md->irq_attached) {
		int err = virtio_irq_line_attach(md->irq, md->irq_level, md->irq_active_low,
						 irq_handler, md);
		if (err) {
			virtio_set_error(vd, "cannot attach interrupt line %u (%d)", md->irq, err);
			return err;
		}
		md->irq_attached = true;
	}
	md->irq_on = true;
	vd->irq_kind = VIRTIO_IRQ_LINE;
	return 0;
}

static void free_irqs(struct virtio_device *vd)
{
	to_vmmio(vd)->irq_on = false; /* the handler stays on the line, but ignores it */
	vd->irq_kind = VIRTIO_IRQ_NONE;
}

static bool config_pending(struct virtio_device *vd)
{
	struct virtio_mmio_dev *md = to_vmmio(vd);
	if (!(rd(md, interrupt_status) & VIRTIO_MMIO_INT_CONFIG))
		return false;
	wr(md, interrupt_ack, VIRTIO_MMIO_INT_CONFIG);
	return true;
}

/* ---- what the logs say ---- */

static void location(const struct virtio_device *vd, bool verbose, char *buf, size_t len)
{
	const struct virtio_mmio_dev *md = to_vmmio(vd);
	if (verbose)
		snprintf(buf, len, "mmio@%#llx gsi:%u", (unsigned long long)md->phys, md->irq);
	else
		snprintf(buf, len, "mmio@%#llx", (unsigned long long)md->phys);
}

static const char *irq_name(const struct virtio_device *vd)
{
	return vd->irq_kind == VIRTIO_IRQ_LINE ? "line" : "none";
}

static void describe_queue(const struct virtio_device *vd, unsigned q, bool verbose, char *buf,
			   size_t len)
{
	(void)q;
	const struct virtio_mmio_dev *md = to_vmmio(vd);
	if (vd->irq_kind != VIRTIO_IRQ_LINE)
		snprintf(buf, len, "none");
	else if (verbose)
		snprintf(buf, len, "line %u (%s, active %s)", md->irq, md->irq_level ? "level" : "edge",
			 md->irq_active_low ? "low" : "high");
	else
		snprintf(buf, len, "gsi%u", md->irq);
}

static void describe(const struct virtio_device *vd, int (*out)(const char *fmt, ...))
{
	const struct virtio_mmio_dev *md = to_vmmio(vd);
	out("  mmio: version %u, %llu-byte window, line %u %s: %llu interrupts, %llu not ours\n",
	    md->version, (unsigned long long)md->size, md->irq, md->irq_level ? "level" : "edge",
	    (unsigned long long)md->interrupts, (unsigned long long)md->spurious);
}

#define MMIO_COMMON_OPS                                                                           \
	.reset = virtio_status_reset, .get_status = get_status, .set_status = set_status,         \
	.get_features = get_features, .set_features = set_features, .read_config = read_config,   \
	.queue_max = queue_max, .queue_activate = queue_activate, .notify = notify,               \
	.setup_irqs = setup_irqs, .free_irqs = free_irqs, .config_pending = config_pending,       \
	.location = location, .irq_name = irq_name, .describe_queue = describe_queue,             \
	.describe = describe

static const struct virtio_transport_ops modern_ops = {
	.name = "modern",
	.legacy = false,
	MMIO_COMMON_OPS,
};

static const struct virtio_transport_ops legacy_ops = {
	.name = "legacy",
	.legacy = true,
	MMIO_COMMON_OPS,
};

/* ---- discovery ---- */

int virtio_mmio_add(const struct virtio_mmio_window *w)
{
	char where[32];
	snprintf(where, sizeof(where), "virtio-mmio@%#llx", (unsigned long long)w->phys);
	if (w->size < VIRTIO_MMIO_CONFIG) {
		virtio_log("%s: a %llu-byte window cannot hold the registers (%s); ignored\n", where,
			   (unsigned long long)w->size, w->source);
		return -EINVAL;
	}
	/* 4.2.3.1.1: magic, version and device id before anything else. */
	uint32_t magic = virtio_reg_read(w->base + REG(magic_value), 4);
	if (magic != VIRTIO_MMIO_MAGIC) {
		virtio_log("%s: magic %#x is not \"virt\" (%s); ignored\n", where, magic, w->source);
		return -EINVAL;
	}
	uint32_t version = virtio_reg_read(w->base + REG(version), 4);
	if (version != VIRTIO_MMIO_VERSION_LEGACY && version != VIRTIO_MMIO_VERSION_MODERN) {
		virtio_log("%s: version %u is neither 1 (legacy) nor 2 (modern) (%s); ignored\n",
			   where, version, w->source);
		return -EINVAL;
	}
	uint32_t id = virtio_reg_read(w->base + REG(device_id), 4);
	if (id == 0)
		return 0; /* an empty slot: touch nothing else, report nothing (4.2.3.1.1) */
	if (nmmio_devs == MAX_MMIO_DEVICES)
		return -ENOSPC;
	struct virtio_mmio_dev *md = &mmio_devs[nmmio_devs++];
	memset(md, 0, sizeof(*md));
	md->base = w->base;
	md->phys = w->phys;
	md->size = w->size;
	md->version = version;
	md->irq = w->irq;
	md->irq_level = w->irq_level;
	md->irq_active_low = w->irq_active_low;
	struct virtio_device *vd = &md->vd;
	vd->device_type = (uint16_t)id;
	snprintf(vd->name, sizeof(vd->name), "mmio@%llx", (unsigned long long)w->phys);
	vd->ops = version == VIRTIO_MMIO_VERSION_LEGACY ? &legacy_ops : &modern_ops;
	return virtio_device_add(vd);
}
