/*
 * virtio-net (VIRTIO 1.2, 5.1 "Network Device"): wire format. The driver presents each card to
 * the network stack as a struct netdev (drivers/net/netdev.h).
 */
#ifndef VIREO_VIRTIO_NET_H
#define VIREO_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

/* 5.1.3 Feature bits. */
#define VIRTIO_NET_F_CSUM           0  /* device completes TX checksums (NEEDS_CSUM) */
#define VIRTIO_NET_F_GUEST_CSUM     1  /* device validates RX checksums (DATA_VALID) */
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU            3
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_NET_F_GSO            6
#define VIRTIO_NET_F_GUEST_TSO4     7
#define VIRTIO_NET_F_GUEST_TSO6     8
#define VIRTIO_NET_F_GUEST_ECN      9
#define VIRTIO_NET_F_GUEST_UFO      10
#define VIRTIO_NET_F_HOST_TSO4      11
#define VIRTIO_NET_F_HOST_TSO6      12
#define VIRTIO_NET_F_HOST_ECN       13
#define VIRTIO_NET_F_HOST_UFO       14
#define VIRTIO_NET_F_MRG_RXBUF      15
#define VIRTIO_NET_F_STATUS         16
#define VIRTIO_NET_F_CTRL_VQ        17
#define VIRTIO_NET_F_CTRL_RX        18
#define VIRTIO_NET_F_CTRL_VLAN      19
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ             22
#define VIRTIO_NET_F_CTRL_MAC_ADDR  23

/* 5.1.4 Device configuration layout (the fields Vireo reads). */
struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status; /* VIRTIO_NET_S_* with F_STATUS */
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));
#define VIRTIO_NET_S_LINK_UP  1
#define VIRTIO_NET_S_ANNOUNCE 2

/* 5.1.6 The header before every packet. num_buffers exists with VERSION_1 or MRG_RXBUF
 * (12 bytes); a legacy device without MRG_RXBUF uses the first 10 bytes only. */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_LEGACY_LEN   10

/* 5.1.6.5 Control virtqueue. */
struct virtio_net_ctrl_hdr {
	uint8_t class;
	uint8_t cmd;
};
#define VIRTIO_NET_CTRL_RX          0
#define VIRTIO_NET_CTRL_RX_PROMISC  0
#define VIRTIO_NET_CTRL_RX_ALLMULTI 1
#define VIRTIO_NET_CTRL_MAC         1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET 0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET  1
#define VIRTIO_NET_OK  0
#define VIRTIO_NET_ERR 1

/* Register the driver with the virtio core. */
int virtio_net_register(void);
#endif
