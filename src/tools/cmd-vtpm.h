/* What the `safepool vtpm` subcommands share (cmd-vtpm*.c only). */
#pragma once

#include <glib.h>

#include "tools/cmd-vtpm-domain.h"
#include "tools/sp-cli.h"
#include "vtpm/sp-vtpm.h"

typedef struct {
    char *root;
    char *uuid;
    char *domain_xml;
    char *connect;
    char *domain;
    char *output;
    char *input;
    gboolean force;
    /* save and restore: where the archive goes or comes from, its key */
    char *to_volume;
    char *from_volume;
    char *key_file;
    int key_fd; /* -1: not given */
    char *passphrase_file;
    int passphrase_fd; /* -1: not given */
    char *secret;
    gboolean no_encrypt;
    gboolean allow_plain;
    gboolean keep_volume;
} VtpmOpts;

/* What every vtpm subcommand works with. */
typedef struct {
    SpCli *cli;
    const VtpmOpts *o;
    VtpmDomain *vd;
    SpVtpmRoot *root;
    SpVtpmSpec *spec;
    const SpPolicy *policy;
    const char *archive; /* for the report: the file or POOL/NAME */
    SpVtpmKey *key;      /* save/restore: dropped as soon as it served */
    SpSecret *tar;       /* restore: the plain archive, checked whole */
    gboolean sealed;     /* the archive written or read is sealed */
    char *key_id;        /* save: the key id in the sealed header */
} VtpmCtx;

gboolean sp_vtpm_cli_find_dir(VtpmCtx *c, GError **error);
gboolean sp_vtpm_cli_refuse_running(VtpmCtx *c, GError **error);

/* cmd-vtpm-archive.c: */

/* The usage error of the archive options for subcommand @sub, or NULL. */
const char *sp_vtpm_cli_archive_usage(const char *sub, const VtpmOpts *o);
/* Does this command talk to the daemon for more than the domain (a
 * volume or a secret: a read-write connection)? */
gboolean sp_vtpm_cli_needs_rw(const VtpmOpts *o);
/* Before the root is opened (nothing under it is touched before an
 * archive is authenticated): the policy's word on plain archives, the
 * key, and for restore the archive itself, read and checked whole. */
gboolean sp_vtpm_cli_prepare_save(VtpmCtx *c, GError **error);
gboolean sp_vtpm_cli_prepare_restore(VtpmCtx *c, GError **error);
gboolean sp_vtpm_cli_save(VtpmCtx *c, GError **error);
gboolean sp_vtpm_cli_restore(VtpmCtx *c, GError **error);
