/* The entry point libFuzzer calls with each input (every tests/fuzz/fuzz_*.c defines it). */
#ifndef VIREO_TESTS_FUZZ_TARGET_H
#define VIREO_TESTS_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
