/* 8259A PIC and 8254 PIT. */
#include "arch/x86_64/legacy.h"
#include "arch/x86_64/io.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1

#define PIT_CH0     0x40
#define PIT_CMD     0x43

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

void pit_counter_start(void)
{
	/* Channel 0, lobyte/hibyte, mode 2 (rate generator), count 0 = 65536: it counts down
	 * forever and needs no gate (channel 2's is port 0x61, which QEMU's microvm lacks). Its
	 * interrupt stays masked in the IOAPIC. */
	outb(PIT_CMD, 0x34);
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
}

uint16_t pit_counter_read(void)
{
	/* 8254 counter latch command for channel 0, then the low and the high byte. */
	outb(PIT_CMD, 0x00);
	uint8_t lo = inb(PIT_CH0);
	return (uint16_t)(lo | inb(PIT_CH0) << 8);
}
