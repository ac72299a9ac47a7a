/* HPET (IA-PC HPET specification 1.0a): a second clock to measure the TSC against. */
#ifndef VIREO_ARCH_HPET_H
#define VIREO_ARCH_HPET_H

#include <stdint.h>

/* Measure the TSC frequency against the HPET main counter at phys over about ms
 * milliseconds. Returns Hz, or 0 when there is no usable HPET there. */
uint64_t hpet_measure_tsc_hz(uint64_t phys, uint32_t ms);

#endif
