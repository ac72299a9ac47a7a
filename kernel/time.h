/* Monotonic time from the TSC, and the periodic tick (kernel/time.c). */
#ifndef VIREO_TIME_H
#define VIREO_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define TICK_HZ 100

/* Nanoseconds since the first kernel instruction. Monotonic. */
uint64_t time_ns(void);
/* Calibrate the TSC against PIT channel 2, or the HPET at hpet_phys (0: none) when the PIT
 * fails or prefer_hpet is set, or as a last resort CPUID leaf 0x16. Returns its Hz. */
uint64_t time_init(uint64_t hpet_phys, bool prefer_hpet);
/* "PIT", "HPET" or "CPUID": what time_init measured the TSC against. */
const char *tsc_calibrated_against(void);
/* Start the periodic tick (LAPIC timer at TICK_HZ). Needs the LAPIC. */
void tick_start(void);
/* Ticks since tick_start. */
uint64_t ticks(void);
uint64_t tsc_hz(void);
/* Sleep at least ns nanoseconds: halts between ticks when interrupts are on, spins otherwise. */
void sleep_ns(uint64_t ns);
/* How many times sleep_ns halted (waited for an interrupt) since boot: the selftest's proof
 * that short sleeps spin, and `uptime` shows it. */
uint64_t sleep_halts(void);

#endif
