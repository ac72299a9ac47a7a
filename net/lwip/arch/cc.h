/*
 * lwIP's compiler/platform header for Vireo (lwIP 2.1.3 src/include/lwip/arch.h): x86_64,
 * little endian, newlib's stdint/inttypes, diagnostics through printf. The same header serves
 * the kernel (VIREO_KERNEL) and the host unit tests (VIREO_HOST).
 */
#ifndef VIREO_LWIP_ARCH_CC_H
#define VIREO_LWIP_ARCH_CC_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

/* ssize_t comes from sys/types.h (newlib and glibc); lwIP's arch.h would typedef its own int
 * one unless SSIZE_MAX says it exists. */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN
#endif

/* Byte swaps as single instructions instead of def.c's shifts. */
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

/* lwIP's errno values: not needed without sockets, but keep lwIP from defining its own. */
#define LWIP_ERRNO_STDINCLUDE 1

/* lwIP's random numbers (DHCP xid, TCP ISS, local ports): sys_arch.c, from rand(). */
uint32_t vireo_lwip_rand(void);
#define LWIP_RAND() vireo_lwip_rand()

/* An lwIP assertion is a bug in lwIP or in the port, not a device misbehaving: say where and
 * stop (the kernel halts, host tests abort). */
_Noreturn void vireo_lwip_assert(const char *msg, const char *file, int line);
#define LWIP_PLATFORM_DIAG(x)                                                                     \
	do {                                                                                      \
		printf x;                                                                         \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x) vireo_lwip_assert((x), __FILE__, __LINE__)

#endif
