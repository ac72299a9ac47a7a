/*
 * PVH → boot_info. Runs in long mode on the boot stack with the 4 GiB identity map from
 * boot/multiboot/entry.S; nothing is initialised yet, so problems are left in the boot_info for
 * kernel_main to report.
 */
#include "boot/pvh/pvh.h"
#include "boot/boot_info.h"
#include "kernel/kernel.h"

#include <string.h>

_Noreturn void pvh_main(uint32_t start_info_phys)
{
	struct boot_info *bi = &kernel_boot_info;
	const struct hvm_start_info *si = (const void *)(uintptr_t)start_info_phys;

	memset(bi, 0, sizeof(*bi));
	strcpy(bi->loader, "pvh");
	/* A bad magic or no memory map (version 0) leaves boot_info's magic unset: kernel_main
	 * reports it and halts. */
	if (si->magic != XEN_HVM_START_MAGIC_VALUE || si->version < 1 || !si->memmap_paddr)
		kernel_main(bi);
	bi->magic = BOOT_INFO_MAGIC;

	if (si->cmdline_paddr) {
		const char *src = (const char *)(uintptr_t)si->cmdline_paddr;
		size_t n = strnlen(src, BOOT_CMDLINE_MAX - 1);
		memcpy(bi->cmdline, src, n);
		bi->cmdline[n] = 0;
	}
	const struct hvm_memmap_table_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries; i++)
		boot_mmap_add_e820(bi, e[i].addr, e[i].size, e[i].type);
	bi->rsdp = si->rsdp_paddr; /* 0: the ACPI code searches the BIOS areas */
	kernel_main(bi);
}
