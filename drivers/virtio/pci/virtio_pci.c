/*
 * virtio over PCI: finding the devices (4.1.2 "PCI Device Discovery"), choosing the modern or
 * the legacy interface, and the ops both interfaces share (what the logs say about a device).
 */
#include "drivers/virtio/pci/virtio_pci.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/virtio/pci/virtio_pci_priv.h"
#include "drivers/virtio/pci/virtio_pci_regs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_PCI_DEVICES 16

struct virtio_pci_options virtio_pci_options;

static struct virtio_pci_dev pci_devs[MAX_PCI_DEVICES];
static unsigned npci_devs;

/* ---- what the logs say ---- */

void virtio_pci_location(const struct virtio_device *vd, bool verbose, char *buf, size_t len)
{
	const struct pci_dev *d = to_vpci(vd)->pci;
	if (verbose)
		snprintf(buf, len, "%02x:%02x.%x %04x:%04x", d->bus, d->dev, d->fn, d->vendor,
			 d->device);
	else
		snprintf(buf, len, "%02x:%02x.%x", d->bus, d->dev, d->fn);
}

const char *virtio_pci_irq_name(const struct virtio_device *vd)
{
	switch (vd->irq_kind) {
	case VIRTIO_IRQ_PER_QUEUE:
		return "msix";
	case VIRTIO_IRQ_SHARED:
		return "msix-shared";
	case VIRTIO_IRQ_LINE:
		return "intx";
	default:
		return "none";
	}
}

void virtio_pci_describe_queue(const struct virtio_device *vd, unsigned q, bool verbose, char *buf,
			       size_t len)
{
	const struct virtio_pci_dev *pd = to_vpci(vd);
	if (pd->q[q].msix_entry != VIRTIO_MSI_NO_VECTOR)
		snprintf(buf, len, verbose ? "msix %u -> %d" : "msix%u/%d", pd->q[q].msix_entry,
			 pd->q[q].cpu_vector);
	else if (vd->irq_kind == VIRTIO_IRQ_LINE && verbose)
		snprintf(buf, len, "intx line %u", pd->pci->irq_line);
	else
		snprintf(buf, len, vd->irq_kind == VIRTIO_IRQ_LINE ? "intx" : "none");
}

void virtio_pci_describe(const struct virtio_device *vd, int (*out)(const char *fmt, ...))
{
	const struct virtio_pci_dev *pd = to_vpci(vd);
	if (vd->irq_kind == VIRTIO_IRQ_LINE)
		out("  intx: line %u, %llu interrupts, %llu not ours\n", pd->pci->irq_line,
		    (unsigned long long)pd->intx_interrupts, (unsigned long long)pd->intx_spurious);
}

/* ---- discovery ---- */

/* A function with no interface we can drive is still listed, with its reason. */
static const struct virtio_transport_ops unusable_ops = {
	.name = "none",
	.location = virtio_pci_location,
	.irq_name = virtio_pci_irq_name,
};

static int virtio_pci_probe(struct pci_dev *d, const struct pci_device_id *id)
{
	(void)id;
	if (d->device < VIRTIO_PCI_DEVICE_LEGACY_MIN || d->device > VIRTIO_PCI_DEVICE_MODERN_MAX)
		return -ENODEV; /* 4.1.2.1: other Red Hat/Qumranet ids are not virtio */
	if (npci_devs == MAX_PCI_DEVICES)
		return -ENOSPC;
	struct virtio_pci_dev *pd = &pci_devs[npci_devs++];
	memset(pd, 0, sizeof(*pd));
	struct virtio_device *vd = &pd->vd;
	pd->pci = d;
	/* 4.1.2: modern ids carry the type; transitional ones keep it in the subsystem id. */
	vd->device_type = d->device >= VIRTIO_PCI_DEVICE_MODERN
				  ? (uint16_t)(d->device - VIRTIO_PCI_DEVICE_MODERN)
				  : d->subsys_id;
	snprintf(vd->name, sizeof(vd->name), "virtio@%02x:%02x.%x", d->bus, d->dev, d->fn);
	d->driver_data = pd;

	/* Listed by `virtio` with its error either way, and bound, so nothing else claims it. */
	char why[96] = "";
	int err = pci_enable_device(d);
	if (err) {
		snprintf(why, sizeof(why), "cannot enable the PCI function (%d)", err);
		goto unusable;
	}
	pci_set_master(d, true);

	/* Transitional devices (legacy ids, I/O BAR 0 and modern capabilities) use the modern
	 * interface unless virtio.transport=legacy; legacy-only devices have no capabilities. */
	bool legacy_ok = d->device < VIRTIO_PCI_DEVICE_MODERN && d->bar[0].type == PCI_BAR_IO;
	bool modern_ok = !(virtio_pci_options.force_legacy && legacy_ok) &&
			 virtio_pci_modern_init(pd, why, sizeof(why)) == 0;
	if (!modern_ok) {
		pd->common = pd->notify_base = pd->isr = pd->device_cfg = NULL;
		char lwhy[96] = "no legacy I/O BAR";
		if (!legacy_ok || virtio_pci_legacy_init(pd, lwhy, sizeof(lwhy)) != 0) {
			if (!why[0])
				snprintf(why, sizeof(why), "%s", lwhy);
			goto unusable;
		}
	}
	return virtio_device_add(vd);

unusable:
	/* Bound all the same, so no other PCI driver claims it. */
	pd->common = pd->notify_base = pd->isr = pd->device_cfg = NULL;
	vd->ops = &unusable_ops;
	return virtio_device_add_unusable(vd, why);
}

static const struct pci_device_id virtio_pci_ids[] = {
	PCI_DEVICE(VIRTIO_PCI_VENDOR, PCI_ANY_ID),
	{0},
};

static const struct pci_driver virtio_pci_driver = {
	.name = "virtio-pci",
	.ids = virtio_pci_ids,
	.probe = virtio_pci_probe,
};

int virtio_pci_register(void)
{
	return pci_register_driver(&virtio_pci_driver);
}
