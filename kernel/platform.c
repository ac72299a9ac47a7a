/*
 * Platform bring-up: read ACPI to find the interrupt controllers, switch the legacy 8259 off,
 * start the LAPIC and IOAPICs, calibrate the clock, start the tick and route the serial port's
 * interrupt. Everything after this can sleep, take interrupts and tell the time.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/legacy.h"
#include "arch/x86_64/serial.h"
#include "lib/acpi/acpi.h"
#include "kernel/cmdline.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"
#include "kernel/time.h"

#include <stdio.h>
#include <string.h>

struct acpi_info kernel_acpi;
bool kernel_acpi_ok;

int isa_irq_route(uint8_t isa_irq, uint8_t vector)
{
	bool level = false, active_low = false;
	uint32_t gsi = isa_irq;
	if (kernel_acpi_ok)
		gsi = acpi_irq_to_gsi(&kernel_acpi, isa_irq, &level, &active_low);
	return ioapic_route(gsi, vector, level, active_low, lapic_id());
}

void platform_acpi_init(const struct boot_info *bi)
{
	int err = acpi_parse(bi->rsdp, &kernel_acpi);
	kernel_acpi_ok = err == 0;
	if (!kernel_acpi_ok)
		printf("platform: no usable ACPI tables (error %d): assuming a LAPIC from the MSR "
		       "and an IOAPIC at 0xfec00000\n",
		       err);
}

void platform_init(void)
{

	pic_disable();
	lapic_init(kernel_acpi_ok ? kernel_acpi.lapic_addr : 0);
	if (kernel_acpi_ok && kernel_acpi.nioapics) {
		for (unsigned i = 0; i < kernel_acpi.nioapics; i++)
			ioapic_add(kernel_acpi.ioapics[i].id, kernel_acpi.ioapics[i].address,
				   kernel_acpi.ioapics[i].gsi_base);
	} else {
		ioapic_add(0, 0xfec00000, 0);
	}

	/* clock=hpet measures the TSC against the HPET even when the PIT works. */
	const char *clk = cmdline_get("clock");
	uint64_t hz = time_init(kernel_acpi_ok ? kernel_acpi.hpet_addr : 0,
				clk && strcmp(clk, "hpet") == 0);
	tick_start();
	int v = irq_alloc_vector();
	if (v >= 0 && isa_irq_route(SERIAL_ISA_IRQ, (uint8_t)v) == 0)
		serial_enable_rx_irq((uint8_t)v);
	else
		printf("platform: serial input interrupt not routed; polling the UART\n");

	printf("platform: LAPIC id %u, %d IOAPIC(s), TSC %llu.%03llu MHz (measured against %s), "
	       "tick %d Hz\n",
	       lapic_id(), ioapic_count(), (unsigned long long)(hz / 1000000),
	       (unsigned long long)(hz / 1000 % 1000), tsc_calibrated_against(), TICK_HZ);
}
