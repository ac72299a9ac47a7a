/*
 * The device layer's port: what the virtio device core (core/), its transports (pci/) and the
 * device drivers (blk/, net/, rng/) need from the system they run in, on top of the ring's
 * port (ring/ring_port.h, included here). Nine functions the host defines:
 *
 *   interrupts   virtio_irq_alloc, virtio_irq_free, virtio_irq_cpu (virtio-pci's MSI-X),
 *                virtio_irq_line_attach (virtio-mmio's wired line)
 *   waiting      virtio_idle, virtio_wake, virtio_time_ns
 *   exclusion    virtio_lock, virtio_unlock
 *
 * and four register accessors (virtio_reg_read, virtio_reg_write, virtio_pio_read,
 * virtio_pio_write), which are the architecture's, not the system's: like the ring's barriers
 * they default to x86's inline accessors, and a host that has its own (another architecture,
 * or a test's device model) defines VIRTIO_PORT_HAS_REGISTERS and the four functions.
 *
 * Vireo's implementation is port/virtio.c; the host tests' is tests/host/virtio_fake_dev.c,
 * where a register-level device model stands behind the register functions; the embedding
 * example's is examples/embed/port.c. docs/PORTING.md explains the seam.
 *
 * Threading model: one CPU, one thread, interrupt handlers. Code that touches a queue its
 * interrupt path also touches holds virtio_lock; the interrupt path itself runs with
 * interrupts off and never sleeps.
 */
#ifndef VIREO_VIRTIO_CORE_PORT_H
#define VIREO_VIRTIO_CORE_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtio/ring/ring_port.h"

/* ---- interrupts (the virtio-pci transport, for MSI-X) ---- */

/* Allocate a CPU interrupt vector and run fn(ctx) in interrupt context whenever it fires.
 * Returns the vector (0..255), or a negative errno; on an error nothing stays allocated.
 * Called in thread context while a device is set up. */
int virtio_irq_alloc(void (*fn)(void *ctx), void *ctx);
/* Undo virtio_irq_alloc (the same fn and ctx). Thread context. */
void virtio_irq_free(int vector, void (*fn)(void *ctx), void *ctx);
/* The CPU (APIC id on x86) MSI/MSI-X messages should target. */
uint32_t virtio_irq_cpu(void);

/* ---- interrupts (the virtio-mmio transport, for its wired line) ---- */

/* Run fn(ctx) in interrupt context whenever interrupt line `line` (on x86 a GSI, routed
 * through the IOAPIC) fires, with the trigger mode and polarity firmware described. Lines may
 * be shared: fn returns true when its device had raised the line. There is no detach: a
 * transport that is done with a line makes its handler return false. Returns 0 or a negative
 * errno. Thread context, while a device is set up. */
int virtio_irq_line_attach(uint32_t line, bool level, bool active_low, bool (*fn)(void *ctx),
			   void *ctx);

/* ---- waiting and time (the core's wait loop, timeouts) ---- */

/* Wait for the next interrupt: the system's other work may run meanwhile. Called in thread
 * context with interrupts on and nothing to do; returns after some interrupt or event. It must
 * not return later than a virtio_wake() made before or during the call would allow (no lost
 * wake-up). */
void virtio_idle(void);
/* From an interrupt handler: a waiter has something to look at; the next virtio_idle returns
 * at once. */
void virtio_wake(void);
/* Monotonic nanoseconds, for timeouts and latency figures. Any context. */
uint64_t virtio_time_ns(void);

/* ---- exclusion ---- */

/* Keep this CPU's interrupt handlers out while a driver touches a queue its interrupt path
 * also touches (x86: interrupts off). Nests: returns what virtio_unlock restores. */
unsigned long virtio_lock(void);
void virtio_unlock(unsigned long flags);

/* ---- registers (the transports) ---- */

/* One access of width 1, 2 or 4 bytes, naturally aligned, to device memory (a mapped BAR or
 * an MMIO window): uncached, never merged, split or reordered with other register accesses.
 * virtio_pio_* are the same in I/O port space (the legacy virtio-pci interface's I/O BAR).
 * Any context. */
#ifdef VIRTIO_PORT_HAS_REGISTERS
uint32_t virtio_reg_read(const volatile void *addr, int width);
void virtio_reg_write(volatile void *addr, int width, uint32_t val);
uint32_t virtio_pio_read(uint16_t port, int width);
void virtio_pio_write(uint16_t port, int width, uint32_t val);
#else
#include "arch/x86_64/io.h"
static inline uint32_t virtio_reg_read(const volatile void *addr, int width)
{
	return mmio_read(addr, width);
}
static inline void virtio_reg_write(volatile void *addr, int width, uint32_t val)
{
	mmio_write(addr, width, val);
}
static inline uint32_t virtio_pio_read(uint16_t port, int width)
{
	return pio_read(port, width);
}
static inline void virtio_pio_write(uint16_t port, int width, uint32_t val)
{
	pio_write(port, width, val);
}
#endif

#endif /* VIREO_VIRTIO_CORE_PORT_H */
