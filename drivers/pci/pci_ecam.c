/* ECAM configuration access [PCIe 7.2.2]: each function's 4 KiB at
 * base + (bus << 20 | dev << 15 | fn << 12). */
#include <stddef.h>

#include "arch/x86_64/io.h"
#include "drivers/pci/pci_access.h"
#include "drivers/pci/pci_regs.h"

static volatile uint8_t *ecam_addr(const struct pci_ecam *e, uint8_t bus, uint8_t dev,
				   uint8_t fn, uint16_t off)
{
	if (bus < e->bus_start || bus > e->bus_end || dev >= PCI_MAX_DEV || fn >= PCI_MAX_FN ||
	    off >= PCI_CFG_SIZE_PCIE)
		return NULL;
	return e->base + ((uint32_t)(bus - e->bus_start) << PCI_ECAM_BUS_SHIFT |
			  (uint32_t)dev << PCI_ECAM_DEV_SHIFT | (uint32_t)fn << PCI_ECAM_FN_SHIFT |
			  off);
}

uint32_t pci_ecam_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width)
{
	volatile uint8_t *p = ecam_addr(ctx, bus, dev, fn, off);

	if (!p)
		return 0xFFFFFFFFu;
	/* One access of exactly the requested width: a wider read could have side effects
	 * on neighbouring registers (and ECAM must not split or merge accesses). */
	switch (width) {
	case 1:
		return mmio_read8(p);
	case 2:
		return mmio_read16(p);
	default:
		return mmio_read32(p);
	}
}

void pci_ecam_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width,
		    uint32_t val)
{
	volatile uint8_t *p = ecam_addr(ctx, bus, dev, fn, off);

	if (!p)
		return;
	switch (width) {
	case 1:
		mmio_write8(p, (uint8_t)val);
		break;
	case 2:
		mmio_write16(p, (uint16_t)val);
		break;
	default:
		mmio_write32(p, val);
		break;
	}
}
