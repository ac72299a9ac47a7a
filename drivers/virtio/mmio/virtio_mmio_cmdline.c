/*
 * The Linux command line syntax for virtio-mmio devices, which Firecracker, cloud-hypervisor
 * and QEMU's Linux/PVH boot paths on microvm use: virtio_mmio.device=<size>@<base>:<irq>[:<id>]
 * (Linux's Documentation/admin-guide/kernel-parameters.txt). Pure parsing: no device is touched.
 */
#include "drivers/virtio/mmio/virtio_mmio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A number in C notation (0x hex or decimal) at *s; advances *s past it. false when there is
 * none or it does not fit 64 bits. */
static bool number(const char **s, uint64_t *out)
{
	const char *p = *s;
	unsigned base = 10;
	uint64_t v = 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	const char *start = p;
	for (;; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	if (p == start)
		return false;
	*s = p;
	*out = v;
	return true;
}

int virtio_mmio_parse(const char *s, struct virtio_mmio_window *w, char *why, unsigned len)
{
	const char *p = s;
	uint64_t size, base, irq, id;
	memset(w, 0, sizeof(*w));
	if (!number(&p, &size) || size == 0)
		goto bad_size;
	unsigned shift = 0;
	switch (*p) {
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	}
	if (shift) {
		if (size > UINT64_MAX >> shift)
			goto bad_size;
		size <<= shift;
		p++;
	}
	if (*p++ != '@' || !number(&p, &base)) {
		snprintf(why, len, "'%s': want <size>@<base>:<irq>", s);
		return -EINVAL;
	}
	if (base == 0 || base + size < base) {
		snprintf(why, len, "'%s': the window %s", s,
			 base ? "wraps around the address space" : "is at address 0");
		return -EINVAL;
	}
	if (*p++ != ':' || !number(&p, &irq) || irq > 0xffffffffu) {
		snprintf(why, len, "'%s': no interrupt line after the base (<size>@<base>:<irq>)", s);
		return -EINVAL;
	}
	if (*p == ':' && (++p, !number(&p, &id))) {
		snprintf(why, len, "'%s': the optional :<id> is not a number", s);
		return -EINVAL;
	}
	if (*p) {
		snprintf(why, len, "'%s': unexpected '%s' at the end", s, p);
		return -EINVAL;
	}
	w->phys = base;
	w->size = size;
	w->irq = (uint32_t)irq;
	w->irq_level = false;
	w->irq_active_low = false;
	w->source = "cmdline";
	return 0;

bad_size:
	snprintf(why, len, "'%s': the size is not a number (with an optional K, M or G)", s);
	return -EINVAL;
}
