/* A stand-in for qemu-img that tries what an exploited qemu-img would, and
 * reports on one stderr line what it could do, then fails (so the line
 * reaches the error safepool prints). Configured as qemu_img in a test
 * policy; called as "qemu-img create ... TARGET SIZE", where SIZE is the
 * TCP port of a listener the test opened on 127.0.0.1.
 *
 * Harmless where there is no sandbox: it reads, connects, writes a file
 * beside its output, seizes and at once detaches its parent, and mounts a
 * tmpfs only on the empty directory "mnt-target" beside its output,
 * unmounting it at once (testing-libvirtd.md). Two attempts go round the
 * syscall filter rather than through it: a socket made by io_uring
 * (IORING_OP_SOCKET, not the socket() syscall), and a child in a new user
 * namespace (clone() and clone3() with CLONE_NEWUSER: all capabilities in
 * a namespace of its own, the kernel's attack surface of nf_tables, packet
 * sockets...); both children exit at once. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
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
        snprintf(line + n, sizeof(line) - n, "(%s)",
                 strerrorname_np(errsv) ? strerrorname_np(errsv) : "?");
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

/* One IORING_OP_SOCKET (kernel 5.19+) on a fresh ring: the socket's fd,
 * or -errno. */
static int
uring_socket(int domain, int type)
{
    struct io_uring_params p;
    struct io_uring_sqe *sqes;
    char *sq, *cq;
    unsigned tail, idx, head;
    int ring, res;

    memset(&p, 0, sizeof(p));
    ring = (int)syscall(__NR_io_uring_setup, 1, &p);
    if (ring < 0)
        return -errno;
    sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned),
              PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_SQ_RING);
    cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
              PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_CQ_RING);
    sqes = mmap(NULL, p.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE,
                MAP_SHARED, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
        close(ring);
        return -ENOMEM;
    }
    tail = *(unsigned *)(sq + p.sq_off.tail);
    idx = tail & *(unsigned *)(sq + p.sq_off.ring_mask);
    memset(&sqes[idx], 0, sizeof(sqes[idx]));
    sqes[idx].opcode = IORING_OP_SOCKET;
    sqes[idx].fd = domain;
    sqes[idx].off = (uint64_t)type;
    ((unsigned *)(sq + p.sq_off.array))[idx] = idx;
    __atomic_store_n((unsigned *)(sq + p.sq_off.tail), tail + 1,
                     __ATOMIC_RELEASE);
    if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL,
                0) < 0) {
        res = -errno;
    } else {
        head = *(unsigned *)(cq + p.cq_off.head);
        res = ((struct io_uring_cqe *)(cq + p.cq_off.cqes))
                  [head & *(unsigned *)(cq + p.cq_off.ring_mask)]
                      .res;
    }
    close(ring);
    return res;
}

static void
try_uring_socket(void)
{
    int s = uring_socket(AF_INET, SOCK_STREAM);

    report("uring-socket", s >= 0, s < 0 ? -s : 0);
    if (s >= 0)
        close(s);
}

static int
userns_child(void *arg)
{
    (void)arg;
    _exit(0);
}

/* A child in a new user namespace, by clone() and by clone3(). */
static void
try_userns(void)
{
    static char stack[64 * 1024];
    struct clone_args ca;
    pid_t pid;
    long r;

    pid = clone(userns_child, stack + sizeof(stack), CLONE_NEWUSER | SIGCHLD,
                NULL);
    report("userns", pid > 0, errno);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    memset(&ca, 0, sizeof(ca));
    ca.flags = CLONE_NEWUSER;
    ca.exit_signal = SIGCHLD;
    r = syscall(__NR_clone3, &ca, sizeof(ca));
    if (r == 0)
        _exit(0);
    report("clone3-userns", r > 0, errno);
    if (r > 0)
        waitpid((pid_t)r, NULL, 0);
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
    try_uring_socket();
    try_userns();
    fprintf(stderr, "%s\n", line);
    return 1;
}
