"""A private libvirtd seen from outside its namespaces: started by
tools/private-libvirtd with a holder command, reached through its socket
under /proc/PID/root, restarted with nsenter (rbd tests and benchmarks)."""
import os
import signal
import subprocess
import sys
import time

import libvirt


# what children get: a clean environment (no CEPH_* at all)
CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
             "HOME": "/root"}


def cluster_from_env():
    """(tmp dir, source dir, mon host, mon port, cephx user, ceph.conf,
    cephx key) as the shell wrapper passes them: the key on fd 3 (read,
    then closed: never in the environment). From now on a SIGTERM
    (meson's timeout) exits through finally blocks, which stop the
    private libvirtds."""
    key = os.read(3, 4096).decode()
    os.close(3)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    e = os.environ
    return (e["SP_TEST_TMP"], e["SAFEPOOL_SRCDIR"], e["CEPH_MON_HOST"],
            e["CEPH_MON_PORT"], e["CEPH_USER"], e["CEPH_CONF"], key)


def fail(msg):
    print("FAIL:", msg, file=sys.stderr, flush=True)
    raise SystemExit(1)


class Host:
    def __init__(self, name, tmp, src, backends, env):
        """backends: a backend dir, or None for libvirt's stock modules."""
        self.name, self.src, self.backends, self.env = name, src, backends, env
        self.dir = os.path.join(tmp, "host-" + name)
        os.makedirs(self.dir)
        self.stop = os.path.join(self.dir, "stop")
        ready = os.path.join(self.dir, "ready")
        holder = f"touch {ready}; while [ ! -e {self.stop} ]; do sleep 0.2; done"
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(
            [f"{src}/tools/private-libvirtd"] +
            (["--backend-dir", backends] if backends else []) +
            ["--", "/bin/bash", "-c", holder],
            env=env, stdout=self.log, stderr=self.log)
        for _ in range(900):
            if os.path.exists(ready):
                break
            if self.proc.poll() is not None:
                fail(f"host {name}: private libvirtd exited")
            time.sleep(0.1)
        else:
            fail(f"host {name}: libvirtd not ready")
        # private-libvirtd execs unshare: this pid is in the daemon's mount
        # namespace, where its socket is
        self.root = f"/proc/{self.proc.pid}/root"
        self.uri = (f"qemu+unix:///system?socket={self.root}"
                    "/run/libvirt/libvirt-sock")
        self.conn = libvirt.open(self.uri)

    def inner(self):
        with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
            return f.read().split()[0]

    def nsenter(self, *argv, **kw):
        return subprocess.Popen(["nsenter", "-t", self.inner(), "-m", "-p",
                                 "--", *argv], env=self.env, **kw)

    def restart(self):
        self.conn.close()
        p = self.nsenter("env", "SAFEPOOL_PRIVATE_LIBVIRTD=1",
                         f"PRIVATE_LIBVIRTD_BACKEND_DIR={self.backends or ''}",
                         f"SAFEPOOL_CONFIG={self.env.get('SAFEPOOL_CONFIG', '')}",
                         "/bin/bash", f"{self.src}/tools/private-libvirtd",
                         "--restart")
        if p.wait() != 0:
            fail(f"host {self.name}: restart failed")
        self.conn = libvirt.open(self.uri)

    def virsh(self, *args, ok=True):
        r = subprocess.run(["virsh", "-q", "-c", self.uri, *args], env=self.env,
                           capture_output=True, text=True)
        if ok and r.returncode != 0:
            fail(f"host {self.name}: virsh {' '.join(args)}: {r.stderr}")
        return r

    def close(self):
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass
        open(self.stop, "w").close()
        self.proc.wait(timeout=60)


