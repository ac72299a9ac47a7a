/*
 * Message signalled interrupts: MSI-X [PCI 6.8.2] with MSI [PCI 6.8.1] as the fallback, and
 * INTx hook-up.
 *
 * The MSI-X table and PBA are device memory reached through pci_port_map_mmio; every access is a
 * single aligned 32-bit volatile access (arch/x86_64/io.h), as the table requires [PCI 6.8.2].
 * On x86 the BAR is mapped uncached, and uncached accesses are neither reordered nor merged
 * with each other, so the order of the writes below is the order the device sees.
 */
#include <errno.h>

#include "drivers/pci/pci_priv.h"

/* ---------------------------------------------------------------------------------------- */
/* Capability parsing (at enumeration)                                                      */

static bool msix_region_ok(const struct pci_dev *d, uint8_t bir, uint32_t off, uint64_t len)
{
	const struct pci_bar *b;

	if (bir >= d->nbars)
		return false;
	b = &d->bar[bir];
	if (b->type != PCI_BAR_MEM32 && b->type != PCI_BAR_MEM64)
		return false;
	return b->assigned && off <= b->size && len <= b->size - off;
}

static void parse_msix(struct pci_dev *d, uint16_t cap)
{
	struct pci_msix_info *m = &d->msix;
	uint32_t table, pba;

	/* The capability's three registers must lie inside the 256-byte legacy space. */
	if (cap + PCI_MSIX_PBA + 4 > PCI_CFG_SIZE) {
		d->problems |= PCI_PROB_MSIX;
		pci_log("pci " PCI_BDF_FMT ": MSI-X capability at 0x%x runs past 0xff, ignored",
			PCI_BDF_ARGS(d), cap);
		return;
	}
	m->cap = cap;
	m->size = (uint16_t)((pci_cfg_read16(d, cap + PCI_MSIX_CTRL) & PCI_MSIX_CTRL_QSIZE) + 1);
	table = pci_cfg_read32(d, cap + PCI_MSIX_TABLE);
	pba = pci_cfg_read32(d, cap + PCI_MSIX_PBA);
	m->table_bar = (uint8_t)(table & PCI_MSIX_BIR_MASK);
	m->table_off = table & PCI_MSIX_OFFSET_MASK;
	m->pba_bar = (uint8_t)(pba & PCI_MSIX_BIR_MASK);
	m->pba_off = pba & PCI_MSIX_OFFSET_MASK;

	/* BIR 6 and 7 are reserved, and the table/PBA must fit in an assigned memory BAR:
	 * writing through a mapping that ends early would hit whatever lies beyond it. */
	if (!msix_region_ok(d, m->table_bar, m->table_off,
			    (uint64_t)m->size * PCI_MSIX_ENTRY_SIZE) ||
	    !msix_region_ok(d, m->pba_bar, m->pba_off,
			    (uint64_t)(m->size + PCI_MSIX_PBA_BITS_PER_QWORD - 1) /
				    PCI_MSIX_PBA_BITS_PER_QWORD * 8)) {
		d->problems |= PCI_PROB_MSIX;
		pci_log("pci " PCI_BDF_FMT ": MSI-X table (BAR%u+0x%x, %u entries) or PBA (BAR%u+0x%x)"
			" outside an assigned memory BAR, MSI-X unusable",
			PCI_BDF_ARGS(d), m->table_bar, (unsigned)m->table_off, m->size, m->pba_bar,
			(unsigned)m->pba_off);
		return;
	}
	m->usable = true;
}

static void parse_msi(struct pci_dev *d, uint16_t cap)
{
	struct pci_msi_info *m = &d->msi;
	uint16_t ctrl, len;

	if (cap + PCI_MSI_CTRL + 2 > PCI_CFG_SIZE)
		goto bad;
	ctrl = pci_cfg_read16(d, cap + PCI_MSI_CTRL);
	m->is64 = (ctrl & PCI_MSI_CTRL_64BIT) != 0;
	m->maskable = (ctrl & PCI_MSI_CTRL_MASKBIT) != 0;
	m->max_log2 = (uint8_t)((ctrl & PCI_MSI_CTRL_MMC) >> PCI_MSI_CTRL_MMC_SHIFT);
	len = m->is64 ? PCI_MSI_DATA_64 + 2 : PCI_MSI_DATA_32 + 2;
	if (m->maskable)
		len = (m->is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32) + 4;
	if (cap + len > PCI_CFG_SIZE)
		goto bad;
	m->cap = cap;
	return;
bad:
	m->is64 = m->maskable = false;
	m->max_log2 = 0;
	d->problems |= PCI_PROB_CAP_PTR;
	pci_log("pci " PCI_BDF_FMT ": MSI capability at 0x%x runs past 0xff, ignored",
		PCI_BDF_ARGS(d), cap);
}

void pci_msi_parse(struct pci_dev *d)
{
	uint16_t cap = pci_find_cap(d, PCI_CAP_ID_MSIX);

	if (cap)
		parse_msix(d, cap);
	cap = pci_find_cap(d, PCI_CAP_ID_MSI);
	if (cap)
		parse_msi(d, cap);
}

enum pci_irq_mode pci_irq_best(const struct pci_dev *d)
{
	if (d->msix.usable)
		return PCI_IRQ_MSIX;
	if (d->msi.cap)
		return PCI_IRQ_MSI;
	if (d->irq_pin != PCI_INT_PIN_NONE)
		return PCI_IRQ_INTX;
	return PCI_IRQ_NONE;
}

/* ---------------------------------------------------------------------------------------- */
/* MSI-X                                                                                     */

static void msix_set_ctrl(struct pci_dev *d, uint16_t set, uint16_t clear)
{
	uint16_t off = d->msix.cap + PCI_MSIX_CTRL;
	uint16_t ctrl = pci_cfg_read16(d, off);

	pci_cfg_write16(d, off, (uint16_t)((ctrl & ~clear) | set));
}

static void entry_set_mask(volatile struct pci_msix_entry *e, bool masked)
{
	uint32_t ctrl = pci_port_mmio_read32(&e->vector_ctrl);

	/* Bits 31:1 are reserved and keep what the device holds. */
	ctrl = masked ? ctrl | PCI_MSIX_ENTRY_MASKED : ctrl & ~PCI_MSIX_ENTRY_MASKED;
	pci_port_mmio_write32(&e->vector_ctrl, ctrl);
	/* Memory writes are posted: reading the entry back makes sure the device has seen the
	 * new mask before we return (and, on masking, before the caller changes the entry). */
	(void)pci_port_mmio_read32(&e->vector_ctrl);
}

int pci_msix_enable(struct pci_dev *d)
{
	struct pci_msix_info *m = &d->msix;
	void *tbar, *pbar;
	int ret;

	if (!m->usable)
		return -ENODEV;
	if (m->enabled)
		return 0;
	ret = pci_bar_map(d, m->table_bar, &tbar);
	if (ret)
		return ret;
	ret = pci_bar_map(d, m->pba_bar, &pbar);
	if (ret)
		return ret;
	/* The table is reached through the BAR, which answers only with memory decode on. */
	ret = pci_enable_mem_decode(d);
	if (ret)
		return ret;
	m->table = (volatile struct pci_msix_entry *)((uint8_t *)tbar + m->table_off);
	m->pba = (volatile uint32_t *)((uint8_t *)pbar + m->pba_off);

	if (d->msi.enabled)
		pci_msi_disable(d);
	/*
	 * Enable with the function mask set: whatever firmware or a previous user left in the
	 * table cannot fire between enabling and masking each entry. Then drop the function
	 * mask; each entry stays masked until its vector is programmed and unmasked.
	 */
	msix_set_ctrl(d, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL, 0);
	for (uint16_t i = 0; i < m->size; i++)
		entry_set_mask(&m->table[i], true);
	msix_set_ctrl(d, 0, PCI_MSIX_CTRL_MASKALL);
	/* With MSI-X enabled the function may not use INTx [PCI 6.8.2]; say so explicitly. */
	pci_intx_enable(d, false);
	/* An MSI-X message is a memory write by the function. */
	pci_set_master(d, true);
	m->enabled = true;
	d->irq_mode = PCI_IRQ_MSIX;
	return 0;
}

void pci_msix_disable(struct pci_dev *d)
{
	if (!d->msix.enabled)
		return;
	msix_set_ctrl(d, 0, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	d->msix.enabled = false;
	if (d->irq_mode == PCI_IRQ_MSIX)
		d->irq_mode = PCI_IRQ_NONE;
}

static int msix_entry(struct pci_dev *d, uint16_t entry, volatile struct pci_msix_entry **e)
{
	if (!d->msix.enabled)
		return -ENODEV;
	if (entry >= d->msix.size)
		return -EINVAL;
	*e = &d->msix.table[entry];
	return 0;
}

int pci_msix_set_vector(struct pci_dev *d, uint16_t entry, uint8_t vector, uint32_t cpu)
{
	volatile struct pci_msix_entry *e;
	uint64_t addr = 0;
	uint32_t data = 0;
	int ret = msix_entry(d, entry, &e);

	if (ret)
		return ret;
	pci_port_msi_compose(vector, cpu, &addr, &data);
	/* Changing address/data of an unmasked entry is undefined [PCI 6.8.2.9]. */
	entry_set_mask(e, true);
	pci_port_mmio_write32(&e->addr_lo, (uint32_t)addr);
	pci_port_mmio_write32(&e->addr_hi, (uint32_t)(addr >> 32));
	pci_port_mmio_write32(&e->data, data);
	return 0;
}

int pci_msix_mask(struct pci_dev *d, uint16_t entry)
{
	volatile struct pci_msix_entry *e;
	int ret = msix_entry(d, entry, &e);

	if (ret)
		return ret;
	entry_set_mask(e, true);
	return 0;
}

int pci_msix_unmask(struct pci_dev *d, uint16_t entry)
{
	volatile struct pci_msix_entry *e;
	int ret = msix_entry(d, entry, &e);

	if (ret)
		return ret;
	entry_set_mask(e, false);
	return 0;
}

int pci_msix_mask_all(struct pci_dev *d, bool masked)
{
	if (!d->msix.enabled)
		return -ENODEV;
	if (masked)
		msix_set_ctrl(d, PCI_MSIX_CTRL_MASKALL, 0);
	else
		msix_set_ctrl(d, 0, PCI_MSIX_CTRL_MASKALL);
	return 0;
}

int pci_msix_pending(const struct pci_dev *d, uint16_t entry)
{
	if (!d->msix.enabled)
		return -ENODEV;
	if (entry >= d->msix.size)
		return -EINVAL;
	/* The PBA is read-only for software; aligned dword reads are allowed [PCI 6.8.2.10]. */
	return (pci_port_mmio_read32(&d->msix.pba[entry / 32]) >> (entry % 32)) & 1;
}

/* ---------------------------------------------------------------------------------------- */
/* MSI                                                                                       */

int pci_msi_enable(struct pci_dev *d, uint8_t vector, uint32_t cpu)
{
	struct pci_msi_info *m = &d->msi;
	uint16_t ctrl;
	uint64_t addr = 0;
	uint32_t data = 0;

	if (!m->cap)
		return -ENODEV;
	pci_port_msi_compose(vector, cpu, &addr, &data);
	if (!m->is64 && (addr >> 32))
		return -ERANGE;
	if (d->msix.enabled)
		pci_msix_disable(d);

	/* Program with MSI off so no message goes out with a half-written address/data; one
	 * vector (multiple message enable = 0). */
	ctrl = pci_cfg_read16(d, m->cap + PCI_MSI_CTRL);
	ctrl &= (uint16_t)~(PCI_MSI_CTRL_ENABLE | PCI_MSI_CTRL_MME);
	pci_cfg_write16(d, m->cap + PCI_MSI_CTRL, ctrl);
	pci_cfg_write32(d, m->cap + PCI_MSI_ADDR_LO, (uint32_t)addr);
	if (m->is64) {
		pci_cfg_write32(d, m->cap + PCI_MSI_ADDR_HI, (uint32_t)(addr >> 32));
		pci_cfg_write16(d, m->cap + PCI_MSI_DATA_64, (uint16_t)data);
	} else {
		pci_cfg_write16(d, m->cap + PCI_MSI_DATA_32, (uint16_t)data);
	}
	if (m->maskable) {
		uint16_t moff = m->cap + (m->is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);

		pci_cfg_write32(d, moff, pci_cfg_read32(d, moff) & ~1u); /* vector 0 unmasked */
	}
	pci_intx_enable(d, false);
	pci_set_master(d, true);
	pci_cfg_write16(d, m->cap + PCI_MSI_CTRL, ctrl | PCI_MSI_CTRL_ENABLE);
	m->enabled = true;
	d->irq_mode = PCI_IRQ_MSI;
	return 0;
}

void pci_msi_disable(struct pci_dev *d)
{
	struct pci_msi_info *m = &d->msi;

	if (!m->cap || !m->enabled)
		return;
	pci_cfg_write16(d, m->cap + PCI_MSI_CTRL,
			pci_cfg_read16(d, m->cap + PCI_MSI_CTRL) & (uint16_t)~PCI_MSI_CTRL_ENABLE);
	m->enabled = false;
	if (d->irq_mode == PCI_IRQ_MSI)
		d->irq_mode = PCI_IRQ_NONE;
}

/* ---------------------------------------------------------------------------------------- */
/* INTx                                                                                      */

void pci_intx_enable(struct pci_dev *d, bool on)
{
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
	uint16_t new = on ? cmd & (uint16_t)~PCI_COMMAND_INTX_DISABLE
			  : cmd | PCI_COMMAND_INTX_DISABLE;

	if (new != cmd)
		pci_cfg_write16(d, PCI_COMMAND, new);
}

bool pci_intx_asserted(const struct pci_dev *d)
{
	return (pci_cfg_read16(d, PCI_STATUS) & PCI_STATUS_INTERRUPT) != 0;
}

int pci_intx_attach(struct pci_dev *d, pci_intx_handler_t handler, void *arg)
{
	int ret;

	if (d->irq_pin == PCI_INT_PIN_NONE)
		return -ENODEV;
	if (d->irq_line == PCI_INT_LINE_NONE)
		return -ENXIO;
	ret = pci_port_intx_attach(d, d->irq_line, handler, arg);
	if (ret) {
		pci_log("pci " PCI_BDF_FMT ": INTx line %u not attached (%d)", PCI_BDF_ARGS(d),
			d->irq_line, ret);
		return ret;
	}
	pci_intx_enable(d, true);
	d->irq_mode = PCI_IRQ_INTX;
	return 0;
}
