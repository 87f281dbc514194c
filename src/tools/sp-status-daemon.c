/* What `safepool status` learns about the running storage daemon from the
 * kernel: who answers on libvirt's socket, its environment, the backend
 * modules it has mapped and the identity each safepool module carries. */
#include "tools/sp-status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-i18n.h"

/* A module file is about 1 MiB; nothing bigger is read to find its id. */
#define SP_MODULE_MAX (64 * 1024 * 1024)

void
sp_status_module_free(SpStatusModule *m)
{
    g_free(m->path);
    g_free(m->version);
    g_strfreev(m->types);
    g_free(m);
}

void
sp_status_daemon_free(SpStatusDaemon *d)
{
    if (!d)
        return;
    g_free(d->name);
    g_free(d->root);
    g_free(d->backend_dir);
    g_free(d->config);
    if (d->modules)
        g_ptr_array_unref(d->modules);
    g_free(d);
}

static char *
proc_read(pid_t pid, const char *what, gsize *len)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/%s", (int)pid, what);
    char *data = NULL;

    if (!g_file_get_contents(path, &data, len, NULL))
        return NULL;
    return data;
}

/* "libvirtd" or "virtstoraged" when @pid is one, else NULL. */
static char *
storage_daemon_name(pid_t pid)
{
    g_autofree char *comm = pid > 0 ? proc_read(pid, "comm", NULL) : NULL;

    if (!comm)
        return NULL;
    g_strstrip(comm);
    if (g_str_equal(comm, "libvirtd") || g_str_equal(comm, "virtstoraged"))
        return g_steal_pointer(&comm);
    return NULL;
}

static pid_t
pidfile_pid(const char *path)
{
    g_autofree char *text = NULL;
    guint64 v = 0;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    g_strstrip(text);
    if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT32, &v, NULL))
        return 0;
    return (pid_t)v;
}

/* The storage daemon, by the pid files the daemons write (the system's
 * and a private one's under /run/libvirt), checked to be the daemon: as
 * seen from this mount and pid namespace, so a daemon in a private
 * namespace is found from inside it. Not by connecting to its socket: the
 * daemon would log an error for a client that says nothing, and a
 * socket-activated one would be started. Modular first: where
 * virtstoraged runs, it serves storage even if a libvirtd runs too. */
static pid_t
find_daemon(char **name)
{
    static const char *const pidfiles[] = {
        "/run/virtstoraged.pid", "/run/libvirt/virtstoraged.pid",
        "/run/libvirtd.pid", "/run/libvirt/libvirtd.pid"};

    for (gsize i = 0; i < G_N_ELEMENTS(pidfiles); i++) {
        pid_t pid = pidfile_pid(pidfiles[i]);

        if ((*name = storage_daemon_name(pid)))
            return pid;
    }
    return 0;
}

/* "/proc/PID/root" when the daemon sees another mount namespace than we
 * do (its paths are then read through it), else "". */
static char *
daemon_root(pid_t pid)
{
    g_autofree char *ours = g_file_read_link("/proc/self/ns/mnt", NULL);
    g_autofree char *link = g_strdup_printf("/proc/%d/ns/mnt", (int)pid);
    g_autofree char *theirs = g_file_read_link(link, NULL);

    if (ours && theirs && g_str_equal(ours, theirs))
        return g_strdup("");
    return g_strdup_printf("/proc/%d/root", (int)pid);
}

static void
read_environ(SpStatusDaemon *d)
{
    gsize len = 0;
    g_autofree char *env = proc_read(d->pid, "environ", &len);

    for (gsize off = 0; env && off < len; off += strlen(env + off) + 1) {
        const char *v = env + off;

        if (g_str_has_prefix(v, "LIBVIRT_STORAGE_BACKEND_DIR="))
            d->backend_dir = g_strdup(strchr(v, '=') + 1);
        else if (g_str_has_prefix(v, "SAFEPOOL_CONFIG="))
            d->config = g_strdup(strchr(v, '=') + 1);
    }
}

gboolean
sp_status_module_read(SpStatusModule *m, const char *file)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    const char *id, *end;
    g_auto(GStrv) fields = NULL;

    if (!g_file_get_contents(file, &data, &len, NULL) || len > SP_MODULE_MAX)
        return FALSE;
    id = memmem(data, len, SP_STATUS_MODULE_ID, strlen(SP_STATUS_MODULE_ID));
    if (!id)
        return TRUE;
    end = memchr(id, '\0', len - (gsize)(id - data));
    if (!end)
        return TRUE;
    m->safepool = TRUE;
    fields = g_strsplit(id + strlen(SP_STATUS_MODULE_ID), " ", -1);
    for (guint i = 0; fields[i]; i++) {
        if (g_str_has_prefix(fields[i], "version="))
            m->version = g_strdup(fields[i] + strlen("version="));
        else if (g_str_has_prefix(fields[i], "libvirt="))
            m->built_for = strtoul(fields[i] + strlen("libvirt="), NULL, 10);
        else if (g_str_has_prefix(fields[i], "types="))
            m->types = g_strsplit(fields[i] + strlen("types="), ",", -1);
    }
    return TRUE;
}

/* Every storage backend module the daemon has mapped, read through
 * /proc/PID/map_files (the very file mapped, even if it was replaced or
 * deleted since), else through its root. */
static void
read_modules(SpStatusDaemon *d)
{
    g_autofree char *maps = proc_read(d->pid, "maps", NULL);
    g_auto(GStrv) lines = maps ? g_strsplit(maps, "\n", -1) : NULL;
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    d->modules =
        g_ptr_array_new_with_free_func((GDestroyNotify)sp_status_module_free);
    for (guint i = 0; lines && lines[i]; i++) {
        g_auto(GStrv) cols = g_strsplit_set(lines[i], " ", 6);
        g_autofree char *range = NULL;
        g_autofree char *via = NULL;
        SpStatusModule *m;
        char *path;

        if (g_strv_length(cols) < 6)
            continue;
        path = g_strstrip(cols[5]);
        if (!strstr(path, "/libvirt_storage_backend_") ||
            g_hash_table_contains(seen, path))
            continue;
        m = g_new0(SpStatusModule, 1);
        m->path = g_strdup(path);
        g_hash_table_add(seen, m->path);
        range = g_strdup(cols[0]);
        via = g_strdup_printf("/proc/%d/map_files/%s", (int)d->pid, range);
        if (!sp_status_module_read(m, via)) {
            g_autofree char *p = g_strconcat(d->root, path, NULL);

            sp_status_module_read(m, p);
        }
        g_ptr_array_add(d->modules, m);
    }
}

SpStatusDaemon *
sp_status_daemon_find(void)
{
    g_autoptr(SpStatusDaemon) d = g_new0(SpStatusDaemon, 1);

    d->pid = find_daemon(&d->name);
    if (!d->pid)
        return NULL;
    d->root = daemon_root(d->pid);
    read_environ(d);
    read_modules(d);
    return g_steal_pointer(&d);
}
