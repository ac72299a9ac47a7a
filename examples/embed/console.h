/* The example's console (COM1) and its way out (QEMU's isa-debug-exit). */
#ifndef EMBED_CONSOLE_H
#define EMBED_CONSOLE_H

#include <stdarg.h>

void console_init(void);
void console_write(const char *s);
/* printf to the console. */
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_vprintf(const char *fmt, va_list ap);
/* Leave QEMU with status (code << 1) | 1 (isa-debug-exit at port 0xf4); halts elsewhere. */
_Noreturn void console_exit(int code);

#endif
