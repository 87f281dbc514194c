/* Images qemu-img made, written again: an operation the plan marks
 * reusable (an empty qcow2 with no backing file, encryption,
 * preallocation or file flag) produces the same bytes from the same
 * qemu-img and arguments (tests/image/test-template.c compares them), so
 * the executor runs it, sandboxed, once per shape and per process, and
 * writes those bytes for the next volume of that shape. Every volume still
 * passes the inspector before it is published. */
#pragma once

#include <glib.h>

#include "image/sp-plan.h"

/* If what @op would write is known, write it to @fd (the operation's new,
 * empty output) and set *@hit. FALSE only on a write error. */
gboolean sp_template_write(const SpOperation *op, int fd, gboolean *hit,
                           GError **error);

/* Keep what @op, just run successfully, wrote to @fd (if it is small). */
void sp_template_store(const SpOperation *op, int fd);

/* Forget every kept image (tests). */
void sp_template_clear(void);
