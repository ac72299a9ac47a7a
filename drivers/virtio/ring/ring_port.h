/*
 * The ring's port: everything the virtqueue core (virtqueue.c, virtqueue_split.c,
 * virtqueue_packed.c) needs from the system it runs in, and nothing else. Four functions the
 * host defines, and three barriers.
 *
 * Vireo's implementation is port/virtio.c; the host build's (unit tests, fuzzers, the ring
 * benchmark) is tests/host/ring_port_host.c. docs/PORTING.md explains the seam.
 *
 * Context: the core does no locking and never sleeps. A queue is used by one context at a time
 * (its owner serialises add/kick and get_buf, e.g. with interrupts off). These functions may be
 * called from any such context; only virtio_log may be called from the interrupt path
 * (virtqueue_interrupt, virtqueue_get_buf), and it must not re-enter the queue.
 */
#ifndef VIREO_VIRTIO_RING_PORT_H
#define VIREO_VIRTIO_RING_PORT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Allocate bytes of memory the device may access by DMA: physically contiguous, aligned to at
 * least VIRTIO_PAGE_SIZE, zero-filled, mapped write-back cacheable (virtio rings are coherent
 * memory). Stores the physical (bus) address of the first byte in *phys. Returns the virtual
 * address, or NULL when out of memory. bytes > 0. The same (virt, bytes) pair is later handed
 * to virtio_dma_free.
 * Called by: virtqueue_create (thread context, never on the request path); drivers may use
 * it for their own DMA buffers.
 */
void *virtio_dma_alloc(size_t bytes, uint64_t *phys);

/* Release memory from virtio_dma_alloc; bytes is the size that was allocated. Called by:
 * virtqueue_destroy, after the device was reset (it no longer touches the memory). */
void virtio_dma_free(void *virt, size_t bytes);

/*
 * Physical (bus) address of the byte at p, for buffers handed to virtqueue_add. Called for
 * every segment of every request, so it must be cheap. The caller guarantees each segment is
 * physically contiguous: it lies within one page of VIRTIO_PAGE_SIZE, or inside one
 * virtio_dma_alloc block; the core translates only its first byte.
 */
uint64_t virtio_virt_to_phys(const void *p);

/* Pages are this large for virtio_virt_to_phys's contiguity rule: drivers split a buffer at
 * these boundaries. */
#define VIRTIO_PAGE_SIZE 4096u

/*
 * printf-like diagnostic output (at least %s %u %d %x %lu %llu %p). Used for rare events (a
 * queue becoming broken, a device failing), so it may be slow; it must not re-enter the queue.
 */
void virtio_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Barriers for the ring memory shared with the device (coherent write-back RAM):
 *   virtio_wmb()  earlier stores before later stores (descriptors/ring entry before avail->idx)
 *   virtio_rmb()  earlier loads before later loads (used->idx before the used entries)
 *   virtio_mb()   full, store -> load included (avail->idx before avail_event / used->flags;
 *                 used_event / avail->flags before re-reading used->idx)
 * They are macros, not functions: a barrier must be inlined where it stands. Vireo and the host
 * build take x86's from arch/x86_64/barrier.h; an embedder on another architecture defines
 * VIRTIO_PORT_HAS_BARRIERS and the three macros before including this header.
 */
#ifndef VIRTIO_PORT_HAS_BARRIERS
#include "arch/x86_64/barrier.h"
#define virtio_mb()  arch_mb()
#define virtio_rmb() arch_rmb()
#define virtio_wmb() arch_wmb()
#endif

#endif /* VIREO_VIRTIO_RING_PORT_H */
