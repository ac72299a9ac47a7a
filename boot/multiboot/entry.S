/*
 * Kernel entry points.
 *
 * _start: 32-bit protected-mode entry from a multiboot loader (QEMU -kernel, GRUB). Multiboot
 *   spec 3.2: EAX = 0x2BADB002, EBX = physical address of the multiboot info, paging off,
 *   interrupts off, no usable stack. We build a temporary identity map of the first 4 GiB with
 *   2 MiB pages, enter long mode and call boot32_main(magic, info) in C. The PVH entry
 *   (boot/pvh/pvh.S) comes here too, with its own marker in EAX.
 * entry64: 64-bit entry from the UEFI loader (boot/efi), called with the System V ABI and a
 *   struct boot_info * in %rdi; firmware page tables identity-map memory already.
 *
 * Both record the TSC as the first thing they do, so "ready in N ms" counts from here.
 */
#define MB_MAGIC      0x1badb002
#define MB_FLAGS      0x00000003 /* bit 0: page-aligned modules, bit 1: memory map wanted */
#define CR0_PE        (1 << 0)
#define CR0_MP        (1 << 1)
#define CR0_EM        (1 << 2)
#define CR0_TS        (1 << 3)
#define CR0_PG        (1 << 31)
#define CR4_PAE       (1 << 5)
#define CR4_OSFXSR    (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define EFER_MSR      0xc0000080
#define EFER_LME      (1 << 8)
#define PTE_P_W       0x3
#define PTE_PS        0x80
#define COM1          0x3f8

	.section .boot.header, "a"
	.balign 8
	.globl vireo_image_header
vireo_image_header:
	/* Multiboot header. Flag 16 (a.out kludge) is clear: a multiboot loader loads the ELF
	 * program headers. The address fields are still filled in because the UEFI loader, which
	 * has only the flat image, reads them (boot/image_header.h). */
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long vireo_image_header  /* header_addr */
	.long __kernel_start      /* load_addr */
	.long __data_end          /* load_end_addr */
	.long __kernel_end        /* bss_end_addr */
	.long _start              /* entry_addr */
	.quad 0x4f455249565f5856  /* VIREO_IMAGE_MAGIC */
	.quad entry64

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld			/* multiboot leaves DF undefined; rep stosl and C code need it clear */
	mov %eax, boot_mb_magic
	mov %ebx, boot_mb_info
	rdtsc
	mov %eax, boot_tsc_entry
	mov %edx, boot_tsc_entry + 4
	mov $boot_stack_top, %esp

	/* Long mode available? CPUID 0x80000001 EDX bit 29. */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	test $(1 << 29), %edx
	jz no_long_mode

	/* Loaders zero .bss, but the tables must be clean whatever loaded us. */
	mov $boot_pml4, %edi
	xor %eax, %eax
	mov $(6 * 1024), %ecx
	rep stosl

	/* Temporary page tables: PML4[0] -> PDPT, PDPT[0..3] -> four page directories mapping
	 * 0-4 GiB with 2 MiB pages. kernel/paging.c replaces them with the real map. */
	mov $boot_pdpt, %eax
	or $PTE_P_W, %eax
	mov %eax, boot_pml4
	mov $boot_pd, %edi      /* four consecutive PDs, 2048 entries */
	mov $(PTE_P_W | PTE_PS), %eax
	xor %ecx, %ecx
1:	mov %eax, (%edi, %ecx, 8)
	movl $0, 4(%edi, %ecx, 8)
	add $0x200000, %eax
	inc %ecx
	cmp $2048, %ecx
	jne 1b
	xor %ecx, %ecx
	mov $boot_pd, %eax
	or $PTE_P_W, %eax
2:	mov %eax, boot_pdpt(, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $4, %ecx
	jne 2b

	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	mov %eax, %cr4
	mov $EFER_MSR, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	/* Paging on (with LME set this activates long mode); SSE usable: MP set, EM and TS clear
	 * (multiboot defines only PE and PG; TS set would make the first SSE instruction #NM). */
	mov %cr0, %eax
	and $~(CR0_EM | CR0_TS), %eax
	or $(CR0_PG | CR0_PE | CR0_MP), %eax
	mov %eax, %cr0
	lgdt boot_gdt_ptr
	ljmp $0x08, $long_mode

no_long_mode:
	mov $no_lm_msg, %esi
3:	lodsb
	test %al, %al
	jz 4f
	mov $COM1, %dx
	out %al, %dx
	jmp 3b
4:	hlt
	jmp 4b

	.code64
long_mode:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ax, %ax
	mov %ax, %fs
	mov %ax, %gs
	mov $boot_stack_top, %rsp
	xor %ebp, %ebp
	mov boot_mb_magic(%rip), %edi
	mov boot_mb_info(%rip), %esi
	call boot32_main
	jmp cpu_stop

	.globl entry64
entry64:
	cli
	mov %rdi, %rbx
	rdtsc
	mov %eax, boot_tsc_entry(%rip)
	mov %edx, boot_tsc_entry + 4(%rip)
	lea boot_stack_top(%rip), %rsp
	xor %ebp, %ebp
	mov %rbx, %rdi
	call efi_entry_main
cpu_stop:
	cli
	hlt
	jmp cpu_stop

	.section .rodata
no_lm_msg:
	.asciz "vireo: this CPU has no long mode (x86_64); halting\r\n"

	.balign 8
boot_gdt:
	.quad 0                         /* null */
	.quad 0x00209a0000000000        /* 0x08: 64-bit code, present, ring 0 */
	.quad 0x0000920000000000        /* 0x10: data, present, writable */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.section .data
	.balign 8
	.globl boot_tsc_entry
boot_tsc_entry:	.quad 0
boot_mb_magic:	.long 0
boot_mb_info:	.long 0

	.section .boot.bss, "aw", @nobits
	.balign 4096
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4096 * 4
	.globl boot_stack_top
boot_stack:	.skip 65536
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
