/*
 * IDT (Intel SDM vol. 3, 6.14 "Exception and interrupt handling in 64-bit mode"), exception
 * reports, and the per-vector handler table every interrupt source registers into.
 */
#include "arch/x86_64/idt.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/lapic.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct __attribute__((packed)) idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr; /* 0x8e: present, DPL 0, 64-bit interrupt gate (IF cleared on entry) */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};

#define HANDLERS_PER_VECTOR 4

struct irq_slot {
	irq_handler_fn fn;
	void *ctx;
};

extern const char isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct irq_slot handlers[256][HANDLERS_PER_VECTOR];
static uint64_t counts[256];
static uint64_t unhandled[256];

static const char *const exception_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range exceeded",
	"invalid opcode", "device not available", "double fault", "coprocessor segment overrun",
	"invalid TSS", "segment not present", "stack-segment fault", "general protection fault",
	"page fault", "reserved (15)", "x87 floating-point error", "alignment check",
	"machine check", "SIMD floating-point error", "virtualization exception",
	"control protection", "reserved (22)", "reserved (23)", "reserved (24)", "reserved (25)",
	"reserved (26)", "reserved (27)", "hypervisor injection", "VMM communication",
	"security exception", "reserved (31)",
};

static void set_gate(int vector, const void *stub, int ist)
{
	uint64_t a = (uint64_t)stub;
	idt[vector] = (struct idt_gate){
		.offset_lo = a & 0xffff,
		.selector = GDT_KERNEL_CODE,
		.ist = (uint8_t)ist,
		.type_attr = 0x8e,
		.offset_mid = (a >> 16) & 0xffff,
		.offset_hi = a >> 32,
	};
}

void idt_init(void)
{
	for (int v = 0; v < 256; v++)
		set_gate(v, isr_stubs + 16 * v, 0);
	set_gate(2, isr_stubs + 16 * 2, IST_NMI_MCE);
	set_gate(8, isr_stubs + 16 * 8, IST_DOUBLE_FAULT);
	set_gate(18, isr_stubs + 16 * 18, IST_NMI_MCE);
	struct cpu_dtr d = {.limit = sizeof(idt) - 1, .base = (uint64_t)idt};
	cpu_lidt(&d);
}

int irq_register(uint8_t vector, irq_handler_fn fn, void *ctx)
{
	uint64_t fl = cpu_irq_save();
	for (int i = 0; i < HANDLERS_PER_VECTOR; i++) {
		if (!handlers[vector][i].fn) {
			handlers[vector][i] = (struct irq_slot){fn, ctx};
			cpu_irq_restore(fl);
			return 0;
		}
	}
	cpu_irq_restore(fl);
	return -ENOSPC;
}

void irq_unregister(uint8_t vector, irq_handler_fn fn, void *ctx)
{
	uint64_t fl = cpu_irq_save();
	struct irq_slot *s = handlers[vector];
	for (int i = 0; i < HANDLERS_PER_VECTOR; i++) {
		if (s[i].fn == fn && s[i].ctx == ctx) {
			/* Keep the slots packed: dispatch stops at the first empty one. */
			memmove(&s[i], &s[i + 1], (HANDLERS_PER_VECTOR - 1 - i) * sizeof(*s));
			s[HANDLERS_PER_VECTOR - 1] = (struct irq_slot){0, 0};
			break;
		}
	}
	cpu_irq_restore(fl);
}

int irq_alloc_vector(void)
{
	/* Never-used vectors first, so `irq` counts stay one device's; then one that was freed
	 * (a device reset and set up again frees and takes its vectors each time). */
	int reuse = -ENOSPC;
	for (int v = IRQ_VECTOR_FIRST; v <= IRQ_VECTOR_LAST; v++) {
		if (handlers[v][0].fn)
			continue;
		if (!counts[v])
			return v;
		if (reuse < 0)
			reuse = v;
	}
	return reuse;
}

uint64_t irq_count(uint8_t vector)
{
	return counts[vector];
}

void irq_print_counts(void)
{
	printf("vector  count        handlers  unhandled\n");
	for (int v = 0; v < 256; v++) {
		int n = 0;
		while (n < HANDLERS_PER_VECTOR && handlers[v][n].fn)
			n++;
		if (!counts[v] && !n)
			continue;
		const char *what = v == LAPIC_TIMER_VECTOR ? "lapic timer"
				   : v == SPURIOUS_VECTOR  ? "spurious"
				   : v < 32               ? exception_names[v]
							  : "";
		printf("%#6x  %-12llu %-9d %-9llu %s\n", v, (unsigned long long)counts[v], n,
		       (unsigned long long)unhandled[v], what);
	}
}

/* The exception report: everything needed to find the faulting code with addr2line or gdb on
 * build/vireo64.elf. Written with the console directly, not printf: the heap or newlib's state
 * may be what broke. */
static _Noreturn void exception_report(const struct trap_frame *f)
{
	char buf[160];
	uint8_t v = (uint8_t)f->vector;
	snprintf(buf, sizeof(buf), "\n*** EXCEPTION %llu: %s, error code %#llx\n",
		 (unsigned long long)v, exception_names[v], (unsigned long long)f->error);
	fputs(buf, stdout);
	printf("RIP %016llx  CS %04llx  RFLAGS %016llx\n", (unsigned long long)f->rip,
	       (unsigned long long)f->cs, (unsigned long long)f->rflags);
	printf("RSP %016llx  SS %04llx  CR2 %016llx  CR3 %016llx\n", (unsigned long long)f->rsp,
	       (unsigned long long)f->ss, (unsigned long long)cpu_read_cr2(),
	       (unsigned long long)cpu_read_cr3());
	if (v == 14)
		printf("page fault: %s, %s access, %s mode%s%s\n",
		       (f->error & 1) ? "protection violation" : "page not present",
		       (f->error & 2) ? "write" : "read", (f->error & 4) ? "user" : "kernel",
		       (f->error & 8) ? ", reserved bit set" : "",
		       (f->error & 16) ? ", instruction fetch" : "");
	printf("RAX %016llx  RBX %016llx  RCX %016llx  RDX %016llx\n",
	       (unsigned long long)f->rax, (unsigned long long)f->rbx, (unsigned long long)f->rcx,
	       (unsigned long long)f->rdx);
	printf("RSI %016llx  RDI %016llx  RBP %016llx  R8  %016llx\n",
	       (unsigned long long)f->rsi, (unsigned long long)f->rdi, (unsigned long long)f->rbp,
	       (unsigned long long)f->r8);
	printf("R9  %016llx  R10 %016llx  R11 %016llx  R12 %016llx\n",
	       (unsigned long long)f->r9, (unsigned long long)f->r10, (unsigned long long)f->r11,
	       (unsigned long long)f->r12);
	printf("R13 %016llx  R14 %016llx  R15 %016llx\n", (unsigned long long)f->r13,
	       (unsigned long long)f->r14, (unsigned long long)f->r15);
	/* Walk the frame-pointer chain (the kernel keeps frame pointers) for a short backtrace.
	 * Every stack (boot stack, IST stacks) is in the kernel image's .bss, so a frame pointer
	 * outside it is corrupt: following it could fault again inside this report, which would
	 * then report that fault and walk the same chain, forever. */
	extern char __kernel_start[], __kernel_end[];
	printf("backtrace: %016llx", (unsigned long long)f->rip);
	const uint64_t *fp = (const uint64_t *)f->rbp;
	for (int i = 0; i < 8 && ((uint64_t)fp & 7) == 0 && (uint64_t)fp >= (uint64_t)__kernel_start &&
			(uint64_t)fp + 16 <= (uint64_t)__kernel_end;
	     i++) {
		printf(" %016llx", (unsigned long long)fp[1]);
		fp = (const uint64_t *)fp[0];
	}
	printf("\nkernel halted\n");
	fflush(stdout);
	cpu_halt_forever();
}

void isr_dispatch(struct trap_frame *f)
{
	uint8_t v = (uint8_t)f->vector;
	counts[v]++;
	if (v < 32)
		exception_report(f);
	if (v == SPURIOUS_VECTOR)
		return; /* SDM 10.9: a spurious LAPIC interrupt must not be acknowledged with EOI */
	struct irq_slot *s = handlers[v];
	if (!s[0].fn)
		unhandled[v]++;
	for (int i = 0; i < HANDLERS_PER_VECTOR && s[i].fn; i++)
		s[i].fn(s[i].ctx);
	lapic_eoi();
}
