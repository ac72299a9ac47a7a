/* The kernel's side of the ACPI parser's port (lib/acpi/acpi_port.h). */
#include "lib/acpi/acpi_port.h"

#include <stdio.h>

/* All RAM and the first MiB are identity-mapped while the parser runs (before the kernel's
 * page tables replace the loader's), and tables live in RAM or the BIOS area. */
const void *acpi_port_map(uint64_t phys, size_t len)
{
	(void)len;
	return (const void *)(uintptr_t)phys;
}

void acpi_port_log(const char *msg)
{
	printf("acpi: %s\n", msg);
}
