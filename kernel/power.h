/* Power off / exit (kernel/power.c). */
#ifndef VIREO_POWER_H
#define VIREO_POWER_H

/* End the machine: with QEMU's isa-debug-exit (iobase 0xf4) QEMU exits with (code << 1) | 1;
 * otherwise ACPI S5. Never returns. */
_Noreturn void power_off(int code);

#endif
