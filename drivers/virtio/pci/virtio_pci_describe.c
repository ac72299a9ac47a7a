/* What the logs and the `virtio` command say about a virtio-pci device: where it is, how its
 * interrupts arrive, and its INTx counters. Both interfaces share these ops. */
#include "drivers/pci/pci.h"
#include "drivers/virtio/pci/virtio_pci_dev.h"
#include "drivers/virtio/pci/virtio_pci_regs.h"

#include <stdio.h>

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
