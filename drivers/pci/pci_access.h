/*
 * The arithmetic of the two configuration mechanisms, for a port's pci_port_cfg_read/write
 * (pci_port.h): where a register is, not the access itself, so no hardware is touched here and
 * both run in host tests.
 *   ECAM (PCIe enhanced configuration access, from the ACPI MCFG table; q35) [PCIe 7.2.2]
 *   mechanism #1 (ports 0xCF8/0xCFC; pc/i440fx, the fallback without MCFG) [PCI 3.2.2.3.2]
 */
#ifndef VIREO_PCI_ACCESS_H
#define VIREO_PCI_ACCESS_H

#include <stdint.h>

/* One ECAM window (one MCFG allocation entry, segment 0). base is the mapped configuration
 * space of bus bus_start, i.e. MCFG base address + (bus_start << 20), with
 * (bus_end - bus_start + 1) MiB mapped uncached. Pass cfg_size PCI_CFG_SIZE_PCIE to pci_init. */
struct pci_ecam {
	volatile uint8_t *base;
	uint8_t bus_start, bus_end;
};

/* The address of register off of bus:dev.fn in the window, or NULL outside it (the function is
 * absent: reads return all ones, writes are dropped). One access of exactly the requested width
 * goes there: ECAM must not split or merge accesses. */
volatile void *pci_ecam_addr(const struct pci_ecam *e, uint8_t bus, uint8_t dev, uint8_t fn,
			     uint16_t off);

/* Mechanism #1: the dword to write to PCI_CONFIG_ADDRESS (0xCF8) for register off of
 * bus:dev.fn, then access port pci_portio_data_port(off) (0xCFC + off % 4) with the wanted
 * width. 0 when the mechanism cannot reach the register (off >= 256, a bad dev or fn): reads
 * return all ones, writes are dropped. Pass cfg_size PCI_CFG_SIZE to pci_init.
 * The two steps must not be interleaved with another configuration access (Vireo: one CPU,
 * configuration access only from thread context). */
uint32_t pci_portio_address(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
uint16_t pci_portio_data_port(uint16_t off);

#endif
