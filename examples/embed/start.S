/*
 * The example's whole boot: a PVH entry (the ELF note names it) that turns on long mode and
 * calls embed_main. The loader (QEMU, Firecracker, cloud-hypervisor) enters in 32-bit
 * protected mode, paging off, flat segments, EBX = the physical address of the
 * hvm_start_info (Xen's public/arch-x86/hvm/start_info.h; start_info.h here).
 *
 * Paging: the first 4 GiB identity-mapped in 2 MiB pages, so a virtual address is the physical
 * address a device is given; the top gigabyte (where microvm's virtio-mmio windows, the IOAPIC
 * and the LAPIC live, and no RAM) is mapped uncached, as device registers must be.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PTE_P   0x001
#define PTE_RW  0x002
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS  0x080                /* a 2 MiB page in a page directory */
#define CR0_PE  (1 << 0)
#define CR0_WP  (1 << 16)
#define CR0_PG  (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define SEL_CODE64 0x08
#define SEL_DATA   0x10

	.section .note.Xen, "a"
	.balign 4
	.long 4, 4, XEN_ELFNOTE_PHYS32_ENTRY  /* name size, descriptor size, type */
	.asciz "Xen"
	.long start32                        /* the entry's physical address */

	.section .text.start, "ax"
	.code32
	.globl start32
start32:
	cli
	cld
	mov %ebx, %esi                       /* hvm_start_info, kept across the set-up */

	/* .bss holds the stack and the page tables: zero it before using either. */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb
	mov $stack_top, %esp

	/* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
	mov $pdpt, %eax
	or $(PTE_P | PTE_RW), %eax
	mov %eax, pml4
	mov $pd, %eax
	or $(PTE_P | PTE_RW), %eax
	xor %ecx, %ecx
1:	mov %eax, pdpt(, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $4, %ecx
	jne 1b

	/* 2048 directory entries of 2 MiB each; entries 1536.. (3 GiB and up) uncached. */
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $21, %eax
	or $(PTE_P | PTE_RW | PTE_PS), %eax
	cmp $1536, %ecx
	jb 3f
	or $(PTE_PWT | PTE_PCD), %eax
3:	mov %eax, pd(, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 2b

	/* Long mode (Intel SDM vol. 3, 10.8.5): PAE, CR3, EFER.LME, then paging. */
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PE | CR0_WP | CR0_PG), %eax
	mov %eax, %cr0

	lgdt gdt_ptr
	ljmp $SEL_CODE64, $start64

	.code64
start64:
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs
	mov $stack_top, %rsp
	mov %esi, %edi                       /* embed_main(start_info) */
	call embed_main
4:	hlt                                  /* embed_main does not return; if it did, stop */
	jmp 4b

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff             /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff             /* 0x10: data */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.balign 4096
pml4:	.skip 4096
pdpt:	.skip 4096
pd:	.skip 4 * 4096
	.balign 16
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
