/*
 * The legacy virtio-pci transport (VIRTIO 1.2, 4.1.4.10; virtio 0.9.5): everything in I/O
 * BAR 0, 32-bit features, one contiguous ring per queue given as a page frame number, the
 * queue size fixed by the device, no FEATURES_OK step.
 */
#include "drivers/pci/pci.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/virtio/pci/virtio_pci_dev.h"
#include "drivers/virtio/pci/virtio_pci_regs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define REG(field)       ((uint16_t)offsetof(struct virtio_pci_legacy_regs, field))
#define REG_WIDTH(field) ((int)sizeof(((struct virtio_pci_legacy_regs *)0)->field))
#define rd(pd, field)    virtio_pio_read((uint16_t)((pd)->io_base + REG(field)), REG_WIDTH(field))
#define wr(pd, field, v)                                                                          \
	virtio_pio_write((uint16_t)((pd)->io_base + REG(field)), REG_WIDTH(field), (v))

static uint8_t get_status(struct virtio_device *vd)
{
	return (uint8_t)rd(to_vpci(vd), status);
}

static void set_status(struct virtio_device *vd, uint8_t s)
{
	wr(to_vpci(vd), status, s);
}

/* One bank: the legacy feature registers are 32 bits wide (the core asks for bank 0 only). */
static uint32_t get_features(struct virtio_device *vd, unsigned bank)
{
	(void)bank;
	return rd(to_vpci(vd), host_features);
}

static void set_features(struct virtio_device *vd, unsigned bank, uint32_t bits)
{
	(void)bank;
	wr(to_vpci(vd), guest_features, bits);
}

/* The device-specific config starts after the vector registers when MSI-X is on. Legacy has
 * no generation counter; multi-byte fields are read as the guest's native (little) endian. */
static int read_config(struct virtio_device *vd, unsigned off, void *buf, unsigned len)
{
	struct virtio_pci_dev *pd = to_vpci(vd);
	unsigned base = pd->msix_on ? VIRTIO_PCI_LEGACY_CONFIG_OFF_MSIX : VIRTIO_PCI_LEGACY_CONFIG_OFF;
	if (base + off + len > pd->io_len || off + len < off)
		return -EINVAL;
	uint8_t *out = buf;
	for (unsigned i = 0; i < len; i++)
		out[i] = (uint8_t)virtio_pio_read((uint16_t)(pd->io_base + base + off + i), 1);
	return 0;
}

static uint16_t queue_max(struct virtio_device *vd, unsigned idx)
{
	struct virtio_pci_dev *pd = to_vpci(vd);
	wr(pd, queue_sel, idx);
	return (uint16_t)rd(pd, queue_num);
}

static int queue_set_vector(struct virtio_pci_dev *pd, unsigned idx, uint16_t entry)
{
	wr(pd, queue_sel, idx);
	wr(pd, queue_vector, entry);
	return rd(pd, queue_vector) == entry ? 0 : -EIO;
}

static int queue_activate(struct virtio_device *vd, unsigned idx, struct virtqueue *vq)
{
	struct virtio_pci_dev *pd = to_vpci(vd);
	wr(pd, queue_sel, idx);
	if (virtqueue_size(vq) != rd(pd, queue_num))
		return -EINVAL; /* legacy: the driver must use the device's size */
	uint64_t pfn = virtqueue_legacy_pfn(vq);
	if (pfn > UINT32_MAX) { /* the register is 32 bits: rings must lie below 16 TiB */
		virtio_set_error(vd, "queue %u: the ring's PFN %#llx does not fit the legacy 32-bit "
				 "register", idx, (unsigned long long)pfn);
		return -EINVAL;
	}
	/* Writing the PFN is what activates the queue. */
	wr(pd, queue_pfn, (uint32_t)pfn);
	return 0;
}

static int set_config_vector(struct virtio_pci_dev *pd, uint16_t entry)
{
	wr(pd, config_vector, entry);
	return rd(pd, config_vector) == entry ? 0 : -EIO;
}

static void notify(struct virtio_device *vd, unsigned idx)
{
	wr(to_vpci(vd), queue_notify, idx);
}

static uint8_t read_isr(struct virtio_pci_dev *pd)
{
	return (uint8_t)rd(pd, isr);
}

static const struct virtio_transport_ops legacy_ops = {
	.name = "legacy",
	.legacy = true,
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

static const struct virtio_pci_irq_regs legacy_irq_regs = {
	.read_isr = read_isr,
	.queue_set_vector = queue_set_vector,
	.set_config_vector = set_config_vector,
};

int virtio_pci_legacy_init(struct virtio_pci_dev *pd, char *why, size_t len)
{
	const struct pci_bar *b = &pd->pci->bar[0];
	if (b->type != PCI_BAR_IO || !b->assigned || b->size < VIRTIO_PCI_LEGACY_CONFIG_OFF) {
		snprintf(why, len, "legacy transport needs an assigned I/O BAR 0 of at least %d ports",
			 VIRTIO_PCI_LEGACY_CONFIG_OFF);
		return -ENODEV;
	}
	pd->io_base = (uint16_t)b->addr;
	pd->io_len = (uint16_t)b->size;
	pd->vd.ops = &legacy_ops;
	pd->irq_regs = &legacy_irq_regs;
	return 0;
}
