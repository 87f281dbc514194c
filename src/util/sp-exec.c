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

/* The fds handed to the child: dup'd high (SP_EXEC_FD_BASE) so they cannot
 * collide with the child numbers or GLib's own pipe shuffling; closed by
 * the cleanup, whatever happens. */
typedef struct {
    int *src;
    int *dst;
    gsize n;
} SpExecFds;

static void
sp_exec_fds_clear(SpExecFds *f)
{
    for (gsize i = 0; f->src && i < f->n; i++)
        g_clear_fd(&f->src[i], NULL);
    g_clear_pointer(&f->src, g_free);
    g_clear_pointer(&f->dst, g_free);
    f->n = 0;
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpExecFds, sp_exec_fds_clear)

/* @pairs: (parent fd, child fd) ints, the options' and the sandbox's. */
static gboolean
sp_exec_fds_map(SpExecFds *f, const GArray *pairs, const char *prog,
                GError **error)
{
    f->n = pairs->len / 2;
    f->src = g_new(int, f->n + 1);
    f->dst = g_new0(int, f->n + 1);
    for (gsize i = 0; i < f->n; i++)
        f->src[i] = -1;
    for (gsize i = 0; i < f->n; i++) {
        int parent = g_array_index(pairs, int, 2 * i);
        int child = g_array_index(pairs, int, 2 * i + 1);

        if (child < 3) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("%s: child fd %d: must be 3 or above"), prog, child);
            return FALSE;
        }
        f->src[i] = fcntl(parent, F_DUPFD_CLOEXEC, SP_EXEC_FD_BASE);
        if (f->src[i] < 0)
            return sp_error_set_errno(error, errno, _("%s: fd %d"), prog,
                                      parent);
        f->dst[i] = child;
    }
    return TRUE;
}

/* A running child and what the parent keeps of it. */
typedef struct {
    const char *prog;
    GPid pid;
    int out_fd;
    int err_fd;
    int pidfd;
    GString *out;
    GString *err;
    gboolean timed_out;
    gboolean out_overflow;
    gboolean read_failed;
    const SpExecOptions *opts;
} SpExecChild;

static void
sp_exec_child_clear(SpExecChild *ch)
{
    g_clear_fd(&ch->out_fd, NULL);
    g_clear_fd(&ch->err_fd, NULL);
    g_clear_fd(&ch->pidfd, NULL);
    if (ch->out)
        g_string_free(g_steal_pointer(&ch->out), TRUE);
    if (ch->err)
        g_string_free(g_steal_pointer(&ch->err), TRUE);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpExecChild, sp_exec_child_clear)

static gboolean
sp_exec_spawn(SpExecChild *ch, const char *const *argv,
              const SpExecOptions *opts, GError **error)
{
    static const char *const envp[] = {"LC_ALL=C", "PATH=" SP_EXEC_PATH, NULL};
    g_auto(SpExecFds) fds = {0};
    g_autoptr(GError) spawn_error = NULL;
    g_autoptr(GPtrArray) wrapped = NULL;
    g_autoptr(GArray) pairs = g_array_new(FALSE, FALSE, sizeof(int));
    SpChildSetup cs = {opts->cpu_limit_sec, opts->as_limit_bytes, getpid()};

    for (gsize i = 0; i < opts->n_fds; i++) {
        int pair[2] = {opts->fds[i].parent_fd, opts->fds[i].child_fd};

        g_array_append_vals(pairs, pair, 2);
    }
    if (opts->sandbox) {
        g_autoptr(GArray) more = NULL;

        if (!sp_sandbox_wrap(opts->sandbox, argv, &wrapped, &more, error))
            return FALSE;
        g_array_append_vals(pairs, more->data, more->len);
        argv = (const char *const *)wrapped->pdata;
    }
    if (!sp_exec_fds_map(&fds, pairs, ch->prog, error))
        return FALSE;
    if (!g_spawn_async_with_pipes_and_fds(
            NULL, argv, envp, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CLOEXEC_PIPES,
            sp_exec_child_setup, &cs, opts->stdin_fd, -1, -1, fds.src, fds.dst,
            fds.n, &ch->pid, NULL, &ch->out_fd, &ch->err_fd, &spawn_error)) {
        /* what could not start: the sandbox runner or the program */
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED, _("%s: %s"),
                    opts->sandbox ? "bwrap" : ch->prog, spawn_error->message);
        return FALSE;
    }
    /* Also from the parent, so the group exists before we might kill it. */
    setpgid(ch->pid, ch->pid);
    if (opts->on_spawn)
        opts->on_spawn(ch->pid, opts->on_spawn_data);
    ch->pidfd = sp_exec_pidfd(ch->pid);
    return TRUE;
}

/* One poll round's timeout in ms (-1: none), from the deadlines. */
static int
sp_exec_poll_timeout(gint64 deadline, gboolean timed_out, gint64 drain)
{
    int timeout_ms = -1;

    if (deadline && !timed_out)
        timeout_ms = (int)MIN(sp_exec_remaining_ms(deadline), G_MAXINT);
    if (drain) {
        int d = (int)sp_exec_remaining_ms(drain);
        timeout_ms = timeout_ms < 0 ? d : MIN(timeout_ms, d);
    }
    return timeout_ms;
}

/* Read what is ready; the child's end ends its stragglers too. */
static void
sp_exec_handle(SpExecChild *ch, const struct pollfd *p, gint64 *drain)
{
    if (p->fd == ch->pidfd) {
        /* The child is gone (still unreaped, so its pid and group id
         * cannot be reused): stragglers left in its group would hold our
         * pipes open forever; end them. */
        kill(-ch->pid, SIGKILL);
        g_clear_fd(&ch->pidfd, NULL);
        *drain = g_get_monotonic_time() + SP_EXEC_DRAIN_USEC;
    } else if (p->fd == ch->out_fd) {
        if (!sp_exec_drain(&ch->out_fd, ch->out, SP_EXEC_STDOUT_MAX,
                           &ch->out_overflow))
            ch->read_failed = TRUE;
        if (ch->opts->on_stdout && ch->out->len) {
            ch->opts->on_stdout(ch->out->str, ch->out->len,
                                ch->opts->on_stdout_data);
            g_string_truncate(ch->out, 0);
        }
    } else if (p->fd == ch->err_fd) {
        if (!sp_exec_drain(&ch->err_fd, ch->err, SP_EXEC_STDERR_MAX, NULL))
            ch->read_failed = TRUE;
    }
}

/* Collect stdout and stderr until the child and its pipes are done, or
 * the timeout kills its process group. Until the child is gone too: one
 * that closed its stdout and stderr must still meet the timeout rather
 * than a blocking waitpid. */
static void
sp_exec_pump(SpExecChild *ch, guint timeout_sec)
{
    gint64 deadline = timeout_sec ? g_get_monotonic_time() +
                                        (gint64)timeout_sec * G_USEC_PER_SEC
                                  : 0;
    gint64 drain = 0;

    while (ch->out_fd >= 0 || ch->err_fd >= 0 || ch->pidfd >= 0) {
        struct pollfd pfd[3];
        int np = 0, r;

        if (ch->out_fd >= 0)
            pfd[np++] = (struct pollfd){.fd = ch->out_fd, .events = POLLIN};
        if (ch->err_fd >= 0)
            pfd[np++] = (struct pollfd){.fd = ch->err_fd, .events = POLLIN};
        if (ch->pidfd >= 0)
            pfd[np++] = (struct pollfd){.fd = ch->pidfd, .events = POLLIN};
        r = poll(pfd, (nfds_t)np,
                 sp_exec_poll_timeout(deadline, ch->timed_out, drain));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            ch->read_failed = TRUE;
        if (r == 0) {
            gint64 now = g_get_monotonic_time();

            /* A process that left the group (setsid) may still hold our
             * pipes after the child ended: stop waiting for it. */
            if (drain && now >= drain)
                break;
            if (deadline && !ch->timed_out && now >= deadline) {
                ch->timed_out = TRUE;
                kill(-ch->pid, SIGKILL);
                kill(ch->pid, SIGKILL);
                drain = now + SP_EXEC_DRAIN_USEC;
            }
            continue;
        }
        for (int i = 0; r > 0 && i < np; i++)
            if (pfd[i].revents)
                sp_exec_handle(ch, &pfd[i], &drain);
        if (ch->read_failed) {
            kill(-ch->pid, SIGKILL);
            kill(ch->pid, SIGKILL);
            break;
        }
    }
}

/* Reap the child and report how it ended. */
static gboolean
sp_exec_wait(SpExecChild *ch, guint timeout_sec, GError **error)
{
    int status = 0;

    g_clear_fd(&ch->out_fd, NULL);
    g_clear_fd(&ch->err_fd, NULL);
    while (waitpid(ch->pid, &status, 0) < 0) {
        if (errno != EINTR)
            return sp_error_set_errno(error, errno, _("%s: waitpid"), ch->prog);
    }
    if (!sp_exec_check_status(ch->prog, status, ch->timed_out, timeout_sec,
                              ch->err->str, error))
        return FALSE;
    if (ch->read_failed) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("%s: reading its output failed"), ch->prog);
        return FALSE;
    }
    if (ch->out_overflow) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("%s: output larger than %d bytes"), ch->prog,
                    SP_EXEC_STDOUT_MAX);
        return FALSE;
    }
    return TRUE;
}

gboolean
sp_exec_run(const char *const *argv, const SpExecOptions *opts,
            char **out_stdout, GError **error)
{
    static const SpExecOptions defaults = SP_EXEC_OPTIONS_INIT;
    g_autofree char *prog = NULL;
    g_auto(SpExecChild) ch = {.out_fd = -1, .err_fd = -1, .pidfd = -1};
    gboolean ok;

    if (!opts)
        opts = &defaults;
    if (!sp_exec_check_argv(argv, error))
        return FALSE;
    prog = g_path_get_basename(argv[0]);
    ch.prog = prog;
    ch.opts = opts;
    ch.out = g_string_new(NULL);
    ch.err = g_string_new(NULL);
    ok = sp_exec_spawn(&ch, argv, opts, error);
    if (ok) {
        sp_exec_pump(&ch, opts->timeout_sec);
        ok = sp_exec_wait(&ch, opts->timeout_sec, error);
    }
    if (!ok) {
        if (opts->sandbox && error)
            sp_sandbox_explain(*error);
        return FALSE;
    }
    if (out_stdout)
        *out_stdout = g_string_free(g_steal_pointer(&ch.out), FALSE);
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
