/* 8259A PIC and 8254 PIT. */
#include "arch/x86_64/legacy.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1

#define PIT_CH0     0x40
#define PIT_CH2     0x42
#define PIT_CMD     0x43
#define PIT_GATE    0x61 /* bit 0: channel 2 gate, bit 1: speaker, bit 5: channel 2 output */
#define PIT_HZ      1193182u

void pic_disable(void)
{
	/* ICW1-4: edge, cascade, vector bases 0x20/0x28, slave on IR2, 8086 mode. Even masked,
	 * a PIC can raise a spurious IRQ7/15; remapped, it cannot look like an exception. */
	outb(PIC1_CMD, 0x11);
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, 0x20);
	outb(PIC2_DATA, 0x28);
	outb(PIC1_DATA, 4);
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, 1);
	outb(PIC2_DATA, 1);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

uint64_t pit_measure_tsc_hz(uint32_t ms)
{
	uint32_t ticks = PIT_HZ / 1000 * ms;
	if (ticks > 0xffff)
		ticks = 0xffff;
	/* Channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count): OUT goes high when the
	 * count reaches zero; the speaker stays off (bit 1 clear). With the gate already high,
	 * the count starts with the write of its high byte, so the TSC is read right after it (in
	 * mode 0 the gate only pauses counting, a low-high toggle does not restart it). */
	outb(PIT_GATE, (inb(PIT_GATE) & ~0x3) | 0x1);
	outb(PIT_CMD, 0xb0);
	outb(PIT_CH2, ticks & 0xff);
	outb(PIT_CH2, ticks >> 8);
	uint64_t t0 = cpu_rdtsc();
	uint64_t spins = 0;
	while (!(inb(PIT_GATE) & 0x20)) {
		if (++spins > 100000000ull)
			return 0;
	}
	uint64_t t1 = cpu_rdtsc();
	outb(PIT_GATE, inb(PIT_GATE) & ~0x1);
	return (t1 - t0) * PIT_HZ / ticks;
}

/* Latch and read channel 0's count (8254: counter latch command, then low and high byte). */
static uint16_t pit_ch0_count(void)
{
	outb(PIT_CMD, 0x00);
	uint8_t lo = inb(PIT_CH0);
	return (uint16_t)(lo | inb(PIT_CH0) << 8);
}

uint64_t pit_ch0_measure_tsc_hz(uint32_t ms)
{
	/* Channel 0, lobyte/hibyte, mode 2 (rate generator), count 0 = 65536: it counts down
	 * forever, needing no gate (machines without the speaker port 0x61, like QEMU's
	 * microvm). Its interrupt stays masked in the IOAPIC. */
	outb(PIT_CMD, 0x34);
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
	uint64_t want = (uint64_t)PIT_HZ * ms / 1000, elapsed = 0, spins = 0;
	uint16_t prev = pit_ch0_count();
	uint64_t t0 = cpu_rdtsc();
	while (elapsed < want) {
		uint16_t now = pit_ch0_count();
		elapsed += (uint16_t)(prev - now); /* counts down, wrapping at 65536 */
		prev = now;
		/* A PIT moves within a few reads (one count is 0.84 us); an absent one reads
		 * 0xffff forever. */
		if (++spins > (elapsed ? 10000000ull : 10000ull))
			return 0;
	}
	uint64_t t1 = cpu_rdtsc();
	return (t1 - t0) * PIT_HZ / elapsed;
}
