/* Shared plumbing of the safepool CLI: options, errors, JSON. */
#include "tools/sp-cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/sp-json.h"

const SpPolicy *
sp_cli_policy(SpCli *cli, GError **error)
{
    if (!cli->policy)
        cli->policy = sp_policy_load(cli->config_path, error);
    return cli->policy;
}

int
sp_cli_fail(SpCli *cli, const GError *error)
{
    g_autoptr(GError) none = NULL;
    int code;

    /* only failure paths call this: a failure that forgot its reason is
     * still a failure (exit 3), never a silent success */
    if (!error)
        error = none = g_error_new_literal(
            SP_ERROR, SP_ERROR_FAILED,
            _("internal error: an operation failed without a reason"));
    code = sp_error_exit_code(error);
    /* One line: a multi-line tool stderr is folded into it. */
    g_autofree char *line = g_strdup(error->message);
    g_strdelimit(line, "\r\n", ' ');
    fprintf(stderr, "safepool: %s\n", line);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        sp_json_error(b, "error", error);
        json_builder_end_object(b);
        sp_cli_print_builder(b);
    }
    return code;
}

int
sp_cli_usage(SpCli *cli, const char *command, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autoptr(GError) error = g_error_new(
        SP_ERROR, SP_ERROR_USAGE, "%s: %s (see 'safepool %s --help')",
        command ? command : "usage", msg, command ? command : "");
    return sp_cli_fail(cli, error);
}

gboolean
sp_cli_parse(SpCli *cli, const char *command, const char *params,
             const char *summary, GOptionEntry *entries, int *argc,
             char ***argv, int *exit_code)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *prgname = g_strdup_printf("safepool %s", command);
    g_autoptr(GOptionContext) ctx = g_option_context_new(params);
    gboolean json = FALSE;
    gboolean progress = FALSE, no_progress = FALSE;
    GOptionEntry common[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Machine-readable output"),
         NULL},
        {"progress", 0, 0, G_OPTION_ARG_NONE, &progress,
         N_("Show bytes, rate and time left on stderr (default: when "
            "stdout is a terminal)"),
         NULL},
        {"no-progress", 0, 0, G_OPTION_ARG_NONE, &no_progress,
         N_("Never show progress"), NULL},
        {NULL},
    };

    g_option_context_set_summary(ctx, summary);
    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    if (entries)
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
    if (!cli->progress_options)
        common[1] = (GOptionEntry){NULL}; /* --json only */
    g_option_context_add_main_entries(ctx, common, GETTEXT_PACKAGE);
    /* "Usage: safepool COMMAND [OPTION…] PARAMS"; one command per process,
     * so the program name is set once. */
    g_set_prgname(prgname);
    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        *exit_code = sp_cli_usage(cli, command, "%s", error->message);
        return FALSE;
    }
    if (json)
        cli->json = TRUE;
    if (progress && no_progress) {
        *exit_code = sp_cli_usage(cli, command, "%s",
                                  _("--progress and --no-progress contradict"));
        return FALSE;
    }
    cli->progress = progress ? 1 : no_progress ? 0 : -1;
    *exit_code = 0;
    return TRUE;
}

/* "1:02:03" or "2:03" */
static char *
progress_time(double seconds)
{
    guint64 s = seconds < 0 ? 0 : (guint64)(seconds + 0.5);

    if (s >= 3600)
        return g_strdup_printf("%" G_GUINT64_FORMAT ":%02u:%02u", s / 3600,
                               (guint)(s / 60 % 60), (guint)(s % 60));
    return g_strdup_printf("%u:%02u", (guint)(s / 60), (guint)(s % 60));
}

static void
progress_draw(guint64 done, guint64 total, gpointer data)
{
    SpCliProgress *p = data;
    gint64 now = g_get_monotonic_time();
    double secs = (double)(now - p->start) / G_USEC_PER_SEC;
    double rate = secs > 0 ? (double)done / secs : 0;
    g_autofree char *d = sp_cli_size(done);
    g_autofree char *t = sp_cli_size(total);
    g_autofree char *r = sp_cli_size((guint64)rate);
    g_autofree char *eta = NULL;
    g_autofree char *line = NULL;
    int len;

    if (done < total && p->width && now - p->last < G_USEC_PER_SEC / 5)
        return;
    p->last = now;
    eta = done >= total ? progress_time(secs)
          : rate > 0    ? progress_time((double)(total - done) / rate)
                        : g_strdup("-:--");
    line = g_strdup_printf("%s: %s / %s (%3.0f%%), %s/s, %s %s", p->what, d, t,
                           total ? 100.0 * (double)done / (double)total : 100.0,
                           r, eta, done >= total ? _("total") : _("left"));
    len = (int)strlen(line);
    fprintf(stderr, "\r%s%*s", line, p->width > len ? p->width - len : 0, "");
    fflush(stderr);
    p->width = MAX(p->width, len);
}

const SpProgress *
sp_cli_progress_start(SpCli *cli, SpCliProgress *p, const char *what)
{
    *p = (SpCliProgress){.what = what, .start = g_get_monotonic_time()};
    if (cli->progress == 0 || (cli->progress < 0 && !isatty(STDOUT_FILENO)))
        return NULL;
    p->progress.func = progress_draw;
    p->progress.data = p;
    return &p->progress;
}

void
sp_cli_progress_end(SpCliProgress *p)
{
    if (p->width)
        fputc('\n', stderr);
    p->width = 0;
}

char *
sp_cli_size(guint64 bytes)
{
    /* virsh's vshPrettyCapacity: the largest unit the value reaches */
    static const char *const units[] = {"B",   "KiB", "MiB", "GiB",
                                        "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    guint u = 0;

    while (v >= 1024.0 && u + 1 < G_N_ELEMENTS(units)) {
        v /= 1024.0;
        u++;
    }
    return g_strdup_printf("%.2f %s", v, units[u]);
}

void
sp_cli_print_json(JsonNode *node)
{
    g_autofree char *text = sp_json_to_text(node, NULL);

    printf("%s\n", text);
    fflush(stdout);
}

void
sp_cli_print_builder(JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);

    sp_cli_print_json(root);
}

void
sp_json_str(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

void
sp_json_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

void
sp_json_bool(JsonBuilder *b, const char *name, gboolean value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_boolean_value(b, value);
}

void
sp_json_error(JsonBuilder *b, const char *name, const GError *error)
{
    g_autofree char *line = g_strdup(error->message);

    g_strdelimit(line, "\r\n", ' ');
    if (name)
        json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    sp_json_str(b, "code", sp_error_code_name(error));
    sp_json_int(b, "exit", sp_error_exit_code(error));
    sp_json_str(b, "message", line);
    if (sp_error_element(error))
        sp_json_str(b, "element", sp_error_element(error));
    json_builder_end_object(b);
}
