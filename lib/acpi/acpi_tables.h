/*
 * ACPI table layouts, mirroring the specification's structs and field names.
 *
 * Section numbers refer to the ACPI Specification 6.5 unless another document is named. All
 * multi-byte fields are little-endian and may sit at any alignment (tables are byte-packed and
 * placed anywhere by firmware), hence the packed attribute; read fields through a pointer to
 * the whole struct, never take the address of a member.
 */
#ifndef VIREO_ACPI_TABLES_H
#define VIREO_ACPI_TABLES_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_PACKED __attribute__((packed))

/* 5.2.3.2 Generic Address Structure (GAS). */
struct ACPI_PACKED acpi_gas {
	uint8_t space_id; /* ACPI_GAS_* */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size; /* 0 undefined, 1 byte, 2 word, 3 dword, 4 qword */
	uint64_t address;
};

#define ACPI_GAS_SYSTEM_MEMORY 0
#define ACPI_GAS_SYSTEM_IO     1
#define ACPI_GAS_PCI_CONFIG    2

/* 5.2.5.3 Root System Description Pointer (RSDP) Structure. */
#define ACPI_RSDP_SIGNATURE "RSD PTR "
#define ACPI_RSDP_V1_LEN    20 /* bytes covered by checksum (the ACPI 1.0 structure) */
struct ACPI_PACKED acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* first 20 bytes sum to zero */
	char oem_id[6];
	uint8_t revision; /* 0: ACPI 1.0 (20 bytes, RSDT only); 2: ACPI 2.0+ */
	uint32_t rsdt_address;
	/* Revision 2 and later. */
	uint32_t length; /* of the whole structure */
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* whole structure sums to zero */
	uint8_t reserved[3];
};

/* 5.2.6 System Description Table Header. */
struct ACPI_PACKED acpi_sdt_header {
	char signature[4];
	uint32_t length; /* of the whole table, header included */
	uint8_t revision;
	uint8_t checksum; /* whole table sums to zero */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
};

/* 5.2.7 RSDT: header, then 32-bit physical addresses of the other tables. */
struct ACPI_PACKED acpi_rsdt {
	struct acpi_sdt_header header; /* "RSDT" */
	uint32_t entry[];
};

/* 5.2.8 XSDT: header, then 64-bit physical addresses (only 4-byte aligned in practice). */
struct ACPI_PACKED acpi_xsdt {
	struct acpi_sdt_header header; /* "XSDT" */
	uint64_t entry[];
};

/* 5.2.9 Fixed ACPI Description Table (FADT), signature "FACP". Older revisions are shorter:
 * a field exists only if the table's length covers it. */
struct ACPI_PACKED acpi_fadt {
	struct acpi_sdt_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0; /* INT_MODEL in ACPI 1.0 */
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd; /* I/O port; writing acpi_enable there hands ACPI to the OS */
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk; /* I/O port of PM1a_CNT: SLP_TYP (bits 10-12), SLP_EN (bit 13) */
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch; /* ACPI_FADT_BOOT_* */
	uint8_t reserved1;
	uint32_t flags; /* ACPI_FADT_F_* */
	/* ACPI 2.0 and later (revision >= 3). */
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t fadt_minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt; /* wins over dsdt when nonzero */
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	/* ACPI 5.0 and later. */
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	/* ACPI 6.0 and later. */
	uint64_t hypervisor_vendor_identity;
};

/* 5.2.9.3 IA-PC Boot Architecture Flags. */
#define ACPI_FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define ACPI_FADT_BOOT_8042	      (1u << 1)
#define ACPI_FADT_BOOT_NO_VGA	      (1u << 2)
#define ACPI_FADT_BOOT_NO_MSI	      (1u << 3)
#define ACPI_FADT_BOOT_NO_CMOS_RTC    (1u << 5)

/* 5.2.9 Table 5.10, Fixed ACPI Description Table Fixed Feature Flags (subset). */
#define ACPI_FADT_F_WBINVD	  (1u << 0)
#define ACPI_FADT_F_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_F_HW_REDUCED	  (1u << 20)

/* 5.2.12 Multiple APIC Description Table (MADT), signature "APIC". */
struct ACPI_PACKED acpi_madt {
	struct acpi_sdt_header header;
	uint32_t local_apic_address; /* 32-bit; type 5 entries override it */
	uint32_t flags;		     /* ACPI_MADT_PCAT_COMPAT */
	/* Interrupt controller structures follow, each starting with acpi_madt_entry. */
};

#define ACPI_MADT_PCAT_COMPAT (1u << 0) /* dual 8259s present: mask them before using the IOAPIC   \
					 */

/* 5.2.12 Table 5.21: every interrupt controller structure starts with type and length. */
struct ACPI_PACKED acpi_madt_entry {
	uint8_t type;
	uint8_t length; /* of this structure, these two bytes included */
};

enum acpi_madt_type {
	ACPI_MADT_LOCAL_APIC = 0,
	ACPI_MADT_IO_APIC = 1,
	ACPI_MADT_INTERRUPT_OVERRIDE = 2,
	ACPI_MADT_LOCAL_APIC_NMI = 4,
	ACPI_MADT_LOCAL_APIC_OVERRIDE = 5,
	ACPI_MADT_LOCAL_X2APIC = 9,
};

/* 5.2.12.2 Processor Local APIC Structure. */
struct ACPI_PACKED acpi_madt_local_apic {
	struct acpi_madt_entry h; /* type 0, length 8 */
	uint8_t acpi_processor_uid;
	uint8_t apic_id;
	uint32_t flags; /* ACPI_MADT_LAPIC_* */
};

/* 5.2.12.2 Table 5.23, Local APIC Flags. */
#define ACPI_MADT_LAPIC_ENABLED	       (1u << 0)
#define ACPI_MADT_LAPIC_ONLINE_CAPABLE (1u << 1) /* may be enabled later (hotplug) */

/* 5.2.12.3 I/O APIC Structure. */
struct ACPI_PACKED acpi_madt_io_apic {
	struct acpi_madt_entry h; /* type 1, length 12 */
	uint8_t io_apic_id;
	uint8_t reserved;
	uint32_t io_apic_address;
	uint32_t global_system_interrupt_base;
};

/* 5.2.12.5 Interrupt Source Override Structure. */
struct ACPI_PACKED acpi_madt_interrupt_override {
	struct acpi_madt_entry h; /* type 2, length 10 */
	uint8_t bus;		  /* 0: ISA */
	uint8_t source;		  /* bus-relative interrupt source (the ISA IRQ) */
	uint32_t global_system_interrupt;
	uint16_t flags; /* MPS INTI flags, ACPI_MPS_INTI_* */
};

/* 5.2.12.5 Table 5.26, MPS INTI Flags. "Conforms" means: as the bus specifies; ISA interrupts
 * are edge-triggered and active-high. */
#define ACPI_MPS_INTI_POLARITY_MASK    0x3u
#define ACPI_MPS_INTI_POLARITY_CONFORM 0x0u
#define ACPI_MPS_INTI_POLARITY_HIGH    0x1u
#define ACPI_MPS_INTI_POLARITY_LOW     0x3u
#define ACPI_MPS_INTI_TRIGGER_MASK     0xcu
#define ACPI_MPS_INTI_TRIGGER_CONFORM  0x0u
#define ACPI_MPS_INTI_TRIGGER_EDGE     0x4u
#define ACPI_MPS_INTI_TRIGGER_LEVEL    0xcu

/* 5.2.12.7 Local APIC NMI Structure. */
struct ACPI_PACKED acpi_madt_local_apic_nmi {
	struct acpi_madt_entry h;   /* type 4, length 6 */
	uint8_t acpi_processor_uid; /* 0xff: all processors */
	uint16_t flags;		    /* MPS INTI flags */
	uint8_t local_apic_lint;    /* LINT0 or LINT1 */
};

/* 5.2.12.8 Local APIC Address Override Structure. */
struct ACPI_PACKED acpi_madt_local_apic_override {
	struct acpi_madt_entry h; /* type 5, length 12 */
	uint16_t reserved;
	uint64_t local_apic_address;
};

/* 5.2.12.12 Processor Local x2APIC Structure (QEMU emits these for APIC IDs above 254). */
struct ACPI_PACKED acpi_madt_local_x2apic {
	struct acpi_madt_entry h; /* type 9, length 16 */
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags; /* as for the local APIC */
	uint32_t acpi_processor_uid;
};

/* PCI Firmware Specification 3.2, 4.1.2: MCFG table (ECAM regions), signature "MCFG". */
struct ACPI_PACKED acpi_mcfg {
	struct acpi_sdt_header header;
	uint8_t reserved[8];
	/* struct acpi_mcfg_allocation entries follow, up to the table's length. */
};

/* PCI Firmware Specification 3.2, 4.1.2 Table 4-3: one ECAM region. */
struct ACPI_PACKED acpi_mcfg_allocation {
	uint64_t base_address; /* ECAM address of bus 0 of this segment, even if start_bus > 0 */
	uint16_t pci_segment_group;
	uint8_t start_bus;
	uint8_t end_bus;
	uint32_t reserved;
};

/* IA-PC HPET Specification 1.0a, 3.2.4: HPET description table, signature "HPET". */
struct ACPI_PACKED acpi_hpet {
	struct acpi_sdt_header header;
	uint32_t event_timer_block_id;
	struct acpi_gas base_address; /* system memory */
	uint8_t hpet_number;
	uint16_t main_counter_minimum_clock_tick;
	uint8_t page_protection;
};

/* 5.2.11.1 DSDT: header, then the AML definition block. */

/* AML opcodes (20.2.5) used to find \_S5_ (7.4.2: "Name(_S5, Package(){SLP_TYPa, SLP_TYPb,
 * ...})"). */
#define AML_ZERO_OP	  0x00
#define AML_ONE_OP	  0x01
#define AML_NAME_OP	  0x08
#define AML_BYTE_PREFIX	  0x0a
#define AML_WORD_PREFIX	  0x0b
#define AML_DWORD_PREFIX  0x0c
#define AML_PACKAGE_OP	  0x12
#define AML_STRING_PREFIX 0x0d
#define AML_BUFFER_OP	  0x11
#define AML_EXT_OP	  0x5b /* followed by AML_DEVICE_OP: DefDevice */
#define AML_DEVICE_OP	  0x82
#define AML_ROOT_CHAR	  0x5c /* '\' */
#define AML_PARENT_PREFIX 0x5e /* '^' */

/* Resource descriptors (6.4) that describe a virtio-mmio window and its interrupt. */
#define ACPI_RES_END_TAG	0x79 /* small, 1 byte of checksum follows */
#define ACPI_RES_MEMORY32_FIXED 0x86 /* large: u16 length 9, info, u32 base, u32 length */
#define ACPI_RES_EXT_IRQ	0x89 /* large: u16 length, flags, count, u32 interrupts[] */
#define ACPI_RES_IRQ_EDGE	(1u << 1) /* extended interrupt flags: edge (else level) */
#define ACPI_RES_IRQ_ACTIVE_LOW (1u << 2)

/* Offsets fixed by the spec; a slip in the structs above would move a field silently. */
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS is 12 bytes (5.2.3.2)");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP v2 is 36 bytes (5.2.5.3)");
_Static_assert(offsetof(struct acpi_rsdp, length) == ACPI_RSDP_V1_LEN, "RSDP v1 part");
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "SDT header is 36 bytes (5.2.6)");
_Static_assert(offsetof(struct acpi_fadt, smi_cmd) == 48, "FADT SMI_CMD offset");
_Static_assert(offsetof(struct acpi_fadt, pm1a_cnt_blk) == 64, "FADT PM1a_CNT_BLK offset");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT IAPC_BOOT_ARCH");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT Flags offset");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT RESET_REG offset");
_Static_assert(offsetof(struct acpi_fadt, reset_value) == 128, "FADT RESET_VALUE offset");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT offset");
_Static_assert(offsetof(struct acpi_fadt, x_pm1a_cnt_blk) == 172, "FADT X_PM1a_CNT_BLK");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "FADT SLEEP_CONTROL_REG");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT 6.x length");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT header");
_Static_assert(sizeof(struct acpi_madt_local_apic) == 8, "MADT type 0");
_Static_assert(sizeof(struct acpi_madt_io_apic) == 12, "MADT type 1");
_Static_assert(sizeof(struct acpi_madt_interrupt_override) == 10, "MADT type 2");
_Static_assert(sizeof(struct acpi_madt_local_apic_nmi) == 6, "MADT type 4");
_Static_assert(sizeof(struct acpi_madt_local_apic_override) == 12, "MADT type 5");
_Static_assert(sizeof(struct acpi_madt_local_x2apic) == 16, "MADT type 9");
_Static_assert(sizeof(struct acpi_mcfg) == 44, "MCFG header");
_Static_assert(sizeof(struct acpi_mcfg_allocation) == 16, "MCFG allocation");
_Static_assert(sizeof(struct acpi_hpet) == 56, "HPET table");

#endif
