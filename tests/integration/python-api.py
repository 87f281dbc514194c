"""The volume API through python3-libvirt with the module loaded:
lookup, createXML, createXMLFrom, resize, delete, and the libvirtError code
of each refused case (nothing created or changed inside or outside)."""
import os

import libvirt

from sptest import (T, define_pool, expect_eq, expect_refused, qemu_info,
                    snapshot, step, vol_xml)

conn = libvirt.open("qemu:///system")
P = os.path.join(T, "pool")
OUT = os.path.join(T, "outside")
os.makedirs(OUT)
with open(os.path.join(OUT, "secret.img"), "wb") as f:
    f.write(b"outside the pool\n")

step("storagePoolLookupByName / createXML raw and qcow2")
define_pool(conn, "pa", P)
pool = conn.storagePoolLookupByName("pa")
raw = pool.createXML(vol_xml("a.raw", 16 << 20), 0)
expect_eq(raw.path(), os.path.join(P, "a.raw"), "raw path")
expect_eq(qemu_info(raw.path(), "raw")["virtual-size"], 16 << 20, "raw size")
q = pool.createXML(vol_xml("b.qcow2", 1 << 30, "qcow2"), 0)
expect_eq(qemu_info(q.path(), "qcow2")["format"], "qcow2", "qcow2 format")
st = os.stat(q.path())
expect_eq((st.st_mode & 0o7777, st.st_uid, st.st_gid), (0o600, 0, 0), "qcow2 mode/owner")
info = q.info()
expect_eq(info[1], 1 << 30, "qcow2 capacity via info()")

step("createXMLFrom (clone) and resize")
with open(raw.path(), "r+b") as f:
    f.write(b"clone me")
c = pool.createXMLFrom(vol_xml("c.raw", 16 << 20), raw, 0)
with open(c.path(), "rb") as f:
    expect_eq(f.read(8), b"clone me", "clone content")
c.resize(32 << 20, 0)
expect_eq(os.stat(c.path()).st_size, 32 << 20, "resized clone")
q.resize(2 << 30, 0)
expect_eq(qemu_info(q.path(), "qcow2")["virtual-size"], 2 << 30, "resized qcow2")

step("delete")
c.delete(0)
expect_eq(os.path.exists(os.path.join(P, "c.raw")), False, "deleted file")

step("refused cases: exact libvirtError code, nothing changed")
before = snapshot(P, OUT)
for name in ("a/b", "a,b", ".hidden"):
    msg = expect_refused(libvirt.VIR_ERR_INVALID_ARG, f"name {name!r}",
                         pool.createXML, vol_xml(name, 1 << 20), 0)
    if name not in msg:
        raise SystemExit(f"FAIL: message does not name {name!r}: {msg}")
expect_refused(libvirt.VIR_ERR_INVALID_ARG, "backing outside pool and roots",
               pool.createXML,
               vol_xml("evil.qcow2", 1 << 30, "qcow2",
                       backing=(os.path.join(OUT, "secret.img"), "raw")), 0)
expect_refused(libvirt.VIR_ERR_INVALID_ARG, "backing escaping with ..",
               pool.createXML,
               vol_xml("evil2.qcow2", 1 << 30, "qcow2",
                       backing=(P + "/../outside/secret.img", "raw")), 0)
# libvirt's storage driver refuses this one itself, before any backend
# runs, and with VIR_ERR_INTERNAL_ERROR (storage_driver.c, 9.0.0)
expect_refused(libvirt.VIR_ERR_INTERNAL_ERROR, "clone onto an existing name",
               pool.createXMLFrom, vol_xml("b.qcow2", 16 << 20), raw, 0)
expect_refused(libvirt.VIR_ERR_STORAGE_VOL_EXIST, "create over an existing name",
               pool.createXML, vol_xml("a.raw", 1 << 20), 0)
expect_refused(libvirt.VIR_ERR_INVALID_ARG, "shrink without the flag",
               raw.resize, 1 << 20, 0)
expect_refused(libvirt.VIR_ERR_INVALID_ARG, "capacity 0",
               pool.createXML, vol_xml("zero.raw", 0), 0)
expect_eq(snapshot(P, OUT), before, "pool and outside dir after refusals")

step("a file appearing behind libvirt's back is not overwritten")
with open(os.path.join(P, "sneaky.raw"), "wb") as f:
    f.write(b"not libvirt's\n")
before = snapshot(P, OUT)
expect_refused(libvirt.VIR_ERR_STORAGE_VOL_EXIST, "clone onto an unlisted file",
               pool.createXMLFrom, vol_xml("sneaky.raw", 16 << 20), raw, 0)
expect_eq(snapshot(P, OUT), before, "pool after refused clone")
print("PASS")
