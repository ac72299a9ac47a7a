# libFuzzer target: malformed firmware tables against the ACPI parser (tests/fuzz/fuzz_acpi.c).
FUZZ_TARGETS += acpi
acpi_FUZZ_SRCS := tests/fuzz/fuzz_acpi.c lib/acpi/acpi.c
