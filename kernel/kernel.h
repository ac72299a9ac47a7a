/* Kernel-wide entry points and the boot sequence's steps (kernel/main.c, kernel/platform.c). */
#ifndef VIREO_KERNEL_H
#define VIREO_KERNEL_H

#include "boot/boot_info.h"

#define VIREO_VERSION "0.1"

/* The boot_info the kernel runs with (a copy of the loader's). */
extern struct boot_info kernel_boot_info;

_Noreturn void kernel_main(const struct boot_info *bi);
/* The UEFI path's entry: entry64 (boot/multiboot/entry.S) calls it with the loader's boot_info. */
_Noreturn void efi_entry_main(const struct boot_info *bi);
/* Read the ACPI tables. Runs before the kernel's page tables replace the loader's identity
 * map, because the RSDP search reads the BIOS data area in page 0, which the kernel leaves
 * unmapped to catch NULL pointers. */
void platform_acpi_init(const struct boot_info *bi);
/* PIC off, LAPIC/IOAPIC, TSC clock, tick, serial input interrupt. */
void platform_init(void);
/* PCI enumeration and device drivers. */
void drivers_init(void);

#endif
