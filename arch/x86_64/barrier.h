/*
 * x86_64 memory barriers: the only place in Vireo where barrier asm lives.
 *
 * Why these are cheap on x86 (Intel SDM vol. 3A, 9.2.2 "Memory Ordering in P6 and More Recent
 * Processor Families"; AMD APM vol. 2, 7.2): for ordinary write-back (WB) memory -- which is
 * what virtqueues and DMA buffers live in -- the processor keeps
 *   - loads in order with other loads,
 *   - stores in order with other stores,
 *   - stores in order with older loads,
 * and only lets a load be satisfied before an OLDER store to a different address has become
 * globally visible (the store buffer). So:
 *
 *   arch_rmb()  load -> load ordering: the hardware already gives it; we only have to stop the
 *               compiler from moving loads across, hence an empty asm with a "memory" clobber.
 *   arch_wmb()  store -> store ordering: likewise a compiler barrier only.
 *   arch_mb()   full ordering including store -> load: this is the one case x86 reorders, so it
 *               needs a real serialising instruction. The virtio case that needs it: the driver
 *               stores avail->idx and then loads used->avail_event (or used->flags) to decide
 *               whether to notify; without a fence the load may be satisfied before the store
 *               leaves the store buffer, the device may miss the new idx AND the driver may read
 *               a stale "don't notify me" -- both sides then wait for each other forever.
 *               The same holds for "store used_event / clear NO_INTERRUPT, then re-read
 *               used->idx" when re-enabling interrupts.
 *
 * arch_mb() uses a locked read-modify-write of the stack top instead of MFENCE: any LOCKed
 * instruction is a full barrier for WB memory and is cheaper than MFENCE on most cores (MFENCE
 * additionally orders non-temporal and WC accesses, which virtqueues never use). Adding 0
 * atomically leaves the stack word unchanged, and (%rsp) is always mapped and writable.
 *
 * These are NOT sufficient for write-combining or uncached MMIO mappings (use the MMIO accessors
 * of arch/x86_64 for device registers) nor for non-temporal stores (which would need SFENCE).
 */
#ifndef VIREO_ARCH_X86_64_BARRIER_H
#define VIREO_ARCH_X86_64_BARRIER_H

#if !defined(__x86_64__)
#error "arch/x86_64/barrier.h is for x86_64 only"
#endif

/* Compiler barrier: forbids the compiler to move memory accesses across it, emits nothing. */
static inline void arch_barrier(void)
{
	__asm__ __volatile__("" ::: "memory");
}

/* Full barrier: all earlier loads and stores are globally visible before any later ones. */
static inline void arch_mb(void)
{
	__asm__ __volatile__("lock; addl $0,(%%rsp)" ::: "memory", "cc");
}

/* Read barrier for WB memory: earlier loads complete before later loads (hardware-ordered). */
static inline void arch_rmb(void)
{
	arch_barrier();
}

/* Write barrier for WB memory: earlier stores are visible before later stores
 * (hardware-ordered). */
static inline void arch_wmb(void)
{
	arch_barrier();
}

/* Spin-wait hint (PAUSE): saves power and avoids a memory-order mis-speculation flush when
 * leaving a polling loop. Also a compiler barrier so the polled location is re-read. */
static inline void arch_cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

#endif /* VIREO_ARCH_X86_64_BARRIER_H */
