/*
 * The kernel's side of the PCI layer's port (drivers/pci/pci_port.h): which configuration
 * mechanism to use (ECAM from the ACPI MCFG table on q35, the 0xCF8/0xCFC ports on pc), how
 * device memory is mapped (uncached, also above 4 GiB), how MSI messages are formed (LAPIC) and
 * how an INTx line reaches a handler (IOAPIC, shared lines allowed).
 *
 * Not done: AML evaluation of _PRT. INTx uses the interrupt line firmware wrote into each
 * function's configuration space (SeaBIOS and OVMF both program it and the chipset's PIRQ
 * routing), which is also an IOAPIC input on QEMU's pc and q35 chipsets.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/paging.h"
#include "drivers/pci/pci_access.h"
#include "drivers/pci/pci_port.h"
#include "drivers/pci/pci_regs.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"
#include "port/pci.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static struct pci_ecam ecam; /* ECAM when ecam.base, else ports 0xCF8/0xCFC */

uint32_t pci_port_cfg_read(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int w)
{
	if (ecam.base) {
		volatile void *a = pci_ecam_addr(&ecam, bus, dev, fn, off);
		return a ? mmio_read(a, w) : 0xFFFFFFFFu;
	}
	uint32_t addr = pci_portio_address(bus, dev, fn, off);
	if (!addr)
		return 0xFFFFFFFFu;
	outl(PCI_CONFIG_ADDRESS, addr);
	return pio_read(pci_portio_data_port(off), w);
}

void pci_port_cfg_write(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int w, uint32_t v)
{
	if (ecam.base) {
		volatile void *a = pci_ecam_addr(&ecam, bus, dev, fn, off);
		if (a)
			mmio_write(a, w, v);
		return;
	}
	uint32_t addr = pci_portio_address(bus, dev, fn, off);
	if (!addr)
		return;
	outl(PCI_CONFIG_ADDRESS, addr);
	pio_write(pci_portio_data_port(off), w, v);
}

void *pci_port_map_mmio(uint64_t phys, uint64_t size)
{
	return mmio_map(phys, size);
}

uint32_t pci_port_mmio_read32(const volatile void *a)
{
	return mmio_read32(a);
}

void pci_port_mmio_write32(volatile void *a, uint32_t v)
{
	mmio_write32(a, v);
}

void pci_port_msi_compose(uint8_t vector, uint32_t cpu, uint64_t *addr, uint32_t *data)
{
	msi_compose(vector, cpu, addr, data);
}

/* One IOAPIC input per INTx line, shared by every function on it. Each line in use gets one
 * vector and one dispatcher (registered once, so any number of functions may share a line);
 * the dispatcher runs every handler attached to the line. A handler returns true when its
 * device was asserting the line; an interrupt no handler claims is counted as spurious for that
 * line (shown by `lspci -v`). */
#define MAX_INTX_SLOTS 32
#define MAX_INTX_LINES 16
static struct intx_slot {
	pci_intx_handler_t handler;
	void *arg;
	struct intx_slot *next; /* next handler on the same line */
} slots[MAX_INTX_SLOTS];
static int nslots;
static struct intx_line {
	uint8_t line, vector;
	uint32_t gsi;
	unsigned nhandlers;
	struct intx_slot *first;
	uint64_t count, spurious;
} lines[MAX_INTX_LINES];
static int nlines;

static void intx_dispatch(void *ctx)
{
	struct intx_line *l = ctx;
	bool claimed = false;

	l->count++;
	for (struct intx_slot *s = l->first; s; s = s->next)
		claimed |= s->handler(s->arg); /* every handler runs: several may be asserting */
	if (!claimed)
		l->spurious++;
}

/* A PCI interrupt line's GSI and polarity: the MADT override for that IRQ when there is one
 * (QEMU's tables describe its PCI lines as level, active high), else PCI's default of level
 * triggered, active low (PCI local bus spec 2.2.6). */
static uint32_t pci_line_to_gsi(uint8_t line, bool *level, bool *active_low)
{
	*level = true;
	*active_low = true;
	for (unsigned i = 0; kernel_acpi_ok && i < kernel_acpi.nisos; i++) {
		const struct acpi_irq_override *o = &kernel_acpi.isos[i];
		if (o->bus == 0 && o->source == line) {
			uint16_t pol = o->flags & 3, trig = (o->flags >> 2) & 3;
			if (pol)
				*active_low = o->active_low;
			if (trig)
				*level = o->level;
			return o->gsi;
		}
	}
	return line;
}

int pci_port_intx_attach(const struct pci_dev *dev, uint8_t line, pci_intx_handler_t handler,
			 void *arg)
{
	(void)dev;
	struct intx_line *l = NULL;

	if (!handler)
		return -EINVAL;
	if (nslots == MAX_INTX_SLOTS)
		return -ENOSPC;
	for (int i = 0; i < nlines; i++)
		if (lines[i].line == line)
			l = &lines[i];
	if (!l) {
		if (nlines == MAX_INTX_LINES)
			return -ENOSPC;
		int v = irq_alloc_vector();
		if (v < 0)
			return v;
		bool level, active_low;
		uint32_t gsi = pci_line_to_gsi(line, &level, &active_low);
		struct intx_line *n = &lines[nlines];
		*n = (struct intx_line){.line = line, .vector = (uint8_t)v, .gsi = gsi};
		/* Dispatcher first (it claims the vector), then the IOAPIC route: the line may
		 * already be asserted. Nothing is recorded if either fails. */
		int err = irq_register(n->vector, intx_dispatch, n);
		if (err)
			return err;
		err = ioapic_route(gsi, n->vector, level, active_low, lapic_id());
		if (err) {
			irq_unregister(n->vector, intx_dispatch, n);
			return err;
		}
		l = n;
		nlines++;
	}
	/* Append at the tail with interrupts off: the dispatcher may walk the list. */
	struct intx_slot *s = &slots[nslots++];
	*s = (struct intx_slot){handler, arg, NULL};
	uint64_t fl = cpu_irq_save();
	struct intx_slot **pp = &l->first;
	while (*pp)
		pp = &(*pp)->next;
	*pp = s;
	l->nhandlers++;
	cpu_irq_restore(fl);
	return 0;
}

void pci_port_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap); /* the PCI layer prefixes its own lines */
	printf("\n");
	va_end(ap);
}

uint16_t kernel_pci_config_setup(void)
{
	if (kernel_acpi_ok && kernel_acpi.nmcfg) {
		const struct acpi_mcfg_entry *m = &kernel_acpi.mcfg[0];
		uint64_t size = ((uint64_t)m->end_bus - m->start_bus + 1) << 20;
		/* The MCFG base address is that of bus 0 even when start_bus is higher. */
		uint64_t base = m->base + ((uint64_t)m->start_bus << 20);
		ecam.bus_start = m->start_bus;
		ecam.bus_end = m->end_bus;
		ecam.base = mmio_map(base, size);
	}
	return ecam.base ? PCI_CFG_SIZE_PCIE : PCI_CFG_SIZE;
}

const char *kernel_pci_mechanism(void)
{
	return ecam.base ? "ECAM" : "ports 0xcf8/0xcfc (no MCFG)";
}

/* Per-line INTx statistics, after the function list of `lspci -v`. */
void kernel_pci_intx_print(void)
{
	for (int i = 0; i < nlines; i++) {
		const struct intx_line *l = &lines[i];
		printf("intx: line %u gsi %u vector %#x handlers %u interrupts %llu spurious %llu\n",
		       l->line, (unsigned)l->gsi, l->vector, l->nhandlers,
		       (unsigned long long)l->count, (unsigned long long)l->spurious);
	}
}

