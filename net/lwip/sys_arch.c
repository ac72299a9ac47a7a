/*
 * What lwIP asks of the platform in NO_SYS mode: a millisecond clock, random numbers and a
 * place for assertions to land.
 */
#include "kernel/time.h"
#include "lwip/arch.h"
#include "lwip/sys.h"

#ifdef VIREO_KERNEL
#include "arch/x86_64/cpu.h"
#endif

#include <stdio.h>
#include <stdlib.h>

/* lwIP's timers compare sys_now() values with wrap-around arithmetic, so a 32-bit millisecond
 * count that wraps after 49 days is what it expects. */
u32_t sys_now(void)
{
	return (u32_t)(time_ns() / 1000000u);
}

/* rand() is 31 bits wide in newlib; mix two calls for a full 32. Not cryptographic: lwIP uses
 * it for DHCP transaction ids, TCP initial sequence numbers and ephemeral ports. The seed is
 * set from the clock in net_stack_init. */
uint32_t vireo_lwip_rand(void)
{
	return ((uint32_t)rand() << 16) ^ (uint32_t)rand();
}

_Noreturn void vireo_lwip_assert(const char *msg, const char *file, int line)
{
	printf("lwip: assertion \"%s\" failed at %s:%d\n", msg, file, line);
#ifdef VIREO_KERNEL
	cpu_halt_forever();
#else
	abort();
#endif
}
