/* A stand-in for qemu-img that tries what an exploited qemu-img would, and
 * reports on one stderr line what it could do, then fails (so the line
 * reaches the error safepool prints). Configured as qemu_img in a test
 * policy; called as "qemu-img create ... TARGET SIZE", where SIZE is the
 * TCP port of a listener the test opened on 127.0.0.1.
 *
 * Harmless where there is no sandbox: it reads, connects, writes a file
 * beside its output, seizes and at once detaches its parent, and mounts a
 * tmpfs only on the empty directory "mnt-target" beside its output,
 * unmounting it at once (testing-libvirtd.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static char line[4096];

static void
report(const char *what, int ok, int errsv)
{
    size_t n = strlen(line);

    snprintf(line + n, sizeof(line) - n, " %s=%s", what,
             ok ? "ALLOWED" : "denied");
    n = strlen(line);
    if (!ok)
        snprintf(line + n, sizeof(line) - n, "(%s)", strerrorname_np(errsv)
                                                      ? strerrorname_np(errsv)
                                                      : "?");
}

static void
try_read(const char *what, const char *path)
{
    char buf[64];
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
    int errsv = errno;

    report(what, n > 0, errsv);
    if (fd >= 0)
        close(fd);
}

static void
try_tcp(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int ok = 0, errsv = errno;

    if (s >= 0) {
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
        errsv = errno;
        close(s);
    }
    report("tcp", ok, errsv);
}

static void
try_write(const char *dir)
{
    char path[4096];
    int fd;

    snprintf(path, sizeof(path), "%s/escaped-write", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    report("write", fd >= 0 && write(fd, "x", 1) == 1, errno);
    if (fd >= 0)
        close(fd);
}

static void
try_ptrace(void)
{
    pid_t parent = getppid();
    long r = ptrace(PTRACE_SEIZE, parent, 0, 0);
    int errsv = errno;

    if (r == 0)
        ptrace(PTRACE_DETACH, parent, 0, 0);
    report("ptrace", r == 0, errsv);
}

static void
try_mount(const char *dir)
{
    char path[4096];
    int r;

    snprintf(path, sizeof(path), "%s/mnt-target", dir);
    r = mount("none", path, "tmpfs", 0, "size=1m");
    report("mount", r == 0, errno);
    if (r == 0)
        umount2(path, MNT_DETACH);
}

int
main(int argc, char **argv)
{
    char target[4096], *dir;

    if (argc < 3) {
        fprintf(stderr, "probe: usage: create ... TARGET PORT\n");
        return 2;
    }
    snprintf(target, sizeof(target), "%s", argv[argc - 2]);
    dir = dirname(target);
    snprintf(line, sizeof(line), "probe:");
    try_read("shadow", "/etc/shadow");
    {
        char neighbour[4096];

        snprintf(neighbour, sizeof(neighbour), "%s/neighbour.img", dir);
        try_read("neighbour", neighbour);
    }
    /* the host's first process: its environment (root may be refused it
     * where PID 1 is another namespace's, as in a container), and its
     * command line, readable to anyone who can see the process at all */
    try_read("proc1", "/proc/1/environ");
    try_read("proc1-cmdline", "/proc/1/cmdline");
    try_tcp(atoi(argv[argc - 1]));
    try_write(dir);
    try_ptrace();
    try_mount(dir);
    fprintf(stderr, "%s\n", line);
    return 1;
}
