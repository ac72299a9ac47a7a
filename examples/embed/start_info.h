/* What a PVH loader hands the kernel in EBX: struct hvm_start_info, as Xen's
 * public/arch-x86/hvm/start_info.h defines it (the fields this kernel reads, and those before
 * them). Version 0 and 1 share this prefix. */
#ifndef EMBED_START_INFO_H
#define EMBED_START_INFO_H

#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr; /* NUL-terminated, 0 when there is none */
	uint64_t rsdp_paddr;
};

#endif
