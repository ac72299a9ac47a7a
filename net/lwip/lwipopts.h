/*
 * lwIP configuration for Vireo (lwIP 2.1.3, src/include/lwip/opt.h lists every option).
 *
 * NO_SYS: one thread, no OS primitives. lwIP runs only from the main loop (the idle hook in
 * netif_port.c and commands that spin that loop); interrupt handlers never enter it, so no
 * SYS_ARCH_PROTECT locking is needed.
 */
#ifndef VIREO_LWIPOPTS_H
#define VIREO_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_TIMERS 1

/*
 * Memory. lwIP's variable-size heap (PBUF_RAM, TCP segment headers, the copied data of
 * tcp_write) comes from newlib's malloc (MEM_LIBC_MALLOC): the kernel heap is a quarter of RAM,
 * so the stack can burst to a few full windows without carving a fixed arena out of the image,
 * and malloc is only ever called from the main loop, never from an interrupt. The fixed-size
 * objects (PCBs, segments, timeouts) stay in lwIP's static pools (memp): O(1) and accounted for
 * in `net` through lwIP's stats.
 */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 0
#define MEM_ALIGNMENT 8

/* TCP sized for throughput over virtio under TCG: a full 64 KiB-ish window without window
 * scaling (44 * 1460 = 64240 < 65535). */
#define LWIP_TCP 1
#define TCP_MSS 1460
#define TCP_WND (44 * TCP_MSS)
#define TCP_SND_BUF (44 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_SNDLOWAT (TCP_SND_BUF / 2)
#define MEMP_NUM_TCP_SEG 512
#define MEMP_NUM_TCP_PCB 16
#define MEMP_NUM_TCP_PCB_LISTEN 8
#define TCP_QUEUE_OOSEQ 1
/* Out-of-order segments pin driver RX buffers (zero-copy RX): bound how many. */
#define TCP_OOSEQ_MAX_PBUFS 32
#define LWIP_TCP_KEEPALIVE 1

/* PBUF_POOL: only lwIP itself allocates from it here (RX uses custom pbufs over the driver's
 * buffers), e.g. for reassembly and loopback. PBUF_REF/ROM headers for zero-copy TX. */
#define PBUF_POOL_SIZE 64
#define PBUF_POOL_BUFSIZE 1536
#define MEMP_NUM_PBUF 64
#define MEMP_NUM_REASSDATA 8

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define ARP_TABLE_SIZE 16
#define ARP_QUEUEING 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define MEMP_NUM_RAW_PCB 4
#define LWIP_UDP 1
#define MEMP_NUM_UDP_PCB 8
#define LWIP_DHCP 1
/* The ARP probe of an offered address costs seconds under TCG and QEMU's user network never
 * hands out a taken one. */
#define DHCP_DOES_ARP_CHECK 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1

#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_SINGLE_NETIF 0
/* The loopback interface (127.0.0.1) and loopback to our own addresses: the in-kernel self
 * tests run lwIP end to end without a NIC. NO_SYS delivers looped packets from netif_poll_all()
 * in the idle hook. */
#define LWIP_HAVE_LOOPIF 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_LOOPBACK_MAX_PBUFS 0

/* Checksums: per interface at run time (netif->chksum_flags), so a device with
 * NETDEV_F_TX_CSUM/NETDEV_F_RX_CSUM skips the software sums and one without does them. */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1

/* Timeouts: lwIP's internal ones plus a few for the port (DHCP fallback) and the apps. */
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)

/* Counters for `net` (protocol-level; the driver keeps its own in netdev.stats). */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LINK_STATS 1
#define ETHARP_STATS 1
#define IP_STATS 1
#define ICMP_STATS 1
#define UDP_STATS 1
#define TCP_STATS 1
#define MEM_STATS 1
#define MEMP_STATS 1
#define SYS_STATS 0

#define LWIP_DEBUG 0

#endif
