/* Monotonic time from the TSC, and the periodic tick (kernel/time.c). */
#ifndef VIREO_TIME_H
#define VIREO_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define TICK_HZ 100

/* Nanoseconds since the first kernel instruction. Monotonic. */
uint64_t time_ns(void);
/* Find the TSC's frequency: the hypervisor's or CPU's declared TSC leaves (CPUID 0x15,
 * 0x40000010), else measured against the PIT's channel 0, then the HPET at hpet_phys (0: none;
 * first when prefer_hpet), else CPUID 0x16's base frequency. Each measurement takes only
 * readings with the TSC tight on both sides, so a descheduled vCPU cannot skew it; a result
 * outside 100 MHz..20 GHz is refused with a message, and with nothing left 1 GHz is assumed,
 * said out loud. Returns its Hz. */
uint64_t time_init(uint64_t hpet_phys, bool prefer_hpet);
/* What time_init measured the TSC against ("PIT", "HPET", "CPUID", ...). */
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
