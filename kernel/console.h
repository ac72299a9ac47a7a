/* Kernel console: the COM1 serial port (arch/x86_64/serial.c). */
#ifndef VIREO_CONSOLE_H
#define VIREO_CONSOLE_H

#include <stddef.h>

/* Write len bytes to the console, translating "\n" to "\r\n". Safe in interrupt context. */
void console_write(const char *buf, size_t len);
/* Next received byte, or -1 when none is waiting. Never blocks. */
int console_getc_nonblock(void);

#endif
