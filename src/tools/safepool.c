/* safepool: the command-line front end over the core (interface.md).
 * Global options come before the command; each command parses its own. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "tools/sp-cli.h"

typedef struct {
    const char *name;
    int (*run)(SpCli *cli, int argc, char **argv);
    const char *summary;
} SpCommand;

static const SpCommand commands[] = {
    {"validate", sp_cmd_validate,
     N_("Check volume XML against schema and policy")},
    {"plan", sp_cmd_plan, N_("Print the operations vol-create would run")},
    {"vol-create", sp_cmd_vol_create, N_("Create (or clone) a volume")},
    {"vol-resize", sp_cmd_vol_resize, N_("Resize a volume")},
    {"vol-delete", sp_cmd_vol_delete, N_("Delete a volume")},
    {"vol-list", sp_cmd_vol_list, N_("List the volumes of a pool")},
    {"vol-dumpxml", sp_cmd_vol_dumpxml, N_("Print a volume as libvirt XML")},
    {"vol-adopt", sp_cmd_vol_adopt,
     N_("Record the format of a file copied into a pool")},
    {"vol-wipe", sp_cmd_vol_wipe, N_("Zero a volume in place")},
    {"vol-upload", sp_cmd_vol_upload,
     N_("Replace a volume's content with a file")},
    {"vol-download", sp_cmd_vol_download,
     N_("Write a volume's content to a file")},
    {"inspect", sp_cmd_inspect,
     N_("Identify image files and check their safety")},
    {"vtpm", sp_cmd_vtpm, N_("Manage vTPM (swtpm) state directories")},
    {"status", sp_cmd_status,
     N_("Tell whether safepool serves libvirt's storage")},
};

/* Core warnings and notices in the CLI's one-line shape. */
static void
cli_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
        gpointer data)
{
    if (level &
        (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
        fprintf(stderr, "safepool: %s: %s\n", _("warning"), message);
    else if (level & G_LOG_LEVEL_MESSAGE)
        fprintf(stderr, "safepool: %s: %s\n", _("notice"), message);
}

static void
print_help(FILE *out)
{
    fprintf(out, "%s",
            _("Usage: safepool [--config FILE] [--json] COMMAND [ARGS...]\n\n"
              "Commands:\n"));
    for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, _(commands[i].summary));
    fprintf(out, "%s",
            _("\nRun 'safepool COMMAND --help' for a command's options.\n"
              "Exit status: 0 done, 1 input rejected, 2 usage error,\n"
              "3 operation failed, 4 conflict.\n"));
}

int
main(int argc, char **argv)
{
    SpCli cli = {0};
    int i = 1;
    int rc;

    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    g_log_set_handler(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE,
                      cli_log, NULL);

    /* Global options, by hand: GOption would swallow the command's own. */
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (g_str_equal(argv[i], "--json")) {
            cli.json = TRUE;
        } else if (g_str_equal(argv[i], "--config") && i + 1 < argc) {
            cli.config_path = argv[++i];
        } else if (g_str_has_prefix(argv[i], "--config=")) {
            cli.config_path = argv[i] + strlen("--config=");
        } else if (g_str_equal(argv[i], "--help") ||
                   g_str_equal(argv[i], "-h")) {
            print_help(stdout);
            return 0;
        } else if (g_str_equal(argv[i], "--version")) {
            printf("safepool %s\n", PACKAGE_VERSION);
            return 0;
        } else {
            return sp_cli_usage(&cli, NULL, _("unknown option '%s'"), argv[i]);
        }
    }
    if (i >= argc) {
        print_help(stderr);
        return 2;
    }
    for (gsize c = 0; c < G_N_ELEMENTS(commands); c++) {
        if (g_str_equal(argv[i], commands[c].name)) {
            rc = commands[c].run(&cli, argc - i, argv + i);
            if (cli.policy)
                sp_policy_free(cli.policy);
            return rc;
        }
    }
    return sp_cli_usage(&cli, NULL, _("unknown command '%s'"), argv[i]);
}
