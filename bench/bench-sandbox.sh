#!/bin/bash
# What qemu-img's sandbox costs, per run, in the same run: `safepool
# vol-create` (one qemu-img create), a qcow2 clone (one qemu-img convert)
# and a qcow2 resize (one qemu-img resize) through the CLI, each timed by
# hyperfine with [qemu-img] sandbox=true and sandbox=false, alternating.
# The difference of the means is the sandbox: bwrap's namespaces, binds and
# seccomp filter. Target: at most 5 ms per qemu-img run.
#   bench/bench-sandbox.sh [SAFEPOOL_BIN] [RESULTS.md]
# Env: BENCH_RUNS (200 per command and side).
set -euo pipefail
bin=$(readlink -f "${1:-${SAFEPOOL_BIN:-safepool}}")
results=${2:-}
runs=${BENCH_RUNS:-200}
tmp=$(mktemp -d /var/tmp/sp-bench-sandbox.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
command -v hyperfine >/dev/null || { echo "needs hyperfine" >&2; exit 1; }

pool=$tmp/pool
mkdir "$pool"
for s in on off; do
    v=$([ $s = on ] && echo true || echo false)
    printf '[qemu-img]\nsandbox=%s\n' "$v" >"$tmp/$s.conf"
done
cat >"$tmp/new.xml" <<X
<volume><name>new.qcow2</name><capacity>1073741824</capacity><target><format type='qcow2'/></target></volume>
X
cat >"$tmp/clone.xml" <<X
<volume><name>clone.qcow2</name><capacity>1073741824</capacity><target><format type='qcow2'/></target></volume>
X
sed 's/new.qcow2/src.qcow2/' "$tmp/new.xml" >"$tmp/src.xml"
"$bin" --config "$tmp/off.conf" vol-create --pool-dir "$pool" "$tmp/src.xml" >/dev/null
sed 's/new.qcow2/grow.qcow2/' "$tmp/new.xml" >"$tmp/grow.xml"

# one hyperfine per operation: both sides in the same run
measure() {  # NAME PREPARE CMD(with @CONF@)
    local name=$1 prep=$2 cmd=$3
    hyperfine -N -w 10 -r "$runs" --export-json "$tmp/$name.json" \
        --prepare "$prep" \
        -n on "${cmd//@CONF@/$tmp/on.conf}" \
        -n off "${cmd//@CONF@/$tmp/off.conf}" >&2
}
measure create "rm -f $pool/new.qcow2" \
    "$bin --config @CONF@ vol-create --pool-dir $pool $tmp/new.xml"
measure clone "rm -f $pool/clone.qcow2" \
    "$bin --config @CONF@ vol-create --pool-dir $pool --from src.qcow2 $tmp/clone.xml"
"$bin" --config "$tmp/off.conf" vol-create --pool-dir "$pool" "$tmp/grow.xml" >/dev/null
measure resize "true" \
    "$bin --config @CONF@ vol-resize --pool-dir $pool grow.qcow2 2G"

report=$(python3 - "$tmp" <<'PY'
import json, os, sys
tmp = sys.argv[1]
print("| operation (one qemu-img run) | unsandboxed | sandboxed | sandbox cost | target |")
print("|---|---|---|---|---|")
for name, what in (("create", "vol-create qcow2 1 GiB"),
                   ("clone", "clone qcow2 -> qcow2 (convert)"),
                   ("resize", "vol-resize qcow2")):
    r = {x["command"]: x for x in json.load(open(os.path.join(tmp, name + ".json")))["results"]}
    on, off = r["on"]["mean"] * 1000, r["off"]["mean"] * 1000
    d = on - off
    print(f"| {what} | {off:.2f} ms ± {r['off']['stddev'] * 1000:.2f} "
          f"| {on:.2f} ms ± {r['on']['stddev'] * 1000:.2f} | {d:+.2f} ms "
          f"| <= 5 ms: {'met' if d <= 5 else 'MISSED'} |")
PY
)
out=$(cat <<R
# qemu-img's sandbox: cost per run

Measured $(date -u +%Y-%m-%d) on $(nproc) cores, kernel $(uname -r), bubblewrap $(dpkg-query -W -f='${Version}' bubblewrap), qemu-utils $(dpkg-query -W -f='${Version}' qemu-utils); $runs runs per side, hyperfine, pool on $(df -T "$tmp" | awk 'NR==2{print $2}').

$report

Command: \`bench/bench-sandbox.sh build/src/tools/safepool\`. Each row is one
\`safepool\` process running one qemu-img, with the sandbox on and off in
the same hyperfine run; the difference is what bwrap, its namespaces and
binds and the seccomp filter add to that run.
R
)
echo "$out"
[ -z "$results" ] || printf '%s\n' "$out" >"$results"
