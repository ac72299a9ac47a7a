/*
 * The kernel's side of the PCI layer's port (drivers/pci/pci_port.h): which configuration
 * mechanism to use (ECAM from the ACPI MCFG table on q35, the 0xCF8/0xCFC ports on pc), how
 * device memory is mapped (uncached, also above 4 GiB), how MSI messages are formed (LAPIC) and
 * how an INTx line reaches a handler (IOAPIC, shared lines allowed).
 *
 * Not done: AML evaluation of _PRT. INTx uses the interrupt line firmware wrote into each
 * function's configuration space (SeaBIOS and OVMF both program it and the chipset's PIRQ
 * routing), which is also an IOAPIC input on QEMU's pc and q35 chipsets.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/paging.h"
#include "drivers/pci/pci_access.h"
#include "drivers/pci/pci_port.h"
#include "drivers/pci/pci_regs.h"
#include "kernel/irq_lines.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"
#include "port/pci.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static struct pci_ecam ecam; /* ECAM when ecam.base, else ports 0xCF8/0xCFC */

uint32_t pci_port_cfg_read(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int w)
{
	if (ecam.base) {
		volatile void *a = pci_ecam_addr(&ecam, bus, dev, fn, off);
		return a ? mmio_read(a, w) : 0xFFFFFFFFu;
	}
	uint32_t addr = pci_portio_address(bus, dev, fn, off);
	if (!addr)
		return 0xFFFFFFFFu;
	outl(PCI_CONFIG_ADDRESS, addr);
	return pio_read(pci_portio_data_port(off), w);
}

void pci_port_cfg_write(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int w, uint32_t v)
{
	if (ecam.base) {
		volatile void *a = pci_ecam_addr(&ecam, bus, dev, fn, off);
		if (a)
			mmio_write(a, w, v);
		return;
	}
	uint32_t addr = pci_portio_address(bus, dev, fn, off);
	if (!addr)
		return;
	outl(PCI_CONFIG_ADDRESS, addr);
	pio_write(pci_portio_data_port(off), w, v);
}

void *pci_port_map_mmio(uint64_t phys, uint64_t size)
{
	return mmio_map(phys, size);
}

uint32_t pci_port_mmio_read32(const volatile void *a)
{
	return mmio_read32(a);
}

void pci_port_mmio_write32(volatile void *a, uint32_t v)
{
	mmio_write32(a, v);
}

void pci_port_msi_compose(uint8_t vector, uint32_t cpu, uint64_t *addr, uint32_t *data)
{
	msi_compose(vector, cpu, addr, data);
}

/* A PCI interrupt line's GSI and polarity: the MADT override for that IRQ when there is one
 * (QEMU's tables describe its PCI lines as level, active high), else PCI's default of level
 * triggered, active low (PCI local bus spec 2.2.6). */
static uint32_t pci_line_to_gsi(uint8_t line, bool *level, bool *active_low)
{
	*level = true;
	*active_low = true;
	for (unsigned i = 0; kernel_acpi_ok && i < kernel_acpi.nisos; i++) {
		const struct acpi_irq_override *o = &kernel_acpi.isos[i];
		if (o->bus == 0 && o->source == line) {
			uint16_t pol = o->flags & 3, trig = (o->flags >> 2) & 3;
			if (pol)
				*active_low = o->active_low;
			if (trig)
				*level = o->level;
			return o->gsi;
		}
	}
	return line;
}

int pci_port_intx_attach(const struct pci_dev *dev, uint8_t line, pci_intx_handler_t handler,
			 void *arg)
{
	(void)dev;
	bool level, active_low;
	uint32_t gsi = pci_line_to_gsi(line, &level, &active_low);
	return irq_line_attach("intx", line, gsi, level, active_low, handler, arg);
}

void pci_port_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap); /* the PCI layer prefixes its own lines */
	printf("\n");
	va_end(ap);
}

uint16_t kernel_pci_config_setup(void)
{
	if (kernel_acpi_ok && kernel_acpi.nmcfg) {
		const struct acpi_mcfg_entry *m = &kernel_acpi.mcfg[0];
		uint64_t size = ((uint64_t)m->end_bus - m->start_bus + 1) << 20;
		/* The MCFG base address is that of bus 0 even when start_bus is higher. */
		uint64_t base = m->base + ((uint64_t)m->start_bus << 20);
		ecam.bus_start = m->start_bus;
		ecam.bus_end = m->end_bus;
		ecam.base = mmio_map(base, size);
	}
	return ecam.base ? PCI_CFG_SIZE_PCIE : PCI_CFG_SIZE;
}

const char *kernel_pci_mechanism(void)
{
	return ecam.base ? "ECAM" : "ports 0xcf8/0xcfc (no MCFG)";
}

/* Per-line INTx statistics, after the function list of `lspci -v`. */
void kernel_pci_intx_print(void)
{
	irq_lines_print("intx");
}
