"""Hostile images and content through python3-libvirt with the module:
hostile qcow2/vmdk backing volumes, an upload of a qcow2 with a backing
file, a raw volume rewritten to look like qcow2 (still raw on refresh,
resized as raw). Each refusal: exact libvirtError code, nothing changed."""
import os
import stat
import subprocess

import libvirt

from sptest import (SRCDIR, T, define_pool, expect_eq, expect_refused,
                    fail, snapshot, step, vol_xml)

# Base images outside the pool that the policy allows as backing stores:
# where hostile images still reach the inspector (inside the pool, a file
# without a recorded format is never a backing store at all).
ROOTS = os.path.join(T, "bases")
os.makedirs(ROOTS)
# A qemu-img wrapper that logs every argv, configured through the policy
# file libvirtd reads ($SAFEPOOL_CONFIG), so the test sees what ran.
LOG = os.path.join(T, "qemu-img.log")
wrapper = os.path.join(T, "qemu-img-logged")
with open(wrapper, "w") as f:
    f.write('#!/bin/bash\nprintf "%s\\0" "$@" >>"' + LOG + '"\n'
            'printf "\\n" >>"' + LOG + '"\nexec /usr/bin/qemu-img "$@"\n')
os.chmod(wrapper, 0o755)
conf = os.path.join(T, "safepool.conf")
with open(conf, "w") as f:
    # vmdk allowed, so that a hostile vmdk reaches the inspector
    f.write(f"[volumes]\nformats=raw;qcow2;vmdk\nbacking_roots={ROOTS}\n"
            # unconfined: the wrapper's log on the host is the test
            f"[qemu-img]\nqemu_img={wrapper}\nsandbox=false\n")
os.chmod(conf, 0o644)
os.environ["SAFEPOOL_CONFIG"] = conf
subprocess.run([os.path.join(SRCDIR, "tools", "private-libvirtd"), "--restart"],
               check=True)


def qemu_calls():
    if not os.path.exists(LOG):
        return []
    with open(LOG, "rb") as f:
        return [line.rstrip(b"\0").split(b"\0")
                for line in f.read().split(b"\n") if line]


conn = libvirt.open("qemu:///system")
P = os.path.join(T, "pool")
OUT = os.path.join(T, "outside")
os.makedirs(OUT)
with open(os.path.join(OUT, "shadow"), "w") as f:
    f.write("root:secret-hash:0:0\n")
pool = define_pool(conn, "pr", P)
base = pool.createXML(vol_xml("base.qcow2", 64 << 20, "qcow2"), 0)
if not qemu_calls():
    fail("the qemu-img wrapper from SAFEPOOL_CONFIG was not used")

step("a backing store that is a hostile qcow2 (backing file outside)")
hostile = os.path.join(ROOTS, "hostile.qcow2")
subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b",
                os.path.join(OUT, "shadow"), "-F", "raw", hostile, "1G"],
               check=True)
before = snapshot(P, OUT)
expect_refused(libvirt.VIR_ERR_OPERATION_INVALID, "hostile qcow2 backing",
               pool.createXML,
               vol_xml("over1.qcow2", 1 << 30, "qcow2",
                       backing=(hostile, "qcow2")), 0)
expect_eq(snapshot(P, OUT), before, "pool after hostile qcow2 backing")

step("a file in the pool with no recorded format is no backing store")
planted = os.path.join(P, "planted.qcow2")
subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", planted, "64M"],
               check=True)
before = snapshot(P, OUT)
calls_before = len(qemu_calls())
msg = expect_refused(libvirt.VIR_ERR_INVALID_ARG, "unrecorded backing",
                     pool.createXML,
                     vol_xml("over0.qcow2", 1 << 30, "qcow2",
                             backing=(planted, "qcow2")), 0)
if "no recorded format" not in msg:
    fail("refusal does not say why: " + msg)
expect_eq(len(qemu_calls()), calls_before, "qemu-img runs for an unrecorded base")
expect_eq(snapshot(P, OUT), before, "pool after unrecorded backing")

step("a backing store that is a hostile vmdk (extent outside)")
vmdk = os.path.join(ROOTS, "hostile.vmdk")
with open(vmdk, "w") as f:
    f.write('# Disk DescriptorFile\nversion=1\nCID=fffffffe\n'
            'parentCID=ffffffff\ncreateType="monolithicFlat"\n\n'
            f'RW 2048 FLAT "{os.path.join(OUT, "shadow")}" 0\n\n'
            'ddb.virtualHWVersion = "4"\n')
before = snapshot(P, OUT)
msg = expect_refused(libvirt.VIR_ERR_OPERATION_INVALID, "hostile vmdk backing",
                     pool.createXML,
                     vol_xml("over2.qcow2", 1 << 30, "qcow2",
                             backing=(vmdk, "vmdk")), 0)
if "hostile.vmdk" not in msg:
    fail("refusal does not name the vmdk: " + msg)
expect_eq(snapshot(P, OUT), before, "pool after hostile vmdk backing")

step("upload of a qcow2 with a backing file into a qcow2 volume")
evil = os.path.join(T, "evil-upload.qcow2")
subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b",
                os.path.join(OUT, "shadow"), "-F", "raw", evil, "64M"],
               check=True)
before = snapshot(P, OUT)
st = conn.newStream(0)
base.upload(st, 0, 0, 0)
with open(evil, "rb") as f:
    data = f.read()
st.send(data)
try:
    st.finish()
    fail("upload of a qcow2 with a backing file was accepted")
except libvirt.libvirtError as e:
    expect_eq(e.get_error_code(), libvirt.VIR_ERR_OPERATION_INVALID,
              f"upload refusal code ({e})")
    print("   refused as expected:", e)
expect_eq(snapshot(P, OUT), before, "pool after refused upload")
if any(n.startswith(".safepool-tmp-") for n in os.listdir(P)):
    fail("temporary left after refused upload")

step("a raw volume rewritten to look like qcow2 stays raw")
r = pool.createXML(vol_xml("plain.raw", 64 << 20), 0)
fake = os.path.join(T, "fake.qcow2")
subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b",
                os.path.join(OUT, "shadow"), "-F", "raw", fake, "8G"],
               check=True)
with open(fake, "rb") as f, open(r.path(), "r+b") as g:
    g.write(f.read())         # the guest wrote a qcow2 header into its disk
pool.refresh(0)
r = pool.storageVolLookupByName("plain.raw")
if "<format type='raw'/>" not in r.XMLDesc(0):
    fail("rewritten raw volume not reported as raw: " + r.XMLDesc(0))
expect_eq(r.info()[1], 64 << 20, "capacity of the rewritten raw volume")
calls_before = len(qemu_calls())
r.resize(128 << 20, 0)
expect_eq(os.stat(r.path()).st_size, 128 << 20, "raw resize size")
with open(r.path(), "rb") as f:
    expect_eq(f.read(4), b"QFI\xfb", "guest data kept by resize")
for argv in qemu_calls()[calls_before:]:
    if r.path().encode() in b" ".join(argv):
        if b"-f" not in argv or argv[argv.index(b"-f") + 1] != b"raw":
            fail(f"qemu-img ran on the raw volume without -f raw: {argv}")
print("   resize argv:", qemu_calls()[calls_before:] or "in-process (no qemu-img)")

step("stream and wipe arguments safepool does not take: refused, nothing changed")
before = snapshot(P)
st = conn.newStream(0)
msg = expect_refused(libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED, "upload at an offset",
                     r.upload, st, 4096, 0, 0)
if "--offset/--length" not in msg:
    fail(f"offset refusal does not say why: {msg}")
# (flags libvirt itself does not know never reach the backend: its
# storage driver refuses them first; a download of a part is served)
msg = expect_refused(libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED, "wipe with the nnsa pattern",
                     r.wipePattern, libvirt.VIR_STORAGE_VOL_WIPE_ALG_NNSA, 0)
if "only the zero algorithm" not in msg:
    fail(f"wipe refusal does not say why: {msg}")
expect_eq(snapshot(P), before, "pool after refused stream and wipe arguments")
print("PASS")
