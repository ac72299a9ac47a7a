/* COM1 16550 UART: the kernel console. */
#ifndef VIREO_ARCH_SERIAL_H
#define VIREO_ARCH_SERIAL_H

#include <stdint.h>

#define SERIAL_ISA_IRQ 4

/* 115200 8N1, FIFOs on, receive interrupts off until serial_enable_rx_irq(). */
void serial_init(void);
/* Start taking receive interrupts (on whatever vector the caller routed IRQ 4 to). */
void serial_enable_rx_irq(uint8_t vector);
void serial_putc(char c);

#endif
