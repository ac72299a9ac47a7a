/* Boot phase marks (see boot_phases.h). */
#include "kernel/boot_phases.h"
#include "arch/x86_64/cpu.h"
#include "kernel/time.h"

#include <stdint.h>
#include <stdio.h>

#define MAX_PHASES 12

extern uint64_t boot_tsc_entry; /* the first kernel instruction's TSC (boot/multiboot/entry.S) */

struct phase {
	const char *name;
	uint64_t tsc;
};
static struct phase phases[MAX_PHASES];
static unsigned nphases;

void boot_phase_done(const char *name)
{
	if (nphases < MAX_PHASES)
		phases[nphases++] = (struct phase){name, cpu_rdtsc()};
}

void boot_phases_format(char *buf, unsigned len)
{
	uint64_t hz = tsc_hz(), prev = boot_tsc_entry;
	unsigned at = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < nphases && hz && at < len; i++) {
		uint64_t us = (phases[i].tsc - prev) * 1000000 / hz;
		int n = snprintf(buf + at, len - at, "%s%s %llu.%llu", i ? ", " : "", phases[i].name,
				 (unsigned long long)(us / 1000), (unsigned long long)(us / 100 % 10));
		if (n < 0)
			break;
		at += (unsigned)n;
		prev = phases[i].tsc;
	}
}
