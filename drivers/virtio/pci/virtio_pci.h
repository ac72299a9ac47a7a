/*
 * The virtio-pci transport (VIRTIO 1.2, 4.1 "Virtio Over PCI Bus"), as the kernel sees it: a
 * PCI driver that finds virtio functions, picks the modern or the legacy interface, wires
 * MSI-X or INTx, and hands each device to the virtio core.
 */
#ifndef VIREO_VIRTIO_PCI_H
#define VIREO_VIRTIO_PCI_H

#include <stdbool.h>

/* Options the kernel reads from its command line (virtio.transport=, virtio.msix=). Set them
 * before pci_probe_all. */
struct virtio_pci_options {
	bool force_legacy; /* virtio.transport=legacy: transitional devices use legacy */
	bool no_msix;      /* virtio.msix=0: use INTx even when MSI-X is there */
};
extern struct virtio_pci_options virtio_pci_options;

/* Register the virtio-pci PCI driver (once, before pci_probe_all). 0 or a negative errno. */
int virtio_pci_register(void);

#endif
