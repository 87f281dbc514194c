/* Run a command where new namespaces are forbidden, as systemd's
 * RestrictNamespaces=yes does: a seccomp filter answers EPERM to unshare()
 * and setns(), and to clone() with any CLONE_NEW* flag, and ENOSYS to
 * clone3() (so callers fall back to clone()).
 *
 *   no-namespaces COMMAND [ARG...] */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int
main(int argc, char **argv)
{
    static const unsigned long flags[] = {
        CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
        CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWTIME};
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    int rc;

    if (argc < 2 || !ctx) {
        fprintf(stderr, "usage: no-namespaces COMMAND [ARG...]\n");
        return 2;
    }
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0);
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setns), 0);
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    for (size_t i = 0; rc == 0 && i < sizeof(flags) / sizeof(flags[0]); i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, flags[i], flags[i]));
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) {
        fprintf(stderr, "no-namespaces: seccomp: %d\n", rc);
        return 2;
    }
    execv(argv[1], argv + 1);
    perror("no-namespaces: exec");
    return 2;
}
