/* The planner builds exactly the argv expected for every kind of volume. */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "image/sp-plan.h"
#include "util/sp-error.h"

static SpPolicy *
policy(void)
{
    SpPolicy *p = sp_policy_new_default();

    g_free(p->qemu_img);
    p->qemu_img = g_strdup("/opt/q/qemu-img");
    g_free(p->luks_cipher_alg);
    p->luks_cipher_alg = g_strdup("aes-256");
    g_free(p->luks_cipher_mode);
    p->luks_cipher_mode = g_strdup("xts");
    g_free(p->luks_hash);
    p->luks_hash = g_strdup("sha256");
    g_free(p->luks_ivgen_alg);
    p->luks_ivgen_alg = g_strdup("plain64");
    g_free(p->luks_ivgen_hash);
    p->luks_ivgen_hash = g_strdup("sha256");
    p->luks_iter_time_ms = 2000;
    return p;
}

static SpVolume *
vol(const char *name, SpFormat f, guint64 capacity)
{
    SpVolume *v = sp_volume_new();

    g_free(v->name);
    v->name = g_strdup(name);
    v->format = f;
    v->capacity = capacity;
    v->owner = v->group = -1;
    return v;
}

static void
set_luks(SpVolume *v)
{
    v->encryption.enabled = TRUE;
    v->encryption.format = g_strdup("luks");
    v->encryption.n_secrets = 1;
    v->encryption.secret_uuid =
        g_strdup("0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f");
}

static void
assert_argv(const SpOperation *op, const char *const *expected)
{
    g_autofree char *got =
        op->argv ? g_strjoinv(" | ", op->argv) : g_strdup("");
    g_autofree char *want = g_strjoinv(" | ", (char **)expected);

    g_assert_cmpint(op->kind, ==, SP_OP_QEMU_IMG);
    g_assert_cmpstr(got, ==, want);
}

static SpPlan *
plan(const SpVolume *v, const SpPlanCreateArgs *extra)
{
    g_autoptr(SpPolicy) p = policy();
    g_autoptr(GError) error = NULL;
    SpPlanCreateArgs a = {.pool_path = "/pool//dir/"};
    SpPlan *pl;

    if (extra)
        a = *extra;
    pl = sp_plan_create(p, v, &a, &error);
    g_assert_no_error(error);
    g_assert_nonnull(pl);
    return pl;
}

static void
test_raw(void)
{
    g_autoptr(SpVolume) v = vol("a.img", SP_FORMAT_RAW, 1 << 20);
    v->has_allocation = TRUE;
    v->allocation = 4096;
    g_autoptr(SpPlan) p = plan(v, NULL);
    const SpOperation *op = g_ptr_array_index(p->ops, 0);

    g_assert_cmpstr(p->path, ==, "/pool/dir/a.img");
    g_assert_cmpuint(p->ops->len, ==, 1);
    g_assert_cmpint(op->kind, ==, SP_OP_RAW_CREATE);
    g_assert_null(op->argv);
    g_assert_cmpuint(op->size, ==, 1 << 20);
    g_assert_cmpuint(op->allocation, ==, 4096);
}

static void
test_qcow2(void)
{
    g_autoptr(SpVolume) v = vol("b.qcow2", SP_FORMAT_QCOW2, 10737418240ULL);
    g_autoptr(SpPlan) p = plan(v, NULL);
    const char *want[] = {"/opt/q/qemu-img",   "create",      "-f", "qcow2",
                          "/pool/dir/b.qcow2", "10737418240", NULL};

    g_assert_cmpuint(p->ops->len, ==, 1);
    assert_argv(g_ptr_array_index(p->ops, 0), want);
}

static void
test_qcow2_backing(void)
{
    g_autoptr(SpVolume) v = vol("c.qcow2", SP_FORMAT_QCOW2, 1 << 30);
    v->backing_path = g_strdup("/pool/dir/./base,1.qcow2");
    v->backing_format = SP_FORMAT_QCOW2;
    g_autoptr(SpPlan) p = plan(v, NULL);
    const char *want[] = {"/opt/q/qemu-img",
                          "create",
                          "-f",
                          "qcow2",
                          "-F",
                          "qcow2",
                          "-o",
                          "backing_file=/pool/dir/base,,1.qcow2",
                          "/pool/dir/c.qcow2",
                          "1073741824",
                          NULL};

    assert_argv(g_ptr_array_index(p->ops, 0), want);
}

static void
test_qcow2_luks(void)
{
    g_autoptr(SpVolume) v = vol("e.qcow2", SP_FORMAT_QCOW2, 1 << 30);
    set_luks(v);
    g_autoptr(SpPlan) p = plan(v, NULL);
    const SpOperation *op = g_ptr_array_index(p->ops, 0);
    const char *want[] = {"/opt/q/qemu-img",
                          "create",
                          "-f",
                          "qcow2",
                          "--object",
                          "secret,id=sp-sec0,file=/dev/fd/3",
                          "-o",
                          "encrypt.format=luks,encrypt.key-secret=sp-sec0,"
                          "encrypt.cipher-alg=aes-256,"
                          "encrypt.cipher-mode=xts,encrypt.ivgen-alg=plain64,"
                          "encrypt.ivgen-hash-alg=sha256,encrypt.hash-alg="
                          "sha256,encrypt.iter-time=2000",
                          "/pool/dir/e.qcow2",
                          "1073741824",
                          NULL};

    assert_argv(op, want);
    g_assert_true(op->needs_secret);
}

static void
test_luks_raw(void)
{
    g_autoptr(SpVolume) v = vol("e.img", SP_FORMAT_RAW, 1 << 30);
    set_luks(v);
    /* XML cipher/ivgen override the policy defaults. */
    v->encryption.cipher_name = g_strdup("aes");
    v->encryption.cipher_size = 128;
    v->encryption.cipher_mode = g_strdup("cbc");
    v->encryption.cipher_hash = g_strdup("sha1");
    v->encryption.ivgen_name = g_strdup("essiv");
    v->encryption.ivgen_hash = g_strdup("sha256");
    g_autoptr(SpPlan) p = plan(v, NULL);
    const SpOperation *op = g_ptr_array_index(p->ops, 0);
    const char *want[] = {
        "/opt/q/qemu-img",
        "create",
        "-f",
        "luks",
        "--object",
        "secret,id=sp-sec0,file=/dev/fd/3",
        "-o",
        "key-secret=sp-sec0,cipher-alg=aes-128,cipher-mode=cbc,ivgen-alg=essiv,"
        "ivgen-hash-alg=sha256,hash-alg=sha1,iter-time=2000",
        "/pool/dir/e.img",
        "1073741824",
        NULL};

    assert_argv(op, want);
    g_assert_true(op->needs_secret);
}

static void
test_compat_lazy(void)
{
    g_autoptr(SpVolume) v = vol("f.qcow2", SP_FORMAT_QCOW2, 1 << 20);
    v->lazy_refcounts = TRUE;
    g_autoptr(SpPlan) p = plan(v, NULL);
    const char *want[] = {"/opt/q/qemu-img",
                          "create",
                          "-f",
                          "qcow2",
                          "-o",
                          "compat=1.1,lazy_refcounts=on",
                          "/pool/dir/f.qcow2",
                          "1048576",
                          NULL};

    assert_argv(g_ptr_array_index(p->ops, 0), want);
}

static void
test_compat_010_lazy_refused(void)
{
    g_autoptr(SpVolume) v = vol("f.qcow2", SP_FORMAT_QCOW2, 1 << 20);
    g_autoptr(SpPolicy) pol = policy();
    g_autoptr(GError) error = NULL;
    SpPlanCreateArgs a = {.pool_path = "/pool"};

    v->lazy_refcounts = TRUE;
    v->compat = g_strdup("0.10");
    g_assert_null(sp_plan_create(pol, v, &a, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "target/compat"));
}

static void
test_cluster_size_all_options(void)
{
    g_autoptr(SpVolume) v = vol("g.qcow2", SP_FORMAT_QCOW2, 1 << 20);
    v->cluster_size = 2097152;
    v->compat = g_strdup("1.1");
    v->extended_l2 = TRUE;
    v->lazy_refcounts = TRUE;
    v->nocow = TRUE;
    g_autoptr(SpPlan) p = plan(v, NULL);
    const char *want[] = {"/opt/q/qemu-img",
                          "create",
                          "-f",
                          "qcow2",
                          "-o",
                          "nocow=on,compat=1.1,cluster_size=2097152,"
                          "lazy_refcounts=on,extended_l2=on",
                          "/pool/dir/g.qcow2",
                          "1048576",
                          NULL};

    assert_argv(g_ptr_array_index(p->ops, 0), want);
}

static void
test_preallocation(void)
{
    g_autoptr(SpVolume) v = vol("h.qcow2", SP_FORMAT_QCOW2, 1 << 20);
    v->has_allocation = TRUE;
    v->allocation = 1 << 20;
    g_autoptr(SpPlan) p = plan(v, NULL);
    const char *falloc[] = {"/opt/q/qemu-img",
                            "create",
                            "-f",
                            "qcow2",
                            "-o",
                            "preallocation=falloc",
                            "/pool/dir/h.qcow2",
                            "1048576",
                            NULL};
    assert_argv(g_ptr_array_index(p->ops, 0), falloc);

    SpPlanCreateArgs a = {.pool_path = "/pool/dir",
                          .prealloc_metadata = TRUE,
                          .target_path = "/pool/dir/.safepool-tmp-h.qcow2-XYZ"};
    v->has_allocation = FALSE;
    g_autoptr(SpPlan) p2 = plan(v, &a);
    const char *meta[] = {"/opt/q/qemu-img",
                          "create",
                          "-f",
                          "qcow2",
                          "-o",
                          "preallocation=metadata",
                          "/pool/dir/.safepool-tmp-h.qcow2-XYZ",
                          "1048576",
                          NULL};
    assert_argv(g_ptr_array_index(p2->ops, 0), meta);
    /* The public path stays the published name. */
    g_assert_cmpstr(p2->path, ==, "/pool/dir/h.qcow2");
}

static void
test_clone_raw_to_qcow2(void)
{
    g_autoptr(SpVolume) src = vol("s.img", SP_FORMAT_RAW, 1 << 30);
    g_autoptr(SpVolume) v = vol("t.qcow2", SP_FORMAT_QCOW2, 1 << 20);
    SpPlanCreateArgs a = {.pool_path = "/pool/dir",
                          .source = src,
                          .source_path = "/pool/dir/s.img"};
    g_autoptr(SpPlan) p = plan(v, &a);
    const char *want[] = {
        "/opt/q/qemu-img", "convert",           "-f", "raw", "-O", "qcow2",
        "/pool/dir/s.img", "/pool/dir/t.qcow2", NULL};

    /* The clone keeps the source's (larger) size: no resize step. */
    g_assert_cmpuint(p->ops->len, ==, 1);
    assert_argv(g_ptr_array_index(p->ops, 0), want);
}

static void
test_clone_qcow2_to_raw_grow(void)
{
    g_autoptr(SpVolume) src = vol("s,q.qcow2", SP_FORMAT_QCOW2, 1 << 20);
    g_autoptr(SpVolume) v = vol("t.img", SP_FORMAT_RAW, 2 << 20);
    SpPlanCreateArgs a = {.pool_path = "/pool/dir",
                          .source = src,
                          .source_path = "/pool/dir/s,q.qcow2"};
    g_autoptr(SpPlan) p = plan(v, &a);
    const char *want[] = {
        "/opt/q/qemu-img",     "convert",         "-f", "qcow2", "-O", "raw",
        "/pool/dir/s,q.qcow2", "/pool/dir/t.img", NULL};
    const SpOperation *grow;

    g_assert_cmpuint(p->ops->len, ==, 2);
    assert_argv(g_ptr_array_index(p->ops, 0), want);
    grow = g_ptr_array_index(p->ops, 1);
    g_assert_cmpint(grow->kind, ==, SP_OP_RAW_RESIZE);
    g_assert_cmpuint(grow->size, ==, 2 << 20);
}

static void
test_clone_raw_to_raw(void)
{
    g_autoptr(SpVolume) src = vol("s.img", SP_FORMAT_RAW, 1 << 20);
    g_autoptr(SpVolume) v = vol("t.img", SP_FORMAT_RAW, 1 << 10);
    SpPlanCreateArgs a = {.pool_path = "/pool/dir",
                          .source = src,
                          .source_path = "/pool/dir/s.img"};
    g_autoptr(SpPlan) p = plan(v, &a);
    const SpOperation *op = g_ptr_array_index(p->ops, 0);

    g_assert_cmpint(op->kind, ==, SP_OP_RAW_CLONE);
    g_assert_cmpuint(op->size, ==, 1 << 20);
}

static void
test_clone_encrypted_refused(void)
{
    g_autoptr(SpVolume) src = vol("s.img", SP_FORMAT_RAW, 1 << 20);
    g_autoptr(SpVolume) v = vol("t.img", SP_FORMAT_RAW, 1 << 20);
    g_autoptr(SpPolicy) pol = policy();
    g_autoptr(GError) error = NULL;
    SpPlanCreateArgs a = {
        .pool_path = "/pool", .source = src, .source_path = "/pool/s.img"};

    set_luks(src);
    g_assert_null(sp_plan_create(pol, v, &a, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "'t.img'"));
}

static void
test_resize(void)
{
    g_autoptr(SpPolicy) pol = policy();
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) q = vol("q,1.qcow2", SP_FORMAT_QCOW2, 1 << 20);
    g_autoptr(SpVolume) r = vol("r.img", SP_FORMAT_RAW, 1 << 20);
    g_autoptr(SpPlan) p = NULL;
    const char *grow[] = {"/opt/q/qemu-img", "resize",  "-f", "qcow2",
                          "/pool/q,1.qcow2", "2097152", NULL};
    const char *shrink[] = {
        "/opt/q/qemu-img", "resize",          "-f",   "qcow2",
        "--shrink",        "/pool/q,1.qcow2", "4096", NULL};
    const char *enc[] = {
        "/opt/q/qemu-img",
        "resize",
        "--object",
        "secret,id=sp-sec0,file=/dev/fd/3",
        "--image-opts",
        "driver=qcow2,encrypt.key-secret=sp-sec0,file.driver=file,"
        "file.filename=/pool/q,,1.qcow2",
        "2097152",
        NULL};

    p = sp_plan_resize(pol, q, "/pool/q,1.qcow2", 1 << 20, 2 << 20, FALSE,
                       FALSE, &error);
    g_assert_no_error(error);
    assert_argv(g_ptr_array_index(p->ops, 0), grow);
    g_clear_pointer(&p, sp_plan_free);

    p = sp_plan_resize(pol, q, "/pool/q,1.qcow2", 1 << 20, 4096, FALSE, FALSE,
                       &error);
    g_assert_null(p);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_cmpstr(
        error->message, ==,
        "volume 'q,1.qcow2': new capacity 4096 is smaller than current "
        "1048576; pass --shrink");
    g_clear_error(&error);

    p = sp_plan_resize(pol, q, "/pool/q,1.qcow2", 1 << 20, 4096, TRUE, FALSE,
                       &error);
    g_assert_no_error(error);
    assert_argv(g_ptr_array_index(p->ops, 0), shrink);
    g_clear_pointer(&p, sp_plan_free);

    set_luks(q);
    p = sp_plan_resize(pol, q, "/pool/q,1.qcow2", 1 << 20, 2 << 20, FALSE,
                       FALSE, &error);
    g_assert_no_error(error);
    assert_argv(g_ptr_array_index(p->ops, 0), enc);
    g_assert_true(((SpOperation *)g_ptr_array_index(p->ops, 0))->needs_secret);
    g_clear_pointer(&p, sp_plan_free);

    p = sp_plan_resize(pol, r, "/pool/r.img", 1 << 20, 3 << 20, FALSE, FALSE,
                       &error);
    g_assert_no_error(error);
    g_assert_cmpint(((SpOperation *)g_ptr_array_index(p->ops, 0))->kind, ==,
                    SP_OP_RAW_RESIZE);
    g_assert_cmpuint(((SpOperation *)g_ptr_array_index(p->ops, 0))->size, ==,
                     3 << 20);
}

static void
test_escape_and_paths(void)
{
    g_autofree char *e = sp_plan_escape_opt("a,b,,c");
    g_autoptr(SpVolume) v = vol("x.qcow2", SP_FORMAT_QCOW2, 1 << 20);
    g_autoptr(SpPolicy) pol = policy();
    g_autoptr(GError) error = NULL;
    SpPlanCreateArgs a = {.pool_path = "/pool"};

    g_assert_cmpstr(e, ==, "a,,b,,,,c");
    /* A backing path that is not absolute, or climbs, never reaches argv. */
    v->backing_format = SP_FORMAT_RAW;
    v->backing_path = g_strdup("nbd:evil:1234");
    g_assert_null(sp_plan_create(pol, v, &a, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_clear_error(&error);
    g_free(v->backing_path);
    v->backing_path = g_strdup("/pool/../etc/passwd");
    g_assert_null(sp_plan_create(pol, v, &a, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
}

static void
test_json(void)
{
    g_autoptr(SpVolume) v = vol("b.qcow2", SP_FORMAT_QCOW2, 4096);
    g_autoptr(SpPlan) p = plan(v, NULL);
    g_autofree char *json = sp_plan_to_json(p);
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *root, *op;
    JsonArray *argv;

    g_assert_true(json_parser_load_from_data(parser, json, -1, NULL));
    root = json_node_get_object(json_parser_get_root(parser));
    g_assert_cmpstr(json_object_get_string_member(root, "volume"), ==,
                    "b.qcow2");
    g_assert_cmpstr(json_object_get_string_member(root, "path"), ==,
                    "/pool/dir/b.qcow2");
    op = json_array_get_object_element(
        json_object_get_array_member(root, "operations"), 0);
    g_assert_cmpstr(json_object_get_string_member(op, "op"), ==, "qemu-img");
    argv = json_object_get_array_member(op, "argv");
    g_assert_cmpuint(json_array_get_length(argv), ==, 6);
    g_assert_cmpstr(json_array_get_string_element(argv, 4), ==,
                    "/pool/dir/b.qcow2");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/plan/raw", test_raw);
    g_test_add_func("/plan/qcow2", test_qcow2);
    g_test_add_func("/plan/qcow2-backing-comma", test_qcow2_backing);
    g_test_add_func("/plan/qcow2-luks", test_qcow2_luks);
    g_test_add_func("/plan/luks-raw", test_luks_raw);
    g_test_add_func("/plan/compat-lazy-refcounts", test_compat_lazy);
    g_test_add_func("/plan/compat-0.10-lazy-refused",
                    test_compat_010_lazy_refused);
    g_test_add_func("/plan/cluster-size-all-options",
                    test_cluster_size_all_options);
    g_test_add_func("/plan/preallocation", test_preallocation);
    g_test_add_func("/plan/clone-raw-to-qcow2", test_clone_raw_to_qcow2);
    g_test_add_func("/plan/clone-qcow2-to-raw-grow",
                    test_clone_qcow2_to_raw_grow);
    g_test_add_func("/plan/clone-raw-to-raw", test_clone_raw_to_raw);
    g_test_add_func("/plan/clone-encrypted-refused",
                    test_clone_encrypted_refused);
    g_test_add_func("/plan/resize", test_resize);
    g_test_add_func("/plan/escape-and-paths", test_escape_and_paths);
    g_test_add_func("/plan/json", test_json);
    return g_test_run();
}
