/* A sandbox for each helper program (qemu-img): bubblewrap gives it a
 * world that holds only what its operation needs (/usr read-only, three
 * devices, the operation's inputs read-only and its output read-write,
 * each bound by the fd safepool opened), new mount/PID/IPC/UTS/network
 * namespaces, no capabilities it does not need, and a seccomp filter made
 * with libseccomp. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* The bubblewrap binary (Debian's bubblewrap package). */
#define SP_SANDBOX_BWRAP "/usr/bin/bwrap"

typedef struct SpSandbox SpSandbox;

SpSandbox *sp_sandbox_new(void);
void sp_sandbox_free(SpSandbox *sb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpSandbox, sp_sandbox_free)

/* Show the open file @fd to the program at @path (absolute): read-only, or
 * read-write with @writable. Bound by fd: nothing is looked up by path
 * again. @fd is borrowed until the program ran. */
gboolean sp_sandbox_add_file(SpSandbox *sb, const char *path, int fd,
                             gboolean writable, GError **error);

/* Close @fd when the sandbox is freed (an fd opened only to be bound). */
void sp_sandbox_keep_fd(SpSandbox *sb, int fd);

/* The program reads a secret from /dev/fd/@child_fd (qemu's
 * "file=/dev/fd/3"): @fd's content appears there, read-only, mode 0400, in
 * the sandbox's own memory filesystem. */
void sp_sandbox_set_secret(SpSandbox *sb, int child_fd, int fd);

/* Everything the runner needs: the argv to run instead of @argv (bwrap's
 * options, then @argv), and the fds to hand over as (parent, child) pairs
 * in @fds (int pairs; the caller maps them). The seccomp program is made
 * here (a sealed memfd, owned by @sb). */
gboolean sp_sandbox_wrap(SpSandbox *sb, const char *const *argv,
                         GPtrArray **out_argv, GArray **fds, GError **error);

/* Whether a sandbox can be set up on this host (bubblewrap installed and
 * allowed to make namespaces): runs /bin/true once in one and caches the
 * answer; the reason in @why when it cannot. */
gboolean sp_sandbox_available(char **why);

/* The error of a program that failed before it started because the sandbox
 * could not be set up (bubblewrap's own message on stderr): rewritten to
 * say so and how to allow unsandboxed runs. */
void sp_sandbox_explain(GError *error);
