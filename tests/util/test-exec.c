/* sp_exec_run: clean environment, argv without a shell, limits, fd
 * mapping, stderr in the error and a timeout that kills the whole group. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-exec.h"
#include "util/sp-fs.h"

static void
test_env_exact(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    const char *argv[] = {"/usr/bin/env", NULL};

    /* Would leak into the child if the environment were inherited. */
    g_setenv("SP_TEST_LEAK", "1", TRUE);
    g_setenv("LD_PRELOAD", "", TRUE);
    g_assert_true(sp_exec_run(argv, NULL, &out, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(out, ==, "LC_ALL=C\nPATH=" SP_EXEC_PATH "\n");
    g_unsetenv("LD_PRELOAD");
}

static void
test_stderr_in_error(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    const char *argv[] = {
        "/bin/sh", "-c",
        "echo partial; echo '  first line  ' >&2; echo >&2; echo second >&2;"
        " exit 7",
        NULL};

    g_assert_false(sp_exec_run(argv, NULL, &out, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_FAILED);
    g_assert_cmpstr(error->message, ==,
                    "sh failed (exit 7): first line; second");
    g_assert_null(out);
}

static void
test_killed_by_signal(void)
{
    g_autoptr(GError) error = NULL;
    const char *argv[] = {"/bin/sh", "-c", "kill -TERM $$", NULL};

    g_assert_false(sp_exec_run(argv, NULL, NULL, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "sh failed (killed by signal"));
    g_assert_nonnull(strstr(error->message, "SIGTERM"));
}

static void
test_argv_checks(void)
{
    g_autoptr(GError) error = NULL;
    const char *rel[] = {"env", NULL};
    const char *missing[] = {"/nonexistent/qemu-img", NULL};

    g_assert_false(sp_exec_run(rel, NULL, NULL, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "'env'"));
    g_clear_error(&error);

    g_assert_false(sp_exec_run(missing, NULL, NULL, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "qemu-img"));
}

/* Shell metacharacters arrive verbatim as one argument each. */
static void
test_no_shell(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *dir = g_dir_make_tmp("sp-test-exec-XXXXXX", &error);
    g_autofree char *marker = g_build_filename(dir, "pwned", NULL);
    g_autofree char *evil =
        g_strdup_printf("$(touch %s); `touch %s` | x > y", marker, marker);
    const char *argv[] = {"/usr/bin/printf", "[%s]\\n", evil, "a b", "", NULL};
    g_autofree char *expected = g_strdup_printf("[%s]\n[a b]\n[]\n", evil);

    g_assert_no_error(error);
    g_assert_true(sp_exec_run(argv, NULL, &out, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(out, ==, expected);
    g_assert_false(g_file_test(marker, G_FILE_TEST_EXISTS));
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
record_pid(GPid pid, gpointer data)
{
    *(GPid *)data = pid;
}

/* A process is gone once it no longer exists or is a zombie (a killed
 * orphan may wait for a reaper that is not us). */
static gboolean
process_gone(int pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
    g_autofree char *stat = NULL;
    const char *close_paren;

    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return TRUE;
    close_paren = strrchr(stat, ')');
    g_assert_nonnull(close_paren);
    return close_paren[2] == 'Z' || close_paren[2] == 'X';
}

static void
test_timeout_kills_group(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("sp-test-exec-XXXXXX", &error);
    g_autofree char *pidfile = g_build_filename(dir, "grandchild", NULL);
    g_autofree char *content = NULL;
    /* The path travels as $1, never inside the script text. */
    const char *argv[] = {
        "/bin/sh", "-c",    "sleep 100 & echo $! > \"$1\"; sleep 100",
        "sh",      pidfile, NULL};
    GPid child = 0;
    SpExecOptions opts = {.timeout_sec = 1,
                          .stdin_fd = -1,
                          .on_spawn = record_pid,
                          .on_spawn_data = &child};
    gint64 start = g_get_monotonic_time();
    gint64 elapsed;
    int grandchild;

    g_assert_false(sp_exec_run(argv, &opts, NULL, &error));
    elapsed = g_get_monotonic_time() - start;
    g_assert_error(error, SP_ERROR, SP_ERROR_FAILED);
    g_assert_cmpstr(error->message, ==, "sh: timed out after 1 s");
    g_assert_cmpint(elapsed, <, 10 * G_USEC_PER_SEC);
    g_assert_cmpint(child, >, 0);
    g_assert_true(process_gone(child));

    g_assert_true(g_file_get_contents(pidfile, &content, NULL, NULL));
    grandchild = atoi(content);
    g_assert_cmpint(grandchild, >, 0);
    g_assert_true(process_gone(grandchild));
    g_assert_cmpint(unlink(pidfile), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* A child that closes its stdout and stderr (and ignores SIGTERM) must
 * still be timed out: the pipes' EOF is not the child's end. */
static void
test_timeout_after_pipes_closed(void)
{
    g_autoptr(GError) error = NULL;
    const char *argv[] = {"/bin/sh", "-c",
                          "trap '' TERM; exec >&- 2>&-; sleep 100", NULL};
    GPid child = 0;
    SpExecOptions opts = {.timeout_sec = 1,
                          .stdin_fd = -1,
                          .on_spawn = record_pid,
                          .on_spawn_data = &child};
    gint64 start = g_get_monotonic_time();

    g_assert_false(sp_exec_run(argv, &opts, NULL, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_FAILED);
    g_assert_cmpstr(error->message, ==, "sh: timed out after 1 s");
    g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
    g_assert_true(process_gone(child));
}

/* A background process left in the group must not keep us waiting on the
 * pipes after the child itself exited. */
static void
test_straggler_does_not_hang(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    const char *argv[] = {"/bin/sh", "-c", "sleep 100 & echo done", NULL};
    gint64 start = g_get_monotonic_time();

    g_assert_true(sp_exec_run(argv, NULL, &out, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(out, ==, "done\n");
    g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
}

/* One that left the group with setsid keeps the pipes open but cannot
 * keep sp_exec_run waiting once the child itself has exited. */
static void
test_escaped_session_does_not_hang(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *dir = g_dir_make_tmp("sp-test-exec-XXXXXX", &error);
    g_autofree char *pidfile = g_build_filename(dir, "escapee", NULL);
    g_autofree char *content = NULL;
    /* The escapee writes its pid only after setsid(), and the child waits
     * for that, so it has surely left the group when the child exits. */
    const char *argv[] = {
        "/bin/sh",
        "-c",
        "/usr/bin/setsid /bin/sh -c 'echo $$ > \"$1\"; exec /bin/sleep 100'"
        " sh \"$1\" & while [ ! -s \"$1\" ]; do /bin/sleep 0.05; done;"
        " echo done",
        "sh",
        pidfile,
        NULL};
    gint64 start = g_get_monotonic_time();
    gint64 elapsed;
    int escapee;

    g_assert_no_error(error);
    g_assert_true(sp_exec_run(argv, NULL, &out, &error));
    elapsed = g_get_monotonic_time() - start;
    g_assert_no_error(error);
    g_assert_cmpstr(out, ==, "done\n");
    g_assert_cmpint(elapsed, <, 10 * G_USEC_PER_SEC);
    /* The escapee really held the pipe: the run waited out the grace. */
    g_assert_cmpint(elapsed, >=, G_USEC_PER_SEC);

    g_assert_true(g_file_get_contents(pidfile, &content, NULL, NULL));
    escapee = atoi(content);
    g_assert_cmpint(escapee, >, 1);
    kill(escapee, SIGKILL);
    g_assert_cmpint(unlink(pidfile), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static char *
limits_line(const char *limits, const char *name)
{
    g_auto(GStrv) lines = g_strsplit(limits, "\n", -1);

    for (gsize i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], name))
            return g_strdup(lines[i]);
    }
    return NULL;
}

static void
test_rlimits(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *as = NULL;
    g_autofree char *cpu = NULL;
    g_auto(GStrv) as_f = NULL;
    g_auto(GStrv) cpu_f = NULL;
    const char *argv[] = {"/bin/cat", "/proc/self/limits", NULL};
    SpExecOptions opts = {.stdin_fd = -1,
                          .cpu_limit_sec = 7,
                          .as_limit_bytes = 512 * 1024 * 1024};

    g_assert_true(sp_exec_run(argv, &opts, &out, &error));
    g_assert_no_error(error);
    as = limits_line(out, "Max address space");
    cpu = limits_line(out, "Max cpu time");
    g_assert_nonnull(as);
    g_assert_nonnull(cpu);
    as_f = g_regex_split_simple("\\s{2,}", as, 0, 0);
    cpu_f = g_regex_split_simple("\\s{2,}", cpu, 0, 0);
    g_assert_cmpstr(as_f[1], ==, "536870912");
    g_assert_cmpstr(as_f[2], ==, "536870912");
    g_assert_cmpstr(cpu_f[1], ==, "7");
    g_assert_cmpstr(cpu_f[2], ==, "8");

    /* A program that needs more than the limit fails instead of running. */
    {
        const char *big[] = {"/usr/bin/head", "-c", "1", "/dev/zero", NULL};
        SpExecOptions tiny = {.stdin_fd = -1, .as_limit_bytes = 1024 * 1024};
        g_clear_error(&error);
        g_assert_false(sp_exec_run(big, &tiny, NULL, &error));
        g_assert_error(error, SP_ERROR, SP_ERROR_FAILED);
    }
}

static int
make_memfd(const char *content)
{
    g_autoptr(GError) error = NULL;
    int fd = memfd_create("sp-test", MFD_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_true(sp_fs_write_all(fd, content, strlen(content), &error));
    g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
    return fd;
}

static void
test_fd_mapping(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *listing = NULL;
    g_autofd int secret = make_memfd("correct horse");
    g_autofd int other = make_memfd("other");
    /* Not CLOEXEC: the runner must still not hand it to the child. */
    g_autofd int leak = fcntl(other, F_DUPFD, 50);
    g_auto(GStrv) fds = NULL;
    SpExecFd map[] = {{.child_fd = 3, .parent_fd = secret},
                      {.child_fd = 7, .parent_fd = other}};
    SpExecOptions opts = {.stdin_fd = -1, .fds = map, .n_fds = 2};
    const char *cat[] = {"/bin/cat", "/dev/fd/3", "/dev/fd/7", NULL};
    const char *ls[] = {"/bin/ls", "-1", "/proc/self/fd", NULL};

    g_assert_cmpint(leak, >=, 50);
    g_assert_true(sp_exec_run(cat, &opts, &out, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(out, ==, "correct horseother");
    /* The parent's fds stay open and usable. */
    g_assert_cmpint(fcntl(secret, F_GETFD), >=, 0);
    g_assert_cmpint(fcntl(other, F_GETFD), >=, 0);

    g_assert_true(sp_exec_run(ls, &opts, &listing, &error));
    g_assert_no_error(error);
    fds = g_strsplit(g_strstrip(listing), "\n", -1);
    /* 0-2, ls's own directory fd, the two mapped ones: nothing else. */
    g_assert_cmpuint(g_strv_length(fds), ==, 6);
    g_assert_true(g_strv_contains((const char *const *)fds, "3"));
    g_assert_true(g_strv_contains((const char *const *)fds, "7"));
    for (gsize i = 0; fds[i]; i++)
        g_assert_cmpint(atoi(fds[i]), <, 10);
}

static void
test_stdin(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *empty = NULL;
    g_autofd int in = make_memfd("from stdin");
    const char *cat[] = {"/bin/cat", NULL};
    SpExecOptions opts = {.stdin_fd = in};

    g_assert_true(sp_exec_run(cat, &opts, &out, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(out, ==, "from stdin");
    /* Default stdin is /dev/null: cat ends at once with nothing. */
    g_assert_true(sp_exec_run(cat, NULL, &empty, &error));
    g_assert_cmpstr(empty, ==, "");
}

/* Both pipes are drained together: a child that writes a lot to each does
 * not deadlock, stdout is complete and stderr is capped. */
static void
test_large_output(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    const char *seq[] = {"/usr/bin/seq", "1", "300000", NULL};
    const char *noisy[] = {
        "/bin/sh", "-c",
        "/usr/bin/seq 1 300000; /usr/bin/seq 1 300000 >&2; exit 1", NULL};
    gsize expected = 0;

    for (int i = 1; i <= 300000; i++)
        expected += (gsize)snprintf(NULL, 0, "%d\n", i);
    g_assert_true(sp_exec_run(seq, NULL, &out, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(strlen(out), ==, expected);
    g_assert_true(g_str_has_suffix(out, "\n299999\n300000\n"));

    g_assert_false(sp_exec_run(noisy, NULL, NULL, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_FAILED);
    g_assert_true(
        g_str_has_prefix(error->message, "sh failed (exit 1): 1; 2; 3;"));
    g_assert_cmpuint(strlen(error->message), <, 80 * 1024);
}

/* Inside libvirtd nobody may take over SIGCHLD. */
static void
test_sigchld_untouched(void)
{
    g_autoptr(GError) error = NULL;
    const char *argv[] = {"/bin/true", NULL};
    struct sigaction before, after;

    g_assert_cmpint(sigaction(SIGCHLD, NULL, &before), ==, 0);
    g_assert_true(sp_exec_run(argv, NULL, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpint(sigaction(SIGCHLD, NULL, &after), ==, 0);
    g_assert_true(before.sa_handler == after.sa_handler);
    g_assert_true(after.sa_handler == SIG_DFL);
}

static void
read_cmdline(GPid pid, gpointer data)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", pid);
    char *content = NULL;
    gsize len = 0;

    g_assert_true(g_file_get_contents(path, &content, &len, NULL));
    *(GBytes **)data = g_bytes_new_take(content, len);
}

/* on_spawn runs after exec: /proc/PID/cmdline already shows the program's
 * argv (what tests use to prove a secret never reached it). */
static void
write_pid(GPid pid, gpointer data)
{
    int fd = GPOINTER_TO_INT(data);
    g_assert_cmpint(write(fd, &pid, sizeof(pid)), ==, sizeof(pid));
}

/* A safepool killed mid-operation must not leave its child running: the
 * child would go on writing to a temporary that the next open sweeps. */
static void
test_child_dies_with_parent(void)
{
    int p[2];
    pid_t runner, child = 0;
    int status;

    g_assert_cmpint(pipe(p), ==, 0);
    runner = fork();
    g_assert_cmpint(runner, >=, 0);
    if (runner == 0) {
        const char *argv[] = {"/bin/sleep", "60", NULL};
        SpExecOptions opts = SP_EXEC_OPTIONS_INIT;
        opts.on_spawn = write_pid;
        opts.on_spawn_data = GINT_TO_POINTER(p[1]);
        sp_exec_run(argv, &opts, NULL, NULL);
        _exit(0);
    }
    close(p[1]);
    g_assert_cmpint(read(p[0], &child, sizeof(child)), ==, sizeof(child));
    close(p[0]);
    g_assert_cmpint(child, >, 0);
    g_assert_cmpint(kill(runner, SIGKILL), ==, 0);
    g_assert_cmpint(waitpid(runner, &status, 0), ==, runner);
    /* The orphan is reparented; poll until the kernel's SIGKILL lands. */
    for (int i = 0; i < 200 && kill(child, 0) == 0; i++) {
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", child);
        g_autofree char *stat = NULL;
        if (g_file_get_contents(path, &stat, NULL, NULL) &&
            strstr(stat, ") Z "))
            break; /* a zombie awaiting its new parent: dead */
        g_usleep(10000);
    }
    {
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", child);
        g_autofree char *stat = NULL;
        gboolean alive = g_file_get_contents(path, &stat, NULL, NULL) &&
                         !strstr(stat, ") Z ");
        g_assert_false(alive);
    }
}

static void
test_on_spawn_sees_exec(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) cmdline = NULL;
    const char *argv[] = {"/bin/sleep", "1", NULL};
    static const char expected[] = "/bin/sleep\0001";
    SpExecOptions opts = SP_EXEC_OPTIONS_INIT;

    opts.on_spawn = read_cmdline;
    opts.on_spawn_data = &cmdline;
    g_assert_true(sp_exec_run(argv, &opts, NULL, &error));
    g_assert_no_error(error);
    g_assert_nonnull(cmdline);
    g_assert_cmpmem(g_bytes_get_data(cmdline, NULL), g_bytes_get_size(cmdline),
                    expected, sizeof(expected));
}

static char *
status_field(const char *status, const char *name)
{
    g_auto(GStrv) lines = g_strsplit(status, "\n", -1);

    for (gsize i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], name))
            return g_strdup(g_strstrip(lines[i] + strlen(name)));
    }
    return NULL;
}

/* libvirtd blocks and ignores signals in its threads; the child must not
 * inherit that (a blocked SIGTERM would survive a kill, an ignored
 * SIGPIPE changes how tools fail). */
static void
test_child_signals_reset(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *blk = NULL;
    g_autofree char *ign = NULL;
    const char *argv[] = {"/bin/cat", "/proc/self/status", NULL};
    sigset_t block, old;
    struct sigaction ign_sa = {.sa_handler = SIG_IGN}, old_pipe;

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    g_assert_cmpint(sigprocmask(SIG_BLOCK, &block, &old), ==, 0);
    g_assert_cmpint(sigaction(SIGPIPE, &ign_sa, &old_pipe), ==, 0);

    g_assert_true(sp_exec_run(argv, NULL, &out, &error));
    g_assert_no_error(error);

    g_assert_cmpint(sigprocmask(SIG_SETMASK, &old, NULL), ==, 0);
    g_assert_cmpint(sigaction(SIGPIPE, &old_pipe, NULL), ==, 0);
    blk = status_field(out, "SigBlk:");
    ign = status_field(out, "SigIgn:");
    g_assert_cmpstr(blk, ==, "0000000000000000");
    /* Signals 32 and 33 are glibc's own (sigaction refuses them): ignored
     * when our parent had them so (GNU make does), beyond our reach. */
    g_assert_cmpuint(g_ascii_strtoull(ign, NULL, 16) &
                         ~G_GUINT64_CONSTANT(0x180000000),
                     ==, 0);
}

static void
test_argv_to_string(void)
{
    const char *argv[] = {"/usr/bin/qemu-img",
                          "create",
                          "-o",
                          "cluster_size=65536,a b",
                          "it's",
                          "",
                          NULL};
    g_autofree char *s = sp_exec_argv_to_string(argv);

    g_assert_cmpstr(s, ==,
                    "/usr/bin/qemu-img create -o 'cluster_size=65536,a b' "
                    "'it'\\''s' ''");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/util/exec/env-exact", test_env_exact);
    g_test_add_func("/util/exec/stderr-in-error", test_stderr_in_error);
    g_test_add_func("/util/exec/killed-by-signal", test_killed_by_signal);
    g_test_add_func("/util/exec/argv-checks", test_argv_checks);
    g_test_add_func("/util/exec/no-shell", test_no_shell);
    g_test_add_func("/util/exec/timeout-kills-group", test_timeout_kills_group);
    g_test_add_func("/util/exec/timeout-after-pipes-closed",
                    test_timeout_after_pipes_closed);
    g_test_add_func("/util/exec/straggler-does-not-hang",
                    test_straggler_does_not_hang);
    g_test_add_func("/util/exec/escaped-session-does-not-hang",
                    test_escaped_session_does_not_hang);
    g_test_add_func("/util/exec/rlimits", test_rlimits);
    g_test_add_func("/util/exec/fd-mapping", test_fd_mapping);
    g_test_add_func("/util/exec/stdin", test_stdin);
    g_test_add_func("/util/exec/large-output", test_large_output);
    g_test_add_func("/util/exec/sigchld-untouched", test_sigchld_untouched);
    g_test_add_func("/util/exec/on-spawn-sees-exec", test_on_spawn_sees_exec);
    g_test_add_func("/util/exec/child-dies-with-parent",
                    test_child_dies_with_parent);
    g_test_add_func("/util/exec/child-signals-reset", test_child_signals_reset);
    g_test_add_func("/util/exec/argv-to-string", test_argv_to_string);
    return g_test_run();
}
