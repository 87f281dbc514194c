#!/bin/bash
# run-fuzz.sh FUZZER CORPUS SECONDS: run a libFuzzer target for SECONDS on a
# scratch copy of nothing (new inputs) plus the read-only committed corpus.
set -euo pipefail
fuzzer=$1 corpus=$2 secs=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/new" "$scratch/art"
"$fuzzer" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=400000 \
    -artifact_prefix="$scratch/art/" -print_final_stats=1 \
    "$scratch/new" "$corpus" 2>&1 | tail -25
if compgen -G "$scratch/art/*" >/dev/null; then
    echo "fuzzer finding(s):" >&2
    ls -l "$scratch/art" >&2
    exit 1
fi
