/* The SpVolume struct itself: lifetime, copy, equality, the volume name rule
 * and where the schema lives. Parsing, policy and XML output are in the
 * sp-volume-*.c files. */
#include "conf/sp-volume.h"

#include <string.h>

#include "conf/sp-volume-private.h"
#include "util/sp-error.h"
#include "util/sp-i18n.h"

SpVolume *
sp_volume_new(void)
{
    SpVolume *v = g_new0(SpVolume, 1);

    v->format = SP_FORMAT_RAW;
    v->owner = -1;
    v->group = -1;
    v->backing_format = SP_FORMAT_UNKNOWN;
    return v;
}

static void
encryption_clear(SpEncryption *e)
{
    g_clear_pointer(&e->format, g_free);
    g_clear_pointer(&e->secret_uuid, g_free);
    g_clear_pointer(&e->secret_usage, g_free);
    g_clear_pointer(&e->cipher_name, g_free);
    g_clear_pointer(&e->cipher_mode, g_free);
    g_clear_pointer(&e->cipher_hash, g_free);
    g_clear_pointer(&e->ivgen_name, g_free);
    g_clear_pointer(&e->ivgen_hash, g_free);
}

void
sp_volume_free(SpVolume *v)
{
    if (!v)
        return;
    g_free(v->name);
    g_free(v->label);
    encryption_clear(&v->encryption);
    g_free(v->compat);
    g_free(v->backing_path);
    g_free(v);
}

SpVolume *
sp_volume_copy(const SpVolume *v)
{
    SpVolume *c = g_new0(SpVolume, 1);
    SpEncryption *e = &c->encryption;

    *c = *v;
    c->name = g_strdup(v->name);
    c->label = g_strdup(v->label);
    c->compat = g_strdup(v->compat);
    c->backing_path = g_strdup(v->backing_path);
    e->format = g_strdup(v->encryption.format);
    e->secret_uuid = g_strdup(v->encryption.secret_uuid);
    e->secret_usage = g_strdup(v->encryption.secret_usage);
    e->cipher_name = g_strdup(v->encryption.cipher_name);
    e->cipher_mode = g_strdup(v->encryption.cipher_mode);
    e->cipher_hash = g_strdup(v->encryption.cipher_hash);
    e->ivgen_name = g_strdup(v->encryption.ivgen_name);
    e->ivgen_hash = g_strdup(v->encryption.ivgen_hash);
    return c;
}

void
sp_problem_free(SpProblem *p)
{
    if (!p)
        return;
    g_free(p->element);
    g_free(p->message);
    g_free(p);
}

static gboolean
encryption_equal(const SpEncryption *a, const SpEncryption *b)
{
    if (a->enabled != b->enabled)
        return FALSE;
    if (!a->enabled)
        return TRUE;
    return g_strcmp0(a->format, b->format) == 0 &&
           a->n_secrets == b->n_secrets &&
           g_strcmp0(a->secret_uuid, b->secret_uuid) == 0 &&
           g_strcmp0(a->secret_usage, b->secret_usage) == 0 &&
           g_strcmp0(a->cipher_name, b->cipher_name) == 0 &&
           a->cipher_size == b->cipher_size &&
           g_strcmp0(a->cipher_mode, b->cipher_mode) == 0 &&
           g_strcmp0(a->cipher_hash, b->cipher_hash) == 0 &&
           g_strcmp0(a->ivgen_name, b->ivgen_name) == 0 &&
           g_strcmp0(a->ivgen_hash, b->ivgen_hash) == 0;
}

gboolean
sp_volume_equal(const SpVolume *a, const SpVolume *b)
{
    if (a == b)
        return TRUE;
    if (!a || !b)
        return FALSE;
    return g_strcmp0(a->name, b->name) == 0 &&
           a->has_capacity == b->has_capacity && a->capacity == b->capacity &&
           a->has_allocation == b->has_allocation &&
           (!a->has_allocation || a->allocation == b->allocation) &&
           a->format == b->format && a->has_mode == b->has_mode &&
           (!a->has_mode || a->mode == b->mode) && a->owner == b->owner &&
           a->group == b->group && g_strcmp0(a->label, b->label) == 0 &&
           encryption_equal(&a->encryption, &b->encryption) &&
           g_strcmp0(a->compat, b->compat) == 0 &&
           a->lazy_refcounts == b->lazy_refcounts &&
           a->extended_l2 == b->extended_l2 &&
           a->cluster_size == b->cluster_size && a->nocow == b->nocow &&
           g_strcmp0(a->backing_path, b->backing_path) == 0 &&
           a->backing_format == b->backing_format;
}

/* Why @name cannot be a volume name, or NULL if it can. Names become a
 * single path component inside the pool, an argument of qemu-img (where ','
 * and ':' have meaning) and text in libvirt's XML and logs. */
static const char *
name_problem(const char *name)
{
    const char *p;

    if (!name || !*name)
        return _("must not be empty");
    if (strlen(name) > 255)
        return _("longer than 255 bytes");
    if (!g_utf8_validate(name, -1, NULL))
        return _("not valid UTF-8");
    if (g_str_equal(name, ".") || g_str_equal(name, ".."))
        return _("'.' and '..' are not allowed");
    if (name[0] == '.')
        return _("must not start with '.'");
    if (name[0] == '-')
        return _("must not start with '-'");
    for (p = name; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (c == '/')
            return _("'/' is not allowed");
        if (c == ',')
            return _("',' is not allowed");
        if (c == ':')
            return _("':' is not allowed");
        if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029)
            return _("control characters are not allowed");
        /* Format characters (U+202E right-to-left override, U+200B zero
         * width space, U+FEFF, ...) make a listing show one name for
         * another. */
        if (g_unichar_type(c) == G_UNICODE_FORMAT)
            return _("invisible formatting characters (Unicode Cf) are not "
                     "allowed");
    }
    return NULL;
}

char *
sp_volume_name_for_message(const char *name)
{
    g_autofree char *esc = NULL;

    if (!name)
        return g_strdup("");
    esc = g_strescape(name, NULL);
    if (strlen(esc) > 80) {
        esc[72] = '\0';
        return g_strconcat(esc, "...", NULL);
    }
    return g_steal_pointer(&esc);
}

const char *
sp_volume_name_problem(const char *name)
{
    return name_problem(name);
}

gboolean
sp_volume_check_name(const char *name, GError **error)
{
    const char *why = name_problem(name);
    g_autofree char *shown = NULL;

    if (!why)
        return TRUE;
    shown = sp_volume_name_for_message(name);
    sp_set_error_element(error, SP_ERROR_INVALID, "name",
                         _("volume name '%s': %s"), shown, why);
    return FALSE;
}

SpFormat
sp_volume_image_format(const SpVolume *v)
{
    if (v->format == SP_FORMAT_RAW && v->encryption.enabled &&
        g_strcmp0(v->encryption.format, "luks") == 0)
        return SP_FORMAT_LUKS;
    return v->format;
}

const char *
sp_volume_schema_path(void)
{
    const char *dir = g_getenv("SAFEPOOL_SCHEMA_DIR");
    g_autofree char *path = NULL;

    if (dir && *dir) {
        path = g_build_filename(dir, "storagevol.rng", NULL);
        return g_intern_string(path);
    }
#ifdef SAFEPOOL_SCHEMA_DIR
    path = g_build_filename(SAFEPOOL_SCHEMA_DIR, "storagevol.rng", NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return g_intern_string(path);
    g_clear_pointer(&path, g_free);
#endif
    path =
        g_build_filename(SAFEPOOL_SCHEMA_INSTALL_DIR, "storagevol.rng", NULL);
    return g_intern_string(path);
}
