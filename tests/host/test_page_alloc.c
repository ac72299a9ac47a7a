/*
 * Host tests of the physical page allocator (kernel/page_alloc.c).
 *
 * The pa_* core runs over bitmaps in host memory. The kernel side (page_alloc_init, pages_*) runs
 * over a fake RAM buffer standing for physical [0, FAKE_RAM_SIZE): the test defines the two
 * platform hooks the kernel build defines as the identity.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/page_alloc.h"

#define KIB (1024ull)
#define MIB (1024ull * 1024)
#define GIB (1024ull * MIB)
#define PG  4096ull

/* ---- fake physical memory for the kernel side ---- */

#define FAKE_RAM_SIZE (8 * MIB)
static _Alignas(4096) uint8_t fake_ram[FAKE_RAM_SIZE];

void *page_alloc_phys_to_virt(uint64_t phys, size_t len)
{
	if (phys > FAKE_RAM_SIZE || len > FAKE_RAM_SIZE - phys)
		return NULL;
	return fake_ram + phys;
}

uint64_t page_alloc_virt_to_phys(const void *virt)
{
	const uint8_t *p = virt;
	if (p < fake_ram || p >= fake_ram + FAKE_RAM_SIZE)
		return 1; /* misaligned: pa_free rejects it */
	return (uint64_t)(p - fake_ram);
}

/* ---- helpers ---- */

struct fixture {
	struct page_alloc pa;
	uint64_t *bitmap;
};

static struct fixture *fx_new(uint64_t max_pages)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->bitmap = malloc(PA_BITMAP_WORDS(max_pages) * sizeof(uint64_t) + 8);
	assert_non_null(f->bitmap);
	/* pa_init must clear the storage itself: start it dirty. */
	memset(f->bitmap, 0xa5, PA_BITMAP_WORDS(max_pages) * sizeof(uint64_t) + 8);
	pa_init(&f->pa, f->bitmap, max_pages);
	return f;
}

static void fx_free(struct fixture *f)
{
	free(f->bitmap);
	free(f);
}

static int is_avail(const struct page_alloc *pa, uint64_t page)
{
	return (pa->avail_map[page / 64] >> (page % 64)) & 1;
}

static int is_free(const struct page_alloc *pa, uint64_t page)
{
	return (pa->free_map[page / 64] >> (page % 64)) & 1;
}

/* ---- core ---- */

static void test_init_starts_unavailable(void **state)
{
	(void)state;
	struct fixture *f = fx_new(1000);
	assert_int_equal(pa_free_pages(&f->pa), 0);
	assert_int_equal(pa_avail_pages(&f->pa), 0);
	assert_int_equal(pa_alloc(&f->pa, 1, 1), 0);
	/* The word just past the storage is not touched. */
	assert_int_equal(f->bitmap[PA_BITMAP_WORDS(1000)], 0xa5a5a5a5a5a5a5a5ull);
	fx_free(f);
}

static void test_contiguous(void **state)
{
	(void)state;
	struct fixture *f = fx_new(1024);
	assert_int_equal(pa_add_free(&f->pa, 0, 4 * MIB), 1023); /* page 0 left out */
	assert_int_equal(pa_free_pages(&f->pa), 1023);

	uint64_t a = pa_alloc(&f->pa, 1, 1);
	assert_int_equal(a, 0x1000);
	uint64_t b = pa_alloc(&f->pa, 10, 1);
	assert_int_equal(b, 0x2000);
	for (uint64_t p = b / PG; p < b / PG + 10; p++)
		assert_false(is_free(&f->pa, p));
	assert_true(is_free(&f->pa, b / PG + 10));
	assert_int_equal(pa_free_pages(&f->pa), 1023 - 11);
	/* One allocation the size of everything else. */
	uint64_t c = pa_alloc(&f->pa, 1023 - 11, 1);
	assert_int_equal(c, 0xc000);
	assert_int_equal(pa_free_pages(&f->pa), 0);
	fx_free(f);
}

static void test_aligned(void **state)
{
	(void)state;
	struct fixture *f = fx_new(8192); /* 32 MiB */
	pa_add_free(&f->pa, 0, 32 * MIB);

	assert_int_equal(pa_alloc(&f->pa, 1, 1), 0x1000);
	uint64_t a = pa_alloc(&f->pa, 16, 16);
	assert_int_equal(a, 64 * KIB);
	/* 2 MiB aligned, 2 MiB long: a huge-page-sized block. */
	uint64_t h = pa_alloc(&f->pa, 512, 512);
	assert_int_equal(h, 2 * MIB);
	uint64_t h2 = pa_alloc(&f->pa, 512, 512);
	assert_int_equal(h2, 4 * MIB);
	/* Odd length with alignment: starts aligned, the next one is unaligned right after it. */
	uint64_t o = pa_alloc(&f->pa, 3, 8);
	assert_int_equal(o % (8 * PG), 0);
	assert_int_equal(pa_alloc(&f->pa, 1, 1), o + 3 * PG);
	/* Bad arguments. */
	assert_int_equal(pa_alloc(&f->pa, 1, 3), 0);
	assert_int_equal(pa_alloc(&f->pa, 1, 12), 0);
	assert_int_equal(pa_alloc(&f->pa, 0, 1), 0);
	/* align 0 means 1. */
	assert_int_not_equal(pa_alloc(&f->pa, 1, 0), 0);
	/* Alignment bigger than what is left above the hint and below the top: wrap finds none
	 * since 32 MiB-aligned would be page 0 (never free) or past the end. */
	assert_int_equal(pa_alloc(&f->pa, 1, 8192), 0);
	fx_free(f);
}

static void test_exhaustion(void **state)
{
	(void)state;
	struct fixture *f = fx_new(300);
	pa_add_free(&f->pa, 0, 300 * PG);
	uint64_t n = 0, last = 0;
	for (;;) {
		uint64_t a = pa_alloc(&f->pa, 1, 1);
		if (a == 0)
			break;
		assert_true(a > last); /* next fit walks upward over a fresh map */
		last = a;
		n++;
	}
	assert_int_equal(n, 299);
	assert_int_equal(last, 299 * PG);
	assert_int_equal(pa_free_pages(&f->pa), 0);
	assert_int_equal(pa_alloc(&f->pa, 1, 1), 0);
	/* Freeing one page makes exactly that page available again. */
	assert_int_equal(pa_free(&f->pa, 77 * PG, 1), 0);
	assert_int_equal(pa_alloc(&f->pa, 2, 1), 0);
	assert_int_equal(pa_alloc(&f->pa, 1, 1), 77 * PG);
	fx_free(f);
}

static void test_fragmentation(void **state)
{
	(void)state;
	struct fixture *f = fx_new(256);
	pa_add_free(&f->pa, PG, 255 * PG);
	for (int i = 1; i < 256; i++)
		assert_int_equal(pa_alloc(&f->pa, 1, 1), (uint64_t)i * PG);
	/* Free every other page: half the memory is free, none of it contiguous. */
	for (int i = 1; i < 256; i += 2)
		assert_int_equal(pa_free(&f->pa, (uint64_t)i * PG, 1), 0);
	assert_int_equal(pa_free_pages(&f->pa), 128);
	assert_int_equal(pa_alloc(&f->pa, 2, 1), 0);
	assert_int_equal(pa_free_pages(&f->pa), 128);
	/* Free page 100: pages 99..101 form the only run of three. */
	assert_int_equal(pa_free(&f->pa, 100 * PG, 1), 0);
	assert_int_equal(pa_alloc(&f->pa, 3, 1), 99 * PG);
	assert_int_equal(pa_alloc(&f->pa, 2, 1), 0);
	assert_int_equal(pa_alloc(&f->pa, 1, 1) % (2 * PG), PG); /* odd pages are what is left */
	fx_free(f);
}

static void test_free_realloc_and_wrap(void **state)
{
	(void)state;
	struct fixture *f = fx_new(16);
	pa_add_free(&f->pa, 0, 16 * PG); /* pages 1..15 */
	assert_int_equal(pa_alloc(&f->pa, 5, 1), 1 * PG);
	assert_int_equal(pa_alloc(&f->pa, 5, 1), 6 * PG);
	/* Free 3..8, straddling both allocations (a partial free of each is allowed). */
	assert_int_equal(pa_free(&f->pa, 3 * PG, 6), 0);
	assert_int_equal(pa_free_pages(&f->pa), 5 + 6);
	/* Above the hint (page 11) only 5 pages are free: the wrapped search finds 3..8. */
	assert_int_equal(pa_alloc(&f->pa, 6, 1), 3 * PG);
	assert_int_equal(pa_alloc(&f->pa, 5, 1), 11 * PG);
	assert_int_equal(pa_free_pages(&f->pa), 0);
	assert_int_equal(pa_free(&f->pa, PG, 15), 0);
	assert_int_equal(pa_free_pages(&f->pa), 15);
	assert_int_equal(pa_alloc(&f->pa, 15, 1), PG);
	fx_free(f);
}

static void test_double_free(void **state)
{
	(void)state;
	struct fixture *f = fx_new(64);
	pa_add_free(&f->pa, 0, 64 * PG);
	uint64_t a = pa_alloc(&f->pa, 4, 1);
	uint64_t b = pa_alloc(&f->pa, 4, 1);
	assert_int_equal(pa_free(&f->pa, a, 4), 0);
	uint64_t free_before = pa_free_pages(&f->pa);
	assert_int_equal(pa_free(&f->pa, a, 4), -EINVAL);
	assert_int_equal(pa_free(&f->pa, a + PG, 1), -EINVAL);
	/* A range that is half allocated (b) and half free (after b) frees nothing. */
	assert_int_equal(pa_free(&f->pa, b + 2 * PG, 4), -EINVAL);
	assert_int_equal(pa_free_pages(&f->pa), free_before);
	for (int i = 0; i < 4; i++)
		assert_false(is_free(&f->pa, b / PG + i));
	assert_int_equal(f->pa.bad_frees, 3);
	/* b is still intact and frees fine. */
	assert_int_equal(pa_free(&f->pa, b, 4), 0);
	fx_free(f);
}

static void test_bad_frees(void **state)
{
	(void)state;
	struct fixture *f = fx_new(64);
	pa_add_free(&f->pa, 0, 32 * PG); /* pages 1..31; 32..63 never available */
	pa_reserve(&f->pa, 8 * PG, 2 * PG);
	uint64_t free_before = pa_free_pages(&f->pa);
	assert_int_equal(pa_free(&f->pa, 0, 1), -EINVAL);	   /* page 0 */
	assert_int_equal(pa_free(&f->pa, 8 * PG, 1), -EINVAL);	   /* reserved */
	assert_int_equal(pa_free(&f->pa, 40 * PG, 1), -EINVAL);	   /* never added */
	assert_int_equal(pa_free(&f->pa, 2 * PG + 8, 1), -EINVAL); /* misaligned */
	assert_int_equal(pa_free(&f->pa, 64 * PG, 1), -EINVAL);	   /* past max_pages */
	assert_int_equal(pa_free(&f->pa, 60 * PG, 8), -EINVAL);	   /* runs past max_pages */
	assert_int_equal(pa_free(&f->pa, UINT64_MAX & ~0xfffull, 1), -EINVAL);
	uint64_t a = pa_alloc(&f->pa, 1, 1);
	assert_int_equal(pa_free(&f->pa, a, 0), -EINVAL); /* nothing to free */
	assert_int_equal(pa_free_pages(&f->pa), free_before - 1);
	/* An allocated page reserved afterwards is no longer ours to free. */
	pa_reserve(&f->pa, a, PG);
	assert_int_equal(pa_free(&f->pa, a, 1), -EINVAL);
	assert_int_equal(f->pa.bad_frees, 9);
	fx_free(f);
}

static void test_reserved_never_returned(void **state)
{
	(void)state;
	struct fixture *f = fx_new(512);
	pa_add_free(&f->pa, 0, 2 * MIB);
	/* Rounds outward: 0x3800..0x4800 touches pages 3 and 4. */
	assert_int_equal(pa_reserve(&f->pa, 0x3800, 0x1000), 2);
	/* A fake ACPI region at 0x100000, not page-sized. */
	assert_int_equal(pa_reserve(&f->pa, 0x100000, 0x1234), 2);
	/* Reserving again removes nothing more; zero length reserves nothing. */
	assert_int_equal(pa_reserve(&f->pa, 0x3000, 0x2000), 0);
	assert_int_equal(pa_reserve(&f->pa, 0x50000, 0), 0);
	assert_int_equal(pa_free_pages(&f->pa), 511 - 4);
	uint64_t n = 0, a;
	while ((a = pa_alloc(&f->pa, 1, 1)) != 0) {
		assert_true(a != 0x3000 && a != 0x4000);
		assert_true(a < 0x100000 || a >= 0x102000);
		n++;
	}
	assert_int_equal(n, 511 - 4);
	fx_free(f);
}

static void test_add_free_boundaries(void **state)
{
	(void)state;
	struct fixture *f = fx_new(100);
	/* Not page aligned at either end: only pages 2, 3, 4 are whole. */
	assert_int_equal(pa_add_free(&f->pa, 0x1800, 0x4000), 3);
	assert_false(is_avail(&f->pa, 1));
	assert_true(is_avail(&f->pa, 2) && is_avail(&f->pa, 4));
	assert_false(is_avail(&f->pa, 5));
	/* Smaller than a page, inside one page, or zero length: nothing. */
	assert_int_equal(pa_add_free(&f->pa, 0x10100, 0x800), 0);
	assert_int_equal(pa_add_free(&f->pa, 0x10000, 0), 0);
	/* Straddling a page boundary without a whole page: nothing. */
	assert_int_equal(pa_add_free(&f->pa, 0x10800, 0x1000), 0);
	/* Overlapping ranges count each page once. */
	assert_int_equal(pa_add_free(&f->pa, 0x20000, 0x5000), 5);
	assert_int_equal(pa_add_free(&f->pa, 0x22000, 0x6000), 3);
	assert_int_equal(pa_avail_pages(&f->pa), 3 + 5 + 3);
	/* Re-adding an allocated page does not make it free again. */
	uint64_t a = pa_alloc(&f->pa, 1, 1);
	assert_int_equal(pa_add_free(&f->pa, a, PG), 0);
	assert_false(is_free(&f->pa, a / PG));
	/* A range running past max_pages and past 2^64 is clipped to page 99. */
	assert_int_equal(pa_add_free(&f->pa, 90 * PG, UINT64_MAX), 10);
	assert_true(is_avail(&f->pa, 99));
	assert_int_equal(pa_reserve(&f->pa, 99 * PG, UINT64_MAX), 1);
	/* Entirely beyond max_pages: nothing. */
	assert_int_equal(pa_add_free(&f->pa, 200 * PG, 10 * PG), 0);
	fx_free(f);
}

static void test_last_page(void **state)
{
	(void)state;
	/* max_pages not a multiple of 64: the last page is usable, nothing past it is. */
	struct fixture *f = fx_new(130);
	pa_add_free(&f->pa, 128 * PG, 100 * PG);
	assert_int_equal(pa_free_pages(&f->pa), 2);
	assert_int_equal(pa_alloc(&f->pa, 2, 1), 128 * PG);
	assert_int_equal(pa_alloc(&f->pa, 1, 1), 0);
	assert_int_equal(pa_free(&f->pa, 129 * PG, 1), 0);
	assert_int_equal(pa_alloc(&f->pa, 1, 1), 129 * PG);
	fx_free(f);
}

static void test_sparse_big_map(void **state)
{
	(void)state;
	/* 4 GiB of pages with only the last 10 free: the search must skip whole words. */
	const uint64_t pages = 1ull << 20;
	struct fixture *f = fx_new(pages);
	pa_add_free(&f->pa, (pages - 10) * PG, 10 * PG);
	for (int i = 0; i < 1000; i++) {
		uint64_t a = pa_alloc(&f->pa, 10, 1);
		assert_int_equal(a, (pages - 10) * PG);
		assert_int_equal(pa_free(&f->pa, a, 10), 0);
	}
	assert_int_equal(pa_alloc(&f->pa, 11, 1), 0);
	fx_free(f);
}

/* Random allocations and frees checked against a byte-per-page model. */
static void test_random_against_model(void **state)
{
	(void)state;
	const uint64_t pages = 700;
	struct fixture *f = fx_new(pages);
	uint8_t model[700] = {0}; /* 0 unavailable, 1 free, 2 allocated */
	struct {
		uint64_t addr, n;
	} live[400];
	int nlive = 0;

	pa_add_free(&f->pa, 3 * PG + 1, 300 * PG); /* pages 4..302 */
	pa_add_free(&f->pa, 350 * PG, 350 * PG);   /* pages 350..699 */
	pa_reserve(&f->pa, 500 * PG, 20 * PG);
	for (uint64_t p = 0; p < pages; p++)
		model[p] = ((p >= 4 && p <= 302) || (p >= 350 && !(p >= 500 && p < 520))) ? 1 : 0;

	srand(1234);
	for (int step = 0; step < 20000; step++) {
		if (nlive < 400 && (rand() % 3 != 0 || nlive == 0)) {
			uint64_t n = 1 + (uint64_t)(rand() % 9);
			uint64_t align = 1ull << (rand() % 4);
			uint64_t a = pa_alloc(&f->pa, n, align);
			if (a == 0) {
				/* Must really be no aligned free run of n pages. */
				for (uint64_t s = align; s + n <= pages; s += align) {
					uint64_t k = 0;
					while (k < n && model[s + k] == 1)
						k++;
					assert_true(k < n);
				}
				continue;
			}
			assert_int_equal(a % (align * PG), 0);
			for (uint64_t k = 0; k < n; k++) {
				assert_int_equal(model[a / PG + k], 1);
				model[a / PG + k] = 2;
			}
			live[nlive].addr = a;
			live[nlive].n = n;
			nlive++;
		} else {
			int i = rand() % nlive;
			assert_int_equal(pa_free(&f->pa, live[i].addr, live[i].n), 0);
			for (uint64_t k = 0; k < live[i].n; k++)
				model[live[i].addr / PG + k] = 1;
			live[i] = live[--nlive];
		}
		uint64_t nfree = 0;
		for (uint64_t p = 0; p < pages; p++)
			nfree += model[p] == 1;
		assert_int_equal(pa_free_pages(&f->pa), nfree);
	}
	for (uint64_t p = 0; p < pages; p++) {
		assert_int_equal(is_avail(&f->pa, p), model[p] != 0);
		assert_int_equal(is_free(&f->pa, p), model[p] == 1);
	}
	fx_free(f);
}

/* ---- kernel side: page_alloc_init over synthetic boot_info ---- */

static struct boot_info bi;

static void bi_reset(void)
{
	memset(&bi, 0, sizeof(bi));
	bi.magic = BOOT_INFO_MAGIC;
	strcpy(bi.loader, "multiboot");
}

static void bi_add(uint64_t base, uint64_t len, uint32_t type)
{
	assert_true(bi.mmap_count < BOOT_MMAP_MAX);
	bi.mmap[bi.mmap_count].base = base;
	bi.mmap[bi.mmap_count].length = len;
	bi.mmap[bi.mmap_count].type = type;
	bi.mmap_count++;
}

/* QEMU q35, 128 MiB, SeaBIOS E820 (as QEMU reports it). */
static void bi_q35_bios(void)
{
	bi_reset();
	bi_add(0, 0x9fc00, BOOT_MEM_USABLE);
	bi_add(0x9fc00, 0x400, BOOT_MEM_RESERVED);
	bi_add(0xf0000, 0x10000, BOOT_MEM_RESERVED);
	bi_add(0x100000, 0x7ee0000 - 0x20000, BOOT_MEM_USABLE);
	bi_add(0x7fc0000, 0x40000, BOOT_MEM_ACPI_RECLAIM); /* fake ACPI tables */
	bi_add(0xb0000000, 0x10000000, BOOT_MEM_RESERVED);
	bi_add(0xfed1c000, 0x4000, BOOT_MEM_RESERVED);
	bi_add(0xfeffc000, 0x4000, BOOT_MEM_RESERVED);
	bi_add(0xfffc0000, 0x40000, BOOT_MEM_RESERVED);
}

#define KSTART 0x100000ull
#define KEND   0x180000ull

static uint64_t bitmap_phys(void)
{
	return (uint64_t)((uint8_t *)page_alloc_kernel()->free_map - fake_ram);
}

static void test_init_q35(void **state)
{
	(void)state;
	bi_q35_bios();
	assert_int_equal(page_alloc_init(&bi, KSTART, KEND), 0);
	struct page_alloc *pa = page_alloc_kernel();
	/* Tracks up to the end of the highest usable entry. */
	assert_int_equal(pa->max_pages, 0x7fc0000 / PG);
	/* Bitmap: 2 bits x 32704 pages = 8 KiB, right after the kernel (1 MiB is the kernel). */
	assert_int_equal(bitmap_phys(), KEND);
	/* Usable: [1 MiB, 0x7fc0000) minus kernel (128 pages) and bitmap (2 pages). */
	uint64_t expect = (0x7fc0000 - 0x100000) / PG - 128 - 2;
	uint64_t total, nfree;
	page_alloc_stats(&total, &nfree);
	assert_int_equal(total, expect * PG);
	assert_int_equal(nfree, expect * PG);
	page_alloc_stats(NULL, NULL);

	uint64_t n = 0, a;
	while ((a = pa_alloc(pa, 1, 1)) != 0) {
		assert_true(a >= MIB);			     /* first MiB */
		assert_true(a < KSTART || a >= KEND);	     /* kernel image */
		assert_true(a < KEND || a >= KEND + 2 * PG); /* bitmap */
		assert_true(a < 0x7fc0000);		     /* ACPI tables and above */
		n++;
	}
	assert_int_equal(n, expect);
	page_alloc_stats(&total, &nfree);
	assert_int_equal(nfree, 0);
	assert_int_equal(total, expect * PG);
}

static void test_init_holes_above_4g(void **state)
{
	(void)state;
	/* UEFI-style: usable low memory, loader regions, a hole, and RAM above 4 GiB. */
	bi_reset();
	strcpy(bi.loader, "uefi");
	bi_add(0x1000, 0x9f000, BOOT_MEM_USABLE);
	bi_add(0x100000, 0x100000, BOOT_MEM_LOADER); /* the kernel image was placed in here */
	bi_add(0x200000, 0x600000, BOOT_MEM_USABLE);
	bi_add(0x800000, 0x8000, BOOT_MEM_ACPI_NVS);
	bi_add(0x808000, 2 * GIB - 0x808000, BOOT_MEM_LOADER);
	bi_add(4 * GIB, 2 * GIB, BOOT_MEM_USABLE);
	bi_add(8 * GIB, 0, BOOT_MEM_USABLE); /* zero length: must not raise max_pages */
	assert_int_equal(page_alloc_init(&bi, KSTART, KEND), 0);
	struct page_alloc *pa = page_alloc_kernel();
	assert_int_equal(pa->max_pages, 6 * GIB / PG);
	/* Bitmap: 2 x 1.5 Mi pages / 8 = 384 KiB, in the first USABLE entry above 1 MiB (the
	 * LOADER entry at 1 MiB is not considered). */
	assert_int_equal(bitmap_phys(), 0x200000);
	assert_false(is_avail(pa, 0x200000 / PG));
	assert_false(is_avail(pa, (0x200000 + 384 * KIB) / PG - 1));
	assert_true(is_avail(pa, (0x200000 + 384 * KIB) / PG));
	/* LOADER memory is free except the kernel image in it. */
	assert_true(is_free(pa, KEND / PG));
	assert_false(is_avail(pa, (KEND - 1) / PG));
	assert_true(is_free(pa, 0x808000 / PG));
	/* NVS and the hole are never ours. */
	assert_false(is_avail(pa, 0x800000 / PG));
	assert_int_equal(pa_free(pa, 3 * GIB, 1), -EINVAL);
	assert_int_equal(pa_free(pa, 0x804000, 1), -EINVAL);
	/* The last page of the map is usable. */
	assert_true(is_free(pa, 6 * GIB / PG - 1));
	/* A 4 GiB-aligned page can only be the first page above the hole. */
	assert_int_equal(pa_alloc(pa, 1, 4 * GIB / PG), 4 * GIB);
	/* 1 GiB-aligned 1 GiB runs: next fit takes [5, 6) GiB above the hint first, then wraps
	 * to [1, 2) GiB (below 1 GiB sit the first MiB, kernel, bitmap and NVS); no third one. */
	assert_int_equal(pa_alloc(pa, GIB / PG, GIB / PG), 5 * GIB);
	assert_int_equal(pa_alloc(pa, GIB / PG, GIB / PG), 1 * GIB);
	assert_int_equal(pa_alloc(pa, GIB / PG, GIB / PG), 0);
	uint64_t total;
	page_alloc_stats(&total, NULL);
	uint64_t expect = 2 * GIB - MIB	    /* below 2 GiB, minus the first MiB */
			  - 0x8000	    /* NVS */
			  - (KEND - KSTART) /* kernel */
			  - 384 * KIB	    /* bitmap */
			  + 2 * GIB;	    /* above 4 GiB */
	assert_int_equal(total, expect);
}

static void test_init_overlapping_and_unaligned(void **state)
{
	(void)state;
	bi_reset();
	bi_add(0, 0xa0000, BOOT_MEM_USABLE);
	bi_add(0x100400, 0x3f00000, BOOT_MEM_USABLE);	 /* unaligned base and end */
	bi_add(0x2000000, 0x800, BOOT_MEM_ACPI_RECLAIM); /* inside usable: reserved wins */
	bi_add(0x180000, 0x1000, BOOT_MEM_BAD);		 /* right where the bitmap would go */
	bi_add(0x3000000, 0x2000000, BOOT_MEM_USABLE);	 /* overlaps the big entry */
	bi_add(0x4800000, 0, BOOT_MEM_RESERVED);	 /* zero length: no effect */
	assert_int_equal(page_alloc_init(&bi, KSTART, KEND), 0);
	struct page_alloc *pa = page_alloc_kernel();
	assert_int_equal(pa->max_pages, 0x5000000 / PG);
	/* Bitmap (2 x 20480 pages / 8 = 5 KiB -> 2 pages) skips the kernel and the bad page. */
	assert_int_equal(bitmap_phys(), 0x181000);
	assert_false(is_avail(pa, 0x180000 / PG));
	assert_false(is_avail(pa, 0x181000 / PG));
	assert_false(is_avail(pa, 0x182000 / PG));
	assert_true(is_free(pa, 0x183000 / PG));
	assert_false(is_avail(pa, 0x2000000 / PG));
	assert_true(is_free(pa, 0x2001000 / PG));
	assert_true(is_free(pa, 0x4000000 / PG)); /* whole only thanks to the overlapping entry */
	assert_true(is_free(pa, 0x4800000 / PG));
	assert_false(is_avail(pa, 0x9f000 / PG)); /* first MiB */
	assert_false(is_avail(pa, 0x100000 / PG));
	/* Whole pages from 0x101000 (unaligned base), minus kernel pages above it, the bad page,
	 * the bitmap and the ACPI page. */
	uint64_t expect = (0x5000000 - 0x101000) / PG - 127 - 1 - 2 - 1;
	assert_int_equal(pa_avail_pages(pa), expect);
}

static void test_init_errors(void **state)
{
	(void)state;
	bi_q35_bios();
	bi.magic = 0;
	assert_int_equal(page_alloc_init(&bi, KSTART, KEND), -EINVAL);
	assert_int_equal(page_alloc_init(NULL, KSTART, KEND), -EINVAL);
	bi_q35_bios();
	assert_int_equal(page_alloc_init(&bi, KEND, KSTART), -EINVAL);
	bi.mmap_count = BOOT_MMAP_MAX + 1;
	assert_int_equal(page_alloc_init(&bi, KSTART, KEND), -EINVAL);

	/* No RAM at all. */
	bi_reset();
	bi_add(0xf0000, 0x10000, BOOT_MEM_RESERVED);
	assert_int_equal(page_alloc_init(&bi, KSTART, KEND), -ENOMEM);
	/* Only low memory: no place for the bitmap above 1 MiB. */
	bi_reset();
	bi_add(0, 0xa0000, BOOT_MEM_USABLE);
	assert_int_equal(page_alloc_init(&bi, 0, 0), -ENOMEM);
	/* RAM above 1 MiB taken by the kernel up to its end. */
	bi_reset();
	bi_add(0x100000, 0x100000, BOOT_MEM_USABLE);
	assert_int_equal(page_alloc_init(&bi, 0x100000, 0x200000), -ENOMEM);
	/* The bitmap lands outside what phys_to_virt reaches. */
	bi_reset();
	bi_add(0x100000, 0x100000, BOOT_MEM_RESERVED);
	bi_add(0x10000000, 0x1000000, BOOT_MEM_USABLE);
	assert_int_equal(page_alloc_init(&bi, KSTART, KEND), -EFAULT);
}

static void test_pages_alloc_free(void **state)
{
	(void)state;
	bi_reset();
	bi_add(0, 0x9fc00, BOOT_MEM_USABLE);
	bi_add(0x100000, FAKE_RAM_SIZE - 0x100000, BOOT_MEM_USABLE);
	assert_int_equal(page_alloc_init(&bi, KSTART, KEND), 0);
	memset(fake_ram + KEND + PG, 0xaa, FAKE_RAM_SIZE - KEND - PG); /* dirty the RAM */

	uint64_t total, free0, free1;
	page_alloc_stats(&total, &free0);
	uint8_t *p = pages_alloc(3, 4);
	assert_non_null(p);
	assert_int_equal((uint64_t)(p - fake_ram) % (4 * PG), 0);
	for (size_t i = 0; i < 3 * PG; i++)
		assert_int_equal(p[i], 0);
	page_alloc_stats(NULL, &free1);
	assert_int_equal(free1, free0 - 3 * PG);
	pages_free(p, 3);
	page_alloc_stats(NULL, &free1);
	assert_int_equal(free1, free0);
	/* Double free and foreign pointers are reported and ignored. */
	uint64_t bad = page_alloc_kernel()->bad_frees;
	pages_free(p, 3);
	int local;
	pages_free(&local, 1);
	pages_free(NULL, 1);
	assert_int_equal(page_alloc_kernel()->bad_frees, bad + 2);
	page_alloc_stats(NULL, &free1);
	assert_int_equal(free1, free0);
	assert_null(pages_alloc(0, 1));
	assert_null(pages_alloc(FAKE_RAM_SIZE / PG, 1));
	page_alloc_print();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_starts_unavailable),
	    cmocka_unit_test(test_contiguous),
	    cmocka_unit_test(test_aligned),
	    cmocka_unit_test(test_exhaustion),
	    cmocka_unit_test(test_fragmentation),
	    cmocka_unit_test(test_free_realloc_and_wrap),
	    cmocka_unit_test(test_double_free),
	    cmocka_unit_test(test_bad_frees),
	    cmocka_unit_test(test_reserved_never_returned),
	    cmocka_unit_test(test_add_free_boundaries),
	    cmocka_unit_test(test_last_page),
	    cmocka_unit_test(test_sparse_big_map),
	    cmocka_unit_test(test_random_against_model),
	    cmocka_unit_test(test_init_q35),
	    cmocka_unit_test(test_init_holes_above_4g),
	    cmocka_unit_test(test_init_overlapping_and_unaligned),
	    cmocka_unit_test(test_init_errors),
	    cmocka_unit_test(test_pages_alloc_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
