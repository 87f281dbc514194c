"""Shared helpers of the hardening tests (hardening.py, hardening2.py):
each defect of the outside attack is one step that an attacker's client
(python3-libvirt, virsh) runs against the private libvirtd; a failed step
is reported and the next one still runs, and the script fails at the end
if any did."""
import fcntl
import hashlib
import os
import pwd
import grp
import re
import struct
import subprocess
import sys
import threading
import time
import traceback

import libvirt

from sptest import SRCDIR, T, step

F_OFD_GETLK = getattr(fcntl, "F_OFD_GETLK", 36)
F_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", 37)
LIBVIRTD_LOG = "/var/log/libvirt/libvirtd.log"


class StepFailed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise StepFailed(msg)


def check_eq(actual, expected, what):
    if actual != expected:
        raise StepFailed(f"{what}: got {actual!r}, expected {expected!r}")


def refused(code, what, fn, *args):
    """fn(*args) must raise libvirtError with @code; returns the message."""
    try:
        fn(*args)
    except libvirt.libvirtError as e:
        if e.get_error_code() != code:
            raise StepFailed(f"{what}: error code {e.get_error_code()} ({e}), "
                             f"expected {code}")
        print(f"   refused as expected ({code}): {e}", flush=True)
        return str(e)
    raise StepFailed(f"{what}: succeeded, expected libvirt error {code}")


# -- events: libvirt refreshes a pool in a thread after every upload ------

class Events:
    """Counts storage pool refresh events per pool name (libvirt's
    vol-refresh thread after an upload, and explicit refreshes)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.refreshes = {}
        libvirt.virEventRegisterDefaultImpl()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            libvirt.virEventRunDefaultImpl()

    def _cb(self, conn, pool, opaque):
        with self.cond:
            self.refreshes[pool.name()] = self.refreshes.get(pool.name(), 0) + 1
            self.cond.notify_all()

    def attach(self, conn):
        conn.storagePoolEventRegisterAny(
            None, libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH, self._cb, None)

    def count(self, name):
        with self.cond:
            return self.refreshes.get(name, 0)

    def wait(self, name, after, timeout=30):
        """Wait for a refresh of pool @name past count @after."""
        end = time.monotonic() + timeout
        with self.cond:
            while self.refreshes.get(name, 0) <= after:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True


EVENTS = Events()


class Conn:
    """The connection, reopened after a libvirtd restart."""

    def __init__(self):
        self.open()

    def open(self):
        self.c = libvirt.open("qemu:///system")
        EVENTS.attach(self.c)

    def restart_libvirtd(self):
        try:
            self.c.close()
        except libvirt.libvirtError:
            pass
        subprocess.run([os.path.join(SRCDIR, "tools", "private-libvirtd"),
                        "--restart"], check=True)
        self.open()


CONN = Conn()


def conn():
    return CONN.c


def new_pool(name):
    """A fresh safepool dir pool under $T (defined, built, started)."""
    path = os.path.join(T, name)
    xml = (f"<pool type='dir'><name>{name}</name>"
           f"<target><path>{path}</path></target></pool>")
    p = conn().storagePoolDefineXML(xml, 0)
    p.build(0)
    p.create(0)
    return p, path


def pool(name):
    return conn().storagePoolLookupByName(name)


def xml_vol(name, capacity, fmt="raw", allocation=None, perms=None,
            backing=None, encryption=None, no_format=False):
    alloc = "" if allocation is None else f"<allocation>{allocation}</allocation>"
    p = ""
    if perms:
        p = (f"<permissions><mode>{perms[0]:04o}</mode><owner>{perms[1]}</owner>"
             f"<group>{perms[2]}</group></permissions>")
    f = "" if no_format else f"<format type='{fmt}'/>"
    enc = ""
    if encryption:
        enc = (f"<encryption format='luks'><secret type='passphrase' "
               f"uuid='{encryption}'/></encryption>")
    b = ""
    if backing:
        bf = f"<format type='{backing[1]}'/>" if backing[1] else ""
        b = f"<backingStore><path>{backing[0]}</path>{bf}</backingStore>"
    return (f"<volume><name>{name}</name><capacity>{capacity}</capacity>{alloc}"
            f"<target>{f}{p}{enc}</target>{b}</volume>")


def qemu_perms():
    """Mode 0640, libvirt-qemu:kvm (allowed by the default policy)."""
    return (0o640, pwd.getpwnam("libvirt-qemu").pw_uid, grp.getgrnam("kvm").gr_gid)


def xattrs(path):
    return {k: os.getxattr(path, k) for k in sorted(os.listxattr(path))}


def identity(path):
    """Everything a volume's identity is: all xattrs, mode, owner, group."""
    st = os.stat(path)
    return (xattrs(path), st.st_mode & 0o7777, st.st_uid, st.st_gid)


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def temporaries(path):
    return sorted(n for n in os.listdir(path) if n.startswith(".safepool-tmp-"))


def listed(p, name):
    return name in p.listVolumes()


def vol_format(xml):
    m = re.search(r"<target>.*?<format type='([^']*)'/>", xml, re.S)
    return m.group(1) if m else None


def backing_of(xml):
    """(path, format) of the <backingStore> of a volume XML, or None."""
    m = re.search(r"<backingStore>(.*?)</backingStore>", xml, re.S)
    if not m:
        return None
    p = re.search(r"<path>([^<]*)</path>", m.group(1))
    f = re.search(r"<format type='([^']*)'/>", m.group(1))
    return (p.group(1) if p else None, f.group(1) if f else None)


def vol_xml_of(p, name, tries=100):
    """XMLDesc of @name, looked up afresh (retried while libvirt's refresh
    thread has the pool's volume list cleared)."""
    for i in range(tries):
        try:
            return p.storageVolLookupByName(name).XMLDesc(0)
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL or i == tries - 1:
                raise
            time.sleep(0.1)


def upload(p, vol, data, flags=0, hole=None):
    """Upload @data into @vol; wait for libvirt's refresh of pool @p that
    follows a successful upload. Raises libvirtError on failure."""
    before = EVENTS.count(p.name())
    st = conn().newStream(0)
    vol.upload(st, 0, 0, flags)
    try:
        for off in range(0, len(data), 1 << 20):
            st.send(data[off:off + (1 << 20)])
        if hole is not None:
            st.sendHole(hole, 0)
        st.finish()
    except libvirt.libvirtError:
        try:
            st.abort()
        except libvirt.libvirtError:
            pass
        EVENTS.wait(p.name(), before, timeout=3)
        raise
    if not EVENTS.wait(p.name(), before):
        print("   (no pool refresh event after the upload)", flush=True)


def upload_file(p, vol, path, flags=0):
    with open(path, "rb") as f:
        upload(p, vol, f.read(), flags)


def qemu_img(*args):
    return subprocess.run(["qemu-img", *args], check=True, capture_output=True,
                          text=True).stdout


def make_luks(path, passphrase, size):
    """A LUKS image made with @passphrase, retrying qemu 7.2's PBKDF
    calibration flake (README, Known limits)."""
    for attempt in range(20):
        r = subprocess.run(["qemu-img", "create", "-q", "-f", "luks",
                            "--object", f"secret,id=s0,data={passphrase}",
                            "-o", "key-secret=s0,iter-time=100", path, str(size)],
                           capture_output=True, text=True)
        if r.returncode == 0:
            return
        if "Unable to get accurate CPU usage" not in r.stderr:
            raise StepFailed(f"qemu-img create luks: {r.stderr}")
    raise StepFailed("qemu-img create luks: calibration failed 20 times")


def lock_offset(name):
    """sp-lock.c's byte for @name: FNV-1a 64, top 2 bits cleared."""
    h = 0xcbf29ce484222325
    for b in name.encode():
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h & 0x3FFFFFFFFFFFFFFF


def flock_struct(ltype, start, length):
    # struct flock on x86_64: short, short, off_t, off_t, pid_t (+pad)
    return struct.pack("hhqqixxxx", ltype, os.SEEK_SET, start, length, 0)


def file_locked(path):
    """Whether any process holds a lock on @path (F_OFD_GETLK)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        r = fcntl.fcntl(fd, F_OFD_GETLK, flock_struct(fcntl.F_WRLCK, 0, 0))
        return struct.unpack("hhqqixxxx", r)[0] != fcntl.F_UNLCK
    finally:
        os.close(fd)


LOCK_HOLDER = r"""
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.fcntl(fd, %d, struct.pack("hhqqixxxx", fcntl.F_WRLCK, 0, int(sys.argv[2]), 1, 0))
print("locked", flush=True)
sys.stdin.read()
""" % F_OFD_SETLK


def hold_lock_byte(lockfile, offset):
    """A child process holding an exclusive OFD lock on one byte of
    @lockfile, as a live safepool operation does; stop() releases it."""
    child = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, lockfile,
                              str(offset)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    line = child.stdout.readline()
    if line.strip() != "locked":
        child.kill()
        child.wait()
        raise StepFailed(f"lock holder did not lock byte {offset}")
    return child


def stop_child(child):
    if child.poll() is None:
        try:
            child.stdin.close()
        except OSError:
            pass
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def log_size():
    try:
        return os.path.getsize(LIBVIRTD_LOG)
    except OSError:
        return 0


def log_since(offset):
    try:
        with open(LIBVIRTD_LOG, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


RESULTS = []


def run(defect, title, fn):
    only = os.environ.get("SP_HARDENING_ONLY")   # e.g. "11,13", to debug
    if only and str(defect) not in only.split(","):
        return
    step(f"defect {defect}: {title}")
    try:
        fn()
    except StepFailed as e:
        print(f"FAIL: defect {defect}: {e}", file=sys.stderr, flush=True)
        RESULTS.append((defect, title, f"FAIL: {e}"))
        return
    except SystemExit as e:
        RESULTS.append((defect, title, f"FAIL: exit {e.code}"))
        return
    except Exception as e:  # an unexpected libvirtError etc.
        traceback.print_exc()
        print(f"FAIL: defect {defect}: unexpected {type(e).__name__}: {e}",
              file=sys.stderr, flush=True)
        RESULTS.append((defect, title, f"FAIL: unexpected {type(e).__name__}: {e}"))
        return
    RESULTS.append((defect, title, "PASS"))
    print(f"   PASS defect {defect}", flush=True)


def summary():
    print("\n== summary", flush=True)
    failed = 0
    for defect, title, res in RESULTS:
        print(f"   defect {defect}: {title}: {res}", flush=True)
        failed += not res.startswith("PASS")
    if failed:
        print(f"FAIL: {failed} of {len(RESULTS)} steps failed", file=sys.stderr,
              flush=True)
        sys.exit(1)
    print("PASS")
