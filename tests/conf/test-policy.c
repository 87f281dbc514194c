/* Policy file loading: defaults, every key of the sample, strict key and
 * value checking, sizes, owner names, and the swtpm identity rule. */
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "conf/sp-policy.h"
#include "util/sp-error.h"

static char *tmpdir;

static char *
write_tmp(const char *name, const char *text)
{
    char *path = g_build_filename(tmpdir, name, NULL);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static SpPolicy *
load_text(const char *text, GError **error)
{
    g_autofree char *path = write_tmp("policy.conf", text);

    return sp_policy_load(path, error);
}

static gboolean
has_id(const GArray *a, guint32 id)
{
    for (guint i = 0; i < a->len; i++) {
        if (g_array_index(a, guint32, i) == id)
            return TRUE;
    }
    return FALSE;
}

static void
assert_policies_equal(const SpPolicy *a, const SpPolicy *b)
{
    g_assert_cmpuint(a->allowed_formats, ==, b->allowed_formats);
    g_assert_cmpuint(a->max_capacity, ==, b->max_capacity);
    g_assert_cmpuint(a->default_mode, ==, b->default_mode);
    g_assert_cmpuint(a->allowed_owners->len, ==, b->allowed_owners->len);
    g_assert_cmpuint(a->allowed_groups->len, ==, b->allowed_groups->len);
    g_assert_cmpmem(a->allowed_owners->data, a->allowed_owners->len * 4,
                    b->allowed_owners->data, b->allowed_owners->len * 4);
    g_assert_cmpmem(a->allowed_groups->data, a->allowed_groups->len * 4,
                    b->allowed_groups->data, b->allowed_groups->len * 4);
    g_assert_cmpuint(g_strv_length(a->backing_roots), ==,
                     g_strv_length(b->backing_roots));
    g_assert_cmpint(a->allow_extended_l2, ==, b->allow_extended_l2);
    g_assert_cmpint(a->allow_shared_write, ==, b->allow_shared_write);
    g_assert_cmpuint(a->luks_versions, ==, b->luks_versions);
    g_assert_cmpuint(a->max_image_read, ==, b->max_image_read);
    g_assert_cmpstr(a->qemu_img, ==, b->qemu_img);
    g_assert_cmpuint(a->timeout_sec, ==, b->timeout_sec);
    g_assert_cmpuint(a->cpu_limit_sec, ==, b->cpu_limit_sec);
    g_assert_cmpuint(a->as_limit_bytes, ==, b->as_limit_bytes);
    g_assert_cmpint(a->sandbox, ==, b->sandbox);
    g_assert_cmpstr(a->luks_cipher_alg, ==, b->luks_cipher_alg);
    g_assert_cmpstr(a->luks_cipher_mode, ==, b->luks_cipher_mode);
    g_assert_cmpstr(a->luks_hash, ==, b->luks_hash);
    g_assert_cmpstr(a->luks_ivgen_alg, ==, b->luks_ivgen_alg);
    g_assert_cmpstr(a->luks_ivgen_hash, ==, b->luks_ivgen_hash);
    g_assert_cmpuint(a->luks_iter_time_ms, ==, b->luks_iter_time_ms);
    g_assert_cmpstr(a->vtpm_root, ==, b->vtpm_root);
    g_assert_cmpstr(a->swtpm_user, ==, b->swtpm_user);
    g_assert_cmpstr(a->swtpm_group, ==, b->swtpm_group);
    g_assert_cmpstr(a->qemu_conf, ==, b->qemu_conf);
    g_assert_cmpuint(a->vtpm_archive_max, ==, b->vtpm_archive_max);
    g_assert_cmpint(a->vtpm_require_sealed, ==, b->vtpm_require_sealed);
    g_assert_cmpuint(a->vtpm_argon2_memory, ==, b->vtpm_argon2_memory);
    g_assert_cmpuint(a->vtpm_argon2_iterations, ==, b->vtpm_argon2_iterations);
    g_assert_cmpuint(a->vtpm_argon2_max_memory, ==, b->vtpm_argon2_max_memory);
    g_assert_cmpuint(a->vtpm_argon2_max_iterations, ==,
                     b->vtpm_argon2_max_iterations);
    g_assert_cmpuint(a->rbd_features_allowed, ==, b->rbd_features_allowed);
    g_assert_cmpuint(a->rbd_features, ==, b->rbd_features);
    g_assert_cmpstr(a->rbd_data_pool, ==, b->rbd_data_pool);
    g_assert_cmpuint(g_strv_length(a->rbd_namespaces), ==,
                     g_strv_length(b->rbd_namespaces));
    g_assert_cmpint(a->rbd_require_namespace, ==, b->rbd_require_namespace);
    g_assert_cmpuint(a->rbd_timeout_sec, ==, b->rbd_timeout_sec);
    g_assert_cmpuint(a->rbd_lock_lease_sec, ==, b->rbd_lock_lease_sec);
    g_assert_cmpuint(a->rbd_lock_wait_sec, ==, b->rbd_lock_wait_sec);
    g_assert_cmpint(a->rbd_flatten_clones, ==, b->rbd_flatten_clones);
}

static void
test_defaults(void)
{
    g_autoptr(SpPolicy) p = sp_policy_new_default();

    g_assert_cmpuint(p->allowed_formats, ==,
                     SP_FORMAT_BIT(SP_FORMAT_RAW) |
                         SP_FORMAT_BIT(SP_FORMAT_QCOW2));
    g_assert_cmpuint(p->max_capacity, ==, G_GUINT64_CONSTANT(16) << 40);
    g_assert_cmpuint(p->default_mode, ==, 0600);
    g_assert_true(has_id(p->allowed_owners, 0));
    g_assert_true(has_id(p->allowed_groups, 0));
    g_assert_cmpuint(g_strv_length(p->backing_roots), ==, 0);
    g_assert_true(p->allow_extended_l2);
    g_assert_cmpuint(p->luks_versions, ==, (1u << 1) | (1u << 2));
    g_assert_cmpuint(p->max_image_read, ==, 1024 * 1024);
    g_assert_cmpstr(p->qemu_img, ==, "/usr/bin/qemu-img");
    g_assert_cmpuint(p->timeout_sec, ==, 3600);
    g_assert_cmpuint(p->cpu_limit_sec, ==, 1800);
    g_assert_cmpuint(p->as_limit_bytes, ==, G_GUINT64_CONSTANT(4) << 30);
    g_assert_cmpstr(p->luks_cipher_alg, ==, "aes-256");
    g_assert_cmpstr(p->luks_cipher_mode, ==, "xts");
    g_assert_cmpstr(p->luks_hash, ==, "sha256");
    g_assert_cmpstr(p->luks_ivgen_alg, ==, "plain64");
    g_assert_cmpstr(p->luks_ivgen_hash, ==, "sha256");
    g_assert_cmpuint(p->luks_iter_time_ms, ==, 2000);
    g_assert_cmpstr(p->vtpm_root, ==, "/var/lib/libvirt/swtpm");
    g_assert_null(p->swtpm_user);
    g_assert_null(p->swtpm_group);
    g_assert_cmpstr(p->qemu_conf, ==, "/etc/libvirt/qemu.conf");
    g_assert_cmpuint(p->vtpm_archive_max, ==, 64u << 20);
    g_assert_true(p->vtpm_require_sealed);
    g_assert_cmpuint(p->vtpm_argon2_memory, ==, 256u << 20);
    g_assert_cmpuint(p->vtpm_argon2_iterations, ==, 3);
    g_assert_cmpuint(p->vtpm_argon2_max_memory, ==, 1u << 30);
    g_assert_cmpuint(p->vtpm_argon2_max_iterations, ==, 10);
}

/* xml/safepool.conf must list every key with its default: uncommenting all
 * of its "#key=value" lines gives exactly the built-in defaults, and every
 * key the loader knows appears. */
static void
test_sample_documents_defaults(void)
{
    g_autofree char *sample = g_build_filename(g_getenv("SAFEPOOL_SRCDIR"),
                                               "xml", "safepool.conf", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) as_is = NULL;
    g_autoptr(SpPolicy) uncommented = NULL;
    g_autoptr(SpPolicy) defaults = sp_policy_new_default();
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_auto(GStrv) known = sp_policy_known_keys();
    g_autofree char *group = NULL;
    gsize nkeys = 0;

    g_assert_true(g_file_get_contents(sample, &text, NULL, NULL));
    as_is = sp_policy_load(sample, &error);
    g_assert_no_error(error);
    assert_policies_equal(as_is, defaults);

    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        const char *l = lines[i];
        if (l[0] == '#' && g_ascii_isalpha(l[1]) && strchr(l, '=') &&
            !strchr(l, ' ')) {
            g_autofree char *key = g_strndup(l + 1, strcspn(l + 1, "="));
            g_autofree char *full = g_strdup_printf("%s.%s", group, key);

            g_assert_true(g_strv_contains((const char *const *)known, full));
            nkeys++;
            /* Default accounts missing on this host are skipped only in
             * the built-in list; written into a file they are an error. */
            if ((g_str_has_prefix(l, "#allowed_owners=") &&
                 !getpwnam("libvirt-qemu")) ||
                (g_str_has_prefix(l, "#allowed_groups=") &&
                 (!getgrnam("libvirt-qemu") || !getgrnam("kvm"))))
                continue;
            g_string_append_printf(out, "%s\n", l + 1);
        } else if (l[0] == '[') {
            g_string_append_printf(out, "%s\n", l);
            g_free(group);
            group = g_strndup(l + 1, strcspn(l + 1, "]"));
        }
    }
    /* every key the loader knows, and no other */
    g_assert_cmpuint(nkeys, ==, g_strv_length(known));
    g_assert_true(g_key_file_load_from_data(kf, out->str, -1, 0, NULL));
    uncommented = load_text(out->str, &error);
    g_assert_no_error(error);
    assert_policies_equal(uncommented, defaults);
}

/* safepool.conf(5) names every key under its [group] heading (it is made
 * from the sample, which the test above holds to the loader). */
static void
test_man_page_lists_every_key(void)
{
    const char *dir = g_getenv("SAFEPOOL_MAN_DIR");
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    g_auto(GStrv) known = sp_policy_known_keys();

    if (!dir) {
        g_test_skip("SAFEPOOL_MAN_DIR is not set");
        return;
    }
    path = g_build_filename(dir, "safepool.conf.5", NULL);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    for (guint i = 0; known[i]; i++) {
        g_autofree char *group = g_strndup(known[i], strcspn(known[i], "."));
        g_autofree char *heading = g_strdup_printf("[%s]", group);
        const char *key = known[i] + strlen(group) + 1;
        const char *start = strstr(text, heading);
        const char *end;
        g_autofree char *section = NULL;
        g_autofree char *term = g_strdup_printf("\\fB%s\\fP", key);

        /* rst2man writes '-' as '\-' */
        g_autofree char *h2 = NULL;
        if (!start) {
            g_autoptr(GString) esc = g_string_new(heading);
            g_string_replace(esc, "-", "\\-", 0);
            h2 = g_string_free(g_steal_pointer(&esc), FALSE);
            start = strstr(text, h2);
        }
        if (!start)
            g_error("safepool.conf.5 has no section %s", heading);
        end = strstr(start + 1, "\n.SS ");
        section =
            end ? g_strndup(start, (gsize)(end - start)) : g_strdup(start);
        if (!strstr(section, term))
            g_error("safepool.conf.5 does not document %s", known[i]);
    }
}

/* [rbd]: features and their dependencies, namespaces, time limits. */
static void
test_rbd(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) d = sp_policy_new_default();
    g_autoptr(SpPolicy) p = NULL;
    static const char *const bad[] = {
        "[rbd]\nfeatures=layering;journaling\n",      /* unknown feature */
        "[rbd]\nfeatures=object-map\n",               /* needs exclusive-lock */
        "[rbd]\nfeatures=exclusive-lock;fast-diff\n", /* needs object-map */
        "[rbd]\nfeatures_allowed=layering\n",         /* default not allowed */
        "[rbd]\nnamespaces=rbd/a/b\n",
        "[rbd]\nnamespaces=r@b\n",
        "[rbd]\ndata_pool=a/b\n",
        "[rbd]\ntimeout=0\n",
        "[rbd]\nlock_lease=forever\n",
        "[rbd]\nconf_rbd_cache=false\n", /* unknown key */
    };

    g_assert_cmpuint(d->rbd_features, ==, 0x3d);
    g_assert_cmpuint(d->rbd_timeout_sec, ==, 30);
    p = load_text("[rbd]\nfeatures_allowed=layering;exclusive-lock\n"
                  "features=layering\ndata_pool=ec\n"
                  "namespaces=rbd/tenant1;rbd2/*;rbd3\nrequire_namespace=true\n"
                  "timeout=5\nlock_lease=7\nlock_wait=9\nflatten_clones=true\n",
                  &error);
    g_assert_no_error(error);
    g_assert_cmpuint(p->rbd_features_allowed, ==, 0x5);
    g_assert_cmpuint(p->rbd_features, ==, 0x1);
    g_assert_cmpstr(p->rbd_data_pool, ==, "ec");
    g_assert_cmpuint(g_strv_length(p->rbd_namespaces), ==, 3);
    g_assert_cmpstr(p->rbd_namespaces[1], ==, "rbd2/*");
    g_assert_true(p->rbd_require_namespace);
    g_assert_cmpuint(p->rbd_timeout_sec, ==, 5);
    g_assert_cmpuint(p->rbd_lock_lease_sec, ==, 7);
    g_assert_cmpuint(p->rbd_lock_wait_sec, ==, 9);
    g_assert_true(p->rbd_flatten_clones);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(SpPolicy) b = load_text(bad[i], &error);

        g_assert_null(b);
        g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "rbd"));
        g_clear_error(&error);
    }
}

static void
test_load_values(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) p = load_text(
        "[volumes]\nformats=raw;qcow2;vmdk;vhd\nmax_capacity=2T\n"
        "default_mode=0640\nallowed_owners=root;107\nallowed_groups=0;+108\n"
        "backing_roots=/srv/base//images/;/var/lib/x\n"
        "[inspector]\nallow_extended_l2=false\nluks_versions=2\n"
        "max_image_read=4M\n"
        "[qemu-img]\nqemu_img=/opt/bin/qemu-img\ntimeout=60\ncpu_limit=30\n"
        "address_space_limit=2G\n"
        "[luks]\ncipher_alg=aes-128\niter_time=100\n"
        "[vtpm]\nroot=/srv/swtpm\nswtpm_user=root\narchive_max_size=1M\n"
        "require_sealed=false\nargon2_memory=8K\nargon2_iterations=1\n"
        "argon2_max_memory=2G\nargon2_max_iterations=4\n",
        &error);

    g_assert_no_error(error);
    g_assert_cmpuint(
        p->allowed_formats, ==,
        SP_FORMAT_BIT(SP_FORMAT_RAW) | SP_FORMAT_BIT(SP_FORMAT_QCOW2) |
            SP_FORMAT_BIT(SP_FORMAT_VMDK) | SP_FORMAT_BIT(SP_FORMAT_VPC));
    g_assert_cmpuint(p->max_capacity, ==, G_GUINT64_CONSTANT(2) << 40);
    g_assert_cmpuint(p->default_mode, ==, 0640);
    g_assert_cmpuint(p->allowed_owners->len, ==, 2);
    g_assert_true(has_id(p->allowed_owners, 0));
    g_assert_true(has_id(p->allowed_owners, 107));
    g_assert_true(has_id(p->allowed_groups, 0));
    g_assert_true(has_id(p->allowed_groups, 108));
    g_assert_cmpuint(g_strv_length(p->backing_roots), ==, 2);
    g_assert_cmpstr(p->backing_roots[0], ==, "/srv/base/images");
    g_assert_cmpstr(p->backing_roots[1], ==, "/var/lib/x");
    g_assert_false(p->allow_extended_l2);
    g_assert_cmpuint(p->luks_versions, ==, 1u << 2);
    g_assert_cmpuint(p->max_image_read, ==, 4u << 20);
    g_assert_cmpstr(p->qemu_img, ==, "/opt/bin/qemu-img");
    g_assert_cmpuint(p->timeout_sec, ==, 60);
    g_assert_cmpuint(p->cpu_limit_sec, ==, 30);
    g_assert_cmpuint(p->as_limit_bytes, ==, G_GUINT64_CONSTANT(2) << 30);
    g_assert_cmpstr(p->luks_cipher_alg, ==, "aes-128");
    g_assert_cmpstr(p->luks_cipher_mode, ==, "xts");
    g_assert_cmpuint(p->luks_iter_time_ms, ==, 100);
    g_assert_cmpstr(p->vtpm_root, ==, "/srv/swtpm");
    g_assert_cmpstr(p->swtpm_user, ==, "root");
    g_assert_cmpuint(p->vtpm_archive_max, ==, 1u << 20);
    g_assert_false(p->vtpm_require_sealed);
    g_assert_cmpuint(p->vtpm_argon2_memory, ==, 8192);
    g_assert_cmpuint(p->vtpm_argon2_iterations, ==, 1);
    g_assert_cmpuint(p->vtpm_argon2_max_memory, ==, 2u << 30);
    g_assert_cmpuint(p->vtpm_argon2_max_iterations, ==, 4);
}

static void
assert_rejected(const char *text, const char *needle)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) p = load_text(text, &error);

    g_assert_null(p);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    if (!strstr(error->message, needle))
        g_error("'%s' not in '%s'", needle, error->message);
    g_assert_nonnull(strstr(error->message, "policy file '"));
}

static void
test_rejects(void)
{
    assert_rejected("[volumes]\nfoo=1\n", "unknown key 'volumes.foo'");
    assert_rejected("[volumes]\nmax_capacity=1T\n[luks]\nciper_alg=x\n",
                    "unknown key 'luks.ciper_alg'");
    assert_rejected("[volume]\nformats=raw\n", "unknown group '[volume]'");
    assert_rejected("[volumes]\nmax_capacity=ten\n", "volumes.max_capacity");
    assert_rejected("[volumes]\nmax_capacity=16Z\n", "volumes.max_capacity");
    assert_rejected("[volumes]\nmax_capacity=16E\n", "volumes.max_capacity");
    assert_rejected("[volumes]\nmax_capacity=-1\n", "volumes.max_capacity");
    assert_rejected("[volumes]\nformats=raw;foo\n", "'foo'");
    assert_rejected("[volumes]\nformats=gpt\n", "'gpt'");
    /* defect 18: formats safepool never publishes */
    assert_rejected("[volumes]\nformats=raw;qed\n", "'qed'");
    assert_rejected("[volumes]\nformats=iso\n", "'iso'");
    /* a key given twice was silently the last one */
    assert_rejected("[volumes]\nmax_capacity=1G\nmax_capacity=1T\n",
                    "more than once");
    assert_rejected("[volumes]\ndefault_mode=0666\n", "world-writable");
    assert_rejected("[volumes]\ndefault_mode=4600\n", "setuid");
    assert_rejected("[volumes]\ndefault_mode=rw\n", "volumes.default_mode");
    assert_rejected("[volumes]\nallowed_owners=root;no-such-user-sp\n",
                    "'no-such-user-sp': no such user");
    assert_rejected("[volumes]\nallowed_groups=no-such-group-sp\n",
                    "'no-such-group-sp': no such group");
    assert_rejected("[volumes]\nbacking_roots=relative/dir\n",
                    "volumes.backing_roots");
    assert_rejected("[volumes]\nbacking_roots=/srv/../etc\n",
                    "volumes.backing_roots");
    assert_rejected("[volumes]\nbacking_roots=/\n", "volumes.backing_roots");
    assert_rejected("[inspector]\nallow_extended_l2=yes\n",
                    "inspector.allow_extended_l2");
    assert_rejected("[inspector]\nluks_versions=1;3\n",
                    "inspector.luks_versions");
    assert_rejected("[qemu-img]\nqemu_img=qemu-img\n", "qemu-img.qemu_img");
    assert_rejected("[qemu-img]\ntimeout=0\n", "qemu-img.timeout");
    assert_rejected("[qemu-img]\ntimeout=1h\n", "qemu-img.timeout");
    assert_rejected("[luks]\ncipher_alg=aes,key=x\n", "luks.cipher_alg");
    assert_rejected("[luks]\nhash=\n", "luks.hash");
    assert_rejected("[vtpm]\nroot=swtpm\n", "vtpm.root");
    assert_rejected("[vtpm]\nrequire_sealed=1\n", "vtpm.require_sealed");
    assert_rejected("[vtpm]\nargon2_memory=4K\n", "vtpm.argon2_memory");
    assert_rejected("[vtpm]\nargon2_memory=10000\n", "vtpm.argon2_memory");
    assert_rejected("[vtpm]\nargon2_max_memory=5T\n", "vtpm.argon2_max_memory");
    assert_rejected("[vtpm]\nargon2_iterations=0\n", "vtpm.argon2_iterations");
    assert_rejected("[vtpm]\nargon2_iterations=4294967296\n",
                    "vtpm.argon2_iterations");
    assert_rejected("[vtpm]\nargon2_memory=2G\n",
                    "argon2_max_memory and argon2_max_iterations must be");
    assert_rejected("[vtpm]\nargon2_iterations=11\n",
                    "argon2_max_memory and argon2_max_iterations must be");
    assert_rejected("not a key file\n", "policy file");
}

/* Text after a NUL is not seen by the duplicate check but by GKeyFile. */
static void
test_nul_byte(void)
{
    static const char text[] = "[volumes]\nformats=raw\n\0\nformats=qcow2\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) p =
        sp_policy_load_data(text, sizeof text - 1, "nul.conf", &error);

    g_assert_null(p);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "policy file 'nul.conf': contains a NUL byte");
}

static void
test_missing_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename(tmpdir, "absent.conf", NULL);
    g_autoptr(SpPolicy) p = sp_policy_load(path, &error);

    g_assert_null(p);
    g_assert_error(error, SP_ERROR, SP_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, path));
}

static void
test_env_config(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path =
        write_tmp("env.conf", "[volumes]\nmax_capacity=5G\n");
    g_autoptr(SpPolicy) p = NULL;

    g_setenv("SAFEPOOL_CONFIG", path, TRUE);
    p = sp_policy_load(NULL, &error);
    g_unsetenv("SAFEPOOL_CONFIG");
    g_assert_no_error(error);
    g_assert_cmpuint(p->max_capacity, ==, G_GUINT64_CONSTANT(5) << 30);
    g_clear_pointer(&p, sp_policy_free);

    if (!g_file_test(SP_POLICY_DEFAULT_PATH, G_FILE_TEST_EXISTS)) {
        p = sp_policy_load(NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(p->max_capacity, ==, G_GUINT64_CONSTANT(16) << 40);
    }
}

static void
test_parse_size(void)
{
    static const struct {
        const char *s;
        guint64 v;
    } ok[] = {
        {"0", 0},
        {"10", 10},
        {"10B", 10},
        {"1K", 1024},
        {"1k", 1024},
        {"1KiB", 1024},
        {"1KB", 1024},
        {"3M", 3u << 20},
        {"2G", G_GUINT64_CONSTANT(2) << 30},
        {"2GiB", G_GUINT64_CONSTANT(2) << 30},
        {"16T", G_GUINT64_CONSTANT(16) << 40},
        {"1P", G_GUINT64_CONSTANT(1) << 50},
        {"15E", G_GUINT64_CONSTANT(15) << 60},
        {"18446744073709551615", G_MAXUINT64},
    };
    static const char *const bad[] = {
        "",
        "-1",
        "+1",
        " 1",
        "1 K",
        "1.5G",
        "1X",
        "1KiBB",
        "1Ki",
        "16E",
        "18446744073709551616",
        "17179869184G",
        "0x10",
        "K",
    };

    for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
        g_autoptr(GError) error = NULL;
        guint64 v = 1;
        g_assert_true(sp_parse_size(ok[i].s, &v, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(v, ==, ok[i].v);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        guint64 v = 7;
        if (sp_parse_size(bad[i], &v, &error))
            g_error("size '%s' accepted", bad[i]);
        g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
        g_assert_cmpuint(v, ==, 7);
    }
}

static void
test_swtpm_ids(void)
{
    g_autoptr(SpPolicy) p = sp_policy_new_default();
    g_autoptr(GError) error = NULL;
    /* getpwnam/getgrnam return static storage: copy the ids at once. */
    struct passwd *pw;
    struct group *gr;
    uid_t uid = 12345;
    gid_t gid = 12345;
    uid_t nobody_uid, tss_uid;
    gid_t nogroup_gid, tss_gid;

    g_assert_nonnull((pw = getpwnam("nobody")));
    nobody_uid = pw->pw_uid;
    g_assert_nonnull((gr = getgrnam("nogroup")));
    nogroup_gid = gr->gr_gid;
    pw = getpwnam("tss");
    tss_uid = pw ? pw->pw_uid : 0;
    gr = getgrnam("tss");
    tss_gid = gr ? gr->gr_gid : 0;

    /* From qemu.conf, libvirt syntax; the commented line is ignored and the
     * last assignment wins. */
    g_free(p->qemu_conf);
    p->qemu_conf =
        write_tmp("qemu.conf", "# swtpm_user = \"root\"\n"
                               "user = \"root\"\n"
                               "swtpm_user = \"daemon\"\n"
                               "swtpm_user   =   \"nobody\"   # comment\n"
                               "swtpm_group=\"nogroup\"\n");
    g_assert_true(sp_policy_swtpm_ids(p, &uid, &gid, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(uid, ==, nobody_uid);
    g_assert_cmpuint(gid, ==, nogroup_gid);

    /* The policy's own keys win over qemu.conf. */
    p->swtpm_user = g_strdup("root");
    p->swtpm_group = g_strdup("+0");
    g_assert_true(sp_policy_swtpm_ids(p, &uid, &gid, &error));
    g_assert_cmpuint(uid, ==, 0);
    g_assert_cmpuint(gid, ==, 0);
    g_clear_pointer(&p->swtpm_user, g_free);
    g_clear_pointer(&p->swtpm_group, g_free);

    /* An unknown user named in qemu.conf is an error naming it. */
    g_free(p->qemu_conf);
    p->qemu_conf = write_tmp("qemu2.conf", "swtpm_user = \"no-such-sp\"\n");
    g_assert_false(sp_policy_swtpm_ids(p, &uid, &gid, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "'no-such-sp'"));
    g_clear_error(&error);

    /* No qemu.conf: tss if it exists, else root. */
    g_free(p->qemu_conf);
    p->qemu_conf = g_build_filename(tmpdir, "absent-qemu.conf", NULL);
    g_assert_true(sp_policy_swtpm_ids(p, &uid, &gid, &error));
    g_assert_cmpuint(uid, ==, tss_uid);
    g_assert_cmpuint(gid, ==, tss_gid);
}

int
main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_unsetenv("SAFEPOOL_CONFIG");
    tmpdir = g_dir_make_tmp("sp-policy-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    g_test_add_func("/policy/defaults", test_defaults);
    g_test_add_func("/policy/sample-documents-defaults",
                    test_sample_documents_defaults);
    g_test_add_func("/policy/man-page-lists-every-key",
                    test_man_page_lists_every_key);
    g_test_add_func("/policy/load-values", test_load_values);
    g_test_add_func("/policy/rbd", test_rbd);
    g_test_add_func("/policy/rejects", test_rejects);
    g_test_add_func("/policy/nul-byte", test_nul_byte);
    g_test_add_func("/policy/missing-file", test_missing_file);
    g_test_add_func("/policy/env-config", test_env_config);
    g_test_add_func("/policy/parse-size", test_parse_size);
    g_test_add_func("/policy/swtpm-ids", test_swtpm_ids);
    rc = g_test_run();
    {
        g_autoptr(GDir) d = g_dir_open(tmpdir, 0, NULL);
        const char *n;
        while (d && (n = g_dir_read_name(d))) {
            g_autofree char *f = g_build_filename(tmpdir, n, NULL);
            g_unlink(f);
        }
    }
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return rc;
}
