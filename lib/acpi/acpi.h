/*
 * ACPI table parser: finds the RSDP, walks the XSDT/RSDT and extracts what Vireo needs from the
 * MADT, FADT (+ the DSDT's \_S5_ object), MCFG and HPET tables.
 *
 * Portable: it reads physical memory only through its port (acpi_port.h), so host tests run
 * it over fake memory. Firmware tables are untrusted input: every checksum and length is checked, nothing is
 * read past a table's length, and a bad table is skipped with a log message instead of failing
 * the whole parse.
 */
#ifndef VIREO_ACPI_H
#define VIREO_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_TABLES	 32
#define ACPI_MAX_CPUS	 256
#define ACPI_MAX_IOAPICS 16
#define ACPI_MAX_ISOS	 32
#define ACPI_MAX_NMIS	 16
#define ACPI_MAX_MCFG	 8
#define ACPI_MAX_MMIO	 32

/* Refuse tables longer than this: a corrupt length must not make us map gigabytes. */
#define ACPI_MAX_TABLE_LEN (16u * 1024 * 1024)


/* A virtio-mmio device in the DSDT: Device(...) { Name(_HID, "LNRO0005"), Name(_CRS,
 * ResourceTemplate() { Memory32Fixed(...), Interrupt(...) }) } (6.2.13 _CRS, 6.4 resource
 * descriptors), as QEMU's microvm writes it. */
struct acpi_mmio_device {
	uint64_t base;
	uint32_t size;
	uint32_t gsi;
	bool level, active_low; /* the Interrupt descriptor's trigger mode and polarity */
};

/* One table seen through the XSDT/RSDT (or the FADT, for the DSDT). */
struct acpi_table_desc {
	char signature[5];
	char oem_id[7];
	char oem_table_id[9];
	uint8_t revision;
	bool valid; /* checksum and length good, so it was parsed */
	uint32_t length;
	uint64_t phys;
};

struct acpi_cpu {
	uint32_t uid;	  /* ACPI processor UID */
	uint32_t apic_id; /* local APIC (or x2APIC) ID */
	bool enabled;
	bool online_capable;
};

struct acpi_ioapic {
	uint8_t id;
	uint32_t address;
	uint32_t gsi_base;
};

/* Interrupt source override, with the MPS INTI flags decoded (conforming → bus default). */
struct acpi_irq_override {
	uint8_t bus;	/* 0 = ISA */
	uint8_t source; /* bus IRQ */
	uint32_t gsi;
	uint16_t flags; /* raw MPS INTI flags */
	bool level;
	bool active_low;
};

struct acpi_lapic_nmi {
	uint8_t uid; /* 0xff: all processors */
	uint8_t lint;
	uint16_t flags;
};

struct acpi_mcfg_entry {
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus;
	uint8_t end_bus;
};

/* Generic address (5.2.3.2), unpacked. */
struct acpi_addr {
	uint8_t space_id; /* ACPI_GAS_* in acpi_tables.h */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
};

struct acpi_info {
	uint64_t rsdp_phys;
	uint8_t rsdp_revision;
	char rsdp_oem_id[7];
	bool used_xsdt;

	struct acpi_table_desc tables[ACPI_MAX_TABLES];
	unsigned ntables;

	bool have_madt;
	uint64_t lapic_addr; /* with the type 5 override applied */
	bool pcat_compat;    /* legacy 8259 PICs present */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	unsigned ncpus;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned nioapics;
	struct acpi_irq_override isos[ACPI_MAX_ISOS];
	unsigned nisos;
	struct acpi_lapic_nmi nmis[ACPI_MAX_NMIS];
	unsigned nnmis;

	struct acpi_mcfg_entry mcfg[ACPI_MAX_MCFG];
	unsigned nmcfg;

	uint64_t hpet_addr; /* 0 if there is no HPET table */

	bool have_fadt;
	uint8_t fadt_revision;
	uint16_t sci_irq;
	uint32_t smi_cmd; /* 0: ACPI is always enabled (no SMM handover needed) */
	uint8_t acpi_enable, acpi_disable;
	uint16_t pm1a_cnt;   /* I/O port of PM1a_CNT, 0 if none */
	uint16_t pm1b_cnt;   /* I/O port of PM1b_CNT, 0 if none */
	uint32_t fadt_flags; /* ACPI_FADT_F_* */
	uint16_t iapc_boot_arch;
	bool have_reset; /* RESET_REG_SUP set and a reset register given */
	struct acpi_addr reset_reg;
	uint8_t reset_value;
	uint64_t dsdt_phys;

	bool have_s5; /* \_S5_ found in the DSDT */
	uint8_t slp_typa, slp_typb;
	/* Hardware-reduced ACPI (FADT flag 20, as on QEMU's microvm): sleep states are entered
	 * through SLEEP_CONTROL_REG (4.8.3.7) instead of PM1x_CNT. */
	bool have_sleep_control;
	struct acpi_addr sleep_control;

	/* virtio-mmio devices the DSDT describes (_HID "LNRO0005"), in table order. */
	struct acpi_mmio_device mmio[ACPI_MAX_MMIO];
	unsigned nmmio;
};

/*
 * Parse the ACPI tables into *out (zeroed first). rsdp_phys is the RSDP's physical address, or
 * 0 to search the BIOS areas (the first KiB of the EBDA, then 0xE0000-0xFFFFF). Bad or
 * unreachable tables are logged and skipped. Returns 0 (even if some tables were skipped),
 * -ENOENT when no RSDP was found, -EINVAL when the RSDP or the root table is invalid or out is
 * NULL.
 */
int acpi_parse(uint64_t rsdp_phys, struct acpi_info *out);

/*
 * Map an ISA IRQ to its global system interrupt, applying the MADT's overrides. *level and
 * *active_low (either may be NULL) receive the trigger mode and polarity: ISA defaults (edge,
 * active-high) and identity mapping when there is no override.
 */
uint32_t acpi_irq_to_gsi(const struct acpi_info *info, uint8_t isa_irq, bool *level,
			 bool *active_low);

/* Print *info readably with printf (shell `acpi`). */
void acpi_print(const struct acpi_info *info);


#endif
