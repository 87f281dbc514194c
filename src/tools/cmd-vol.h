/* Helpers shared by the volume commands (cmd-vol*.c, cmd-rbd.c). */
#pragma once

#include "image/sp-pool.h"
#include "rbd/sp-rbd.h"
#include "tools/sp-cli.h"

/* Where a volume command works: --pool-dir DIR, or --pool-xml FILE (a
 * libvirt dir or rbd pool), and the secret: --secret-file FILE or
 * --secret-fd N (a LUKS passphrase for a dir pool, the cephx key of an
 * rbd pool's user). */
typedef struct {
    char *pool_dir;
    char *pool_xml;
    char *secret_file;
    gint secret_fd;
} SpCmdPoolOpts;

#define SP_CMD_POOL_OPTS_INIT                                                  \
    {                                                                          \
        .secret_fd = -1                                                        \
    }
void sp_cmd_pool_opts_clear(SpCmdPoolOpts *po);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpCmdPoolOpts, sp_cmd_pool_opts_clear)

/* The opened pool: exactly one of @dir and @rbd. */
typedef struct {
    SpPool *dir;
    SpRbdPool *rbd;
    SpRbdSource *src;
    SpSecret *key; /* the cephx key of an rbd pool */
} SpCmdTarget;

void sp_cmd_target_clear(SpCmdTarget *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpCmdTarget, sp_cmd_target_clear)

/* Parse a volume command's options: the pool options above plus @extra
 * (NULL-terminated, may be NULL), then exactly @n_args positional
 * arguments, named by @params in the usage error. FALSE with *exit_code
 * set (usage reported, or 0 after --help). */
gboolean sp_cmd_vol_parse(SpCli *cli, const char *command, const char *params,
                          const char *summary, const GOptionEntry *extra,
                          guint n_args, SpCmdPoolOpts *po, int *argc,
                          char ***argv, int *exit_code);

/* Open the pool @po names (sweeping what crashed operations left, as
 * before every CLI command). FALSE + *exit_code (reported) on failure. */
gboolean sp_cmd_open_target(SpCli *cli, const char *command,
                            const SpCmdPoolOpts *po, SpCmdTarget *t,
                            int *exit_code);

/* The secret of --secret-file/--secret-fd, or NULL (no error) if neither
 * was given. NULL + *exit_code on failure. */
SpSecret *sp_cmd_load_secret(SpCli *cli, const SpCmdPoolOpts *po,
                             int *exit_code);

/* The path of a volume (plain), or {"volume","path"} with --json. */
void sp_cmd_print_volume_path(SpCli *cli, const char *name, const char *path);

/* "POOL[/NS]/NAME": an RBD volume's libvirt path. */
char *sp_cmd_rbd_path(const SpCmdTarget *t, const char *name);

/* The rbd halves of the volume commands (cmd-rbd.c). */
int sp_cmd_rbd_list(SpCli *cli, SpCmdTarget *t, gboolean bytes);

/* One row of vol-list's table (@name NULL: the heading); sizes as virsh
 * vol-list --details shows them, or in bytes. */
void sp_cmd_list_row(const char *name, const char *format, guint64 capacity,
                     guint64 allocation, gboolean bytes);
int sp_cmd_rbd_dumpxml(SpCli *cli, SpCmdTarget *t, const char *name);
