/*
 * Multiboot → boot_info. Runs in long mode on the boot stack with the 4 GiB identity map from
 * entry.S; nothing is initialised yet, not even the console, so problems are recorded in the
 * boot_info and reported by kernel_main.
 */
#include "boot/multiboot/multiboot.h"
#include "boot/boot_info.h"
#include "kernel/kernel.h"
#include "arch/x86_64/cpu.h"

#include <string.h>

static void copy_cmdline(char *dst, const char *src)
{
	/* The loader puts the kernel's own path first (QEMU: "build/vireo.elf <append>"), as
	 * GRUB does; the kernel's command line is what follows. */
	while (*src && *src != ' ')
		src++;
	while (*src == ' ')
		src++;
	size_t n = strnlen(src, BOOT_CMDLINE_MAX - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
}

_Noreturn void multiboot_main(uint32_t magic, uint32_t info_phys)
{
	struct boot_info *bi = &kernel_boot_info;
	const struct multiboot_info *mb = (const struct multiboot_info *)(uintptr_t)info_phys;

	memset(bi, 0, sizeof(*bi));
	strcpy(bi->loader, "multiboot");
	/* A wrong magic leaves boot_info's magic unset: kernel_main reports it and halts. */
	if (magic == MULTIBOOT_BOOTLOADER_MAGIC)
		bi->magic = BOOT_INFO_MAGIC;
	else
		kernel_main(bi);

	if (mb->flags & MB_INFO_CMDLINE)
		copy_cmdline(bi->cmdline, (const char *)(uintptr_t)mb->cmdline);

	if (mb->flags & MB_INFO_MMAP) {
		uintptr_t p = mb->mmap_addr, end = (uintptr_t)mb->mmap_addr + mb->mmap_length;
		while (p + sizeof(struct multiboot_mmap_entry) <= end) {
			const struct multiboot_mmap_entry *e = (const void *)p;
			boot_mmap_add_e820(bi, e->addr, e->len, e->type);
			p += e->size + 4;
		}
	} else if (mb->flags & MB_INFO_MEMORY) {
		/* No map: the two classic figures, conventional memory and memory above 1 MiB. */
		bi->mmap[0] = (struct boot_mmap_entry){0, (uint64_t)mb->mem_lower << 10,
						       BOOT_MEM_USABLE, 0};
		bi->mmap[1] = (struct boot_mmap_entry){0x100000, (uint64_t)mb->mem_upper << 10,
						       BOOT_MEM_USABLE, 0};
		bi->mmap_count = 2;
	}

	if ((mb->flags & MB_INFO_FB) && mb->framebuffer_type == 1) {
		bi->fb.addr = mb->framebuffer_addr;
		bi->fb.width = mb->framebuffer_width;
		bi->fb.height = mb->framebuffer_height;
		bi->fb.pitch = mb->framebuffer_pitch;
		bi->fb.bpp = mb->framebuffer_bpp;
	}
	bi->rsdp = 0; /* multiboot 1 has no RSDP: the ACPI code searches the BIOS areas */
	kernel_main(bi);
}
