/*
 * What a transport is, to the virtio device core: an ops table, private state in a struct of
 * its own that embeds struct virtio_device first, and the few core functions it may call.
 *
 * A transport finds devices its own way (PCI enumeration, a list of MMIO windows), fills in
 * its struct and calls virtio_device_add(); the core picks the mode, finds the driver for the
 * device type and runs its probe, which reaches the device only through these ops. Adding a
 * transport means adding its files: nothing in the core, the ring or the drivers changes.
 *
 * Spec references: 2.1 (status), 2.2 (feature bits), 2.5 (device configuration), 3.1
 * (initialization), and each transport's own section (4.1 PCI, 4.2 MMIO).
 */
#ifndef VIREO_VIRTIO_TRANSPORT_H
#define VIREO_VIRTIO_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/core/virtio.h"

struct virtio_transport_ops {
	/* The interface: "modern" (VIRTIO 1.x) or "legacy" (0.9.5). Shown by the logs. */
	const char *name;
	/* The legacy interface: 32 feature bits (one bank), no FEATURES_OK step, the driver uses
	 * the device's queue sizes, and rings in the legacy layout (2.7.2). */
	bool legacy;

	/* Reset (2.1.2: write 0, then wait until the device reads back 0). 0, or -ETIMEDOUT
	 * when the device never finishes. virtio_status_reset() does it with get/set_status. */
	int (*reset)(struct virtio_device *vd);
	uint8_t (*get_status)(struct virtio_device *vd);
	void (*set_status)(struct virtio_device *vd, uint8_t status);
	/* Feature bits in 32-bit banks: bank 0 is bits 0..31, bank 1 bits 32..63. A legacy
	 * interface has bank 0 only. */
	uint32_t (*get_features)(struct virtio_device *vd, unsigned bank);
	void (*set_features)(struct virtio_device *vd, unsigned bank, uint32_t bits);
	/* Copy len bytes of device-specific configuration from off, consistently: with a
	 * generation counter, repeat until it reads the same before and after. 0, -EINVAL (out of
	 * range) or -EIO (it never settled). */
	int (*read_config)(struct virtio_device *vd, unsigned off, void *buf, unsigned len);

	/* Largest size of queue idx, 0 when there is no such queue or it cannot be used (then
	 * the transport may have said why, with virtio_set_error). */
	uint16_t (*queue_max)(struct virtio_device *vd, unsigned idx);
	/* Tell the device about vq (size, ring addresses) and enable it; its interrupt is already
	 * routed. 0, or -EINVAL when the device cannot take it (the transport may say why, with
	 * virtio_set_error, naming the queue). */
	int (*queue_activate)(struct virtio_device *vd, unsigned idx, struct virtqueue *vq);
	/* Notify the device that queue idx has new buffers (the doorbell). Any context. */
	void (*notify)(struct virtio_device *vd, unsigned idx);

	/* Route interrupts for vd->mode before the queues are activated: none in poll mode, else
	 * the best the device and the platform allow (per queue, shared, one line). Sets
	 * vd->irq_kind; calls virtio_service_vq_irq / virtio_service_config_irq from its handlers.
	 * 0, or a negative errno with vd->error set. */
	int (*setup_irqs)(struct virtio_device *vd);
	/* Undo setup_irqs; safe after a partial or failed setup_irqs. */
	void (*free_irqs)(struct virtio_device *vd);
	/* Poll mode: has the configuration changed since the last call (reading clears it)? */
	bool (*config_pending)(struct virtio_device *vd);

	/* Where the device is, for logs: "00:03.0" (verbose: "00:03.0 1af4:1001"). */
	void (*location)(const struct virtio_device *vd, bool verbose, char *buf, size_t len);
	/* How interrupts arrive, for logs: "msix", "intx", "none"... */
	const char *(*irq_name)(const struct virtio_device *vd);
	/* Where queue's interrupts go, for logs (optional): "msix1/50", verbose "msix 1 -> 50". */
	void (*describe_queue)(const struct virtio_device *vd, unsigned queue, bool verbose,
			       char *buf, size_t len);
	/* Transport lines for the `virtio` command (optional; may print nothing). */
	void (*describe)(const struct virtio_device *vd, int (*out)(const char *fmt, ...));
};

/* Hand a device the transport found (ops, device_type and name set) to the core: it is listed
 * from now on, and bound to the driver for its type, whose probe runs before this returns.
 * Returns 0, or -ENOSPC when the device table is full. A failed probe is not an error here:
 * the device stays listed with its reason. */
int virtio_device_add(struct virtio_device *vd);

/* List a device the transport found but cannot drive (no usable register interface): the
 * `virtio` command shows it with "no usable transport: why"; no driver binds. Its ops need
 * only name ("none"), location and irq_name. Returns 0 or -ENOSPC. */
int virtio_device_add_unusable(struct virtio_device *vd, const char *why);

/* The transport's reset op, done with its status register: write 0, wait for 0 (1 s). */
int virtio_status_reset(struct virtio_device *vd);

/* From a transport's interrupt handler (interrupt context): queue vq has used buffers, or the
 * configuration changed. */
void virtio_service_vq_irq(struct virtio_device *vd, struct virtqueue *vq);
void virtio_service_config_irq(struct virtio_device *vd);

#endif
