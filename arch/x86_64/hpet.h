/* HPET (IA-PC HPET specification 1.0a): a counter to measure the TSC against. */
#ifndef VIREO_ARCH_HPET_H
#define VIREO_ARCH_HPET_H

#include <stdint.h>

/* Map the HPET at phys and start its main counter. Returns the counter's rate in Hz, or 0
 * when there is no usable HPET there. */
uint64_t hpet_counter_start(uint64_t phys);
/* The main counter (after a successful hpet_counter_start). */
uint64_t hpet_counter_read(void);

#endif
