/*
 * Run one cmocka test in a forked child of its own, for code under test that keeps static
 * state it never resets (the virtio core's device and driver tables). The child's output is
 * shown, as TAP comments, only when it fails.
 */
#ifndef VIREO_CMOCKA_ISOLATE_H
#define VIREO_CMOCKA_ISOLATE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

void cmocka_isolate(CMUnitTestFunction body, const char *name);

/* ISOLATED(test_x) defines test_x_isolated, which runs test_x in its own process. */
#define ISOLATED(fn)                                                                              \
	static void fn##_isolated(void **state)                                                   \
	{                                                                                         \
		(void)state;                                                                      \
		cmocka_isolate(fn, #fn);                                                          \
	}

#endif
