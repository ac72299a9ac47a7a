/* Selftest suites of the kernel core: boot, memory, interrupts, time, C library. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/lapic.h"
#include "kernel/kernel.h"
#include "selftest/ktest.h"
#include "kernel/page_alloc.h"
#include "shell/shell.h"
#include "kernel/platform.h"
#include "kernel/time.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- boot ---- */
static int boot_info_valid(void)
{
	const struct boot_info *bi = &kernel_boot_info;
	KT_ASSERT_EQ(bi->magic, BOOT_INFO_MAGIC);
	KT_ASSERT(strcmp(bi->loader, "multiboot") == 0 || strcmp(bi->loader, "uefi") == 0);
	KT_ASSERT(bi->mmap_count > 0 && bi->mmap_count <= BOOT_MMAP_MAX);
	return 0;
}

static int boot_mmap_has_ram(void)
{
	uint64_t usable = 0;
	for (uint32_t i = 0; i < kernel_boot_info.mmap_count; i++)
		if (kernel_boot_info.mmap[i].type == BOOT_MEM_USABLE)
			usable += kernel_boot_info.mmap[i].length;
	KT_ASSERT(usable >= (16ull << 20)); /* QEMU gives at least 128 MiB by default */
	return 0;
}

static int boot_acpi_found(void)
{
	KT_ASSERT(kernel_acpi_ok);
	KT_ASSERT(kernel_acpi.ncpus >= 1);
	KT_ASSERT(kernel_acpi.nioapics >= 1);
	KT_ASSERT(kernel_acpi.lapic_addr != 0);
	return 0;
}
KTEST_SUITE(boot, KTEST_CASE(boot_info_valid), KTEST_CASE(boot_mmap_has_ram),
	    KTEST_CASE(boot_acpi_found));

/* ---- mem ---- */
static int mem_alloc_aligned(void)
{
	void *p = pages_alloc(3, 16);
	KT_ASSERT(p != NULL);
	KT_ASSERT(((uintptr_t)p & (16 * PAGE_SIZE - 1)) == 0);
	/* Zeroed and writable, all three pages. */
	const uint8_t *b = p;
	for (size_t i = 0; i < 3 * PAGE_SIZE; i++)
		KT_ASSERT(b[i] == 0);
	memset(p, 0xa5, 3 * PAGE_SIZE);
	pages_free(p, 3);
	return 0;
}

static int mem_free_returns_pages(void)
{
	uint64_t before, after, during;
	page_alloc_stats(NULL, &before);
	void *p = pages_alloc(64, 1);
	KT_ASSERT(p != NULL);
	page_alloc_stats(NULL, &during);
	KT_ASSERT_EQ(before - during, 64 * PAGE_SIZE);
	pages_free(p, 64);
	page_alloc_stats(NULL, &after);
	KT_ASSERT_EQ(after, before);
	return 0;
}

static int mem_double_free_refused(void)
{
	struct page_alloc *pa = page_alloc_kernel();
	uint64_t phys = pa_alloc(pa, 1, 1);
	KT_ASSERT(phys != 0);
	KT_ASSERT(pa_free(pa, phys, 1) == 0);
	KT_ASSERT(pa_free(pa, phys, 1) < 0);
	/* The kernel image was never free memory. */
	extern char __kernel_start[];
	KT_ASSERT(pa_free(pa, (uint64_t)__kernel_start, 1) < 0);
	return 0;
}

static int mem_malloc_large(void)
{
	size_t n = 8u << 20;
	uint8_t *p = malloc(n);
	KT_ASSERT(p != NULL);
	memset(p, 0x5a, n);
	KT_ASSERT(p[0] == 0x5a && p[n - 1] == 0x5a);
	free(p);
	return 0;
}
KTEST_SUITE(mem, KTEST_CASE(mem_alloc_aligned), KTEST_CASE(mem_free_returns_pages),
	    KTEST_CASE(mem_double_free_refused), KTEST_CASE(mem_malloc_large));

/* ---- irq ---- */
static volatile int hits_a, hits_b;
static void handler_a(void *ctx)
{
	hits_a += (int)(intptr_t)ctx;
}
static void handler_b(void *ctx)
{
	(void)ctx;
	hits_b++;
}

static int irq_self_ipi_delivered(void)
{
	uint64_t before = irq_count(SELFTEST_VECTOR);
	hits_a = 0;
	KT_ASSERT(irq_register(SELFTEST_VECTOR, handler_a, (void *)(intptr_t)3) == 0);
	lapic_self_ipi(SELFTEST_VECTOR);
	sleep_ns(1000000); /* delivered at once, but give it a moment */
	irq_unregister(SELFTEST_VECTOR, handler_a, (void *)(intptr_t)3);
	KT_ASSERT_EQ(hits_a, 3);
	KT_ASSERT_EQ(irq_count(SELFTEST_VECTOR), before + 1);
	return 0;
}

static int irq_shared_handlers_all_run(void)
{
	hits_a = hits_b = 0;
	KT_ASSERT(irq_register(SELFTEST_VECTOR, handler_a, (void *)(intptr_t)1) == 0);
	KT_ASSERT(irq_register(SELFTEST_VECTOR, handler_b, NULL) == 0);
	lapic_self_ipi(SELFTEST_VECTOR);
	lapic_self_ipi(SELFTEST_VECTOR);
	sleep_ns(1000000);
	irq_unregister(SELFTEST_VECTOR, handler_a, (void *)(intptr_t)1);
	irq_unregister(SELFTEST_VECTOR, handler_b, NULL);
	KT_ASSERT_EQ(hits_a, 2);
	KT_ASSERT_EQ(hits_b, 2);
	return 0;
}

static int irq_msi_message_format(void)
{
	uint64_t addr;
	uint32_t data;
	msi_compose(0x41, 3, &addr, &data);
	/* SDM vol. 3, 10.11.1/10.11.2: 0xFEE in bits 31:20, destination id in 19:12; data
	 * bits 7:0 vector, delivery mode 000 (fixed), trigger bit 15 clear (edge). */
	KT_ASSERT_EQ(addr, 0xfee03000ull);
	KT_ASSERT_EQ(data & 0xff, 0x41);
	KT_ASSERT_EQ(data & 0x8700, 0);
	return 0;
}
KTEST_SUITE(irq, KTEST_CASE(irq_self_ipi_delivered), KTEST_CASE(irq_shared_handlers_all_run),
	    KTEST_CASE(irq_msi_message_format));

/* ---- time ---- */
static int time_monotonic(void)
{
	uint64_t prev = time_ns();
	for (int i = 0; i < 1000; i++) {
		uint64_t now = time_ns();
		KT_ASSERT(now >= prev);
		prev = now;
	}
	return 0;
}

static int time_sleep_and_tick(void)
{
	uint64_t t0 = time_ns();
	sleep_ns(50000000);
	KT_ASSERT(time_ns() - t0 >= 50000000);
	/* The tick runs: three ticks come while we halt. TSC and LAPIC timer both follow the
	 * machine's clock, so however slow the host, three ticks take about 30 ms of it; the
	 * bound of a whole second only catches a tick that stopped. */
	uint64_t k0 = ticks(), t1 = time_ns();
	while (ticks() - k0 < 3 && time_ns() - t1 < 1000000000ull)
		cpu_hlt();
	KT_ASSERT(ticks() - k0 >= 3);
	return 0;
}
/* A sleep shorter than a tick spins: it must never halt (waiting for the next tick), also not
 * when the deadline passes between two readings of the clock (that race used to halt a whole
 * tick). Counted, not timed: a loaded host stretches any duration. */
static int time_short_sleep_no_tick_wait(void)
{
	uint64_t h0 = sleep_halts();
	for (int i = 0; i < 200; i++) {
		uint64_t t0 = time_ns();
		sleep_ns(1000000);
		KT_ASSERT(time_ns() - t0 >= 1000000);
	}
	KT_ASSERT_EQ(sleep_halts(), h0);
	/* ... while a long one does halt between ticks. */
	sleep_ns(3 * 1000000000ull / TICK_HZ);
	KT_ASSERT(sleep_halts() > h0);
	return 0;
}
KTEST_SUITE(time, KTEST_CASE(time_monotonic), KTEST_CASE(time_sleep_and_tick),
	    KTEST_CASE(time_short_sleep_no_tick_wait));

/* ---- libc (newlib as built for the kernel) ---- */
static int libc_formatting(void)
{
	char buf[96];
	int n = snprintf(buf, sizeof(buf), "%llu|%zu|%-4s|%#x|%5.2f|%jd", 18446744073709551615ull,
			 (size_t)42, "ab", 255u, 3.14159, (intmax_t)-7);
	KT_ASSERT(strcmp(buf, "18446744073709551615|42|ab  |0xff| 3.14|-7") == 0);
	KT_ASSERT_EQ(n, strlen(buf));
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int libc_strings_and_sort(void)
{
	int v[] = {5, -1, 9, 0, 3};
	qsort(v, 5, sizeof(v[0]), cmp_int);
	KT_ASSERT(v[0] == -1 && v[1] == 0 && v[2] == 3 && v[3] == 5 && v[4] == 9);
	KT_ASSERT_EQ(strtoul("0x1f", NULL, 0), 31);
	char *end;
	KT_ASSERT_EQ(strtoul("123abc", &end, 10), 123);
	KT_ASSERT(strcmp(end, "abc") == 0);
	return 0;
}
KTEST_SUITE(libc, KTEST_CASE(libc_formatting), KTEST_CASE(libc_strings_and_sort));

/* ---- shell ---- */
static int shell_parse_u64_range(void)
{
	unsigned long long v = 0;
	KT_ASSERT(shell_parse_u64("18446744073709551615", &v) == 0);
	KT_ASSERT_EQ(v, 18446744073709551615ull);
	KT_ASSERT(shell_parse_u64("0x10", &v) == 0);
	KT_ASSERT_EQ(v, 16);
	/* One past the top is junk, not the saturated maximum strtoull returns. */
	KT_ASSERT(shell_parse_u64("18446744073709551616", &v) < 0);
	KT_ASSERT(shell_parse_u64("0x10000000000000000", &v) < 0);
	KT_ASSERT(shell_parse_u64("12x", &v) < 0);
	KT_ASSERT(shell_parse_u64("-1", &v) < 0);
	KT_ASSERT(shell_parse_u64("", &v) < 0);
	return 0;
}
KTEST_SUITE(shell, KTEST_CASE(shell_parse_u64_range));
