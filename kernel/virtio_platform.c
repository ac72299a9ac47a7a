/*
 * The kernel's side of drivers/virtio/virtio_platform.h: DMA memory is whole pages from the
 * page allocator (page-aligned, zeroed, physically contiguous: what rings need), and with the
 * identity map a virtual address is the physical address a device must be given.
 */
#include "drivers/virtio/virtio_platform.h"
#include "kernel/page_alloc.h"

#include <stdarg.h>
#include <stdio.h>

static size_t pages_for(size_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

void *virtio_dma_alloc(size_t bytes, uint64_t *phys)
{
	void *p = pages_alloc(pages_for(bytes), 1);
	if (p && phys)
		*phys = (uint64_t)(uintptr_t)p;
	return p;
}

void virtio_dma_free(void *virt, size_t bytes)
{
	pages_free(virt, pages_for(bytes));
}

uint64_t virtio_virt_to_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

void virtio_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
