/*
 * Between the two halves of the device model: virtio_fake_dev.c (the device, its rings, the
 * virtio-pci interfaces, the platform hooks) and virtio_fake_mmio.c (the virtio-mmio register
 * block). Not for the tests themselves: they use virtio_fake_dev.h.
 */
#ifndef VIREO_TESTS_VIRTIO_FAKE_INTERNAL_H
#define VIREO_TESTS_VIRTIO_FAKE_INTERNAL_H

#include "tests/host/virtio_fake_dev.h"

/* Spec constants, written out here rather than taken from the code under test. */
#define ST_ACK 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4
#define ST_FEATURES_OK 8
#define ST_FAILED 128
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define F_VERSION_1 (1ull << 32)

/* A "name=val" (write) or "name?val" (read) entry in m->trace. */
void vfd_trace(struct vfd *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The device status register, shared by every interface (legacy: no FEATURES_OK). */
uint8_t vfd_status_read(struct vfd *m);
void vfd_status_write(struct vfd *m, uint8_t v, bool legacy);
/* The rules for any access but the status register: after the reset completed, not after
 * FAILED. */
void vfd_check_live(struct vfd *m, const char *what);
/* Queue qi was just made live (enabled, or its PFN written): remember where its ring is, so
 * virtio_dma_free can tell the ring memory of a queue not yet reset from other memory. */
void vfd_queue_live(struct vfd *m, unsigned qi);
/* The driver's feature bank `sel` := v, with the ordering rules of 3.1.1. */
void vfd_features_write(struct vfd *m, uint32_t sel, uint32_t v, bool legacy);
/* A read of the device-specific configuration at off (len bytes exist). */
uint32_t vfd_devcfg_read(struct vfd *m, uint32_t off, int width, uint32_t len);
/* One 32-bit half of a 64-bit address register. */
void vfd_set_half(uint64_t *a, bool hi, uint32_t v);

/* virtio_fake_mmio.c: the register block behind virtio_reg_read/write for the VFD_MMIO kinds;
 * the device setting InterruptStatus bits (1: used buffer, 2: config change); the CPU taking
 * the line's interrupt (from virtio_idle); what a reset clears. */
bool vfd_is_mmio(const struct vfd *m);
uint32_t vfd_mmio_read(struct vfd *m, uint32_t off, int width);
void vfd_mmio_write(struct vfd *m, uint32_t off, int width, uint32_t v);
void vfd_mmio_raise(struct vfd *m, uint32_t bits);
void vfd_mmio_deliver(struct vfd *m);
void vfd_mmio_reset(struct vfd *m);

#endif
