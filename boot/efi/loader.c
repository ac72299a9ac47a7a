/*
 * Vireo's UEFI loader: a gnu-efi application that carries the flat kernel image (vireo.bin, see
 * kernel_blob.S), places it at its link address, builds a struct boot_info, leaves boot services
 * and calls the kernel's 64-bit entry. See docs/UEFI.md.
 *
 * Order matters: everything that allocates or prints happens before the ExitBootServices loop;
 * inside the loop only GetMemoryMap, the conversion (mmap.c, no firmware calls) and
 * ExitBootServices run, into storage allocated beforehand.
 */
#include "loader.h"

#include "boot/image_header.h"
#include "cpu.h"

#define MB_HEADER_MAGIC 0x1BADB002u /* multiboot spec 3.1.2 */
#define EBS_ATTEMPTS 8
/* Room for the memory map to grow between sizing it and the final GetMemoryMap: our own
 * allocations after sizing and whatever the firmware does in timer callbacks. */
#define MMAP_SLACK_DESCS 64

extern UINT8 vireo_kernel_image[], vireo_kernel_image_end[];

/* The kernel's entry64: System V whatever this file's default ABI is, never returns. */
typedef void (__attribute__((sysv_abi)) *kernel_entry_fn)(struct boot_info *bi);

struct kernel_layout {
	UINT64 load, file_bytes, mem_end, entry;
};

/* Check the header at the start of the embedded image and work out what to copy where. */
static EFI_STATUS check_image(const struct vireo_image_header *h, UINT64 blob_bytes,
			      struct kernel_layout *k)
{
	if (blob_bytes < sizeof(*h)) {
		Print(L"vireo: embedded image is %ld bytes, smaller than its header\n", blob_bytes);
		return EFI_LOAD_ERROR;
	}
	/* Flag 16 (a.out kludge) may be clear: the kernel lets multiboot loaders use its ELF program
	 * headers, but fills the address fields for us anyway (boot/multiboot/entry.S). */
	if (h->mb_magic != MB_HEADER_MAGIC || (UINT32)(h->mb_magic + h->mb_flags + h->mb_checksum) != 0) {
		Print(L"vireo: bad multiboot header (magic %x flags %x checksum %x)\n", h->mb_magic,
		      h->mb_flags, h->mb_checksum);
		return EFI_LOAD_ERROR;
	}
	if (h->vireo_magic != VIREO_IMAGE_MAGIC) {
		Print(L"vireo: bad image magic %lx (want %lx)\n", h->vireo_magic, VIREO_IMAGE_MAGIC);
		return EFI_LOAD_ERROR;
	}

	k->load = h->load_addr;
	/* Multiboot: load_end_addr 0 means "the whole file", bss_end_addr 0 means "no bss". */
	k->file_bytes = h->load_end_addr ? (UINT64)h->load_end_addr - h->load_addr : blob_bytes;
	k->mem_end = h->bss_end_addr ? h->bss_end_addr : k->load + k->file_bytes;
	k->entry = h->entry64;

	/* We read the header at offset 0 of the flat image, so it must be the image's start. */
	if (h->header_addr != h->load_addr) {
		Print(L"vireo: header_addr %x != load_addr %x: header is not at the image start\n",
		      h->header_addr, h->load_addr);
		return EFI_LOAD_ERROR;
	}
	if (k->load & (EFI_PAGE_SIZE - 1)) {
		Print(L"vireo: load_addr %lx is not page aligned\n", k->load);
		return EFI_LOAD_ERROR;
	}
	if (h->load_end_addr && h->load_end_addr < h->load_addr) {
		Print(L"vireo: load_end_addr %x below load_addr %x\n", h->load_end_addr, h->load_addr);
		return EFI_LOAD_ERROR;
	}
	if (k->file_bytes > blob_bytes) {
		Print(L"vireo: header says %ld bytes to load, the embedded image has %ld\n",
		      k->file_bytes, blob_bytes);
		return EFI_LOAD_ERROR;
	}
	if (k->mem_end < k->load + k->file_bytes) {
		Print(L"vireo: bss_end_addr %lx below load_end %lx\n", k->mem_end, k->load + k->file_bytes);
		return EFI_LOAD_ERROR;
	}
	if (k->entry < k->load || k->entry >= k->load + k->file_bytes) {
		Print(L"vireo: entry64 %lx outside the loaded image [%lx, %lx)\n", k->entry, k->load,
		      k->load + k->file_bytes);
		return EFI_LOAD_ERROR;
	}
	return EFI_SUCCESS;
}

/* AllocatePages at the link address failed: say who owns that memory. */
static void explain_placement_failure(UINT64 start, UINT64 end)
{
	UINTN entries, key, desc_size;
	UINT32 desc_version;
	UINT8 *map = (UINT8 *)LibMemoryMap(&entries, &key, &desc_size, &desc_version);

	if (!map) {
		Print(L"vireo: (could not read the memory map either)\n");
		return;
	}
	for (UINTN i = 0; i < entries; i++) {
		EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)(map + i * desc_size);
		UINT64 d_end = d->PhysicalStart + d->NumberOfPages * EFI_PAGE_SIZE;

		if (d_end <= start || d->PhysicalStart >= end)
			continue;
		Print(L"vireo:   map entry [%lx, %lx) type %d (%s) attr %lx covers part of it\n",
		      d->PhysicalStart, d_end, d->Type, efi_mem_type_name(d->Type), d->Attribute);
	}
	FreePool(map);
}

/*
 * Copy the image to its link address. The pages are allocated as EfiLoaderCode, not
 * LoaderData: firmware with a DXE NX policy (OVMF marks LoaderData non-executable) would
 * otherwise fault on the kernel's first instruction. Both become BOOT_MEM_LOADER in boot_info.
 */
static EFI_STATUS place_kernel(const struct kernel_layout *k)
{
	EFI_PHYSICAL_ADDRESS addr = k->load;
	UINTN pages = EFI_SIZE_TO_PAGES(k->mem_end - k->load);
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress, EfiLoaderCode, pages, &addr);
	if (EFI_ERROR(st)) {
		Print(L"vireo: cannot allocate the kernel's memory [%lx, %lx) (%d pages): %r\n", k->load,
		      k->load + pages * EFI_PAGE_SIZE, (int)pages, st);
		explain_placement_failure(k->load, k->load + pages * EFI_PAGE_SIZE);
		return st;
	}
	CopyMem((void *)(UINTN)k->load, vireo_kernel_image, k->file_bytes);
	SetMem((void *)(UINTN)(k->load + k->file_bytes), k->mem_end - k->load - k->file_bytes, 0);
	Print(L"vireo: kernel at [%lx, %lx), %ld bytes loaded, entry64 %lx\n", k->load, k->mem_end,
	      k->file_bytes, k->entry);
	return EFI_SUCCESS;
}

/* The ACPI RSDP from the configuration table: the 2.0 table (XSDT) when there is one. */
static UINT64 find_rsdp(void)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	UINT64 v1 = 0;

	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];

		if (CompareGuid(&t->VendorGuid, &acpi20) == 0)
			return (UINT64)(UINTN)t->VendorTable;
		if (CompareGuid(&t->VendorGuid, &acpi10) == 0)
			v1 = (UINT64)(UINTN)t->VendorTable;
	}
	return v1;
}

static void find_framebuffer(struct boot_framebuffer *fb)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;
	UINT32 bpp;

	*fb = (struct boot_framebuffer){ 0 };
	if (EFI_ERROR(LibLocateProtocol(&GraphicsOutputProtocol, (void **)&gop)) || !gop || !gop->Mode ||
	    !gop->Mode->Info)
		return;
	info = gop->Mode->Info;
	switch (info->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor:
	case PixelBlueGreenRedReserved8BitPerColor:
		bpp = 32;
		break;
	case PixelBitMask: {
		UINT32 m = info->PixelInformation.RedMask | info->PixelInformation.GreenMask |
			   info->PixelInformation.BlueMask | info->PixelInformation.ReservedMask;

		bpp = m ? 32 - (UINT32)__builtin_clz(m) : 0;
		break;
	}
	default: /* PixelBltOnly: no linear framebuffer */
		return;
	}
	if (!gop->Mode->FrameBufferBase || !bpp)
		return;
	fb->addr = gop->Mode->FrameBufferBase;
	fb->width = info->HorizontalResolution;
	fb->height = info->VerticalResolution;
	fb->bpp = bpp;
	fb->pitch = info->PixelsPerScanLine * ((bpp + 7) / 8);
}

static void copy_str(char *dst, const char *src, UINTN max)
{
	UINTN i = 0;

	for (; i + 1 < max && src[i]; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	const struct vireo_image_header *hdr = (const void *)vireo_kernel_image;
	UINT64 blob_bytes = (UINT64)(vireo_kernel_image_end - vireo_kernel_image);
	struct kernel_layout k;
	EFI_LOADED_IMAGE *li = NULL;
	EFI_PHYSICAL_ADDRESS bi_addr = 0xffffffffull;
	struct boot_info *bi;
	UINT8 *map = NULL;
	UINTN map_cap = 0, map_size = 0, key = 0, desc_size = 0;
	UINT32 desc_version = 0, dropped = 0;
	EFI_STATUS st;

	InitializeLib(image, systab);
	Print(L"Vireo UEFI loader (firmware %s rev %x, UEFI %d.%02d)\n", ST->FirmwareVendor,
	      ST->FirmwareRevision, ST->Hdr.Revision >> 16, ST->Hdr.Revision & 0xffff);

	st = check_image(hdr, blob_bytes, &k);
	if (EFI_ERROR(st))
		return st;
	st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(st)) {
		Print(L"vireo: no loaded image protocol: %r\n", st);
		return st;
	}
	/* The kernel first, before our other allocations can land on its range. */
	st = place_kernel(&k);
	if (EFI_ERROR(st))
		return st;

	/* Below 4 GiB: the kernel reads it before it has mapped anything higher (it copies the
	 * struct first thing). */
	st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData,
			       EFI_SIZE_TO_PAGES(sizeof(*bi)), &bi_addr);
	if (EFI_ERROR(st)) {
		Print(L"vireo: cannot allocate the boot_info page: %r\n", st);
		return st;
	}
	bi = (struct boot_info *)(UINTN)bi_addr;
	SetMem(bi, sizeof(*bi), 0);
	bi->magic = BOOT_INFO_MAGIC;
	copy_str(bi->loader, "uefi", sizeof(bi->loader));

	efi_read_cmdline(image, li, bi->cmdline);
	Print(L"vireo: cmdline \"%a\"\n", bi->cmdline);
	bi->rsdp = find_rsdp();
	find_framebuffer(&bi->fb);
	Print(L"vireo: rsdp %lx, framebuffer %lx %dx%d pitch %d bpp %d\n", bi->rsdp, bi->fb.addr,
	      bi->fb.width, bi->fb.height, bi->fb.pitch, bi->fb.bpp);

	/* Size the memory map and allocate its buffer once, with slack: after the first
	 * ExitBootServices attempt, allocating is no longer allowed. */
	st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, NULL, &key, &desc_size, &desc_version);
	if (st != EFI_BUFFER_TOO_SMALL || desc_size < sizeof(EFI_MEMORY_DESCRIPTOR)) {
		Print(L"vireo: GetMemoryMap (sizing) returned %r\n", st);
		return EFI_ERROR(st) ? st : EFI_LOAD_ERROR;
	}
	map_cap = map_size + MMAP_SLACK_DESCS * desc_size;
	st = uefi_call_wrapper(BS->AllocatePool, 3, EfiLoaderData, map_cap, (void **)&map);
	if (EFI_ERROR(st)) {
		Print(L"vireo: cannot allocate %d bytes for the memory map: %r\n", (int)map_cap, st);
		return st;
	}
	Print(L"vireo: entering the kernel\n");

	/* Any boot service call (our Print included) between GetMemoryMap and ExitBootServices
	 * may change the map and stale the key; the firmware's timer events can too, which is why
	 * EFI_INVALID_PARAMETER gets a fresh map and another try. Only GetMemoryMap and
	 * ExitBootServices are allowed after a failed attempt, so no Print in here. */
	for (int attempt = 0;; attempt++) {
		map_size = map_cap;
		st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, (EFI_MEMORY_DESCRIPTOR *)map, &key,
				       &desc_size, &desc_version);
		if (EFI_ERROR(st))
			break;
		bi->mmap_count = efi_convert_mmap(map, map_size, desc_size, bi->mmap, BOOT_MMAP_MAX,
						  &dropped);
		st = uefi_call_wrapper(BS->ExitBootServices, 2, image, key);
		if (st != EFI_INVALID_PARAMETER || attempt + 1 == EBS_ATTEMPTS)
			break;
	}
	if (EFI_ERROR(st)) {
		/* Boot services may be half gone; this Print is best effort. */
		Print(L"vireo: ExitBootServices failed: %r\n", st);
		return st;
	}

	/* No boot services from here on. */
	efi_cpu_cli();
	((kernel_entry_fn)(UINTN)k.entry)(bi);
	/* entry64 does not return; if it did, there is no firmware left to return to. */
	for (;;)
		;
}
