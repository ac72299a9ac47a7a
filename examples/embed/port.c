/*
 * The example's port of the virtio stack: the ten functions drivers/virtio/ring/ring_port.h
 * and drivers/virtio/core/core_port.h ask of a kernel that links the ring, the device core,
 * the virtio-mmio transport and the virtio-blk driver, in poll mode. (The register accessors
 * and barriers are the headers' x86 defaults; virtio-pci's three MSI-X functions are not
 * needed, since that transport is not linked.)
 *
 * This kernel has one CPU, no interrupts (they stay off from the first instruction) and no
 * scheduler, so waiting is spinning, and excluding interrupt handlers is cheap.
 */
#include "drivers/virtio/core/core_port.h"
#include "arch/x86_64/cpu.h"
#include "examples/embed/console.h"

#include <errno.h>
#include <stdarg.h>

/* ---- memory: a page allocator over one static arena ---- */

#define ARENA_PAGES 512 /* 2 MiB: the disk's ring, its indirect tables, room to spare */

static uint8_t arena[ARENA_PAGES][VIRTIO_PAGE_SIZE] __attribute__((aligned(VIRTIO_PAGE_SIZE)));
static bool page_used[ARENA_PAGES];

static size_t pages_for(size_t bytes)
{
	return (bytes + VIRTIO_PAGE_SIZE - 1) / VIRTIO_PAGE_SIZE;
}

/* First fit over the arena. The arena is in .bss, which start.S zeroes, and freed pages are
 * zeroed again here, so every block handed out is zero-filled as the port contract asks. */
void *virtio_dma_alloc(size_t bytes, uint64_t *phys)
{
	size_t n = pages_for(bytes), run = 0;
	for (size_t i = 0; i < ARENA_PAGES; i++) {
		run = page_used[i] ? 0 : run + 1;
		if (run < n)
			continue;
		size_t first = i + 1 - n;
		for (size_t j = first; j <= i; j++)
			page_used[j] = true;
		*phys = virtio_virt_to_phys(arena[first]);
		return arena[first];
	}
	return NULL;
}

void virtio_dma_free(void *virt, size_t bytes)
{
	size_t first = (size_t)((uint8_t *)virt - arena[0]) / VIRTIO_PAGE_SIZE;
	__builtin_memset(virt, 0, pages_for(bytes) * VIRTIO_PAGE_SIZE);
	for (size_t j = first; j < first + pages_for(bytes); j++)
		page_used[j] = false;
}

/* The identity map (start.S): a virtual address is the physical one. */
uint64_t virtio_virt_to_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* ---- output ---- */

void virtio_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
}

/* ---- interrupts, waiting, time ---- */

/* Every device runs in poll mode (embed_main sets virtio_options), where the mmio transport
 * never attaches its line. A kernel with an IOAPIC would route `line` to fn here. */
int virtio_irq_line_attach(uint32_t line, bool level, bool active_low, bool (*fn)(void *ctx),
			   void *ctx)
{
	(void)line, (void)level, (void)active_low, (void)fn, (void)ctx;
	return -ENOSYS;
}

/* Nothing else runs here, so waiting is spinning; PAUSE tells the CPU (and a hypervisor) so. */
void virtio_idle(void)
{
	cpu_pause();
}

/* No one sleeps, so there is no one to wake: the next virtio_idle returns at once anyway. */
void virtio_wake(void)
{
}

/* The TSC, taken at 4 GHz without calibrating it. On any CPU whose TSC runs at 4 GHz or less
 * this clock is never fast, so the stack's timeouts last at least as long as asked (up to 4x
 * longer on a 1 GHz TSC), which is all a timeout needs. */
uint64_t virtio_time_ns(void)
{
	return cpu_rdtsc() / 4;
}

/* ---- exclusion ---- */

unsigned long virtio_lock(void)
{
	return (unsigned long)cpu_irq_save();
}

void virtio_unlock(unsigned long flags)
{
	cpu_irq_restore(flags);
}
