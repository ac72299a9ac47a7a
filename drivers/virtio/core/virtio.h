/*
 * The virtio device core, as the device drivers see it: one struct virtio_device per device,
 * whatever the transport under it, and the steps every driver goes through (VIRTIO 1.2, 3.1.1
 * "Driver Requirements: Device Initialization"):
 *
 *   reset → ACKNOWLEDGE → DRIVER → read features → write the accepted subset → FEATURES_OK →
 *   re-read status (refused? FAILED) → set up virtqueues → DRIVER_OK
 *
 * A driver's probe calls virtio_negotiate(), reads its config with virtio_cread(), calls
 * virtio_setup_vqs() and then virtio_device_ready(). Where the registers are and how
 * interrupts arrive is the transport's business (virtio_transport.h); nothing here, in the ring
 * or in a driver names one.
 */
#ifndef VIREO_VIRTIO_H
#define VIREO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/core/virtio_config.h"
#include "drivers/virtio/ring/virtqueue.h"

struct virtio_device;
struct virtio_transport_ops;

#define VIRTIO_MAX_VQS 8
#define VIRTIO_DEFAULT_QUEUE_SIZE 256

/* How long one request (a disk read, an entropy fill, a control command) may take before the
 * device is given up on (virtio_abandon): TCG is slow and a loaded host slower, a hung device
 * never answers. */
#define VIRTIO_TIMEOUT_NS 30000000000ull

/* How completions are noticed (command line virtio.mode=, per device type
 * virtio.<type>.mode=):
 *   irq     the device interrupts on every completion the ring asks for;
 *   poll    no interrupts at all: waiters harvest by polling the used ring;
 *   hybrid  irq, except that a waiter for a lone request polls it with the interrupt off for
 *           up to 4x the average time lone requests take (at most 500 us), then turns the
 *           interrupt back on (with the re-check that avoids a lost wake-up) and sleeps. */
enum virtio_mode { VIRTIO_MODE_IRQ, VIRTIO_MODE_POLL, VIRTIO_MODE_HYBRID };

/* How the transport delivers interrupts, once set up for the device's mode. */
enum virtio_irq_kind {
	VIRTIO_IRQ_NONE,      /* poll mode: none */
	VIRTIO_IRQ_PER_QUEUE, /* a vector per queue and one for config changes (MSI-X) */
	VIRTIO_IRQ_SHARED,    /* fewer vectors than queues: queues share one (MSI-X) */
	VIRTIO_IRQ_LINE,      /* one interrupt line; a status register says what happened */
};

/* An on/off option with per-device-type overrides (virtio.packed=1, virtio.blk.packed=0). */
struct virtio_flag_option {
	bool on;                     /* for every device type ... */
	bool by_type[8];             /* ... except where set_by_type[type] */
	bool set_by_type[8];
};

/* Options the kernel reads from its command line (virtio.*) and hands to the core. */
struct virtio_options {
	enum virtio_mode mode;       /* default for every device */
	enum virtio_mode mode_by_type[8]; /* per device type, when mode_set_by_type[type] */
	bool mode_set_by_type[8];
	bool no_indirect;            /* virtio.indirect=0 */
	bool no_event_idx;           /* virtio.event_idx=0 */
	struct virtio_flag_option packed;   /* accept VIRTIO_F_RING_PACKED (virtio.packed=) */
	struct virtio_flag_option in_order; /* accept VIRTIO_F_IN_ORDER (virtio.in_order=) */
};
/* The option's value for a device type. */
bool virtio_flag_option_for(const struct virtio_flag_option *o, uint16_t type);
extern struct virtio_options virtio_options;

struct virtio_vq_info {
	struct virtqueue *vq;
	struct virtio_device *vd; /* back pointer: each virtqueue's priv points here */
	void *priv;               /* the driver's, from virtio_vq_spec.priv */
	uint64_t wait_avg_ns;     /* hybrid: moving average of a lone request's wait */
};

/*
 * One device. A transport embeds it first in its own struct (struct virtio_pci_dev) with the
 * transport's private state, and hands it to the core with virtio_device_add(). Drivers may
 * read every field; only the core writes them.
 */
struct virtio_device {
	char name[16];          /* "vda" once a driver bound, else the transport's location */
	const struct virtio_transport_ops *ops;
	uint16_t device_type;   /* VIRTIO_ID_* */
	const struct virtio_driver *driver;
	void *priv;             /* the driver's */
	enum virtio_mode mode;
	enum virtio_irq_kind irq_kind;
	uint64_t device_features; /* offered */
	uint64_t features;        /* negotiated */
	bool failed;            /* sticky: FAILED was set; vd->error says why */
	char error[120];        /* the last error recorded (virtio_set_error / virtio_fail) */
	struct virtio_vq_info vqs[VIRTIO_MAX_VQS];
	unsigned nvqs;
	uint64_t config_changes; /* config-change notifications delivered */
	/* Recovery (docs/FAILURES.md): resets done and why the last one was, a reset asked for
	 * from interrupt context and not done yet, and the sticky end: dead, never touched
	 * again (the reset did not complete, re-initialisation failed, or too many resets). */
	unsigned resets;
	char reset_reason[96];
	volatile bool reset_pending;
	bool recovering;
	bool dead;
	uint64_t reset_times[3]; /* when the last three resets were (virtio_time_ns) */
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
	/* The device was reset for a recovery (virtio_recover) and no longer touches the queues:
	 * complete every request still in the driver's queues with an error (-EIO) and give back
	 * what the device held, keeping what probe will reuse. probe then runs again on the same
	 * vd (vd->priv still set). Also called when that probe failed, to let go of the queues
	 * it made, which may be none (the driver's queue pointers are then already cleared).
	 * Thread context. A driver without it is not recovered: its device is marked dead
	 * instead. */
	void (*reset_done)(struct virtio_device *vd);
	/* Extra lines for the shell's `virtio` command (optional). */
	void (*describe)(struct virtio_device *vd, int (*out)(const char *fmt, ...));
};

/* Register a driver: devices the transports find bind to it by device type. Returns 0 or
 * -ENOSPC. */
int virtio_register_driver(const struct virtio_driver *drv);

/* ---- for drivers ---- */

/* Reset, ACKNOWLEDGE, DRIVER, negotiate: accept (offered ∩ wanted), plus VERSION_1 when
 * offered, minus what virtio_options turns off; FEATURES_OK and its re-check (modern). On
 * refusal sets FAILED and returns -EIO with vd->error explaining. */
int virtio_negotiate(struct virtio_device *vd, uint64_t wanted);
static inline bool virtio_has_feature(const struct virtio_device *vd, unsigned bit)
{
	return (vd->features >> bit) & 1;
}

/* Copy len bytes of device-specific configuration at off, consistently (the transport's
 * generation rule, 2.5.1 / 4.1.4.3.1). 0, or -EINVAL (out of range), -EIO (torn: the
 * configuration kept changing under the read). */
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

/* Create n virtqueues, wire their interrupts for vd->mode (the transport chooses per queue,
 * shared or one line; none in poll mode) and hand them to the device. Returns 0 or a negative
 * errno with FAILED set (queues already made are torn down). */
int virtio_setup_vqs(struct virtio_device *vd, unsigned n, const struct virtio_vq_spec *specs);
/* DRIVER_OK: the device is live; no notification may be sent before this (3.1.1). */
void virtio_device_ready(struct virtio_device *vd);
/* Record why something about the device went wrong (vd->error), and log it. */
void virtio_set_error(struct virtio_device *vd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* virtio_set_error, and FAILED: the device cannot be used. The caller resets
 * (virtio_teardown) before reusing any buffer the device had. */
void virtio_fail(struct virtio_device *vd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Give up on a live device whose in-flight requests will not be waited for any longer (a
 * timeout, a broken queue): every queue broken (nothing is harvested or added any more), the
 * reason recorded with FAILED, and a reset, after which the device no longer touches the
 * buffers it was given, so their memory may be reused (3.3.1: a driver MUST ensure a
 * virtqueue isn't live, by device reset, before removing exposed buffers). */
void virtio_abandon(struct virtio_device *vd, const char *why);
/* Reset the device, free its interrupts and queues. When the reset does not complete, the
 * queues stay allocated (the device may still use them), the device is dead, and the log
 * says so. */
void virtio_teardown(struct virtio_device *vd);
/* Reset the device and initialise it again (3.1.1), in thread context: every queue broken
 * (nothing more is harvested), reset, the driver's reset_done (every request still queued
 * fails with -EIO), interrupts and queues freed, and the driver's probe once more. Returns 0
 * when the device works again, -EIO when it is dead: the reset did not complete (its memory
 * is leaked), probe failed, the driver cannot be recovered, or this is the fourth reset
 * within a minute. Called for DEVICE_NEEDS_RESET, a broken queue and a request timeout; a
 * recovery that needs a recovery (during probe) ends dead. */
int virtio_recover(struct virtio_device *vd, const char *why);
/* Ask for virtio_recover from any context (an interrupt handler included): the next
 * virtio_maintain does it, and virtio_wait returns -EIO at once meanwhile. */
void virtio_request_reset(struct virtio_device *vd, const char *why);

/* The driver's priv given in virtio_vq_spec, from inside a queue callback. */
static inline void *virtio_vq_priv(struct virtqueue *vq)
{
	return ((struct virtio_vq_info *)vq->priv)->priv;
}
static inline struct virtio_device *virtio_vq_device(struct virtqueue *vq)
{
	return ((struct virtio_vq_info *)vq->priv)->vd;
}

/* Wait until done(arg) is true, harvesting completions on vq as the device's mode says: poll
 * spins on the used ring; irq halts until interrupts complete requests; hybrid polls a lone
 * request for a while that follows its measured latency, then re-enables the interrupt (with
 * the re-check) and halts. Returns 0, or
 * -EIO when the queue broke, -ETIMEDOUT after timeout_ns (0: no limit). */
int virtio_wait(struct virtio_device *vd, struct virtqueue *vq, bool (*done)(void *arg), void *arg,
		uint64_t timeout_ns);
/* Harvest vq now if it has used buffers (calls its callback), with the interrupt handler kept
 * out. Safe in any mode. */
void virtio_vq_service(struct virtio_device *vd, struct virtqueue *vq);
/* For the main loop, in thread context: the recoveries virtio_request_reset asked for, and the
 * configuration changes of poll-mode devices (no interrupt tells them; each one's transport is
 * asked at most every 100 ms). */
void virtio_maintain(void);

/* ---- introspection ---- */
size_t virtio_device_count(void);
struct virtio_device *virtio_device_at(size_t i);
const char *virtio_mode_name(enum virtio_mode m);
/* The ring format queues use with these negotiated features ("split", "packed",
 * "... in-order"). */
const char *virtio_ring_name(uint64_t features);
/* How vd's interrupts are delivered, in the transport's words ("msix", "intx", "none"). */
const char *virtio_irq_name(const struct virtio_device *vd);
/* Where the device is, in the transport's words: "00:03.0" (verbose: "00:03.0 1af4:1001"). */
void virtio_location(const struct virtio_device *vd, bool verbose, char *buf, size_t len);
/* "modern" or "legacy": the transport's interface. */
const char *virtio_transport_name(const struct virtio_device *vd);
const char *virtio_type_name(uint16_t type);
/* Write the names of the given features ("VERSION_1 RING_EVENT_IDX ...") into buf. */
void virtio_feature_string(const struct virtio_device *vd, uint64_t features, char *buf,
			   size_t len);
/* The `virtio` shell command's report. */
void virtio_describe_all(int (*out)(const char *fmt, ...));

#endif
