/*
 * Ready-made configuration mechanisms for a port's pci_port_cfg_read/write (pci_port.h): ECAM
 * (PCIe enhanced configuration access, from the ACPI MCFG table; q35) and configuration
 * mechanism #1 (ports 0xCF8/0xCFC; pc/i440fx, and the fallback when there is no MCFG). Both
 * reach hardware through the port (pci_port_mmio_*, pci_port_pio_*), so both run in host tests.
 */
#ifndef VIREO_PCI_ACCESS_H
#define VIREO_PCI_ACCESS_H

#include <stdint.h>

/* One ECAM window (one MCFG allocation entry, segment 0). base is the mapped configuration
 * space of bus bus_start, i.e. MCFG base address + (bus_start << 20), with
 * (bus_end - bus_start + 1) MiB mapped uncached. Buses outside [bus_start, bus_end] read as all
 * ones (absent) and ignore writes. Pass cfg_size PCI_CFG_SIZE_PCIE to pci_init. */
struct pci_ecam {
	volatile uint8_t *base;
	uint8_t bus_start, bus_end;
};

uint32_t pci_ecam_read(const struct pci_ecam *e, uint8_t bus, uint8_t dev, uint8_t fn,
		       uint16_t off, int width);
void pci_ecam_write(const struct pci_ecam *e, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
		    int width, uint32_t val);

/* Mechanism #1. Offsets at or beyond 256 read as all ones and ignore writes (the mechanism
 * cannot reach them): pass cfg_size PCI_CFG_SIZE to pci_init.
 * The address write and the data access are two steps: the caller must make sure nothing else
 * touches 0xCF8/0xCFC in between (Vireo: one CPU, configuration access only from thread
 * context; take a lock or disable interrupts if that ever changes). */
uint32_t pci_portio_read(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width);
void pci_portio_write(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width,
		      uint32_t val);

#endif
