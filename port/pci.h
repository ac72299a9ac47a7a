/* What the kernel's PCI port (port/pci.c) offers the rest of the kernel. */
#ifndef VIREO_PORT_PCI_H
#define VIREO_PORT_PCI_H

#include <stdint.h>

/* Choose the configuration mechanism: ECAM from the MCFG (mapped here), else ports
 * 0xCF8/0xCFC. Returns the configuration space size to hand to pci_init. */
uint16_t kernel_pci_config_setup(void);
/* "ECAM" or "ports 0xcf8/0xcfc (no MCFG)", for the boot log. */
const char *kernel_pci_mechanism(void);
/* `lspci -v`'s per-line INTx statistics: line, GSI, vector, handlers, counts. */
void kernel_pci_intx_print(void);

#endif
