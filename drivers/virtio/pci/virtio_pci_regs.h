/*
 * virtio over PCI: register layouts (VIRTIO 1.2, 4.1 "Virtio Over PCI Bus").
 *
 * Modern devices describe their register blocks with vendor-specific PCI capabilities (4.1.4)
 * that point into memory BARs; legacy devices have one fixed layout in I/O BAR 0 (4.1.4.10).
 * All fields are little-endian; Vireo runs on x86 only, so they are plain integers here.
 */
#ifndef VIREO_VIRTIO_PCI_REGS_H
#define VIREO_VIRTIO_PCI_REGS_H

#include <stddef.h>
#include <stdint.h>

#define VIRTIO_PCI_VENDOR            0x1af4
#define VIRTIO_PCI_DEVICE_LEGACY_MIN 0x1000 /* transitional: type in the subsystem id */
#define VIRTIO_PCI_DEVICE_LEGACY_MAX 0x103f
#define VIRTIO_PCI_DEVICE_MODERN     0x1040 /* + device type */
#define VIRTIO_PCI_DEVICE_MODERN_MAX 0x107f

/* 4.1.4 Virtio Structure PCI Capabilities: cfg_type values. */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

struct virtio_pci_cap {
	uint8_t cap_vndr; /* PCI_CAP_ID_VNDR (0x09) */
	uint8_t cap_next;
	uint8_t cap_len;  /* at least sizeof(struct virtio_pci_cap); may be longer */
	uint8_t cfg_type; /* VIRTIO_PCI_CAP_* */
	uint8_t bar;      /* 0..5; other values reserved: ignore the capability */
	uint8_t id;
	uint8_t padding[2];
	uint32_t offset;  /* within the BAR */
	uint32_t length;
};

/* 4.1.4.4: the notify capability appends the multiplier. */
struct virtio_pci_notify_cap {
	struct virtio_pci_cap cap;
	uint32_t notify_off_multiplier; /* queue i's address: offset + queue_notify_off * this */
};

/* 4.1.4.3 Common configuration structure layout. */
struct virtio_pci_common_cfg {
	/* About the whole device. */
	uint32_t device_feature_select; /* read-write */
	uint32_t device_feature;        /* read-only for driver */
	uint32_t driver_feature_select; /* read-write */
	uint32_t driver_feature;        /* read-write */
	uint16_t config_msix_vector;    /* read-write */
	uint16_t num_queues;            /* read-only for driver */
	uint8_t device_status;          /* read-write */
	uint8_t config_generation;      /* read-only for driver */

	/* About a specific virtqueue (the one queue_select names). */
	uint16_t queue_select;      /* read-write */
	uint16_t queue_size;        /* read-write */
	uint16_t queue_msix_vector; /* read-write */
	uint16_t queue_enable;      /* read-write */
	uint16_t queue_notify_off;  /* read-only for driver */
	uint32_t queue_desc_lo, queue_desc_hi;     /* read-write */
	uint32_t queue_driver_lo, queue_driver_hi; /* read-write: the avail ring */
	uint32_t queue_device_lo, queue_device_hi; /* read-write: the used ring */
};

#define VIRTIO_MSI_NO_VECTOR 0xffff

/* 4.1.4.5 ISR status: read-to-clear. */
#define VIRTIO_ISR_QUEUE  0x1
#define VIRTIO_ISR_CONFIG 0x2

/* 4.1.4.10 Legacy interface: the I/O BAR 0 layout. The device-specific configuration follows
 * the common header at 20, or at 24 when MSI-X is enabled (the two vector registers appear). */
struct virtio_pci_legacy_regs {
	uint32_t host_features;  /* read-only for driver, bits 0..31 */
	uint32_t guest_features; /* read-write */
	uint32_t queue_pfn;      /* read-write: queue address >> 12 */
	uint16_t queue_num;      /* read-only for driver: the size the driver must use */
	uint16_t queue_sel;      /* read-write */
	uint16_t queue_notify;   /* write-only: the queue index */
	uint8_t status;          /* read-write */
	uint8_t isr;             /* read-to-clear */
	/* Only when MSI-X is enabled: */
	uint16_t config_vector;
	uint16_t queue_vector;
};
#define VIRTIO_PCI_LEGACY_CONFIG_OFF      20
#define VIRTIO_PCI_LEGACY_CONFIG_OFF_MSIX 24
#define VIRTIO_PCI_LEGACY_PFN_SHIFT       12

_Static_assert(sizeof(struct virtio_pci_cap) == 16, "4.1.4");
_Static_assert(sizeof(struct virtio_pci_common_cfg) == 56, "4.1.4.3");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_select) == 22, "4.1.4.3");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_desc_lo) == 32, "4.1.4.3");
_Static_assert(offsetof(struct virtio_pci_legacy_regs, status) == 18, "4.1.4.10");
_Static_assert(offsetof(struct virtio_pci_legacy_regs, queue_vector) == 22, "4.1.4.10");

#endif
