# ACPI parser: synthetic q35/pc tables, malformed input, and real QEMU 7.2 tables as fixtures.
HOST_TESTS += acpi
acpi_SRCS := tests/host/test_acpi.c tests/host/acpi_fake_qemu.c lib/acpi/acpi.c
