/*
 * Local APIC: the per-CPU interrupt controller every interrupt in Vireo passes through (IOAPIC
 * lines and MSI-X messages alike), and the source of the periodic tick.
 */
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/paging.h"

/* Register offsets (SDM vol. 3, table 10-1). */
enum {
	LAPIC_ID = 0x20,
	LAPIC_TPR = 0x80,
	LAPIC_EOI = 0xb0,
	LAPIC_SVR = 0xf0,
	LAPIC_ESR = 0x280,
	LAPIC_ICR_LO = 0x300,
	LAPIC_ICR_HI = 0x310,
	LAPIC_LVT_TIMER = 0x320,
	LAPIC_LVT_LINT0 = 0x350,
	LAPIC_LVT_LINT1 = 0x360,
	LAPIC_LVT_ERROR = 0x370,
	LAPIC_TIMER_INIT = 0x380,
	LAPIC_TIMER_CUR = 0x390,
	LAPIC_TIMER_DIV = 0x3e0,
};
#define SVR_ENABLE       (1u << 8)
#define LVT_MASKED       (1u << 16)
#define LVT_TIMER_PERIODIC (1u << 17)
#define LVT_NMI          (4u << 8)
#define ICR_SELF         (1u << 18) /* destination shorthand 01: self */
#define ICR_PENDING      (1u << 12)
#define TIMER_DIV_16     0x3

static volatile uint8_t *lapic;

static uint32_t rd(uint32_t reg)
{
	return mmio_read32(lapic + reg);
}
static void wr(uint32_t reg, uint32_t v)
{
	mmio_write32(lapic + reg, v);
}

void lapic_init(uint64_t phys)
{
	if (!phys)
		phys = cpu_rdmsr(MSR_APIC_BASE) & ~0xfffull;
	/* xAPIC mode, globally enabled (bit 11), at the base we map. */
	cpu_wrmsr(MSR_APIC_BASE, phys | (1u << 11) | (cpu_rdmsr(MSR_APIC_BASE) & (1u << 8)));
	lapic = mmio_map(phys, 4096);
	wr(LAPIC_TPR, 0); /* accept every priority class */
	/* LINT0 is ExtINT from the 8259 in virtual-wire mode; the PICs are masked and all ISA
	 * lines go through the IOAPIC, so mask it. LINT1 carries NMI. */
	wr(LAPIC_LVT_LINT0, LVT_MASKED);
	wr(LAPIC_LVT_LINT1, LVT_NMI);
	wr(LAPIC_LVT_ERROR, SPURIOUS_VECTOR - 1);
	wr(LAPIC_ESR, 0);
	wr(LAPIC_ESR, 0); /* back-to-back writes clear it (SDM 10.5.3) */
	wr(LAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
	lapic_eoi(); /* clear anything firmware left in service */
}

void lapic_eoi(void)
{
	if (lapic)
		wr(LAPIC_EOI, 0);
}

uint32_t lapic_id(void)
{
	return lapic ? rd(LAPIC_ID) >> 24 : 0;
}

uint64_t lapic_timer_start(uint32_t hz, uint64_t tsc_hz)
{
	/* Count down from the maximum for 1 ms of TSC time, then see how far it got (tens of
	 * thousands of counts at any bus clock QEMU or hardware uses: the tick is off by less
	 * than 0.1 %). */
	wr(LAPIC_TIMER_DIV, TIMER_DIV_16);
	wr(LAPIC_LVT_TIMER, LVT_MASKED);
	wr(LAPIC_TIMER_INIT, 0xffffffff);
	uint64_t t0 = cpu_rdtsc(), window = tsc_hz / 1000;
	while (cpu_rdtsc() - t0 < window)
		cpu_pause();
	uint32_t elapsed = 0xffffffff - rd(LAPIC_TIMER_CUR);
	uint64_t timer_hz = (uint64_t)elapsed * 1000;
	wr(LAPIC_TIMER_INIT, 0);

	uint64_t count = timer_hz / hz;
	if (count == 0)
		count = 1;
	wr(LAPIC_LVT_TIMER, LAPIC_TIMER_VECTOR | LVT_TIMER_PERIODIC);
	wr(LAPIC_TIMER_INIT, (uint32_t)count);
	return timer_hz;
}

void lapic_self_ipi(uint8_t vector)
{
	wr(LAPIC_ICR_HI, 0);
	wr(LAPIC_ICR_LO, ICR_SELF | vector);
	while (rd(LAPIC_ICR_LO) & ICR_PENDING)
		cpu_pause();
}

void msi_compose(uint8_t vector, uint32_t apic_id, uint64_t *addr, uint32_t *data)
{
	*addr = 0xfee00000ull | ((uint64_t)(apic_id & 0xff) << 12);
	*data = vector; /* fixed delivery mode (000), edge trigger */
}
