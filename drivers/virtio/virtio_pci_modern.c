/*
 * The modern virtio-pci transport (VIRTIO 1.2, 4.1.4): register blocks found through vendor
 * capabilities in memory BARs, 64-bit features, per-queue addresses, notify offsets.
 */
#include "drivers/virtio/virtio_pci.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio_platform.h"
#include "drivers/virtio/virtio_pci_regs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Common-config accessors derived from the spec struct: the field decides offset and width,
 * so a register can never be accessed at the wrong size (4.1.3.1: "the driver MUST access
 * each field using the natural width"). */
#define CFG_ADDR(vd, field) ((vd)->common + offsetof(struct virtio_pci_common_cfg, field))
#define CFG_WIDTH(field)    ((int)sizeof(((struct virtio_pci_common_cfg *)0)->field))
#define cfg_rd(vd, field)   virtio_io->mmio_read(CFG_ADDR(vd, field), CFG_WIDTH(field))
#define cfg_wr(vd, field, v) virtio_io->mmio_write(CFG_ADDR(vd, field), CFG_WIDTH(field), (v))

static uint8_t get_status(struct virtio_device *vd)
{
	return (uint8_t)cfg_rd(vd, device_status);
}

static void set_status(struct virtio_device *vd, uint8_t s)
{
	cfg_wr(vd, device_status, s);
}

static uint64_t get_features(struct virtio_device *vd)
{
	cfg_wr(vd, device_feature_select, 0);
	uint64_t lo = cfg_rd(vd, device_feature);
	cfg_wr(vd, device_feature_select, 1);
	uint64_t hi = cfg_rd(vd, device_feature);
	return hi << 32 | lo;
}

static void set_features(struct virtio_device *vd, uint64_t f)
{
	cfg_wr(vd, driver_feature_select, 0);
	cfg_wr(vd, driver_feature, (uint32_t)f);
	cfg_wr(vd, driver_feature_select, 1);
	cfg_wr(vd, driver_feature, (uint32_t)(f >> 32));
}

/* 4.1.4.3.1 / 2.5.1: a read that spans fields, or a field wider than 32 bits, must be repeated
 * until config_generation is the same before and after, or a concurrent device update could
 * give us half an old value and half a new one. */
static int read_config(struct virtio_device *vd, unsigned off, void *buf, unsigned len)
{
	if (!vd->device_cfg || off + len > vd->device_cfg_len || off + len < off)
		return -EINVAL;
	uint8_t *out = buf;
	uint32_t before, after;
	int tries = 0;
	do {
		before = cfg_rd(vd, config_generation);
		for (unsigned i = 0; i < len;) {
			unsigned a = off + i;
			/* Use the widest naturally aligned access the field allows. */
			int w = (a % 4 == 0 && len - i >= 4) ? 4 : (a % 2 == 0 && len - i >= 2) ? 2 : 1;
			uint32_t v = virtio_io->mmio_read(vd->device_cfg + a, w);
			memcpy(out + i, &v, (size_t)w);
			i += (unsigned)w;
		}
		after = cfg_rd(vd, config_generation);
	} while (before != after && ++tries < 100);
	return before == after ? 0 : -EIO;
}

static uint16_t queue_max(struct virtio_device *vd, unsigned idx)
{
	if (idx >= cfg_rd(vd, num_queues))
		return 0;
	cfg_wr(vd, queue_select, idx);
	return (uint16_t)cfg_rd(vd, queue_size);
}

static int queue_set_vector(struct virtio_device *vd, unsigned idx, uint16_t entry)
{
	cfg_wr(vd, queue_select, idx);
	cfg_wr(vd, queue_msix_vector, entry);
	/* 4.1.5.1.2: read back; NO_VECTOR means the device refused it. */
	return cfg_rd(vd, queue_msix_vector) == entry ? 0 : -EIO;
}

static int queue_activate(struct virtio_device *vd, unsigned idx, struct virtqueue *vq)
{
	cfg_wr(vd, queue_select, idx);
	/* The driver may choose a smaller size than the device's maximum (4.1.4.3.2). */
	cfg_wr(vd, queue_size, virtqueue_size(vq));
	uint64_t d = virtqueue_desc_phys(vq), a = virtqueue_avail_phys(vq),
		 u = virtqueue_used_phys(vq);
	cfg_wr(vd, queue_desc_lo, (uint32_t)d);
	cfg_wr(vd, queue_desc_hi, (uint32_t)(d >> 32));
	cfg_wr(vd, queue_driver_lo, (uint32_t)a);
	cfg_wr(vd, queue_driver_hi, (uint32_t)(a >> 32));
	cfg_wr(vd, queue_device_lo, (uint32_t)u);
	cfg_wr(vd, queue_device_hi, (uint32_t)(u >> 32));

	uint16_t noff = (uint16_t)cfg_rd(vd, queue_notify_off);
	uint64_t at = (uint64_t)noff * vd->notify_mult;
	if (at + 2 > vd->notify_len) {
		virtio_log("%s: queue %u notify offset %#llx is outside the %u-byte notify window\n",
			   vd->name, idx, (unsigned long long)at, vd->notify_len);
		return -EINVAL;
	}
	vd->vqs[idx].notify_off = noff;
	/* Last: the queue is fully described before the device may use it (4.1.4.3.2). */
	cfg_wr(vd, queue_enable, 1);
	return 0;
}

static int set_config_vector(struct virtio_device *vd, uint16_t entry)
{
	cfg_wr(vd, config_msix_vector, entry);
	return cfg_rd(vd, config_msix_vector) == entry ? 0 : -EIO;
}

static void notify(struct virtio_device *vd, unsigned idx)
{
	/* 4.1.4.4: the queue's notify address; the value written is the queue index. */
	volatile uint8_t *addr = vd->notify_base + (uint64_t)vd->vqs[idx].notify_off * vd->notify_mult;
	virtio_io->mmio_write(addr, 2, idx);
}

static uint8_t read_isr(struct virtio_device *vd)
{
	return (uint8_t)virtio_io->mmio_read(vd->isr, 1);
}

const struct virtio_transport_ops virtio_pci_modern_ops = {
	.name = "modern",
	.layout = VIRTQUEUE_LAYOUT_MODERN,
	.get_status = get_status,
	.set_status = set_status,
	.get_features = get_features,
	.set_features = set_features,
	.read_config = read_config,
	.queue_max = queue_max,
	.queue_set_vector = queue_set_vector,
	.queue_activate = queue_activate,
	.set_config_vector = set_config_vector,
	.notify = notify,
	.read_isr = read_isr,
	.msix_changed = virtio_pci_msix_changed,
};

/* Read one virtio capability at config offset `at` and map its window. Returns 0, or a
 * negative errno with the reason logged (the caller ignores that capability). */
static int map_cap(struct virtio_device *vd, uint16_t at, uint8_t *type, volatile uint8_t **win,
		   uint32_t *len, uint32_t *mult)
{
	struct pci_dev *d = vd->pci;
	uint8_t cap_len = pci_cfg_read8(d, at + offsetof(struct virtio_pci_cap, cap_len));
	uint8_t bar = pci_cfg_read8(d, at + offsetof(struct virtio_pci_cap, bar));
	uint32_t off = pci_cfg_read32(d, at + offsetof(struct virtio_pci_cap, offset));
	uint32_t length = pci_cfg_read32(d, at + offsetof(struct virtio_pci_cap, length));
	*type = pci_cfg_read8(d, at + offsetof(struct virtio_pci_cap, cfg_type));

	if (*type < VIRTIO_PCI_CAP_COMMON_CFG || *type > VIRTIO_PCI_CAP_DEVICE_CFG)
		return -ENOENT; /* PCI cfg access (5) and unknown types: not used */
	if (cap_len < sizeof(struct virtio_pci_cap) ||
	    (*type == VIRTIO_PCI_CAP_NOTIFY_CFG && cap_len < sizeof(struct virtio_pci_notify_cap))) {
		virtio_log("%s: capability at %#x: cap_len %u too short, ignored\n", vd->name, at,
			   cap_len);
		return -EINVAL;
	}
	if (bar > 5) {
		virtio_log("%s: capability at %#x: BAR %u is reserved, ignored\n", vd->name, at, bar);
		return -EINVAL;
	}
	const struct pci_bar *b = &d->bar[bar];
	if ((b->type != PCI_BAR_MEM32 && b->type != PCI_BAR_MEM64) || !b->assigned) {
		virtio_log("%s: capability at %#x: BAR %u is not an assigned memory BAR, ignored\n",
			   vd->name, at, bar);
		return -EINVAL;
	}
	if (length == 0) {
		virtio_log("%s: capability at %#x: empty window (length 0), ignored\n", vd->name, at);
		return -EINVAL;
	}
	if ((uint64_t)off + length > b->size) {
		virtio_log("%s: capability at %#x: window %#x+%#x past BAR %u (size %#llx), ignored\n",
			   vd->name, at, off, length, bar, (unsigned long long)b->size);
		return -EINVAL;
	}
	if (*type == VIRTIO_PCI_CAP_COMMON_CFG && length < sizeof(struct virtio_pci_common_cfg)) {
		virtio_log("%s: common config window of %u bytes is too small, ignored\n", vd->name,
			   length);
		return -EINVAL;
	}
	void *base;
	int err = pci_bar_map(d, bar, &base);
	if (err)
		return err;
	*win = (volatile uint8_t *)base + off;
	*len = length;
	if (*type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		*mult = pci_cfg_read32(d, at + offsetof(struct virtio_pci_notify_cap,
							 notify_off_multiplier));
	return 0;
}

int virtio_pci_modern_init(struct virtio_device *vd)
{
	/* 4.1.4.1: use the first capability of each type the driver can handle. */
	for (uint16_t at = pci_find_cap(vd->pci, PCI_CAP_ID_VNDR); at;
	     at = pci_find_next_cap(vd->pci, PCI_CAP_ID_VNDR, at)) {
		uint8_t type;
		volatile uint8_t *win;
		uint32_t len = 0, mult = 0;
		if (map_cap(vd, at, &type, &win, &len, &mult))
			continue;
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			if (!vd->common)
				vd->common = win;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (!vd->notify_base) {
				vd->notify_base = win;
				vd->notify_len = len;
				/* A multiplier of 0 is legal: every queue notifies at the same
				 * address (4.1.4.4). */
				vd->notify_mult = mult;
			}
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			if (!vd->isr)
				vd->isr = win;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (!vd->device_cfg) {
				vd->device_cfg = win;
				vd->device_cfg_len = len;
			}
			break;
		}
	}
	if (!vd->common || !vd->notify_base || !vd->isr) {
		snprintf(vd->error, sizeof(vd->error),
			 "modern transport needs common, notify and ISR capabilities (have%s%s%s)",
			 vd->common ? " common" : "", vd->notify_base ? " notify" : "",
			 vd->isr ? " isr" : "");
		return -ENODEV;
	}
	vd->ops = &virtio_pci_modern_ops;
	return 0;
}
