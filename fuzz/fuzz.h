/* fuzz.h: the libFuzzer entry point every fuzz target defines (fuzz/README.md). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Feeds one input to the code under test; returns 0. Must not leak or crash on any
 * input: a crash, a sanitizer report or a leak is the finding. */
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
