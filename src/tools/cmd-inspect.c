/* `safepool inspect [--expect FORMAT] [--json] FILE...`: runs the image
 * inspector on files and reports format, size and violations. */
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <stdio.h>

#include "inspect/sp-inspect.h"
#include "tools/sp-cli.h"

static void
add_result_json(JsonBuilder *b, const char *path, const SpInspectResult *r)
{
    json_builder_begin_object(b);
    sp_json_str(b, "path", path);
    sp_json_str(b, "format", sp_format_to_string(r->format));
    /* every format whose signature matched (more than one: ambiguous) */
    json_builder_set_member_name(b, "formats");
    json_builder_begin_array(b);
    for (int f = SP_FORMAT_RAW; f < SP_FORMAT_LAST; f++)
        if (r->formats & SP_FORMAT_BIT(f))
            json_builder_add_string_value(b, sp_format_to_string((SpFormat)f));
    json_builder_end_array(b);
    sp_json_int(b, "virtual_size",
                (gint64)MIN(r->virtual_size, (guint64)G_MAXINT64));
    sp_json_bool(b, "safe", r->safe);
    json_builder_set_member_name(b, "violations");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->violations->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(r->violations, i));
    json_builder_end_array(b);
    sp_json_int(b, "bytes_read", (gint64)r->bytes_read);
    json_builder_end_object(b);
}

static void
add_error_json(JsonBuilder *b, const char *path, const GError *error)
{
    json_builder_begin_object(b);
    sp_json_str(b, "path", path);
    sp_json_error(b, "error", error);
    json_builder_end_object(b);
}

static SpInspectResult *
inspect_path(const char *path, SpFormat expected, const SpPolicy *policy,
             GError **error)
{
    g_autofd int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    g_autoptr(GError) local = NULL;
    SpInspectResult *r;

    if (fd < 0) {
        sp_error_set_errno(error, errno, _("%s: open"), path);
        return NULL;
    }
    r = sp_inspect_fd(fd, expected, policy, &local);
    if (!r)
        g_set_error(error, SP_ERROR,
                    local->domain == SP_ERROR ? local->code : SP_ERROR_FAILED,
                    "%s: %s", path, local->message);
    return r;
}

int
sp_cmd_inspect(SpCli *cli, int argc, char **argv)
{
    g_autofree char *expect = NULL;
    GOptionEntry entries[] = {
        {"expect", 0, 0, G_OPTION_ARG_STRING, &expect,
         N_("Inspect as this format; another format is a violation"),
         N_("FORMAT")},
        {NULL},
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    SpFormat expected = SP_FORMAT_UNKNOWN;
    const SpPolicy *policy;
    int exit_code = 0;

    if (!sp_cli_parse(cli, "inspect", N_("FILE..."),
                      N_("Identify image files and check that they are safe"),
                      entries, &argc, &argv, &exit_code))
        return exit_code;
    if (argc < 2)
        return sp_cli_usage(cli, "inspect", "%s", _("no FILE given"));
    if (expect) {
        expected = sp_format_from_string(expect);
        if (expected == SP_FORMAT_UNKNOWN)
            return sp_cli_usage(cli, "inspect",
                                _("--expect '%s': unknown format"), expect);
    }
    policy = sp_cli_policy(cli, &error);
    if (!policy)
        return sp_cli_fail(cli, error);

    json_builder_begin_array(b);
    for (int i = 1; i < argc; i++) {
        g_autoptr(GError) ferr = NULL;
        g_autoptr(SpInspectResult) r =
            inspect_path(argv[i], expected, policy, &ferr);

        if (!r) {
            fprintf(stderr, "safepool: %s\n", ferr->message);
            exit_code = MAX(exit_code, sp_error_exit_code(ferr));
            add_error_json(b, argv[i], ferr);
            continue;
        }
        if (!r->safe)
            exit_code = MAX(exit_code, 1);
        add_result_json(b, argv[i], r);
        if (!cli->json) {
            g_autofree char *list = sp_inspect_violations_string(r);
            g_autofree char *formats = sp_inspect_formats_string(r);
            printf("%s: %s, virtual size %" PRIu64 ", %s%s%s\n", argv[i],
                   r->format == SP_FORMAT_UNKNOWN
                       ? formats
                       : sp_format_to_string(r->format),
                   r->virtual_size, r->safe ? "safe" : "unsafe",
                   r->safe ? "" : ": ", list);
        }
    }
    json_builder_end_array(b);
    if (cli->json)
        sp_cli_print_builder(b);
    return exit_code;
}
