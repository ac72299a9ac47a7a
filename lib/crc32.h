/* CRC-32 as zlib and IEEE 802.3 compute it (reflected polynomial 0xEDB88320), so a host can
 * check a result with Python's zlib.crc32. */
#ifndef VIREO_CRC32_H
#define VIREO_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: crc32_update(0, buf, len) gives the CRC of buf. */
uint32_t crc32_update(uint32_t crc, const void *buf, size_t len);

#endif
