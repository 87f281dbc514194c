/* Secret buffers kept in locked, non-dumpable anonymous memory and wiped
 * before the memory is returned; handed to children only as a sealed memfd. */
#include "util/sp-secret.h"

#include <errno.h>
#include <fcntl.h>
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

    s->size = MAX(page, (cap + page - 1) / page * page);
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
sp_secret_new_from_file(const char *path, GError **error)
{
    g_autofd int fd = -1;
    g_autoptr(SpSecret) s = NULL;
    gssize n;

    fd = sp_fs_open_input(path, _("secret file"), error);
    if (fd < 0)
        return NULL;
    /* Read straight into locked memory; one byte more detects oversize
     * even if the file grew after fstat. */
    s = sp_secret_alloc(SP_SECRET_MAX + 1);
    n = sp_fs_pread_full(fd, s->data, SP_SECRET_MAX + 1, 0, error);
    if (n < 0) {
        g_prefix_error(error, _("secret file '%s': "), path);
        return NULL;
    }
    if (n > SP_SECRET_MAX) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("secret file '%s': larger than %d bytes"), path,
                    SP_SECRET_MAX);
        return NULL;
    }
    s->len = (gsize)n;
    if (s->len && s->data[s->len - 1] == '\n')
        s->data[--s->len] = 0;
    if (s->len == 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("secret file '%s': is empty"), path);
        return NULL;
    }
    return g_steal_pointer(&s);
}

const guint8 *
sp_secret_data(const SpSecret *s)
{
    return s->data;
}

gsize
sp_secret_len(const SpSecret *s)
{
    return s->len;
}

void
sp_secret_free(SpSecret *s)
{
    if (!s)
        return;
    explicit_bzero(s->data, s->size);
    if (sp_secret_release_hook) {
        sp_secret_release_hook(s->data, s->size);
    } else {
        munlock(s->data, s->size);
        munmap(s->data, s->size);
    }
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
