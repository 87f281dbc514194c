/* Subprocess runner. Spawns without a child watch (no SIGCHLD handler is
 * installed, so it is safe inside libvirtd) and reaps its own child. */
#include "util/sp-exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "util/sp-error.h"
#include "util/sp-i18n.h"

#define SP_EXEC_STDERR_MAX (64 * 1024)
#define SP_EXEC_STDOUT_MAX (64 * 1024 * 1024)
/* Mapped fds are first moved this high so they cannot collide with the
 * child fd numbers or GLib's own pipe shuffling. */
#define SP_EXEC_FD_BASE 100
/* How long to keep reading pipes once the child is dead. */
#define SP_EXEC_DRAIN_USEC (2 * G_USEC_PER_SEC)

typedef struct {
    guint64 cpu;
    guint64 as;
    pid_t parent;
} SpChildSetup;

/* Runs in the forked child before exec: async-signal-safe calls only. */
static void
sp_exec_child_setup(gpointer data)
{
    const SpChildSetup *cs = data;
    struct sigaction sa;
    sigset_t none;

    /* Own process group, so a timeout can kill grandchildren too. */
    setpgid(0, 0);

    /* A killed safepool must not leave qemu-img running: it could write to
     * a temporary after the sweeper removed it. Re-check the parent after
     * arming, in case it died in between. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != cs->parent)
        _exit(127);

    /* The parent (libvirtd) may block or handle signals; start clean. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &sa, NULL);
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (cs->cpu) {
        /* Soft limit sends SIGXCPU, the hard one a second later SIGKILL. */
        struct rlimit rl = {(rlim_t)cs->cpu, (rlim_t)cs->cpu + 1};
        if (setrlimit(RLIMIT_CPU, &rl) < 0)
            _exit(127);
    }
    if (cs->as) {
        struct rlimit rl = {(rlim_t)cs->as, (rlim_t)cs->as};
        if (setrlimit(RLIMIT_AS, &rl) < 0)
            _exit(127);
    }
}

/* Read what is available on *fd into @buf (up to @max kept); closes and
 * sets *fd = -1 on EOF. Returns FALSE on read error. */
static gboolean
sp_exec_drain(int *fd, GString *buf, gsize max, gboolean *overflow)
{
    char chunk[16384];
    ssize_t n;

    do {
        n = read(*fd, chunk, sizeof(chunk));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN)
            return TRUE;
        return FALSE;
    }
    if (n == 0) {
        g_clear_fd(fd, NULL);
        return TRUE;
    }
    if (buf->len < max)
        g_string_append_len(buf, chunk, (gssize)MIN((gsize)n, max - buf->len));
    if (buf->len >= max && overflow)
        *overflow = TRUE;
    return TRUE;
}

/* stderr trimmed, lines joined with "; " so the error stays one line. */
static char *
sp_exec_fold_stderr(const char *err)
{
    g_auto(GStrv) lines = g_strsplit(err, "\n", -1);
    g_autoptr(GString) out = g_string_new(NULL);

    for (gsize i = 0; lines[i]; i++) {
        char *l = g_strstrip(lines[i]);
        if (!*l)
            continue;
        if (out->len)
            g_string_append(out, "; ");
        g_string_append(out, l);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
sp_exec_close_fds(int *fds, gsize n)
{
    for (gsize i = 0; i < n; i++)
        g_clear_fd(&fds[i], NULL);
}

static gboolean
sp_exec_check_argv(const char *const *argv, GError **error)
{
    if (!argv || !argv[0]) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("command: empty argument vector"));
        return FALSE;
    }
    if (!g_path_is_absolute(argv[0])) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("program '%s': not an absolute path"), argv[0]);
        return FALSE;
    }
    return TRUE;
}

static gint64
sp_exec_remaining_ms(gint64 deadline)
{
    gint64 now = g_get_monotonic_time();
    return deadline > now ? (deadline - now + 999) / 1000 : 0;
}

static int
sp_exec_pidfd(GPid pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

/* Reports the child's end (exit status, signal, timeout) as an error. */
static gboolean
sp_exec_check_status(const char *prog, int status, gboolean timed_out,
                     guint timeout_sec, const char *err, GError **error)
{
    g_autofree char *folded = sp_exec_fold_stderr(err);
    g_autofree char *detail =
        *folded ? g_strconcat(": ", folded, NULL) : g_strdup("");

    if (timed_out) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("%s: timed out after %u s"), prog, timeout_sec);
        return FALSE;
    }
    if (WIFEXITED(status)) {
        if (WEXITSTATUS(status) == 0)
            return TRUE;
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("%s failed (exit %d)%s"), prog, WEXITSTATUS(status),
                    detail);
        return FALSE;
    }
    if (WIFSIGNALED(status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("%s failed (killed by signal %d, SIG%s)%s"), prog,
                    WTERMSIG(status), abbrev ? abbrev : "?", detail);
        return FALSE;
    }
    g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                _("%s failed (wait status %d)%s"), prog, status, detail);
    return FALSE;
}

gboolean
sp_exec_run(const char *const *argv, const SpExecOptions *opts,
            char **out_stdout, GError **error)
{
    static const char *const envp[] = {"LC_ALL=C", "PATH=" SP_EXEC_PATH, NULL};
    static const SpExecOptions defaults = SP_EXEC_OPTIONS_INIT;
    g_autofree int *src = NULL;
    g_autofree int *dst = NULL;
    g_autofree char *prog = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GString) err = g_string_new(NULL);
    g_autoptr(GError) spawn_error = NULL;
    SpChildSetup cs;
    GPid pid = -1;
    int out_fd = -1, err_fd = -1;
    g_autofd int pidfd = -1;
    gboolean timed_out = FALSE, out_overflow = FALSE, read_failed = FALSE;
    gint64 deadline = 0;
    gint64 drain_deadline = 0;
    int status = 0;
    gsize n_fds;

    if (!opts)
        opts = &defaults;
    if (!sp_exec_check_argv(argv, error))
        return FALSE;
    prog = g_path_get_basename(argv[0]);

    n_fds = opts->n_fds;
    src = g_new0(int, n_fds + 1);
    dst = g_new0(int, n_fds + 1);
    for (gsize i = 0; i < n_fds; i++)
        src[i] = -1;
    for (gsize i = 0; i < n_fds; i++) {
        if (opts->fds[i].child_fd < 3) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("%s: child fd %d: must be 3 or above"), prog,
                        opts->fds[i].child_fd);
            sp_exec_close_fds(src, n_fds);
            return FALSE;
        }
        src[i] =
            fcntl(opts->fds[i].parent_fd, F_DUPFD_CLOEXEC, SP_EXEC_FD_BASE);
        if (src[i] < 0) {
            sp_error_set_errno(error, errno, _("%s: fd %d"), prog,
                               opts->fds[i].parent_fd);
            sp_exec_close_fds(src, n_fds);
            return FALSE;
        }
        dst[i] = opts->fds[i].child_fd;
    }

    cs.cpu = opts->cpu_limit_sec;
    cs.as = opts->as_limit_bytes;
    cs.parent = getpid();
    if (!g_spawn_async_with_pipes_and_fds(
            NULL, (const char *const *)argv, envp,
            G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CLOEXEC_PIPES,
            sp_exec_child_setup, &cs, opts->stdin_fd, -1, -1, src, dst, n_fds,
            &pid, NULL, &out_fd, &err_fd, &spawn_error)) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED, _("%s: %s"), prog,
                    spawn_error->message);
        sp_exec_close_fds(src, n_fds);
        return FALSE;
    }
    sp_exec_close_fds(src, n_fds);
    /* Also from the parent, so the group exists before we might kill it. */
    setpgid(pid, pid);
    if (opts->on_spawn)
        opts->on_spawn(pid, opts->on_spawn_data);

    pidfd = sp_exec_pidfd(pid);
    if (opts->timeout_sec)
        deadline =
            g_get_monotonic_time() + (gint64)opts->timeout_sec * G_USEC_PER_SEC;

    /* Until the child is gone too: one that closed its stdout and stderr
     * must still meet the timeout rather than a blocking waitpid. */
    while (out_fd >= 0 || err_fd >= 0 || pidfd >= 0) {
        struct pollfd pfd[3];
        int np = 0, r, timeout_ms = -1;

        if (out_fd >= 0)
            pfd[np++] = (struct pollfd){.fd = out_fd, .events = POLLIN};
        if (err_fd >= 0)
            pfd[np++] = (struct pollfd){.fd = err_fd, .events = POLLIN};
        if (pidfd >= 0)
            pfd[np++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
        if (deadline && !timed_out)
            timeout_ms = (int)MIN(sp_exec_remaining_ms(deadline), G_MAXINT);
        if (drain_deadline) {
            int d = (int)sp_exec_remaining_ms(drain_deadline);
            timeout_ms = timeout_ms < 0 ? d : MIN(timeout_ms, d);
        }

        r = poll(pfd, (nfds_t)np, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            read_failed = TRUE;
            break;
        }
        if (r == 0) {
            gint64 now = g_get_monotonic_time();

            /* A process that left the group (setsid) may still hold our
             * pipes after the child ended: stop waiting for it. */
            if (drain_deadline && now >= drain_deadline)
                break;
            if (deadline && !timed_out && now >= deadline) {
                /* Kill the whole group, then collect what is left. */
                timed_out = TRUE;
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                drain_deadline = now + SP_EXEC_DRAIN_USEC;
            }
            continue;
        }
        for (int i = 0; i < np; i++) {
            if (!pfd[i].revents)
                continue;
            if (pfd[i].fd == pidfd) {
                /* The child is gone (still unreaped, so its pid and group
                 * id cannot be reused): stragglers left in its group would
                 * hold our pipes open forever; end them. */
                kill(-pid, SIGKILL);
                g_clear_fd(&pidfd, NULL);
                drain_deadline = g_get_monotonic_time() + SP_EXEC_DRAIN_USEC;
            } else if (pfd[i].fd == out_fd) {
                if (!sp_exec_drain(&out_fd, out, SP_EXEC_STDOUT_MAX,
                                   &out_overflow))
                    read_failed = TRUE;
            } else if (pfd[i].fd == err_fd) {
                if (!sp_exec_drain(&err_fd, err, SP_EXEC_STDERR_MAX, NULL))
                    read_failed = TRUE;
            }
        }
        if (read_failed) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            break;
        }
    }
    g_clear_fd(&out_fd, NULL);
    g_clear_fd(&err_fd, NULL);

    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return sp_error_set_errno(error, errno, _("%s: waitpid"), prog);
        }
    }

    if (!sp_exec_check_status(prog, status, timed_out, opts->timeout_sec,
                              err->str, error))
        return FALSE;
    if (read_failed) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("%s: reading its output failed"), prog);
        return FALSE;
    }
    if (out_overflow) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("%s: output larger than %d bytes"), prog,
                    SP_EXEC_STDOUT_MAX);
        return FALSE;
    }
    if (out_stdout)
        *out_stdout = g_string_free(g_steal_pointer(&out), FALSE);
    return TRUE;
}

char *
sp_exec_argv_to_string(const char *const *argv)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (gsize i = 0; argv && argv[i]; i++) {
        const char *a = argv[i];
        gboolean plain = *a != '\0';

        for (const char *p = a; *p && plain; p++)
            plain = g_ascii_isalnum(*p) || strchr("-_./=:,+@%", *p);
        if (s->len)
            g_string_append_c(s, ' ');
        if (plain) {
            g_string_append(s, a);
        } else {
            g_autofree char *q = g_shell_quote(a);
            g_string_append(s, q);
        }
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}
