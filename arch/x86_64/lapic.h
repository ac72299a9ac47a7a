/* Local APIC (Intel SDM vol. 3, chapter 10): EOI, timer, self-IPI, MSI messages. */
#ifndef VIREO_ARCH_LAPIC_H
#define VIREO_ARCH_LAPIC_H

#include <stdint.h>

/* Map and enable the local APIC at phys (from the MADT, or the APIC_BASE MSR when 0). */
void lapic_init(uint64_t phys);
/* Signal end of interrupt. Harmless before lapic_init (does nothing then). */
void lapic_eoi(void);
uint32_t lapic_id(void);
/* Measure the timer's input clock against the TSC, then start it periodic at hz on
 * LAPIC_TIMER_VECTOR. Returns the measured timer frequency (Hz, after the divider). */
uint64_t lapic_timer_start(uint32_t hz, uint64_t tsc_hz);
/* Send an interrupt on vector to this CPU (used by the selftests to prove delivery). */
void lapic_self_ipi(uint8_t vector);
/* Compose an MSI/MSI-X message that delivers vector to the CPU with APIC id apic_id: fixed
 * delivery, edge, physical destination (Intel SDM vol. 3, 10.11 "Message signalled
 * interrupts"). */
void msi_compose(uint8_t vector, uint32_t apic_id, uint64_t *addr, uint32_t *data);

#endif
