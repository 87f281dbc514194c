/* One fuzz input as volume XML (shared by libFuzzer and replay). */
#pragma once

#include <stddef.h>
#include <stdint.h>

int sp_fuzz_volume_one(const uint8_t *data, size_t size);
