/*
 * QEMU's own floor for `make bench`'s boot rows: a multiboot kernel whose first instructions
 * print one line on COM1 and leave through isa-debug-exit. QEMU start to that line is what any
 * guest pays before its first instruction (firmware, loader, device set-up); Vireo's own share
 * of a boot is its time to "vireo: ready" minus this.
 */
	.text
	.code32
	.align 4                  /* the header: in the file's first 8 KiB, 4-byte aligned */
	.long 0x1badb002          /* multiboot 1 magic */
	.long 0                   /* flags: nothing asked of the loader */
	.long -0x1badb002         /* checksum */
	.globl _start
_start:
	mov $msg, %esi
	mov $0x3f8, %dx           /* COM1 data register; QEMU's UART needs no set-up to send */
1:	lodsb
	test %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:	mov $0xf4, %dx            /* isa-debug-exit: QEMU exits with status (0 << 1) | 1 */
	xor %eax, %eax
	outl %eax, %dx
3:	cli
	hlt
	jmp 3b

msg:	.asciz "stub: first instruction\r\n"
