/*
 * boot_info — what a boot path (multiboot, PVH or UEFI) hands to the kernel.
 *
 * Each loader fills one of these and enters kernel_main() with it. It holds copies, never
 * pointers into loader memory, so the kernel may reuse every byte the loader owned once it has
 * copied the struct into its own image (kernel/main.c does that first thing).
 */
#ifndef VIREO_BOOT_INFO_H
#define VIREO_BOOT_INFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC   0x56495245u /* "VIRE" */
#define BOOT_MMAP_MAX     256
#define BOOT_CMDLINE_MAX  1024

/* Memory map entry types, a union of E820 (multiboot, PVH) and UEFI memory types. */
enum boot_mem_type {
	BOOT_MEM_USABLE = 1,       /* free RAM (E820 1; UEFI conventional, boot services) */
	BOOT_MEM_RESERVED = 2,     /* firmware, MMIO, runtime services: never touch */
	BOOT_MEM_ACPI_RECLAIM = 3, /* ACPI tables: keep while the kernel reads them */
	BOOT_MEM_ACPI_NVS = 4,
	BOOT_MEM_BAD = 5,
	BOOT_MEM_LOADER = 6,       /* loader code/data (UEFI LoaderCode/Data): dead once in the kernel */
};

struct boot_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type; /* enum boot_mem_type */
	uint32_t reserved;
};

struct boot_framebuffer {
	uint64_t addr; /* physical; 0 when there is none */
	uint32_t width, height, pitch; /* pitch in bytes */
	uint32_t bpp;
};

struct boot_info {
	uint32_t magic; /* BOOT_INFO_MAGIC */
	uint32_t mmap_count;
	char loader[16]; /* "multiboot", "pvh" or "uefi" */
	struct boot_mmap_entry mmap[BOOT_MMAP_MAX];
	uint64_t rsdp;  /* physical address of the ACPI RSDP, 0 if unknown */
	uint64_t tsc_at_entry; /* TSC read by the first kernel instruction(s) */
	struct boot_framebuffer fb;
	char cmdline[BOOT_CMDLINE_MAX]; /* NUL-terminated, possibly empty */
};

/* Add one entry of an E820-style map (types 1..5; others reserved), as the multiboot and PVH
 * loaders hand them over. An empty entry describes nothing and is dropped (QEMU's microvm ends
 * its table with one); entries past BOOT_MMAP_MAX are dropped too. */
static inline void boot_mmap_add_e820(struct boot_info *bi, uint64_t base, uint64_t length,
				      uint32_t type)
{
	if (length == 0 || bi->mmap_count == BOOT_MMAP_MAX)
		return;
	bi->mmap[bi->mmap_count++] = (struct boot_mmap_entry){
		base, length, type >= 1 && type <= 5 ? type : BOOT_MEM_RESERVED, 0};
}

#endif
