/* Kernel heap: the region newlib's malloc grows through sbrk (kernel/heap.c). */
#ifndef VIREO_HEAP_H
#define VIREO_HEAP_H

#include <stdint.h>

/* Grow (or shrink) the heap by increment bytes; returns the old break, or (void *)-1 when the
 * heap region is exhausted. */
void *kheap_sbrk(intptr_t increment);

#endif
