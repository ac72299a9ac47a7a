/*
 * The ACPI parser's port: the two functions lib/acpi needs from the system it runs in.
 * Vireo's implementation is port/acpi.c (identity map, printf); the host tests' and the
 * fuzzer's map fake memory (tests/host/test_acpi.c, tests/fuzz/fuzz_acpi.c).
 *
 * Context: acpi_parse runs once at boot, in one thread.
 */
#ifndef VIREO_ACPI_PORT_H
#define VIREO_ACPI_PORT_H

#include <stddef.h>
#include <stdint.h>

/* Make [phys, phys + len) readable; returns a pointer to it, or NULL when it is not memory the
 * host can read (the table is then skipped). Pointers must stay valid until acpi_parse returns
 * (the root table is walked while the tables it lists are mapped); acpi_info keeps no pointers
 * into them. phys + len never wraps. */
const void *acpi_port_map(uint64_t phys, size_t len);

/* One finished line of diagnostics, without the newline. */
void acpi_port_log(const char *msg);

#endif
