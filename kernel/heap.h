/* Kernel heap: the region newlib's malloc grows through sbrk (kernel/heap.c). */
#ifndef VIREO_HEAP_H
#define VIREO_HEAP_H

#include <stdint.h>

/* Grow (or shrink) the heap by increment bytes; returns the old break, or (void *)-1 when the
 * heap region is exhausted. */
void *kheap_sbrk(intptr_t increment);

/* Take the heap region from the page allocator: a quarter of free RAM, at most 256 MiB. */
int kheap_init(void);
/* Heap size and bytes handed to malloc so far. */
void kheap_stats(uint64_t *size, uint64_t *used);

#endif
