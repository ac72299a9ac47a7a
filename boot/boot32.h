/* The 32-bit entries (multiboot's _start, PVH's pvh_start) meet here in long mode. */
#ifndef VIREO_BOOT32_H
#define VIREO_BOOT32_H

#include <stdint.h>

/* entry.S calls it with EAX and EBX as the loader left them: the multiboot magic and info, or
 * the PVH marker (XEN_HVM_START_MAGIC_VALUE, set by pvh_start) and the hvm_start_info. */
_Noreturn void boot32_main(uint32_t magic, uint32_t info_phys);

#endif
