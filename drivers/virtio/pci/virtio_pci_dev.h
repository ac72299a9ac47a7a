/*
 * virtio-pci's own state and the interface between its files: discovery (virtio_pci.c), the
 * modern and legacy register interfaces (virtio_pci_modern.c, virtio_pci_legacy.c), interrupt
 * wiring (virtio_pci_irq.c) and the logs' view (virtio_pci_describe.c). Nothing outside pci/
 * includes this but the host tests.
 */
#ifndef VIREO_VIRTIO_PCI_PRIV_H
#define VIREO_VIRTIO_PCI_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/core/virtio_transport.h"

struct pci_dev;
struct virtio_pci_dev;

/* Per queue: where its interrupt goes and where its doorbell is. */
struct virtio_pci_queue {
	uint16_t msix_entry; /* VIRTIO_MSI_NO_VECTOR when none */
	int cpu_vector;      /* -1 when none */
	uint16_t notify_off; /* modern: queue_notify_off */
};

/* The registers interrupt wiring needs, which the two interfaces keep in different places. */
struct virtio_pci_irq_regs {
	/* Read (and so clear) the ISR status (4.1.4.5). */
	uint8_t (*read_isr)(struct virtio_pci_dev *pd);
	/* Route queue idx's / config changes' interrupts to MSI-X entry (or
	 * VIRTIO_MSI_NO_VECTOR). 0, or -EIO when the device refused it (reads back something
	 * else, 4.1.5.1.2). */
	int (*queue_set_vector)(struct virtio_pci_dev *pd, unsigned idx, uint16_t msix_entry);
	int (*set_config_vector)(struct virtio_pci_dev *pd, uint16_t msix_entry);
};

struct virtio_pci_dev {
	struct virtio_device vd; /* first: the core's view (to_vpci undoes it) */
	struct pci_dev *pci;
	const struct virtio_pci_irq_regs *irq_regs;
	/* Modern interface: the capability windows, mapped. */
	volatile uint8_t *common, *isr, *device_cfg, *notify_base;
	uint32_t device_cfg_len, notify_len, notify_mult;
	/* Legacy interface: I/O BAR 0. */
	uint16_t io_base, io_len;
	bool msix_on; /* MSI-X enabled (legacy: moves the device config from 20 to 24) */
	bool no_msix; /* virtio.msix=0 when it was found: INTx even with MSI-X there */

	struct virtio_pci_queue q[VIRTIO_MAX_VQS];
	uint16_t config_msix_entry;
	int config_cpu_vector;
	uint64_t intx_interrupts, intx_spurious;
};

static inline struct virtio_pci_dev *to_vpci(const struct virtio_device *vd)
{
	return (struct virtio_pci_dev *)((const char *)vd - offsetof(struct virtio_pci_dev, vd));
}

/* Find and map the modern capabilities and set pd's ops; 0, or -ENODEV with the reason in why
 * (len bytes). */
int virtio_pci_modern_init(struct virtio_pci_dev *pd, char *why, size_t len);
/* Use I/O BAR 0 and set pd's ops; 0, or -ENODEV with the reason in why. */
int virtio_pci_legacy_init(struct virtio_pci_dev *pd, char *why, size_t len);

/* The ops both interfaces share (virtio_pci_irq.c, virtio_pci_describe.c). */
int virtio_pci_setup_irqs(struct virtio_device *vd);
void virtio_pci_free_irqs(struct virtio_device *vd);
bool virtio_pci_config_pending(struct virtio_device *vd);
void virtio_pci_location(const struct virtio_device *vd, bool verbose, char *buf, size_t len);
const char *virtio_pci_irq_name(const struct virtio_device *vd);
void virtio_pci_describe_queue(const struct virtio_device *vd, unsigned q, bool verbose, char *buf,
			       size_t len);
void virtio_pci_describe(const struct virtio_device *vd, int (*out)(const char *fmt, ...));

/* Both interfaces' ops tables use these for the shared entries. */
#define VIRTIO_PCI_COMMON_OPS                                                                     \
	.reset = virtio_status_reset, .setup_irqs = virtio_pci_setup_irqs,                        \
	.free_irqs = virtio_pci_free_irqs, .config_pending = virtio_pci_config_pending,           \
	.location = virtio_pci_location, .irq_name = virtio_pci_irq_name,                         \
	.describe_queue = virtio_pci_describe_queue, .describe = virtio_pci_describe

#endif
