/*
 * The kernel's side of the PCI layer (drivers/pci): which configuration mechanism to use
 * (ECAM from the ACPI MCFG table on q35, the 0xCF8/0xCFC ports on pc), how device memory is
 * mapped (uncached, also above 4 GiB), how MSI messages are formed (LAPIC) and how an INTx line
 * reaches a handler (IOAPIC, shared lines allowed). Then enumeration.
 *
 * Not done: AML evaluation of _PRT. INTx uses the interrupt line firmware wrote into each
 * function's configuration space (SeaBIOS and OVMF both program it and the chipset's PIRQ
 * routing), which is also an IOAPIC input on QEMU's pc and q35 chipsets.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/paging.h"
#include "drivers/pci/pci.h"
#include "drivers/pci/pci_access.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"
#include "port/pci.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static struct pci_ecam ecam;
static const char *mechanism = "none";

static void *map_mmio(void *ctx, uint64_t phys, uint64_t size)
{
	(void)ctx;
	return mmio_map(phys, size);
}

static void compose(void *ctx, uint8_t vector, uint32_t cpu, uint64_t *addr, uint32_t *data)
{
	(void)ctx;
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

static int intx_attach(void *ctx, const struct pci_dev *dev, uint8_t line,
		       pci_intx_handler_t handler, void *arg)
{
	(void)ctx;
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

static void pci_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap); /* the PCI layer prefixes its own lines */
	printf("\n");
	va_end(ap);
}

static struct pci_platform plat = {
	.map_mmio = map_mmio,
	.msi_compose = compose,
	.intx_attach = intx_attach,
	.log = pci_log,
};

int kernel_pci_init(void)
{
	if (kernel_acpi_ok && kernel_acpi.nmcfg) {
		const struct acpi_mcfg_entry *m = &kernel_acpi.mcfg[0];
		uint64_t size = ((uint64_t)m->end_bus - m->start_bus + 1) << 20;
		/* The MCFG base address is that of bus 0 even when start_bus is higher. */
		uint64_t base = m->base + ((uint64_t)m->start_bus << 20);
		ecam.base = mmio_map(base, size);
		ecam.bus_start = m->start_bus;
		ecam.bus_end = m->end_bus;
		if (ecam.base) {
			plat.ctx = &ecam;
			plat.cfg_read = pci_ecam_read;
			plat.cfg_write = pci_ecam_write;
			plat.cfg_size = PCI_CFG_SIZE_PCIE;
			mechanism = "ECAM";
		}
	}
	if (!plat.cfg_read) {
		plat.ctx = (void *)&pci_portio_x86;
		plat.cfg_read = pci_portio_read;
		plat.cfg_write = pci_portio_write;
		plat.cfg_size = PCI_CFG_SIZE;
		mechanism = "ports 0xcf8/0xcfc";
	}
	int err = pci_init(&plat);
	if (err < 0) {
		printf("pci: enumeration failed (%d)\n", err);
		return err;
	}
	printf("pci: %zu functions via %s%s\n", pci_dev_count(), mechanism,
	       ecam.base ? "" : " (no MCFG)");
	return 0;
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

