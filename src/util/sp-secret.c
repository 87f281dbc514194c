/* Secret buffers kept in locked, non-dumpable anonymous memory and wiped
 * before the memory is returned; handed to children only as a sealed memfd. */
#include "util/sp-secret.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

#define SP_SECRET_MAX (64 * 1024)

struct SpSecret {
    guint8 *data; /* start of the mapping */
    gsize len;
    gsize size; /* mapping size, a page multiple */
};

static SpSecretReleaseHook sp_secret_release_hook;

void
sp_secret_set_release_hook(SpSecretReleaseHook hook)
{
    sp_secret_release_hook = hook;
}

/* Room for @cap bytes in a private mapping that is mlock'd (so it never
 * reaches swap; failure to lock is tolerated, e.g. RLIMIT_MEMLOCK) and
 * excluded from core dumps. */
static SpSecret *
sp_secret_alloc(gsize cap)
{
    gsize page = (gsize)sysconf(_SC_PAGESIZE);
    SpSecret *s = g_new0(SpSecret, 1);
    void *mem;

    /* one byte more than asked: room for sp_secret_cstr's NUL */
    s->size = MAX(page, (cap + 1 + page - 1) / page * page);
    mem = mmap(NULL, s->size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        g_error("sp_secret: mmap of %zu bytes failed: %s", s->size,
                g_strerror(errno));
    (void)mlock(mem, s->size);
    (void)madvise(mem, s->size, MADV_DONTDUMP);
    s->data = mem;
    return s;
}

SpSecret *
sp_secret_new(const guint8 *data, gsize len)
{
    SpSecret *s = sp_secret_alloc(len);

    if (len)
        memcpy(s->data, data, len);
    s->len = len;
    return s;
}

SpSecret *
sp_secret_new_base64(const guint8 *raw, gsize len)
{
    SpSecret *s = sp_secret_alloc((len / 3 + 1) * 4 + 4);
    gint state = 0, save = 0;
    gsize n;

    /* encoded straight into locked memory: no heap copy of the key */
    n = g_base64_encode_step(raw, len, FALSE, (char *)s->data, &state, &save);
    n += g_base64_encode_close(FALSE, (char *)s->data + n, &state, &save);
    s->len = n;
    s->data[n] = 0;
    return s;
}

const char *
sp_secret_cstr(const SpSecret *s)
{
    /* every mapping keeps a byte beyond the data (sp_secret_alloc) */
    g_assert(s->len < s->size);
    s->data[s->len] = 0;
    return (const char *)s->data;
}

SpSecret *
sp_secret_new_size(gsize len)
{
    SpSecret *s = sp_secret_alloc(len);

    s->len = len;
    return s;
}

/* read(2) until EOF or @len bytes; an fd left non-blocking (O_NONBLOCK
 * is shared with whoever handed it over) is waited on with poll. */
static gssize
read_full(int fd, guint8 *buf, gsize len, const char *what, GError **error)
{
    gsize got = 0;

    while (got < len) {
        gssize n = read(fd, buf + got, len - got);

        if (n == 0)
            break;
        if (n > 0) {
            got += (gsize)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            struct pollfd p = {.fd = fd, .events = POLLIN};

            if (poll(&p, 1, -1) >= 0 || errno == EINTR)
                continue;
        }
        sp_error_set_errno(error, errno, "%s", what);
        return -1;
    }
    return (gssize)got;
}

SpSecret *
sp_secret_new_from_fd(int fd, const char *what, gboolean text, GError **error)
{
    g_autoptr(SpSecret) s = NULL;
    gssize n;

    /* Read straight into locked memory; one byte more detects oversize
     * even if the file grew after fstat. */
    s = sp_secret_alloc(SP_SECRET_MAX + 1);
    n = read_full(fd, s->data, SP_SECRET_MAX + 1, what, error);
    if (n < 0)
        return NULL;
    if (n > SP_SECRET_MAX) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("%s: larger than %d bytes"), what, SP_SECRET_MAX);
        return NULL;
    }
    s->len = (gsize)n;
    if (text && s->len && s->data[s->len - 1] == '\n')
        s->data[--s->len] = 0;
    if (text && s->len == 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID, _("%s: is empty"), what);
        return NULL;
    }
    return g_steal_pointer(&s);
}

SpSecret *
sp_secret_new_from_file(const char *path, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("secret file '%s'"), path);
    g_autofd int fd = sp_fs_open_input(path, _("secret file"), error);

    return fd < 0 ? NULL : sp_secret_new_from_fd(fd, what, TRUE, error);
}

const guint8 *
sp_secret_data(const SpSecret *s)
{
    return s->data;
}

guint8 *
sp_secret_data_mut(SpSecret *s)
{
    return s->data;
}

gsize
sp_secret_len(const SpSecret *s)
{
    return s->len;
}

/* The mapping's own release: wipe, then unlock and unmap (or the hook). */
static void
release_mapping(guint8 *data, gsize size)
{
    explicit_bzero(data, size);
    if (sp_secret_release_hook) {
        sp_secret_release_hook(data, size);
    } else {
        munlock(data, size);
        munmap(data, size);
    }
}

void
sp_secret_append(SpSecret *s, const void *data, gsize len)
{
    if (len >= s->size - s->len) {
        gsize want = MAX(s->size * 2, s->len + len);
        g_autofree SpSecret *bigger = NULL;

        if (want < s->len + len)
            g_error("sp_secret: %zu + %zu bytes overflow", s->len, len);
        bigger = sp_secret_alloc(want);
        memcpy(bigger->data, s->data, s->len);
        release_mapping(s->data, s->size);
        s->data = bigger->data;
        s->size = bigger->size;
    }
    memcpy(s->data + s->len, data, len);
    s->len += len;
}

void
sp_secret_free(SpSecret *s)
{
    if (!s)
        return;
    release_mapping(s->data, s->size);
    g_free(s);
}

int
sp_secret_to_memfd(const SpSecret *s, GError **error)
{
    g_autofd int fd = -1;

    fd = memfd_create("safepool-secret", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        sp_error_set_errno(error, errno, _("secret: memfd_create"));
        return -1;
    }
    if (!sp_fs_write_all(fd, s->data, s->len, error)) {
        g_prefix_error(error, _("secret: "));
        return -1;
    }
    /* Sealed: the child (or anyone it passes the fd to) cannot alter or
     * extend what it reads. */
    if (fcntl(fd, F_ADD_SEALS,
              F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
        sp_error_set_errno(error, errno, _("secret: seal memfd"));
        return -1;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        sp_error_set_errno(error, errno, _("secret: rewind memfd"));
        return -1;
    }
    return g_steal_fd(&fd);
}
