/*
 * PCI / PCI Express configuration-space wire format: register offsets, bit fields, capability
 * IDs and the MSI-X table entry layout.
 *
 * References:
 *   [PCI]  PCI Local Bus Specification, revision 3.0
 *   [P2P]  PCI-to-PCI Bridge Architecture Specification, revision 1.2
 *   [PCIe] PCI Express Base Specification, revision 4.0
 *
 * Everything is little endian. Offsets are from the start of one function's configuration
 * space (256 bytes on conventional PCI, 4096 bytes on PCI Express through ECAM).
 */
#ifndef VIREO_PCI_REGS_H
#define VIREO_PCI_REGS_H

#include <stdint.h>

/* Size of one function's configuration space: conventional (also what 0xCF8/0xCFC reaches)
 * and PCI Express extended [PCIe 7.2.2]. */
#define PCI_CFG_SIZE      256
#define PCI_CFG_SIZE_PCIE 4096

#define PCI_MAX_BUS 256
#define PCI_MAX_DEV 32
#define PCI_MAX_FN  8

/* --- Common header, all header types [PCI 6.1, fig. 6-1; PCIe 7.5.1.1] --------------------- */
#define PCI_VENDOR_ID   0x00 /* 16 bits; 0xFFFF reads back for an absent function */
#define PCI_DEVICE_ID   0x02 /* 16 bits */
#define PCI_COMMAND     0x04 /* 16 bits */
#define PCI_STATUS      0x06 /* 16 bits */
#define PCI_REVISION_ID 0x08 /* 8 bits */
#define PCI_PROG_IF     0x09 /* 8 bits: register-level programming interface */
#define PCI_SUBCLASS    0x0A /* 8 bits */
#define PCI_CLASS       0x0B /* 8 bits: base class */
#define PCI_CACHE_LINE  0x0C
#define PCI_LATENCY     0x0D
#define PCI_HEADER_TYPE 0x0E /* 8 bits */
#define PCI_BIST        0x0F

#define PCI_VENDOR_NONE 0xFFFF /* master abort on a read returns all ones [PCI 6.1] */

/* Command register bits [PCI 6.2.2]. */
#define PCI_COMMAND_IO           0x0001 /* respond to I/O space accesses */
#define PCI_COMMAND_MEMORY       0x0002 /* respond to memory space accesses */
#define PCI_COMMAND_MASTER       0x0004 /* may issue memory requests (DMA, MSI writes) */
#define PCI_COMMAND_INTX_DISABLE 0x0400 /* the function may not assert INTx# */

/* Status register bits [PCI 6.2.3]. */
#define PCI_STATUS_INTERRUPT 0x0008 /* INTx# asserted (read only) */
#define PCI_STATUS_CAP_LIST  0x0010 /* PCI_CAP_PTR is valid */

/* Header type register [PCI 6.2.1]. */
#define PCI_HEADER_TYPE_MASK   0x7F
#define PCI_HEADER_MULTIFUNC   0x80 /* device implements functions 1..7 (valid in fn 0) */
#define PCI_HEADER_TYPE_NORMAL 0x00
#define PCI_HEADER_TYPE_BRIDGE 0x01 /* PCI-to-PCI bridge [P2P 3.2] */
#define PCI_HEADER_TYPE_CARDBUS 0x02

/* --- Type 0 (endpoint) header [PCI 6.1] ---------------------------------------------------- */
#define PCI_BAR0          0x10 /* six 32-bit BARs, 0x10..0x24 */
#define PCI_BAR_STRIDE    4
#define PCI_BARS_NORMAL   6
#define PCI_SUBSYS_VENDOR 0x2C
#define PCI_SUBSYS_ID     0x2E
#define PCI_ROM_ADDRESS   0x30
#define PCI_CAP_PTR       0x34 /* 8 bits; also at this offset in type 1 headers */
#define PCI_INT_LINE      0x3C /* 8 bits: firmware-written routing hint (legacy IRQ / GSI) */
#define PCI_INT_PIN       0x3D /* 8 bits: 0 none, 1..4 = INTA#..INTD# */

#define PCI_INT_PIN_NONE  0
#define PCI_INT_PIN_MAX   4    /* INTD# */
#define PCI_INT_LINE_NONE 0xFF /* "unknown / not connected" on x86 [PCI 6.2.4 footnote] */

/* --- Type 1 (PCI-to-PCI bridge) header [P2P 3.2] -------------------------------------------- */
#define PCI_BARS_BRIDGE     2    /* BAR0, BAR1 at 0x10, 0x14 */
#define PCI_PRIMARY_BUS     0x18 /* 8 bits */
#define PCI_SECONDARY_BUS   0x19 /* 8 bits: bus number directly behind the bridge */
#define PCI_SUBORDINATE_BUS 0x1A /* 8 bits: highest bus number behind the bridge */

/* --- Type 2 (CardBus bridge) header: only where its capability pointer lives -------------- */
#define PCI_CB_CAP_PTR 0x14

/* --- Base address registers [PCI 6.2.5.1] -------------------------------------------------- */
#define PCI_BAR_SPACE_IO     0x00000001u /* bit 0: 1 = I/O space, 0 = memory space */
#define PCI_BAR_IO_MASK      0xFFFFFFFCu /* I/O: bits 1:0 are flags/reserved */
#define PCI_BAR_MEM_TYPE     0x00000006u /* memory: bits 2:1 = locatable type */
#define PCI_BAR_MEM_TYPE_32  0x00000000u /* anywhere in 32-bit space */
#define PCI_BAR_MEM_TYPE_1M  0x00000002u /* below 1 MiB; reserved since PCI 2.2 */
#define PCI_BAR_MEM_TYPE_64  0x00000004u /* 64-bit: this BAR and the next form one address */
#define PCI_BAR_MEM_PREFETCH 0x00000008u /* no side effects on reads, may be merged */
#define PCI_BAR_MEM_MASK     0xFFFFFFF0u /* memory: bits 3:0 are read-only flags */

/* --- Capability list [PCI 6.7] ------------------------------------------------------------- */
#define PCI_CAP_ID   0x00 /* 8 bits, relative to the capability */
#define PCI_CAP_NEXT 0x01 /* 8 bits; 0 ends the list */
/* Capabilities live in the device-specific area after the 64-byte header; the bottom two bits
 * of every pointer are reserved and must be masked [PCI 6.7]. */
#define PCI_CAP_PTR_MIN  0x40
#define PCI_CAP_PTR_MAX  0xFC
#define PCI_CAP_PTR_MASK 0xFC

/* Capability IDs [PCI Code and ID Assignment Specification 1.11, section 2]. */
#define PCI_CAP_ID_PM    0x01 /* power management */
#define PCI_CAP_ID_AGP   0x02
#define PCI_CAP_ID_VPD   0x03 /* vital product data */
#define PCI_CAP_ID_SLOT  0x04
#define PCI_CAP_ID_MSI   0x05
#define PCI_CAP_ID_HT    0x08 /* HyperTransport */
#define PCI_CAP_ID_VNDR  0x09 /* vendor specific (virtio uses these) */
#define PCI_CAP_ID_DBG   0x0A
#define PCI_CAP_ID_SSVID 0x0D /* bridge subsystem vendor */
#define PCI_CAP_ID_PCIE  0x10
#define PCI_CAP_ID_MSIX  0x11
#define PCI_CAP_ID_SATA  0x12
#define PCI_CAP_ID_AF    0x13 /* advanced features */

/* --- MSI capability [PCI 6.8.1] ------------------------------------------------------------ */
#define PCI_MSI_CTRL         0x02 /* 16 bits: message control */
#define PCI_MSI_CTRL_ENABLE  0x0001
#define PCI_MSI_CTRL_MMC     0x000E /* multiple message capable, log2, bits 3:1 */
#define PCI_MSI_CTRL_MMC_SHIFT 1
#define PCI_MSI_CTRL_MME     0x0070 /* multiple message enable, log2, bits 6:4 */
#define PCI_MSI_CTRL_64BIT   0x0080 /* message address is 64 bits */
#define PCI_MSI_CTRL_MASKBIT 0x0100 /* per-vector masking capable */
#define PCI_MSI_ADDR_LO      0x04   /* 32 bits, dword aligned */
#define PCI_MSI_ADDR_HI      0x08   /* 64-bit capability only */
#define PCI_MSI_DATA_32      0x08   /* 16 bits, 32-bit capability */
#define PCI_MSI_DATA_64      0x0C   /* 16 bits, 64-bit capability */
#define PCI_MSI_MASK_32      0x0C   /* mask bits, with PCI_MSI_CTRL_MASKBIT */
#define PCI_MSI_MASK_64      0x10

/* --- MSI-X capability [PCI 6.8.2; PCIe 7.7.2] ---------------------------------------------- */
#define PCI_MSIX_CTRL         0x02   /* 16 bits: message control */
#define PCI_MSIX_CTRL_QSIZE   0x07FF /* table size - 1 */
#define PCI_MSIX_CTRL_MASKALL 0x4000 /* function mask: all vectors masked */
#define PCI_MSIX_CTRL_ENABLE  0x8000
#define PCI_MSIX_TABLE        0x04   /* 32 bits: BIR (2:0) and offset (31:3) */
#define PCI_MSIX_PBA          0x08   /* 32 bits: BIR (2:0) and offset (31:3) */
#define PCI_MSIX_BIR_MASK     0x00000007u
#define PCI_MSIX_OFFSET_MASK  0xFFFFFFF8u

/* One MSI-X table entry [PCI 6.8.2.6-9]: four dwords, accessed with 32-bit reads and writes. */
struct pci_msix_entry {
	uint32_t addr_lo;     /* message address 31:0 (bits 1:0 are zero) */
	uint32_t addr_hi;     /* message address 63:32 */
	uint32_t data;        /* message data */
	uint32_t vector_ctrl; /* bit 0: masked; other bits reserved, preserved on writes */
};
#define PCI_MSIX_ENTRY_SIZE    16
#define PCI_MSIX_ENTRY_MASKED  0x00000001u
/* The pending bit array: one bit per entry, in 64-bit words [PCI 6.8.2.10]. */
#define PCI_MSIX_PBA_BITS_PER_QWORD 64

_Static_assert(sizeof(struct pci_msix_entry) == PCI_MSIX_ENTRY_SIZE, "MSI-X entry is 16 bytes");

/* --- PCI Express capability [PCIe 7.5.3] --------------------------------------------------- */
#define PCI_EXP_FLAGS            0x02   /* 16 bits: capabilities register */
#define PCI_EXP_FLAGS_TYPE       0x00F0 /* device/port type, bits 7:4 */
#define PCI_EXP_FLAGS_TYPE_SHIFT 4
#define PCI_EXP_TYPE_ENDPOINT    0x0
#define PCI_EXP_TYPE_LEG_END     0x1 /* legacy endpoint */
#define PCI_EXP_TYPE_ROOT_PORT   0x4
#define PCI_EXP_TYPE_UPSTREAM    0x5 /* switch upstream port */
#define PCI_EXP_TYPE_DOWNSTREAM  0x6 /* switch downstream port */
#define PCI_EXP_TYPE_PCIE_PCI    0x7 /* PCIe to PCI/PCI-X bridge */
#define PCI_EXP_TYPE_PCI_PCIE    0x8 /* PCI/PCI-X to PCIe bridge */
#define PCI_EXP_TYPE_RC_END      0x9 /* root complex integrated endpoint */
#define PCI_EXP_TYPE_RC_EC       0xA /* root complex event collector */

/* --- PCI Express extended capabilities [PCIe 7.6.3] ---------------------------------------- */
/* The list starts at 0x100; each header dword holds ID (15:0), version (19:16) and the next
 * offset (31:20, bits 1:0 reserved). A header of 0 means "no extended capabilities". */
#define PCI_EXT_CAP_START       0x100
#define PCI_EXT_CAP_ID(h)       ((uint16_t)((h) & 0xFFFFu))
#define PCI_EXT_CAP_VER(h)      ((uint8_t)(((h) >> 16) & 0xFu))
#define PCI_EXT_CAP_NEXT(h)     ((uint16_t)(((h) >> 20) & 0xFFCu))

#define PCI_EXT_CAP_ID_AER   0x0001 /* advanced error reporting */
#define PCI_EXT_CAP_ID_VC    0x0002 /* virtual channel */
#define PCI_EXT_CAP_ID_DSN   0x0003 /* device serial number */
#define PCI_EXT_CAP_ID_PWR   0x0004 /* power budgeting */
#define PCI_EXT_CAP_ID_VNDR  0x000B
#define PCI_EXT_CAP_ID_ACS   0x000D
#define PCI_EXT_CAP_ID_ARI   0x000E
#define PCI_EXT_CAP_ID_ATS   0x000F
#define PCI_EXT_CAP_ID_SRIOV 0x0010

/* --- Configuration mechanism #1: ports 0xCF8/0xCFC [PCI 3.2.2.3.2] ------------------------ */
#define PCI_CONFIG_ADDRESS    0xCF8
#define PCI_CONFIG_DATA       0xCFC
#define PCI_CONFIG_ENABLE     0x80000000u
#define PCI_CONFIG_BUS_SHIFT  16
#define PCI_CONFIG_DEV_SHIFT  11
#define PCI_CONFIG_FN_SHIFT   8
#define PCI_CONFIG_REG_MASK   0xFCu /* dword-aligned register number */

/* --- Enhanced configuration access (ECAM) [PCIe 7.2.2, table 7-1] ------------------------- */
#define PCI_ECAM_BUS_SHIFT 20
#define PCI_ECAM_DEV_SHIFT 15
#define PCI_ECAM_FN_SHIFT  12
#define PCI_ECAM_BUS_SIZE  (1u << PCI_ECAM_BUS_SHIFT) /* 1 MiB per bus */

/* --- Class codes used for names and bridge detection [PCI Code and ID Assignment 1] -------- */
#define PCI_CLASS_BRIDGE        0x06
#define PCI_SUBCLASS_BRIDGE_HOST 0x00
#define PCI_SUBCLASS_BRIDGE_PCI  0x04

/* Vendor IDs. */
#define PCI_VENDOR_VIRTIO 0x1AF4 /* Red Hat / virtio [virtio 1.1, 4.1.2] */

#endif
