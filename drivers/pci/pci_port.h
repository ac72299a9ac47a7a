/*
 * The PCI layer's port: everything drivers/pci needs from the system it runs in. The layer
 * itself never touches hardware; the host defines these functions.
 *
 *   configuration space   pci_port_cfg_read, pci_port_cfg_write
 *   device memory         pci_port_map_mmio, pci_port_mmio_read32, pci_port_mmio_write32
 *   interrupts            pci_port_msi_compose, pci_port_intx_attach
 *   diagnostics           pci_port_log
 *
 * Vireo's implementation is port/pci.c; the host tests' is tests/host/pci_fake.c, a fake
 * configuration space. The arithmetic of the two configuration mechanisms a port may use
 * (ECAM, and ports 0xCF8/0xCFC) is in pci_access.h.
 *
 * Context: the layer keeps global tables and is not locked. pci_init, pci_register_driver and
 * pci_probe_all run in one thread during boot; afterwards a device's functions are used by the
 * driver that owns it (thread context; pci_msix_pending and pci_intx_asserted also from its
 * interrupt handler).
 */
#ifndef VIREO_PCI_PORT_H
#define VIREO_PCI_PORT_H

#include <stdbool.h>
#include <stdint.h>

struct pci_dev;

/* Called on an INTx interrupt; returns true when its device had asserted the line (shared
 * lines call every handler; a false from all of them means a spurious interrupt). */
typedef bool (*pci_intx_handler_t)(void *arg);

/*
 * Configuration read/write of width 1, 2 or 4 bytes at off in bus:dev.fn. The layer only issues
 * naturally aligned accesses with off + width <= the cfg_size given to pci_init. A read of an
 * absent function must return all ones (of the width), as a master abort does.
 */
uint32_t pci_port_cfg_read(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width);
void pci_port_cfg_write(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width,
			uint32_t val);

/* Map size bytes of device memory at physical address phys (possibly above 4 GiB) as uncached,
 * returning its virtual address, or NULL when that is impossible. Mappings are never undone.
 * Used by pci_bar_map and MSI-X. */
void *pci_port_map_mmio(uint64_t phys, uint64_t size);

/* One aligned 32-bit access to mapped device memory (the MSI-X table and PBA): uncached,
 * never merged or split. */
uint32_t pci_port_mmio_read32(const volatile void *addr);
void pci_port_mmio_write32(volatile void *addr, uint32_t val);

/* MSI/MSI-X message (address and data) that raises vector on cpu (an APIC id on x86:
 * addr = 0xFEE00000 | apic_id << 12, data = vector, edge). */
void pci_port_msi_compose(uint8_t vector, uint32_t cpu, uint64_t *addr, uint32_t *data);

/* Connect handler to the INTx line of dev (dev->irq_line as firmware assigned it; on x86 a GSI
 * routed through the IOAPIC, level-triggered, active low, MADT overrides honoured). Several
 * devices may share one line: the port keeps a list per line and calls every handler on it.
 * Returns 0 or a negative errno. Used by pci_intx_attach. */
int pci_port_intx_attach(const struct pci_dev *dev, uint8_t line, pci_intx_handler_t handler,
			 void *arg);

/* Diagnostic output, one line per call without the trailing newline; the layer prefixes its
 * lines ("pci 00:03.0: ..."). */
void pci_port_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
