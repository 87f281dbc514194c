# qemu-img's sandbox inside libvirtd: the probe of tests/cli/sandbox-probe.c
# configured as qemu_img through the policy libvirtd reads; a virsh
# vol-create runs it, and every escape it tries must be denied, its report
# reaching virsh's error. Then the real qemu-img, sandboxed, does the work.
. "$(dirname "$0")/lib.sh"
: "${SP_PROBE:?}"
P=$T/pool
conf=$T/safepool.conf
printf '[qemu-img]\nqemu_img=%s\nsandbox=true\n' "$SP_PROBE" >"$conf"
chmod 644 "$conf"
export SAFEPOOL_CONFIG=$conf
"$SAFEPOOL_SRCDIR/tools/private-libvirtd" --restart

virsh -q pool-define-as sb dir --target "$P"
virsh -q pool-build sb
virsh -q pool-start sb
echo "neighbour data" >"$P/neighbour.img"
mkdir "$P/mnt-target"

step "the probe as qemu-img inside libvirtd: every attempt denied"
# a listener on 127.0.0.1 whose port the probe takes from the size; it is
# in libvirtd's network namespace (the host's), not the sandbox's
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$T/port" &
listener=$!
trap 'kill $listener 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
port=$(cat "$T/port")
out=$(virsh vol-create-as sb p.qcow2 "${port}b" --format qcow2 2>&1) &&
    fail "the probe's create succeeded"
printf '   %s\n' "$(grep -o 'probe:.*' <<<"$out")"
for a in shadow neighbour proc1 proc1-cmdline tcp write ptrace mount uring-socket userns clone3-userns; do
    grep -q " $a=denied" <<<"$out" || fail "probe not denied '$a': $out"
done
[ -e "$P/escaped-write" ] && fail "the probe wrote beside its output"
expect_eq "$(find "$P" -name '.safepool-*' -not -name .safepool.lock | wc -l)" 0 \
    "temporaries left"
expect_eq "$(virsh -q vol-list sb | grep -c p.qcow2 || true)" 0 "probe's volume listed"

step "the real qemu-img, sandboxed, through virsh: create, clone, resize, LUKS"
printf '[qemu-img]\nsandbox=true\n[luks]\niter_time=10\n' >"$conf"
"$SAFEPOOL_SRCDIR/tools/private-libvirtd" --restart
virsh -q vol-create-as sb a.qcow2 64M --format qcow2
virsh -q vol-clone --pool sb a.qcow2 b.qcow2
virsh -q vol-resize --pool sb b.qcow2 128M
expect_eq "$(qinfo "$P/b.qcow2" qcow2 '."virtual-size"')" 134217728 "resized clone"
cat >"$T/sec.xml" <<X
<secret ephemeral='no' private='yes'><usage type='volume'><volume>$P/l.raw</volume></usage></secret>
X
uuid=$(virsh secret-define "$T/sec.xml" | awk '{print $2}')
virsh -q secret-set-value "$uuid" --base64 "$(printf 'sandboxed passphrase' | base64)" >/dev/null 2>&1
cat >"$T/l.xml" <<X
<volume><name>l.raw</name><capacity>16777216</capacity>
  <target><format type='raw'/><encryption format='luks'><secret type='passphrase' uuid='$uuid'/></encryption></target>
</volume>
X
virsh -q vol-create sb "$T/l.xml"
expect_eq "$(qemu-img info --output=json "$P/l.raw" | jq -r .format)" luks "LUKS volume"
qemu-img info --object secret,id=s0,data="sandboxed passphrase" \
    --image-opts "driver=luks,key-secret=s0,file.filename=$P/l.raw" >/dev/null ||
    fail "LUKS volume made in the sandbox does not open with its secret"
echo "   create, clone, resize and LUKS ran sandboxed"
