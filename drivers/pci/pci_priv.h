/* State shared by the PCI layer's files (not part of the API; see pci.h). */
#ifndef VIREO_PCI_PRIV_H
#define VIREO_PCI_PRIV_H

#include "drivers/pci/pci.h"

struct pci_state {
	uint16_t cfg_size;
	struct pci_dev devs[PCI_MAX_DEVS];
	size_t ndevs;
	size_t dropped; /* functions found after the table filled up */
	const struct pci_driver *drivers[PCI_MAX_DRIVERS];
	size_t ndrivers;
};

extern struct pci_state pci_state;

/* Log one line through the port, prefixed with "pci: " by the caller's format. */
#define pci_log(...) pci_port_log(__VA_ARGS__)

/* Log prefix "pci bb:dd.f: " arguments. */
#define PCI_BDF_FMT      "%02x:%02x.%x"
#define PCI_BDF_ARGS(d) (d)->bus, (d)->dev, (d)->fn

/* Turn on memory decode unless a memory BAR is unassigned (-ENXIO then); pci_config.c. */
int pci_enable_mem_decode(struct pci_dev *d);

/* MSI/MSI-X capability parsing, called by the enumeration (pci_msi.c). */
void pci_msi_parse(struct pci_dev *d);

#endif
