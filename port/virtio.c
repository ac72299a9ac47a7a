/*
 * The kernel's side of the virtio stack's two port headers, drivers/virtio/ring/ring_port.h and
 * drivers/virtio/core/core_port.h: DMA memory is whole pages from the page allocator
 * (page-aligned, zeroed, physically contiguous: what rings need), and with the identity map a
 * virtual address is the physical address a device must be given. Interrupts come from the
 * per-vector table and waiting is the main loop's idle_wait; the register accessors are the
 * port header's x86 defaults.
 */
#include "drivers/virtio/core/core_port.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/lapic.h"
#include "kernel/console.h"
#include "kernel/idle.h"
#include "kernel/irq_lines.h"
#include "kernel/page_alloc.h"
#include "kernel/time.h"

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

/* Formatted on the stack and written to the console directly, not through stdio: the ring
 * logs from the interrupt path too (a queue breaking in a harvest), and newlib's stdio is not
 * re-entrant (an interrupt in the middle of a printf would corrupt stdout's buffer). */
void virtio_log(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		console_write(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* ---- the device layer's hooks ---- */

int virtio_irq_alloc(void (*fn)(void *ctx), void *ctx)
{
	/* Finding a free vector and taking it is one step: nothing else may take it between. */
	uint64_t fl = cpu_irq_save();
	int v = irq_alloc_vector();
	int err = v < 0 ? v : irq_register((uint8_t)v, fn, ctx);
	cpu_irq_restore(fl);
	return err ? err : v;
}

void virtio_irq_free(int vector, void (*fn)(void *ctx), void *ctx)
{
	irq_unregister((uint8_t)vector, fn, ctx);
}

uint32_t virtio_irq_cpu(void)
{
	return lapic_id();
}

void virtio_idle(void)
{
	idle_wait();
}

void virtio_wake(void)
{
	idle_kick();
}

uint64_t virtio_time_ns(void)
{
	return time_ns();
}

unsigned long virtio_lock(void)
{
	return (unsigned long)cpu_irq_save();
}

void virtio_unlock(unsigned long flags)
{
	cpu_irq_restore(flags);
}

int virtio_irq_line_attach(uint32_t line, bool level, bool active_low, bool (*fn)(void *ctx),
			   void *ctx)
{
	return irq_line_attach("mmio", line, line, level, active_low, fn, ctx);
}
