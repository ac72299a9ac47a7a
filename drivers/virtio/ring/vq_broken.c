/*
 * A queue's broken state (docs/VRING.md, "Hardening"): the first reason is kept, formatted here
 * rather than with vsnprintf (the core may only use the freestanding headers, and a message
 * needs nothing but strings and unsigned numbers), and logged once.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "drivers/virtio/ring/vq_format.h"

static void buf_puts(char *buf, size_t size, size_t *pos, const char *s)
{
	while (*s && *pos + 1 < size)
		buf[(*pos)++] = *s++;
}

static void buf_putu(char *buf, size_t size, size_t *pos, unsigned long v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n > 0 && *pos + 1 < size)
		buf[(*pos)++] = tmp[--n];
}

/* Tiny formatter: %u (unsigned int), %lu (unsigned long), %s, %%. */
static void vq_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t pos = 0;

	for (; *fmt && pos + 1 < size; fmt++) {
		if (*fmt != '%') {
			buf[pos++] = *fmt;
			continue;
		}
		fmt++;
		if (*fmt == 'u') {
			buf_putu(buf, size, &pos, va_arg(ap, unsigned int));
		} else if (fmt[0] == 'l' && fmt[1] == 'u') {
			fmt++;
			buf_putu(buf, size, &pos, va_arg(ap, unsigned long));
		} else if (*fmt == 's') {
			const char *s = va_arg(ap, const char *);
			buf_puts(buf, size, &pos, s ? s : "(null)");
		} else if (*fmt == '%') {
			buf[pos++] = '%';
		} else {
			break; /* unknown conversion: stop rather than misread the arguments */
		}
	}
	buf[pos] = '\0';
}

void vq_set_broken(struct virtqueue *vq, const char *fmt, ...)
{
	va_list ap;

	if (vq->broken)
		return; /* keep the first reason: later ones are usually consequences */
	va_start(ap, fmt);
	vq_vformat(vq->broken_reason, sizeof(vq->broken_reason), fmt, ap);
	va_end(ap);
	vq->broken = true;
	virtio_log("virtio: queue %s/%u broken: %s\n", vq->name ? vq->name : "?", vq->index,
		   vq->broken_reason);
}
