/* Real QEMU ACPI tables as test fixtures (tests/host/acpi_fake_qemu.c). */
#ifndef VIREO_TESTS_ACPI_FAKE_QEMU_H
#define VIREO_TESTS_ACPI_FAKE_QEMU_H

#include <stdint.h>

/* One table (or the RSDP), at the physical address it had in the guest. */
struct acpi_fixture_blob {
	uint64_t phys;
	uint32_t len;
	const uint8_t *data;
};

struct acpi_fixture {
	const char *name;
	uint64_t rsdp; /* physical address of the RSDP */
	const struct acpi_fixture_blob *blobs;
	unsigned nblobs;
};

/* SeaBIOS: RSDP rev 0 in the BIOS area, RSDT only. */
extern const struct acpi_fixture acpi_fixture_q35_seabios;
extern const struct acpi_fixture acpi_fixture_pc_seabios;
/* OVMF: RSDP rev 2 (given by UEFI, not in the BIOS area), XSDT and RSDT. */
extern const struct acpi_fixture acpi_fixture_q35_ovmf;
/* microvm (qboot): RSDP rev 2 in the BIOS area, XSDT only, hardware-reduced, virtio-mmio
 * devices in the DSDT. */
extern const struct acpi_fixture acpi_fixture_microvm;

#endif
