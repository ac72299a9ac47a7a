/*
 * virtio over PCI: finding the devices (4.1.2 "PCI Device Discovery"), choosing a transport, and
 * wiring interrupts (4.1.5.1.2 "MSI-X Vector Configuration", 4.1.4.5 "ISR status").
 */
#include "drivers/virtio/virtio_pci.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio_pci_regs.h"
#include "drivers/virtio/virtio_platform.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Defined in virtio.c: the device table and driver lookup. */
struct virtio_device *virtio_device_new(void);
const struct virtio_driver *virtio_driver_for(uint16_t type);
int virtio_bind(struct virtio_device *vd);

/* ---- interrupt handlers ---- */

/* One per MSI-X entry in use: the queues routed to it and maybe the config change. */
struct msix_ctx {
	struct virtio_device *vd;
	uint16_t entry;
};
#define MAX_MSIX_CTX 64
static struct msix_ctx msix_ctx[MAX_MSIX_CTX];
static unsigned nmsix_ctx;

static void msix_handler(void *arg)
{
	struct msix_ctx *c = arg;
	struct virtio_device *vd = c->vd;
	bool config = vd->config_msix_entry == c->entry, queues = false;
	for (unsigned i = 0; i < vd->nvqs; i++)
		queues |= vd->vqs[i].msix_entry == c->entry;
	/* One entry for config changes and queues (the single-vector layout): the ISR's config
	 * bit, which the device sets for every config change even with MSI-X (4.1.4.5), tells a
	 * config change from a completion. Otherwise every completion would look like one. */
	if (config && queues)
		config = vd->ops->read_isr(vd) & VIRTIO_ISR_CONFIG;
	for (unsigned i = 0; i < vd->nvqs; i++)
		if (vd->vqs[i].msix_entry == c->entry)
			virtio_service_vq_irq(vd, vd->vqs[i].vq);
	if (config)
		virtio_service_config_irq(vd);
}

/* INTx: the line may be shared (level triggered), so the ISR says whether it was us. Reading
 * it also de-asserts the line (4.1.4.5.1), which must happen before the EOI. */
static bool intx_handler(void *arg)
{
	struct virtio_device *vd = arg;
	uint8_t isr = vd->ops->read_isr(vd);
	if (!isr) {
		vd->intx_spurious++;
		return false;
	}
	vd->intx_interrupts++;
	if (isr & VIRTIO_ISR_QUEUE)
		for (unsigned i = 0; i < vd->nvqs; i++)
			virtio_service_vq_irq(vd, vd->vqs[i].vq);
	if (isr & VIRTIO_ISR_CONFIG)
		virtio_service_config_irq(vd);
	return true;
}

/* ---- interrupt wiring ---- */

void virtio_pci_msix_changed(struct virtio_device *vd, bool on)
{
	vd->msix_on = on;
}

static void msix_detach_all(struct virtio_device *vd);

/* Point MSI-X entry `entry` at a fresh CPU vector running msix_handler. */
static int msix_entry_attach(struct virtio_device *vd, uint16_t entry, int *cpu_vector)
{
	/* Reuse a slot a torn-down device gave back, else take a new one. */
	struct msix_ctx *c = NULL;
	for (unsigned i = 0; i < nmsix_ctx && !c; i++)
		if (!msix_ctx[i].vd)
			c = &msix_ctx[i];
	if (!c && nmsix_ctx == MAX_MSIX_CTX)
		return -ENOSPC;
	bool fresh = !c;
	if (fresh)
		c = &msix_ctx[nmsix_ctx];
	*c = (struct msix_ctx){vd, entry};
	int v = virtio_irq_alloc(msix_handler, c);
	if (v < 0)
		return v;
	int err = pci_msix_set_vector(vd->pci, entry, (uint8_t)v, virtio_irq_cpu());
	if (!err)
		err = pci_msix_unmask(vd->pci, entry);
	if (err) {
		virtio_irq_free(v, msix_handler, c);
		c->vd = NULL;
		return err;
	}
	if (fresh)
		nmsix_ctx++;
	*cpu_vector = v;
	return 0;
}

/* Try one MSI-X layout: config on entry 0 and queues on `first_queue_entry` (+ i when
 * per_queue). Only routes and reads back; nothing is activated yet. */
static int msix_try(struct virtio_device *vd, bool per_queue, uint16_t first_queue_entry)
{
	int err = vd->ops->set_config_vector(vd, 0);
	if (err)
		return err;
	vd->config_msix_entry = 0;
	for (unsigned i = 0; i < vd->nvqs; i++) {
		uint16_t e = (uint16_t)(per_queue ? first_queue_entry + i : first_queue_entry);
		if ((err = vd->ops->queue_set_vector(vd, i, e)))
			return err;
		vd->vqs[i].msix_entry = e;
	}
	return 0;
}

static int setup_msix(struct virtio_device *vd)
{
	struct pci_dev *d = vd->pci;
	unsigned have = d->msix.size;
	int err = pci_msix_enable(d);
	if (err)
		return err;
	vd->ops->msix_changed(vd, true);

	/* Best first: a vector per queue plus one for config; then config + one shared by all
	 * queues; then a single vector for everything. A refused write falls to the next. */
	static const struct {
		bool per_queue;
		uint16_t qentry;
		enum virtio_irq_kind kind;
	} layouts[] = {{true, 1, VIRTIO_IRQ_MSIX}, {false, 1, VIRTIO_IRQ_MSIX_SHARED},
		       {false, 0, VIRTIO_IRQ_MSIX_SHARED}};
	for (unsigned l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++) {
		unsigned need = layouts[l].per_queue ? vd->nvqs + 1 : layouts[l].qentry + 1u;
		if (need > have)
			continue;
		if (msix_try(vd, layouts[l].per_queue, layouts[l].qentry) == 0) {
			vd->irq_kind = layouts[l].kind;
			break;
		}
		virtio_log("%s: device refused MSI-X layout %u, trying fewer vectors\n", vd->name, l);
	}
	if (vd->irq_kind == VIRTIO_IRQ_NONE) {
		err = -EIO;
		goto undo_layout;
	}
	/* Attach a CPU vector to each distinct entry now in use. */
	if ((err = msix_entry_attach(vd, 0, &vd->config_cpu_vector)))
		goto undo_vectors;
	for (unsigned i = 0; i < vd->nvqs; i++) {
		uint16_t e = vd->vqs[i].msix_entry;
		if (e == 0) {
			vd->vqs[i].cpu_vector = vd->config_cpu_vector;
			continue;
		}
		if (i > 0 && vd->vqs[i - 1].msix_entry == e) {
			vd->vqs[i].cpu_vector = vd->vqs[i - 1].cpu_vector;
			continue;
		}
		if ((err = msix_entry_attach(vd, e, &vd->vqs[i].cpu_vector)))
			goto undo_vectors;
	}
	return 0;

undo_vectors:
	/* Out of CPU vectors: give back those attached, so the caller can fall back to INTx
	 * with MSI-X really off (an enabled MSI-X keeps the function from using INTx). */
	virtio_log("%s: no CPU vector for MSI-X (%d), falling back\n", vd->name, err);
	msix_detach_all(vd);
	vd->irq_kind = VIRTIO_IRQ_NONE;
undo_layout:
	/* No vectors on the device side, MSI-X off so INTx can be used. */
	vd->ops->set_config_vector(vd, VIRTIO_MSI_NO_VECTOR);
	for (unsigned i = 0; i < vd->nvqs; i++) {
		vd->ops->queue_set_vector(vd, i, VIRTIO_MSI_NO_VECTOR);
		vd->vqs[i].msix_entry = VIRTIO_MSI_NO_VECTOR;
		vd->vqs[i].cpu_vector = -1;
	}
	vd->config_msix_entry = VIRTIO_MSI_NO_VECTOR;
	vd->config_cpu_vector = -1;
	pci_msix_disable(d);
	vd->ops->msix_changed(vd, false);
	return err;
}

int virtio_pci_setup_irqs(struct virtio_device *vd)
{
	struct pci_dev *d = vd->pci;
	int err;
	vd->irq_kind = VIRTIO_IRQ_NONE;
	vd->config_msix_entry = VIRTIO_MSI_NO_VECTOR;
	vd->config_cpu_vector = -1;
	for (unsigned i = 0; i < vd->nvqs; i++) {
		vd->vqs[i].msix_entry = VIRTIO_MSI_NO_VECTOR;
		vd->vqs[i].cpu_vector = -1;
	}

	if (vd->mode == VIRTIO_MODE_POLL) {
		/* No interrupts at all: INTx off in the command register, MSI-X left disabled,
		 * and the rings ask for none. */
		pci_intx_enable(d, false);
		for (unsigned i = 0; i < vd->nvqs; i++)
			virtqueue_disable_cb(vd->vqs[i].vq);
	} else if (d->msix.cap && d->msix.usable && !virtio_options.no_msix &&
		   setup_msix(vd) == 0) {
		pci_intx_enable(d, false);
	} else {
		if (d->irq_pin == 0) {
			snprintf(vd->error, sizeof(vd->error),
				 "no MSI-X and no INTx pin: cannot interrupt (use virtio.mode=poll)");
			return -ENODEV;
		}
		if ((err = pci_intx_attach(d, intx_handler, vd)))
			return err;
		pci_intx_enable(d, true);
		vd->irq_kind = VIRTIO_IRQ_INTX;
	}

	for (unsigned i = 0; i < vd->nvqs; i++) {
		if ((err = vd->ops->queue_activate(vd, i, vd->vqs[i].vq))) {
			snprintf(vd->error, sizeof(vd->error), "queue %u: the device refused it (%d)",
				 i, err);
			return err;
		}
	}
	return 0;
}

/* Free the CPU vectors attached to vd's MSI-X entries. */
static void msix_detach_all(struct virtio_device *vd)
{
	for (unsigned i = 0; i < nmsix_ctx; i++) {
		struct msix_ctx *c = &msix_ctx[i];
		if (c->vd != vd)
			continue;
		int v = c->entry == vd->config_msix_entry ? vd->config_cpu_vector : -1;
		for (unsigned q = 0; q < vd->nvqs && v < 0; q++)
			if (vd->vqs[q].msix_entry == c->entry)
				v = vd->vqs[q].cpu_vector;
		if (v >= 0)
			virtio_irq_free(v, msix_handler, c);
		c->vd = NULL;
	}
}

void virtio_pci_free_irqs(struct virtio_device *vd)
{
	msix_detach_all(vd);
	if (vd->irq_kind == VIRTIO_IRQ_MSIX || vd->irq_kind == VIRTIO_IRQ_MSIX_SHARED)
		pci_msix_disable(vd->pci);
	if (vd->irq_kind == VIRTIO_IRQ_INTX)
		pci_intx_enable(vd->pci, false); /* the handler stays attached, but quiet */
	vd->irq_kind = VIRTIO_IRQ_NONE;
}

/* ---- discovery ---- */

static int virtio_pci_probe(struct pci_dev *d, const struct pci_device_id *id)
{
	(void)id;
	if (d->device < VIRTIO_PCI_DEVICE_LEGACY_MIN || d->device > VIRTIO_PCI_DEVICE_MODERN_MAX)
		return -ENODEV; /* 4.1.2.1: other Red Hat/Qumranet ids are not virtio */
	/* 4.1.2: modern ids carry the type; transitional ones keep it in the subsystem id. */
	uint16_t type = d->device >= VIRTIO_PCI_DEVICE_MODERN
				? (uint16_t)(d->device - VIRTIO_PCI_DEVICE_MODERN)
				: d->subsys_id;

	struct virtio_device *vd = virtio_device_new();
	if (!vd)
		return -ENOSPC;
	vd->pci = d;
	vd->device_type = type;
	snprintf(vd->name, sizeof(vd->name), "virtio@%02x:%02x.%x", d->bus, d->dev, d->fn);
	d->driver_data = vd;

	int err = pci_enable_device(d);
	if (err) {
		snprintf(vd->error, sizeof(vd->error), "cannot enable the PCI function (%d)", err);
		virtio_log("%s: %s\n", vd->name, vd->error);
		return 0; /* listed by `virtio` with its error, bound so nothing else claims it */
	}
	pci_set_master(d, true);

	/* Transitional devices (legacy ids, I/O BAR 0 and modern capabilities) use the modern
	 * transport unless virtio.transport=legacy; legacy-only devices have no capabilities. */
	bool legacy_ok = d->device < VIRTIO_PCI_DEVICE_MODERN && d->bar[0].type == PCI_BAR_IO;
	bool modern_ok = !(virtio_options.force_legacy && legacy_ok) &&
			 virtio_pci_modern_init(vd) == 0;
	if (!modern_ok) {
		char why[sizeof(vd->error)];
		memcpy(why, vd->error, sizeof(why));
		vd->common = vd->notify_base = vd->isr = vd->device_cfg = NULL;
		if (!legacy_ok || virtio_pci_legacy_init(vd) != 0) {
			/* The prefix is 21 bytes: bound the reason so the whole fits. */
			snprintf(vd->error, sizeof(vd->error), "no usable transport: %.98s",
				 why[0] ? why : "no legacy I/O BAR");
			virtio_log("%s: %s\n", vd->name, vd->error);
			return 0;
		}
		vd->error[0] = 0;
	}
	return virtio_bind(vd);
}

static const struct pci_device_id virtio_pci_ids[] = {
	PCI_DEVICE(VIRTIO_PCI_VENDOR, PCI_ANY_ID),
	{0},
};

static const struct pci_driver virtio_pci_driver = {
	.name = "virtio-pci",
	.ids = virtio_pci_ids,
	.probe = virtio_pci_probe,
};

int virtio_pci_register(void)
{
	return pci_register_driver(&virtio_pci_driver);
}
