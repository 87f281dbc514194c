/* Hostile vTPM archives: each is refused with exit 1 naming the reason,
 * and the root (with an existing state) stays byte-for-byte as it was;
 * every case runs as a plain archive (--allow-plain) and sealed with the
 * right key (the checks after unsealing are the same). */
#include <archive_entry.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vtpm-testlib.h"
#include "vtpm/sp-vtpm-seal.h"

#define GOOD "good swtpm state bytes\n"
#define GIB2 (G_GINT64_CONSTANT(2) << 30)

static char *
manifest_for(const char *good_data, const char *extra)
{
    g_autofree char *sum = vt_sha(good_data);

    return g_strdup_printf(
        "{\"format\": \"safepool-vtpm-state/1\", \"uuid\": \"" VT_UUID "\","
        " \"tpm_dir\": \"tpm2\", \"source_label\": null, \"entries\": ["
        "{\"path\": \"tpm2\", \"type\": \"dir\", \"mode\": 448},"
        "{\"path\": \"tpm2/good\", \"type\": \"file\", \"mode\": 384,"
        " \"size\": %zu, \"sha256\": \"%s\"}%s]}",
        strlen(good_data), sum, extra ? extra : "");
}

typedef struct {
    const char *name;
    VtEntry entries[4];
    gsize n;
    const char *manifest_extra; /* appended to the entries list */
    gboolean no_manifest;
    gboolean truncate;
    const char *needle;
} HostileCase;

#define DIR_E                                                                  \
    {                                                                          \
        "tpm2/", AE_IFDIR, NULL, NULL, NULL, -1, FALSE                         \
    }
#define GOOD_E                                                                 \
    {                                                                          \
        "tpm2/good", AE_IFREG, GOOD, NULL, NULL, -1, FALSE                     \
    }

static const HostileCase cases[] = {
    {"dotdot",
     {DIR_E, GOOD_E, {"tpm2/../../evil", AE_IFREG, "x", NULL, NULL, -1, FALSE}},
     3,
     NULL,
     FALSE,
     FALSE,
     "entry 'tpm2/../../evil': '..' component"},
    {"absolute",
     {DIR_E,
      GOOD_E,
      {"/tmp/vtpm-hostile-evil", AE_IFREG, "x", NULL, NULL, -1, FALSE}},
     3,
     NULL,
     FALSE,
     FALSE,
     "entry '/tmp/vtpm-hostile-evil': absolute path"},
    {"symlink-then-file",
     {DIR_E,
      {"tpm2/good", AE_IFLNK, NULL, "/etc/shadow", NULL, 0, FALSE},
      GOOD_E},
     3,
     NULL,
     FALSE,
     FALSE,
     "entry 'tpm2/good': symlinks are not allowed"},
    {"hardlink",
     {DIR_E,
      GOOD_E,
      {"tpm2/hl", AE_IFREG, NULL, NULL, "/etc/passwd", 0, FALSE}},
     3,
     NULL,
     FALSE,
     FALSE,
     "entry 'tpm2/hl': hard links are not allowed"},
    {"device",
     {DIR_E, GOOD_E, {"tpm2/null", AE_IFCHR, NULL, NULL, NULL, 0, FALSE}},
     3,
     NULL,
     FALSE,
     FALSE,
     "entry 'tpm2/null': device nodes are not allowed"},
    {"fifo",
     {DIR_E, GOOD_E, {"tpm2/fifo", AE_IFIFO, NULL, NULL, NULL, 0, FALSE}},
     3,
     NULL,
     FALSE,
     FALSE,
     "entry 'tpm2/fifo': fifos are not allowed"},
    /* built by GNU tar --sparse from a 2 GiB file with one 4 KiB extent */
    {"sparse-2g",
     {DIR_E, GOOD_E, {"tpm2/big", AE_IFREG, NULL, NULL, NULL, GIB2, TRUE}},
     3,
     NULL,
     FALSE,
     FALSE,
     "entry 'tpm2/big': size above the archive limit"},
    {"sparse-2g-in-manifest",
     {DIR_E, GOOD_E},
     2,
     ",{\"path\": \"tpm2/big\", \"type\": \"file\", \"mode\": 384, \"size\": "
     "2147483648,"
     " \"sha256\": "
     "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}",
     FALSE,
     FALSE,
     "entry 'tpm2/big': size missing or above the limit"},
    {"content-mismatch",
     {DIR_E,
      {"tpm2/good", AE_IFREG, "evil swtpm state bytes\n", NULL, NULL, -1,
       FALSE}},
     2,
     NULL,
     FALSE,
     FALSE,
     "entry 'tpm2/good': sha256 disagrees with the manifest"},
    {"size-mismatch",
     {DIR_E, {"tpm2/good", AE_IFREG, "short", NULL, NULL, -1, FALSE}},
     2,
     NULL,
     FALSE,
     FALSE,
     "entry 'tpm2/good': size disagrees with the manifest"},
    {"truncated",
     {DIR_E, GOOD_E},
     2,
     NULL,
     FALSE,
     TRUE,
     "truncated or corrupt"},
    {"no-manifest",
     {DIR_E, GOOD_E},
     2,
     NULL,
     TRUE,
     FALSE,
     "first entry is not MANIFEST.json"},
    {"not-in-manifest",
     {DIR_E, GOOD_E, {"tpm2/extra", AE_IFREG, "x", NULL, NULL, -1, FALSE}},
     3,
     NULL,
     FALSE,
     FALSE,
     "entry 'tpm2/extra': not listed in the manifest"},
    {"missing-entry",
     {DIR_E},
     1,
     NULL,
     FALSE,
     FALSE,
     "entry 'tpm2/good': listed in the manifest but missing"},
};

/* libarchive's writer pads sparse entries to their full size; GNU tar
 * writes a real pax sparse entry (GNU.sparse.* records). */
static void
build_sparse_with_tar(VtFixture *f, const char *tar, const char *manifest)
{
    g_autofree char *src = g_build_filename(f->dir, "src", NULL);
    g_autofree char *tpm = g_build_filename(src, "tpm2", NULL);
    g_autofree char *m = g_build_filename(src, "MANIFEST.json", NULL);
    g_autofree char *good = g_build_filename(tpm, "good", NULL);
    g_autofree char *big = g_build_filename(tpm, "big", NULL);
    const char *argv[] = {
        "tar",       "--format=pax", "--sparse", "--no-recursion", "-C",
        src,         "-cf",          tar,        "MANIFEST.json",  "tpm2",
        "tpm2/good", "tpm2/big",     NULL};
    g_autoptr(GError) error = NULL;
    int status = -1;
    FILE *fp;
    struct stat st;

    g_assert_cmpint(g_mkdir_with_parents(tpm, 0700), ==, 0);
    vt_write(m, manifest, 0600);
    vt_write(good, GOOD, 0600);
    fp = fopen(big, "w");
    g_assert_nonnull(fp);
    g_assert_cmpint(fputs("data", fp), >=, 0);
    g_assert_cmpint(ftruncate(fileno(fp), GIB2), ==, 0);
    fclose(fp);
    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                 NULL, NULL, &status, &error);
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_assert_cmpint(stat(tar, &st), ==, 0);
    g_assert_cmpint(st.st_size, <, 1 << 20); /* really sparse */
}

/* Seal @tar in place with the fixture's key (chunks of 4 KiB). */
static void
seal_file(VtFixture *f, const char *tar)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *plain = NULL, *key = NULL;
    gsize plen = 0, klen = 0;
    g_autoptr(SpVtpmKey) k = NULL;
    g_autoptr(GBytes) sealed = NULL;

    g_assert_true(g_file_get_contents(tar, &plain, &plen, NULL));
    g_assert_true(g_file_get_contents(f->key, &key, &klen, NULL));
    k = sp_vtpm_key_new(SP_VTPM_KEY_RAW,
                        sp_secret_new((const guint8 *)key, klen), "test key",
                        &error);
    g_assert_no_error(error);
    sealed = sp_vtpm_seal(k, (const guint8 *)plain, plen,
                          SP_VTPM_SEAL_CHUNK_MIN, NULL, &error);
    g_assert_no_error(error);
    g_file_set_contents(tar, g_bytes_get_data(sealed, NULL),
                        g_bytes_get_size(sealed), &error);
    g_assert_no_error(error);
}

/* Plain archives are tried with a policy that allows them. */
static void
allow_plain(VtFixture *f)
{
    g_autoptr(GError) error = NULL;

    g_file_set_contents(f->config,
                        "[vtpm]\nswtpm_user=tss\n"
                        "swtpm_group=tss\nrequire_sealed=false\n",
                        -1, &error);
    g_assert_no_error(error);
}

static void
run_hostile(const HostileCase *c, gboolean sealed)
{
    VtFixture f;
    g_autofree char *manifest = NULL, *tar = NULL, *before = NULL;
    g_autofree char *after = NULL, *err = NULL, *out = NULL;

    vt_setup(&f);
    vt_make_state(&f);
    manifest = manifest_for(GOOD, c->manifest_extra);
    tar = g_build_filename(f.dir, "hostile.tar", NULL);
    if (c->n == 3 && c->entries[2].sparse)
        build_sparse_with_tar(&f, tar, manifest);
    else
        vt_build_archive(tar, c->no_manifest ? NULL : manifest, c->entries,
                         c->n);
    if (c->truncate) {
        g_autofree char *bytes = NULL;
        gsize len = 0;
        const char *at;

        g_assert_true(g_file_get_contents(tar, &bytes, &len, NULL));
        /* cut inside the last member's data */
        at = memmem(bytes, len, GOOD, strlen(GOOD));
        g_assert_nonnull(at);
        g_assert_cmpint(truncate(tar, at - bytes + 5), ==, 0);
    }
    if (sealed)
        seal_file(&f, tar);
    else
        allow_plain(&f);
    before = vt_snapshot(f.root);
    g_assert_cmpint(vt_run(&out, &err, NULL, "vtpm", "restore", "--root",
                           f.root, "--domain-xml", f.dom_xml, "--input", tar,
                           sealed ? "--key-file" : "--allow-plain",
                           sealed ? f.key : NULL, NULL),
                    ==, 1);
    if (!strstr(err, c->needle))
        g_error("%s: stderr '%s' lacks '%s'", c->name, err, c->needle);
    g_assert_true(g_str_has_prefix(err, "safepool: archive '"));
    g_assert_cmpint(strchr(err, '\n') - err + 1, ==,
                    strlen(err)); /* one line */
    after = vt_snapshot(f.root);
    g_assert_cmpstr(before, ==, after);
    g_assert_false(g_file_test("/tmp/vtpm-hostile-evil", G_FILE_TEST_EXISTS));
    vt_teardown(&f);
}

static void
test_hostile_plain(gconstpointer data)
{
    run_hostile(data, FALSE);
}

static void
test_hostile_sealed(gconstpointer data)
{
    run_hostile(data, TRUE);
}

/* The same builder and manifest without the hostile entry are accepted:
 * the refusals above are due to the hostile entries alone. */
static void
run_control(gboolean sealed)
{
    VtFixture f;
    g_autofree char *manifest = manifest_for(GOOD, NULL);
    g_autofree char *tar = NULL, *good = NULL, *data = NULL;
    VtEntry entries[] = {DIR_E, GOOD_E};

    vt_setup(&f);
    vt_make_state(&f);
    tar = g_build_filename(f.dir, "control.tar", NULL);
    vt_build_archive(tar, manifest, entries, G_N_ELEMENTS(entries));
    if (sealed)
        seal_file(&f, tar);
    else
        allow_plain(&f);
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "restore", "--root",
                           f.root, "--domain-xml", f.dom_xml, "--input", tar,
                           sealed ? "--key-file" : "--allow-plain",
                           sealed ? f.key : NULL, NULL),
                    ==, 0);
    good = g_build_filename(f.state, "good", NULL);
    g_assert_true(g_file_get_contents(good, &data, NULL, NULL));
    g_assert_cmpstr(data, ==, GOOD);
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "verify", "--root", f.root,
                           "--domain-xml", f.dom_xml, NULL),
                    ==, 0);
    vt_teardown(&f);
}

static void
test_control(void)
{
    run_control(FALSE);
    run_control(TRUE);
}

/* A zero-length MANIFEST.json is refused as empty (json-glib would take
 * its NULL buffer for a programming error), sealed as plain. */
static void
test_manifest_empty(void)
{
    VtEntry entries[] = {DIR_E, GOOD_E};

    for (int sealed = 0; sealed < 2; sealed++) {
        VtFixture f;
        g_autofree char *tar = NULL, *err = NULL, *before = NULL;
        g_autofree char *after = NULL;

        vt_setup(&f);
        vt_make_state(&f);
        tar = g_build_filename(f.dir, "empty.tar", NULL);
        vt_build_archive(tar, "", entries, G_N_ELEMENTS(entries));
        if (sealed)
            seal_file(&f, tar);
        else
            allow_plain(&f);
        before = vt_snapshot(f.root);
        g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "restore", "--root",
                               f.root, "--domain-xml", f.dom_xml, "--input",
                               tar, sealed ? "--key-file" : "--allow-plain",
                               sealed ? f.key : NULL, NULL),
                        ==, 1);
        g_assert_nonnull(strstr(err, "manifest: empty"));
        after = vt_snapshot(f.root);
        g_assert_cmpstr(before, ==, after);
        vt_teardown(&f);
    }
}

int
main(int argc, char **argv)
{
    if (!vt_test_init(&argc, &argv))
        return 77; /* skipped */
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *plain =
            g_strdup_printf("/vtpm/hostile/plain/%s", cases[i].name);
        g_autofree char *sealed =
            g_strdup_printf("/vtpm/hostile/sealed/%s", cases[i].name);

        g_test_add_data_func(plain, &cases[i], test_hostile_plain);
        g_test_add_data_func(sealed, &cases[i], test_hostile_sealed);
    }
    g_test_add_func("/vtpm/hostile/control-accepted", test_control);
    g_test_add_func("/vtpm/hostile/manifest-empty", test_manifest_empty);
    return g_test_run();
}
