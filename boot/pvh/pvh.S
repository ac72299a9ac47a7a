/*
 * PVH entry: the ELF note that names it (a PT_NOTE segment, linker.ld) and the 32-bit stub.
 * The loader enters pvh_start in 32-bit protected mode, paging off, flat segments, EBX = the
 * physical address of the hvm_start_info (boot/pvh/pvh.h). From there the path is the
 * multiboot one (boot/multiboot/entry.S: long mode, then boot32_main), told apart by EAX.
 */
#include "boot/pvh/pvh.h"

	.section .note.Xen, "a"
	.balign 4
	.long 4                        /* name size: "Xen\0" */
	.long 4                        /* descriptor size */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.long pvh_start                /* the entry's physical address (the image is at 1 MiB) */

	.section .boot.text, "ax"
	.code32
	.globl pvh_start
pvh_start:
	mov $XEN_HVM_START_MAGIC_VALUE, %eax /* "this is PVH" for boot32_main; EBX as given */
	jmp _start

	.section .note.GNU-stack, "", @progbits
