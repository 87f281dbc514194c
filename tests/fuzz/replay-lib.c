/* Replays fuzz corpora as a normal test: every file of each directory
 * given (the seed corpus and any crash found since). */
#include "replay-lib.h"

#include <glib.h>
#include <stdio.h>

int
sp_fuzz_replay_main(int argc, char **argv, SpFuzzOneFunc one)
{
    guint count = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS-DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GDir) dir = g_dir_open(argv[i], 0, &error);
        const char *name;

        if (!dir) {
            fprintf(stderr, "%s\n", error->message);
            return 1;
        }
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *path = g_build_filename(argv[i], name, NULL);
            g_autofree char *data = NULL;
            gsize len;

            if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
                continue;
            if (!g_file_get_contents(path, &data, &len, &error)) {
                fprintf(stderr, "%s\n", error->message);
                return 1;
            }
            /* the last name in the log is the input that crashed */
            printf("%s\n", path);
            fflush(stdout);
            one((const guint8 *)data, len);
            count++;
        }
    }
    /* an empty corpus would make this test pass without testing anything */
    if (count == 0) {
        fprintf(stderr, "no corpus files\n");
        return 1;
    }
    printf("replayed %u inputs\n", count);
    return 0;
}
