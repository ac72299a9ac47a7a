/* Configuration mechanism #1 [PCI 3.2.2.3.2]: write the dword address of the register to
 * 0xCF8, then access 0xCFC + (off & 3) with the wanted width. */
#include <stdbool.h>

#include "arch/x86_64/io.h"
#include "drivers/pci/pci_access.h"
#include "drivers/pci/pci_regs.h"

static uint8_t x86_in8(uint16_t port)
{
	return inb(port);
}
static uint16_t x86_in16(uint16_t port)
{
	return inw(port);
}
static uint32_t x86_in32(uint16_t port)
{
	return inl(port);
}
static void x86_out8(uint16_t port, uint8_t v)
{
	outb(port, v);
}
static void x86_out16(uint16_t port, uint16_t v)
{
	outw(port, v);
}
static void x86_out32(uint16_t port, uint32_t v)
{
	outl(port, v);
}

const struct pci_portio pci_portio_x86 = {
	.in8 = x86_in8,
	.in16 = x86_in16,
	.in32 = x86_in32,
	.out8 = x86_out8,
	.out16 = x86_out16,
	.out32 = x86_out32,
};

static bool select_reg(const struct pci_portio *io, uint8_t bus, uint8_t dev, uint8_t fn,
		       uint16_t off)
{
	if (dev >= PCI_MAX_DEV || fn >= PCI_MAX_FN || off >= PCI_CFG_SIZE)
		return false;
	io->out32(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | (uint32_t)bus << PCI_CONFIG_BUS_SHIFT |
					      (uint32_t)dev << PCI_CONFIG_DEV_SHIFT |
					      (uint32_t)fn << PCI_CONFIG_FN_SHIFT |
					      (off & PCI_CONFIG_REG_MASK));
	return true;
}

uint32_t pci_portio_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
			 int width)
{
	const struct pci_portio *io = ctx;
	uint16_t port = (uint16_t)(PCI_CONFIG_DATA + (off & 3));

	if (!select_reg(io, bus, dev, fn, off))
		return 0xFFFFFFFFu;
	switch (width) {
	case 1:
		return io->in8(port);
	case 2:
		return io->in16(port);
	default:
		return io->in32(port);
	}
}

void pci_portio_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width,
		      uint32_t val)
{
	const struct pci_portio *io = ctx;
	uint16_t port = (uint16_t)(PCI_CONFIG_DATA + (off & 3));

	if (!select_reg(io, bus, dev, fn, off))
		return;
	switch (width) {
	case 1:
		io->out8(port, (uint8_t)val);
		break;
	case 2:
		io->out16(port, (uint16_t)val);
		break;
	default:
		io->out32(port, val);
		break;
	}
}
