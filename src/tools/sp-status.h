/* `safepool status` (cmd-status.c) and what it learns about the running
 * storage daemon from /proc (sp-status-daemon.c). */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "util/sp-module-id.h"

#define SP_STATUS_MODULE_ID SP_MODULE_ID_PREFIX

/* A storage backend module file: safepool's (with its identity) or not. */
typedef struct {
    char *path;        /* as the daemon sees it */
    gboolean safepool; /* it carries safepool's identity */
    char *version;     /* safepool's version */
    gulong built_for;  /* libvirt version number it was built for */
    char **types;      /* pool types it serves */
} SpStatusModule;

void sp_status_module_free(SpStatusModule *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpStatusModule, sp_status_module_free)

/* Read @file's identity into @m (@m->safepool stays FALSE without one).
 * FALSE when the file cannot be read. */
gboolean sp_status_module_read(SpStatusModule *m, const char *file);

typedef struct {
    char *name; /* "libvirtd" or "virtstoraged" */
    pid_t pid;
    char *root;         /* prefix for its paths: "" or "/proc/PID/root" */
    char *backend_dir;  /* LIBVIRT_STORAGE_BACKEND_DIR, or NULL */
    char *config;       /* SAFEPOOL_CONFIG, or NULL */
    GPtrArray *modules; /* SpStatusModule: storage backends it mapped */
} SpStatusDaemon;

void sp_status_daemon_free(SpStatusDaemon *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpStatusDaemon, sp_status_daemon_free)

/* The daemon serving libvirt storage, visible in our pid namespace; NULL
 * when none runs. */
SpStatusDaemon *sp_status_daemon_find(void);
