/* What platform_init found, for the rest of the kernel (kernel/platform.c). */
#ifndef VIREO_PLATFORM_H
#define VIREO_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/acpi/acpi.h"

extern struct acpi_info kernel_acpi;
extern bool kernel_acpi_ok; /* acpi_parse succeeded */

/* Route ISA IRQ isa_irq (MADT overrides applied) to vector on this CPU. 0 or -errno. */
int isa_irq_route(uint8_t isa_irq, uint8_t vector);

#endif
