/* COM1, polled: the 16550's transmit register once the line status says it is empty. */
#include "examples/embed/console.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"

#include <stdarg.h>
#include <stdio.h>

#define COM1          0x3f8
#define UART_THR      0     /* transmit holding register */
#define UART_IER      1
#define UART_LCR      3
#define UART_LSR      5
#define UART_LSR_THRE 0x20  /* transmit holding register empty */
#define LCR_8N1       0x03
#define DEBUG_EXIT    0xf4

void console_init(void)
{
	outb(COM1 + UART_IER, 0); /* no UART interrupts: this kernel polls */
	outb(COM1 + UART_LCR, LCR_8N1);
}

static void put(char c)
{
	while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
		cpu_pause();
	outb(COM1 + UART_THR, (uint8_t)c);
}

void console_write(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			put('\r');
		put(*s);
	}
}

void console_vprintf(const char *fmt, va_list ap)
{
	char line[256];
	vsnprintf(line, sizeof(line), fmt, ap);
	console_write(line);
}

void console_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
}

_Noreturn void console_exit(int code)
{
	outb(DEBUG_EXIT, (uint8_t)code);
	cpu_halt_forever();
}
