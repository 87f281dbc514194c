/* Shared plumbing of the safepool CLI: global options, error reporting with
 * the exit codes of interface.md, JSON output. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "conf/sp-policy.h"
#include "util/sp-error.h"
#include "util/sp-i18n.h"
#include "util/sp-progress.h"

typedef struct {
    const char *config_path; /* --config, or NULL */
    gboolean json;           /* --json */
    SpPolicy *policy;        /* loaded lazily by sp_cli_policy() */
    /* Set by a command that copies data before sp_cli_parse(): it offers
     * --progress / --no-progress, read into @progress (-1: on when stdout
     * is a terminal). */
    gboolean progress_options;
    int progress;
} SpCli;

/* A progress meter on stderr: bytes done and total, rate, time left;
 * redrawn at most five times a second and once at the end. */
typedef struct {
    const char *what;
    gint64 start;
    gint64 last;
    int width; /* of the last line drawn, 0: none yet */
    SpProgress progress;
} SpCliProgress;

/* Start @p for @what: the SpProgress to hand to the core, or NULL when no
 * meter is wanted (--no-progress, or stdout not a terminal without
 * --progress). */
const SpProgress *sp_cli_progress_start(SpCli *cli, SpCliProgress *p,
                                        const char *what);
/* End the meter's line, if one was drawn. */
void sp_cli_progress_end(SpCliProgress *p);

/* The policy (loads it on first use). NULL + error if the file is bad. */
const SpPolicy *sp_cli_policy(SpCli *cli, GError **error);

/* Print "safepool: <message>" on stderr (and with --json a
 * {"error": {"code", "message"}} document on stdout); return its exit
 * code. Only for failures: a NULL @error is reported as an internal
 * error (exit 3), never as success. */
int sp_cli_fail(SpCli *cli, const GError *error);

/* Usage error: print message + hint, return 2. */
int sp_cli_usage(SpCli *cli, const char *command, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Parse a command's options with GOptionContext; --json is accepted after
 * the command too. Returns FALSE (and sets *exit_code = 2 or 0 for --help)
 * when the caller should return. Leaves positional args in argc/argv
 * (argv[0] = command name). */
gboolean sp_cli_parse(SpCli *cli, const char *command, const char *params,
                      const char *summary, GOptionEntry *entries, int *argc,
                      char ***argv, int *exit_code);

/* @bytes the way virsh shows sizes ("4.00 GiB", "512.00 B"): binary units,
 * two decimals. Newly allocated. */
char *sp_cli_size(guint64 bytes);

/* Print a JSON node (pretty) on stdout. */
void sp_cli_print_json(JsonNode *node);
/* Print what @b built. */
void sp_cli_print_builder(JsonBuilder *b);

/* JSON members: the one set of helpers every command writes with. A NULL
 * string is null. */
void sp_json_str(JsonBuilder *b, const char *name, const char *value);
void sp_json_int(JsonBuilder *b, const char *name, gint64 value);
void sp_json_bool(JsonBuilder *b, const char *name, gboolean value);
/* The one JSON shape of an error, as member @name (NULL: as a value):
 * {"code": "invalid", "exit": 1, "message": "...", "element": "..."}
 * ("element" when the error names one of the volume XML). */
void sp_json_error(JsonBuilder *b, const char *name, const GError *error);

/* Command entry points: argv[0] is the command name. Return exit status. */
int sp_cmd_validate(SpCli *cli, int argc, char **argv);
int sp_cmd_plan(SpCli *cli, int argc, char **argv);
int sp_cmd_vol_create(SpCli *cli, int argc, char **argv);
int sp_cmd_vol_resize(SpCli *cli, int argc, char **argv);
int sp_cmd_vol_delete(SpCli *cli, int argc, char **argv);
int sp_cmd_vol_list(SpCli *cli, int argc, char **argv);
int sp_cmd_vol_dumpxml(SpCli *cli, int argc, char **argv);
int sp_cmd_vol_adopt(SpCli *cli, int argc, char **argv);
int sp_cmd_vol_wipe(SpCli *cli, int argc, char **argv);
int sp_cmd_vol_upload(SpCli *cli, int argc, char **argv);
int sp_cmd_vol_download(SpCli *cli, int argc, char **argv);
int sp_cmd_inspect(SpCli *cli, int argc, char **argv);
int sp_cmd_vtpm(SpCli *cli, int argc, char **argv);
int sp_cmd_status(SpCli *cli, int argc, char **argv);
