/*
 * A register-level model of one virtio device for the host tests of the transports and the
 * device core: virtio-pci (modern, transitional or legacy-only) or virtio-mmio (version 2 or
 * the legacy version 1; the register block is virtio_fake_mmio.c, see the end of this comment).
 *
 * The model stands behind `virtio_io` (MMIO into the BAR buffers the PCI fake's map_mmio hands
 * out, port I/O at the legacy I/O BAR's address) and behind the PCI fake's configuration space
 * (vendor capabilities cfg_type 1..5, MSI-X capability and table, BARs, INTx pin). It enforces
 * the driver MUSTs of the VIRTIO 1.2 spec that a register model can see, and records every
 * breach as a "violation" instead of crashing (tests assert there are none):
 *   - reset: nothing but device_status before status reads back 0 after the write of 0;
 *   - status: never clear a bit (except reset), ACKNOWLEDGE before DRIVER before FEATURES_OK
 *     before DRIVER_OK (modern), nothing but status after FAILED;
 *   - features: written after DRIVER and before FEATURES_OK (legacy: before DRIVER_OK), only
 *     offered bits;
 *   - common config: each field at its own width and offset, read-only fields never written
 *     (device_feature, num_queues, config_generation, queue_notify_off), a queue fully
 *     described (size, three addresses, alignment) before queue_enable = 1, never
 *     queue_enable = 0, no queue set-up before FEATURES_OK or after DRIVER_OK;
 *   - notify: only after DRIVER_OK, only for an enabled queue, at the queue's own address
 *     (offset + queue_notify_off * multiplier), 16 bits, the value being the queue index;
 *   - device config: in the window, naturally aligned;
 *   - legacy: the 0.9.5 I/O layout, config at 20 or 24 depending on MSI-X being enabled (read
 *     from the PCI configuration space, as a device would see it), read-only registers.
 * Like a device it processes the split rings from guest memory by the spec's layout (not the
 * driver's structs): it fills device-writable buffers with a deterministic byte stream, writes
 * used elements, honours NO_INTERRUPT / used_event, and raises interrupts: MSI-X through the
 * programmed table entry (vector = message data) to the handler registered with
 * virtio_irq_alloc, or INTx (ISR bit 0, then every handler attached to the line). Interrupts
 * are delivered when the driver idles (virtio_idle), as a CPU would take them.
 *
 * As a virtio-mmio device (VFD_MMIO, VFD_MMIO_LEGACY; vfd_build_mmio) the model is a
 * VFD_MMIO_SIZE-byte register block at vfd.mmio and enforces 4.2.2.2, 4.2.3 and 4.2.4:
 *   - magic, version and device id are read first, in that order; after device id 0 nothing
 *     else is touched;
 *   - control registers only as aligned 32-bit accesses, read-only ones never written,
 *     write-only ones never read, version-1-only and version-2-only registers only on their
 *     version;
 *   - DeviceFeaturesSel written before DeviceFeatures is read, DriverFeaturesSel before
 *     DriverFeatures is written;
 *   - queue set-up between FEATURES_OK (legacy: DRIVER) and DRIVER_OK, after QueueReady
 *     (legacy: QueuePFN) was read for that queue, QueueNum a power of two <= QueueNumMax, the
 *     addresses before QueueReady = 1 and nothing of the queue touched while it is ready;
 *     legacy: GuestPageSize before any queue register, QueueAlign before QueuePFN;
 *   - QueueNotify after DRIVER_OK, for a queue that is set up;
 *   - InterruptACK with exactly bits InterruptStatus shows;
 *   - device config at 0x100 naturally aligned, each read within the window.
 * Its interrupt line (vfd.mmio_line) follows InterruptStatus != 0, as QEMU's does. When the
 * driver idles, a level-triggered line calls the handlers attached with
 * virtio_irq_line_attach for as long as it stays high; an edge-triggered one calls them once
 * for each rising edge, latched even while a handler runs (as an IOAPIC does). A raised line
 * with a status no handler claims is a violation.
 *
 * This file also provides the platform hooks of drivers/virtio/ring/ring_port.h for the tests
 * (DMA memory = heap memory, virt == phys; a fake clock; an interrupt vector table).
 */
#ifndef VIREO_TESTS_VIRTIO_FAKE_DEV_H
#define VIREO_TESTS_VIRTIO_FAKE_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/host/pci_fake.h"

#define VFD_MAX_Q 8
#define VFD_NO_VECTOR 0xffff

/* Where the model lives (what SeaBIOS would assign on q35). */
#define VFD_BUS 0
#define VFD_DEV 3
#define VFD_IO_BASE 0xc000
#define VFD_BAR1_PHYS 0xfebd1000ull /* MSI-X table at +0, PBA at +0x800 */
#define VFD_BAR1_SIZE 0x1000
#define VFD_BAR4_PHYS 0xfe000000ull /* the modern register blocks */
#define VFD_BAR4_SIZE 0x4000
#define VFD_COMMON_OFF 0x0000
#define VFD_ISR_OFF    0x1000
#define VFD_DEVCFG_OFF 0x2000
#define VFD_NOTIFY_OFF 0x3000
#define VFD_IRQ_LINE   11

/* Configuration-space offsets of the capabilities vfd_build writes. Extra capabilities (see
 * vfd.extra) are chained first, at VFD_CAP_EXTRA0 + 0x18 * i. */
#define VFD_CAP_MSIX   0x40
#define VFD_CAP_COMMON 0x4c
#define VFD_CAP_NOTIFY 0x5c
#define VFD_CAP_ISR    0x70
#define VFD_CAP_DEVICE 0x80
#define VFD_CAP_PCICFG 0x90
#define VFD_CAP_EXTRA0 0xa4
#define VFD_MAX_EXTRA  4

enum vfd_kind {
	VFD_TRANSITIONAL, /* legacy id 0x10xx, I/O BAR 0 and modern capabilities */
	VFD_MODERN,       /* id 0x1040 + type, capabilities only */
	VFD_LEGACY,       /* legacy id, I/O BAR 0 only (QEMU disable-modern=on) */
	VFD_MMIO,         /* virtio-mmio version 2 */
	VFD_MMIO_LEGACY,  /* virtio-mmio version 1 (QEMU force-legacy=on) */
};

#define VFD_MMIO_SIZE 0x200 /* QEMU's microvm windows */
#define VFD_MMIO_PHYS 0xfeb00000ull
#define VFD_MMIO_LINE 5

/* A raw virtio vendor capability (malformed ones included). */
struct vfd_cap {
	uint8_t cap_len, cfg_type, bar;
	uint32_t offset, length;
	uint32_t mult; /* written at +16 when cap_len >= 20 */
};

struct vfd_queue {
	/* modern registers */
	uint16_t size, vector, enable;
	uint64_t desc, driver, device;
	unsigned written; /* bit 0..5: desc lo/hi, driver lo/hi, device lo/hi since reset */
	/* legacy */
	uint32_t pfn;
	/* virtio-mmio */
	uint32_t align;     /* QueueAlign (version 1) */
	bool checked;       /* QueueReady / QueuePFN read since the reset */
	/* device side */
	uint16_t last_avail, used_idx;
	unsigned notifies;
	unsigned requests; /* chains completed */
	unsigned irqs;     /* interrupts raised for this queue */
};

struct vfd {
	/* ---- configuration (set before vfd_build) ---- */
	enum vfd_kind kind;
	uint16_t type;           /* VIRTIO_ID_* (or any 1..63) */
	uint64_t features;       /* offered */
	uint16_t num_queues;
	uint16_t queue_max[VFD_MAX_Q];
	uint16_t notify_off[VFD_MAX_Q];
	uint32_t notify_mult;
	uint16_t msix_entries;   /* 0: no MSI-X capability */
	uint8_t irq_pin;         /* 0: none */
	uint8_t devcfg[64];
	uint32_t devcfg_len;     /* 0: no device config capability */
	uint8_t initial_status;  /* what firmware left */
	unsigned reset_delay;    /* status reads that still show the old value after a reset */
	bool reset_never;        /* ... forever */
	bool refuse_features_ok;
	uint32_t mmio_num_max;   /* mmio: QueueNumMax reads this (when not 0) instead of
				    queue_max[], e.g. more than the 32768 a split ring may have */
	uint32_t queue_stuck;    /* mmio, bit q: queue q's QueueReady (v2) or QueuePFN (v1) reads
				    non-zero even after the reset, as if still in use */
	uint32_t refuse_vectors; /* bit n: MSI-X entry n is refused (reads back NO_VECTOR) */
	bool refuse_all_vectors;
	unsigned gen_bumps;      /* device-config reads during which the config changes */
	uint32_t max_fill;       /* bytes the device writes per chain (0: all it is offered) */
	bool fill_none;          /* ... or none at all: every used length 0 */
	uint8_t omit_caps;       /* bit cfg_type: leave that standard capability out */
	struct vfd_cap extra[VFD_MAX_EXTRA]; /* chained before the standard ones */
	unsigned nextra;
	/* A device-specific layer (e.g. virtio_fake_net.c): when set, called instead of the
	 * built-in processing (fill every writable buffer) whenever queue q is processed (notify,
	 * vfd_process). It walks the ring with vfd_ring() and q[q].last_avail, writes used
	 * elements at q[q].used_idx and ends with vfd_used_flush(). Set after vfd_init. */
	void (*queue_hook)(struct vfd *m, unsigned q);
	void *hook_ctx;
	/* virtio-mmio: what the identification registers read (vfd_init: the right values) and
	 * how the interrupt line is wired. */
	uint32_t mmio_magic, mmio_version, mmio_device_id;
	uint32_t mmio_line;
	bool mmio_level;

	/* ---- state ---- */
	struct fake_pci *pci;
	struct fake_fn *fn;
	uint8_t *bar1, *bar4;
	uint8_t status, old_status;
	bool reset_complete;     /* status read back 0 after the last write of 0 */
	unsigned reset_reads_left;
	bool failed;
	uint32_t dfsel, gfsel;
	uint64_t gfeat;
	uint16_t qsel, config_vector;
	uint8_t isr, generation;
	struct vfd_queue q[VFD_MAX_Q];
	uint32_t pending;        /* queue interrupts not yet delivered; bit 31: config */
	/* virtio-mmio: the register block, InterruptStatus is `isr` */
	uint8_t *mmio;
	unsigned mmio_ident;     /* bit 0, 1, 2: magic, version, device id read */
	bool dfsel_set, gfsel_set;
	uint32_t guest_page_size;
	bool line_up;            /* the interrupt line's level: InterruptStatus != 0 */
	bool edge_latched;       /* a rising edge the CPU has not taken yet */
	uint8_t *live_desc[VFD_MAX_Q]; /* rings the device may use: set live, cleared when a
				       * reset completes (status reads 0) */

	/* ---- records ---- */
	char trace[32768];       /* "name=val" writes, "name?val" reads, space separated */
	size_t trace_len;
	bool trace_full;
	char violations[4096];
	unsigned nviolations;
	unsigned accesses;       /* every register access */
	unsigned status_writes, isr_reads, gen_reads, devcfg_reads, driver_ok_writes;
	unsigned msix_irqs, intx_irqs, masked_irqs;
	unsigned line_irqs, acks; /* virtio-mmio: handler calls, InterruptACK writes */
	uint32_t notify_offsets[64]; /* BAR offsets of notify writes, in order */
	unsigned nnotify;
	uint8_t produced[8192];  /* the byte stream written into buffers, in order */
	size_t nproduced;
	uint32_t rng_state;
};

/* Defaults: `kind` device of `type` with one queue of 64, notify multiplier 4, 2 MSI-X entries,
 * INTA, firmware status 0x0f, reset delay 2, VERSION_1 (not legacy), INDIRECT, EVENT_IDX. */
void vfd_init(struct vfd *m, enum vfd_kind kind, uint16_t type);
/* fake_reset(f, 4096), host bridge at 00:00.0 and the device at 00:03.0; makes m the model
 * behind virtio_io. */
void vfd_build(struct vfd *m, struct fake_pci *f);
/* For the VFD_MMIO kinds: the register block (m->mmio) and nothing else; makes m the model
 * behind virtio_reg_read/write. *w gets the window as firmware would describe it (phys
 * VFD_MMIO_PHYS, base m->mmio, line m->mmio_line). */
struct virtio_mmio_window;
void vfd_build_mmio(struct vfd *m, struct virtio_mmio_window *w);

/* Records. */
void vfd_trace_clear(struct vfd *m);
bool vfd_has_violation(const struct vfd *m, const char *needle);
/* Process queue q's avail ring now (as after a notify) / raise a config change. */
void vfd_process(struct vfd *m, unsigned q);
void vfd_config_change(struct vfd *m);
/* For a queue_hook: where queue q's split ring lives now (false: not set up), as the device
 * finds it (legacy PFN layout or the three modern addresses). */
struct vfd_ring {
	uint8_t *desc, *avail, *used;
	uint16_t num;
};
bool vfd_ring(struct vfd *m, unsigned q, struct vfd_ring *r);
/* For a queue_hook: publish used->idx = q[q].used_idx, write avail_event (EVENT_IDX) and raise
 * the queue's interrupt when the ring asks for one (old_used: used idx before this batch). */
void vfd_used_flush(struct vfd *m, unsigned q, uint16_t old_used);
/* For a queue_hook: the chains of a split ring, as a device walks them. */
struct vfd_seg {
	uint8_t *addr;
	uint32_t len;
	bool write;
};
/* Chains available on queue q and not yet taken (fills *r; 0 when the queue is not set up or
 * avail idx runs ahead by more than the ring, which is a violation). */
unsigned vfd_pending(struct vfd *m, unsigned q, struct vfd_ring *r);
/* The head of the k-th pending chain. */
uint16_t vfd_head_at(const struct vfd *m, unsigned q, const struct vfd_ring *r, unsigned k);
/* The chain from head, indirect tables followed (2.7.5.3): its segments (at most max), and
 * in *ring_descs the ring descriptors it uses. Returns the segment count, or -1 after
 * recording a violation (index out of range, a loop, a bad indirect descriptor, a readable
 * segment after a writable one, more than max segments). */
int vfd_walk(struct vfd *m, const struct vfd_ring *r, uint16_t head, struct vfd_seg *segs,
	     unsigned max, unsigned *ring_descs);
/* Write used element {head, len} at q[q].used_idx and take the chain (last_avail, requests). */
void vfd_push_used(struct vfd *m, unsigned q, const struct vfd_ring *r, uint16_t head,
		   uint32_t len);
/* Record a spec breach seen by a device-specific layer. */
void vfd_violation(struct vfd *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Deliver pending interrupts (virtio_idle does this). */
void vfd_deliver(struct vfd *m);
/* Where the device would find its device-specific config in the legacy I/O BAR now. */
unsigned vfd_legacy_cfg_off(const struct vfd *m);
bool vfd_msix_enabled(const struct vfd *m);
bool vfd_intx_disabled(const struct vfd *m);
/* MSI-X table entry n as the PCI layer programmed it. */
void vfd_msix_entry(const struct vfd *m, unsigned n, uint64_t *addr, uint32_t *data,
		    uint32_t *ctrl);

/* ---- the platform hooks' test side ---- */
#define VFD_IRQ_CPU 3 /* virtio_irq_cpu(): MSI-X messages must target APIC id 3 */
#define VFD_FIRST_VECTOR 0x30
struct vfd_irq {
	void (*fn)(void *ctx);
	void *ctx;
	unsigned fired;
};
extern struct vfd_irq vfd_irqs[256];
/* What virtio_irq_line_attach registered. */
#define VFD_MAX_LINES 8
struct vfd_line {
	uint32_t line;
	bool level, active_low;
	bool (*fn)(void *ctx);
	void *ctx;
};
extern struct vfd_line vfd_lines[VFD_MAX_LINES];
extern unsigned vfd_nlines;
extern unsigned vfd_irq_allocs, vfd_irq_frees, vfd_idle_calls, vfd_wake_calls;
extern int vfd_irq_alloc_fail_after; /* >0: that many allocations succeed, then -ENOSPC */
extern uint64_t vfd_time_step_ns;    /* each virtio_time_ns call advances the clock this much */
extern long vfd_dma_outstanding;
extern bool vfd_dma_high;            /* DMA memory above 16 TiB (legacy PFNs do not fit) */
/* The `virtio` report (virtio_describe_all), captured. */
const char *vfd_describe(void);
/* All virtio_log output since vfd_build. */
const char *vfd_log(void);
bool vfd_log_has(const char *needle);

#endif
