/* safepool's own image format inspector: identifies an image from bounded
 * reads of its headers (never qemu-img) and lists what makes it unsafe. */
#pragma once

#include <glib.h>

#include "conf/sp-format.h"
#include "conf/sp-policy.h"

typedef struct {
    SpFormat format;        /* detected (or, with an expected format whose
                               header is present, that one) */
    guint64 virtual_size;   /* guest-visible size in bytes */
    gboolean safe;
    GPtrArray *violations;  /* char*: stable names, e.g. "qcow2-backing-file" */
    guint64 bytes_read;     /* how much of the file was read */
} SpInspectResult;

void sp_inspect_result_free(SpInspectResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpInspectResult, sp_inspect_result_free)

/* Inspect the open file @fd. @expected = SP_FORMAT_UNKNOWN detects; else the
 * file is inspected as that format and a mismatch is a violation
 * ("format-mismatch"). Returns NULL only on I/O errors. */
SpInspectResult *sp_inspect_fd(int fd, SpFormat expected,
                               const SpPolicy *policy, GError **error);

/* The single gate every image passes before qemu-img may read it (backing
 * file, clone/convert source, upload, published volume): inspect @fd as
 * @expected; FALSE with SP_ERROR_UNSAFE_IMAGE (or SP_ERROR_FORMAT_MISMATCH)
 * and "<what>: unsafe image: <violation>[, ...]" otherwise. On success the
 * virtual size is stored in @virtual_size if non-NULL. */
gboolean sp_inspect_check(int fd, SpFormat expected, const SpPolicy *policy,
                          const char *what, guint64 *virtual_size,
                          GError **error);

/* The violations of @r joined with ", " (for messages). */
char *sp_inspect_violations_string(const SpInspectResult *r);
