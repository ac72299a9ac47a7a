/*
 * Power off. Under QEMU with "-device isa-debug-exit,iobase=0xf4,iosize=4" a write to port
 * 0xf4 makes QEMU exit with status (value << 1) | 1, which is how tests read a result code.
 * Without that device the write goes nowhere and we fall through to ACPI S5: write SLP_TYPa |
 * SLP_EN to the PM1a control register (ACPI 6.x, 4.8.3.2 and 7.4.2), values from the FADT and
 * the DSDT's \_S5 object.
 */
#include "kernel/power.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "kernel/platform.h"

#include <stdio.h>

#define DEBUG_EXIT_PORT 0xf4
#define SLP_EN          (1u << 13)

_Noreturn void power_off(int code)
{
	fflush(stdout);
	cpu_cli();
	outl(DEBUG_EXIT_PORT, (uint32_t)code);
	if (kernel_acpi_ok && kernel_acpi.have_s5 && kernel_acpi.pm1a_cnt) {
		outw(kernel_acpi.pm1a_cnt, (uint16_t)((kernel_acpi.slp_typa << 10) | SLP_EN));
		if (kernel_acpi.pm1b_cnt)
			outw(kernel_acpi.pm1b_cnt,
			     (uint16_t)((kernel_acpi.slp_typb << 10) | SLP_EN));
	}
	printf("poweroff: neither isa-debug-exit nor ACPI S5 worked; halting\n");
	cpu_halt_forever();
}
