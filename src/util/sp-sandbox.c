/* The helper sandbox (see sp-sandbox.h): bubblewrap's options for one run,
 * and the seccomp filter, built with libseccomp. */
#include "util/sp-sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-exec.h"
#include "util/sp-i18n.h"

/* Where the sandbox's fds start in bubblewrap's process (above the child
 * fds of the program itself, such as the secret's 3). */
#define SP_SANDBOX_FD_BASE 10

typedef struct {
    char *path;
    int fd;
    gboolean writable;
} SpSandboxFile;

struct SpSandbox {
    GArray *files;         /* SpSandboxFile */
    int secret_child_fd;   /* /dev/fd/N in the sandbox, or -1 */
    int secret_fd;         /* its content (borrowed), or -1 */
    gboolean dac_override; /* a file the program must open is not root's */
    int seccomp_fd;        /* the filter, made by wrap */
    GArray *owned;         /* fds to close with the sandbox */
};

static void
sp_sandbox_file_clear(gpointer data)
{
    SpSandboxFile *f = data;

    g_free(f->path);
}

SpSandbox *
sp_sandbox_new(void)
{
    SpSandbox *sb = g_new0(SpSandbox, 1);

    sb->files = g_array_new(FALSE, TRUE, sizeof(SpSandboxFile));
    g_array_set_clear_func(sb->files, sp_sandbox_file_clear);
    sb->secret_child_fd = -1;
    sb->secret_fd = -1;
    sb->seccomp_fd = -1;
    sb->owned = g_array_new(FALSE, FALSE, sizeof(int));
    return sb;
}

void
sp_sandbox_free(SpSandbox *sb)
{
    if (!sb)
        return;
    g_array_unref(sb->files);
    g_clear_fd(&sb->seccomp_fd, NULL);
    for (guint i = 0; i < sb->owned->len; i++)
        close(g_array_index(sb->owned, int, i));
    g_array_unref(sb->owned);
    g_free(sb);
}

gboolean
sp_sandbox_add_file(SpSandbox *sb, const char *path, int fd, gboolean writable,
                    GError **error)
{
    SpSandboxFile f = {NULL, fd, writable};
    struct stat st;

    if (!path || !g_path_is_absolute(path) || fd < 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("sandbox: no open file for '%s'"), path ? path : "");
        return FALSE;
    }
    if (fstat(fd, &st) < 0)
        return sp_error_set_errno(error, errno, _("sandbox: '%s'"), path);
    /* root without capabilities reads and writes root's files only: a
     * volume owned by the domain's user (libvirt-qemu, 0600) needs DAC
     * override, nothing more. */
    if (st.st_uid != 0)
        sb->dac_override = TRUE;
    f.path = g_strdup(path);
    g_array_append_val(sb->files, f);
    return TRUE;
}

void
sp_sandbox_keep_fd(SpSandbox *sb, int fd)
{
    g_array_append_val(sb->owned, fd);
}

void
sp_sandbox_set_secret(SpSandbox *sb, int child_fd, int fd)
{
    sb->secret_child_fd = child_fd;
    sb->secret_fd = fd;
}

/* What no helper needs and an escape would want: tracing, mounting, new
 * namespaces, the kernel's keyrings, BPF, modules, kexec. Sockets: none
 * (the network is unshared anyway; a socket could still reach an abstract
 * UNIX socket of the host's network namespace... not in a new one, but
 * nothing here needs one). Each is answered EPERM, so a program reports
 * a clear failure rather than dying. */
static const char *const sp_sandbox_denied[] = {
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsmount",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    "bpf",
    "kexec_load",
    "kexec_file_load",
    "add_key",
    "request_key",
    "keyctl",
    "init_module",
    "finit_module",
    "delete_module",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "open_by_handle_at",
    "name_to_handle_at",
    "userfaultfd",
    "perf_event_open",
    "iopl",
    "ioperm",
    "socket",
    "socketpair",
    "connect",
    "lookup_dcookie",
    "vhangup",
    "chroot",
    /* io_uring makes sockets (IORING_OP_SOCKET) and opens files without
     * the syscalls above; no helper needs it */
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    /* another process's fds and memory, through a pidfd or by comparing */
    "pidfd_getfd",
    "process_madvise",
    "kcmp",
};

/* clone() flags that make a new namespace: unshare() by another name. A
 * new user namespace holds every capability, inside it, for the kernel's
 * largest attack surface (nf_tables, packet sockets, ...). */
static const unsigned long sp_sandbox_clone_ns[] = {
    CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
    CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, 0x00000080 /* NEWTIME */,
};

/* The filter as a BPF program in a sealed memfd (bubblewrap's --seccomp). */
static int
sp_sandbox_seccomp(GError **error)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    g_autofd int fd = -1;
    int rc = 0;

    if (!ctx) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("sandbox: seccomp_init failed"));
        return -1;
    }
    for (gsize i = 0; rc == 0 && i < G_N_ELEMENTS(sp_sandbox_denied); i++) {
        int nr = seccomp_syscall_resolve_name(sp_sandbox_denied[i]);

        /* a syscall this architecture does not have needs no rule */
        if (nr == __NR_SCMP_ERROR)
            continue;
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
    }
    for (gsize i = 0; rc == 0 && i < G_N_ELEMENTS(sp_sandbox_clone_ns); i++)
        rc =
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, sp_sandbox_clone_ns[i],
                                     sp_sandbox_clone_ns[i]));
    /* clone3's flags are behind a pointer no filter can read: ENOSYS, and
     * glibc falls back to clone() for its threads */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    fd = memfd_create("safepool-seccomp", MFD_CLOEXEC);
    if (rc == 0 && fd >= 0)
        rc = seccomp_export_bpf(ctx, fd);
    seccomp_release(ctx);
    if (fd < 0 || rc != 0) {
        sp_error_set_errno(error, fd < 0 ? errno : -rc,
                           _("sandbox: seccomp filter"));
        return -1;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        sp_error_set_errno(error, errno, _("sandbox: seccomp filter"));
        return -1;
    }
    return g_steal_fd(&fd);
}

static void
sp_sandbox_arg(GPtrArray *argv, const char *a)
{
    g_ptr_array_add(argv, g_strdup(a));
}

static void
sp_sandbox_fd_arg(GPtrArray *argv, GArray *fds, const char *opt, int fd,
                  int *next)
{
    int pair[2] = {fd, (*next)++};

    g_array_append_vals(fds, pair, 2);
    sp_sandbox_arg(argv, opt);
    g_ptr_array_add(argv, g_strdup_printf("%d", pair[1]));
}

/* The world every helper gets: /usr read-only, the usual symlinks into
 * it, no /etc, /proc, /sys, /home, /var, /tmp; three devices. */
static void
sp_sandbox_base(GPtrArray *argv, gboolean dac_override)
{
    static const char *const base[] = {
        SP_SANDBOX_BWRAP,
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--tmpfs",
        "/",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--symlink",
        "usr/bin",
        "/bin",
        "--symlink",
        "usr/sbin",
        "/sbin",
        "--tmpfs",
        "/dev",
        "--dev-bind",
        "/dev/null",
        "/dev/null",
        "--dev-bind",
        "/dev/zero",
        "/dev/zero",
        "--dev-bind",
        "/dev/urandom",
        "/dev/urandom",
        "--chdir",
        "/",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(base); i++)
        sp_sandbox_arg(argv, base[i]);
    if (dac_override) {
        sp_sandbox_arg(argv, "--cap-add");
        sp_sandbox_arg(argv, "CAP_DAC_OVERRIDE");
    }
}

/* A file bound where the host's /usr is shown would bring its neighbours
 * along (a pool under /usr/local): an empty tmpfs goes over each such
 * file's directory first, so the file is shown alone there too. (A
 * directory qemu-img needs, such as /usr/lib, is then hidden and the run
 * fails: closed, never open.) Returns the directories so covered. */
static GPtrArray *
sp_sandbox_hide_parents(const SpSandbox *sb, GPtrArray *argv)
{
    GPtrArray *hidden = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < sb->files->len; i++) {
        const SpSandboxFile *file = &g_array_index(sb->files, SpSandboxFile, i);
        g_autofree char *dir = g_path_get_dirname(file->path);

        if (!g_str_equal(dir, "/usr") && !g_str_has_prefix(dir, "/usr/"))
            continue;
        if (g_ptr_array_find_with_equal_func(hidden, dir, g_str_equal, NULL))
            continue;
        sp_sandbox_arg(argv, "--tmpfs");
        sp_sandbox_arg(argv, dir);
        g_ptr_array_add(hidden, g_steal_pointer(&dir));
    }
    return hidden;
}

gboolean
sp_sandbox_wrap(SpSandbox *sb, const char *const *argv, GPtrArray **out_argv,
                GArray **fds, GError **error)
{
    g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) f = g_array_new(FALSE, FALSE, sizeof(int));
    g_autoptr(GPtrArray) hidden = NULL;
    int next = SP_SANDBOX_FD_BASE;

    g_clear_fd(&sb->seccomp_fd, NULL);
    sb->seccomp_fd = sp_sandbox_seccomp(error);
    if (sb->seccomp_fd < 0)
        return FALSE;
    sp_sandbox_base(a, sb->dac_override);
    if (sb->secret_fd >= 0) {
        g_autofree char *dest =
            g_strdup_printf("/dev/fd/%d", sb->secret_child_fd);

        sp_sandbox_arg(a, "--perms");
        sp_sandbox_arg(a, "0400");
        sp_sandbox_fd_arg(a, f, "--ro-bind-data", sb->secret_fd, &next);
        sp_sandbox_arg(a, dest);
    }
    hidden = sp_sandbox_hide_parents(sb, a);
    for (guint i = 0; i < sb->files->len; i++) {
        const SpSandboxFile *file = &g_array_index(sb->files, SpSandboxFile, i);

        sp_sandbox_fd_arg(a, f, file->writable ? "--bind-fd" : "--ro-bind-fd",
                          file->fd, &next);
        sp_sandbox_arg(a, file->path);
    }
    /* the rest of its world is read-only: only its output can change */
    for (guint i = 0; i < hidden->len; i++) {
        sp_sandbox_arg(a, "--remount-ro");
        sp_sandbox_arg(a, g_ptr_array_index(hidden, i));
    }
    sp_sandbox_arg(a, "--remount-ro");
    sp_sandbox_arg(a, "/dev");
    sp_sandbox_arg(a, "--remount-ro");
    sp_sandbox_arg(a, "/");
    sp_sandbox_fd_arg(a, f, "--seccomp", sb->seccomp_fd, &next);
    sp_sandbox_arg(a, "--");
    for (gsize i = 0; argv[i]; i++)
        sp_sandbox_arg(a, argv[i]);
    g_ptr_array_add(a, NULL);
    *out_argv = g_steal_pointer(&a);
    *fds = g_steal_pointer(&f);
    return TRUE;
}

static gpointer
sp_sandbox_probe(gpointer data)
{
    const char *const truth[] = {"/usr/bin/true", NULL};
    g_autoptr(SpSandbox) sb = sp_sandbox_new();
    g_autoptr(GError) error = NULL;
    SpExecOptions opts = SP_EXEC_OPTIONS_INIT;

    opts.timeout_sec = 30;
    opts.sandbox = sb;
    if (sp_exec_run(truth, &opts, NULL, &error))
        return NULL;
    return g_strdup(error->message);
}

gboolean
sp_sandbox_available(char **why)
{
    static GOnce once = G_ONCE_INIT;
    const char *reason = g_once(&once, sp_sandbox_probe, NULL);

    if (why)
        *why = g_strdup(reason);
    return reason == NULL;
}

void
sp_sandbox_explain(GError *error)
{
    g_autofree char *old = NULL;
    const char *cause;

    /* bubblewrap's own errors start so: the whole message when bwrap could
     * not be executed, else the first stderr line after what the runner
     * says ("qemu-img failed (exit 1): "), which is not true of a program
     * that never started. A "bwrap: " further on is the program's own
     * output (qemu-img echoes file names): not the sandbox's failure. */
    if (!error)
        return;
    cause = strstr(error->message, "): ");
    cause = cause ? cause + 3 : error->message;
    if (!g_str_has_prefix(error->message, "bwrap: ") &&
        !g_str_has_prefix(cause, "bwrap: "))
        return;
    if (g_str_has_prefix(error->message, "bwrap: "))
        cause = error->message;
    old = error->message;
    /* bubblewrap binds an fd's file by its path, then checks the inode:
     * a file of the operation replaced or removed in between aborts the
     * run. The sandbox worked; switching it off is not the answer. */
    if (strstr(cause, "Race condition binding") ||
        strstr(cause, "Can't find source path")) {
        error->message = g_strdup_printf(
            _("a file of the operation was replaced or removed while its "
              "sandbox was set up (%s); nothing ran, try again"),
            cause);
        return;
    }
    error->message = g_strdup_printf(
        _("the sandbox for helper programs cannot be set up (%s); install "
          "bubblewrap and allow namespaces, or set qemu-img.sandbox=false in "
          "the policy to run them unconfined"),
        cause);
}
