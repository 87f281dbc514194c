/* One input of the sealed vTPM archive fuzz target (see the .c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

int sp_fuzz_vtpm_sealed_one(const uint8_t *data, size_t size);
