/*
 * One function's configuration: register access (bounds-checked, through the port), capability
 * lookup in the table the enumeration built, the command register's decode and bus-master
 * bits, and BAR mapping.
 */
#include <errno.h>

#include "drivers/pci/pci_priv.h"

struct pci_state pci_state;

/* ---------------------------------------------------------------------------------------- */
/* Configuration access                                                                      */

static uint32_t ones(int width)
{
	return width == 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1;
}

/* Natural alignment and in range: ECAM splits nothing, and 0xCF8/0xCFC can only reach a
 * sub-dword inside the addressed dword, so the core never asks for anything else. */
static bool cfg_access_ok(uint8_t dev, uint8_t fn, uint16_t off, int width)
{
	if (width != 1 && width != 2 && width != 4)
		return false;
	if (dev >= PCI_MAX_DEV || fn >= PCI_MAX_FN)
		return false;
	if (off & (width - 1))
		return false;
	return (uint32_t)off + (uint32_t)width <= pci_state.cfg_size;
}

uint32_t pci_cfg_read(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width)
{
	if (!cfg_access_ok(dev, fn, off, width)) {
		pci_log("pci %02x:%02x.%x: bad config read off 0x%x width %d", bus, dev, fn, off,
			width);
		return width == 1 || width == 2 ? ones(width) : 0xFFFFFFFFu;
	}
	return pci_port_cfg_read(bus, dev, fn, off, width) & ones(width);
}

void pci_cfg_write(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width, uint32_t val)
{
	if (!cfg_access_ok(dev, fn, off, width)) {
		pci_log("pci %02x:%02x.%x: bad config write off 0x%x width %d", bus, dev, fn, off,
			width);
		return;
	}
	pci_port_cfg_write(bus, dev, fn, off, width, val & ones(width));
}

uint8_t pci_cfg_read8(const struct pci_dev *d, uint16_t off)
{
	return (uint8_t)pci_cfg_read(d->bus, d->dev, d->fn, off, 1);
}

uint16_t pci_cfg_read16(const struct pci_dev *d, uint16_t off)
{
	return (uint16_t)pci_cfg_read(d->bus, d->dev, d->fn, off, 2);
}

uint32_t pci_cfg_read32(const struct pci_dev *d, uint16_t off)
{
	return pci_cfg_read(d->bus, d->dev, d->fn, off, 4);
}

void pci_cfg_write8(const struct pci_dev *d, uint16_t off, uint8_t val)
{
	pci_cfg_write(d->bus, d->dev, d->fn, off, 1, val);
}

void pci_cfg_write16(const struct pci_dev *d, uint16_t off, uint16_t val)
{
	pci_cfg_write(d->bus, d->dev, d->fn, off, 2, val);
}

void pci_cfg_write32(const struct pci_dev *d, uint16_t off, uint32_t val)
{
	pci_cfg_write(d->bus, d->dev, d->fn, off, 4, val);
}

/* ---------------------------------------------------------------------------------------- */
/* Capabilities                                                                              */

uint16_t pci_find_next_cap(const struct pci_dev *d, uint8_t id, uint16_t after)
{
	unsigned i = 0;

	if (after) {
		while (i < d->ncaps && d->caps[i].off != after)
			i++;
		i++; /* past after; beyond the end if after is not a capability */
	}
	for (; i < d->ncaps; i++)
		if (d->caps[i].id == id)
			return d->caps[i].off;
	return 0;
}

uint16_t pci_find_cap(const struct pci_dev *d, uint8_t id)
{
	return pci_find_next_cap(d, id, 0);
}

uint16_t pci_find_ext_cap(const struct pci_dev *d, uint16_t id)
{
	for (unsigned i = 0; i < d->necaps; i++)
		if (d->ecaps[i].id == id)
			return d->ecaps[i].off;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Decode enables and BAR mapping                                                            */

/* Command bits needed to decode d's BARs, and whether one of those spaces has a BAR firmware
 * left unassigned (turning that space on would make the BAR claim address 0). */
static uint16_t decode_bits(const struct pci_dev *d, uint16_t *unsafe)
{
	uint16_t need = 0;

	*unsafe = 0;
	for (unsigned i = 0; i < d->nbars; i++) {
		const struct pci_bar *b = &d->bar[i];
		uint16_t bit;

		if (b->type == PCI_BAR_IO)
			bit = PCI_COMMAND_IO;
		else if (b->type == PCI_BAR_MEM32 || b->type == PCI_BAR_MEM64)
			bit = PCI_COMMAND_MEMORY;
		else
			continue;
		need |= bit;
		if (!b->assigned)
			*unsafe |= bit;
	}
	return need;
}

/* Turn on decoding of the spaces in want (PCI_COMMAND_IO/MEMORY). -ENXIO if one of them holds
 * an unassigned BAR: that space stays off. */
static int enable_decode(struct pci_dev *d, uint16_t want)
{
	uint16_t unsafe, cmd = pci_cfg_read16(d, PCI_COMMAND);
	int ret = 0;

	(void)decode_bits(d, &unsafe);
	if (want & unsafe) {
		pci_log("pci " PCI_BDF_FMT ": %s%s decode left off: unassigned BAR",
			PCI_BDF_ARGS(d), want & unsafe & PCI_COMMAND_IO ? "I/O " : "",
			want & unsafe & PCI_COMMAND_MEMORY ? "memory" : "");
		want &= (uint16_t)~unsafe;
		ret = -ENXIO;
	}
	if ((cmd | want) != cmd)
		pci_cfg_write16(d, PCI_COMMAND, cmd | want);
	return ret;
}

int pci_enable_device(struct pci_dev *d)
{
	uint16_t unsafe, need = decode_bits(d, &unsafe);
	int ret = enable_decode(d, need);

	pci_set_master(d, true);
	return ret;
}

int pci_enable_mem_decode(struct pci_dev *d)
{
	return enable_decode(d, PCI_COMMAND_MEMORY);
}

void pci_set_master(struct pci_dev *d, bool on)
{
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
	uint16_t new = on ? cmd | PCI_COMMAND_MASTER : cmd & (uint16_t)~PCI_COMMAND_MASTER;

	if (new != cmd)
		pci_cfg_write16(d, PCI_COMMAND, new);
}

int pci_bar_map(struct pci_dev *d, unsigned bar, void **virt)
{
	struct pci_bar *b;

	if (bar >= d->nbars)
		return -EINVAL;
	b = &d->bar[bar];
	if (b->type != PCI_BAR_MEM32 && b->type != PCI_BAR_MEM64)
		return -EINVAL;
	if (!b->assigned)
		return -ENXIO;
	if (!b->virt) {
		b->virt = pci_port_map_mmio(b->addr, b->size);
		if (!b->virt) {
			pci_log("pci " PCI_BDF_FMT ": cannot map BAR%u", PCI_BDF_ARGS(d), bar);
			return -ENOMEM;
		}
	}
	*virt = b->virt;
	return 0;
}
