/*
 * Interrupt and exception entry stubs: one 16-byte stub per vector (isr_stubs + 16 * vector),
 * all funnelling into isr_common, which saves the general registers and the FPU/SSE state and
 * calls isr_dispatch(struct trap_frame *) (arch/x86_64/idt.c).
 *
 * Why save the FPU/SSE state: kernel C code (and newlib) may use SSE registers, and an
 * interrupt handler can run in the middle of such code. fxsave/fxrstor need a 16-byte aligned
 * 512-byte area, taken from the stack below the frame.
 */
	.section .text
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	/* The CPU pushes an error code for these vectors only; push a 0 for the others so the
	 * frame has one layout. */
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	cld
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	mov %rsp, %rbx          /* struct trap_frame *; rbx is callee-saved */
	sub $512, %rsp
	and $-16, %rsp
	fxsave (%rsp)
	mov %rbx, %rdi
	call isr_dispatch
	fxrstor (%rsp)
	mov %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	add $16, %rsp           /* vector and error code */
	iretq

	.section .note.GNU-stack, "", @progbits
