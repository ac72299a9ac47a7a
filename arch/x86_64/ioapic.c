/* I/O APIC: indirect register access through IOREGSEL/IOWIN (82093AA datasheet, 3.1). */
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/paging.h"

#include <errno.h>
#include <stdio.h>

#define IOREGSEL 0x00
#define IOWIN    0x10
#define REG_VER  0x01
#define REG_REDTBL(n) (0x10 + 2 * (n))
#define RTE_MASKED     (1u << 16)
#define RTE_LEVEL      (1u << 15)
#define RTE_ACTIVE_LOW (1u << 13)
#define MAX_IOAPICS 4

struct ioapic {
	volatile uint8_t *regs;
	uint8_t id;
	uint32_t gsi_base, pins;
};
static struct ioapic ioapics[MAX_IOAPICS];
static int nioapics;

/* Select-then-access is two steps; keep interrupts off so a handler cannot move IOREGSEL in
 * between. */
static uint32_t rd(struct ioapic *io, uint32_t reg)
{
	uint64_t fl = cpu_irq_save();
	mmio_write32(io->regs + IOREGSEL, reg);
	uint32_t v = mmio_read32(io->regs + IOWIN);
	cpu_irq_restore(fl);
	return v;
}
static void wr(struct ioapic *io, uint32_t reg, uint32_t v)
{
	uint64_t fl = cpu_irq_save();
	mmio_write32(io->regs + IOREGSEL, reg);
	mmio_write32(io->regs + IOWIN, v);
	cpu_irq_restore(fl);
}

int ioapic_add(uint8_t id, uint64_t phys, uint32_t gsi_base)
{
	if (nioapics == MAX_IOAPICS)
		return -ENOSPC;
	struct ioapic *io = &ioapics[nioapics];
	io->regs = mmio_map(phys, 4096);
	io->id = id;
	io->gsi_base = gsi_base;
	io->pins = ((rd(io, REG_VER) >> 16) & 0xff) + 1;
	for (uint32_t i = 0; i < io->pins; i++) {
		wr(io, REG_REDTBL(i) + 1, 0);
		wr(io, REG_REDTBL(i), RTE_MASKED);
	}
	nioapics++;
	return 0;
}

int ioapic_count(void)
{
	return nioapics;
}

static struct ioapic *find(uint32_t gsi, uint32_t *pin)
{
	for (int i = 0; i < nioapics; i++) {
		struct ioapic *io = &ioapics[i];
		if (gsi >= io->gsi_base && gsi < io->gsi_base + io->pins) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

int ioapic_route(uint32_t gsi, uint8_t vector, bool level, bool active_low, uint32_t apic_id)
{
	uint32_t pin;
	struct ioapic *io = find(gsi, &pin);
	if (!io)
		return -ENOENT;
	uint32_t lo = vector | (level ? RTE_LEVEL : 0) | (active_low ? RTE_ACTIVE_LOW : 0);
	/* Write the destination first and the unmasked low word last, so the entry is never live
	 * half-programmed. */
	wr(io, REG_REDTBL(pin), RTE_MASKED);
	wr(io, REG_REDTBL(pin) + 1, apic_id << 24);
	wr(io, REG_REDTBL(pin), lo);
	return 0;
}

