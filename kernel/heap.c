/*
 * The kernel heap: one contiguous run of pages taken from the page allocator at boot, which
 * newlib's malloc grows into through sbrk. A unikernel has no address-space tricks to play, so
 * a fixed region sized from RAM is simplest; DMA memory does not come from here (it comes
 * page-aligned from pages_alloc) so malloc never has to care about devices.
 */
#include "kernel/heap.h"
#include "kernel/page_alloc.h"

#include <stdio.h>

static char *heap_base, *heap_brk, *heap_end;


int kheap_init(void)
{
	uint64_t total, free;
	page_alloc_stats(&total, &free);
	uint64_t size = free / 4;
	if (size > 256ull << 20)
		size = 256ull << 20;
	if (size < 4ull << 20)
		size = free / 2;
	size &= ~(uint64_t)(PAGE_SIZE - 1);
	heap_base = pages_alloc_uninit(size / PAGE_SIZE, 1); /* malloc does not promise zeroes */
	if (!heap_base)
		return -1;
	heap_brk = heap_base;
	heap_end = heap_base + size;
	return 0;
}

void *kheap_sbrk(intptr_t increment)
{
	if (!heap_base || increment > heap_end - heap_brk || increment < heap_base - heap_brk)
		return (void *)-1;
	char *old = heap_brk;
	heap_brk += increment;
	return old;
}


void kheap_stats(uint64_t *size, uint64_t *used)
{
	*size = heap_end - heap_base;
	*used = heap_brk - heap_base;
}
