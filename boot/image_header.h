/*
 * The header at the very start of the kernel image (build/vireo.bin, linked at KERNEL_PHYS).
 *
 * The multiboot header (boot/multiboot/entry.S) comes first and carries the a.out-kludge address
 * fields; the Vireo fields follow it. The UEFI loader (boot/efi/) reads this struct from the flat
 * image it embeds, copies the image to load_addr, zeroes up to bss_end_addr and calls entry64
 * with a struct boot_info * in %rdi (System V ABI), interrupts disabled.
 */
#ifndef VIREO_IMAGE_HEADER_H
#define VIREO_IMAGE_HEADER_H

#include <stdint.h>

#define VIREO_IMAGE_MAGIC 0x4f455249565f5856ull /* "VX_VIREO" */

struct vireo_image_header {
	/* Multiboot 1 header (multiboot spec 3.1.1), with the address fields (flag bit 16). */
	uint32_t mb_magic, mb_flags, mb_checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
	/* Vireo fields. */
	uint64_t vireo_magic; /* VIREO_IMAGE_MAGIC */
	uint64_t entry64;     /* 64-bit entry: void entry64(struct boot_info *bi) */
};

#endif
