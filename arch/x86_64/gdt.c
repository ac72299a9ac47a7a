/*
 * GDT and TSS (Intel SDM vol. 3, 3.4.5 segment descriptors, 8.7 task management in 64-bit mode).
 *
 * Long mode ignores segment bases and limits, so the GDT only needs a code segment with L=1 and
 * a data segment. The TSS holds no task state any more; it exists for the interrupt stack table:
 * a double fault caused by a kernel stack overflow must run on a stack that is known good.
 */
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/cpu.h"

#include <stdint.h>
#include <string.h>

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7]; /* ist[0] is IST1 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

#define IST_STACK_SIZE 16384

static uint8_t ist_stacks[2][IST_STACK_SIZE] __attribute__((aligned(16)));
static struct tss64 tss;
static uint64_t gdt[5] __attribute__((aligned(16)));

void gdt_init(void)
{
	memset(&tss, 0, sizeof(tss));
	tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)&ist_stacks[0][IST_STACK_SIZE];
	tss.ist[IST_NMI_MCE - 1] = (uint64_t)&ist_stacks[1][IST_STACK_SIZE];
	tss.iomap_base = sizeof(tss); /* no I/O permission bitmap */

	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
	gdt[0] = 0;
	gdt[1] = 0x00209a0000000000ull; /* code: present, DPL 0, executable, L=1 */
	gdt[2] = 0x0000920000000000ull; /* data: present, writable */
	/* 16-byte system descriptor, type 9 = available 64-bit TSS. */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;

	struct cpu_dtr d = {.limit = sizeof(gdt) - 1, .base = (uint64_t)gdt};
	cpu_lgdt(&d);
	/* Reload CS with a far return, and the data segment registers. */
	__asm__ volatile("pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w1, %%ds\n\t"
			 "movw %w1, %%es\n\t"
			 "movw %w1, %%ss\n\t"
			 :
			 : "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA)
			 : "rax", "memory");
	cpu_ltr(GDT_TSS);
}
