/* Images qemu-img made, written again (see sp-template.h). */
#include "image/sp-template.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

/* An empty qcow2 is a few clusters (196,624 bytes at 1 GiB, 64 KiB
 * clusters); larger outputs are not kept. At most this many shapes. */
#define SP_TEMPLATE_MAX_BYTES (1024 * 1024)
#define SP_TEMPLATE_MAX_SHAPES 16

static GMutex lock;
static GHashTable *templates;       /* key -> GBytes */
static GQueue order = G_QUEUE_INIT; /* keys, oldest first (owned by table) */

/* What the output depends on: the qemu-img binary (by identity, so an
 * upgrade is a new shape) and its arguments, the output path left out.
 * NULL: not reusable. */
char *
sp_template_shape(const SpOperation *op)
{
    g_autoptr(GString) key = NULL;
    struct stat st;

    if (op->kind != SP_OP_QEMU_IMG || !op->reusable || !op->writes ||
        op->reads || op->needs_secret || stat(op->argv[0], &st) < 0)
        return NULL;
    key = g_string_new(NULL);
    g_string_append_printf(
        key, "%ju:%ju:%jd:%jd.%09ld:%jd.%09ld", (uintmax_t)st.st_dev,
        (uintmax_t)st.st_ino, (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec,
        st.st_mtim.tv_nsec, (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
    for (char **a = op->argv; *a; a++) {
        g_string_append_c(key, '\n');
        g_string_append(key, g_str_equal(*a, op->writes) ? "\x01OUTPUT" : *a);
    }
    return g_string_free(g_steal_pointer(&key), FALSE);
}

gboolean
sp_template_write(const char *key, int fd, gboolean *hit, GError **error)
{
    g_autoptr(GBytes) data = NULL;
    struct stat st;
    gsize len;
    const guint8 *p;

    *hit = FALSE;
    if (!key)
        return TRUE;
    g_mutex_lock(&lock);
    if (templates && (data = g_hash_table_lookup(templates, key)))
        g_bytes_ref(data);
    g_mutex_unlock(&lock);
    if (!data || fstat(fd, &st) < 0 || st.st_size != 0)
        return TRUE;
    p = g_bytes_get_data(data, &len);
    if (lseek(fd, 0, SEEK_SET) < 0)
        return sp_error_set_errno(error, errno, "lseek");
    if (!sp_fs_write_all(fd, p, len, error))
        return FALSE;
    *hit = TRUE;
    return TRUE;
}

void
sp_template_store(const char *shape, int fd)
{
    g_autofree char *key = g_strdup(shape);
    g_autofree guint8 *buf = NULL;
    struct stat st;

    if (!key || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        st.st_size > SP_TEMPLATE_MAX_BYTES)
        return;
    buf = g_malloc(st.st_size);
    if (sp_fs_pread_full(fd, buf, st.st_size, 0, NULL) != st.st_size)
        return;
    g_mutex_lock(&lock);
    if (!templates)
        templates = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)g_bytes_unref);
    if (!g_hash_table_contains(templates, key)) {
        if (g_queue_get_length(&order) >= SP_TEMPLATE_MAX_SHAPES)
            g_hash_table_remove(templates, g_queue_pop_head(&order));
        g_queue_push_tail(&order, key);
        g_hash_table_insert(
            templates, g_steal_pointer(&key),
            g_bytes_new_take(g_steal_pointer(&buf), st.st_size));
    }
    g_mutex_unlock(&lock);
}

void
sp_template_clear(void)
{
    g_mutex_lock(&lock);
    g_queue_clear(&order);
    g_clear_pointer(&templates, g_hash_table_unref);
    g_mutex_unlock(&lock);
}
