/* The console: the UART, a log in memory, and the quiet boot (see console.h). */
#include "kernel/console.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/serial.h"

#include <stdint.h>
#include <string.h>

#define LOG_SIZE 32768 /* a boot prints about 2 KiB */

static char log_buf[LOG_SIZE];
static size_t log_len;      /* bytes ever written: the newest is at (log_len - 1) % LOG_SIZE */
static bool quiet;
static char line[256];      /* the line being held back while quiet */
static size_t line_len;
static unsigned held;

static void uart_write(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			serial_putc('\r');
		serial_putc(buf[i]);
	}
}

static bool reports_problem(const char *s, size_t len)
{
	static const char *const words[] = {"error", "fail", "FAILED", "cannot", "bad ", "refus",
					    "ignored", "skipped", "warning", "no usable", "a guess"};
	char tmp[sizeof(line) + 1];
	memcpy(tmp, s, len);
	tmp[len] = 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(tmp, words[i]))
			return true;
	return false;
}

/* A whole line while quiet: to the UART only when it reports a problem. */
static void line_done(void)
{
	if (reports_problem(line, line_len))
		uart_write(line, line_len);
	else
		held++;
	line_len = 0;
}

void console_write(const char *buf, size_t len)
{
	uint64_t fl = cpu_irq_save(); /* one writer at a time: the log and the held line */
	for (size_t i = 0; i < len; i++)
		log_buf[(log_len + i) % LOG_SIZE] = buf[i];
	log_len += len;
	if (!quiet) {
		uart_write(buf, len);
	} else {
		for (size_t i = 0; i < len; i++) {
			if (line_len < sizeof(line))
				line[line_len++] = buf[i];
			if (buf[i] == '\n')
				line_done();
		}
	}
	cpu_irq_restore(fl);
}

unsigned console_quiet(bool on)
{
	uint64_t fl = cpu_irq_save();
	unsigned n = held;
	if (!on && line_len) /* a partial line: show it, the rest follows */
		uart_write(line, line_len);
	line_len = 0;
	held = 0;
	quiet = on;
	cpu_irq_restore(fl);
	return n;
}

void console_dmesg(void)
{
	size_t n = log_len < LOG_SIZE ? log_len : LOG_SIZE, start = log_len - n;
	char chunk[256];
	/* Copy out first: printing appends to the log being read. */
	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof(chunk) ? n - done : sizeof(chunk);
		for (size_t i = 0; i < k; i++)
			chunk[i] = log_buf[(start + done + i) % LOG_SIZE];
		uart_write(chunk, k);
		done += k;
	}
}
