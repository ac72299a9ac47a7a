/*
 * CPU instructions the kernel needs, as static inline functions: interrupts on/off, halt, TSC,
 * MSRs, CPUID, control registers, descriptor tables, TLB. No other file has inline asm of this
 * kind (port/MMIO access is in io.h, barriers in barrier.h).
 */
#ifndef VIREO_ARCH_CPU_H
#define VIREO_ARCH_CPU_H

#include <stdint.h>

static inline void cpu_cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}
static inline void cpu_sti(void)
{
	__asm__ volatile("sti" ::: "memory");
}
/* Enable interrupts and halt until the next one. "sti" takes effect after the following
 * instruction, so no interrupt can slip in between the two and leave us halted with work to do. */
static inline void cpu_sti_hlt(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}
static inline void cpu_hlt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}
static inline void cpu_pause(void)
{
	__asm__ volatile("pause");
}
static inline uint64_t cpu_flags(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f)::"memory");
	return f;
}
static inline int cpu_irqs_enabled(void)
{
	return (cpu_flags() >> 9) & 1; /* RFLAGS.IF */
}
/* Save the interrupt flag and disable interrupts; restore with cpu_irq_restore(). */
static inline uint64_t cpu_irq_save(void)
{
	uint64_t f = cpu_flags();
	cpu_cli();
	return f;
}
static inline void cpu_irq_restore(uint64_t flags)
{
	if (flags & (1u << 9))
		cpu_sti();
}

static inline uint64_t cpu_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t cpu_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void cpu_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void cpu_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static inline uint64_t cpu_read_cr0(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}
static inline uint64_t cpu_read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}
static inline uint64_t cpu_read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}
static inline uint64_t cpu_read_cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}
static inline void cpu_write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}
static inline void cpu_invlpg(const void *va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

struct __attribute__((packed)) cpu_dtr {
	uint16_t limit;
	uint64_t base;
};
static inline void cpu_lgdt(const struct cpu_dtr *d)
{
	__asm__ volatile("lgdt %0" ::"m"(*d));
}
static inline void cpu_lidt(const struct cpu_dtr *d)
{
	__asm__ volatile("lidt %0" ::"m"(*d));
}
static inline void cpu_ltr(uint16_t sel)
{
	__asm__ volatile("ltr %0" ::"r"(sel));
}

/* Stop this CPU for good (after a fatal exception or when poweroff failed). */
static inline _Noreturn void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#define MSR_APIC_BASE 0x1b
#define MSR_EFER      0xc0000080

#endif
