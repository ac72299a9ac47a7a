/* `acpi`: what the kernel read from the ACPI tables at boot (lib/acpi). */
#include "kernel/platform.h"
#include "shell/shell.h"

#include <stdio.h>

static int cmd_acpi(int argc, char **argv)
{
	if (argc != 1)
		return shell_usage(argv[0]);
	if (!kernel_acpi_ok) {
		printf("error: no usable ACPI tables were found at boot\n");
		return 1;
	}
	acpi_print(&kernel_acpi);
	return 0;
}
SHELL_COMMAND(acpi, "acpi", "", "ACPI tables, CPUs, IOAPICs, overrides, MCFG, HPET, S5", cmd_acpi);
