/*
 * The loader's only instruction that C cannot express.
 *
 * In the kernel, asm lives in arch/x86_64; the loader is a separate program (a PE/COFF image
 * built against gnu-efi, not linked with the kernel), so it keeps its one line of inline asm
 * here rather than reaching into the kernel's arch code.
 */
#ifndef VIREO_EFI_CPU_H
#define VIREO_EFI_CPU_H

/* Disable interrupts before entering the kernel: the firmware's IDT and timer are dead after
 * ExitBootServices, and the kernel installs its own IDT before it enables them. The memory
 * clobber keeps the compiler from moving boot_info stores past it. */
static inline void efi_cpu_cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}

#endif
