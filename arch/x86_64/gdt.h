/* Global descriptor table and task state segment. */
#ifndef VIREO_ARCH_GDT_H
#define VIREO_ARCH_GDT_H

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS         0x18

#define IST_DOUBLE_FAULT 1 /* own stack: #DF may come from a blown kernel stack */
#define IST_NMI_MCE      2

/* Load the kernel GDT (flat 64-bit code/data) and the TSS with the IST stacks. */
void gdt_init(void);

#endif
