/* Device bring-up: PCI enumeration, then every registered driver's probe. */
#include "drivers/pci/pci.h"
#include "kernel/kernel.h"

#include <stdio.h>

int pci_platform_init(void);
void virtio_glue_init(void);
void virtio_glue_late(void);

void drivers_init(void)
{
	virtio_glue_init(); /* registers the virtio-pci driver and the device drivers */
	if (pci_platform_init() < 0)
		return;
	pci_probe_all();
	virtio_glue_late();
}
