/*
 * virtio-pci interrupts (4.1.5.1.2 "MSI-X Vector Configuration", 4.1.4.5 "ISR status"): MSI-X
 * with a vector per queue, else fewer vectors shared, else the INTx line; none in poll mode.
 */
#include "drivers/pci/pci.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/virtio/pci/virtio_pci_dev.h"
#include "drivers/virtio/pci/virtio_pci_regs.h"

#include <errno.h>

/* ---- interrupt handlers ---- */

/* One per MSI-X entry in use: the queues routed to it and maybe the config change. */
struct msix_ctx {
	struct virtio_pci_dev *pd;
	uint16_t entry;
};
#define MAX_MSIX_CTX 64
static struct msix_ctx msix_ctx[MAX_MSIX_CTX];
static unsigned nmsix_ctx;

static void msix_handler(void *arg)
{
	struct msix_ctx *c = arg;
	struct virtio_pci_dev *pd = c->pd;
	struct virtio_device *vd = &pd->vd;
	bool config = pd->config_msix_entry == c->entry, queues = false;
	for (unsigned i = 0; i < vd->nvqs; i++)
		queues |= pd->q[i].msix_entry == c->entry;
	/* One entry for config changes and queues (the single-vector layout): the ISR's config
	 * bit, which the device sets for every config change even with MSI-X (4.1.4.5), tells a
	 * config change from a completion. Otherwise every completion would look like one. */
	if (config && queues)
		config = pd->irq_regs->read_isr(pd) & VIRTIO_ISR_CONFIG;
	for (unsigned i = 0; i < vd->nvqs; i++)
		if (pd->q[i].msix_entry == c->entry)
			virtio_service_vq_irq(vd, vd->vqs[i].vq);
	if (config)
		virtio_service_config_irq(vd);
}

/* INTx: the line may be shared (level triggered), so the ISR says whether it was us. Reading
 * it also de-asserts the line (4.1.4.5.1), which must happen before the EOI. */
static bool intx_handler(void *arg)
{
	struct virtio_pci_dev *pd = arg;
	struct virtio_device *vd = &pd->vd;
	uint8_t isr = pd->irq_regs->read_isr(pd);
	if (!isr) {
		pd->intx_spurious++;
		return false;
	}
	pd->intx_interrupts++;
	if (isr & VIRTIO_ISR_QUEUE)
		for (unsigned i = 0; i < vd->nvqs; i++)
			virtio_service_vq_irq(vd, vd->vqs[i].vq);
	if (isr & VIRTIO_ISR_CONFIG)
		virtio_service_config_irq(vd);
	return true;
}

/* ---- MSI-X wiring ---- */

/* Point MSI-X entry `entry` at a fresh CPU vector running msix_handler. */
static int msix_entry_attach(struct virtio_pci_dev *pd, uint16_t entry, int *cpu_vector)
{
	/* Reuse a slot a torn-down device gave back, else take a new one. */
	struct msix_ctx *c = NULL;
	for (unsigned i = 0; i < nmsix_ctx && !c; i++)
		if (!msix_ctx[i].pd)
			c = &msix_ctx[i];
	if (!c && nmsix_ctx == MAX_MSIX_CTX)
		return -ENOSPC;
	bool fresh = !c;
	if (fresh)
		c = &msix_ctx[nmsix_ctx];
	*c = (struct msix_ctx){pd, entry};
	int v = virtio_irq_alloc(msix_handler, c);
	if (v < 0) {
		c->pd = NULL;
		return v;
	}
	int err = pci_msix_set_vector(pd->pci, entry, (uint8_t)v, virtio_irq_cpu());
	if (!err)
		err = pci_msix_unmask(pd->pci, entry);
	if (err) {
		virtio_irq_free(v, msix_handler, c);
		c->pd = NULL;
		return err;
	}
	if (fresh)
		nmsix_ctx++;
	*cpu_vector = v;
	return 0;
}

/* Free the CPU vectors attached to pd's MSI-X entries. */
static void msix_detach_all(struct virtio_pci_dev *pd)
{
	for (unsigned i = 0; i < nmsix_ctx; i++) {
		struct msix_ctx *c = &msix_ctx[i];
		if (c->pd != pd)
			continue;
		int v = c->entry == pd->config_msix_entry ? pd->config_cpu_vector : -1;
		for (unsigned q = 0; q < pd->vd.nvqs && v < 0; q++)
			if (pd->q[q].msix_entry == c->entry)
				v = pd->q[q].cpu_vector;
		if (v >= 0)
			virtio_irq_free(v, msix_handler, c);
		c->pd = NULL;
	}
}

/* Try one MSI-X layout: config on entry 0 and queues on `first_queue_entry` (+ i when
 * per_queue). Only routes and reads back; nothing is activated yet. */
static int msix_try(struct virtio_pci_dev *pd, bool per_queue, uint16_t first_queue_entry)
{
	int err = pd->irq_regs->set_config_vector(pd, 0);
	if (err)
		return err;
	pd->config_msix_entry = 0;
	for (unsigned i = 0; i < pd->vd.nvqs; i++) {
		uint16_t e = (uint16_t)(per_queue ? first_queue_entry + i : first_queue_entry);
		if ((err = pd->irq_regs->queue_set_vector(pd, i, e)))
			return err;
		pd->q[i].msix_entry = e;
	}
	return 0;
}

static void no_vectors(struct virtio_pci_dev *pd)
{
	pd->config_msix_entry = VIRTIO_MSI_NO_VECTOR;
	pd->config_cpu_vector = -1;
	for (unsigned i = 0; i < VIRTIO_MAX_VQS; i++) {
		pd->q[i].msix_entry = VIRTIO_MSI_NO_VECTOR;
		pd->q[i].cpu_vector = -1;
	}
}

static int setup_msix(struct virtio_pci_dev *pd)
{
	struct virtio_device *vd = &pd->vd;
	struct pci_dev *d = pd->pci;
	unsigned have = d->msix.size;
	int err = pci_msix_enable(d);
	if (err)
		return err;
	pd->msix_on = true; /* legacy: the device config moves to offset 24 */

	/* Best first: a vector per queue plus one for config; then config + one shared by all
	 * queues; then a single vector for everything. A refused write falls to the next. */
	static const struct {
		bool per_queue;
		uint16_t qentry;
		enum virtio_irq_kind kind;
	} layouts[] = {{true, 1, VIRTIO_IRQ_PER_QUEUE}, {false, 1, VIRTIO_IRQ_SHARED},
		       {false, 0, VIRTIO_IRQ_SHARED}};
	for (unsigned l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++) {
		unsigned need = layouts[l].per_queue ? vd->nvqs + 1 : layouts[l].qentry + 1u;
		if (need > have)
			continue;
		if (msix_try(pd, layouts[l].per_queue, layouts[l].qentry) == 0) {
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
	if ((err = msix_entry_attach(pd, 0, &pd->config_cpu_vector)))
		goto undo_vectors;
	for (unsigned i = 0; i < vd->nvqs; i++) {
		uint16_t e = pd->q[i].msix_entry;
		if (e == 0) {
			pd->q[i].cpu_vector = pd->config_cpu_vector;
			continue;
		}
		if (i > 0 && pd->q[i - 1].msix_entry == e) {
			pd->q[i].cpu_vector = pd->q[i - 1].cpu_vector;
			continue;
		}
		if ((err = msix_entry_attach(pd, e, &pd->q[i].cpu_vector)))
			goto undo_vectors;
	}
	return 0;

undo_vectors:
	/* Out of CPU vectors: give back those attached, so the caller can fall back to INTx
	 * with MSI-X really off (an enabled MSI-X keeps the function from using INTx). */
	virtio_log("%s: no CPU vector for MSI-X (%d), falling back\n", vd->name, err);
	msix_detach_all(pd);
	vd->irq_kind = VIRTIO_IRQ_NONE;
undo_layout:
	/* No vectors on the device side, MSI-X off so INTx can be used. */
	pd->irq_regs->set_config_vector(pd, VIRTIO_MSI_NO_VECTOR);
	for (unsigned i = 0; i < vd->nvqs; i++)
		pd->irq_regs->queue_set_vector(pd, i, VIRTIO_MSI_NO_VECTOR);
	no_vectors(pd);
	pci_msix_disable(d);
	pd->msix_on = false;
	return err;
}

/* ---- the transport's ops ---- */

int virtio_pci_setup_irqs(struct virtio_device *vd)
{
	struct virtio_pci_dev *pd = to_vpci(vd);
	struct pci_dev *d = pd->pci;
	int err;
	vd->irq_kind = VIRTIO_IRQ_NONE;
	no_vectors(pd);

	if (vd->mode == VIRTIO_MODE_POLL) {
		/* No interrupts at all: INTx off in the command register, MSI-X left disabled. */
		pci_intx_enable(d, false);
		return 0;
	}
	if (d->msix.cap && d->msix.usable && !pd->no_msix && setup_msix(pd) == 0) {
		pci_intx_enable(d, false);
		return 0;
	}
	if (d->irq_pin == 0) {
		virtio_set_error(vd, "no MSI-X and no INTx pin: cannot interrupt (use virtio.mode=poll)");
		return -ENODEV;
	}
	if ((err = pci_intx_attach(d, intx_handler, pd))) {
		virtio_set_error(vd, "cannot attach the INTx line (%d)", err);
		return err;
	}
	pci_intx_enable(d, true);
	vd->irq_kind = VIRTIO_IRQ_LINE;
	return 0;
}

void virtio_pci_free_irqs(struct virtio_device *vd)
{
	struct virtio_pci_dev *pd = to_vpci(vd);
	msix_detach_all(pd);
	if (vd->irq_kind == VIRTIO_IRQ_PER_QUEUE || vd->irq_kind == VIRTIO_IRQ_SHARED) {
		pci_msix_disable(pd->pci);
		pd->msix_on = false;
	}
	if (vd->irq_kind == VIRTIO_IRQ_LINE)
		pci_intx_enable(pd->pci, false); /* the handler stays attached, but quiet */
	vd->irq_kind = VIRTIO_IRQ_NONE;
	no_vectors(pd);
}

bool virtio_pci_config_pending(struct virtio_device *vd)
{
	/* With no interrupt handler reading it, the ISR's config bit stays set until we do
	 * (4.1.4.5). */
	struct virtio_pci_dev *pd = to_vpci(vd);
	return pd->irq_regs->read_isr(pd) & VIRTIO_ISR_CONFIG;
}
