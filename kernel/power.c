/*
 * Power off. Under QEMU with "-device isa-debug-exit,iobase=0xf4,iosize=4" a write to port
 * 0xf4 makes QEMU exit with status (value << 1) | 1, which is how tests read a result code.
 * Without that device the write goes nowhere and we fall through to ACPI S5 with the values of
 * the DSDT's \_S5 object (7.4.2): on a hardware-reduced machine (QEMU's microvm) SLP_TYP | SLP_EN
 * to the FADT's SLEEP_CONTROL_REG (4.8.3.7), else SLP_TYPa | SLP_EN to the PM1a control register
 * (4.8.3.2). If that does not work either, we say so and halt.
 */
#include "kernel/power.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/paging.h"
#include "kernel/platform.h"
#include "lib/acpi/acpi_tables.h"

#include <stdio.h>

#define DEBUG_EXIT_PORT 0xf4
#define SLP_EN          (1u << 13) /* PM1x_CNT */
#define SLEEP_CTL_SLP_EN (1u << 5)  /* SLEEP_CONTROL_REG; SLP_TYP in bits 4:2 */

_Noreturn void power_off(int code)
{
	fflush(stdout);
	cpu_cli();
	outl(DEBUG_EXIT_PORT, (uint32_t)code);
	if (kernel_acpi_ok && kernel_acpi.have_s5 && kernel_acpi.have_sleep_control) {
		const struct acpi_addr *r = &kernel_acpi.sleep_control;
		uint8_t v = (uint8_t)(kernel_acpi.slp_typa << 2 | SLEEP_CTL_SLP_EN);
		if (r->space_id == ACPI_GAS_SYSTEM_IO) {
			outb((uint16_t)r->address, v);
		} else {
			volatile uint8_t *reg = mmio_map(r->address, 1);
			if (reg)
				mmio_write8(reg, v);
		}
	}
	if (kernel_acpi_ok && kernel_acpi.have_s5 && kernel_acpi.pm1a_cnt) {
		outw(kernel_acpi.pm1a_cnt, (uint16_t)((kernel_acpi.slp_typa << 10) | SLP_EN));
		if (kernel_acpi.pm1b_cnt)
			outw(kernel_acpi.pm1b_cnt,
			     (uint16_t)((kernel_acpi.slp_typb << 10) | SLP_EN));
	}
	printf("poweroff: neither isa-debug-exit nor ACPI S5 worked; halting\n");
	cpu_halt_forever();
}
