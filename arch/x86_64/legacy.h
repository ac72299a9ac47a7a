/* Legacy PC devices: the 8259 PICs (masked for good) and the 8254 PIT (a counter to measure
 * the TSC against). */
#ifndef VIREO_ARCH_LEGACY_H
#define VIREO_ARCH_LEGACY_H

#include <stdint.h>

/* Remap the 8259 pair away from the exception vectors (to 32..47) and mask every line: all
 * interrupts go through the IOAPIC and LAPIC instead. */
void pic_disable(void);
#define PIT_HZ 1193182u

/* Let PIT channel 0 count down from 65536 over and over, at PIT_HZ. */
void pit_counter_start(void);
/* Channel 0's count now (it counts down, wrapping from 0 to 65535). An absent PIT reads a
 * constant (0xffff). */
uint16_t pit_counter_read(void);

#endif
