/*
 * Physical page allocator: a bitmap over 4 KiB pages.
 *
 * The core (pa_*) is portable: it never touches the memory it manages, only the bitmap storage
 * the caller hands it, so the same code runs in the kernel and in the host tests.
 *
 * Every page has two bits. "avail" says the page is RAM we may hand out (added by pa_add_free
 * and not reserved since); "free" says it is avail and not allocated right now. Keeping both
 * lets pa_free tell a double free (avail, already free) and a free of memory we never owned
 * (not avail: firmware, ACPI tables, the kernel image) from a good free.
 *
 * The kernel side (page_alloc_init, pages_alloc, ...) runs one global allocator built from the
 * boot memory map. It reaches memory only through page_alloc_phys_to_virt() and
 * page_alloc_virt_to_phys(): the kernel build defines them as the identity (its page tables map
 * all RAM at phys == virt); host tests define them over a fake RAM buffer.
 *
 * Not reentrant: callers serialise (Vireo allocates pages from thread context only, never from
 * interrupt handlers).
 */
#ifndef VIREO_PAGE_ALLOC_H
#define VIREO_PAGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "boot/boot_info.h"

#define PAGE_SIZE  4096u
#define PAGE_SHIFT 12

/* uint64_t words of bitmap storage pa_init needs for max_pages pages (two bits per page). */
#define PA_BITMAP_WORDS(max_pages) (2 * (((uint64_t)(max_pages) + 63) / 64))

struct page_alloc {
	uint64_t *free_map;  /* bit set: avail and not allocated */
	uint64_t *avail_map; /* bit set: added by pa_add_free and not reserved since */
	uint64_t max_pages;  /* pages [0, max_pages) are tracked; anything above is ignored */
	uint64_t nwords;     /* words in each of the two maps */
	uint64_t avail_pages;
	uint64_t free_pages;
	uint64_t hint;	    /* next-fit: page index where the next search starts */
	uint64_t bad_frees; /* pa_free calls rejected with -EINVAL, for diagnostics */
};

/*
 * Set up pa over pages [0, max_pages) with bitmap storage of PA_BITMAP_WORDS(max_pages) words,
 * which the caller owns and must keep alive. Every page starts "not available".
 */
void pa_init(struct page_alloc *pa, uint64_t *bitmap, uint64_t max_pages);

/*
 * Make the whole pages inside [base, base + len) available and free. Partial pages at either end
 * are left out (we may not own their other bytes), as are page 0 (0 is the failure value of
 * pa_alloc) and pages at or above max_pages. Pages already available keep their state, so
 * overlapping ranges are harmless. Returns the number of pages that became available.
 */
uint64_t pa_add_free(struct page_alloc *pa, uint64_t base, uint64_t len);

/*
 * Make every page touching [base, base + len) unavailable (rounds outward: a page that holds
 * one reserved byte is reserved). Allocated pages in the range are forgotten too: freeing them
 * later fails with -EINVAL. Returns the number of pages that stopped being available.
 */
uint64_t pa_reserve(struct page_alloc *pa, uint64_t base, uint64_t len);

/*
 * Allocate npages contiguous free pages whose first page index is a multiple of align_pages
 * (a power of two; 0 means 1). Returns the physical address, or 0 when no such run exists or the
 * arguments are bad (npages 0, align not a power of two). Next-fit: the search starts where
 * the previous allocation ended and wraps around once.
 */
uint64_t pa_alloc(struct page_alloc *pa, size_t npages, size_t align_pages);

/*
 * Free npages pages starting at phys. Returns 0, or -EINVAL without freeing anything when phys
 * is not page aligned, npages is 0, the range leaves the tracked pages, or any page in it is
 * already free (double free) or was never available (reserved, never added).
 */
int pa_free(struct page_alloc *pa, uint64_t phys, size_t npages);

/* Number of free pages. */
uint64_t pa_free_pages(const struct page_alloc *pa);

/* Number of available pages (free + allocated). */
uint64_t pa_avail_pages(const struct page_alloc *pa);

/* ---- kernel side: one global allocator built from the boot memory map ---- */

/*
 * Platform hooks. The kernel build defines both as the identity (phys == virt); host tests
 * provide their own. phys_to_virt returns NULL when [phys, phys + len) is not reachable.
 */
void *page_alloc_phys_to_virt(uint64_t phys, size_t len);
uint64_t page_alloc_virt_to_phys(const void *virt);

/*
 * Build the global allocator from bi's memory map. Tracks pages up to the end of the highest
 * BOOT_MEM_USABLE/LOADER entry, places the bitmap in the first usable region that fits it above
 * 1 MiB and outside [kernel_start, kernel_end), adds USABLE and LOADER entries (the kernel has
 * copied boot_info by now), then reserves every other entry type (where entries overlap,
 * reserved wins), the first 1 MiB (IVT, BIOS data, EBDA, option ROMs), the kernel image and
 * the bitmap. bi must stay alive (page_alloc_print reads its map). Calling it again starts over.
 * Returns 0, -EINVAL for a bad boot_info, -ENOMEM when there is no usable RAM or no room for
 * the bitmap, -EFAULT when the bitmap cannot be mapped.
 */
int page_alloc_init(const struct boot_info *bi, uint64_t kernel_start, uint64_t kernel_end);

/* The global allocator, for callers that want physical addresses (page tables, DMA rings). */
struct page_alloc *page_alloc_kernel(void);

/*
 * Allocate npages contiguous zeroed pages aligned to align_pages pages from the global
 * allocator. Returns the (identity-mapped) pointer, NULL on failure. Free with pages_free.
 */
void *pages_alloc(size_t npages, size_t align_pages);
/* The same without zeroing, for memory its owner initialises itself (the heap: zeroing a
 * quarter of RAM would be most of the boot time under TCG). */
void *pages_alloc_uninit(size_t npages, size_t align_pages);

/*
 * Give back npages pages from pages_alloc. A bad free (double free, foreign pointer) is
 * reported on the console and ignored; NULL is ignored.
 */
void pages_free(void *p, size_t npages);

/* Total (available) and free bytes of the global allocator; either pointer may be NULL. */
void page_alloc_stats(uint64_t *total, uint64_t *free);

/* Print the boot memory map, the bitmap location and the totals with printf (shell `mem`). */
void page_alloc_print(void);

#endif
