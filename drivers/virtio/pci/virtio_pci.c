/*
 * virtio over PCI: finding the devices (4.1.2 "PCI Device Discovery") and choosing the modern
 * or the legacy interface for each.
 */
#include "drivers/virtio/pci/virtio_pci.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/virtio/pci/virtio_pci_dev.h"
#include "drivers/virtio/pci/virtio_pci_regs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_PCI_DEVICES 16

struct virtio_pci_options virtio_pci_options;

static struct virtio_pci_dev pci_devs[MAX_PCI_DEVICES];
static unsigned npci_devs;

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
	pd->no_msix = virtio_pci_options.no_msix;
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
