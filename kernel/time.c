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

/* ---- rulers: counters of known rate to measure the TSC against ----
 * Each reads as a count that only goes up (the PIT's 16-bit down-counter is extended by its
 * wraps; reads must come less than 55 ms apart, which the spinning below guarantees). */

static uint16_t pit_prev;
static uint64_t pit_ticks;

static uint64_t pit_start(uint64_t unused)
{
	(void)unused;
	pit_counter_start();
	pit_prev = pit_counter_read();
	pit_ticks = 0;
	return PIT_HZ;
}

static uint64_t pit_read(void)
{
	uint16_t now = pit_counter_read();
	pit_ticks += (uint16_t)(pit_prev - now); /* it counts down, wrapping at 65536 */
	pit_prev = now;
	return pit_ticks;
}

static uint64_t hpet_start(uint64_t phys)
{
	return hpet_counter_start(phys);
}

struct ruler {
	const char *name;
	uint64_t (*start)(uint64_t arg); /* its rate in Hz, 0: not there */
	uint64_t (*count)(void);
};

/* One reading of the ruler with the TSC on both sides. Only a tight one counts: a vCPU
 * descheduled around the read (or in a loaded host's scheduler) makes it wide, and the pair
 * then says little about when the count was taken. tight: the narrowest seen so far. */
struct sample {
	uint64_t tsc; /* the middle of the two TSC reads */
	uint64_t count;
};

static bool take_sample(const struct ruler *r, uint64_t *tight, struct sample *out)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint64_t a = cpu_rdtsc(), c = r->count(), b = cpu_rdtsc();
		if (b - a < *tight)
			*tight = b - a;
		if (b - a <= 2 * *tight + 64) {
			*out = (struct sample){a + (b - a) / 2, c};
			return true;
		}
	}
	return false;
}

/* One window of about 1 ms: a tight sample, spin until the ruler has moved that far, another
 * tight sample. Descheduling during the spin costs nothing: both ends are exact. 0 when the
 * ruler does not move. */
static uint64_t window(const struct ruler *r, uint64_t rate, uint64_t *tight)
{
	struct sample s0, s1;
	uint64_t want = rate / 1000, spins = 0;
	if (!take_sample(r, tight, &s0))
		return 0;
	while (r->count() - s0.count < want)
		if (++spins > (r->count() == s0.count ? 10000ull : 100000000ull))
			return 0; /* a counter that never moves is not there */
	if (!take_sample(r, tight, &s1) || s1.count == s0.count)
		return 0;
	return (uint64_t)((unsigned __int128)(s1.tsc - s0.tsc) * rate / (s1.count - s0.count));
}

/* The median of three windows (a PIT count is 0.84 us: one window is good to 0.1 %). 0 when
 * the ruler is absent or does not count. */
static uint64_t measure(const struct ruler *r, uint64_t arg)
{
	uint64_t rate = r->start(arg), m[3], tight = UINT64_MAX;
	if (!rate)
		return 0;
	for (int i = 0; i < 8; i++) { /* learn how narrow a read can be */
		uint64_t a = cpu_rdtsc();
		(void)r->count();
		uint64_t b = cpu_rdtsc();
		if (b - a < tight)
			tight = b - a;
	}
	for (int i = 0; i < 3; i++)
		if (!(m[i] = window(r, rate, &tight)))
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

/* A TSC below 100 MHz or above 20 GHz is no TSC anyone runs: the ruler was wrong. */
#define TSC_MIN_HZ 100000000ull
#define TSC_MAX_HZ 20000000000ull

uint64_t time_init(uint64_t hpet_phys, bool prefer_hpet)
{
	static const struct ruler pit = {"PIT", pit_start, pit_read};
	static const struct ruler hpet = {"HPET", hpet_start, hpet_counter_read};
	struct {
		const struct ruler *measured; /* measured against, or else declared: */
		uint64_t (*declared)(void);
		const char *name;
	} sources[] = {
		{&hpet, NULL, "HPET"},
		{NULL, cpuid_tsc_hz, "CPUID"},
		{&pit, NULL, "PIT"},
		{&hpet, NULL, "HPET"},
		{NULL, cpuid_base_hz, "CPUID base frequency"},
	};
	hz = 0;
	/* clock=hpet measures against the HPET first; otherwise it is a fallback only. */
	for (unsigned i = prefer_hpet ? 0 : 1; i < sizeof(sources) / sizeof(sources[0]); i++) {
		uint64_t h = sources[i].measured ? measure(sources[i].measured, hpet_phys)
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
