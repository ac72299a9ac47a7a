/* Kernel page tables: an identity map (virtual == physical) of RAM; MMIO mapped on demand. */
#ifndef VIREO_ARCH_PAGING_H
#define VIREO_ARCH_PAGING_H

#include <stdint.h>

#include "boot/boot_info.h"

/* Build the kernel's page tables from the memory map and switch to them: every RAM entry of
 * the map write-back cached, reserved (firmware) entries below 4 GiB too, page 0 left unmapped
 * so a NULL dereference faults. Needs the page allocator. Returns 0 or -ENOMEM. */
int paging_init(const struct boot_info *bi);

/* Map [phys, phys + size) uncached (device registers must not be cached or combined) and return
 * its address (the identity). Works above 4 GiB (64-bit BARs). Returns NULL when page tables
 * cannot be allocated. Before paging_init the firmware's identity map is assumed. */
void *mmio_map(uint64_t phys, uint64_t size);

/* Bytes identity-mapped as RAM, and MMIO mappings made, for the shell's `mem`. */
void paging_stats(uint64_t *ram_mapped, uint64_t *mmio_mappings);

#endif
