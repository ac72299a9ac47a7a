/*
 * Host unit tests of drivers/pci against the fake configuration space in pci_fake.c.
 *
 * Expected values come from the specifications (register offsets, bit positions, the MSI-X
 * entry layout read back as raw bytes), not from the code under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/pci/pci.h"
#include "drivers/pci/pci_access.h"
#include "tests/host/pci_fake.h"

static struct fake_pci fake;

static void unregister_test_drivers(void);

static void init_standard(uint16_t cfg_size)
{
	fake_reset(&fake, cfg_size);
	fake_build_standard(&fake);
	assert_int_equal(pci_init(fake.cfg_size), 13);
	unregister_test_drivers();
}

static struct pci_dev *bdf(uint8_t b, uint8_t d, uint8_t f)
{
	struct pci_dev *dev = pci_find_bdf(b, d, f);

	assert_non_null(dev);
	return dev;
}

/* lspci output captured into a buffer. */
static char out_buf[32768];
static size_t out_len;

static int out_fn(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out_buf + out_len, sizeof(out_buf) - out_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		out_len += (size_t)n;
	if (out_len >= sizeof(out_buf))
		out_len = sizeof(out_buf) - 1;
	return n;
}

static void out_reset(void)
{
	out_len = 0;
	out_buf[0] = '\0';
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---------------------------------------------------------------------------------------- */
/* Enumeration                                                                               */

static void test_enum_finds_all_functions(void **state)
{
	static const uint8_t expect[][3] = {
		{0, 0, 0}, {0, 1, 0}, {0, 2, 0}, {0, 2, 1}, {0, 2, 3}, {0, 3, 0}, {0, 4, 0},
		{0, 5, 0}, {0, 0x1f, 0}, {1, 0, 0}, {2, 1, 0}, {2, 2, 0}, {3, 0, 0},
	};
	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	assert_int_equal(pci_dev_count(), 13);
	for (size_t i = 0; i < 13; i++) {
		struct pci_dev *d = pci_dev_at(i);

		assert_non_null(d);
		assert_int_equal(d->bus, expect[i][0]);
		assert_int_equal(d->dev, expect[i][1]);
		assert_int_equal(d->fn, expect[i][2]);
		assert_int_equal(d->problems, 0);
	}
	assert_null(pci_dev_at(13));
	/* A function 2 hole in a multifunction device, and a single-function device whose
	 * function 1 answers anyway: neither is listed. */
	assert_null(pci_find_bdf(0, 2, 2));
	assert_null(pci_find_bdf(0, 0x1f, 1));
	assert_int_equal(fake.bad_accesses, 0);
}

static void test_enum_ids_class_and_bridges(void **state)
{
	struct pci_dev *d;

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	d = bdf(0, 1, 0);
	assert_int_equal(d->vendor, 0x1af4);
	assert_int_equal(d->device, 0x1000);
	assert_int_equal(d->class_code, 0x02);
	assert_int_equal(d->subclass, 0x00);
	assert_int_equal(d->subsys_vendor, 0x1af4);
	assert_int_equal(d->subsys_id, 0x0001);
	assert_int_equal(d->header_type, PCI_HEADER_TYPE_NORMAL);
	assert_int_equal(d->nbars, 6);

	d = bdf(0, 2, 0);
	assert_true(d->multifunction);
	assert_int_equal(d->prog_if, 0x00);
	assert_int_equal(bdf(0, 2, 3)->subclass, 0x05);

	d = bdf(0, 5, 0);
	assert_int_equal(d->header_type, PCI_HEADER_TYPE_BRIDGE);
	assert_int_equal(d->nbars, 2);
	assert_int_equal(d->sec_bus, 2);
	assert_int_equal(d->sub_bus, 3);
	/* Depth: bridges between bus 0 and the function. */
	assert_int_equal(bdf(0, 5, 0)->depth, 0);
	assert_int_equal(bdf(1, 0, 0)->depth, 1);
	assert_int_equal(bdf(2, 1, 0)->depth, 1);
	assert_int_equal(bdf(3, 0, 0)->depth, 2);

	assert_ptr_equal(pci_find_device(0x1af4, 0x1042, NULL), bdf(1, 0, 0));
	d = pci_find_device(0x1af4, PCI_ANY_ID, NULL);
	assert_ptr_equal(d, bdf(0, 1, 0));
	d = pci_find_device(0x1af4, PCI_ANY_ID, d);
	assert_ptr_equal(d, bdf(1, 0, 0));
	assert_null(pci_find_device(0xdead, PCI_ANY_ID, NULL));
}

static void test_enum_empty_bus(void **state)
{
	(void)state;
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	assert_int_equal(pci_init(fake.cfg_size), 0);
	out_reset();
	pci_lspci(true, out_fn);
	assert_string_equal(out_buf, "");
}

static void add_bridge(uint8_t bus, uint8_t dev, uint8_t sec, uint8_t sub)
{
	struct fake_fn *x = fake_add(&fake, bus, dev, 0, 0x1b36, 0x0001, 0x060400,
				     PCI_HEADER_TYPE_BRIDGE);

	fake_bridge(x, bus, sec, sub);
}

static void test_bridge_bad_bus_numbers(void **state)
{
	(void)state;
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	add_bridge(0, 1, 1, 5);  /* good: buses 1..5 */
	add_bridge(1, 0, 1, 1);  /* secondary = own bus */
	add_bridge(1, 1, 2, 2);  /* good */
	add_bridge(1, 2, 2, 2);  /* bus 2 again */
	add_bridge(1, 3, 9, 9);  /* outside 1..5 */
	add_bridge(1, 4, 4, 3);  /* subordinate below secondary */
	add_bridge(0, 2, 0, 0);  /* unconfigured */
	fake_add(&fake, 2, 0, 0, 0x1af4, 0x1001, 0x010000, 0);
	fake_add(&fake, 9, 0, 0, 0x1af4, 0x1001, 0x010000, 0);
	fake_add(&fake, 4, 0, 0, 0x1af4, 0x1001, 0x010000, 0);

	assert_int_equal(pci_init(fake.cfg_size), 8);
	assert_non_null(pci_find_bdf(2, 0, 0));
	assert_null(pci_find_bdf(9, 0, 0));
	assert_null(pci_find_bdf(4, 0, 0));
	assert_int_equal(bdf(0, 1, 0)->problems, 0);
	assert_int_equal(bdf(1, 1, 0)->problems, 0);
	assert_int_equal(bdf(1, 0, 0)->problems, PCI_PROB_BRIDGE);
	assert_int_equal(bdf(1, 2, 0)->problems, PCI_PROB_BRIDGE);
	assert_int_equal(bdf(1, 3, 0)->problems, PCI_PROB_BRIDGE);
	assert_int_equal(bdf(1, 4, 0)->problems, PCI_PROB_BRIDGE);
	assert_int_equal(bdf(0, 2, 0)->problems, PCI_PROB_BRIDGE);
	assert_true(fake_log_has("secondary bus 0 (not configured)"));
	assert_true(fake_log_has("secondary bus already scanned"));
	/* Bus 2 scanned exactly once. */
	size_t n = 0;
	for (size_t i = 0; i < pci_dev_count(); i++)
		n += pci_dev_at(i)->bus == 2;
	assert_int_equal(n, 1);
}

static void test_bridge_depth_limit(void **state)
{
	(void)state;
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	/* A chain 0 -> 1 -> ... -> 12, an endpoint at the bottom. */
	for (uint8_t b = 0; b < 12; b++)
		add_bridge(b, 0, (uint8_t)(b + 1), 12);
	fake_add(&fake, 12, 0, 0, 0x1af4, 0x1005, 0x00ff00, 0);

	pci_init(fake.cfg_size);
	/* Bridges on buses 0..PCI_MAX_DEPTH, the last of them not followed. */
	assert_int_equal(pci_dev_count(), PCI_MAX_DEPTH + 1);
	assert_int_equal(bdf(PCI_MAX_DEPTH, 0, 0)->problems, PCI_PROB_BRIDGE);
	assert_int_equal(bdf(PCI_MAX_DEPTH - 1, 0, 0)->problems, 0);
	assert_null(pci_find_bdf(12, 0, 0));
	assert_true(fake_log_has("too deep"));
}

static void test_table_full(void **state)
{
	(void)state;
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	/* 9 multifunction devices of 8 functions: 72 > PCI_MAX_DEVS. */
	for (uint8_t d = 0; d < 9; d++)
		for (uint8_t f = 0; f < 8; f++)
			fake_add(&fake, 0, d, f, 0x8086, 0x1234, 0x088000, PCI_HEADER_MULTIFUNC);
	assert_int_equal(pci_init(fake.cfg_size), PCI_MAX_DEVS);
	assert_true(fake_log_has("8 functions not recorded"));
	out_reset();
	pci_lspci(false, out_fn);
	assert_non_null(strstr(out_buf, "(8 more functions not recorded: table full)\n"));
}

static void test_unknown_header_type(void **state)
{
	struct pci_dev *d;

	(void)state;
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	struct fake_fn *x = fake_add(&fake, 0, 3, 0, 0x1234, 0x5678, 0x088000, 0x7F);
	fake_bar(x, 0, FAKE_MEM32, 0x1000, 0xfe000000, false); /* must not be touched */
	assert_int_equal(pci_init(fake.cfg_size), 1);
	d = bdf(0, 3, 0);
	assert_int_equal(d->problems, PCI_PROB_HEADER);
	assert_int_equal(d->nbars, 0);
	assert_int_equal(x->writes, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* BARs                                                                                      */

static void test_bar_decoding(void **state)
{
	struct pci_dev *d;

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	d = bdf(0, 1, 0);
	assert_int_equal(d->bar[0].type, PCI_BAR_IO);
	assert_int_equal(d->bar[0].addr, 0xc040);
	assert_int_equal(d->bar[0].size, 0x20);
	assert_true(d->bar[0].assigned);
	assert_int_equal(d->bar[1].type, PCI_BAR_MEM32);
	assert_int_equal(d->bar[1].addr, 0xfebd1000);
	assert_int_equal(d->bar[1].size, 0x1000);
	assert_false(d->bar[1].prefetch);
	assert_int_equal(d->bar[2].type, PCI_BAR_NONE);
	assert_int_equal(d->bar[3].type, PCI_BAR_NONE);
	assert_int_equal(d->bar[4].type, PCI_BAR_MEM64);
	assert_int_equal(d->bar[4].addr, 0xfe000000);
	assert_int_equal(d->bar[4].size, 0x4000);
	assert_true(d->bar[4].prefetch);
	assert_int_equal(d->bar[5].type, PCI_BAR_MEM64_HI);

	/* 16-bit I/O decoder: upper half of the BAR hardwired to zero. */
	d = bdf(0, 2, 3);
	assert_int_equal(d->bar[4].type, PCI_BAR_IO);
	assert_int_equal(d->bar[4].addr, 0x700);
	assert_int_equal(d->bar[4].size, 0x40);

	/* 64-bit BAR above 4 GiB. */
	d = bdf(1, 0, 0);
	assert_int_equal(d->bar[4].type, PCI_BAR_MEM64);
	assert_int_equal(d->bar[4].addr, 0x800000000ull);
	assert_int_equal(d->bar[4].size, 0x4000);

	/* 16 MiB prefetchable, and a BAR firmware left unassigned. */
	d = bdf(0, 4, 0);
	assert_int_equal(d->bar[0].size, 0x1000000);
	assert_true(d->bar[0].prefetch);
	assert_true(d->bar[0].assigned);
	assert_int_equal(d->bar[2].type, PCI_BAR_MEM32);
	assert_int_equal(d->bar[2].size, 0x1000);
	assert_false(d->bar[2].assigned);
	assert_int_equal(d->problems, 0);
	assert_true(fake_log_has("pci 00:04.0: BAR2 unassigned"));
}

static void test_bar_sizing_restores_and_disables_decode(void **state)
{
	struct fake_fn *x;
	uint32_t before[6];

	(void)state;
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	fake_build_standard(&fake);
	x = fake_find(&fake, 0, 1, 0);
	for (int i = 0; i < 6; i++)
		before[i] = fake_get32(x, (uint16_t)(PCI_BAR0 + 4 * i));
	pci_init(fake.cfg_size);

	for (int i = 0; i < 6; i++)
		assert_int_equal(fake_get32(x, (uint16_t)(PCI_BAR0 + 4 * i)), before[i]);
	assert_int_equal(fake_get16(x, PCI_COMMAND), PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	for (size_t i = 0; i < fake.nfns; i++)
		assert_false(fake.fns[i]->bar_write_while_decoding);

	/* The fake does catch a BAR write with decode on. */
	pci_cfg_write32(bdf(0, 1, 0), PCI_BAR0 + 4, 0xfebd1000);
	assert_true(x->bar_write_while_decoding);
}

static void test_bar_map(void **state)
{
	struct pci_dev *d;
	void *v = NULL, *v2 = NULL;

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	d = bdf(1, 0, 0);
	assert_int_equal(pci_bar_map(d, 4, &v), 0);
	assert_int_equal(fake.last_map_phys, 0x800000000ull);
	assert_int_equal(fake.last_map_size, 0x4000);
	assert_ptr_equal(v, fake.mmio[3].buf);
	unsigned calls = fake.map_calls;
	assert_int_equal(pci_bar_map(d, 4, &v2), 0);
	assert_ptr_equal(v2, v);
	assert_int_equal(fake.map_calls, calls); /* mapped once */

	assert_int_equal(pci_bar_map(d, 5, &v), -EINVAL); /* upper half */
	assert_int_equal(pci_bar_map(d, 6, &v), -EINVAL);
	assert_int_equal(pci_bar_map(bdf(0, 1, 0), 0, &v), -EINVAL); /* I/O */
	assert_int_equal(pci_bar_map(bdf(0, 4, 0), 2, &v), -ENXIO);  /* unassigned */
	/* No region behind 0xfd000000 in the fake: map_mmio fails. */
	assert_int_equal(pci_bar_map(bdf(0, 4, 0), 0, &v), -ENOMEM);
}

static void test_bar_sizes_to_zero(void **state)
{
	struct fake_fn *x;
	struct pci_dev *d;

	(void)state;
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	x = fake_add(&fake, 0, 1, 0, 0x1234, 0x0001, 0x088000, 0);
	fake_set32(x, PCI_BAR0, 0xfebf0000); /* address hardwired: nothing writable */
	fake_set32(x, PCI_BAR0 + 4, PCI_BAR_MEM_TYPE_64); /* 64-bit, both halves read-only */
	fake_set32(x, PCI_BAR0 + 12, PCI_BAR_SPACE_IO);    /* I/O, nothing writable */
	fake_bar(x, 4, FAKE_MEM32, 0x1000, 0xfe001000, false);
	assert_int_equal(pci_init(fake.cfg_size), 1);
	d = bdf(0, 1, 0);
	assert_int_equal(d->problems, PCI_PROB_BAR_ZERO);
	assert_int_equal(d->bar[0].type, PCI_BAR_NONE);
	assert_int_equal(d->bar[1].type, PCI_BAR_NONE);
	assert_int_equal(d->bar[2].type, PCI_BAR_NONE);
	assert_int_equal(d->bar[3].type, PCI_BAR_NONE);
	assert_int_equal(d->bar[0].size, 0);
	/* The good BAR after the bad ones is still decoded. */
	assert_int_equal(d->bar[4].type, PCI_BAR_MEM32);
	assert_int_equal(d->bar[4].size, 0x1000);
	assert_true(fake_log_has("BAR0 sizes to zero"));
	assert_true(fake_log_has("BAR1 sizes to zero"));
	assert_true(fake_log_has("BAR3 sizes to zero"));
	void *v;
	assert_int_equal(pci_bar_map(d, 0, &v), -EINVAL);
	/* Original values are back. */
	assert_int_equal(fake_get32(x, PCI_BAR0), 0xfebf0000);
}

static void test_bar_malformed(void **state)
{
	struct fake_fn *x;
	struct pci_dev *d;

	(void)state;
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	/* BAR0 reserved "below 1 MiB" type, BAR1 size mask with a hole, BAR2 misaligned,
	 * BAR5 64-bit in the last slot. */
	x = fake_add(&fake, 0, 1, 0, 0x1234, 0x0002, 0x088000, 0);
	fake_set32(x, PCI_BAR0, 0x000d0000 | PCI_BAR_MEM_TYPE_1M);
	fake_wmask32(x, PCI_BAR0, 0xFFFFF000u);
	fake_wmask32(x, PCI_BAR0 + 4, 0xFFFF0F00u);
	fake_bar(x, 2, FAKE_MEM32, 0x1000, 0xfe000000, false);
	fake_set32(x, PCI_BAR0 + 8, 0xfe000800); /* not aligned to 0x1000 */
	fake_bar(x, 3, FAKE_MEM32, 0x1000, 0xfe002000, false);
	fake_set32(x, PCI_BAR0 + 20, 0xfe100000 | PCI_BAR_MEM_TYPE_64);
	fake_wmask32(x, PCI_BAR0 + 20, 0xFFF00000u);
	pci_init(fake.cfg_size);
	d = bdf(0, 1, 0);
	assert_int_equal(d->problems, PCI_PROB_BAR_TYPE | PCI_PROB_BAR_SIZE | PCI_PROB_BAR_ALIGN);
	assert_int_equal(d->bar[0].type, PCI_BAR_NONE);
	assert_int_equal(d->bar[1].type, PCI_BAR_NONE);
	assert_int_equal(d->bar[2].type, PCI_BAR_MEM32);
	assert_false(d->bar[2].assigned);
	assert_true(d->bar[3].assigned);
	assert_int_equal(d->bar[5].type, PCI_BAR_NONE);
	assert_true(fake_log_has("BAR5 is 64-bit in the last slot"));
	assert_true(fake_log_has("BAR1 size mask is not contiguous"));
}

static void test_enable_device(void **state)
{
	struct pci_dev *d;
	struct fake_fn *x;

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	/* VGA: memory BAR2 unassigned, memory decode must stay off. */
	d = bdf(0, 4, 0);
	x = fake_find(&fake, 0, 4, 0);
	assert_int_equal(pci_enable_device(d), -ENXIO);
	assert_int_equal(fake_get16(x, PCI_COMMAND) & PCI_COMMAND_MEMORY, 0);
	assert_true(fake_get16(x, PCI_COMMAND) & PCI_COMMAND_MASTER);

	d = bdf(2, 1, 0);
	x = fake_find(&fake, 2, 1, 0);
	fake_set16(x, PCI_COMMAND, 0);
	assert_int_equal(pci_enable_device(d), 0);
	assert_int_equal(fake_get16(x, PCI_COMMAND), PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	pci_set_master(d, false);
	assert_int_equal(fake_get16(x, PCI_COMMAND), PCI_COMMAND_IO);
}

/* ---------------------------------------------------------------------------------------- */
/* Capabilities                                                                              */

static void test_caps_walk(void **state)
{
	static const struct pci_cap expect[] = {
		{PCI_CAP_ID_MSIX, 0x98}, {PCI_CAP_ID_VNDR, 0x84}, {PCI_CAP_ID_VNDR, 0x70},
		{PCI_CAP_ID_VNDR, 0x60}, {PCI_CAP_ID_VNDR, 0x50},
	};
	struct pci_dev *d;

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	d = bdf(0, 1, 0);
	assert_int_equal(d->ncaps, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(d->caps[i].id, expect[i].id);
		assert_int_equal(d->caps[i].off, expect[i].off);
	}
	assert_int_equal(pci_find_cap(d, PCI_CAP_ID_MSIX), 0x98);
	assert_int_equal(pci_find_cap(d, PCI_CAP_ID_PM), 0);
	assert_int_equal(pci_find_next_cap(d, PCI_CAP_ID_VNDR, 0), 0x84);
	assert_int_equal(pci_find_next_cap(d, PCI_CAP_ID_VNDR, 0x84), 0x70);
	assert_int_equal(pci_find_next_cap(d, PCI_CAP_ID_VNDR, 0x60), 0x50);
	assert_int_equal(pci_find_next_cap(d, PCI_CAP_ID_VNDR, 0x50), 0);
	assert_false(d->is_pcie);
	assert_int_equal(d->necaps, 0);

	d = bdf(0, 3, 0);
	assert_true(d->is_pcie);
	assert_int_equal(d->pcie_type, PCI_EXP_TYPE_ROOT_PORT);
	/* Host bridge: status bit clear, no list. */
	assert_int_equal(bdf(0, 0, 0)->ncaps, 0);
}

static void test_ext_caps(void **state)
{
	struct pci_dev *d;

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	d = bdf(1, 0, 0);
	assert_true(d->is_pcie);
	assert_int_equal(d->pcie_type, PCI_EXP_TYPE_ENDPOINT);
	assert_int_equal(d->necaps, 2);
	assert_int_equal(d->ecaps[0].id, PCI_EXT_CAP_ID_AER);
	assert_int_equal(d->ecaps[0].off, 0x100);
	assert_int_equal(d->ecaps[1].id, PCI_EXT_CAP_ID_DSN);
	assert_int_equal(d->ecaps[1].off, 0x140);
	assert_int_equal(pci_find_ext_cap(d, PCI_EXT_CAP_ID_DSN), 0x140);
	assert_int_equal(pci_find_ext_cap(d, PCI_EXT_CAP_ID_ACS), 0);
	/* Root port: PCIe, but header 0 at 0x100 = no extended capabilities. */
	assert_int_equal(bdf(0, 3, 0)->necaps, 0);
	assert_true(fake.ext_reads > 0);
}

static void test_legacy_config_no_ext_space(void **state)
{
	(void)state;
	init_standard(PCI_CFG_SIZE); /* 0xCF8/0xCFC: 256 bytes per function */
	assert_int_equal(fake.ext_reads, 0);
	assert_int_equal(fake.bad_accesses, 0);
	assert_int_equal(bdf(1, 0, 0)->necaps, 0);
	assert_true(bdf(1, 0, 0)->is_pcie);
	/* Out-of-range accesses are refused before reaching the platform. */
	assert_int_equal(pci_cfg_read32(bdf(1, 0, 0), 0x100), 0xFFFFFFFFu);
	assert_int_equal(fake.bad_accesses, 0);
}

static void test_cfg_accessor_checks(void **state)
{
	struct pci_dev *d;
	struct fake_fn *x;

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	d = bdf(0, 1, 0);
	x = fake_find(&fake, 0, 1, 0);
	assert_int_equal(pci_cfg_read16(d, PCI_VENDOR_ID), 0x1af4);
	assert_int_equal(pci_cfg_read8(d, PCI_CLASS), 0x02);
	assert_int_equal(pci_cfg_read32(d, PCI_VENDOR_ID), 0x10001af4);
	assert_int_equal(pci_cfg_read16(d, 0x101), 0xFFFF); /* misaligned */
	assert_int_equal(pci_cfg_read32(d, 0xFFE), 0xFFFFFFFFu);
	assert_int_equal(pci_cfg_read(0, 40, 0, 0, 2), 0xFFFF); /* device 40 does not exist */
	assert_int_equal(fake.bad_accesses, 0);
	assert_true(fake_log_has("bad config read off 0x101 width 2"));
	unsigned w = x->writes;
	pci_cfg_write16(d, 0x41, 1);
	assert_int_equal(x->writes, w);
	pci_cfg_write8(d, PCI_INT_LINE, 5);
	assert_int_equal(fake_get8(x, PCI_INT_LINE), 5);
	/* An absent function reads all ones at every width. */
	assert_int_equal(pci_cfg_read(7, 0, 0, PCI_VENDOR_ID, 2), 0xFFFF);
	assert_int_equal(pci_cfg_read(7, 0, 0, PCI_HEADER_TYPE, 1), 0xFF);
}

static struct fake_fn *cap_dev(void)
{
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	return fake_add(&fake, 0, 1, 0, 0x1234, 0x0003, 0x088000, 0);
}

static void test_cap_list_loop(void **state)
{
	struct fake_fn *x;
	struct pci_dev *d;

	(void)state;
	x = cap_dev();
	fake_cap_start(x, 0x40);
	fake_cap(x, 0x40, PCI_CAP_ID_PM, 0x50);
	fake_cap(x, 0x50, PCI_CAP_ID_VNDR, 0x60);
	fake_cap(x, 0x60, PCI_CAP_ID_VNDR, 0x40); /* back to the start */
	assert_int_equal(pci_init(fake.cfg_size), 1);
	d = bdf(0, 1, 0);
	assert_int_equal(d->ncaps, 3);
	assert_int_equal(d->problems, PCI_PROB_CAP_LOOP);
	assert_true(fake_log_has("capability list loops at 0x40"));

	/* A capability pointing at itself. */
	x = cap_dev();
	fake_cap_start(x, 0x80);
	fake_cap(x, 0x80, PCI_CAP_ID_MSI, 0x80);
	pci_init(fake.cfg_size);
	d = bdf(0, 1, 0);
	assert_int_equal(d->ncaps, 1);
	assert_int_equal(d->problems & PCI_PROB_CAP_LOOP, PCI_PROB_CAP_LOOP);

	/* A loop through a pointer with the reserved low bits set (0x41 is 0x40). */
	x = cap_dev();
	fake_cap_start(x, 0x40);
	fake_cap(x, 0x40, PCI_CAP_ID_PM, 0x41);
	pci_init(fake.cfg_size);
	assert_int_equal(bdf(0, 1, 0)->ncaps, 1);
	assert_int_equal(bdf(0, 1, 0)->problems, PCI_PROB_CAP_LOOP);
}

static void test_cap_pointer_out_of_range(void **state)
{
	struct fake_fn *x;
	struct pci_dev *d;

	(void)state;
	/* First pointer into the standard header. */
	x = cap_dev();
	fake_cap_start(x, 0x20);
	pci_init(fake.cfg_size);
	d = bdf(0, 1, 0);
	assert_int_equal(d->ncaps, 0);
	assert_int_equal(d->problems, PCI_PROB_CAP_PTR);
	assert_true(fake_log_has("capability pointer 0x20 out of range"));

	/* A later pointer into the header: the good part is kept. */
	x = cap_dev();
	fake_cap_start(x, 0x40);
	fake_cap(x, 0x40, PCI_CAP_ID_PM, 0x10);
	pci_init(fake.cfg_size);
	d = bdf(0, 1, 0);
	assert_int_equal(d->ncaps, 1);
	assert_int_equal(d->caps[0].id, PCI_CAP_ID_PM);
	assert_int_equal(d->problems, PCI_PROB_CAP_PTR);

	/* Low two bits of a pointer are reserved and masked, not an error. */
	x = cap_dev();
	fake_cap_start(x, 0x43);
	fake_cap(x, 0x40, PCI_CAP_ID_PM, 0x00);
	pci_init(fake.cfg_size);
	assert_int_equal(bdf(0, 1, 0)->ncaps, 1);
	assert_int_equal(bdf(0, 1, 0)->caps[0].off, 0x40);
	assert_int_equal(bdf(0, 1, 0)->problems, 0);

	/* Capability pointer set but the status bit clear: there is no list. */
	x = cap_dev();
	fake_set8(x, PCI_CAP_PTR, 0x40);
	fake_cap(x, 0x40, PCI_CAP_ID_PM, 0x00);
	pci_init(fake.cfg_size);
	assert_int_equal(bdf(0, 1, 0)->ncaps, 0);

	/* MSI-X capability whose registers run past 0xFF. */
	x = cap_dev();
	fake_cap_start(x, 0xFC);
	fake_cap(x, 0xFC, PCI_CAP_ID_MSIX, 0x00);
	pci_init(fake.cfg_size);
	assert_int_equal(bdf(0, 1, 0)->problems, PCI_PROB_MSIX);
	assert_int_equal(bdf(0, 1, 0)->msix.cap, 0);
	assert_int_equal(fake.bad_accesses, 0);
}

static void test_cap_overflow(void **state)
{
	struct fake_fn *x;
	struct pci_dev *d;

	(void)state;
	x = cap_dev();
	fake_cap_start(x, 0x40);
	for (uint8_t off = 0x40; off < 0xF0; off += 8)
		fake_cap(x, off, PCI_CAP_ID_VNDR, off + 8 < 0xF0 ? (uint8_t)(off + 8) : 0);
	pci_init(fake.cfg_size);
	d = bdf(0, 1, 0);
	assert_int_equal(d->ncaps, PCI_MAX_CAPS);
	assert_int_equal(d->problems, PCI_PROB_CAP_OVERFLOW);
}

static void test_ext_cap_malformed(void **state)
{
	struct fake_fn *x;
	struct pci_dev *d;

	(void)state;
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	x = fake_add(&fake, 0, 1, 0, 0x1234, 0x0004, 0x088000, 0);
	fake_cap_start(x, 0x40);
	fake_pcie_cap(x, 0x40, 0, PCI_EXP_TYPE_ENDPOINT);
	fake_ecap(x, 0x100, PCI_EXT_CAP_ID_AER, 1, 0x140);
	fake_ecap(x, 0x140, PCI_EXT_CAP_ID_ACS, 1, 0x100); /* loop */
	x = fake_add(&fake, 0, 2, 0, 0x1234, 0x0005, 0x088000, 0);
	fake_cap_start(x, 0x40);
	fake_pcie_cap(x, 0x40, 0, PCI_EXP_TYPE_ENDPOINT);
	fake_ecap(x, 0x100, PCI_EXT_CAP_ID_AER, 1, 0x040); /* into the legacy space */
	pci_init(fake.cfg_size);

	d = bdf(0, 1, 0);
	assert_int_equal(d->necaps, 2);
	assert_int_equal(d->problems, PCI_PROB_ECAP_LOOP);
	d = bdf(0, 2, 0);
	assert_int_equal(d->necaps, 1);
	assert_int_equal(d->problems, PCI_PROB_ECAP_PTR);
	assert_true(fake_log_has("extended capability pointer 0x40 out of range"));
}

/* ---------------------------------------------------------------------------------------- */
/* MSI-X, MSI, INTx                                                                          */

static void test_msix_info(void **state)
{
	struct pci_dev *d;

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	d = bdf(0, 1, 0);
	assert_int_equal(d->msix.cap, 0x98);
	assert_int_equal(d->msix.size, 3);
	assert_int_equal(d->msix.table_bar, 1);
	assert_int_equal(d->msix.table_off, 0);
	assert_int_equal(d->msix.pba_bar, 1);
	assert_int_equal(d->msix.pba_off, 0x800);
	assert_true(d->msix.usable);
	assert_int_equal(pci_irq_best(d), PCI_IRQ_MSIX);

	d = bdf(0, 2, 3);
	assert_int_equal(d->msix.cap, 0);
	assert_int_equal(d->msi.cap, 0x80);
	assert_true(d->msi.is64);
	assert_true(d->msi.maskable);
	assert_int_equal(pci_irq_best(d), PCI_IRQ_MSI);
	assert_int_equal(pci_irq_best(bdf(0, 2, 1)), PCI_IRQ_INTX);
	assert_int_equal(pci_irq_best(bdf(0, 0x1f, 0)), PCI_IRQ_NONE);
}

/* Raw words of MSI-X entry i in the fake's table buffer, at the spec's offsets. */
#define ENTRY_WORD(buf, i, w) le32_at((buf) + (i) * 16 + (w) * 4)

static void test_msix_programming(void **state)
{
	struct pci_dev *d;
	struct fake_fn *x;
	uint8_t *tbl;

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	d = bdf(0, 1, 0);
	x = fake_find(&fake, 0, 1, 0);
	tbl = fake.mmio[0].buf; /* BAR1 at 0xfebd1000: table at +0, PBA at +0x800 */
	/* Reserved vector-control bits that must survive, and stale firmware contents. */
	put_le32(tbl + 1 * 16 + 12, 0xABCD0000u);
	put_le32(tbl + 2 * 16 + 0, 0xFEE0F000u);
	fake_set16(x, PCI_COMMAND, 0);

	assert_int_equal(pci_msix_set_vector(d, 0, 0x40, 0), -ENODEV); /* not enabled yet */
	assert_int_equal(pci_msix_enable(d), 0);
	uint16_t ctrl = fake_get16(x, 0x98 + PCI_MSIX_CTRL);
	assert_true(ctrl & 0x8000);                 /* MSI-X enable, bit 15 */
	assert_int_equal(ctrl & 0x4000, 0);          /* function mask cleared again */
	uint16_t cmd = fake_get16(x, PCI_COMMAND);
	assert_true(cmd & PCI_COMMAND_MEMORY);
	assert_true(cmd & PCI_COMMAND_MASTER);
	assert_true(cmd & PCI_COMMAND_INTX_DISABLE);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ENTRY_WORD(tbl, i, 3) & 1, 1); /* every entry masked */
	assert_int_equal(ENTRY_WORD(tbl, 1, 3), 0xABCD0001u);
	assert_int_equal(d->irq_mode, PCI_IRQ_MSIX);

	assert_int_equal(pci_msix_set_vector(d, 1, 0x41, 2), 0);
	assert_int_equal(ENTRY_WORD(tbl, 1, 0), 0xFEE02000u); /* LAPIC of APIC id 2 */
	assert_int_equal(ENTRY_WORD(tbl, 1, 1), 0);
	assert_int_equal(ENTRY_WORD(tbl, 1, 2), 0x41);
	assert_int_equal(ENTRY_WORD(tbl, 1, 3), 0xABCD0001u); /* left masked */
	/* Other entries untouched. */
	assert_int_equal(ENTRY_WORD(tbl, 0, 0), 0);
	assert_int_equal(ENTRY_WORD(tbl, 2, 0), 0xFEE0F000u);

	assert_int_equal(pci_msix_unmask(d, 1), 0);
	assert_int_equal(ENTRY_WORD(tbl, 1, 3), 0xABCD0000u);
	assert_int_equal(ENTRY_WORD(tbl, 0, 3), 1);
	assert_int_equal(pci_msix_mask(d, 1), 0);
	assert_int_equal(ENTRY_WORD(tbl, 1, 3), 0xABCD0001u);

	assert_int_equal(pci_msix_set_vector(d, 3, 0x42, 0), -EINVAL);
	assert_int_equal(pci_msix_mask(d, 3), -EINVAL);
	assert_int_equal(pci_msix_unmask(d, 0xFFFF), -EINVAL);

	assert_int_equal(pci_msix_mask_all(d, true), 0);
	assert_true(fake_get16(x, 0x98 + PCI_MSIX_CTRL) & 0x4000);
	assert_int_equal(pci_msix_mask_all(d, false), 0);
	assert_int_equal(fake_get16(x, 0x98 + PCI_MSIX_CTRL) & 0x4000, 0);

	put_le32(tbl + 0x800, 1u << 2);
	assert_int_equal(pci_msix_pending(d, 2), 1);
	assert_int_equal(pci_msix_pending(d, 1), 0);
	assert_int_equal(pci_msix_pending(d, 3), -EINVAL);

	pci_msix_disable(d);
	assert_int_equal(fake_get16(x, 0x98 + PCI_MSIX_CTRL) & 0xC000, 0);
	assert_int_equal(d->irq_mode, PCI_IRQ_NONE);
	assert_int_equal(pci_msix_unmask(d, 0), -ENODEV);
}

static void test_msix_64bit_bar_device(void **state)
{
	struct pci_dev *d;
	uint8_t *tbl;

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	d = bdf(1, 0, 0);
	tbl = fake.mmio[2].buf; /* BAR1 of 01:00.0 */
	assert_int_equal(pci_msix_enable(d), 0);
	assert_int_equal(pci_msix_set_vector(d, 0, 0x50, 0), 0);
	assert_int_equal(pci_msix_set_vector(d, 1, 0x51, 1), 0);
	assert_int_equal(ENTRY_WORD(tbl, 0, 0), 0xFEE00000u);
	assert_int_equal(ENTRY_WORD(tbl, 0, 2), 0x50);
	assert_int_equal(ENTRY_WORD(tbl, 1, 0), 0xFEE01000u);
	assert_int_equal(ENTRY_WORD(tbl, 1, 2), 0x51);
}

static void test_msix_table_outside_bar(void **state)
{
	struct fake_fn *x;
	struct pci_dev *d;

	(void)state;
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	/* 3 entries at 0xFF8 in a 4 KiB BAR: runs past its end. */
	x = fake_add(&fake, 0, 1, 0, 0x1af4, 0x1041, 0x020000, 0);
	fake_bar(x, 1, FAKE_MEM32, 0x1000, 0xfebd1000, false);
	fake_cap_start(x, 0x40);
	fake_msix_cap(x, 0x40, 0, 3, 1, 0xFF8, 1, 0x800);
	/* Reserved BIR 7. */
	x = fake_add(&fake, 0, 2, 0, 0x1af4, 0x1041, 0x020000, 0);
	fake_bar(x, 1, FAKE_MEM32, 0x1000, 0xfebd2000, false);
	fake_cap_start(x, 0x40);
	fake_msix_cap(x, 0x40, 0, 3, 7, 0, 1, 0x800);
	/* Table in an I/O BAR. */
	x = fake_add(&fake, 0, 3, 0, 0x1af4, 0x1041, 0x020000, 0);
	fake_bar(x, 0, FAKE_IO32, 0x100, 0xc000, false);
	fake_bar(x, 1, FAKE_MEM32, 0x1000, 0xfebd3000, false);
	fake_cap_start(x, 0x40);
	fake_msix_cap(x, 0x40, 0, 3, 0, 0, 1, 0x800);
	/* Table in an unassigned BAR. */
	x = fake_add(&fake, 0, 4, 0, 0x1af4, 0x1041, 0x020000, 0);
	fake_bar(x, 1, FAKE_MEM32, 0x1000, 0, false);
	fake_cap_start(x, 0x40);
	fake_msix_cap(x, 0x40, 0, 3, 1, 0, 1, 0x800);
	fake_irq(x, 1, 11);
	pci_init(fake.cfg_size);

	for (uint8_t dev = 1; dev <= 4; dev++) {
		d = bdf(0, dev, 0);
		assert_int_equal(d->problems, PCI_PROB_MSIX);
		assert_false(d->msix.usable);
		assert_int_equal(pci_msix_enable(d), -ENODEV);
	}
	assert_int_equal(pci_irq_best(bdf(0, 4, 0)), PCI_IRQ_INTX);
	assert_int_equal(fake.map_calls, 0);
}

static void test_msi_64bit(void **state)
{
	struct pci_dev *d;
	struct fake_fn *x;

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	d = bdf(0, 2, 3);
	x = fake_find(&fake, 0, 2, 3);
	assert_int_equal(pci_msi_enable(d, 0x50, 1), 0);
	/* 64-bit layout [PCI 6.8.1]: address lo 0x04, hi 0x08, data 0x0C, mask 0x10. */
	assert_int_equal(fake_get32(x, 0x80 + 0x04), 0xFEE01000u);
	assert_int_equal(fake_get32(x, 0x80 + 0x08), 0);
	assert_int_equal(fake_get16(x, 0x80 + 0x0C), 0x50);
	assert_int_equal(fake_get32(x, 0x80 + 0x10) & 1, 0); /* vector 0 unmasked */
	uint16_t ctrl = fake_get16(x, 0x80 + 0x02);
	assert_int_equal(ctrl & 1, 1);        /* enable */
	assert_int_equal(ctrl & 0x70, 0);     /* one message */
	assert_true(fake_get16(x, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
	assert_true(fake_get16(x, PCI_COMMAND) & PCI_COMMAND_MASTER);
	assert_int_equal(d->irq_mode, PCI_IRQ_MSI);
	pci_msi_disable(d);
	assert_int_equal(fake_get16(x, 0x80 + 0x02) & 1, 0);
	assert_int_equal(d->irq_mode, PCI_IRQ_NONE);
	assert_int_equal(pci_msi_enable(bdf(0, 1, 0), 0x40, 0), -ENODEV);
}

static void compose_high(uint8_t vector, uint32_t cpu, uint64_t *addr, uint32_t *data)
{
	(void)cpu;
	*addr = 0x100000000ull | 0xFEE00000u;
	*data = vector;
}

static void test_msi_32bit(void **state)
{
	struct fake_fn *x;
	struct pci_dev *d;

	(void)state;
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	x = fake_add(&fake, 0, 1, 0, 0x1234, 0x0006, 0x088000, 0);
	fake_cap_start(x, 0x60);
	fake_msi_cap(x, 0x60, 0, false, false, 2);
	pci_init(fake.cfg_size);
	d = bdf(0, 1, 0);
	assert_false(d->msi.is64);
	assert_int_equal(d->msi.max_log2, 2);
	assert_int_equal(pci_msi_enable(d, 0x33, 3), 0);
	/* 32-bit layout: address 0x04, data 0x08. */
	assert_int_equal(fake_get32(x, 0x60 + 0x04), 0xFEE03000u);
	assert_int_equal(fake_get16(x, 0x60 + 0x08), 0x33);
	assert_int_equal(fake_get16(x, 0x60 + 0x02) & 0x71, 1);

	pci_msi_disable(d);
	fake.msi_compose = compose_high;
	assert_int_equal(pci_msi_enable(d, 0x33, 3), -ERANGE);
	assert_int_equal(fake_get16(x, 0x60 + 0x02) & 1, 0);
}

static int handler_calls;
static bool test_handler(void *arg)
{
	(void)arg;
	handler_calls++;
	return true;
}

static void test_intx(void **state)
{
	struct pci_dev *rng, *usb;
	struct fake_fn *x;
	int tag1, tag2;

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	rng = bdf(2, 1, 0);
	usb = bdf(0, 2, 1);
	assert_int_equal(rng->irq_pin, 1);
	assert_int_equal(rng->irq_line, 11);
	assert_int_equal(usb->irq_pin, 2);
	x = fake_find(&fake, 2, 1, 0);
	fake_set16(x, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_INTX_DISABLE);

	assert_int_equal(pci_intx_attach(rng, test_handler, &tag1), 0);
	assert_int_equal(pci_intx_attach(usb, test_handler, &tag2), 0);
	/* Both on line 11: the hook received both, in order. */
	assert_int_equal(fake.nintx, 2);
	assert_int_equal(fake.intx[0].line, 11);
	assert_ptr_equal(fake.intx[0].dev, rng);
	assert_ptr_equal(fake.intx[0].arg, &tag1);
	assert_int_equal(fake.intx[1].line, 11);
	assert_ptr_equal(fake.intx[1].arg, &tag2);
	assert_true(fake.intx[0].handler(fake.intx[0].arg));
	assert_int_equal(handler_calls, 1);
	assert_int_equal(fake_get16(x, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE, 0);
	assert_int_equal(rng->irq_mode, PCI_IRQ_INTX);

	assert_false(pci_intx_asserted(rng));
	fake_set16(x, PCI_STATUS, PCI_STATUS_INTERRUPT);
	assert_true(pci_intx_asserted(rng));

	assert_int_equal(pci_intx_attach(bdf(0, 0x1f, 0), test_handler, NULL), -ENODEV);
	fake.intx_ret = -EBUSY;
	assert_int_equal(pci_intx_attach(bdf(3, 0, 0), test_handler, NULL), -EBUSY);
	assert_int_equal(bdf(3, 0, 0)->irq_mode, PCI_IRQ_NONE);
}

static void test_int_pin_and_line_checks(void **state)
{
	struct fake_fn *x;

	(void)state;
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	x = fake_add(&fake, 0, 1, 0, 0x1234, 0x0007, 0x088000, 0);
	fake_irq(x, 7, 11); /* pin 7 does not exist */
	x = fake_add(&fake, 0, 2, 0, 0x1234, 0x0008, 0x088000, 0);
	fake_irq(x, 1, PCI_INT_LINE_NONE);
	pci_init(fake.cfg_size);
	assert_int_equal(bdf(0, 1, 0)->problems, PCI_PROB_INT_PIN);
	assert_int_equal(bdf(0, 1, 0)->irq_pin, 0);
	assert_int_equal(pci_intx_attach(bdf(0, 1, 0), test_handler, NULL), -ENODEV);
	assert_int_equal(pci_intx_attach(bdf(0, 2, 0), test_handler, NULL), -ENXIO);
	assert_int_equal(fake.nintx, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Driver model                                                                              */

static int probes_a, probes_b, probes_c, probes_d;
static const struct pci_device_id *last_id_a;

static int probe_a(struct pci_dev *d, const struct pci_device_id *id)
{
	(void)d;
	probes_a++;
	last_id_a = id;
	return 0;
}
static int probe_b(struct pci_dev *d, const struct pci_device_id *id)
{
	(void)d;
	(void)id;
	probes_b++;
	return 0;
}
static int probe_c(struct pci_dev *d, const struct pci_device_id *id)
{
	(void)d;
	(void)id;
	probes_c++;
	return -EIO;
}
static int probe_d(struct pci_dev *d, const struct pci_device_id *id)
{
	(void)d;
	(void)id;
	probes_d++;
	return 0;
}

static const struct pci_device_id ids_a[] = {
	PCI_DEVICE(0x1af4, 0x1000), PCI_DEVICE(0x1af4, 0x1042), {0}};
static const struct pci_device_id ids_b[] = {PCI_DEVICE_CLASS(0x0c0300, 0xFFFF00), {0}};
static const struct pci_device_id ids_rng[] = {PCI_DEVICE(0x1af4, 0x1005), {0}};
static const struct pci_driver drv_a = {"virtio-test", ids_a, probe_a};
static const struct pci_driver drv_b = {"usb-test", ids_b, probe_b};
static const struct pci_driver drv_c = {"rng-broken", ids_rng, probe_c};
static const struct pci_driver drv_d = {"rng-good", ids_rng, probe_d};

static const struct pci_driver *const test_drivers[] = {&drv_a, &drv_b, &drv_c, &drv_d};

/* Registrations survive pci_init: start each test with none of ours. */
static void unregister_test_drivers(void)
{
	for (size_t i = 0; i < sizeof(test_drivers) / sizeof(test_drivers[0]); i++)
		pci_unregister_driver(test_drivers[i]);
}

static void test_driver_model(void **state)
{
	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	probes_a = probes_b = probes_c = probes_d = 0;
	assert_int_equal(pci_register_driver(&drv_a), 0);
	assert_int_equal(pci_register_driver(&drv_b), 0);
	assert_int_equal(pci_register_driver(&drv_c), 0);
	assert_int_equal(pci_register_driver(&drv_d), 0);
	assert_int_equal(pci_register_driver(&drv_a), -EEXIST);
	assert_int_equal(pci_register_driver(NULL), -EINVAL);

	assert_int_equal(pci_probe_all(), 5);
	assert_int_equal(probes_a, 2);
	assert_ptr_equal(last_id_a, &ids_a[1]); /* 01:00.0 came second */
	assert_int_equal(probes_b, 2);          /* 00:02.0 and 00:02.1, not SMBus 00:02.3 */
	assert_int_equal(probes_c, 1);
	assert_int_equal(probes_d, 1);
	assert_ptr_equal(bdf(0, 1, 0)->driver, &drv_a);
	assert_ptr_equal(bdf(0, 2, 1)->driver, &drv_b);
	assert_null(bdf(0, 2, 3)->driver);
	assert_ptr_equal(bdf(2, 1, 0)->driver, &drv_d);
	assert_true(fake_log_has("pci 02:01.0: rng-broken probe failed (-5)"));
	assert_true(fake_log_has("pci 00:00.0: 8086:29c0 (no driver)"));

	/* Bound functions are not probed again. */
	assert_int_equal(pci_probe_all(), 0);
	assert_int_equal(probes_a, 2);
	assert_int_equal(probes_d, 1);
	assert_int_equal(probes_c, 1); /* its device is bound now */

	/* Matching by class: prog-if ignored by the mask, subclass not. */
	struct pci_dev fake_dev = {.vendor = 1, .device = 2, .class_code = 0x0c,
				   .subclass = 0x03, .prog_if = 0x30};
	assert_ptr_equal(pci_match_id(ids_b, &fake_dev), &ids_b[0]);
	fake_dev.subclass = 0x05;
	assert_null(pci_match_id(ids_b, &fake_dev));
}

static void test_driver_registry_full(void **state)
{
	static struct pci_driver many[PCI_MAX_DRIVERS + 1];

	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	for (int i = 0; i <= PCI_MAX_DRIVERS; i++) {
		many[i].name = "x";
		many[i].ids = ids_rng;
		many[i].probe = probe_c;
	}
	for (int i = 0; i < PCI_MAX_DRIVERS; i++)
		assert_int_equal(pci_register_driver(&many[i]), 0);
	assert_int_equal(pci_register_driver(&many[PCI_MAX_DRIVERS]), -ENOSPC);
	struct pci_driver noprobe = {"y", ids_rng, NULL};
	assert_int_equal(pci_register_driver(&noprobe), -EINVAL);

	/* pci_init keeps the registrations: drivers may register before enumeration. */
	init_standard(PCI_CFG_SIZE_PCIE);
	assert_int_equal(pci_register_driver(&many[PCI_MAX_DRIVERS]), -ENOSPC);
	assert_int_equal(pci_probe_all(), 0); /* every one of them fails 02:01.0 */
	assert_int_equal(bdf(2, 1, 0)->probe_err, -EIO);
	assert_null(bdf(2, 1, 0)->driver);

	assert_int_equal(pci_unregister_driver(&many[3]), 0);
	assert_int_equal(pci_unregister_driver(&many[3]), -ENOENT);
	assert_int_equal(pci_register_driver(&many[PCI_MAX_DRIVERS]), 0);
	for (int i = 0; i <= PCI_MAX_DRIVERS; i++)
		if (i != 3)
			assert_int_equal(pci_unregister_driver(&many[i]), 0);
}

static void test_driver_registered_before_init(void **state)
{
	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	probes_d = 0;
	assert_int_equal(pci_register_driver(&drv_d), 0);
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	fake_build_standard(&fake);
	assert_int_equal(pci_init(fake.cfg_size), 13);
	assert_int_equal(pci_probe_all(), 1);
	assert_int_equal(probes_d, 1);
	assert_ptr_equal(bdf(2, 1, 0)->driver, &drv_d);
	/* Bound: cannot be unregistered (no remove callback). */
	assert_int_equal(pci_unregister_driver(&drv_d), -EBUSY);
	/* Re-enumeration drops the binding, then it can go. */
	pci_init(fake.cfg_size);
	assert_int_equal(pci_unregister_driver(&drv_d), 0);
}

/* ---------------------------------------------------------------------------------------- */
/* lspci                                                                                     */

static void test_lspci_short(void **state)
{
	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	pci_register_driver(&drv_a);
	pci_probe_all();
	out_reset();
	pci_lspci(false, out_fn);
	assert_string_equal(out_buf,
			    "00:00.0 8086:29c0 0600 host bridge (no driver)\n"
			    "00:01.0 1af4:1000 0200 virtio-net (transitional) [virtio-test]\n"
			    "00:02.0 8086:2934 0c03 USB controller (no driver)\n"
			    "00:02.1 8086:2935 0c03 USB controller (no driver)\n"
			    "00:02.3 8086:2930 0c05 SMBus controller (no driver)\n"
			    "00:03.0 1b36:000c 0604 PCI bridge (no driver)\n"
			    "00:04.0 1234:1111 0300 VGA controller (no driver)\n"
			    "00:05.0 1b36:0001 0604 PCI bridge (no driver)\n"
			    "00:1f.0 8086:2918 0601 ISA bridge (no driver)\n"
			    "01:00.0 1af4:1042 0100 virtio-blk [virtio-test]\n"
			    "02:01.0 1af4:1005 00ff virtio-rng (transitional) (no driver)\n"
			    "02:02.0 1b36:0001 0604 PCI bridge (no driver)\n"
			    "03:00.0 1af4:1043 0780 virtio-console (no driver)\n");
}

static void assert_has_line(const char *line)
{
	if (!strstr(out_buf, line))
		fail_msg("lspci -v lacks \"%s\" in:\n%s", line, out_buf);
}

static void test_lspci_verbose(void **state)
{
	(void)state;
	init_standard(PCI_CFG_SIZE_PCIE);
	pci_msix_enable(bdf(1, 0, 0));
	out_reset();
	pci_lspci(true, out_fn);
	assert_has_line("00:01.0 1af4:1000 0200 virtio-net (transitional) (no driver)\n"
			"  rev 00 prog-if 00 header 0 subsystem 1af4:0001\n"
			"  BAR0 io 0xc040 size 0x20\n"
			"  BAR1 mem32 0xfebd1000 size 0x1000\n"
			"  BAR4 mem64 prefetch 0xfe000000 size 0x4000\n"
			"  cap 11@98 MSI-X: 3 entries, table BAR1+0x0, PBA BAR1+0x800\n"
			"  cap 09@84 vendor: virtio common BAR4+0x0 len 0x1000\n"
			"  cap 09@70 vendor: virtio notify BAR4+0x3000 len 0x1000\n"
			"  cap 09@60 vendor: virtio isr BAR4+0x1000 len 0x1000\n"
			"  cap 09@50 vendor: virtio device BAR4+0x2000 len 0x1000\n"
			"  irq: INTA line 11, best msi-x, enabled none\n");
	assert_has_line("  BAR4 mem64 prefetch 0x800000000 size 0x4000\n");
	assert_has_line("  cap 10@40 PCIe: endpoint\n"
			"  ecap 0001@100 AER\n"
			"  ecap 0003@140 serial number\n"
			"  irq: INTA line 10, best msi-x, enabled msi-x\n");
	assert_has_line("  BAR2 mem32 unassigned size 0x1000\n");
	assert_has_line("00:03.0 1b36:000c 0604 PCI bridge (no driver)\n"
			"  rev 00 prog-if 00 header 1\n"
			"  bridge: secondary bus 01 subordinate bus 01\n");
	assert_has_line("  cap 10@40 PCIe: root port\n");
	assert_has_line("  cap 05@80 MSI: 64-bit, maskable, up to 1 vectors\n");
	assert_has_line("00:1f.0 8086:2918 0601 ISA bridge (no driver)\n"
			"  rev 00 prog-if 00 header 0 subsystem 0000:0000\n"
			"  irq: no pin, best none, enabled none\n");
	assert_has_line("  rev 00 prog-if 00 header 0 multifunction subsystem");
}

static void test_lspci_problems(void **state)
{
	struct fake_fn *x;

	(void)state;
	x = cap_dev();
	fake_cap_start(x, 0x40);
	fake_cap(x, 0x40, PCI_CAP_ID_PM, 0x40);
	fake_set32(x, PCI_BAR0, 0xfebf0000);
	pci_init(fake.cfg_size);
	out_reset();
	pci_lspci(true, out_fn);
	assert_has_line("  problems: cap-loop bar-zero\n");
}

static void test_dev_names(void **state)
{
	struct pci_dev d = {.vendor = 0x1af4};

	(void)state;
	d.device = 0x1041;
	assert_string_equal(pci_dev_name(&d), "virtio-net");
	d.device = 0x1044;
	assert_string_equal(pci_dev_name(&d), "virtio-rng");
	d.device = 0x1001;
	assert_string_equal(pci_dev_name(&d), "virtio-blk (transitional)");
	d.device = 0x1005;
	assert_string_equal(pci_dev_name(&d), "virtio-rng (transitional)");
	d.device = 0x107f;
	assert_string_equal(pci_dev_name(&d), "virtio (unknown type)");
	d.device = 0x1110; /* not a virtio id: named by class */
	d.class_code = 0x05;
	assert_string_equal(pci_dev_name(&d), "memory controller");
	d.vendor = 0x8086;
	d.device = 0x1000;
	d.class_code = 0x02;
	assert_string_equal(pci_dev_name(&d), "Ethernet controller");
	d.class_code = 0x42;
	assert_string_equal(pci_dev_name(&d), "device");
}

/* ---------------------------------------------------------------------------------------- */
/* Backends                                                                                  */

static void test_ecam_backend(void **state)
{
	/* Window for buses 1..2: 2 MiB. */
	static uint8_t win[2 << 20];
	struct pci_ecam e = {.base = win, .bus_start = 1, .bus_end = 2};

	(void)state;
	/* [PCIe 7.2.2]: (bus - bus_start) << 20 | dev << 15 | fn << 12 | register. */
	assert_ptr_equal(pci_ecam_addr(&e, 2, 3, 4, 0x104),
			 win + ((size_t)(2 - 1) << 20 | 3 << 15 | 4 << 12 | 0x104));
	assert_ptr_equal(pci_ecam_addr(&e, 1, 0, 0, 0), win); /* bus 1 starts the window */
	assert_ptr_equal(pci_ecam_addr(&e, 2, 31, 7, 0xFFF), win + sizeof(win) - 1);
	/* Outside the window: absent. */
	assert_null(pci_ecam_addr(&e, 0, 0, 0, 0));
	assert_null(pci_ecam_addr(&e, 3, 0, 0, 0));
	assert_null(pci_ecam_addr(&e, 1, 0, 0, 0x1000));
	assert_null(pci_ecam_addr(&e, 1, 32, 0, 0));
	assert_null(pci_ecam_addr(&e, 1, 0, 8, 0));
}

static void test_ecam_enumeration(void **state)
{
	/* A one-bus ECAM window with a single function at 00:03.0, through the real backend. */
	static uint8_t win[1 << 20];
	struct pci_ecam e = {.base = win, .bus_start = 0, .bus_end = 0};
	uint8_t *cfg = win + (3 << 15);

	(void)state;
	memset(win, 0xFF, sizeof(win)); /* absent functions read all ones */
	memset(cfg, 0, 4096);
	put_le32(cfg + PCI_VENDOR_ID, 0x10421af4);
	put_le32(cfg + PCI_REVISION_ID, 0x01000001);
	fake_reset(&fake, PCI_CFG_SIZE_PCIE);
	fake.ecam = &e;
	assert_int_equal(pci_init(fake.cfg_size), 1);
	struct pci_dev *d = bdf(0, 3, 0);
	assert_int_equal(d->vendor, 0x1af4);
	assert_int_equal(d->device, 0x1042);
	assert_int_equal(d->class_code, 0x01);
	assert_int_equal(d->revision, 0x01);
	/* BARs read zero and size to zero: unimplemented, no problem. */
	assert_int_equal(d->problems, 0);
}

static void test_portio_backend(void **state)
{
	(void)state;
	/* [PCI 3.2.2.3.2]: bit 31 enable, bus 23:16, device 15:11, function 10:8, register 7:2. */
	assert_int_equal(pci_portio_address(1, 2, 3, 0x3E),
			 0x80000000u | 1 << 16 | 2 << 11 | 3 << 8 | 0x3C);
	assert_int_equal(pci_portio_data_port(0x3E), 0xCFE);
	assert_int_equal(pci_portio_address(0xFF, 31, 7, 0x0F), 0x80FFFF0Cu);
	assert_int_equal(pci_portio_data_port(0x0F), 0xCFF);
	assert_int_equal(pci_portio_address(0, 1, 0, 0x10), 0x80000810u);
	assert_int_equal(pci_portio_data_port(0x10), 0xCFC);
	assert_int_equal(pci_portio_data_port(0x05), 0xCFD);
	/* The extended space and bad functions are out of reach. */
	assert_int_equal(pci_portio_address(0, 1, 0, 0x100), 0);
	assert_int_equal(pci_portio_address(0, 32, 0, 0), 0);
	assert_int_equal(pci_portio_address(0, 0, 8, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enum_finds_all_functions),
		cmocka_unit_test(test_enum_ids_class_and_bridges),
		cmocka_unit_test(test_enum_empty_bus),
		cmocka_unit_test(test_bridge_bad_bus_numbers),
		cmocka_unit_test(test_bridge_depth_limit),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_unknown_header_type),
		cmocka_unit_test(test_bar_decoding),
		cmocka_unit_test(test_bar_sizing_restores_and_disables_decode),
		cmocka_unit_test(test_bar_map),
		cmocka_unit_test(test_bar_sizes_to_zero),
		cmocka_unit_test(test_bar_malformed),
		cmocka_unit_test(test_enable_device),
		cmocka_unit_test(test_caps_walk),
		cmocka_unit_test(test_ext_caps),
		cmocka_unit_test(test_legacy_config_no_ext_space),
		cmocka_unit_test(test_cfg_accessor_checks),
		cmocka_unit_test(test_cap_list_loop),
		cmocka_unit_test(test_cap_pointer_out_of_range),
		cmocka_unit_test(test_cap_overflow),
		cmocka_unit_test(test_ext_cap_malformed),
		cmocka_unit_test(test_msix_info),
		cmocka_unit_test(test_msix_programming),
		cmocka_unit_test(test_msix_64bit_bar_device),
		cmocka_unit_test(test_msix_table_outside_bar),
		cmocka_unit_test(test_msi_64bit),
		cmocka_unit_test(test_msi_32bit),
		cmocka_unit_test(test_intx),
		cmocka_unit_test(test_int_pin_and_line_checks),
		cmocka_unit_test(test_driver_model),
		cmocka_unit_test(test_driver_registry_full),
		cmocka_unit_test(test_driver_registered_before_init),
		cmocka_unit_test(test_lspci_short),
		cmocka_unit_test(test_lspci_verbose),
		cmocka_unit_test(test_lspci_problems),
		cmocka_unit_test(test_dev_names),
		cmocka_unit_test(test_ecam_backend),
		cmocka_unit_test(test_ecam_enumeration),
		cmocka_unit_test(test_portio_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
