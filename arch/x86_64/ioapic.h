/* I/O APIC (82093AA datasheet): routes ISA and PCI INTx lines (GSIs) to vectors. */
#ifndef VIREO_ARCH_IOAPIC_H
#define VIREO_ARCH_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Register an IOAPIC found in the MADT; all its pins start masked. Returns 0 or -ENOSPC. */
int ioapic_add(uint8_t id, uint64_t phys, uint32_t gsi_base);
/* Route gsi to vector on CPU apic_id, unmasked. level/active_low: PCI INTx lines are level
 * triggered and active low; ISA lines edge/high unless the MADT overrides it. Returns 0, or
 * -ENOENT when no IOAPIC serves gsi. */
int ioapic_route(uint32_t gsi, uint8_t vector, bool level, bool active_low, uint32_t apic_id);
/* Number of IOAPICs registered. */
int ioapic_count(void);

#endif
