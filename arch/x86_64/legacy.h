/* Legacy PC devices: the 8259 PICs (masked for good) and the 8254 PIT (a clock reference). */
#ifndef VIREO_ARCH_LEGACY_H
#define VIREO_ARCH_LEGACY_H

#include <stdint.h>

/* Remap the 8259 pair away from the exception vectors (to 32..47) and mask every line: all
 * interrupts go through the IOAPIC and LAPIC instead. */
void pic_disable(void);
/* Measure the TSC frequency against PIT channel 2 over about ms milliseconds. Returns Hz, or 0
 * when the PIT did not count (no PIT, or a broken one). */
uint64_t pit_measure_tsc_hz(uint32_t ms);
/* The same against channel 0's count, read back (no gate port needed). Returns Hz, or 0 when
 * the count does not move. */
uint64_t pit_ch0_measure_tsc_hz(uint32_t ms);

#endif
