/*
 * The virtio device core: one struct virtio_device per device, whatever the transport, and the
 * steps every driver goes through (VIRTIO 1.2, 3.1.1 "Driver Requirements: Device
 * Initialization"):
 *
 *   reset → ACKNOWLEDGE → DRIVER → read features → write the accepted subset → FEATURES_OK →
 *   re-read status (refused? FAILED) → set up virtqueues → DRIVER_OK
 *
 * A driver's probe calls virtio_negotiate(), reads its config with virtio_cread*(), calls
 * virtio_setup_vqs() and then virtio_device_ready(). The transports (virtio_pci_modern.c,
 * virtio_pci_legacy.c) hide where the registers are; interrupts (MSI-X per queue, MSI-X shared,
 * INTx, or none) are wired by the core according to the device's interrupt mode.
 */
#ifndef VIREO_VIRTIO_H
#define VIREO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/virtio_config.h"
#include "drivers/virtio/virtqueue.h"

struct pci_dev;
struct virtio_device;

#define VIRTIO_MAX_VQS 8

/* How completions are noticed (command line virtio.mode=, per device type
 * virtio.<type>.mode=):
 *   irq     the device interrupts on every completion the ring asks for;
 *   poll    no interrupts at all: waiters harvest by polling the used ring;
 *   hybrid  an interrupt wakes a waiter, which then polls until the ring is empty and only
 *           then re-enables the interrupt (with the re-check that avoids a lost wake-up). */
enum virtio_mode { VIRTIO_MODE_IRQ, VIRTIO_MODE_POLL, VIRTIO_MODE_HYBRID };

enum virtio_irq_kind {
	VIRTIO_IRQ_NONE,       /* poll mode */
	VIRTIO_IRQ_MSIX,       /* one MSI-X vector per queue, one for config changes */
	VIRTIO_IRQ_MSIX_SHARED, /* fewer vectors than queues: queues share one */
	VIRTIO_IRQ_INTX,       /* the PCI INTx line; the ISR register tells what happened */
};

/* Options the kernel reads from its command line (virtio.*) and hands to the core. */
struct virtio_options {
	enum virtio_mode mode;       /* default for every device */
	enum virtio_mode mode_by_type[8]; /* per device type, when mode_set_by_type[type] */
	bool mode_set_by_type[8];
	bool force_legacy;           /* virtio.transport=legacy: transitional devices use legacy */
	bool no_indirect;            /* virtio.indirect=0 */
	bool no_event_idx;           /* virtio.event_idx=0 */
	bool no_msix;                /* virtio.msix=0: use INTx even when MSI-X is there */
};
extern struct virtio_options virtio_options;

struct virtio_transport_ops {
	const char *name; /* "modern" or "legacy" */
	enum virtqueue_layout layout;
	uint8_t (*get_status)(struct virtio_device *vd);
	void (*set_status)(struct virtio_device *vd, uint8_t status);
	uint64_t (*get_features)(struct virtio_device *vd);
	void (*set_features)(struct virtio_device *vd, uint64_t features);
	/* Copy len bytes of device-specific configuration from off, consistently (modern: the
	 * config_generation loop of 4.1.4.3.1). Returns 0, or -EINVAL when out of range. */
	int (*read_config)(struct virtio_device *vd, unsigned off, void *buf, unsigned len);
	/* Largest size of queue idx, 0 when there is no such queue. */
	uint16_t (*queue_max)(struct virtio_device *vd, unsigned idx);
	/* Route queue idx's interrupts to MSI-X entry (or VIRTIO_MSI_NO_VECTOR). Returns 0, or
	 * -EIO when the device refused it (reads back something else, 4.1.5.1.2). */
	int (*queue_set_vector)(struct virtio_device *vd, unsigned idx, uint16_t msix_entry);
	/* Tell the device about vq (size, addresses) and enable it. Returns 0, or -EINVAL when
	 * it cannot take this queue. */
	int (*queue_activate)(struct virtio_device *vd, unsigned idx, struct virtqueue *vq);
	/* Config-change MSI-X entry; same read-back rule. */
	int (*set_config_vector)(struct virtio_device *vd, uint16_t msix_entry);
	void (*notify)(struct virtio_device *vd, unsigned idx);
	/* Read (and so clear) the ISR status. */
	uint8_t (*read_isr)(struct virtio_device *vd);
	/* Tell the transport whether MSI-X is on (legacy: moves the device config to 24). */
	void (*msix_changed)(struct virtio_device *vd, bool on);
};

struct virtio_vq_info {
	struct virtqueue *vq;
	struct virtio_device *vd; /* back pointer: each virtqueue's priv points here */
	void *priv;               /* the driver's, from virtio_vq_spec.priv */
	uint16_t msix_entry; /* VIRTIO_MSI_NO_VECTOR when none */
	int cpu_vector;      /* -1 when none */
	uint16_t notify_off; /* modern: queue_notify_off */
};

struct virtio_device {
	char name[16];   /* "virtio-blk0" once a driver bound, else "virtio@bb:dd.f" */
	struct pci_dev *pci;
	const struct virtio_transport_ops *ops;
	uint16_t device_type;   /* VIRTIO_ID_* */
	const struct virtio_driver *driver;
	void *priv;             /* the driver's */
	enum virtio_mode mode;
	enum virtio_irq_kind irq_kind;
	uint64_t device_features; /* offered */
	uint64_t features;        /* negotiated */
	bool failed;
	char error[120];

	/* Modern transport: the capability windows, mapped. */
	volatile uint8_t *common, *isr, *device_cfg, *notify_base;
	uint32_t device_cfg_len, notify_len, notify_mult;
	/* Legacy transport. */
	uint16_t io_base, io_len;
	bool msix_on;

	struct virtio_vq_info vqs[VIRTIO_MAX_VQS];
	unsigned nvqs;
	uint16_t config_msix_entry;
	int config_cpu_vector;
	uint64_t config_changes; /* config-change notifications delivered */
	uint64_t intx_interrupts, intx_spurious;
};

/* A feature that may only be accepted together with another (6.1: "accept only with their
 * prerequisites"). Arrays end with {0, 0}. */
struct virtio_feature_dep {
	uint8_t feature, requires;
};

struct virtio_driver {
	const char *name;          /* "virtio-blk" */
	uint16_t device_type;      /* VIRTIO_ID_* */
	/* Device-specific feature names by bit (0..23), NULL for unnamed; used by the logs and
	 * the shell's `virtio` command. */
	const char *const *feature_names;
	/* Device-specific prerequisites, enforced by virtio_negotiate (optional). */
	const struct virtio_feature_dep *feature_deps;
	/* Set up the device (virtio_negotiate, config, virtio_setup_vqs, virtio_device_ready).
	 * Returns 0 or a negative errno; on failure the core resets the device. */
	int (*probe)(struct virtio_device *vd);
	/* A config-change interrupt (or poll) arrived. Interrupt context: keep it short. */
	void (*config_changed)(struct virtio_device *vd);
	/* Extra lines for the shell's `virtio` command (optional). */
	void (*describe)(struct virtio_device *vd, int (*out)(const char *fmt, ...));
};

/* Register a driver; virtio devices found by the PCI probe bind to it by device type. */
int virtio_register_driver(const struct virtio_driver *drv);
/* Register the virtio-pci PCI driver (call once before pci_probe_all). */
int virtio_pci_register(void);

/* ---- for drivers ---- */

/* Reset, ACKNOWLEDGE, DRIVER, negotiate: accept (offered ∩ wanted), plus VERSION_1 when
 * offered, minus what virtio_options turns off; FEATURES_OK and its re-check (modern). On
 * refusal sets FAILED and returns -EIO with vd->error explaining. */
int virtio_negotiate(struct virtio_device *vd, uint64_t wanted);
static inline bool virtio_has_feature(const struct virtio_device *vd, unsigned bit)
{
	return (vd->features >> bit) & 1;
}

/* Device-specific configuration, read through the transport. */
int virtio_config_read(struct virtio_device *vd, unsigned off, void *buf, unsigned len);
#define virtio_cread(vd, type, field, ptr)                                                        \
	virtio_config_read((vd), offsetof(type, field), (ptr), sizeof(((type *)0)->field))

struct virtio_vq_spec {
	const char *name;
	unsigned size; /* 0: the device's maximum (capped at VIRTIO_DEFAULT_QUEUE_SIZE) */
	void (*callback)(struct virtqueue *vq); /* harvest completions; see virtio_wait */
	void *priv;
	unsigned indirect_max; /* 0: the core's default */
};
#define VIRTIO_DEFAULT_QUEUE_SIZE 256

/* Create n virtqueues and wire their interrupts for vd->mode: MSI-X one per queue, else
 * shared, else INTx; none in poll mode. A refused MSI-X entry falls back (shared, then INTx).
 * Returns 0 or a negative errno (queues already made are torn down). */
int virtio_setup_vqs(struct virtio_device *vd, unsigned n, const struct virtio_vq_spec *specs);
/* DRIVER_OK: the device is live; no notification may be sent before this (3.1.1). */
void virtio_device_ready(struct virtio_device *vd);
/* Record why the device cannot be used and set FAILED. The caller resets (virtio_teardown)
 * before reusing any buffer the device had. */
void virtio_fail(struct virtio_device *vd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Give up on a live device whose in-flight requests will not be waited for any longer (a
 * timeout, a broken queue): every queue broken (nothing is harvested or added any more), the
 * reason recorded with FAILED, and a reset, after which the device no longer touches the
 * buffers it was given, so their memory may be reused (3.3.1: a driver MUST ensure a
 * virtqueue isn't live, by device reset, before removing exposed buffers). */
void virtio_abandon(struct virtio_device *vd, const char *why);
/* Reset the device, free interrupts, return in-flight tokens through detach, free queues. */
void virtio_teardown(struct virtio_device *vd);

/* The driver's priv given in virtio_vq_spec, from inside a queue callback. */
static inline void *virtio_vq_priv(struct virtqueue *vq)
{
	return ((struct virtio_vq_info *)vq->priv)->priv;
}
static inline struct virtio_device *virtio_vq_device(struct virtqueue *vq)
{
	return ((struct virtio_vq_info *)vq->priv)->vd;
}

/* Kick a queue through the transport (used as each virtqueue's notify callback). */
void virtio_notify_vq(struct virtqueue *vq);

/* Wait until done(arg) is true, harvesting completions on vq as the device's mode says: poll
 * spins on the used ring; irq halts until interrupts complete requests; hybrid polls for a
 * short while, then re-enables the interrupt (with the re-check) and halts. Returns 0, or
 * -EIO when the queue broke, -ETIMEDOUT after timeout_ns (0: no limit). */
int virtio_wait(struct virtio_device *vd, struct virtqueue *vq, bool (*done)(void *arg), void *arg,
		uint64_t timeout_ns);
/* For the main loop: notice configuration changes of poll-mode devices (no interrupt tells
 * them); reads each one's ISR at most every 100 ms. */
void virtio_poll_config(void);
/* Harvest vq now if it has used buffers (calls its callback). Safe in any mode. */
void virtio_vq_service(struct virtio_device *vd, struct virtqueue *vq);

/* ---- introspection ---- */
size_t virtio_device_count(void);
struct virtio_device *virtio_device_at(size_t i);
struct virtio_device *virtio_find(const char *name);
const char *virtio_mode_name(enum virtio_mode m);
const char *virtio_irq_kind_name(enum virtio_irq_kind k);
const char *virtio_type_name(uint16_t type);
/* Write the names of the negotiated features ("VERSION_1 RING_EVENT_IDX ...") into buf. */
void virtio_feature_string(const struct virtio_device *vd, uint64_t features, char *buf,
			   size_t len);
/* The `virtio` shell command's report. */
void virtio_describe_all(int (*out)(const char *fmt, ...));

#endif
