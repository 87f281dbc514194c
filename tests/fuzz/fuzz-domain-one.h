/* One fuzz input as domain XML (shared by libFuzzer and replay). */
#pragma once

#include <stddef.h>
#include <stdint.h>

int sp_fuzz_domain_one(const uint8_t *data, size_t size);
