#!/bin/bash
# Seeds for fuzz-vtpm-sealed (tests/fuzz/corpus/vtpm-sealed), made with
# the CLI from a small state (as root):
#   tests/fuzz/make-corpus-sealed.sh build/src/tools/safepool
# Each seed starts with the target's mode byte (fuzz-vtpm-sealed-one.c):
# 0 + archive sealed with the target's key, 1 + one sealed with its
# passphrase (Argon2id 8 KiB, 1 pass), 2 + 0 (chunk byte) + a plain one.
set -euo pipefail
bin=$(readlink -f "$1")
out=$(cd "$(dirname "$0")" && pwd)/corpus/vtpm-sealed
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
u=6b1f0e1c-8e3b-4f0a-9c7e-1234567890ab
printf '[vtpm]\nswtpm_user=root\nswtpm_group=root\nrequire_sealed=false\nargon2_memory=8K\nargon2_iterations=1\n' >"$w/conf"
export SAFEPOOL_CONFIG=$w/conf
printf 'safepool-fuzz-key-32-bytes-long!' >"$w/key"
printf 'safepool fuzz passphrase' >"$w/pass"
mkdir -p "$out"
"$bin" vtpm create --root "$w/root" --uuid $u >/dev/null
head -c 3000 /dev/urandom >"$w/root/$u/tpm2/tpm2-00.permall"
chmod 600 "$w/root/$u/tpm2/tpm2-00.permall"
"$bin" vtpm save --root "$w/root" --uuid $u --key-file "$w/key" --output "$w/k" >/dev/null
"$bin" vtpm save --root "$w/root" --uuid $u --passphrase-file "$w/pass" --output "$w/p" >/dev/null
"$bin" vtpm save --root "$w/root" --uuid $u --no-encrypt --output "$w/t" >/dev/null
{ printf '\0'; cat "$w/k"; } >"$out/key-sealed"
{ printf '\1'; cat "$w/p"; } >"$out/passphrase-sealed"
{ printf '\2\0'; cat "$w/t"; } >"$out/plain-to-seal"
{ printf '\0'; head -c 512 "$w/k"; } >"$out/key-header-only"
{ printf '\0'; cat "$w/t"; } >"$out/plain-as-sealed"
ls -l "$out"
