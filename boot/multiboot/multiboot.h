/* Multiboot 1 information structure (Multiboot Specification 0.6.96, section 3.3). */
#ifndef VIREO_MULTIBOOT_H
#define VIREO_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002

#define MB_INFO_MEMORY  (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP    (1u << 6)
#define MB_INFO_FB      (1u << 12)

struct __attribute__((packed)) multiboot_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper; /* KiB below 1 MiB / above 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
	uint64_t framebuffer_addr;
	uint32_t framebuffer_pitch, framebuffer_width, framebuffer_height;
	uint8_t framebuffer_bpp, framebuffer_type;
};

/* An mmap entry; "size" does not count itself, so the next entry is at +size+4. */
struct __attribute__((packed)) multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type; /* E820 type: 1 usable, 2 reserved, 3 ACPI reclaimable, 4 NVS, 5 bad */
};

/* The multiboot path's C entry (boot/boot32.c hands over): the loader's magic (EAX) and the
 * physical address of the multiboot information (EBX). */
_Noreturn void multiboot_main(uint32_t magic, uint32_t info_phys);

#endif
