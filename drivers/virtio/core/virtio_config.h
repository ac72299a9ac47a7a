/*
 * Device-independent virtio constants (VIRTIO 1.2: 2.1 "Device Status Field", 2.2 "Feature
 * Bits", 6 "Reserved Feature Bits", 5 "Device Types").
 */
#ifndef VIREO_VIRTIO_CONFIG_H
#define VIREO_VIRTIO_CONFIG_H

/* Device status (2.1). The driver only ever sets bits, in this order, or writes 0 to reset. */
#define VIRTIO_STATUS_ACKNOWLEDGE        1
#define VIRTIO_STATUS_DRIVER             2
#define VIRTIO_STATUS_DRIVER_OK          4
#define VIRTIO_STATUS_FEATURES_OK        8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED             128

/* Reserved (device-independent) feature bits (6). */
#define VIRTIO_F_NOTIFY_ON_EMPTY    24 /* legacy only */
#define VIRTIO_F_ANY_LAYOUT         27 /* legacy only */
/* VIRTIO_RING_F_INDIRECT_DESC 28 and VIRTIO_RING_F_EVENT_IDX 29 are in ring/virtio_ring.h */
#define VIRTIO_F_BAD_FEATURE        30 /* legacy devices offer it; a driver must never accept it */
#define VIRTIO_F_VERSION_1          32
#define VIRTIO_F_ACCESS_PLATFORM    33
#define VIRTIO_F_RING_PACKED        34
#define VIRTIO_F_IN_ORDER           35
#define VIRTIO_F_ORDER_PLATFORM     36
#define VIRTIO_F_SR_IOV             37
#define VIRTIO_F_NOTIFICATION_DATA  38
#define VIRTIO_F_NOTIF_CONFIG_DATA  39
#define VIRTIO_F_RING_RESET         40

/* Device types (5). */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4

#define VIRTIO_BIT(b) (1ull << (b))

#endif
