/*
 * The flat kernel image (build/vireo.bin by default), embedded in the loader's .data: gnu-efi's
 * objcopy step keeps only .text .sdata .data .dynamic .dynsym .rel .rela .reloc, so a section of
 * our own would be dropped. KERNEL_BIN is the path, passed by efi.mk. 16-byte aligned: the image
 * header's 64-bit fields are read in place.
 */
	.section .data
	.balign 16
	.globl vireo_kernel_image
vireo_kernel_image:
	.incbin KERNEL_BIN
	.globl vireo_kernel_image_end
vireo_kernel_image_end:
	.byte 0

	.section .note.GNU-stack, "", @progbits
