/*
 * Configuration-space backends for struct pci_platform's cfg_read/cfg_write: ECAM (PCIe
 * enhanced configuration access, from the ACPI MCFG table; q35) and configuration mechanism #1
 * (ports 0xCF8/0xCFC; pc/i440fx and the fallback when there is no MCFG).
 *
 * Both take their hardware access through the caller: ECAM through a mapped window, port I/O
 * through hooks (pci_portio_x86 fills them with arch/x86_64/io.h), so both run in host tests.
 */
#ifndef VIREO_PCI_ACCESS_H
#define VIREO_PCI_ACCESS_H

#include <stdint.h>

/* One ECAM window (one MCFG allocation entry, segment 0). base is the mapped configuration
 * space of bus bus_start, i.e. MCFG base address + (bus_start << 20), with
 * (bus_end - bus_start + 1) MiB mapped uncached. Pass a struct pci_ecam * as ctx.
 * Buses outside [bus_start, bus_end] read as all ones (absent) and ignore writes. Set
 * pci_platform.cfg_size to PCI_CFG_SIZE_PCIE. */
struct pci_ecam {
	volatile uint8_t *base;
	uint8_t bus_start, bus_end;
};

uint32_t pci_ecam_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width);
void pci_ecam_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width,
		    uint32_t val);

/* Port accessors for mechanism #1. Pass a const struct pci_portio * as ctx. Offsets at or
 * beyond 256 read as all ones and ignore writes (the mechanism cannot reach them); set
 * pci_platform.cfg_size to PCI_CFG_SIZE.
 * The address write and the data access are two steps: the caller must make sure nothing else
 * touches 0xCF8/0xCFC in between (Vireo: one CPU, configuration access only from thread
 * context; take a lock or disable interrupts if that ever changes). */
struct pci_portio {
	uint8_t (*in8)(uint16_t port);
	uint16_t (*in16)(uint16_t port);
	uint32_t (*in32)(uint16_t port);
	void (*out8)(uint16_t port, uint8_t v);
	void (*out16)(uint16_t port, uint16_t v);
	void (*out32)(uint16_t port, uint32_t v);
};

/* The real x86 ports (inb/outl... from arch/x86_64/io.h). */
extern const struct pci_portio pci_portio_x86;

uint32_t pci_portio_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
			 int width);
void pci_portio_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width,
		      uint32_t val);

#endif
