/* ECAM configuration access [PCIe 7.2.2]: each function's 4 KiB at
 * base + (bus << 20 | dev << 15 | fn << 12). */
#include <stddef.h>

#include "drivers/pci/pci_access.h"
#include "drivers/pci/pci_regs.h"

volatile void *pci_ecam_addr(const struct pci_ecam *e, uint8_t bus, uint8_t dev, uint8_t fn,
			     uint16_t off)
{
	if (bus < e->bus_start || bus > e->bus_end || dev >= PCI_MAX_DEV || fn >= PCI_MAX_FN ||
	    off >= PCI_CFG_SIZE_PCIE)
		return NULL;
	return e->base + ((uint32_t)(bus - e->bus_start) << PCI_ECAM_BUS_SHIFT |
			  (uint32_t)dev << PCI_ECAM_DEV_SHIFT | (uint32_t)fn << PCI_ECAM_FN_SHIFT |
			  off);
}
