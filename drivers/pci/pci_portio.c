/* Configuration mechanism #1 [PCI 3.2.2.3.2]: write the dword address of the register to
 * 0xCF8, then access 0xCFC + (off & 3) with the wanted width. */
#include <stdbool.h>

#include "drivers/pci/pci_access.h"
#include "drivers/pci/pci_port.h"
#include "drivers/pci/pci_regs.h"

static bool select_reg(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	if (dev >= PCI_MAX_DEV || fn >= PCI_MAX_FN || off >= PCI_CFG_SIZE)
		return false;
	pci_port_pio_write(PCI_CONFIG_ADDRESS, 4,
			   PCI_CONFIG_ENABLE | (uint32_t)bus << PCI_CONFIG_BUS_SHIFT |
				   (uint32_t)dev << PCI_CONFIG_DEV_SHIFT |
				   (uint32_t)fn << PCI_CONFIG_FN_SHIFT | (off & PCI_CONFIG_REG_MASK));
	return true;
}

uint32_t pci_portio_read(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width)
{
	if (!select_reg(bus, dev, fn, off))
		return 0xFFFFFFFFu;
	return pci_port_pio_read((uint16_t)(PCI_CONFIG_DATA + (off & 3)), width);
}

void pci_portio_write(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width, uint32_t val)
{
	if (select_reg(bus, dev, fn, off))
		pci_port_pio_write((uint16_t)(PCI_CONFIG_DATA + (off & 3)), width, val);
}
