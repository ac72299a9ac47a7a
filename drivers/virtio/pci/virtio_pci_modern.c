/*
 * The modern virtio-pci transport (VIRTIO 1.2, 4.1.4): register blocks found through vendor
 * capabilities in memory BARs, 64-bit features, per-queue addresses, notify offsets.
 */
#include "drivers/pci/pci.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/virtio/pci/virtio_pci_dev.h"
#include "drivers/virtio/pci/virtio_pci_regs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Common-config accessors derived from the spec struct: the field decides offset and width,
 * so a register can never be accessed at the wrong size (4.1.3.1: "the driver MUST access
 * each field using the natural width"). */
#define CFG_ADDR(pd, field) ((pd)->common + offsetof(struct virtio_pci_common_cfg, field))
#define CFG_WIDTH(field)    ((int)sizeof(((struct virtio_pci_common_cfg *)0)->field))
#define cfg_rd(pd, field)   virtio_reg_read(CFG_ADDR(pd, field), CFG_WIDTH(field))
#define cfg_wr(pd, field, v) virtio_reg_write(CFG_ADDR(pd, field), CFG_WIDTH(field), (v))

static uint8_t get_status(struct virtio_device *vd)
{
	return (uint8_t)cfg_rd(to_vpci(vd), device_status);
}

static void set_status(struct virtio_device *vd, uint8_t s)
{
	cfg_wr(to_vpci(vd), device_status, s);
}

static uint32_t get_features(struct virtio_device *vd, unsigned bank)
{
	struct virtio_pci_dev *pd = to_vpci(vd);
	cfg_wr(pd, device_feature_select, bank);
	return cfg_rd(pd, device_feature);
}

static void set_features(struct virtio_device *vd, unsigned bank, uint32_t bits)
{
	struct virtio_pci_dev *pd = to_vpci(vd);
	cfg_wr(pd, driver_feature_select, bank);
	cfg_wr(pd, driver_feature, bits);
}

/* 4.1.4.3.1 / 2.5.1: a read that spans fields, or a field wider than 32 bits, must be repeated
 * until config_generation is the same before and after, or a concurrent device update could
 * give us half an old value and half a new one. */
static int read_config(struct virtio_device *vd, unsigned off, void *buf, unsigned len)
{
	struct virtio_pci_dev *pd = to_vpci(vd);
	if (!pd->device_cfg || off + len > pd->device_cfg_len || off + len < off)
		return -EINVAL;
	uint8_t *out = buf;
	uint32_t before, after;
	int tries = 0;
	do {
		before = cfg_rd(pd, config_generation);
		for (unsigned i = 0; i < len;) {
			unsigned a = off + i;
			/* Use the widest naturally aligned access the field allows. */
			int w = (a % 4 == 0 && len - i >= 4) ? 4 : (a % 2 == 0 && len - i >= 2) ? 2 : 1;
			uint32_t v = virtio_reg_read(pd->device_cfg + a, w);
			memcpy(out + i, &v, (size_t)w);
			i += (unsigned)w;
		}
		after = cfg_rd(pd, config_generation);
	} while (before != after && ++tries < 100);
	return before == after ? 0 : -EIO;
}

static uint16_t queue_max(struct virtio_device *vd, unsigned idx)
{
	struct virtio_pci_dev *pd = to_vpci(vd);
	if (idx >= cfg_rd(pd, num_queues))
		return 0;
	cfg_wr(pd, queue_select, idx);
	return (uint16_t)cfg_rd(pd, queue_size);
}

static int queue_set_vector(struct virtio_pci_dev *pd, unsigned idx, uint16_t entry)
{
	cfg_wr(pd, queue_select, idx);
	cfg_wr(pd, queue_msix_vector, entry);
	/* 4.1.5.1.2: read back; NO_VECTOR means the device refused it. */
	return cfg_rd(pd, queue_msix_vector) == entry ? 0 : -EIO;
}

static int queue_activate(struct virtio_device *vd, unsigned idx, struct virtqueue *vq)
{
	struct virtio_pci_dev *pd = to_vpci(vd);
	cfg_wr(pd, queue_select, idx);
	/* The driver may choose a smaller size than the device's maximum (4.1.4.3.2). */
	cfg_wr(pd, queue_size, virtqueue_size(vq));
	uint64_t d = virtqueue_desc_phys(vq), a = virtqueue_avail_phys(vq),
		 u = virtqueue_used_phys(vq);
	cfg_wr(pd, queue_desc_lo, (uint32_t)d);
	cfg_wr(pd, queue_desc_hi, (uint32_t)(d >> 32));
	cfg_wr(pd, queue_driver_lo, (uint32_t)a);
	cfg_wr(pd, queue_driver_hi, (uint32_t)(a >> 32));
	cfg_wr(pd, queue_device_lo, (uint32_t)u);
	cfg_wr(pd, queue_device_hi, (uint32_t)(u >> 32));

	uint16_t noff = (uint16_t)cfg_rd(pd, queue_notify_off);
	uint64_t at = (uint64_t)noff * pd->notify_mult;
	if (at + 2 > pd->notify_len) {
		virtio_set_error(vd, "queue %u notify offset %#llx is outside the %u-byte notify window",
				 idx, (unsigned long long)at, pd->notify_len);
		return -EINVAL;
	}
	pd->q[idx].notify_off = noff;
	/* Last: the queue is fully described before the device may use it (4.1.4.3.2). */
	cfg_wr(pd, queue_enable, 1);
	return 0;
}

static int set_config_vector(struct virtio_pci_dev *pd, uint16_t entry)
{
	cfg_wr(pd, config_msix_vector, entry);
	return cfg_rd(pd, config_msix_vector) == entry ? 0 : -EIO;
}

static void notify(struct virtio_device *vd, unsigned idx)
{
	struct virtio_pci_dev *pd = to_vpci(vd);
	/* 4.1.4.4: the queue's notify address; the value written is the queue index. */
	volatile uint8_t *addr = pd->notify_base + (uint64_t)pd->q[idx].notify_off * pd->notify_mult;
	virtio_reg_write(addr, 2, idx);
}

static uint8_t read_isr(struct virtio_pci_dev *pd)
{
	return (uint8_t)virtio_reg_read(pd->isr, 1);
}

static const struct virtio_transport_ops modern_ops = {
	.name = "modern",
	.legacy = false,
	.get_status = get_status,
	.set_status = set_status,
	.get_features = get_features,
	.set_features = set_features,
	.read_config = read_config,
	.queue_max = queue_max,
	.queue_activate = queue_activate,
	.notify = notify,
	VIRTIO_PCI_COMMON_OPS,
};

static const struct virtio_pci_irq_regs modern_irq_regs = {
	.read_isr = read_isr,
	.queue_set_vector = queue_set_vector,
	.set_config_vector = set_config_vector,
};

/* Read one virtio capability at config offset `at` and map its window. Returns 0, or a
 * negative errno with the reason logged (the caller ignores that capability). */
static int map_cap(struct virtio_pci_dev *pd, uint16_t at, uint8_t *type, volatile uint8_t **win,
		   uint32_t *len, uint32_t *mult)
{
	struct pci_dev *d = pd->pci;
	const char *name = pd->vd.name;
	uint8_t cap_len = pci_cfg_read8(d, at + offsetof(struct virtio_pci_cap, cap_len));
	uint8_t bar = pci_cfg_read8(d, at + offsetof(struct virtio_pci_cap, bar));
	uint32_t off = pci_cfg_read32(d, at + offsetof(struct virtio_pci_cap, offset));
	uint32_t length = pci_cfg_read32(d, at + offsetof(struct virtio_pci_cap, length));
	*type = pci_cfg_read8(d, at + offsetof(struct virtio_pci_cap, cfg_type));

	if (*type < VIRTIO_PCI_CAP_COMMON_CFG || *type > VIRTIO_PCI_CAP_DEVICE_CFG)
		return -ENOENT; /* PCI cfg access (5) and unknown types: not used */
	if (cap_len < sizeof(struct virtio_pci_cap) ||
	    (*type == VIRTIO_PCI_CAP_NOTIFY_CFG && cap_len < sizeof(struct virtio_pci_notify_cap))) {
		virtio_log("%s: capability at %#x: cap_len %u too short, ignored\n", name, at,
			   cap_len);
		return -EINVAL;
	}
	if (bar > 5) {
		virtio_log("%s: capability at %#x: BAR %u is reserved, ignored\n", name, at, bar);
		return -EINVAL;
	}
	const struct pci_bar *b = &d->bar[bar];
	if ((b->type != PCI_BAR_MEM32 && b->type != PCI_BAR_MEM64) || !b->assigned) {
		virtio_log("%s: capability at %#x: BAR %u is not an assigned memory BAR, ignored\n",
			   name, at, bar);
		return -EINVAL;
	}
	if (length == 0) {
		virtio_log("%s: capability at %#x: empty window (length 0), ignored\n", name, at);
		return -EINVAL;
	}
	if ((uint64_t)off + length > b->size) {
		virtio_log("%s: capability at %#x: window %#x+%#x past BAR %u (size %#llx), ignored\n",
			   name, at, off, length, bar, (unsigned long long)b->size);
		return -EINVAL;
	}
	if (*type == VIRTIO_PCI_CAP_COMMON_CFG && length < sizeof(struct virtio_pci_common_cfg)) {
		virtio_log("%s: common config window of %u bytes is too small, ignored\n", name,
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

int virtio_pci_modern_init(struct virtio_pci_dev *pd, char *why, size_t len)
{
	/* 4.1.4.1: use the first capability of each type the driver can handle. */
	for (uint16_t at = pci_find_cap(pd->pci, PCI_CAP_ID_VNDR); at;
	     at = pci_find_next_cap(pd->pci, PCI_CAP_ID_VNDR, at)) {
		uint8_t type;
		volatile uint8_t *win;
		uint32_t wlen = 0, mult = 0;
		if (map_cap(pd, at, &type, &win, &wlen, &mult))
			continue;
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			if (!pd->common)
				pd->common = win;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (!pd->notify_base) {
				pd->notify_base = win;
				pd->notify_len = wlen;
				/* A multiplier of 0 is legal: every queue notifies at the same
				 * address (4.1.4.4). */
				pd->notify_mult = mult;
			}
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			if (!pd->isr)
				pd->isr = win;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (!pd->device_cfg) {
				pd->device_cfg = win;
				pd->device_cfg_len = wlen;
			}
			break;
		}
	}
	if (!pd->common || !pd->notify_base || !pd->isr) {
		snprintf(why, len, "modern transport needs common, notify and ISR capabilities (have%s%s%s)",
			 pd->common ? " common" : "", pd->notify_base ? " notify" : "",
			 pd->isr ? " isr" : "");
		return -ENODEV;
	}
	pd->vd.ops = &modern_ops;
	pd->irq_regs = &modern_irq_regs;
	return 0;
}
