/*
 * virtio over MMIO: the register layout (VIRTIO 1.2, 4.2.2 "MMIO Device Register Layout", and
 * 4.2.4 "Legacy interface" for version 1). Every control register is 32 bits wide and must be
 * accessed as such (4.2.2.2); the device-specific configuration starts at 0x100.
 * Little-endian; Vireo runs on x86 only, so the fields are plain integers here.
 */
#ifndef VIREO_VIRTIO_MMIO_REGS_H
#define VIREO_VIRTIO_MMIO_REGS_H

#include <stddef.h>
#include <stdint.h>

#define VIRTIO_MMIO_MAGIC      0x74726976 /* "virt" */
#define VIRTIO_MMIO_VERSION_LEGACY 1
#define VIRTIO_MMIO_VERSION_MODERN 2
#define VIRTIO_MMIO_CONFIG     0x100      /* device-specific configuration */

/* InterruptStatus / InterruptACK bits (4.2.2). */
#define VIRTIO_MMIO_INT_VRING  0x1 /* a used buffer in some queue */
#define VIRTIO_MMIO_INT_CONFIG 0x2 /* the configuration changed */

/* R: the driver only reads it; W: only writes it; RW: both. Version 1 names in brackets. */
struct virtio_mmio_regs {
	uint32_t magic_value;         /* 0x000 R  */
	uint32_t version;             /* 0x004 R  1 legacy, 2 modern */
	uint32_t device_id;           /* 0x008 R  0: no device here */
	uint32_t vendor_id;           /* 0x00c R  */
	uint32_t device_features;     /* 0x010 R  [HostFeatures] the bank DeviceFeaturesSel names */
	uint32_t device_features_sel; /* 0x014 W  [HostFeaturesSel] */
	uint32_t reserved0[2];
	uint32_t driver_features;     /* 0x020 W  [GuestFeatures] */
	uint32_t driver_features_sel; /* 0x024 W  [GuestFeaturesSel] */
	uint32_t guest_page_size;     /* 0x028 W  version 1 only: the PFN unit */
	uint32_t reserved1;
	uint32_t queue_sel;           /* 0x030 W  */
	uint32_t queue_num_max;       /* 0x034 R  0: no such queue */
	uint32_t queue_num;           /* 0x038 W  */
	uint32_t queue_align;         /* 0x03c W  version 1 only: the used ring's alignment */
	uint32_t queue_pfn;           /* 0x040 RW version 1 only: ring address / guest_page_size */
	uint32_t queue_ready;         /* 0x044 RW version 2 only */
	uint32_t reserved2[2];
	uint32_t queue_notify;        /* 0x050 W  the queue index */
	uint32_t reserved3[3];
	uint32_t interrupt_status;    /* 0x060 R  VIRTIO_MMIO_INT_* */
	uint32_t interrupt_ack;       /* 0x064 W  the bits handled */
	uint32_t reserved4[2];
	uint32_t status;              /* 0x070 RW device status (2.1) */
	uint32_t reserved5[3];
	uint32_t queue_desc_low;      /* 0x080 W  version 2: descriptor table */
	uint32_t queue_desc_high;     /* 0x084 W  */
	uint32_t reserved6[2];
	uint32_t queue_driver_low;    /* 0x090 W  version 2: available ring */
	uint32_t queue_driver_high;   /* 0x094 W  */
	uint32_t reserved7[2];
	uint32_t queue_device_low;    /* 0x0a0 W  version 2: used ring */
	uint32_t queue_device_high;   /* 0x0a4 W  */
	uint32_t reserved8[21];
	uint32_t config_generation;   /* 0x0fc R  version 2 */
};

_Static_assert(offsetof(struct virtio_mmio_regs, device_features_sel) == 0x014, "4.2.2");
_Static_assert(offsetof(struct virtio_mmio_regs, guest_page_size) == 0x028, "4.2.4");
_Static_assert(offsetof(struct virtio_mmio_regs, queue_ready) == 0x044, "4.2.2");
_Static_assert(offsetof(struct virtio_mmio_regs, queue_notify) == 0x050, "4.2.2");
_Static_assert(offsetof(struct virtio_mmio_regs, interrupt_status) == 0x060, "4.2.2");
_Static_assert(offsetof(struct virtio_mmio_regs, status) == 0x070, "4.2.2");
_Static_assert(offsetof(struct virtio_mmio_regs, queue_device_high) == 0x0a4, "4.2.2");
_Static_assert(offsetof(struct virtio_mmio_regs, config_generation) == 0x0fc, "4.2.2");
_Static_assert(sizeof(struct virtio_mmio_regs) == VIRTIO_MMIO_CONFIG, "4.2.2");

#endif
