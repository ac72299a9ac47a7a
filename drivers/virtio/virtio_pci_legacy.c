/*
 * The legacy virtio-pci transport (VIRTIO 1.2, 4.1.4.10; virtio 0.9.5): everything in I/O
 * BAR 0, 32-bit features, one contiguous ring per queue given as a page frame number, the
 * queue size fixed by the device, no FEATURES_OK step.
 */
#include "drivers/virtio/virtio_pci.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio_platform.h"
#include "drivers/virtio/virtio_pci_regs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define REG(field)       ((uint16_t)offsetof(struct virtio_pci_legacy_regs, field))
#define REG_WIDTH(field) ((int)sizeof(((struct virtio_pci_legacy_regs *)0)->field))
#define rd(vd, field)    virtio_io->pio_read((uint16_t)((vd)->io_base + REG(field)), REG_WIDTH(field))
#define wr(vd, field, v)                                                                          \
	virtio_io->pio_write((uint16_t)((vd)->io_base + REG(field)), REG_WIDTH(field), (v))

static uint8_t get_status(struct virtio_device *vd)
{
	return (uint8_t)rd(vd, status);
}

static void set_status(struct virtio_device *vd, uint8_t s)
{
	wr(vd, status, s);
}

static uint64_t get_features(struct virtio_device *vd)
{
	return rd(vd, host_features);
}

static void set_features(struct virtio_device *vd, uint64_t f)
{
	wr(vd, guest_features, (uint32_t)f);
}

/* The device-specific config starts after the vector registers when MSI-X is on. Legacy has
 * no generation counter; multi-byte fields are read as the guest's native (little) endian. */
static int read_config(struct virtio_device *vd, unsigned off, void *buf, unsigned len)
{
	unsigned base = vd->msix_on ? VIRTIO_PCI_LEGACY_CONFIG_OFF_MSIX : VIRTIO_PCI_LEGACY_CONFIG_OFF;
	if (base + off + len > vd->io_len || off + len < off)
		return -EINVAL;
	uint8_t *out = buf;
	for (unsigned i = 0; i < len; i++)
		out[i] = (uint8_t)virtio_io->pio_read((uint16_t)(vd->io_base + base + off + i), 1);
	return 0;
}

static uint16_t queue_max(struct virtio_device *vd, unsigned idx)
{
	wr(vd, queue_sel, idx);
	return (uint16_t)rd(vd, queue_num);
}

static int queue_set_vector(struct virtio_device *vd, unsigned idx, uint16_t entry)
{
	wr(vd, queue_sel, idx);
	wr(vd, queue_vector, entry);
	return rd(vd, queue_vector) == entry ? 0 : -EIO;
}

static int queue_activate(struct virtio_device *vd, unsigned idx, struct virtqueue *vq)
{
	wr(vd, queue_sel, idx);
	if (virtqueue_size(vq) != rd(vd, queue_num))
		return -EINVAL; /* legacy: the driver must use the device's size */
	uint64_t pfn = virtqueue_legacy_pfn(vq);
	if (pfn > UINT32_MAX)
		return -EINVAL; /* the register is 32 bits: rings must lie below 16 TiB */
	/* Writing the PFN is what activates the queue. */
	wr(vd, queue_pfn, (uint32_t)pfn);
	return 0;
}

static int set_config_vector(struct virtio_device *vd, uint16_t entry)
{
	wr(vd, config_vector, entry);
	return rd(vd, config_vector) == entry ? 0 : -EIO;
}

static void notify(struct virtio_device *vd, unsigned idx)
{
	wr(vd, queue_notify, idx);
}

static uint8_t read_isr(struct virtio_device *vd)
{
	return (uint8_t)rd(vd, isr);
}

const struct virtio_transport_ops virtio_pci_legacy_ops = {
	.name = "legacy",
	.layout = VIRTQUEUE_LAYOUT_LEGACY,
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

int virtio_pci_legacy_init(struct virtio_device *vd)
{
	const struct pci_bar *b = &vd->pci->bar[0];
	if (b->type != PCI_BAR_IO || !b->assigned || b->size < VIRTIO_PCI_LEGACY_CONFIG_OFF) {
		snprintf(vd->error, sizeof(vd->error),
			 "legacy transport needs an assigned I/O BAR 0 of at least %d ports",
			 VIRTIO_PCI_LEGACY_CONFIG_OFF);
		return -ENODEV;
	}
	vd->io_base = (uint16_t)b->addr;
	vd->io_len = (uint16_t)b->size;
	vd->ops = &virtio_pci_legacy_ops;
	return 0;
}
