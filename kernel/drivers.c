/* Device bring-up: PCI enumeration, then each driver's probe (added as the drivers land). */
#include "kernel/kernel.h"

void drivers_init(void)
{
}
