/*
 * The kernel console (kernel/console.c): everything the kernel prints goes to the COM1 serial
 * port (arch/x86_64/serial.c) and into a log kept in memory, which `dmesg` shows.
 *
 * With the `quiet` option the boot's progress lines go to the log only, until "vireo: ready":
 * under emulation each byte on the UART costs an exit to the VMM and a write on the host, so a
 * quiet boot is a faster boot (Linux's `quiet` is the same idea). Lines that report a problem
 * (they contain "error", "fail", "FAILED", "cannot", "bad ", "refus", "ignored", "skipped",
 * "warning", "no usable" or "a guess") still reach the console.
 */
#ifndef VIREO_CONSOLE_H
#define VIREO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

/* Write len bytes to the console, translating "\n" to "\r\n". Safe in interrupt context. */
void console_write(const char *buf, size_t len);
/* Next received byte, or -1 when none is waiting. Never blocks. */
int console_getc_nonblock(void);
/* Hold progress lines back from the UART (true) until console_quiet(false); returns how many
 * lines were held back since the last console_quiet(true). */
unsigned console_quiet(bool on);
/* Print the log (the oldest lines are gone once it has wrapped). */
void console_dmesg(void);

#endif
