"""The fixes of the outside attack's defects 1, 2, 4, 5, 7, 11 and 13,
each attacked again through python3-libvirt as an outsider would: clones
across pools, refused clones and their messages, uploads and wipes against
a volume's recorded identity, wipe on the same inode and under a running
qemu, the temporaries' sweep, a sparse upload that cannot be applied, and
the wipe of a backing volume. hardening2.py has the rest."""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import os  # noqa: E402
import subprocess
import time

import libvirt

from hardening_lib import (StepFailed, check, check_eq, conn, file_locked, hold_lock_byte,
                           identity, listed, lock_offset, make_luks, new_pool,
                           qemu_img, qemu_perms, refused, run, sha, stop_child,
                           summary, temporaries, upload, upload_file,
                           vol_format, vol_xml_of, xattrs, xml_vol, backing_of)
from sptest import T

MiB = 1 << 20
OUT = os.path.join(T, "outside")
os.makedirs(OUT)


def secret(usage_path, passphrase):
    s = conn().secretDefineXML(
        "<secret ephemeral='no' private='yes'><usage type='volume'>"
        f"<volume>{usage_path}</volume></usage></secret>", 0)
    s.setValue(passphrase.encode(), 0)
    return s.UUIDString()


# -- defect 1 ---------------------------------------------------------------

def defect1():
    a, apath = new_pool("d1a")
    b, bpath = new_pool("d1b")
    disk = a.createXML(xml_vol("disk", 64 * MiB, allocation=0), 0)
    b.createXML(xml_vol("disk", 64 * MiB, "qcow2"), 0)
    # the guest writes a qcow2 header naming /etc/shadow into its raw disk
    hdr = os.path.join(OUT, "d1-header.qcow2")
    qemu_img("create", "-q", "-f", "qcow2", "-b", "/etc/shadow", "-F", "raw",
             hdr, "64M")
    with open(hdr, "rb") as f, open(os.path.join(apath, "disk"), "r+b") as g:
        g.write(f.read())
    a_id = identity(os.path.join(apath, "disk"))
    a_sha = sha(os.path.join(apath, "disk"))
    b_disk = (identity(os.path.join(bpath, "disk")), sha(os.path.join(bpath, "disk")))

    # clone A/disk into B (both 'disk'), from B's pool with A's volume
    copy = b.createXMLFrom(xml_vol("copy", 64 * MiB), disk, 0)
    check_eq(sha(copy.path()), a_sha, "cross-pool clone 'copy' content")
    check_eq(xattrs(copy.path()).get("user.safepool.format"), b"raw",
             "recorded format of the clone")
    x = vol_xml_of(a, "disk")
    check_eq(vol_format(x), "raw", "A's 'disk' format after the clone (XMLDesc)")
    check(backing_of(x) is None, f"A's 'disk' gained a backingStore: {x}")
    a.refresh(0)
    x = vol_xml_of(a, "disk")
    check_eq(vol_format(x), "raw", "A's 'disk' format after A.refresh")
    check(backing_of(x) is None, f"A's 'disk' has a backingStore after refresh: {x}")
    check_eq(identity(os.path.join(apath, "disk")), a_id,
             "A's 'disk' recorded identity after the clone")
    check_eq((identity(os.path.join(bpath, "disk")), sha(os.path.join(bpath, "disk"))),
             b_disk, "B's own 'disk' after the clone")

    # and a second clone of A/disk into B as raw copies its bytes
    disk = a.storageVolLookupByName("disk")
    copy2 = b.createXMLFrom(xml_vol("copy2", 64 * MiB), disk, 0)
    check_eq(sha(copy2.path()), a_sha, "second clone 'copy2' content (the bytes)")
    with open("/etc/shadow", "rb") as f:
        first = f.readline().rstrip(b"\n")
    with open(copy2.path(), "rb") as f:
        data = f.read()
    check(first not in data, "the clone contains /etc/shadow's first line")
    check_eq(vol_format(vol_xml_of(b, "copy2")), "raw", "format of 'copy2'")


# -- defect 2 ---------------------------------------------------------------

def defect2():
    p, path = new_pool("d2")
    uuid = secret(os.path.join(path, "enc"), "correct horse")
    enc = p.createXML(xml_vol("enc", 32 * MiB, encryption=uuid), 0)
    before = sorted(os.listdir(path))
    msg = refused(libvirt.VIR_ERR_INVALID_ARG, "clone of a LUKS volume",
                  p.createXMLFrom, xml_vol("enc-copy", 32 * MiB), enc, 0)
    check("not found" not in msg.lower(), f"clone refusal says 'not found': {msg}")
    check("encrypted" in msg, f"clone refusal does not say why: {msg}")
    check_eq(sorted(os.listdir(path)), before, "pool entries after the refused clone")
    check(not listed(p, "enc-copy"), "refused clone listed")

    # a file copied in by hand: no recorded format
    with open(os.path.join(path, "handmade.img"), "wb") as f:
        f.write(b"\0" * MiB)
    p.refresh(0)
    hand = p.storageVolLookupByName("handmade.img")
    before = sorted(os.listdir(path))
    msg = refused(libvirt.VIR_ERR_INVALID_ARG, "clone of an unrecorded file",
                  p.createXMLFrom, xml_vol("hand-copy", MiB), hand, 0)
    check("not found" not in msg.lower(), f"clone refusal says 'not found': {msg}")
    check("no recorded format" in msg, f"clone refusal does not say why: {msg}")
    check_eq(sorted(os.listdir(path)), before, "pool entries after the refused clone")
    check(not listed(p, "hand-copy"), "refused clone listed")

    # vol-delete of a volume whose file vanished underneath: not an error
    gone = p.createXML(xml_vol("gone", MiB, allocation=0), 0)
    os.unlink(os.path.join(path, "gone"))
    gone.delete(0)
    check(not listed(p, "gone"), "deleted vanished volume still listed")


# -- defect 4 ---------------------------------------------------------------

def defect4():
    p, path = new_pool("d4")
    vpath = os.path.join(path, "up.raw")
    v = p.createXML(xml_vol("up.raw", 4 * MiB, perms=qemu_perms()), 0)
    before = identity(vpath)
    check("user.safepool.xml" in before[0], f"no user.safepool.xml: {list(before[0])}")
    check_eq(before[1:], qemu_perms(), "mode/owner/group as created")
    payload = os.urandom(4 * MiB)
    upload(p, v, payload)
    with open(vpath, "rb") as f:
        check(f.read() == payload, "uploaded content")
    check_eq(identity(vpath), before, "identity (xattrs, mode, owner) after upload")

    # wipe of the raw volume: the same identity too
    v = p.storageVolLookupByName("up.raw")
    v.wipe(0)
    with open(vpath, "rb") as f:
        check(f.read() == b"\0" * (4 * MiB), "wiped content not zero")
    check_eq(identity(vpath), before, "identity (xattrs, mode, owner) after wipe")

    # LUKS: an upload of a LUKS image made with the same secret keeps the
    # secret in the record, so the volume still resizes
    epath = os.path.join(path, "enc")
    uuid = secret(epath, "correct horse")
    e = p.createXML(xml_vol("enc", 32 * MiB, encryption=uuid), 0)
    ebefore = identity(epath)
    img = os.path.join(OUT, "d4.luks")
    make_luks(img, "correct horse", 32 * MiB)
    upload_file(p, e, img)
    check_eq(identity(epath), ebefore, "LUKS volume identity after upload")
    check_eq(sha(epath), sha(img), "LUKS volume content after upload")
    x = vol_xml_of(p, "enc")
    check(f"uuid='{uuid}'" in x, f"LUKS volume lost its secret in XMLDesc: {x}")
    p.storageVolLookupByName("enc").resize(64 * MiB, 0)
    out = qemu_img("info", "--output=json", "--object",
                   "secret,id=s0,data=correct horse", "--image-opts",
                   f"driver=luks,key-secret=s0,file.filename={epath}")
    check('"virtual-size": 67108864' in out, f"LUKS size after resize: {out}")


# -- defect 5 ---------------------------------------------------------------

def defect5():
    p, path = new_pool("d5")
    rpath = os.path.join(path, "r.raw")
    r = p.createXML(xml_vol("r.raw", 8 * MiB), 0)
    with open(rpath, "r+b") as f:
        f.write(os.urandom(8 * MiB))
    fd = os.open(rpath, os.O_RDONLY)      # a guest's fd, opened before
    try:
        ino = os.fstat(fd).st_ino
        r.wipe(0)
        check_eq(os.stat(rpath).st_ino, ino, "raw volume inode after wipe")
        check(os.pread(fd, 8 * MiB, 0) == b"\0" * (8 * MiB),
              "the old fd does not read zeros after the wipe")
    finally:
        os.close(fd)

    # qcow2: wiped in place, still an empty valid qcow2 of the same size
    qpath = os.path.join(path, "q.qcow2")
    q = p.createXML(xml_vol("q.qcow2", 64 * MiB, "qcow2"), 0)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 2M", qpath],
                   check=True, capture_output=True)
    ino = os.stat(qpath).st_ino
    qid = identity(qpath)
    q.wipe(0)
    check_eq(os.stat(qpath).st_ino, ino, "qcow2 volume inode after wipe")
    info = qemu_img("info", "--output=json", "-f", "qcow2", qpath)
    check('"virtual-size": 67108864' in info, f"qcow2 after wipe: {info}")
    c = subprocess.run(["qemu-img", "check", "-f", "qcow2", qpath],
                       capture_output=True, text=True)
    check_eq(c.returncode, 0, f"qemu-img check after wipe ({c.stdout}{c.stderr})")
    m = qemu_img("map", "--output=json", "-f", "qcow2", qpath)
    check('"data": true' not in m, f"wiped qcow2 still maps data: {m}")
    check_eq(identity(qpath), qid, "qcow2 identity after wipe")

    # while a qemu process holds it open (and locked), no wipe
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xcd 0 1M", qpath],
                   check=True, capture_output=True)
    qsd = subprocess.Popen(
        ["qemu-storage-daemon", "--blockdev",
         f"driver=file,node-name=f,filename={qpath}",
         "--blockdev", "driver=qcow2,node-name=q,file=f"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if file_locked(qpath) or qsd.poll() is not None:
                break
            time.sleep(0.1)
        check(qsd.poll() is None and file_locked(qpath),
              "qemu-storage-daemon did not lock the image")
        before = (sha(qpath), identity(qpath))
        msg = refused(libvirt.VIR_ERR_OPERATION_INVALID, "wipe of an open qcow2",
                      p.storageVolLookupByName("q.qcow2").wipe, 0)
        check("open in a running process" in msg, f"refusal does not say why: {msg}")
        check_eq((sha(qpath), identity(qpath)), before, "qcow2 after refused wipe")
    finally:
        qsd.terminate()
        qsd.wait()
    check_eq(temporaries(path), [], "temporaries left")


# -- defect 7 ---------------------------------------------------------------

def defect7():
    p, path = new_pool("d7")
    p.createXML(xml_vol("v", MiB, allocation=0), 0)   # makes .safepool.lock
    stale = os.path.join(path, ".safepool-tmp-create-St4le1")
    with open(stale, "wb") as f:
        f.write(b"half-made")
    p.refresh(0)
    check(not os.path.exists(stale), "stale temporary not swept by pool-refresh")
    check(p.isActive(), "pool not active")

    live_name = ".safepool-tmp-create-L1ve42"
    live = os.path.join(path, live_name)
    with open(live, "wb") as f:
        f.write(b"being made")
    holder = hold_lock_byte(os.path.join(path, ".safepool.lock"),
                            lock_offset(live_name))
    try:
        p.refresh(0)
        check(os.path.exists(live), "a live temporary (its lock byte held) was swept")
        check(not listed(p, live_name), "a temporary is listed as a volume")
    finally:
        stop_child(holder)
    p.refresh(0)
    check(not os.path.exists(live), "temporary not swept after its maker ended")


# -- defect 11 --------------------------------------------------------------

def defect11():
    p, path = new_pool("d11")
    vpath = os.path.join(path, "s.raw")
    v = p.createXML(xml_vol("s.raw", 16 * MiB, allocation=0), 0)
    with open(vpath, "r+b") as f:
        f.write(os.urandom(MiB))
    before = (sha(vpath), identity(vpath), os.stat(vpath).st_ino, os.stat(vpath).st_size)
    err = None
    try:
        upload(p, v, b"x" * 65536, libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM,
               hole=2 ** 62)
    except libvirt.libvirtError as e:
        err = e
        print(f"   failed as expected ({e.get_error_code()}): {e}", flush=True)
    after = (sha(vpath), identity(vpath), os.stat(vpath).st_ino, os.stat(vpath).st_size)
    if err is None:
        raise StepFailed(
            "a sparse upload with a 2**62-byte hole succeeded at finish(); the "
            "volume is " + ("unchanged" if after == before else
                            f"CHANGED: size {before[3]} -> {after[3]}, inode "
                            f"{before[2]} -> {after[2]}, content "
                            f"{'same' if after[0] == before[0] else 'replaced'}"))
    # the reason (the hole that could not be applied) reaches finish()
    check_eq(err.get_error_code(), libvirt.VIR_ERR_INTERNAL_ERROR,
             f"error code of the failed sparse upload ({err})")
    if "hole" not in str(err):
        raise StepFailed(f"the error does not name the failed hole: {err}")
    check_eq(after, before, "volume after the failed upload")
    for _ in range(50):
        if not temporaries(path):
            break
        time.sleep(0.1)
    check_eq(temporaries(path), [], "temporaries left after the failed upload")


# -- defect 13 --------------------------------------------------------------

def defect13():
    p, path = new_pool("d13")
    bpath = os.path.join(path, "base.qcow2")
    p.createXML(xml_vol("base.qcow2", 64 * MiB, "qcow2"), 0)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 1M", bpath],
                   check=True, capture_output=True)
    p.createXML(xml_vol("over.qcow2", 64 * MiB, "qcow2",
                        backing=(bpath, "qcow2")), 0)
    before = (sha(bpath), identity(bpath))
    base = p.storageVolLookupByName("base.qcow2")
    msg = refused(libvirt.VIR_ERR_OPERATION_INVALID, "wipe of a backing volume",
                  base.wipe, 0)
    check("in use as the backing store" in msg, f"refusal does not say why: {msg}")
    check_eq((sha(bpath), identity(bpath)), before, "base after refused wipe")
    # the same refusal as vol-delete
    msg = refused(libvirt.VIR_ERR_OPERATION_INVALID, "delete of a backing volume",
                  base.delete, 0)
    check("in use as the backing store" in msg, f"delete refusal: {msg}")


run(1, "refreshVol during a cross-pool clone reads the source where it is", defect1)
run(2, "refused clones reach the client with their reason; delete of a vanished file", defect2)
run(4, "upload and wipe keep the recorded identity; LUKS upload keeps its secret", defect4)
run(5, "wipe zeroes the same inode; an open qcow2 is not wiped", defect5)
run(7, "pool-refresh sweeps dead temporaries, never live ones", defect7)
run(11, "a sparse upload whose hole cannot be applied fails, volume unchanged", defect11)
run(13, "wipe of a volume backing another is refused", defect13)
summary()
