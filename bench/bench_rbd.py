"""bench-rbd: stock libvirt rbd backend vs safepool's, in one run (see
bench-rbd.sh). Each figure is the median of the runs listed with it."""
import base64
import os
import statistics
import subprocess
import sys
import time

import libvirt

sys.path.insert(0, os.path.join(os.environ["SAFEPOOL_SRCDIR"], "tests", "rbd"))
from rbdhosts import CLEAN_ENV as ENV, Host, cluster_from_env  # noqa: E402

T, SRC, MON_HOST, MON_PORT, USER, CEPH_CONF, KEY = cluster_from_env()
SAFEPOOL = os.environ["SP_SAFEPOOL"]
RESULTS = os.environ["SP_RESULTS"]
UUID = "0b5e7a1c-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
MiB, GiB = 1 << 20, 1 << 30
ROUNDS = int(os.environ.get("SP_BENCH_ROUNDS", "3"))
# parts to run (all by default): create,clone,refresh,stream
PARTS = os.environ.get("SP_BENCH_PARTS", "create,clone,refresh,stream").split(",")
rows = []


def log(msg):
    print(msg, flush=True)


def rbd(*args, **kw):
    return subprocess.run(["rbd", "-c", CEPH_CONF, "--no-progress", *args],
                          check=True, capture_output=True, **kw)


def vol_xml(name, size):
    return (f"<volume><name>{name}</name><capacity>{size}</capacity>"
            "<target><format type='raw'/></target></volume>")


def pool(h, name, ceph_pool):
    sec = h.conn.secretDefineXML(
        f"<secret ephemeral='no' private='yes'><uuid>{UUID}</uuid>"
        "<usage type='ceph'><name>client.libvirt</name></usage></secret>")
    sec.setValue(base64.b64decode(KEY))
    p = h.conn.storagePoolDefineXML(
        f"<pool type='rbd'><name>{name}</name><source><name>{ceph_pool}</name>"
        f"<host name='{MON_HOST}' port='{MON_PORT}'/>"
        f"<auth type='ceph' username='{USER}'><secret uuid='{UUID}'/></auth>"
        "</source></pool>", 0)
    p.create(0)
    return p


def timed(fn, *args):
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def cluster():
    import rados
    c = rados.Rados(conffile=CEPH_CONF)
    c.connect()
    return c


def write_pieces(io, name, data_mib, spacing_mib):
    """data_mib MiB of random data in 4 MiB pieces, one every spacing_mib
    (as a guest would write them, not through libvirt)."""
    import rbd as rbdlib
    piece = os.urandom(4 * MiB)
    with rbdlib.Image(io, name) as img:
        for i in range(data_mib // 4):
            img.write(piece, i * spacing_mib * MiB)


def purge(io):
    """Every image: clones (k*) first, then the snapshots of the rest."""
    import rbd as rbdlib
    r = rbdlib.RBD()
    names = sorted(r.list(io), key=lambda n: 0 if n.startswith("k") else 1)
    for name in names:
        with rbdlib.Image(io, name) as img:
            for s in list(img.list_snaps()):
                if img.is_protected_snap(s["name"]):
                    img.unprotect_snap(s["name"])
                img.remove_snap(s["name"])
        r.remove(io, name)


def creates(p, prefix, n):
    for i in range(n):
        p.createXML(vol_xml(f"{prefix}{i}", 16 * MiB), 0)


def median(xs):
    return statistics.median(xs)


def run():
    c = cluster()
    io = {"rbd": c.open_ioctx("rbd"), "rbd2": c.open_ioctx("rbd2")}
    stock = Host("stock", T, SRC, None, ENV)
    ours = Host("safepool", T, SRC, os.path.join(T, "backends"), ENV)
    try:
        ps = pool(stock, "s", "rbd")
        po = pool(ours, "o", "rbd2")
        P = {"stock": ps, "safepool": po}

        log("== 200 creates (python createXML, one connection), alternating")
        t = {"stock": [], "safepool": []}
        for r in range(ROUNDS if "create" in PARTS else 0):
            for who, cp in (("stock", "rbd"), ("safepool", "rbd2")):
                t[who].append(timed(creates, P[who], f"c{r}-", 200))
                P[who].refresh(0)
                for v in P[who].listAllVolumes(0):
                    v.delete(0)
            log(f"   round {r}: stock {t['stock'][-1]:.2f} s, "
                f"safepool {t['safepool'][-1]:.2f} s")
        if "create" in PARTS:
            rows.append(("200 × vol-create (raw, 16 MiB)", t, "≤ 1.10× stock"))

        log("== clone of a 4 GiB and a 64 GiB image holding 256 MiB")
        for size in (4, 64) if "clone" in PARTS else ():
            t = {"stock": [], "safepool": []}
            for who, cp in (("stock", "rbd"), ("safepool", "rbd2")):
                src = P[who].createXML(vol_xml(f"src{size}", size * GiB), 0)
                write_pieces(io[cp], f"src{size}", 256, size * 1024 // 64)
                P[who].refresh(0)
                src = P[who].storageVolLookupByName(f"src{size}")
                for r in range(ROUNDS):
                    t[who].append(timed(P[who].createXMLFrom,
                                        vol_xml(f"k{size}-{r}", size * GiB), src, 0))
            log(f"   {size} GiB: stock {t['stock']}, safepool {t['safepool']}")
            rows.append((f"vol-clone, {size} GiB image holding 256 MiB", t,
                         "O(1): same at 4 and 64 GiB"))
        for who, cp in (("stock", "rbd"), ("safepool", "rbd2")):
            purge(io[cp])

        import rbd as rbdlib
        if "refresh" not in PARTS:
            return stream_part(ours, po, io) if "stream" in PARTS else None
        log("== refresh of 1,000 images")
        r = rbdlib.RBD()
        for who, cp in (("stock", "rbd"), ("safepool", "rbd2")):
            for i in range(1000):
                name = f"img{i:04d}"
                r.create(io[cp], name, 64 * MiB, old_format=False)
                if who == "safepool":  # what safepool records at creation
                    with rbdlib.Image(io[cp], name) as img:
                        img.metadata_set("safepool.format", "raw")
                        img.metadata_set("safepool.xml", vol_xml(name, 64 * MiB))
        t = {"stock": [], "safepool": []}
        for rnd in range(ROUNDS):
            for who in ("stock", "safepool"):
                t[who].append(timed(P[who].refresh, 0))
        n = {w: P[w].numOfVolumes() for w in P}
        if n["stock"] != 1000 or n["safepool"] != 1000:
            raise SystemExit(f"refresh listed {n}")
        log(f"   stock {t['stock']}, safepool {t['safepool']}")
        rows.append(("pool-refresh, 1,000 images", t, "≤ 1.0× stock"))
        for cp in ("rbd", "rbd2"):
            purge(io[cp])
        if "stream" in PARTS:
            stream_part(ours, po, io)
    finally:
        stock.close()
        ours.close()
        c.shutdown()


def stream_part(ours, po, io):
    if True:
        log("== upload/download of 1 GiB holding 256 MiB")
        img = os.path.join(T, "up.img")
        piece = os.urandom(4 * MiB)
        with open(img, "wb") as f:
            for i in range(64):
                f.seek(i * 16 * MiB)
                f.write(piece)
            f.truncate(GiB)
        po.refresh(0)
        vol = po.createXML(vol_xml("up", GiB), 0)
        poolxml = os.path.join(T, "pool2.xml")
        with open(poolxml, "w") as f:
            f.write(f"<pool type='rbd'><name>o</name><source><name>rbd2</name>"
                    f"<host name='{MON_HOST}' port='{MON_PORT}'/>"
                    f"<auth type='ceph' username='{USER}'/></source></pool>")
        t = {"rbd import": [], "safepool CLI": [], "virsh --sparse": []}
        d = {"rbd export": [], "safepool CLI": [], "virsh --sparse": []}

        def cli(*args):
            rf, wf = os.pipe()
            os.write(wf, KEY.encode())
            os.close(wf)
            subprocess.run([SAFEPOOL, args[0], "--pool-xml", poolxml,
                            "--secret-fd", str(rf), *args[1:]], check=True,
                           pass_fds=(rf,), env=ENV)
            os.close(rf)

        out = os.path.join(T, "down.img")
        for rnd in range(ROUNDS):
            t["rbd import"].append(timed(rbd, "import", img, f"rbd2/imp{rnd}"))
            t["safepool CLI"].append(timed(cli, "vol-upload", "up", img))
            t["virsh --sparse"].append(timed(
                ours.virsh, "vol-upload", "--sparse", "--pool", "o", "up", img))
            d["rbd export"].append(timed(rbd, "export", f"rbd2/imp{rnd}", out + "r"))
            os.unlink(out + "r")
            d["safepool CLI"].append(timed(cli, "vol-download", "up", out + "c"))
            os.unlink(out + "c")
            d["virsh --sparse"].append(timed(
                ours.virsh, "vol-download", "--sparse", "--pool", "o", "up", out + "v"))
            os.unlink(out + "v")
        log(f"   upload {t}\n   download {d}")
        rows.append(("upload 1 GiB holding 256 MiB", t, "≤ 1.2× rbd import"))
        rows.append(("download 1 GiB holding 256 MiB", d, "(none)"))


def fmt(xs):
    return ", ".join(f"{x:.3f}" for x in xs)


def report():
    lines = ["# bench-rbd: stock libvirt rbd backend vs safepool's", "",
             f"One run of `bench/bench-rbd.sh` ({time.strftime('%Y-%m-%d %H:%M')}, "
             f"{ROUNDS} rounds each, median in bold; ratio = safepool / "
             "reference). ceph-mini with a mgr, bluestore on a sparse file; "
             "both libvirtds private, on the same cluster; 2 cores shared "
             "with other work, so figures are noisy.", "",
             "| what | safepool (s) | reference (s) | ratio | target | runs |",
             "|---|---|---|---|---|---|"]
    for what, t, target in rows:
        keys = list(t)
        ref, own = keys[0], keys[1:]
        if "stock" in t:
            ref, own = "stock", ["safepool"]
        for k in own:
            ratio = median(t[k]) / median(t[ref]) if median(t[ref]) else 0
            lines.append(f"| {what} ({k}) | **{median(t[k]):.3f}** | "
                         f"{ref}: **{median(t[ref]):.3f}** | {ratio:.2f}× | "
                         f"{target} | {k}: {fmt(t[k])}; {ref}: {fmt(t[ref])} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(RESULTS, "w") as f:
        f.write(text)


run()
report()
