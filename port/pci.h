/* What the kernel's PCI port (port/pci.c) offers the rest of the kernel. */
#ifndef VIREO_PORT_PCI_H
#define VIREO_PORT_PCI_H

/* Choose the configuration mechanism (ECAM from the MCFG, else ports 0xCF8/0xCFC) and
 * enumerate. Returns 0, or a negative errno when there is no PCI to use. */
int kernel_pci_init(void);
/* `lspci -v`'s per-line INTx statistics: line, GSI, vector, handlers, counts. */
void kernel_pci_intx_print(void);

#endif
