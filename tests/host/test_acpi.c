/*
 * Host tests of the ACPI parser (lib/acpi/acpi.c).
 *
 * Physical memory is faked as a list of segments; map() succeeds only for ranges inside one
 * segment, so a parser that reads past a table's end (each real-QEMU table is its own
 * segment) or follows a pointer out of memory gets NULL. Synthetic tables are written byte by
 * byte at the offsets the ACPI spec gives, not through lib/acpi/acpi_tables.h, so a wrong struct
 * field there shows up here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/acpi/acpi.h"
#include "lib/acpi/acpi_port.h"
#include "tests/host/acpi_fake_qemu.h"

/* ---- fake physical memory ---- */

#define LOW_SIZE (2u * 1024 * 1024) /* synthetic machines live in [0, 2 MiB) */

struct seg {
	uint64_t phys;
	size_t len;
	const uint8_t *data;
};

static struct seg segs[64];
static unsigned nsegs;
static uint8_t *low; /* the [0, LOW_SIZE) segment */

const void *acpi_port_map(uint64_t phys, size_t len)
{
	for (unsigned i = 0; i < nsegs; i++) {
		const struct seg *s = &segs[i];
		if (phys >= s->phys && len <= s->len && phys - s->phys <= s->len - len)
			return s->data + (phys - s->phys);
	}
	return NULL;
}

static char logbuf[16384];

void acpi_port_log(const char *msg)
{
	size_t used = strlen(logbuf);
	snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", msg);
}

static bool log_has(const char *s)
{
	return strstr(logbuf, s) != NULL;
}

static struct acpi_info info;

static int setup(void **state)
{
	(void)state;
	low = calloc(1, LOW_SIZE);
	assert_non_null(low);
	segs[0] = (struct seg){0, LOW_SIZE, low};
	nsegs = 1;
	logbuf[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(low);
	low = NULL;
	nsegs = 0;
	return 0;
}

/* ---- table builder: raw little-endian bytes at spec offsets ---- */

static void put8(uint64_t phys, uint8_t v)
{
	low[phys] = v;
}

static void put16(uint64_t phys, uint16_t v)
{
	put8(phys, (uint8_t)v);
	put8(phys + 1, (uint8_t)(v >> 8));
}

static void put32(uint64_t phys, uint32_t v)
{
	put16(phys, (uint16_t)v);
	put16(phys + 2, (uint16_t)(v >> 16));
}

static void put64(uint64_t phys, uint64_t v)
{
	put32(phys, (uint32_t)v);
	put32(phys + 4, (uint32_t)(v >> 32));
}

static uint8_t sum(uint64_t phys, size_t len)
{
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s += low[phys + i];
	return s;
}

/* A table under construction: header written at begin, length and checksum at end. */
struct tb {
	uint64_t phys;
	uint32_t len;
};

/* 5.2.6: Signature 0, Length 4, Revision 8, Checksum 9, OEMID 10, OEM Table ID 16, ... */
static struct tb tb_begin(uint64_t phys, const char *sig, uint8_t rev)
{
	memcpy(low + phys, sig, 4);
	put8(phys + 8, rev);
	memcpy(low + phys + 10, "VIREO ", 6);
	memcpy(low + phys + 16, "TESTTBL ", 8);
	put32(phys + 24, 1);
	memcpy(low + phys + 28, "TEST", 4);
	put32(phys + 32, 1);
	return (struct tb){phys, 36};
}

static void tb_u8(struct tb *t, uint8_t v)
{
	put8(t->phys + t->len, v);
	t->len += 1;
}

static void tb_u16(struct tb *t, uint16_t v)
{
	put16(t->phys + t->len, v);
	t->len += 2;
}

static void tb_u32(struct tb *t, uint32_t v)
{
	put32(t->phys + t->len, v);
	t->len += 4;
}

static void tb_u64(struct tb *t, uint64_t v)
{
	put64(t->phys + t->len, v);
	t->len += 8;
}

static void tb_bytes(struct tb *t, const void *p, size_t n)
{
	memcpy(low + t->phys + t->len, p, n);
	t->len += (uint32_t)n;
}

/* Set Length and the checksum so the whole table sums to zero. */
static void tb_end_len(struct tb *t, uint32_t len)
{
	put32(t->phys + 4, len);
	put8(t->phys + 9, 0);
	put8(t->phys + 9, (uint8_t)-sum(t->phys, len));
}

static void tb_end(struct tb *t)
{
	tb_end_len(t, t->len);
}

/* 5.2.3.2 GAS: space, bit width, bit offset, access size, address. */
static void tb_gas(struct tb *t, uint8_t space, uint8_t width, uint8_t access, uint64_t addr)
{
	tb_u8(t, space);
	tb_u8(t, width);
	tb_u8(t, 0);
	tb_u8(t, access);
	tb_u64(t, addr);
}

/* 5.2.5.3 RSDP: "RSD PTR " 0, Checksum 8, OEMID 9, Revision 15, RsdtAddress 16, Length 20,
 * XsdtAddress 24, Extended Checksum 32. */
static void put_rsdp(uint64_t phys, uint8_t rev, uint32_t rsdt, uint64_t xsdt, const char *oem)
{
	memcpy(low + phys, "RSD PTR ", 8);
	put8(phys + 8, 0);
	put8(phys + 32, 0);
	memcpy(low + phys + 9, oem, 6);
	put8(phys + 15, rev);
	put32(phys + 16, rsdt);
	put8(phys + 8, (uint8_t)-sum(phys, 20));
	if (rev >= 2) {
		put32(phys + 20, 36);
		put64(phys + 24, xsdt);
		put8(phys + 32, (uint8_t)-sum(phys, 36));
	}
}

/* MADT entries (5.2.12.x): type, length, fields. */
static void madt_lapic(struct tb *t, uint8_t uid, uint8_t apic, uint32_t flags)
{
	tb_u8(t, 0);
	tb_u8(t, 8);
	tb_u8(t, uid);
	tb_u8(t, apic);
	tb_u32(t, flags);
}

static void madt_ioapic(struct tb *t, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
	tb_u8(t, 1);
	tb_u8(t, 12);
	tb_u8(t, id);
	tb_u8(t, 0);
	tb_u32(t, addr);
	tb_u32(t, gsi_base);
}

static void madt_iso(struct tb *t, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	tb_u8(t, 2);
	tb_u8(t, 10);
	tb_u8(t, 0); /* ISA */
	tb_u8(t, irq);
	tb_u32(t, gsi);
	tb_u16(t, flags);
}

static void madt_nmi(struct tb *t, uint8_t uid, uint16_t flags, uint8_t lint)
{
	tb_u8(t, 4);
	tb_u8(t, 6);
	tb_u8(t, uid);
	tb_u16(t, flags);
	tb_u8(t, lint);
}

/* ---- synthetic q35-like machine (UEFI style: RSDP address given, XSDT) ---- */

#define Q35_RSDP      0x100000
#define Q35_XSDT      0x101000
#define Q35_RSDT      0x101800
#define Q35_FADT      0x102000
#define Q35_MADT      0x103000
#define Q35_MCFG      0x104000
#define Q35_HPET      0x105000
#define Q35_DSDT      0x106000
#define Q35_MADT_RSDT 0x107000 /* a different MADT only the RSDT lists */

static void build_madt_q35(uint64_t phys)
{
	struct tb t = tb_begin(phys, "APIC", 5);
	tb_u32(&t, 0xfee00000); /* Local Interrupt Controller Address */
	tb_u32(&t, 1);		/* PCAT_COMPAT */
	madt_lapic(&t, 0, 0, 1);
	madt_lapic(&t, 1, 1, 1);
	madt_ioapic(&t, 0, 0xfec00000, 0);
	madt_iso(&t, 0, 2, 0);	      /* IRQ0 -> GSI2, conforming */
	madt_iso(&t, 9, 9, 0x000d);   /* level, active-high */
	madt_iso(&t, 11, 11, 0x000f); /* level, active-low */
	madt_nmi(&t, 0xff, 0x0005, 1);
	/* An entry type we do not know: skipped by its length. */
	tb_u8(&t, 0x7f);
	tb_u8(&t, 5);
	tb_u8(&t, 0xaa);
	tb_u8(&t, 0xbb);
	tb_u8(&t, 0xcc);
	tb_end(&t);
}

static const uint8_t s5_aml[] = {
    /* Decoys: "_S5_" inside a string, and a Name(_S5_, 5) that is no package. */
    0x0d, 'x', '_', 'S', '5', '_', 0x00, 0x08, '_', 'S', '5', '_', 0x0a, 0x05,
    /* Name(\_S5_, Package(4){5, One, Zero, Zero}) */
    0x08, '\\', '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, 0x05, 0x01, 0x00, 0x00, 0x5b,
    0x80, /* trailing AML */
};

static void build_q35(void)
{
	struct tb t;

	put_rsdp(Q35_RSDP, 2, Q35_RSDT, Q35_XSDT, "VIREO ");

	t = tb_begin(Q35_XSDT, "XSDT", 1);
	tb_u64(&t, Q35_FADT);
	tb_u64(&t, Q35_MADT);
	tb_u64(&t, Q35_MCFG);
	tb_u64(&t, Q35_HPET);
	tb_end(&t);

	/* The RSDT lists another MADT: seeing it would mean the XSDT was not preferred. */
	t = tb_begin(Q35_RSDT, "RSDT", 1);
	tb_u32(&t, Q35_MADT_RSDT);
	tb_end(&t);
	t = tb_begin(Q35_MADT_RSDT, "APIC", 1);
	tb_u32(&t, 0xfee00000);
	tb_u32(&t, 0);
	madt_lapic(&t, 7, 7, 1);
	tb_end(&t);

	/* FADT revision 6, 276 bytes (5.2.9 Table 5.9 offsets). */
	t = tb_begin(Q35_FADT, "FACP", 6);
	while (t.len < 276)
		tb_u8(&t, 0);
	put32(Q35_FADT + 40, 0x1f0000);	       /* DSDT: stale, X_DSDT must win */
	put16(Q35_FADT + 46, 9);	       /* SCI_INT */
	put32(Q35_FADT + 48, 0xb2);	       /* SMI_CMD */
	put8(Q35_FADT + 52, 0xf1);	       /* ACPI_ENABLE */
	put8(Q35_FADT + 53, 0xf0);	       /* ACPI_DISABLE */
	put32(Q35_FADT + 64, 0x1234);	       /* PM1a_CNT_BLK: X_ must win */
	put32(Q35_FADT + 68, 0);	       /* PM1b_CNT_BLK */
	put16(Q35_FADT + 109, 0x0002);	       /* IAPC_BOOT_ARCH: 8042 */
	put32(Q35_FADT + 112, (1u << 10) | 1); /* RESET_REG_SUP | WBINVD */
	put8(Q35_FADT + 116, 1);	       /* RESET_REG: system I/O */
	put8(Q35_FADT + 117, 8);
	put8(Q35_FADT + 119, 1);
	put64(Q35_FADT + 120, 0xcf9);
	put8(Q35_FADT + 128, 0x06);	 /* RESET_VALUE */
	put64(Q35_FADT + 140, Q35_DSDT); /* X_DSDT */
	put8(Q35_FADT + 172, 1);	 /* X_PM1a_CNT_BLK: system I/O 0x604 */
	put8(Q35_FADT + 173, 16);
	put8(Q35_FADT + 175, 2);
	put64(Q35_FADT + 176, 0x604);
	tb_end(&t);

	t = tb_begin(Q35_DSDT, "DSDT", 2);
	tb_bytes(&t, s5_aml, sizeof(s5_aml));
	tb_end(&t);

	build_madt_q35(Q35_MADT);

	/* PCI Firmware 3.2 4.1.2: 8 reserved bytes, then 16-byte allocations. */
	t = tb_begin(Q35_MCFG, "MCFG", 1);
	tb_u64(&t, 0);
	tb_u64(&t, 0xb0000000);
	tb_u16(&t, 0);
	tb_u8(&t, 0);
	tb_u8(&t, 255);
	tb_u32(&t, 0);
	tb_end(&t);

	/* IA-PC HPET 1.0a 3.2.4: block id, base GAS, number, min tick, page protection. */
	t = tb_begin(Q35_HPET, "HPET", 1);
	tb_u32(&t, 0x8086a201);
	tb_gas(&t, 0, 64, 0, 0xfed00000);
	tb_u8(&t, 0);
	tb_u16(&t, 0x80);
	tb_u8(&t, 0);
	tb_end(&t);
}

static bool has_table(const char *sig, bool valid)
{
	for (unsigned i = 0; i < info.ntables; i++)
		if (strcmp(info.tables[i].signature, sig) == 0 && info.tables[i].valid == valid)
			return true;
	return false;
}

static void test_q35(void **state)
{
	(void)state;
	build_q35();
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_int_equal(info.rsdp_revision, 2);
	assert_string_equal(info.rsdp_oem_id, "VIREO ");
	assert_true(info.used_xsdt);
	assert_true(has_table("XSDT", true));
	assert_true(has_table("FACP", true));
	assert_true(has_table("DSDT", true));
	assert_true(has_table("APIC", true));
	assert_true(has_table("MCFG", true));
	assert_true(has_table("HPET", true));
	assert_false(has_table("RSDT", true));
	assert_string_equal(info.tables[0].oem_table_id, "TESTTBL ");

	assert_true(info.have_madt);
	assert_int_equal(info.lapic_addr, 0xfee00000);
	assert_true(info.pcat_compat);
	assert_int_equal(info.ncpus, 2);
	assert_int_equal(info.cpus[1].uid, 1);
	assert_int_equal(info.cpus[1].apic_id, 1);
	assert_true(info.cpus[0].enabled && info.cpus[1].enabled);
	assert_int_equal(info.nioapics, 1);
	assert_int_equal(info.ioapics[0].address, 0xfec00000);
	assert_int_equal(info.ioapics[0].gsi_base, 0);
	assert_int_equal(info.nisos, 3);
	assert_int_equal(info.isos[1].source, 9);
	assert_true(info.isos[1].level);
	assert_false(info.isos[1].active_low);
	assert_int_equal(info.nnmis, 1);
	assert_int_equal(info.nmis[0].uid, 0xff);
	assert_int_equal(info.nmis[0].lint, 1);
	assert_int_equal(info.nmis[0].flags, 5);

	assert_int_equal(info.nmcfg, 1);
	assert_int_equal(info.mcfg[0].base, 0xb0000000);
	assert_int_equal(info.mcfg[0].segment, 0);
	assert_int_equal(info.mcfg[0].start_bus, 0);
	assert_int_equal(info.mcfg[0].end_bus, 255);
	assert_int_equal(info.hpet_addr, 0xfed00000);

	assert_true(info.have_fadt);
	assert_int_equal(info.fadt_revision, 6);
	assert_int_equal(info.sci_irq, 9);
	assert_int_equal(info.smi_cmd, 0xb2);
	assert_int_equal(info.acpi_enable, 0xf1);
	assert_int_equal(info.acpi_disable, 0xf0);
	assert_int_equal(info.pm1a_cnt, 0x604);
	assert_int_equal(info.pm1b_cnt, 0);
	assert_int_equal(info.iapc_boot_arch, 2);
	assert_true(info.have_reset);
	assert_int_equal(info.reset_reg.space_id, 1);
	assert_int_equal(info.reset_reg.address, 0xcf9);
	assert_int_equal(info.reset_value, 6);
	assert_int_equal(info.dsdt_phys, Q35_DSDT);
	assert_true(info.have_s5);
	assert_int_equal(info.slp_typa, 5);
	assert_int_equal(info.slp_typb, 1);
	acpi_print(&info);
}

static void test_irq_to_gsi(void **state)
{
	(void)state;
	bool level = true, low_ = true;
	build_q35();
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_int_equal(acpi_irq_to_gsi(&info, 0, &level, &low_), 2);
	assert_false(level); /* conforming on ISA: edge, active-high */
	assert_false(low_);
	assert_int_equal(acpi_irq_to_gsi(&info, 9, &level, &low_), 9);
	assert_true(level);
	assert_false(low_);
	assert_int_equal(acpi_irq_to_gsi(&info, 11, &level, &low_), 11);
	assert_true(level);
	assert_true(low_);
	/* No override: identity, ISA defaults. */
	level = low_ = true;
	assert_int_equal(acpi_irq_to_gsi(&info, 4, &level, &low_), 4);
	assert_false(level);
	assert_false(low_);
	assert_int_equal(acpi_irq_to_gsi(&info, 0, NULL, NULL), 2);
}

/* ---- synthetic pc-like machine (SeaBIOS style: RSDP rev 0 in the BIOS area, RSDT) ---- */

#define PC_RSDP 0xf5a00
#define PC_RSDT 0x110000
#define PC_FADT 0x111000
#define PC_MADT 0x112000
#define PC_DSDT 0x113000
#define PC_HPET 0x114000

static void build_pc(void)
{
	struct tb t;

	/* A decoy with a bad checksum earlier in the area: the scan must pass it by. */
	memcpy(low + 0xe0000, "RSD PTR ", 8);
	put8(0xe0000 + 8, 0x42);
	put_rsdp(PC_RSDP, 0, PC_RSDT, 0, "BOCHS ");

	t = tb_begin(PC_RSDT, "RSDT", 1);
	tb_u32(&t, PC_FADT);
	tb_u32(&t, PC_MADT);
	tb_u32(&t, 0); /* null entries are skipped */
	tb_u32(&t, PC_HPET);
	tb_end(&t);

	/* ACPI 1.0 FADT: 116 bytes, no RESET_REG, no X_ fields. */
	t = tb_begin(PC_FADT, "FACP", 1);
	while (t.len < 116)
		tb_u8(&t, 0);
	put32(PC_FADT + 40, PC_DSDT);
	put16(PC_FADT + 46, 9);
	put32(PC_FADT + 48, 0xb2);
	put8(PC_FADT + 52, 0xf1);
	put32(PC_FADT + 64, 0xb004);
	put32(PC_FADT + 112, 1u << 10); /* RESET_REG_SUP, but the field is not there */
	tb_end(&t);

	t = tb_begin(PC_DSDT, "DSDT", 1);
	/* Name(_S5_, Package(2){0x05, 0x05}), with a 2-byte PkgLength (0x40 | 6, 0x00). */
	const uint8_t aml[] = {0x08, '_',  'S',	 '5',  '_',  0x12, 0x47,
			       0x00, 0x02, 0x0a, 0x05, 0x0a, 0x05};
	tb_bytes(&t, aml, sizeof(aml));
	tb_end(&t);

	t = tb_begin(PC_MADT, "APIC", 1);
	tb_u32(&t, 0xfee00000);
	tb_u32(&t, 1);
	madt_lapic(&t, 0, 0, 1);
	madt_ioapic(&t, 0, 0xfec00000, 0);
	madt_iso(&t, 0, 2, 0);
	madt_iso(&t, 9, 9, 0x000d);
	tb_end(&t);

	t = tb_begin(PC_HPET, "HPET", 1);
	tb_u32(&t, 0x8086a201);
	tb_gas(&t, 0, 64, 0, 0xfed00000);
	tb_u8(&t, 0);
	tb_u16(&t, 0x80);
	tb_u8(&t, 0);
	tb_end(&t);
}

static void test_pc_scan(void **state)
{
	(void)state;
	build_pc();
	assert_int_equal(acpi_parse(0, &info), 0);
	assert_int_equal(info.rsdp_phys, PC_RSDP);
	assert_int_equal(info.rsdp_revision, 0);
	assert_false(info.used_xsdt);
	assert_true(has_table("RSDT", true));
	assert_int_equal(info.ncpus, 1);
	assert_int_equal(info.nisos, 2);
	assert_int_equal(info.nmcfg, 0);
	assert_int_equal(info.hpet_addr, 0xfed00000);
	assert_true(info.have_fadt);
	assert_int_equal(info.pm1a_cnt, 0xb004);
	assert_false(info.have_reset); /* the 116-byte FADT has no RESET_REG */
	assert_int_equal(info.dsdt_phys, PC_DSDT);
	assert_true(info.have_s5);
	assert_int_equal(info.slp_typa, 5);
	assert_int_equal(info.slp_typb, 5);
}

static void test_ebda_scan_first(void **state)
{
	(void)state;
	build_pc();
	/* BDA 0x40E holds the EBDA segment; an RSDP in its first KiB wins over the ROM area. */
	put16(0x40e, 0x9fc0);
	put_rsdp(0x9fc00 + 0x40, 0, PC_RSDT, 0, "EBDA  ");
	assert_int_equal(acpi_parse(0, &info), 0);
	assert_int_equal(info.rsdp_phys, 0x9fc40);
	assert_string_equal(info.rsdp_oem_id, "EBDA  ");
	/* Past the first KiB of the EBDA it is not searched there. */
	memset(low + 0x9fc40, 0, 36);
	put_rsdp(0x9fc00 + 0x400, 0, PC_RSDT, 0, "EBDA  ");
	assert_int_equal(acpi_parse(0, &info), 0);
	assert_int_equal(info.rsdp_phys, PC_RSDP);
	/* Not 16-byte aligned: not found. */
	memset(low + PC_RSDP, 0, 20);
	put_rsdp(0xf5a08, 0, PC_RSDT, 0, "BOCHS ");
	assert_int_equal(acpi_parse(0, &info), -ENOENT);
}

/* ---- malformed input ---- */

static void test_bad_rsdp(void **state)
{
	(void)state;
	build_q35();
	put8(Q35_RSDP + 8, low[Q35_RSDP + 8] + 1);
	assert_int_equal(acpi_parse(Q35_RSDP, &info), -EINVAL);
	assert_true(log_has("checksum"));
	/* Not an RSDP at all, unmapped address, NULL arguments. */
	assert_int_equal(acpi_parse(Q35_XSDT, &info), -EINVAL);
	assert_int_equal(acpi_parse(0x40000000, &info), -EINVAL);
	assert_int_equal(acpi_parse(Q35_RSDP, NULL), -EINVAL);
	/* Scanning finds nothing in an empty BIOS area. */
	assert_int_equal(acpi_parse(0, &info), -ENOENT);
	/* A bad extended checksum: fall back to the RSDT. */
	build_q35();
	put8(Q35_RSDP + 32, low[Q35_RSDP + 32] + 1);
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_false(info.used_xsdt);
	assert_int_equal(info.ncpus, 1);
	assert_int_equal(info.cpus[0].apic_id, 7);
}

static void test_bad_table_checksum(void **state)
{
	(void)state;
	build_q35();
	put8(Q35_MADT + 50, low[Q35_MADT + 50] ^ 0x10);
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_false(info.have_madt);
	assert_int_equal(info.ncpus, 0);
	assert_true(has_table("APIC", false));
	assert_true(log_has("APIC at 0x103000: bad checksum, skipped"));
	/* The others are still parsed. */
	assert_true(info.have_fadt && info.have_s5);
	assert_int_equal(info.hpet_addr, 0xfed00000);
	/* A bad XSDT: fall back to the RSDT. */
	build_q35();
	put8(Q35_XSDT + 40, low[Q35_XSDT + 40] ^ 1);
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_false(info.used_xsdt);
	assert_int_equal(info.cpus[0].apic_id, 7);
	/* A bad DSDT: no S5, the FADT still counts. */
	build_q35();
	put8(Q35_DSDT + 40, low[Q35_DSDT + 40] ^ 1);
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_true(info.have_fadt);
	assert_false(info.have_s5);
}

static void test_bad_lengths(void **state)
{
	(void)state;
	build_q35();
	/* Length shorter than a header, and absurdly long: both skipped. */
	put32(Q35_MCFG + 4, 20);
	put32(Q35_HPET + 4, 0xfffffff0);
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_int_equal(info.nmcfg, 0);
	assert_int_equal(info.hpet_addr, 0);
	assert_true(log_has("MCFG at 0x104000: bad length 20"));
	assert_true(log_has("HPET at 0x105000: bad length"));
	/* An HPET table one byte short of its fields: checksum fine, still refused. */
	build_q35();
	{
		struct tb t = {Q35_HPET, 55};
		tb_end(&t);
	}
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_int_equal(info.hpet_addr, 0);
	/* An FADT shorter than ACPI 1.0's 116 bytes is not used. */
	build_q35();
	{
		struct tb t = {Q35_FADT, 100};
		tb_end(&t);
	}
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_false(info.have_fadt);
	assert_false(info.have_s5);
}

static void test_madt_truncated(void **state)
{
	(void)state;
	build_q35();
	/* Length covers the MADT header, one CPU, and 6 bytes of the next 8-byte CPU entry. */
	struct tb t = {Q35_MADT, 0};
	tb_end_len(&t, 44 + 8 + 6);
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_true(info.have_madt);
	assert_int_equal(info.ncpus, 1);
	assert_int_equal(info.nioapics, 0);
	assert_true(log_has("runs past the table end"));
	/* Length ending one byte into an entry. */
	build_q35();
	tb_end_len(&t, 44 + 8 + 1);
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_int_equal(info.ncpus, 1);
}

static void test_madt_zero_length_entry(void **state)
{
	(void)state;
	build_q35();
	/* Second CPU entry's length byte (offset 44 + 8 + 1) set to 0: must stop, not spin. */
	put8(Q35_MADT + 53, 0);
	struct tb t = {Q35_MADT, 0};
	tb_end_len(&t, (uint32_t)(low[Q35_MADT + 4] | low[Q35_MADT + 5] << 8));
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_int_equal(info.ncpus, 1);
	assert_int_equal(info.nioapics, 0);
	assert_true(log_has("has length 0, stopping"));
	/* Length 1 likewise. */
	build_q35();
	put8(Q35_MADT + 53, 1);
	tb_end_len(&t, (uint32_t)(low[Q35_MADT + 4] | low[Q35_MADT + 5] << 8));
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_int_equal(info.ncpus, 1);
}

static void test_madt_short_entry_and_override(void **state)
{
	(void)state;
	struct tb t = tb_begin(Q35_MADT, "APIC", 5);
	tb_u32(&t, 0xfee00000);
	tb_u32(&t, 0);
	/* An I/O APIC entry claiming 8 bytes (needs 12): skipped, parsing goes on. */
	tb_u8(&t, 1);
	tb_u8(&t, 8);
	tb_u8(&t, 3);
	tb_u8(&t, 0);
	tb_u32(&t, 0xfec00000);
	madt_lapic(&t, 0, 0, 1);
	madt_lapic(&t, 1, 4, 2); /* online capable, not enabled */
	/* Explicit (not conforming) MPS INTI encodings, Table 5.26. */
	madt_iso(&t, 3, 20, 0x0005); /* edge, active-high */
	madt_iso(&t, 4, 21, 0x0007); /* edge, active-low */
	madt_iso(&t, 6, 22, 0x000c); /* level, polarity conforming -> active-high */
	/* x2APIC (5.2.12.12): reserved 2, x2APIC ID 4, flags 4, UID 4. */
	tb_u8(&t, 9);
	tb_u8(&t, 16);
	tb_u16(&t, 0);
	tb_u32(&t, 300);
	tb_u32(&t, 1);
	tb_u32(&t, 2);
	/* Local APIC address override (5.2.12.8): reserved 2, address 8. */
	tb_u8(&t, 5);
	tb_u8(&t, 12);
	tb_u16(&t, 0);
	tb_u64(&t, 0x1fee00000ull);
	tb_end(&t);
	put_rsdp(Q35_RSDP, 0, Q35_RSDT, 0, "VIREO ");
	t = tb_begin(Q35_RSDT, "RSDT", 1);
	tb_u32(&t, Q35_MADT);
	tb_end(&t);

	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_int_equal(info.nioapics, 0);
	assert_true(log_has("I/O APIC entry at offset 44 too short"));
	assert_int_equal(info.ncpus, 3);
	assert_false(info.cpus[1].enabled);
	assert_true(info.cpus[1].online_capable);
	assert_int_equal(info.cpus[2].apic_id, 300);
	assert_int_equal(info.cpus[2].uid, 2);
	assert_true(info.cpus[2].enabled);
	assert_false(info.pcat_compat);
	assert_int_equal(info.lapic_addr, 0x1fee00000ull);
	assert_false(info.have_fadt);
	bool level = true, active_low = true;
	assert_int_equal(acpi_irq_to_gsi(&info, 3, &level, &active_low), 20);
	assert_false(level);
	assert_false(active_low);
	assert_int_equal(acpi_irq_to_gsi(&info, 4, &level, &active_low), 21);
	assert_false(level);
	assert_true(active_low);
	assert_int_equal(acpi_irq_to_gsi(&info, 6, &level, &active_low), 22);
	assert_true(level);
	assert_false(active_low);
}

static void test_many_cpus(void **state)
{
	(void)state;
	struct tb t = tb_begin(Q35_MADT, "APIC", 5);
	tb_u32(&t, 0xfee00000);
	tb_u32(&t, 0);
	for (int i = 0; i < 300; i++)
		madt_lapic(&t, (uint8_t)i, (uint8_t)i, 1);
	madt_ioapic(&t, 0, 0xfec00000, 0);
	tb_end(&t);
	put_rsdp(Q35_RSDP, 0, Q35_RSDT, 0, "VIREO ");
	t = tb_begin(Q35_RSDT, "RSDT", 1);
	tb_u32(&t, Q35_MADT);
	tb_end(&t);
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_int_equal(info.ncpus, ACPI_MAX_CPUS);
	assert_int_equal(info.nioapics, 1); /* entries after the cap are still parsed */
	assert_true(log_has("more than 256 CPUs"));
}

static void test_table_outside_memory(void **state)
{
	(void)state;
	build_q35();
	/* XSDT entry 1 (the MADT) points far outside fake memory. */
	put64(Q35_XSDT + 36 + 8, 0x4000000000ull);
	struct tb t = {Q35_XSDT, 36 + 4 * 8};
	tb_end(&t);
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_true(log_has("table at 0x4000000000: not readable"));
	assert_false(info.have_madt);
	assert_true(info.have_fadt);
	assert_int_equal(info.nmcfg, 1);
	/* A table whose header is mapped but whose body runs out of memory. */
	build_q35();
	tb_begin(LOW_SIZE - 40, "SSDT", 1);
	put32(LOW_SIZE - 40 + 4, 4096);
	put64(Q35_XSDT + 36 + 8, LOW_SIZE - 40);
	tb_end(&t);
	logbuf[0] = '\0';
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_true(log_has("bytes not readable"));
	/* The XSDT itself outside memory: fall back to the RSDT. */
	build_q35();
	put64(Q35_RSDP + 24, 0x4000000000ull);
	put8(Q35_RSDP + 32, 0);
	put8(Q35_RSDP + 32, (uint8_t)-sum(Q35_RSDP, 36));
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_false(info.used_xsdt);
	assert_int_equal(info.cpus[0].apic_id, 7);
	/* Neither root table usable. */
	put32(Q35_RSDP + 16, 0x7ffff000);
	put8(Q35_RSDP + 8, 0);
	put8(Q35_RSDP + 8, (uint8_t)-sum(Q35_RSDP, 20));
	put8(Q35_RSDP + 32, 0);
	put8(Q35_RSDP + 32, (uint8_t)-sum(Q35_RSDP, 36));
	assert_int_equal(acpi_parse(Q35_RSDP, &info), -EINVAL);
}

/* Rebuild the q35 DSDT with other AML. */
static void set_dsdt(const uint8_t *aml, size_t n)
{
	struct tb t = tb_begin(Q35_DSDT, "DSDT", 2);
	memset(low + Q35_DSDT + 36, 0, 256);
	tb_bytes(&t, aml, n);
	tb_end(&t);
}

static void test_s5_malformed(void **state)
{
	(void)state;
	build_q35();
	/* The table ends inside the package: PkgLength 10 but only 3 bytes follow. */
	const uint8_t cut[] = {0x08, '_', 'S', '5', '_', 0x12, 0x0a, 0x04, 0x0a};
	set_dsdt(cut, sizeof(cut));
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_false(info.have_s5);
	assert_true(log_has("truncated"));
	/* PkgLength fits the table but the element runs past the package end. */
	const uint8_t short_pkg[] = {0x08, '_',	 'S',  '5',  '_',  0x12, 0x03,
				     0x02, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};
	set_dsdt(short_pkg, sizeof(short_pkg));
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_false(info.have_s5);
	/* The name is the last thing in the table. */
	const uint8_t at_end[] = {0x08, '_', 'S', '5', '_'};
	set_dsdt(at_end, sizeof(at_end));
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_false(info.have_s5);
	/* PkgLength lead byte promising 3 more bytes that are not there. */
	const uint8_t pkglen_cut[] = {0x08, '_', 'S', '5', '_', 0x12, 0xc0, 0x01};
	set_dsdt(pkglen_cut, sizeof(pkglen_cut));
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_false(info.have_s5);
	/* One element only; a non-integer element; a value that does not fit SLP_TYP. */
	const uint8_t one[] = {0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x0a, 0x05};
	set_dsdt(one, sizeof(one));
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_false(info.have_s5);
	const uint8_t str[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0d, 'a', 0x00, 0x00};
	set_dsdt(str, sizeof(str));
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_false(info.have_s5);
	const uint8_t big[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0b, 0x00, 0x01, 0x00};
	set_dsdt(big, sizeof(big));
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_false(info.have_s5);
	/* Word and DWord prefixed small values are fine, and a ^-prefixed name. */
	const uint8_t wide[] = {0x08, '^',  '_',  'S',	'5',  '_',  0x12, 0x0a, 0x02,
				0x0b, 0x07, 0x00, 0x0c, 0x03, 0x00, 0x00, 0x00};
	set_dsdt(wide, sizeof(wide));
	assert_int_equal(acpi_parse(Q35_RSDP, &info), 0);
	assert_true(info.have_s5);
	assert_int_equal(info.slp_typa, 7);
	assert_int_equal(info.slp_typb, 3);
}

/* ---- real QEMU tables ---- */

static void load_fixture(const struct acpi_fixture *f)
{
	for (unsigned i = 0; i < f->nblobs; i++) {
		const struct acpi_fixture_blob *b = &f->blobs[i];
		if (b->phys + b->len <= LOW_SIZE) {
			memcpy(low + b->phys, b->data, b->len); /* the RSDP in the BIOS area */
		} else {
			/* Each table its own segment: reading past its end gets NULL. */
			assert_true(nsegs < sizeof(segs) / sizeof(segs[0]));
			segs[nsegs++] = (struct seg){b->phys, b->len, b->data};
		}
	}
}

/* What QEMU 7.2 puts in the MADT of a 2-CPU pc or q35 guest. */
static void check_qemu_madt(void)
{
	assert_true(info.have_madt);
	assert_int_equal(info.lapic_addr, 0xfee00000);
	assert_true(info.pcat_compat);
	assert_int_equal(info.ncpus, 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(info.cpus[i].uid, i);
		assert_int_equal(info.cpus[i].apic_id, i);
		assert_true(info.cpus[i].enabled);
	}
	assert_int_equal(info.nioapics, 1);
	assert_int_equal(info.ioapics[0].address, 0xfec00000);
	assert_int_equal(info.ioapics[0].gsi_base, 0);
	/* IRQ0 -> GSI2; the PCI link IRQs 5, 9, 10, 11 level-triggered, active-high. */
	assert_int_equal(info.nisos, 5);
	bool level, active_low;
	assert_int_equal(acpi_irq_to_gsi(&info, 0, &level, &active_low), 2);
	assert_false(level);
	static const uint8_t lvl[] = {5, 9, 10, 11};
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(acpi_irq_to_gsi(&info, lvl[i], &level, &active_low), lvl[i]);
		assert_true(level);
		assert_false(active_low);
	}
	assert_int_equal(acpi_irq_to_gsi(&info, 4, &level, &active_low), 4);
	assert_false(level);
	assert_int_equal(info.nnmis, 1);
	assert_int_equal(info.nmis[0].uid, 0xff);
	assert_int_equal(info.nmis[0].lint, 1);
	assert_int_equal(info.hpet_addr, 0xfed00000);
	/* QEMU's Name(_S5_, Package(4){0, 0, 0, 0}). */
	assert_true(info.have_s5);
	assert_int_equal(info.slp_typa, 0);
	assert_int_equal(info.slp_typb, 0);
	assert_int_equal(info.sci_irq, 9);
	assert_int_equal(info.smi_cmd, 0xb2);
	assert_int_equal(info.pm1a_cnt, 0x604);
	assert_int_equal(info.pm1b_cnt, 0);
}

static void test_qemu_q35_seabios(void **state)
{
	(void)state;
	load_fixture(&acpi_fixture_q35_seabios);
	assert_int_equal(acpi_parse(0, &info), 0);
	assert_int_equal(info.rsdp_phys, acpi_fixture_q35_seabios.rsdp);
	assert_string_equal(info.rsdp_oem_id, "BOCHS ");
	assert_false(info.used_xsdt);
	check_qemu_madt();
	assert_int_equal(info.nmcfg, 1);
	assert_int_equal(info.mcfg[0].base, 0xb0000000);
	assert_int_equal(info.mcfg[0].start_bus, 0);
	assert_int_equal(info.mcfg[0].end_bus, 255);
	assert_int_equal(info.fadt_revision, 3);
	assert_int_equal(info.acpi_enable, 2);
	assert_true(info.have_reset); /* ICH9: write 0x0f to I/O port 0xcf9 */
	assert_int_equal(info.reset_reg.space_id, 1);
	assert_int_equal(info.reset_reg.address, 0xcf9);
	assert_int_equal(info.reset_value, 0x0f);
	assert_true(has_table("WAET", true));
	assert_string_equal(logbuf, "");
	acpi_print(&info);
}

static void test_qemu_pc_seabios(void **state)
{
	(void)state;
	load_fixture(&acpi_fixture_pc_seabios);
	assert_int_equal(acpi_parse(0, &info), 0);
	check_qemu_madt();
	assert_int_equal(info.nmcfg, 0);
	assert_int_equal(info.fadt_revision, 1);
	assert_int_equal(info.acpi_enable, 0xf1);
	assert_false(info.have_reset);
	assert_string_equal(logbuf, "");
}

static void test_qemu_q35_ovmf(void **state)
{
	(void)state;
	load_fixture(&acpi_fixture_q35_ovmf);
	/* UEFI hands the RSDP address over; it is not in the BIOS area. */
	assert_int_equal(acpi_parse(0, &info), -ENOENT);
	logbuf[0] = '\0';
	assert_int_equal(acpi_parse(acpi_fixture_q35_ovmf.rsdp, &info), 0);
	assert_int_equal(info.rsdp_revision, 2);
	assert_true(info.used_xsdt);
	check_qemu_madt();
	assert_int_equal(info.nmcfg, 1);
	assert_int_equal(info.mcfg[0].base, 0xb0000000);
	assert_true(info.have_reset);
	assert_true(has_table("XSDT", true));
	assert_true(has_table("BGRT", true));
	assert_string_equal(logbuf, "");
}

/* QEMU's microvm (qboot firmware): XSDT only, a hardware-reduced FADT (no PM1 blocks, a sleep
 * control register), two IOAPICs, and each virtio-mmio transport in use as an LNRO0005
 * device: 512-byte windows from 0xfeb00000 filled from the top, their interrupts on the
 * second IOAPIC (GSI 24 + slot), level-triggered, active high (hw/i386/acpi-microvm.c). */
static void test_qemu_microvm(void **state)
{
	(void)state;
	load_fixture(&acpi_fixture_microvm);
	assert_int_equal(acpi_parse(0, &info), 0);
	assert_int_equal(info.rsdp_revision, 2);
	assert_true(info.used_xsdt);
	assert_true(info.have_madt);
	assert_int_equal(info.ncpus, 2);
	assert_int_equal(info.nioapics, 2);
	assert_int_equal(info.ioapics[0].address, 0xfec00000);
	assert_int_equal(info.ioapics[0].gsi_base, 0);
	assert_int_equal(info.ioapics[1].gsi_base, 24);
	assert_true(info.fadt_flags & (1u << 20)); /* HW_REDUCED_ACPI */
	assert_int_equal(info.pm1a_cnt, 0);
	assert_true(info.have_sleep_control);
	/* The generic event device's sleep control register, in memory space. */
	assert_int_equal(info.sleep_control.space_id, 0);
	assert_int_equal(info.sleep_control.address, 0xfea00200);
	assert_true(info.have_s5);
	assert_int_equal(info.nmmio, 3);
	for (unsigned i = 0; i < 3; i++) {
		const struct acpi_mmio_device *d = &info.mmio[i];
		unsigned slot = 23 - i;
		assert_int_equal(d->base, 0xfeb00000 + 0x200 * slot);
		assert_int_equal(d->size, 0x200);
		assert_int_equal(d->gsi, 24 + slot);
		assert_true(d->level);
		assert_false(d->active_low);
	}
	assert_string_equal(logbuf, "");
	acpi_print(&info);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_q35, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_irq_to_gsi, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pc_scan, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ebda_scan_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_rsdp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_table_checksum, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_lengths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_madt_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_madt_zero_length_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_madt_short_entry_and_override, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_cpus, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_outside_memory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_s5_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_qemu_q35_seabios, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_qemu_pc_seabios, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_qemu_q35_ovmf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_qemu_microvm, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
