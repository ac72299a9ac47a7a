/* virtio-pci internals shared by the device core and the two transports. */
#ifndef VIREO_VIRTIO_PCI_H
#define VIREO_VIRTIO_PCI_H

#include "drivers/virtio/virtio.h"

extern const struct virtio_transport_ops virtio_pci_modern_ops;
extern const struct virtio_transport_ops virtio_pci_legacy_ops;

/* Find and map the modern capabilities; 0 or -ENODEV with vd->error set. */
int virtio_pci_modern_init(struct virtio_device *vd);
/* Use I/O BAR 0; 0 or -ENODEV with vd->error set. */
int virtio_pci_legacy_init(struct virtio_device *vd);

/* Both transports' msix_changed: remember whether MSI-X is enabled (legacy: it moves the
 * device configuration from offset 20 to 24). */
void virtio_pci_msix_changed(struct virtio_device *vd, bool on);

/* Wire the interrupts of vd's queues (already created, not yet activated) for vd->mode and
 * activate the queues. Falls back from MSI-X per queue to shared MSI-X to INTx when the
 * device refuses a vector. 0 or a negative errno. */
int virtio_pci_setup_irqs(struct virtio_device *vd);
/* Release what virtio_pci_setup_irqs took. */
void virtio_pci_free_irqs(struct virtio_device *vd);

/* The interrupt work for the queues on one MSI-X entry / INTx, by mode (virtio.c). */
void virtio_service_vq_irq(struct virtio_device *vd, struct virtqueue *vq);
void virtio_service_config_irq(struct virtio_device *vd);

#endif
