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

/* What @op's output depends on: the qemu-img binary by identity (device,
 * inode, size, mtime, ctime: an upgrade is a new shape) and its argv
 * without the output path. NULL: @op is not reusable. Taken once, before
 * the run, so a binary replaced during it cannot file its bytes under the
 * new one. */
char *sp_template_shape(const SpOperation *op);

/* If the bytes of @shape (may be NULL) are kept, write them to @fd (the
 * operation's new, still empty output) and set *@hit. FALSE only on a
 * write error. */
gboolean sp_template_write(const char *shape, int fd, gboolean *hit,
                           GError **error);

/* Keep what the run of @shape (may be NULL) wrote to @fd, if small. */
void sp_template_store(const char *shape, int fd);

/* Forget every kept image (tests). */
void sp_template_clear(void);
