/*
 * Time: the TSC is the clock (cheap to read, constant rate on anything QEMU emulates), the
 * PIT is only the ruler it is measured against once at boot, and the LAPIC timer gives the
 * periodic tick that wakes halted loops (and counts: ticks()).
 */
#include "kernel/time.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/hpet.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/legacy.h"

#include <stdbool.h>
#include <stdio.h>

extern uint64_t boot_tsc_entry; /* boot/multiboot/entry.S */

static uint64_t hz;
static const char *clock_source = "none";
static uint64_t ns_mult; /* nanoseconds per TSC cycle, 32.32 fixed point */
static volatile uint64_t tick_count;
static uint64_t halts; /* hlt instructions sleep_ns executed */

static uint64_t pit_window(uint64_t unused, uint32_t ms)
{
	(void)unused;
	return pit_measure_tsc_hz(ms);
}

static uint64_t pit_ch0_window(uint64_t unused, uint32_t ms)
{
	(void)unused;
	return pit_ch0_measure_tsc_hz(ms);
}

/* The median of three 2 ms windows against a ruler: a vCPU descheduled between starting a
 * window and reading the TSC stretches that one window, and the median drops it. 0 when the
 * ruler does not count. */
static uint64_t measure(uint64_t (*window)(uint64_t arg, uint32_t ms), uint64_t arg)
{
	uint64_t m[3];
	for (int i = 0; i < 3; i++)
		if (!(m[i] = window(arg, 2)))
			return 0;
	uint64_t lo = m[0] < m[1] ? m[0] : m[1], hi = m[0] < m[1] ? m[1] : m[0];
	return m[2] < lo ? lo : m[2] > hi ? hi : m[2];
}

/* The TSC frequency the CPU declares: CPUID 0x15 (TSC / crystal ratio times the crystal
 * frequency, Intel SDM vol. 2 "CPUID"), else the hypervisor timing leaf 0x40000010 (EAX: TSC
 * kHz; QEMU and VMware). 0 when neither says. Instant, so it goes first. */
static uint64_t cpuid_tsc_hz(void)
{
	uint32_t r[4];
	cpu_cpuid(0, 0, r);
	if (r[0] >= 0x15) {
		cpu_cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2])
			return (uint64_t)r[2] * r[1] / r[0];
	}
	cpu_cpuid(1, 0, r);
	if (r[2] & (1u << 31)) { /* running under a hypervisor */
		cpu_cpuid(0x40000000, 0, r);
		if (r[0] >= 0x40000010) {
			cpu_cpuid(0x40000010, 0, r);
			if (r[0])
				return (uint64_t)r[0] * 1000;
		}
	}
	return 0;
}

static uint64_t cpuid_base_hz(void)
{
	uint32_t r[4];
	cpu_cpuid(0, 0, r);
	if (r[0] < 0x16)
		return 0;
	cpu_cpuid(0x16, 0, r);
	return (uint64_t)(r[0] & 0xffff) * 1000000;
}

/* A TSC below 100 MHz or above 20 GHz is no TSC anyone runs: the ruler was wrong (a PIT
 * channel whose gate port is missing reads as done at once). */
#define TSC_MIN_HZ 100000000ull
#define TSC_MAX_HZ 20000000000ull

uint64_t time_init(uint64_t hpet_phys, bool prefer_hpet)
{
	struct {
		const char *name;
		uint64_t (*window)(uint64_t arg, uint32_t ms); /* measured, else declared */
		uint64_t (*declared)(void);
	} sources[] = {
		{"HPET", hpet_measure_tsc_hz, NULL},
		{"CPUID", NULL, cpuid_tsc_hz},
		{"PIT channel 2", pit_window, NULL},
		{"PIT channel 0", pit_ch0_window, NULL},
		{"HPET", hpet_measure_tsc_hz, NULL},
		{"CPUID base frequency", NULL, cpuid_base_hz},
	};
	hz = 0;
	/* clock=hpet measures against the HPET first; otherwise it is a fallback only. */
	for (unsigned i = prefer_hpet ? 0 : 1; i < sizeof(sources) / sizeof(sources[0]); i++) {
		uint64_t h = sources[i].window ? measure(sources[i].window, hpet_phys)
					       : sources[i].declared();
		if (!h)
			continue;
		if (h < TSC_MIN_HZ || h > TSC_MAX_HZ) {
			printf("time: the TSC measured against %s is %llu.%03llu MHz, which no CPU "
			       "runs at; trying the next clock source\n",
			       sources[i].name, (unsigned long long)(h / 1000000),
			       (unsigned long long)(h / 1000 % 1000));
			continue;
		}
		hz = h;
		clock_source = sources[i].name;
		break;
	}
	if (!hz) {
		hz = 1000000000; /* a guess, said out loud */
		clock_source = "nothing: a guess";
		printf("time: no clock source to measure the TSC against; assuming 1000 MHz\n");
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

void sleep_ns(uint64_t ns)
{
	uint64_t end = time_ns() + ns;
	bool can_halt = cpu_irqs_enabled() && tick_count > 0;
	uint64_t now;
	while ((now = time_ns()) < end) {
		/* Halting is only safe when the tick is running to wake us; sleeps shorter than a
		 * tick spin instead, so short waits stay short. One reading of the clock per pass:
		 * a second one could already be past end, and end - now would wrap to "far away". */
		if (can_halt && end - now > 1000000000ull / TICK_HZ) {
			halts++;
			cpu_hlt();
		}
		else
			cpu_pause();
	}
}

uint64_t sleep_halts(void)
{
	return halts;
}
