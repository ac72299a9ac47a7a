/* Interrupt descriptor table, exception reports and per-vector interrupt handlers. */
#ifndef VIREO_ARCH_IDT_H
#define VIREO_ARCH_IDT_H

#include <stdint.h>

/* The stack layout isr_common (isr.S) builds: lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

#define IRQ_VECTOR_FIRST   48   /* 32..47: where the (masked) 8259 PICs were remapped */
#define IRQ_VECTOR_LAST    0xef
#define LAPIC_TIMER_VECTOR 0xf0
#define SELFTEST_VECTOR    0xf1
#define SPURIOUS_VECTOR    0xff

typedef void (*irq_handler_fn)(void *ctx);

/* Install the IDT (all 256 stubs; #DF, NMI and #MC on their own IST stack). */
void idt_init(void);
/* Where every interrupt stub (isr.S) lands, with the registers it saved. */
void isr_dispatch(struct trap_frame *f);

/* Register a handler on a vector. Several handlers may share a vector (shared INTx lines): all
 * run, in registration order. Returns 0, or -ENOSPC when the vector's handler slots are full. */
int irq_register(uint8_t vector, irq_handler_fn fn, void *ctx);
/* Remove a handler registered with the same fn and ctx. */
void irq_unregister(uint8_t vector, irq_handler_fn fn, void *ctx);
/* A vector in [IRQ_VECTOR_FIRST, IRQ_VECTOR_LAST] with no handler (one that never fired if
 * there is one), or -ENOSPC. It is taken by irq_register. */
int irq_alloc_vector(void);
/* Interrupts taken on a vector since boot. */
uint64_t irq_count(uint8_t vector);
/* Print the per-vector counts of every vector that fired or has a handler. */
void irq_print_counts(void);

#endif
