"""Helpers of the python3-libvirt integration tests (run through run.sh)."""
import hashlib
import json
import os
import subprocess
import sys

import libvirt

T = os.environ["SP_TEST_TMP"]
SRCDIR = os.environ["SAFEPOOL_SRCDIR"]


def step(msg):
    print("==", msg, flush=True)


def fail(msg):
    print("FAIL:", msg, file=sys.stderr, flush=True)
    sys.exit(1)


def expect_eq(actual, expected, what):
    if actual != expected:
        fail(f"{what}: got {actual!r}, expected {expected!r}")


def define_pool(conn, name, path):
    xml = (f"<pool type='dir'><name>{name}</name>"
           f"<target><path>{path}</path></target></pool>")
    pool = conn.storagePoolDefineXML(xml, 0)
    pool.build(0)
    pool.create(0)
    return conn.storagePoolLookupByName(name)


def vol_xml(name, capacity, fmt="raw", extra="", backing=None):
    b = ""
    if backing:
        b = (f"<backingStore><path>{backing[0]}</path>"
             f"<format type='{backing[1]}'/></backingStore>")
    return (f"<volume><name>{name}</name><capacity>{capacity}</capacity>"
            f"<target><format type='{fmt}'/>{extra}</target>{b}</volume>")


def qemu_info(path, fmt):
    out = subprocess.run(["qemu-img", "info", "--output=json", "-f", fmt, path],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def snapshot(*dirs):
    """Names, sizes, modes, owners, xattrs and content hashes under dirs."""
    h = hashlib.sha256()
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            subdirs.sort()
            for f in sorted(files) + subdirs:
                p = os.path.join(root, f)
                st = os.lstat(p)
                h.update(f"{p} {st.st_size} {st.st_mode:o} {st.st_uid}\n".encode())
                for x in sorted(os.listxattr(p, follow_symlinks=False)):
                    h.update(x.encode() + os.getxattr(p, x, follow_symlinks=False))
                if os.path.isfile(p) and not os.path.islink(p):
                    with open(p, "rb") as fh:
                        h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


def expect_refused(code, what, fn, *args):
    """fn(*args) must raise libvirtError with @code; returns the message."""
    try:
        fn(*args)
    except libvirt.libvirtError as e:
        if e.get_error_code() != code:
            fail(f"{what}: error code {e.get_error_code()} ({e}), expected {code}")
        print(f"   refused as expected ({code}): {e}", flush=True)
        return str(e)
    fail(f"{what}: succeeded, expected libvirt error {code}")
