/*
 * Four-level x86_64 paging (Intel SDM vol. 3, 4.5) with 2 MiB pages, identity mapped.
 *
 * A unikernel has one address space, so virtual == physical everywhere: drivers hand buffer
 * addresses straight to devices. The first 2 MiB use 4 KiB pages so that page 0 can stay
 * unmapped and a NULL pointer faults instead of reading the real-mode IVT.
 *
 * MMIO gets PCD|PWT (uncached) 2 MiB pages, made on demand. A 2 MiB MMIO page may cover
 * neighbouring device windows but never RAM on the machines Vireo targets (device windows are
 * at least 2 MiB aligned on QEMU's q35 and pc); mmio_map refuses to turn RAM uncached.
 */
#include "arch/x86_64/paging.h"
#include "arch/x86_64/cpu.h"
#include "kernel/page_alloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_PS   (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull
#define SZ_2M    0x200000ull
#define SZ_4G    0x100000000ull

static uint64_t *pml4;
static uint64_t ram_bytes, mmio_count;

/* The next-level table behind entry idx of t, allocated (zeroed) when absent. */
static uint64_t *next_table(uint64_t *t, unsigned idx)
{
	if (!(t[idx] & PTE_P)) {
		void *p = pages_alloc(1, 1);
		if (!p)
			return NULL;
		t[idx] = (uint64_t)p | PTE_P | PTE_W;
	}
	return (uint64_t *)(t[idx] & PTE_ADDR);
}

/* The page-directory entry for the 2 MiB page holding addr. */
static uint64_t *pde_for(uint64_t addr)
{
	uint64_t *pdpt = next_table(pml4, (addr >> 39) & 511);
	if (!pdpt)
		return NULL;
	uint64_t *pd = next_table(pdpt, (addr >> 30) & 511);
	if (!pd)
		return NULL;
	return &pd[(addr >> 21) & 511];
}

static int map_range(uint64_t base, uint64_t len, uint64_t flags)
{
	uint64_t start = base & ~(SZ_2M - 1), end = (base + len + SZ_2M - 1) & ~(SZ_2M - 1);
	for (uint64_t a = start; a < end; a += SZ_2M) {
		if (a < SZ_2M)
			continue; /* the first 2 MiB are mapped with 4 KiB pages */
		uint64_t *pde = pde_for(a);
		if (!pde)
			return -ENOMEM;
		if (!(*pde & PTE_P))
			ram_bytes += flags & PTE_PCD ? 0 : SZ_2M;
		*pde = a | PTE_P | PTE_W | PTE_PS | flags;
	}
	return 0;
}

int paging_init(const struct boot_info *bi)
{
	pml4 = pages_alloc(1, 1);
	if (!pml4)
		return -ENOMEM;
	/* First 2 MiB: 4 KiB pages, page 0 not present. */
	uint64_t *pde0 = pde_for(0);
	uint64_t *pt = pages_alloc(1, 1);
	if (!pde0 || !pt)
		return -ENOMEM;
	for (unsigned i = 1; i < 512; i++)
		pt[i] = ((uint64_t)i << 12) | PTE_P | PTE_W;
	*pde0 = (uint64_t)pt | PTE_P | PTE_W;
	ram_bytes = SZ_2M;

	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		bool ram = e->type != BOOT_MEM_RESERVED && e->type != BOOT_MEM_BAD;
		/* Firmware-reserved RAM below 4 GiB (SeaBIOS keeps its ACPI tables there) is mapped
		 * cached too; reserved ranges above 4 GiB are device windows, mapped by mmio_map. */
		if (!ram && !(e->type == BOOT_MEM_RESERVED && e->base + e->length <= SZ_4G))
			continue;
		if (map_range(e->base, e->length, 0) < 0)
			return -ENOMEM;
	}
	/* The kernel image itself, whatever the map says (it is inside the first RAM entry on
	 * every loader, but do not depend on it). */
	extern char __kernel_start[], __kernel_end[];
	if (map_range((uint64_t)__kernel_start, __kernel_end - __kernel_start, 0) < 0)
		return -ENOMEM;
	cpu_write_cr3((uint64_t)pml4);
	return 0;
}

static bool is_ram(uint64_t a)
{
	extern struct boot_info kernel_boot_info;
	for (uint32_t i = 0; i < kernel_boot_info.mmap_count; i++) {
		const struct boot_mmap_entry *e = &kernel_boot_info.mmap[i];
		if (e->type != BOOT_MEM_RESERVED && a >= e->base && a < e->base + e->length)
			return true;
	}
	return false;
}

void *mmio_map(uint64_t phys, uint64_t size)
{
	if (!pml4)
		return (void *)phys;
	uint64_t start = phys & ~(SZ_2M - 1), end = (phys + size + SZ_2M - 1) & ~(SZ_2M - 1);
	for (uint64_t a = start; a < end; a += SZ_2M) {
		if (a < SZ_2M || is_ram(a)) {
			printf("mmio_map: %#llx is RAM, not mapping it uncached\n",
			       (unsigned long long)a);
			return NULL;
		}
	}
	if (map_range(phys, size, PTE_PCD | PTE_PWT) < 0)
		return NULL;
	for (uint64_t a = start; a < end; a += SZ_2M)
		cpu_invlpg((void *)a);
	mmio_count++;
	return (void *)phys;
}

void paging_stats(uint64_t *ram_mapped, uint64_t *mmio_mappings)
{
	*ram_mapped = ram_bytes;
	*mmio_mappings = mmio_count;
}
