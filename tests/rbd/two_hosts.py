"""Hosts A and B: two private libvirtds with safepool's dir and rbd
modules, one Ceph cluster, one rbd pool (a namespace of its own). Every
operation on both hosts through python3-libvirt (A) and virsh (B); what
one host does, the other sees; the stock backend's faults shown fixed;
cross-host races and watchers; a daemon restart; an unreachable cluster;
the cephx key in no process's argv or environment and in no file."""
import base64
import os
import subprocess
import sys
import time

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rbdhosts import CLEAN_ENV, Host, cluster_from_env  # noqa: E402

T, SRC, MON_HOST, MON_PORT, USER, CEPH_CONF, KEY = cluster_from_env()
NS = os.environ["SP_NS"]
BACKENDS = os.path.join(T, "backends")
POLICY = os.path.join(T, "policy.conf")
SECRET_UUID = "6f1c3c1e-3d5b-4c55-9a0e-2f4b6a8d9c11"
# children get a clean environment (no CEPH_* at all)
ENV = dict(CLEAN_ENV, SAFEPOOL_CONFIG=POLICY)


def step(msg):
    print("==", msg, flush=True)


def fail(msg):
    print("FAIL:", msg, file=sys.stderr, flush=True)
    raise SystemExit(1)


def expect_eq(actual, expected, what):
    if actual != expected:
        fail(f"{what}: got {actual!r}, expected {expected!r}")


def refused(code, what, fn, *args):
    try:
        fn(*args)
    except libvirt.libvirtError as e:
        if code is not None and e.get_error_code() != code:
            fail(f"{what}: code {e.get_error_code()} ({e}), expected {code}")
        print(f"   refused as expected: {e}", flush=True)
        return str(e)
    fail(f"{what}: succeeded")


def vol_xml(name, size):
    return (f"<volume><name>{name}</name><capacity>{size}</capacity>"
            "<target><format type='raw'/></target></volume>")


def pool_xml(name, port, source=None):
    return (f"<pool type='rbd'><name>{name}</name><source>"
            f"<name>{source or 'rbd/' + NS}</name>"
            f"<host name='{MON_HOST}' port='{port}'/>"
            f"<auth type='ceph' username='{USER}'>"
            f"<secret uuid='{SECRET_UUID}'/></auth></source></pool>")


def setup(h):
    sec = h.conn.secretDefineXML(
        f"<secret ephemeral='no' private='yes'><uuid>{SECRET_UUID}</uuid>"
        "<usage type='ceph'><name>client.libvirt</name></usage></secret>")
    # the raw key through the API: no file, no command line
    sec.setValue(base64.b64decode(KEY))
    pool = h.conn.storagePoolDefineXML(pool_xml("ceph", MON_PORT), 0)
    pool.create(0)
    return pool


def upload(conn, vol, data, flags=0):
    st = conn.newStream(0)
    vol.upload(st, 0, 0, flags)
    for i in range(0, len(data), 256 << 10):
        st.send(data[i:i + (256 << 10)])
    st.finish()


def download(conn, vol, sparse=False):
    st = conn.newStream(0)
    vol.download(st, 0, 0,
                 libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM if sparse else 0)
    chunks, holes = [], [0]

    def sink(stream, data, opaque):
        chunks.append(data)
        return len(data)

    def hole(stream, length, opaque):
        holes[0] += length
        chunks.append(b"\0" * length)
        return 0

    if sparse:
        st.sparseRecvAll(sink, hole, None)
    else:
        st.recvAll(sink, None)
    st.finish()
    return b"".join(chunks), holes[0]


def rbd(*args):
    return subprocess.run(["rbd", "-c", CEPH_CONF, *args], check=True,
                          capture_output=True, text=True).stdout


def fmt_of(vol):
    x = vol.XMLDesc(0)
    return x.split("<format type='")[1].split("'")[0] if "<format" in x else None


with open(POLICY, "w") as f:
    f.write("[rbd]\ntimeout=5\n")
A = B = None
try:
    step("two private libvirtds, one cluster")
    A, B = (Host(n, T, SRC, BACKENDS, ENV) for n in "AB")
    pa, pb = setup(A), setup(B)

    step("create on A (python), on B (virsh); each sees the other's after refresh")
    a1 = pa.createXML(vol_xml("a1", 64 << 20), 0)
    expect_eq(a1.path(), f"rbd/{NS}/a1", "path")
    B.virsh("vol-create-as", "ceph", "b1", "32M", "--format", "raw")
    rbd("create", "--size", "1M", f"rbd/{NS}/from-cli")
    pb.refresh(0)
    pa.refresh(0)
    expect_eq(fmt_of(pb.storageVolLookupByName("a1")), "raw", "B: a1's recorded format")
    expect_eq(fmt_of(pa.storageVolLookupByName("b1")), "raw", "A: b1's recorded format")
    unrec = fmt_of(pa.storageVolLookupByName("from-cli"))
    if unrec == "raw":
        fail("an image safepool did not make is shown as raw")
    expect_eq(pb.storageVolLookupByName("a1").info()[2], 0, "allocation of empty a1")

    step("upload on A (stream), download on B: same bytes, sparse both ways")
    data = os.urandom(1 << 20) + b"\0" * (62 << 20) + os.urandom(1 << 20)
    upload(A.conn, a1, data)
    pb.refresh(0)
    got, holes = download(B.conn, pb.storageVolLookupByName("a1"), sparse=True)
    expect_eq(got, data, "sparse download on B")
    if holes < (4 << 20):
        fail(f"no holes in the sparse download ({holes})")
    with open(os.path.join(T, "up.bin"), "wb") as f:
        f.write(data[:2 << 20])
    B.virsh("vol-upload", "--pool", "ceph", "b1", os.path.join(T, "up.bin"))
    A.virsh("vol-download", "--pool", "ceph", "b1", os.path.join(T, "down.bin"))
    with open(os.path.join(T, "down.bin"), "rb") as f:
        expect_eq(f.read(), data[:2 << 20], "virsh download on A of B's upload")

    step("hostile uploads refused on both hosts, the volume unchanged")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/passwd",
                    "-F", "raw", os.path.join(T, "h.qcow2"), "64M"], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "vmdk", "-o",
                    "subformat=monolithicFlat", os.path.join(T, "h.vmdk"), "1M"],
                   check=True)
    with open(os.path.join(T, "h.qcow2"), "rb") as f:
        msg = refused(None, "qcow2 with backing file", upload, A.conn, a1, f.read())
    if "qcow2-backing-file" not in msg:
        fail(f"message does not name the backing file: {msg}")
    r = B.virsh("vol-upload", "--pool", "ceph", "a1", os.path.join(T, "h.vmdk"), ok=False)
    if r.returncode == 0 or "vmdk" not in r.stderr:
        fail(f"vmdk flat upload on B: {r.returncode} {r.stderr}")
    expect_eq(download(A.conn, a1)[0], data, "a1 after refused uploads")

    step("clone on B of A's volume, after writes (stock: 'cause is unknown')")
    bc1 = pb.createXMLFrom(vol_xml("bc1", 8 << 20), pb.storageVolLookupByName("a1"), 0)
    upload(A.conn, pa.storageVolLookupByName("b1"), os.urandom(2 << 20))
    # the source written in place between two clones
    subprocess.run(["rbd", "-c", CEPH_CONF, "bench", "--io-type", "write",
                    "--io-total", "1M", f"rbd/{NS}/a1"], check=True,
                   capture_output=True)
    B.virsh("vol-clone", "--pool", "ceph", "a1", "bc2")
    A.virsh("vol-clone", "--pool", "ceph", "b1", "ac1")
    pa.refresh(0)
    expect_eq(download(A.conn, pa.storageVolLookupByName("bc1"))[0][:len(data)],
              data, "bc1 holds a1's content at its clone")
    expect_eq(bc1.info()[2], 0, "a fresh clone allocates nothing (O(1))")

    step("delete on A refused while qemu-io on B holds the image")
    pa.createXML(vol_xml("held", 8 << 20), 0)
    rfd, wfd = os.pipe()
    os.write(wfd, KEY.encode())
    os.close(wfd)
    # qemu-io in B's namespaces, the key on a pipe
    qio = B.nsenter(
        "qemu-io", "--object",
        f"secret,id=s0,file=/dev/fd/{rfd},format=base64", "--image-opts",
        f"driver=rbd,pool=rbd,namespace={NS},image=held,server.0.host={MON_HOST},"
        f"server.0.port={MON_PORT},user={USER},key-secret=s0,conf=/dev/null",
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, pass_fds=(rfd,))
    os.close(rfd)
    for _ in range(100):
        if "watcher=" in rbd("status", f"rbd/{NS}/held"):
            break
        time.sleep(0.1)
    else:
        fail("qemu-io on B did not open the image")
    held = pa.storageVolLookupByName("held")
    msg = refused(libvirt.VIR_ERR_OPERATION_INVALID, "delete while open",
                  held.delete, 0)
    if "it is open" not in msg or "127.0.0.1:" not in msg:
        fail(f"message does not name the client: {msg}")
    refused(libvirt.VIR_ERR_OPERATION_INVALID, "wipe while open", held.wipe, 0)

    step("the cephx key: in no process's argv or environment, in no file")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        for what in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{what}", "rb") as f:
                    if KEY.encode() in f.read():
                        fail(f"key in /proc/{pid}/{what}")
            except OSError:
                pass
    qio.stdin.write(b"quit\n")
    qio.stdin.close()
    qio.wait(timeout=30)
    held.delete(0)
    own = os.environ.get("SP_OWN_CEPH") or "//none"
    dirs = [T] + [f"{h.root}/{d}" for h in (A, B)
                  for d in ("var/log/libvirt", "run/libvirt", "var/lib/libvirt")]
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            if root.startswith(own):
                continue
            for fn in files:
                p = os.path.join(root, fn)
                try:
                    with open(p, "rb") as f:
                        if KEY.encode() in f.read():
                            fail(f"key in {p}")
                except OSError:
                    pass

    step("resize: grow on B, shrink on A (stock: allocation == capacity)")
    pb.refresh(0)
    r1 = pb.createXML(vol_xml("r1", 64 << 20), 0)
    upload(B.conn, r1, os.urandom(1 << 20) + b"\0" * (63 << 20))
    r1 = pb.storageVolLookupByName("r1")
    r1.resize(128 << 20, 0)
    expect_eq(r1.info()[1], 128 << 20, "grown on B")
    pa.refresh(0)
    ra = pa.storageVolLookupByName("r1")
    if ra.info()[2] >= ra.info()[1]:
        fail(f"allocation reported as capacity: {ra.info()}")
    refused(libvirt.VIR_ERR_INVALID_ARG, "shrink without the flag", ra.resize, 16 << 20, 0)
    ra.resize(16 << 20, libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK)
    expect_eq(ra.info()[1], 16 << 20, "shrunk on A")

    step("wipe on B of A's volume")
    B.virsh("pool-refresh", "ceph")
    B.virsh("vol-wipe", "--pool", "ceph", "r1")
    if download(A.conn, ra)[0].strip(b"\0"):
        fail("wiped volume still has data")

    step("8 concurrent creates of one name, 4 on A and 4 on B: one wins")
    with open(os.path.join(T, "race.xml"), "w") as f:
        f.write(vol_xml("race", 1 << 20))
    procs = [subprocess.Popen(
        ["virsh", "-q", "-c", h.uri, "vol-create", "ceph", os.path.join(T, "race.xml")],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for h in (A, B, A, B, A, B, A, B)]
    outs = [(p.wait(), p.stderr.read()) for p in procs]
    expect_eq(sorted(rc for rc, _ in outs), [0] + [1] * 7, "exit codes")
    for rc, err in outs:
        if rc and "exists already" not in err:
            fail(f"a loser was not told 'exists already': {err}")
    if ".safepool-tmp" in rbd("ls", f"rbd/{NS}"):
        fail("temporaries left after the race")

    step("delete with clones: refused clearly (stock: ENOENT), no snapshot left")
    msg = refused(libvirt.VIR_ERR_OPERATION_INVALID, "delete a1 with clones",
                  pa.storageVolLookupByName("a1").delete, 0)
    if "has clones" not in msg:
        fail(f"unclear refusal: {msg}")
    B.virsh("vol-delete", "--pool", "ceph", "bc1")
    B.virsh("vol-delete", "--pool", "ceph", "bc2")
    pa.refresh(0)
    pa.storageVolLookupByName("a1").delete(0)
    pa.storageVolLookupByName("b1").delete(libvirt.VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS)
    if "ac1" not in rbd("ls", f"rbd/{NS}"):
        fail("the clone went with its source")
    expect_eq(rbd("info", "--format", "json", f"rbd/{NS}/ac1").count("parent"), 0,
              "ac1 flattened by --delete-snapshots")

    step("libvirtd on A restarted: the pool is still active")
    A.restart()
    pa = A.conn.storagePoolLookupByName("ceph")
    expect_eq(pa.isActive(), 1, "pool active after restart")
    expect_eq(fmt_of(pa.storageVolLookupByName("ac1")), "raw", "format after restart")

    step("<rbd:config_opts> in the pool XML: refused at define, not ignored")
    opts = pool_xml("opts", MON_PORT).replace(
        "<pool type='rbd'>",
        "<pool type='rbd' xmlns:rbd='http://libvirt.org/schemas/storagepool/rbd/1.0'>"
    ).replace("</source>", "</source><rbd:config_opts>"
              "<rbd:option name='rbd_cache' value='false'/></rbd:config_opts>")
    msg = refused(libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "pool with config_opts",
                  B.conn.storagePoolDefineXML, opts, 0)
    if "rbd:config_opts" not in msg:
        fail(msg)
    refused(libvirt.VIR_ERR_NO_STORAGE_POOL, "the refused pool is not defined",
            B.conn.storagePoolLookupByName, "opts")

    step("Ceph unreachable: a bounded, clear error; libvirtd stays up")
    dead = B.conn.storagePoolDefineXML(pool_xml("dead", 1).replace(
        "<name>ceph</name>", "<name>dead</name>"), 0)
    t0 = time.time()
    msg = refused(None, "start of a pool with no monitor", dead.create, 0)
    took = time.time() - t0
    if "no answer from the Ceph cluster" not in msg or took > 20:
        fail(f"{took:.1f} s: {msg}")
    print(f"   after {took:.1f} s", flush=True)
    B.virsh("version")
    expect_eq(B.conn.storagePoolLookupByName("ceph").isActive(), 1, "other pool on B")
    dead.undefine()
    print("PASS", flush=True)
finally:
    for h in (A, B):
        if h:
            h.close()
