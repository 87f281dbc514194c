/* One fuzz input through the inspector (shared by libFuzzer and replay). */
#pragma once

#include <stddef.h>
#include <stdint.h>

int sp_fuzz_inspect_one(const uint8_t *data, size_t size);
