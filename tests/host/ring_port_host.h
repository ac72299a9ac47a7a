/* Test/bench-only hooks of the host implementation of drivers/virtio/ring/ring_port.h. */
#ifndef VIREO_TESTS_RING_PORT_HOST_H
#define VIREO_TESTS_RING_PORT_HOST_H

#include <stdbool.h>
#include <stddef.h>

/* Number of virtio_dma_alloc blocks not yet freed (leak checks). */
long virtio_host_dma_outstanding(void);
/* Make the n-th next virtio_dma_alloc fail (1 = the next one); 0 disables. */
void virtio_host_dma_fail_at(int n);
/* true: virtio_log keeps only the last message (fuzzer, noisy tests); false: also stderr. */
void virtio_host_log_quiet(bool quiet);
/* Last message passed to virtio_log ("" if none). */
const char *virtio_host_last_log(void);
/* Number of virtio_log calls so far. */
unsigned long virtio_host_log_count(void);

#endif
