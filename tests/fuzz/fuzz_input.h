/*
 * What the fuzz targets share: reading the input byte by byte (zeroes once it runs out), and
 * check(), which reports a broken promise of the code under test and aborts, so libFuzzer keeps
 * the input.
 */
#ifndef VIREO_TESTS_FUZZ_INPUT_H
#define VIREO_TESTS_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct input {
	const uint8_t *p;
	size_t n;
};

static inline unsigned take(struct input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint32_t take32(struct input *in)
{
	uint32_t v = take(in);
	v |= (uint32_t)take(in) << 8;
	v |= (uint32_t)take(in) << 16;
	return v | (uint32_t)take(in) << 24;
}

static inline void fuzz_check_at(bool ok, const char *what, const char *file, int line)
{
	if (!ok) {
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
		abort();
	}
}
#define check(cond) fuzz_check_at((cond), #cond, __FILE__, __LINE__)

#endif
