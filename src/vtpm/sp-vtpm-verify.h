/* Checking a state against what the domain and the policy require, and
 * fixing exactly the differences found. */
#pragma once

#include <glib.h>

#include "vtpm/sp-vtpm.h"

typedef struct {
    char *path;  /* relative to the root: ".", "<uuid>", "<uuid>/tpm2/x" */
    char *field; /* "owner", "mode", "label", "type" */
    char *expected;
    char *actual;
    gboolean fixed; /* relabel changed it */
} SpVtpmDiff;

void sp_vtpm_diff_free(SpVtpmDiff *d);

/* Differences of root, <uuid> (root:root 0711) and the tpm dir and all
 * below it (spec->uid:gid, modes of sp_vtpm_mode_ok, spec->label when set).
 * With @fix, owner/mode/label differences are corrected on O_NOFOLLOW fds
 * and marked fixed; other entry types (symlinks, ...) are never touched
 * and stay reported. Returns the array of SpVtpmDiff (empty: all good). */
GPtrArray *sp_vtpm_check(SpVtpmRoot *root, const SpVtpmSpec *spec, gboolean fix,
                         GError **error);
