/* Restores one input as a vTPM archive into a scratch root, then removes
 * what it made: every input starts from a root that holds only its lock
 * file, and a restored state must pass sp_vtpm_check as it stands. */
#include "fuzz-vtpm-archive-one.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz-check.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-lock.h"
#include "vtpm/sp-vtpm.h"

#define ARCHIVE_MAX (1024 * 1024) /* per entry and in total */

/* Once per process: <dir>/root (the vTPM root, locked for the whole run)
 * and <dir>/in/archive (each input). On tmpfs when there is one, so the
 * fsyncs of restore cost nothing. */
static struct {
    char *dir;
    char *root_path;
    char *in_dir;
    char *input;
    SpVtpmRoot *root;
} scratch;

static void
scratch_remove(void)
{
    g_clear_pointer(&scratch.root, sp_vtpm_root_free);
    if (scratch.root_path) {
        g_autofree char *lock =
            g_build_filename(scratch.root_path, SP_LOCK_FILE, NULL);
        unlink(lock);
        rmdir(scratch.root_path);
    }
    if (scratch.input) {
        unlink(scratch.input);
        rmdir(scratch.in_dir);
    }
    if (scratch.dir)
        rmdir(scratch.dir);
}

static void
scratch_init(void)
{
    g_autoptr(GError) error = NULL;

    if (scratch.root)
        return;
    if (g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)) {
        scratch.dir = g_strdup("/dev/shm/sp-fuzz-vtpm-XXXXXX");
        if (!g_mkdtemp(scratch.dir))
            g_clear_pointer(&scratch.dir, g_free);
    }
    if (!scratch.dir)
        scratch.dir = g_dir_make_tmp("sp-fuzz-vtpm-XXXXXX", &error);
    if (!scratch.dir)
        sp_fuzz_fail("vtpm scratch", "%s", error->message);
    atexit(scratch_remove);
    scratch.root_path = g_build_filename(scratch.dir, "root", NULL);
    scratch.in_dir = g_build_filename(scratch.dir, "in", NULL);
    scratch.input = g_build_filename(scratch.in_dir, "archive", NULL);
    if (g_mkdir(scratch.in_dir, 0700) < 0)
        sp_fuzz_fail("vtpm scratch", "%s: %s", scratch.in_dir,
                     g_strerror(errno));
    /* created here (root:root 0711), so it needs root as restore does */
    scratch.root = sp_vtpm_root_open(scratch.root_path, TRUE, FALSE, &error);
    if (!scratch.root)
        sp_fuzz_fail("vtpm scratch", "%s", error->message);
}

static void
write_input(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autofd int fd =
        open(scratch.input, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0 || !sp_fs_write_all(fd, data, size, &error))
        sp_fuzz_fail("vtpm input", "%s: %s", scratch.input,
                     error ? error->message : g_strerror(errno));
}

/* The root must hold nothing but its lock file between inputs. */
static void
check_root_empty(const char *after)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) names = sp_fs_list(scratch.root->fd, &error);

    if (!names)
        sp_fuzz_fail("vtpm root", "%s", error->message);
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        if (!g_str_equal(name, SP_LOCK_FILE))
            sp_fuzz_fail("vtpm root", "'%s' left behind by %s", name, after);
    }
}

/* A state restore published is one verify accepts without a fix. */
static void
check_restored(const SpVtpmSpec *spec)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) diffs = NULL;

    if (!spec->uuid || !spec->tpm_dir)
        sp_fuzz_fail("vtpm restore", "succeeded without uuid or tpm dir");
    diffs = sp_vtpm_check(scratch.root, spec, FALSE, &error);
    if (!diffs)
        sp_fuzz_fail("vtpm check", "%s", error->message);
    for (guint i = 0; i < diffs->len; i++) {
        const SpVtpmDiff *d = diffs->pdata[i];
        sp_fuzz_fail("vtpm check",
                     "restored state differs: '%s' %s is %s, "
                     "expected %s",
                     d->path, d->field, d->actual, d->expected);
    }
    if (!sp_vtpm_delete(scratch.root, spec->uuid, &error))
        sp_fuzz_fail("vtpm delete", "%s", error->message);
}

int
sp_fuzz_vtpm_archive_one(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_auto(SpVtpmSpec) spec = {NULL};
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(SpSecret) tar = NULL;
    gboolean ok;

    sp_fuzz_setup();
    scratch_init();
    write_input(data, size);
    spec.uid = getuid();
    spec.gid = getgid();
    /* plain archives (sealed ones are fuzz-vtpm-sealed's); the input file
     * goes through the same reader as `safepool vtpm restore --input` */
    bytes = sp_vtpm_archive_read(scratch.input, ARCHIVE_MAX, &error);
    if (bytes)
        tar = sp_vtpm_archive_open(g_bytes_get_data(bytes, NULL),
                                   g_bytes_get_size(bytes), "archive", NULL,
                                   TRUE, ARCHIVE_MAX, &error);
    ok = tar && sp_vtpm_restore(scratch.root, &spec, tar, "archive",
                                ARCHIVE_MAX, &error);
    if (ok) {
        check_restored(&spec);
    } else {
        /* LOCKED and FAILED are not the archive's doing */
        sp_fuzz_check_refusal(
            "vtpm restore", error,
            SP_FUZZ_CODE(SP_ERROR_INVALID) | SP_FUZZ_CODE(SP_ERROR_NOT_FOUND) |
                SP_FUZZ_CODE(SP_ERROR_EXISTS) | SP_FUZZ_CODE(SP_ERROR_USAGE));
    }
    check_root_empty(ok ? "restore and delete" : "a failed restore");
    g_ptr_array_set_size(scratch.root->notices, 0);
    return 0;
}
