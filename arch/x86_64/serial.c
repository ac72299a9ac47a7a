/*
 * COM1 (16550A) console. Output is polled (the transmitter is fast enough for a console and
 * polling works in every context, exceptions included). Input is interrupt-driven into a small
 * ring so that the shell can sleep in hlt between keys; before interrupts are on it is polled.
 */
#include "arch/x86_64/serial.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/io.h"
#include "kernel/console.h"

#define COM1 0x3f8
enum { RBR = 0, THR = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5, DLL = 0, DLM = 1 };
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

static char rx_ring[256];
static volatile unsigned rx_head, rx_tail; /* head: written by the IRQ handler */
static volatile unsigned rx_dropped;
static int rx_irq_on;

void serial_init(void)
{
	outb(COM1 + IER, 0);
	outb(COM1 + LCR, 0x80); /* DLAB: divisor follows */
	outb(COM1 + DLL, 1);    /* 115200 / 1 */
	outb(COM1 + DLM, 0);
	outb(COM1 + LCR, 0x03); /* 8N1 */
	outb(COM1 + FCR, 0xc7); /* FIFOs on and cleared, 14-byte receive threshold */
	outb(COM1 + MCR, 0x0b); /* DTR, RTS, OUT2 (OUT2 gates the UART's IRQ line on PCs) */
}

void serial_putc(char c)
{
	while (!(inb(COM1 + LSR) & LSR_THR_EMPTY))
		cpu_pause();
	outb(COM1 + THR, (uint8_t)c);
}

static void rx_drain(void)
{
	while (inb(COM1 + LSR) & LSR_DATA_READY) {
		char c = (char)inb(COM1 + RBR);
		unsigned next = (rx_head + 1) % sizeof(rx_ring);
		if (next == rx_tail) {
			rx_dropped++;
			continue;
		}
		rx_ring[rx_head] = c;
		rx_head = next;
	}
}

static void serial_irq(void *ctx)
{
	(void)ctx;
	rx_drain();
}

void serial_enable_rx_irq(uint8_t vector)
{
	irq_register(vector, serial_irq, 0);
	rx_irq_on = 1;
	outb(COM1 + IER, 0x01); /* received data available */
	rx_drain();
}

int console_getc_nonblock(void)
{
	uint64_t fl = cpu_irq_save();
	if (!rx_irq_on)
		rx_drain();
	int c = -1;
	if (rx_tail != rx_head) {
		c = (unsigned char)rx_ring[rx_tail];
		rx_tail = (rx_tail + 1) % sizeof(rx_ring);
	}
	cpu_irq_restore(fl);
	return c;
}
