/*
 * Physical page allocator: two bitmaps (avail, free) over 4 KiB pages. See page_alloc.h.
 *
 * Searches go a 64-bit word at a time: a word with no free bit is skipped with one compare, and
 * inside a word the next candidate comes from count-trailing-zeros, so an allocation costs
 * O(words scanned), not O(pages).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "page_alloc.h"

#define MIB (1024u * 1024u)

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* a + b, saturating: memory map entries come from firmware and may be nonsense. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* Mask of bits [bit, bit + n) in a word; n in 1..64, bit + n <= 64. */
static uint64_t bits_mask(unsigned bit, unsigned n)
{
	return (n == 64 ? ~0ull : ((1ull << n) - 1)) << bit;
}

/*
 * Walks [first, end) one word-sized piece at a time: *w is the word index, *mask the bits of
 * that word inside the range. Returns false when the range is used up. Callers keep *i.
 */
static bool range_step(uint64_t *i, uint64_t end, uint64_t *w, uint64_t *mask)
{
	if (*i >= end)
		return false;
	unsigned bit = *i % 64;
	unsigned n = (unsigned)min_u64(64 - bit, end - *i);
	*w = *i / 64;
	*mask = bits_mask(bit, n);
	*i += n;
	return true;
}

void pa_init(struct page_alloc *pa, uint64_t *bitmap, uint64_t max_pages)
{
	uint64_t nwords = (max_pages + 63) / 64;

	memset(pa, 0, sizeof(*pa));
	pa->free_map = bitmap;
	pa->avail_map = bitmap + nwords;
	pa->max_pages = max_pages;
	pa->nwords = nwords;
	memset(bitmap, 0, PA_BITMAP_WORDS(max_pages) * sizeof(uint64_t));
}

uint64_t pa_add_free(struct page_alloc *pa, uint64_t base, uint64_t len)
{
	/* Only whole pages: round the start up and the end down. */
	uint64_t end_addr = add_sat(base, len);
	uint64_t first = base / PAGE_SIZE + (base % PAGE_SIZE != 0);
	uint64_t end = min_u64(end_addr / PAGE_SIZE, pa->max_pages);
	uint64_t added = 0, i, w, mask;

	if (first == 0)
		first = 1; /* page 0 is never handed out: its address is pa_alloc's failure value */
	if (first >= end)
		return 0;
	i = first;
	while (range_step(&i, end, &w, &mask)) {
		uint64_t fresh = mask & ~pa->avail_map[w];
		pa->avail_map[w] |= fresh;
		pa->free_map[w] |= fresh;
		added += (uint64_t)__builtin_popcountll(fresh);
	}
	pa->avail_pages += added;
	pa->free_pages += added;
	return added;
}

uint64_t pa_reserve(struct page_alloc *pa, uint64_t base, uint64_t len)
{
	/* Round outward: a page holding any reserved byte is reserved. */
	uint64_t first = base / PAGE_SIZE;
	uint64_t end_addr = add_sat(base, len);
	uint64_t end = end_addr / PAGE_SIZE + (end_addr % PAGE_SIZE != 0);
	uint64_t removed = 0, removed_free = 0, i, w, mask;

	if (len == 0)
		return 0;
	end = min_u64(end, pa->max_pages);
	i = first;
	while (range_step(&i, end, &w, &mask)) {
		removed += (uint64_t)__builtin_popcountll(pa->avail_map[w] & mask);
		removed_free += (uint64_t)__builtin_popcountll(pa->free_map[w] & mask);
		pa->avail_map[w] &= ~mask;
		pa->free_map[w] &= ~mask;
	}
	pa->avail_pages -= removed;
	pa->free_pages -= removed_free;
	return removed;
}

/* First page index in [from, to) whose free bit is set (want_free) or clear; to if none. */
static uint64_t find_bit(const struct page_alloc *pa, uint64_t from, uint64_t to, bool want_free)
{
	uint64_t w, word;

	if (from >= to)
		return to;
	w = from / 64;
	word = want_free ? pa->free_map[w] : ~pa->free_map[w];
	word &= ~0ull << (from % 64);
	while (word == 0) {
		if (++w >= pa->nwords || w * 64 >= to)
			return to;
		word = want_free ? pa->free_map[w] : ~pa->free_map[w];
	}
	return min_u64(w * 64 + (uint64_t)__builtin_ctzll(word), to);
}

/* x rounded up to align (a power of two); saturates to the last aligned value. */
static uint64_t align_up(uint64_t x, uint64_t align)
{
	return x > UINT64_MAX - (align - 1) ? UINT64_MAX & ~(align - 1)
					    : (x + align - 1) & ~(align - 1);
}

/* First aligned run of n free pages starting in [from, to) and ending by to; 0 if none. */
static uint64_t find_run(const struct page_alloc *pa, uint64_t from, uint64_t to, uint64_t n,
			 uint64_t align)
{
	uint64_t i = from;

	while (i < to && n <= to - i) {
		uint64_t start = find_bit(pa, i, to, true);
		if (start >= to)
			return 0;
		start = align_up(start, align);
		if (start >= to || n > to - start)
			return 0;
		/* The run holds if its first busy page is past its end. */
		uint64_t busy = find_bit(pa, start, start + n, false);
		if (busy == start + n)
			return start;
		i = busy + 1;
	}
	return 0;
}

uint64_t pa_alloc(struct page_alloc *pa, size_t npages, size_t align_pages)
{
	uint64_t n = npages, align = align_pages ? align_pages : 1;
	uint64_t start, i, w, mask;

	if (n == 0 || (align & (align - 1)) != 0 || n > pa->free_pages)
		return 0;
	/* Next fit from the hint; then once from the bottom, which also finds runs crossing it. */
	start = find_run(pa, pa->hint, pa->max_pages, n, align);
	if (start == 0)
		start = find_run(pa, 0, pa->max_pages, n, align);
	if (start == 0)
		return 0; /* page 0 is never free, so 0 can only mean "not found" */
	i = start;
	while (range_step(&i, start + n, &w, &mask))
		pa->free_map[w] &= ~mask;
	pa->free_pages -= n;
	pa->hint = start + n < pa->max_pages ? start + n : 0;
	return start << PAGE_SHIFT;
}

int pa_free(struct page_alloc *pa, uint64_t phys, size_t npages)
{
	uint64_t first = phys >> PAGE_SHIFT, n = npages, i, w, mask;

	if (phys % PAGE_SIZE != 0 || n == 0 || first >= pa->max_pages || n > pa->max_pages - first)
		goto bad;
	/* Check everything before changing anything, so a bad free leaves no trace. */
	i = first;
	while (range_step(&i, first + n, &w, &mask))
		if ((mask & (~pa->avail_map[w] | pa->free_map[w])) != 0)
			goto bad;
	i = first;
	while (range_step(&i, first + n, &w, &mask))
		pa->free_map[w] |= mask;
	pa->free_pages += n;
	return 0;
bad:
	pa->bad_frees++;
	return -EINVAL;
}

uint64_t pa_free_pages(const struct page_alloc *pa)
{
	return pa->free_pages;
}

uint64_t pa_avail_pages(const struct page_alloc *pa)
{
	return pa->avail_pages;
}

/* ---- kernel side ---- */

#ifdef VIREO_KERNEL
/* The kernel's page tables identity-map all RAM, so a physical address is a pointer. */
void *page_alloc_phys_to_virt(uint64_t phys, size_t len)
{
	(void)len;
	return (void *)(uintptr_t)phys;
}

uint64_t page_alloc_virt_to_phys(const void *virt)
{
	return (uint64_t)(uintptr_t)virt;
}
#endif

static struct page_alloc kpa;
static const struct boot_info *kbi;
static uint64_t kbitmap_phys, kbitmap_bytes;

static bool is_ram(uint32_t type)
{
	return type == BOOT_MEM_USABLE || type == BOOT_MEM_LOADER;
}

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/*
 * Physical address for the bitmap: page aligned, inside a BOOT_MEM_USABLE entry, at or above
 * 1 MiB, clear of the kernel and of every non-RAM entry (maps may overlap). 0 if none fits.
 * Only USABLE, not LOADER: the loader's memory may still hold the kernel image (reserved later
 * anyway) and is not worth the risk for one small allocation.
 */
static uint64_t place_bitmap(const struct boot_info *bi, uint64_t bytes, uint64_t kstart,
			     uint64_t kend)
{
	for (uint32_t r = 0; r < bi->mmap_count; r++) {
		const struct boot_mmap_entry *e = &bi->mmap[r];
		uint64_t end = add_sat(e->base, e->length) & ~(uint64_t)(PAGE_SIZE - 1);
		uint64_t at = align_up(e->base > MIB ? e->base : MIB, PAGE_SIZE);

		if (e->type != BOOT_MEM_USABLE)
			continue;
		/* Each conflict moves `at` past one obstacle, so this ends after mmap_count + 1. */
		for (uint32_t tries = 0; tries <= bi->mmap_count + 1; tries++) {
			bool moved = false;

			if (at < e->base || at >= end || bytes > end - at)
				break;
			if (overlaps(at, at + bytes, kstart, kend)) {
				at = align_up(kend, PAGE_SIZE);
				continue;
			}
			for (uint32_t o = 0; o < bi->mmap_count && !moved; o++) {
				const struct boot_mmap_entry *f = &bi->mmap[o];
				uint64_t f_end = add_sat(f->base, f->length);
				if (!is_ram(f->type) && f->length != 0 &&
				    overlaps(at, at + bytes, f->base, f_end)) {
					at = align_up(f_end, PAGE_SIZE);
					moved = true;
				}
			}
			if (!moved)
				return at;
		}
	}
	return 0;
}

int page_alloc_init(const struct boot_info *bi, uint64_t kernel_start, uint64_t kernel_end)
{
	uint64_t highest = 0, max_pages, bytes, phys;
	uint64_t *bitmap;

	if (bi == NULL || bi->magic != BOOT_INFO_MAGIC || bi->mmap_count > BOOT_MMAP_MAX ||
	    kernel_end < kernel_start)
		return -EINVAL;
	for (uint32_t r = 0; r < bi->mmap_count; r++) {
		const struct boot_mmap_entry *e = &bi->mmap[r];
		if (is_ram(e->type) && e->length != 0)
			highest = highest > add_sat(e->base, e->length)
				      ? highest
				      : add_sat(e->base, e->length);
	}
	/* Pages past the last whole usable page can never be added, so they need no bits. */
	max_pages = highest / PAGE_SIZE;
	if (max_pages < 2)
		return -ENOMEM;
	bytes = align_up(PA_BITMAP_WORDS(max_pages) * sizeof(uint64_t), PAGE_SIZE);
	phys = place_bitmap(bi, bytes, kernel_start, kernel_end);
	if (phys == 0)
		return -ENOMEM;
	bitmap = page_alloc_phys_to_virt(phys, bytes);
	if (bitmap == NULL)
		return -EFAULT;

	pa_init(&kpa, bitmap, max_pages);
	for (uint32_t r = 0; r < bi->mmap_count; r++)
		if (is_ram(bi->mmap[r].type))
			pa_add_free(&kpa, bi->mmap[r].base, bi->mmap[r].length);
	/* Overlapping entries: anything firmware also calls reserved/ACPI/bad is not ours. */
	for (uint32_t r = 0; r < bi->mmap_count; r++)
		if (!is_ram(bi->mmap[r].type))
			pa_reserve(&kpa, bi->mmap[r].base, bi->mmap[r].length);
	/* Real-mode IVT, BIOS data area, EBDA, VGA memory and option ROMs live below 1 MiB;
	 * firmware maps do not always mark all of them, and nothing here needs low memory. */
	pa_reserve(&kpa, 0, MIB);
	pa_reserve(&kpa, kernel_start, kernel_end - kernel_start);
	pa_reserve(&kpa, phys, bytes);

	kbi = bi;
	kbitmap_phys = phys;
	kbitmap_bytes = bytes;
	return 0;
}

struct page_alloc *page_alloc_kernel(void)
{
	return &kpa;
}

void *pages_alloc_uninit(size_t npages, size_t align_pages)
{
	uint64_t phys = pa_alloc(&kpa, npages, align_pages);
	void *p;

	if (phys == 0)
		return NULL;
	p = page_alloc_phys_to_virt(phys, npages * PAGE_SIZE);
	if (p == NULL)
		pa_free(&kpa, phys, npages);
	return p;
}

void *pages_alloc(size_t npages, size_t align_pages)
{
	void *p = pages_alloc_uninit(npages, align_pages);
	if (p)
		memset(p, 0, npages * PAGE_SIZE);
	return p;
}

void pages_free(void *p, size_t npages)
{
	uint64_t phys;

	if (p == NULL)
		return;
	phys = page_alloc_virt_to_phys(p);
	if (pa_free(&kpa, phys, npages) != 0)
		printf("page_alloc: bad free of %lu page(s) at 0x%lx ignored (double free or not "
		       "ours)\n",
		       (unsigned long)npages, (unsigned long)phys);
}

void page_alloc_stats(uint64_t *total, uint64_t *free)
{
	if (total != NULL)
		*total = pa_avail_pages(&kpa) * PAGE_SIZE;
	if (free != NULL)
		*free = pa_free_pages(&kpa) * PAGE_SIZE;
}

static const char *mem_type_name(uint32_t type)
{
	switch (type) {
	case BOOT_MEM_USABLE:
		return "usable";
	case BOOT_MEM_RESERVED:
		return "reserved";
	case BOOT_MEM_ACPI_RECLAIM:
		return "ACPI reclaimable";
	case BOOT_MEM_ACPI_NVS:
		return "ACPI NVS";
	case BOOT_MEM_BAD:
		return "bad";
	case BOOT_MEM_LOADER:
		return "loader";
	default:
		return "unknown";
	}
}

void page_alloc_print(void)
{
	if (kbi == NULL) {
		printf("page_alloc: not initialised\n");
		return;
	}
	printf("memory map (%s):\n", kbi->loader);
	for (uint32_t r = 0; r < kbi->mmap_count; r++) {
		const struct boot_mmap_entry *e = &kbi->mmap[r];
		printf("  %016lx-%016lx %10lu KiB  %s\n", (unsigned long)e->base,
		       (unsigned long)(add_sat(e->base, e->length) - (e->length != 0)),
		       (unsigned long)(e->length / 1024), mem_type_name(e->type));
	}
	printf("page bitmap: %lu KiB at 0x%lx, %lu pages tracked\n",
	       (unsigned long)(kbitmap_bytes / 1024), (unsigned long)kbitmap_phys,
	       (unsigned long)kpa.max_pages);
	printf("pages: %lu KiB available, %lu KiB free, %lu KiB in use\n",
	       (unsigned long)(pa_avail_pages(&kpa) * 4), (unsigned long)(pa_free_pages(&kpa) * 4),
	       (unsigned long)((pa_avail_pages(&kpa) - pa_free_pages(&kpa)) * 4));
	if (kpa.bad_frees != 0)
		printf("bad frees rejected: %lu\n", (unsigned long)kpa.bad_frees);
}
