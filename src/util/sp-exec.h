/* Subprocess runner: argv only, no shell, environment reduced to LC_ALL=C and
 * a fixed PATH, CPU and address-space limits, a timeout that kills the whole
 * process group, stderr captured into the GError. */
#pragma once

#include <glib.h>

#include "util/sp-glib-compat.h"
#include "util/sp-sandbox.h"

#define SP_EXEC_PATH "/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct {
    int child_fd;  /* fd number the child sees (e.g. 3) */
    int parent_fd; /* fd in this process; dup'd, not closed by sp_exec_run */
} SpExecFd;

typedef struct {
    guint timeout_sec;      /* 0 = no timeout */
    guint64 cpu_limit_sec;  /* RLIMIT_CPU, 0 = unlimited */
    guint64 as_limit_bytes; /* RLIMIT_AS, 0 = unlimited */
    const SpExecFd *fds;    /* extra fds to hand to the child */
    gsize n_fds;
    int stdin_fd; /* -1 = /dev/null */
    /* Run the program inside this sandbox (NULL: unconfined). Its
     * secret and files are the sandbox's, not in @fds. */
    SpSandbox *sandbox;
    /* Called with what the child writes on stdout as it comes (then not
     * kept for @out_stdout): a progress meter that never ends up big. */
    void (*on_stdout)(const char *chunk, gsize len, gpointer data);
    gpointer on_stdout_data;
    /* Called in the parent with the child's pid once it started (tests). */
    void (*on_spawn)(GPid pid, gpointer data);
    gpointer on_spawn_data;
} SpExecOptions;

/* Start from this so an unset stdin is /dev/null, not the caller's fd 0:
 * SpExecOptions o = SP_EXEC_OPTIONS_INIT; o.timeout_sec = 60; */
#define SP_EXEC_OPTIONS_INIT                                                   \
    {                                                                          \
        .stdin_fd = -1                                                         \
    }

/* Run @argv (argv[0] an absolute path). On non-zero exit, signal or timeout,
 * returns FALSE with SP_ERROR_FAILED "<argv0 basename> failed: <stderr first
 * line(s)>". Captured stdout returned in @out_stdout if non-NULL. */
gboolean sp_exec_run(const char *const *argv, const SpExecOptions *opts,
                     char **out_stdout, GError **error);

/* Join argv for logging (shell-quoted, for humans only; never executed). */
char *sp_exec_argv_to_string(const char *const *argv);
