/* Device bring-up: PCI enumeration, then every registered driver's probe. */
#include "drivers/pci/pci.h"
#include "kernel/kernel.h"

#include <stdio.h>

int pci_platform_init(void);

void drivers_init(void)
{
	if (pci_platform_init() < 0)
		return;
	pci_probe_all();
}
