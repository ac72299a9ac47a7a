/*
 * libFuzzer target: the ACPI parser against firmware tables it cannot trust.
 *
 * The input becomes a window of fake physical memory at FAKE_BASE, with the RSDP at its start;
 * every address outside the window is unmapped (acpi_port_map returns NULL). Checksums stop a
 * random input at the first table, so when the first byte is odd the target first repairs the
 * RSDP checksums and the checksum of every plausible table header in the window: the fuzzer
 * then explores the MADT/FADT/MCFG/HPET/DSDT parsers instead of the checksum test. Under
 * ASan/UBSan any read outside the window or outside a table's length is a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_target.h"
#include "lib/acpi/acpi.h"
#include "lib/acpi/acpi_port.h"

#define FAKE_BASE 0x100000ull

static const uint8_t *mem;
static size_t mem_len;

const void *acpi_port_map(uint64_t phys, size_t len)
{
	if (phys < FAKE_BASE || phys - FAKE_BASE > mem_len || len > mem_len - (phys - FAKE_BASE))
		return NULL;
	return mem + (phys - FAKE_BASE);
}

void acpi_port_log(const char *msg)
{
	(void)msg;
}

static void fix_sum(uint8_t *p, size_t len, size_t sum_at)
{
	uint8_t s = 0;
	p[sum_at] = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	p[sum_at] = (uint8_t)-s;
}

static void repair_checksums(uint8_t *m, size_t n)
{
	if (n >= 20)
		fix_sum(m, 20, 8); /* RSDP v1 checksum over the first 20 bytes */
	if (n >= 36) {
		uint32_t len;
		memcpy(&len, m + 20, 4);
		if (len >= 36 && len <= n)
			fix_sum(m, len, 32); /* extended checksum */
	}
	/* Any 4-byte upper-case signature on a 4-byte boundary with a sane length: a table. */
	for (size_t off = 36; off + 36 <= n; off += 4) {
		const uint8_t *s = m + off;
		if (s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
			continue;
		uint32_t len;
		memcpy(&len, m + off + 4, 4);
		if (len >= 36 && len <= n - off)
			fix_sum(m + off, len, 9);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1)
		repair_checksums(copy, size - 1);
	mem = copy;
	mem_len = size - 1;
	static struct acpi_info info;
	if (acpi_parse(FAKE_BASE, &info) == 0) {
		bool level, low;
		for (unsigned irq = 0; irq < 16; irq++)
			(void)acpi_irq_to_gsi(&info, (uint8_t)irq, &level, &low);
	}
	free(copy);
	return 0;
}
