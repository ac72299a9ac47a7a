/* Configuration mechanism #1 [PCI 3.2.2.3.2]: write the dword address of the register to
 * 0xCF8, then access 0xCFC + (off & 3) with the wanted width. */
#include "drivers/pci/pci_access.h"
#include "drivers/pci/pci_regs.h"

uint32_t pci_portio_address(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	if (dev >= PCI_MAX_DEV || fn >= PCI_MAX_FN || off >= PCI_CFG_SIZE)
		return 0;
	return PCI_CONFIG_ENABLE | (uint32_t)bus << PCI_CONFIG_BUS_SHIFT |
	       (uint32_t)dev << PCI_CONFIG_DEV_SHIFT | (uint32_t)fn << PCI_CONFIG_FN_SHIFT |
	       (off & PCI_CONFIG_REG_MASK);
}

uint16_t pci_portio_data_port(uint16_t off)
{
	return (uint16_t)(PCI_CONFIG_DATA + (off & 3));
}
