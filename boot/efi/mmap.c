/*
 * UEFI memory map → boot_info memory map.
 *
 * Runs once per GetMemoryMap in the ExitBootServices loop, the last time after the firmware may
 * already have begun shutting down, so nothing here calls a boot service or allocates.
 */
#include "loader.h"

UINT32 efi_boot_mem_type(UINT32 efi_type)
{
	switch (efi_type) {
	/* Boot services memory is free once ExitBootServices has returned; the kernel only starts
	 * allocating after it has its own stack, GDT, IDT and page tables (the firmware's live in
	 * boot services data until then). */
	case EfiConventionalMemory:
	case EfiBootServicesCode:
	case EfiBootServicesData:
		return BOOT_MEM_USABLE;
	/* This loader, its copy of the image, the boot_info page, and the kernel image itself (the
	 * kernel excludes its own range by its linker symbols). */
	case EfiLoaderCode:
	case EfiLoaderData:
		return BOOT_MEM_LOADER;
	case EfiACPIReclaimMemory:
		return BOOT_MEM_ACPI_RECLAIM;
	case EfiACPIMemoryNVS:
		return BOOT_MEM_ACPI_NVS;
	case EfiUnusableMemory:
		return BOOT_MEM_BAD;
	/* Reserved, runtime services code/data (the firmware still calls into them), MMIO, MMIO
	 * port space, PAL code, persistent memory, and any type newer than this list. */
	default:
		return BOOT_MEM_RESERVED;
	}
}

const CHAR16 *efi_mem_type_name(UINT32 efi_type)
{
	static const CHAR16 *const names[] = {
		[EfiReservedMemoryType] = L"Reserved",
		[EfiLoaderCode] = L"LoaderCode",
		[EfiLoaderData] = L"LoaderData",
		[EfiBootServicesCode] = L"BootServicesCode",
		[EfiBootServicesData] = L"BootServicesData",
		[EfiRuntimeServicesCode] = L"RuntimeServicesCode",
		[EfiRuntimeServicesData] = L"RuntimeServicesData",
		[EfiConventionalMemory] = L"Conventional",
		[EfiUnusableMemory] = L"Unusable",
		[EfiACPIReclaimMemory] = L"ACPIReclaim",
		[EfiACPIMemoryNVS] = L"ACPIMemoryNVS",
		[EfiMemoryMappedIO] = L"MMIO",
		[EfiMemoryMappedIOPortSpace] = L"MMIOPortSpace",
		[EfiPalCode] = L"PalCode",
	};

	if (efi_type < sizeof(names) / sizeof(names[0]) && names[efi_type])
		return names[efi_type];
	return L"(other)";
}

static EFI_MEMORY_DESCRIPTOR *desc_at(UINT8 *map, UINTN desc_size, UINTN i)
{
	return (EFI_MEMORY_DESCRIPTOR *)(map + i * desc_size);
}

/* Swap two descriptors byte by byte: desc_size is the firmware's (it may exceed
 * sizeof(EFI_MEMORY_DESCRIPTOR)), so no fixed-size temporary fits every firmware. */
static void swap_desc(UINT8 *a, UINT8 *b, UINTN desc_size)
{
	for (UINTN i = 0; i < desc_size; i++) {
		UINT8 t = a[i];

		a[i] = b[i];
		b[i] = t;
	}
}

UINT32 efi_convert_mmap(UINT8 *map, UINTN map_size, UINTN desc_size,
			struct boot_mmap_entry *out, UINT32 max, UINT32 *dropped)
{
	UINTN n = desc_size ? map_size / desc_size : 0;
	UINT32 count = 0;

	*dropped = 0;
	/* The specification does not promise address order, and merging needs it. Insertion sort:
	 * firmware maps are short (~100 entries) and usually sorted already, which makes it linear. */
	for (UINTN i = 1; i < n; i++) {
		for (UINTN j = i; j > 0; j--) {
			EFI_MEMORY_DESCRIPTOR *lo = desc_at(map, desc_size, j - 1);
			EFI_MEMORY_DESCRIPTOR *hi = desc_at(map, desc_size, j);

			if (lo->PhysicalStart <= hi->PhysicalStart)
				break;
			swap_desc((UINT8 *)lo, (UINT8 *)hi, desc_size);
		}
	}

	for (UINTN i = 0; i < n; i++) {
		EFI_MEMORY_DESCRIPTOR *d = desc_at(map, desc_size, i);
		UINT64 base = d->PhysicalStart;
		UINT64 length = d->NumberOfPages * EFI_PAGE_SIZE;
		UINT32 type = efi_boot_mem_type(d->Type);

		if (length == 0)
			continue;
		if (count > 0) {
			struct boot_mmap_entry *prev = &out[count - 1];

			if (prev->type == type && prev->base + prev->length == base) {
				prev->length += length;
				continue;
			}
		}
		if (count == max) {
			/* Out of room: dropping an entry only hides memory from the kernel (it uses
			 * nothing that is not listed as usable), never hands it reserved memory. */
			(*dropped)++;
			continue;
		}
		out[count++] = (struct boot_mmap_entry){ .base = base, .length = length, .type = type };
	}
	return count;
}
