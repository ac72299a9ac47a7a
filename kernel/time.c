/*
 * Time: the TSC is the clock (cheap to read, constant rate on anything QEMU emulates), the
 * PIT is only the ruler it is measured against once at boot, and the LAPIC timer gives the
 * periodic tick that wakes halted loops and runs timer hooks.
 */
#include "kernel/time.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/hpet.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/legacy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

extern uint64_t boot_tsc_entry; /* boot/multiboot/entry.S */

static uint64_t hz;
static const char *clock_source = "none";
static uint64_t ns_mult; /* nanoseconds per TSC cycle, 32.32 fixed point */
static volatile uint64_t tick_count;

#define MAX_HOOKS 8
static struct {
	void (*fn)(void *);
	void *ctx;
} hooks[MAX_HOOKS];

uint64_t time_init(uint64_t hpet_phys, bool prefer_hpet)
{
	hz = 0;
	if (prefer_hpet && (hz = hpet_measure_tsc_hz(hpet_phys, 20)))
		clock_source = "HPET";
	if (!hz && (hz = pit_measure_tsc_hz(20)))
		clock_source = "PIT";
	if (!hz && (hz = hpet_measure_tsc_hz(hpet_phys, 20)))
		clock_source = "HPET";
	if (!hz) {
		clock_source = "CPUID";
		/* CPUID 0x15: TSC/crystal ratio; 0x16: base frequency in MHz. */
		uint32_t r[4];
		cpu_cpuid(0, 0, r);
		if (r[0] >= 0x16) {
			cpu_cpuid(0x16, 0, r);
			hz = (uint64_t)(r[0] & 0xffff) * 1000000;
		}
		if (!hz)
			hz = 1000000000; /* a guess, said out loud */
		printf("time: PIT did not count; assuming a %llu MHz TSC\n",
		       (unsigned long long)(hz / 1000000));
	}
	ns_mult = (1000000000ull << 32) / hz;
	return hz;
}

uint64_t tsc_hz(void)
{
	return hz;
}

const char *tsc_calibrated_against(void)
{
	return clock_source;
}

uint64_t time_ns(void)
{
	uint64_t d = cpu_rdtsc() - boot_tsc_entry;
	return (uint64_t)(((unsigned __int128)d * ns_mult) >> 32);
}

static void tick(void *ctx)
{
	(void)ctx;
	tick_count++;
	for (int i = 0; i < MAX_HOOKS && hooks[i].fn; i++)
		hooks[i].fn(hooks[i].ctx);
}

void tick_start(void)
{
	irq_register(LAPIC_TIMER_VECTOR, tick, 0);
	lapic_timer_start(TICK_HZ, hz);
}

uint64_t ticks(void)
{
	return tick_count;
}

int tick_hook_add(void (*fn)(void *ctx), void *ctx)
{
	for (int i = 0; i < MAX_HOOKS; i++) {
		if (!hooks[i].fn) {
			hooks[i].ctx = ctx;
			hooks[i].fn = fn; /* last: the tick may run any moment */
			return 0;
		}
	}
	return -ENOSPC;
}

void sleep_ns(uint64_t ns)
{
	uint64_t end = time_ns() + ns;
	bool can_halt = cpu_irqs_enabled() && tick_count > 0;
	uint64_t now;
	while ((now = time_ns()) < end) {
		/* Halting is only safe when the tick is running to wake us; sleeps shorter than a
		 * tick spin instead, so short waits stay short. One reading of the clock per pass:
		 * a second one could already be past end, and end - now would wrap to "far away". */
		if (can_halt && end - now > 1000000000ull / TICK_HZ)
			cpu_hlt();
		else
			cpu_pause();
	}
}
