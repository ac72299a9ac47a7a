/*
 * The C library the virtio stack calls (memset, memcpy, strcmp, snprintf, vsnprintf) and
 * main.c's strlen and strncmp, for a kernel that has none. vsnprintf knows what the stack's messages use: flags - 0 #, a width,
 * a precision (for %s too), the lengths hh h l ll z, and d i u x X c s p %.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n && *a && *a == *b; n--)
		a++, b++;
	return n ? (unsigned char)*a - (unsigned char)*b : 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

/* Output that counts every character but stores only what fits, as C's snprintf does. */
struct out {
	char *buf;
	size_t size, len;
};

static void emit(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		emit(o, c);
}

/* One converted field: prefix ("0x", "-"), then digits or text, padded to width. */
static void field(struct out *o, const char *prefix, const char *body, int blen, int width,
		  bool left, bool zero)
{
	int plen = (int)strlen(prefix), fill = width - plen - blen;
	if (!left && !zero)
		pad(o, ' ', fill);
	for (const char *p = prefix; *p; p++)
		emit(o, *p);
	if (!left && zero)
		pad(o, '0', fill);
	for (int i = 0; i < blen; i++)
		emit(o, body[i]);
	if (left)
		pad(o, ' ', fill);
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
	struct out o = {buf, size, 0};
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			emit(&o, *f);
			continue;
		}
		bool left = false, zero = false, alt = false;
		for (;; f++) {
			if (f[1] == '-')
				left = true;
			else if (f[1] == '0')
				zero = true;
			else if (f[1] == '#')
				alt = true;
			else
				break;
		}
		int width = 0, prec = -1;
		if (f[1] == '*')
			width = va_arg(ap, int), f++;
		while (f[1] >= '0' && f[1] <= '9')
			width = width * 10 + (*++f - '0');
		if (f[1] == '.') {
			f++, prec = 0;
			if (f[1] == '*')
				prec = va_arg(ap, int), f++;
			while (f[1] >= '0' && f[1] <= '9')
				prec = prec * 10 + (*++f - '0');
		}
		int lng = 0; /* -2 hh, -1 h, 1 l, 2 ll or z */
		for (; f[1] == 'l' || f[1] == 'h' || f[1] == 'z'; f++)
			lng = f[1] == 'l' ? lng + 1 : f[1] == 'z' ? 2 : lng - 1;
		char c = *++f, digits[24];
		if (!c)
			break;
		if (c == 's') {
			const char *s = va_arg(ap, const char *);
			s = s ? s : "(null)";
			int n = 0;
			while (s[n] && (prec < 0 || n < prec))
				n++;
			field(&o, "", s, n, width, left, false);
		} else if (c == 'c') {
			char ch = (char)va_arg(ap, int);
			field(&o, "", &ch, 1, width, left, false);
		} else if (c == 'd' || c == 'i' || c == 'u' || c == 'x' || c == 'X' || c == 'p') {
			uint64_t v;
			bool neg = false;
			if (c == 'p')
				v = (uintptr_t)va_arg(ap, void *), alt = true, lng = 2;
			else if (c == 'd' || c == 'i') {
				int64_t s = lng >= 2 ? va_arg(ap, long long) : lng == 1 ? va_arg(ap, long)
										   : va_arg(ap, int);
				s = lng == -1 ? (short)s : lng <= -2 ? (signed char)s : s;
				neg = s < 0;
				v = neg ? -(uint64_t)s : (uint64_t)s;
			} else {
				v = lng >= 2 ? va_arg(ap, unsigned long long)
				    : lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
				v = lng == -1 ? (unsigned short)v : lng <= -2 ? (unsigned char)v : v;
			}
			unsigned base = (c == 'x' || c == 'X' || c == 'p') ? 16 : 10;
			const char *set = c == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
			if (v == 0 && c != 'p')
				alt = false; /* C prints 0 for %#x of 0 */
			int n = 0;
			do
				digits[sizeof(digits) - 1 - n++] = set[v % base];
			while ((v /= base) != 0);
			const char *prefix = neg ? "-" : (alt && base == 16) ? (c == 'X' ? "0X" : "0x") : "";
			field(&o, prefix, digits + sizeof(digits) - n, n, width, left, zero);
		} else {
			emit(&o, c); /* "%%", and anything unknown, printed as it stands */
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
