/*
 * The HPET's main counter runs at a fixed, advertised period (femtoseconds per tick in the
 * capabilities register, 2.3.4), which makes it a ruler for the TSC when the PIT is absent.
 */
#include "arch/x86_64/hpet.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/paging.h"

#define HPET_CAP     0x000 /* bits 63:32: counter period in fs */
#define HPET_CONFIG  0x010 /* bit 0: ENABLE_CNF, the main counter runs */
#define HPET_COUNTER 0x0f0
#define FS_PER_S     1000000000000000ull

uint64_t hpet_measure_tsc_hz(uint64_t phys, uint32_t ms)
{
	if (!phys)
		return 0;
	volatile uint8_t *h = mmio_map(phys, 1024);
	if (!h)
		return 0;
	uint64_t period_fs = mmio_read64(h + HPET_CAP) >> 32;
	/* 2.3.4: the period is non-zero and at most 100 ns (0x05F5E100 fs). */
	if (period_fs == 0 || period_fs > 100000000ull)
		return 0;
	mmio_write64(h + HPET_CONFIG, mmio_read64(h + HPET_CONFIG) | 1);
	uint64_t ticks = (uint64_t)ms * 1000000000000ull / period_fs;
	uint64_t c0 = mmio_read64(h + HPET_COUNTER), t0 = cpu_rdtsc();
	uint64_t c1, spins = 0;
	while ((c1 = mmio_read64(h + HPET_COUNTER)) - c0 < ticks) {
		if (++spins > 100000000ull)
			return 0; /* the counter does not run */
	}
	uint64_t t1 = cpu_rdtsc();
	return (uint64_t)((unsigned __int128)(t1 - t0) * FS_PER_S / ((c1 - c0) * period_fs));
}
