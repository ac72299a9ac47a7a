/*
 * What the virtio core (virtqueue.c) needs from the system it runs in. Nothing else: the core
 * calls no kernel function directly, so the same source builds into Vireo (kernel/ implements
 * these), into the host unit tests, fuzzer and ring benchmark (tests/host/virtio_platform_host.c),
 * and into any other kernel that provides these five functions.
 *
 * Device notification ("kick") is deliberately not here: it is transport-specific (a PCI BAR
 * write, an I/O port write, an MMIO register), so each queue gets a notify callback at creation.
 *
 * Threading: the core does no locking. A queue must be used by one context at a time (the caller
 * serialises, e.g. with interrupts off or a lock around add/kick and get_buf). The functions
 * below may be called from any such context, including the interrupt handler path
 * (virtqueue_interrupt calls none of the allocation functions; it may call virtio_log).
 */
#ifndef VIREO_VIRTIO_PLATFORM_H
#define VIREO_VIRTIO_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Allocate bytes of memory the device may access by DMA: physically contiguous, aligned to at
 * least 4096 bytes, zero-filled, mapped write-back cacheable (virtio rings are coherent memory,
 * see barrier.h). Stores the physical (bus) address of the first byte in *phys.
 * Returns the virtual address, or NULL when out of memory (the core then fails with -ENOMEM).
 * bytes > 0. The same (virt, bytes) pair is later handed to virtio_dma_free.
 * Called only from virtqueue_create (never on the request path).
 */
void *virtio_dma_alloc(size_t bytes, uint64_t *phys);

/* Release memory from virtio_dma_alloc; bytes is the size that was allocated. */
void virtio_dma_free(void *virt, size_t bytes);

/*
 * Physical (bus) address of the byte at p, for buffers handed to virtqueue_add. The caller
 * guarantees each buffer is physically contiguous (e.g. within one page, or from
 * virtio_dma_alloc); the core translates only its first byte.
 */
uint64_t virtio_virt_to_phys(const void *p);

/*
 * printf-like diagnostic output (at least %s %u %d %x %lu %llu %p). The core uses it for rare
 * events only -- a queue becoming broken -- so it may be slow; it must not re-enter the queue.
 */
void virtio_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Barriers for the shared ring memory (write-back RAM shared with the device):
 *   virtio_wmb()  earlier stores before later stores (descriptors/ring entry before avail->idx)
 *   virtio_rmb()  earlier loads before later loads (used->idx before the used entries)
 *   virtio_mb()   full, incl. store -> load (avail->idx before avail_event / used->flags;
 *                 used_event / avail->flags before re-reading used->idx)
 * An embedder on another architecture defines VIRTIO_PLATFORM_HAS_BARRIERS and the three
 * macros before including this header.
 */
#ifndef VIRTIO_PLATFORM_HAS_BARRIERS
#include "arch/x86_64/barrier.h"
#define virtio_mb()  arch_mb()
#define virtio_rmb() arch_rmb()
#define virtio_wmb() arch_wmb()
#endif


/*
 * For the device layer above the rings (virtio.c, virtio_pci*.c, the device drivers): interrupt
 * hookup, waiting, time, and register access. The ring core itself uses none of these.
 */

/* Allocate a CPU interrupt vector and run fn(ctx) in interrupt context whenever it fires.
 * Returns the vector (0..255), or a negative errno. */
int virtio_irq_alloc(void (*fn)(void *ctx), void *ctx);
/* Undo virtio_irq_alloc. */
void virtio_irq_free(int vector, void (*fn)(void *ctx), void *ctx);
/* The CPU (APIC id on x86) MSI/MSI-X messages should target. */
uint32_t virtio_irq_cpu(void);
/* Wait for the next interrupt (the system's other work may run meanwhile). Called with
 * nothing to do; returns after some interrupt or event. */
void virtio_idle(void);
/* From an interrupt handler: the main loop has device work to do (see virtio_idle). */
void virtio_wake(void);
/* Monotonic nanoseconds, for timeouts and latency figures. */
uint64_t virtio_time_ns(void);
/* Keep this CPU's interrupt handlers out while a driver touches a queue that its interrupt
 * path also touches (x86: interrupts off). Returns what virtio_unlock needs. */
unsigned long virtio_lock(void);
void virtio_unlock(unsigned long flags);

/*
 * Register access for the transports: MMIO (modern capabilities in memory BARs) and port I/O
 * (the legacy I/O BAR). Widths are 1, 2 or 4 bytes, naturally aligned. The kernel points
 * virtio_io at real accessors; host tests point it at a register-level device model.
 */
struct virtio_io_ops {
	uint32_t (*mmio_read)(const volatile void *addr, int width);
	void (*mmio_write)(volatile void *addr, int width, uint32_t val);
	uint32_t (*pio_read)(uint16_t port, int width);
	void (*pio_write)(uint16_t port, int width, uint32_t val);
};
extern const struct virtio_io_ops *virtio_io;

#endif /* VIREO_VIRTIO_PLATFORM_H */
