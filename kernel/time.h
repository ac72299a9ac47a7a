/* Monotonic time (kernel/time.c): TSC calibrated at boot. */
#ifndef VIREO_TIME_H
#define VIREO_TIME_H

#include <stdint.h>

/* Nanoseconds since the first kernel instruction. Monotonic. */
uint64_t time_ns(void);

#endif
