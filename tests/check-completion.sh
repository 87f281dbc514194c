#!/bin/bash
# The bash completion (data/safepool.bash-completion) as bash-completion
# loads it: registered for safepool; completes commands, vtpm subcommands
# and options from --help, and volume names from --pool-dir (not hidden
# files, not subdirectories, only where a volume NAME goes).
#   check-completion.sh COMPLETION_FILE      (SAFEPOOL_BIN: the built binary)
set -euo pipefail
file=$1
bc=/usr/share/bash-completion/bash_completion
[ -f "$bc" ] || { echo "bash-completion is not installed" >&2; exit 77; }
export PATH=$(dirname "${SAFEPOOL_BIN:?}"):$PATH
fail() { echo "FAIL: $*" >&2; exit 1; }

reg=$(bash -c "source $bc; source '$file'; complete -p safepool")
[ "$reg" = "complete -F _safepool safepool" ] || fail "registered as '$reg'"

pool=$(mktemp -d /tmp/sp-completion.XXXXXX)
trap 'rm -rf "$pool"' EXIT
touch "$pool/alpha.qcow2" "$pool/beta.img" "$pool/.safepool.lock" \
      "$pool/.safepool-tmp-x"
mkdir "$pool/subdir"

# complete WORD... : what bash offers for the last word, one per line, sorted
complete_words() {
    bash -c '
        source "$1"; source "$2"; shift 2
        COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="$*"; COMP_LINE=${COMP_LINE// = /=}; COMP_POINT=${#COMP_LINE}
        _safepool safepool "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$bc" "$file" "$@" | sort
}
expect() {  # expect "EXPECTED LINES" WORD...
    local want=$1 got
    shift
    got=$(complete_words "$@" | paste -sd' ')
    [ "$got" = "$want" ] || fail "safepool ${*:2}: got '$got', expected '$want'"
    echo "ok: ${*:2} -> $got"
}

expect "relabel restore" safepool vtpm re
expect "status" safepool st
expect "--bytes" safepool vol-list --by
expect "--progress" safepool vol-create --pro
expect "--progress" safepool vtpm save --pro
expect "" safepool vtpm list --pro
expect "alpha.qcow2" safepool vol-delete --pool-dir "$pool" al
expect "alpha.qcow2 beta.img" safepool vol-dumpxml --pool-dir "$pool" ""
expect "alpha.qcow2 beta.img" safepool --json vol-delete --pool-dir "$pool" ""
expect "beta.img" safepool vol-create --pool-dir "$pool" --from b
# as bash splits --pool-dir=DIR at '='
expect "beta.img" safepool vol-create --pool-dir = "$pool" --from b
# the second argument of vol-resize is a capacity, not a volume
expect "" safepool vol-resize --pool-dir "$pool" alpha.qcow2 ""
echo PASS
