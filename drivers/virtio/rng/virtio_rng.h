/* virtio-rng (VIRTIO 1.2, 5.4 "Entropy Device"): random bytes from the host. */
#ifndef VIREO_VIRTIO_RNG_H
#define VIREO_VIRTIO_RNG_H

#include <stddef.h>

/* Register the driver with the virtio core. */
int virtio_rng_register(void);
/* Fill buf with len random bytes from the first entropy device. Returns len, or a negative
 * errno: -ENODEV (no device), -EIO (the queue broke), -ETIMEDOUT. */
long virtio_rng_read(void *buf, size_t len);

#endif
