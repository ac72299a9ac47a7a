/*
 * The PVH entry (Xen's x86/HVM direct boot ABI, which QEMU's -kernel, Firecracker and
 * cloud-hypervisor use for an ELF kernel): an ELF note XEN_ELFNOTE_PHYS32_ENTRY names a 32-bit
 * entry point, entered in protected mode with paging off and EBX pointing at a struct
 * hvm_start_info (Xen's public/arch-x86/hvm/start_info.h, layout version 1).
 */
#ifndef VIREO_BOOT_PVH_H
#define VIREO_BOOT_PVH_H

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define XEN_HVM_START_MAGIC_VALUE 0x336ec578

#ifndef __ASSEMBLER__ /* pvh.S takes the two numbers above */
#include <stdint.h>

struct hvm_start_info {
	uint32_t magic;          /* XEN_HVM_START_MAGIC_VALUE */
	uint32_t version;        /* 0, or 1 with the memory map */
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;  /* NUL-terminated, 0 when none */
	uint64_t rsdp_paddr;     /* 0 when the kernel must search */
	/* version 1: */
	uint64_t memmap_paddr;   /* struct hvm_memmap_table_entry[memmap_entries] */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* E820 types: 1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 unusable */
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info v1");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry");

/* The PVH path's C entry (boot/boot32.c hands over): start_info → boot_info → kernel_main. */
_Noreturn void pvh_main(uint32_t start_info_phys);

#endif /* __ASSEMBLER__ */
#endif
