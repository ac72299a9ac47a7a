/*
 * The UEFI loader (a gnu-efi application, separate from the kernel): shared declarations.
 *
 * Built with gnu-efi's headers and -DGNU_EFI_USE_MS_ABI (see efi.mk), so firmware calls through
 * uefi_call_wrapper() are direct ms_abi calls with prototypes checked by the compiler; our own
 * code, libefi.a and the kernel's entry64 are System V.
 */
#ifndef VIREO_EFI_LOADER_H
#define VIREO_EFI_LOADER_H

#include <efi.h>
#include <efilib.h>

#include "boot/boot_info.h"

/* cmdline.c: the kernel command line from the load options or cmdline.txt, into
 * out[BOOT_CMDLINE_MAX] (NUL-terminated, possibly empty). Boot services only. */
void efi_read_cmdline(EFI_HANDLE image, EFI_LOADED_IMAGE *li, char *out);

/* mmap.c: the firmware memory map (map_size bytes of desc_size descriptors; sorted by address
 * in place) converted to boot_info entries, neighbours of one type merged. Returns how many
 * entries were written to out (at most max); *dropped counts those that did not fit. Calls no
 * firmware service, so it is safe between a failed ExitBootServices and the retry. */
UINT32 efi_convert_mmap(UINT8 *map, UINTN map_size, UINTN desc_size,
			struct boot_mmap_entry *out, UINT32 max, UINT32 *dropped);
/* The boot_info type for a UEFI memory type. */
UINT32 efi_boot_mem_type(UINT32 efi_type);
/* A short name for a UEFI memory type, for diagnostics. */
const CHAR16 *efi_mem_type_name(UINT32 efi_type);

#endif
