/*
 * The HPET's main counter runs at a fixed, advertised period (femtoseconds per tick in the
 * capabilities register, 2.3.4), which makes it a ruler for the TSC when the PIT is absent.
 */
#include "arch/x86_64/hpet.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/paging.h"

#define HPET_CAP     0x000 /* bits 63:32: counter period in fs */
#define HPET_CONFIG  0x010 /* bit 0: ENABLE_CNF, the main counter runs */
#define HPET_COUNTER 0x0f0
#define FS_PER_S     1000000000000000ull

static volatile uint8_t *hpet;

uint64_t hpet_counter_start(uint64_t phys)
{
	if (!phys || !(hpet = mmio_map(phys, 1024)))
		return 0;
	uint64_t period_fs = mmio_read64(hpet + HPET_CAP) >> 32;
	/* 2.3.4: the period is non-zero and at most 100 ns (0x05F5E100 fs). */
	if (period_fs == 0 || period_fs > 100000000ull)
		return 0;
	mmio_write64(hpet + HPET_CONFIG, mmio_read64(hpet + HPET_CONFIG) | 1);
	return FS_PER_S / period_fs;
}

uint64_t hpet_counter_read(void)
{
	return mmio_read64(hpet + HPET_COUNTER);
}
