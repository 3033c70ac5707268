#!/usr/bin/env bash
# Runs the cargo-fuzz targets (fuzz/) for a bounded time each, one process
# per target, one after the other. docs/TESTING.md explains the targets,
# the corpus and how to run longer.
#
#   scripts/fuzz.sh [-t SECONDS] [--merge] [TARGET...]
#
#   -t SECONDS  time per target (default 60, or $DMP_FUZZ_SECONDS)
#   --merge     afterwards, add what the run found to fuzz/corpus/<target>
#               (only inputs that reach new edges: libFuzzer -merge=1
#               -use_counters=0, which keeps the committed corpus small)
#   TARGET      segment_file, c_abi_sequence (default: both)
#
# New inputs go to fuzz/work/<target> (ignored by git); the committed
# corpus fuzz/corpus/<target> is read, never written, unless --merge.
# A crash stops the script with libFuzzer's report; the input is in
# fuzz/artifacts/<target>/. Replay it with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/crash-...
# or copy it to fuzz/corpus/<target>/ and run
#   cargo test --release --test fuzz_corpus
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Without them it prints why and exits 0 (exit 1 with DMP_FUZZ_REQUIRED=1),
# so CI may call it unconditionally.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${DMP_FUZZ_SECONDS:-60}"
merge=0
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        -t) seconds="$2"; shift 2 ;;
        --merge) merge=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(segment_file c_abi_sequence)

skip() {
    echo "fuzz.sh: skipped: $1"
    if [ "${DMP_FUZZ_REQUIRED:-0}" = 1 ]; then exit 1; fi
    exit 0
}
cargo +nightly --version >/dev/null 2>&1 || skip "no nightly toolchain (rustup toolchain install nightly)"
cargo +nightly fuzz --version >/dev/null 2>&1 || skip "cargo-fuzz is not installed (cargo install cargo-fuzz)"

# Scratch files of the harnesses (segment files) go to a directory of our
# own, removed at the end; shm segments have unique names and are unlinked
# by the harnesses themselves.
scratch="$(mktemp -d "${TMPDIR:-/tmp}/dmp-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

for t in "${targets[@]}"; do
    case "$t" in
        # Seeds are 8 KiB segment images; leave room to grow them.
        segment_file) max_len=16384 ;;
        c_abi_sequence) max_len=4096 ;;
        *) echo "fuzz.sh: unknown target $t" >&2; exit 2 ;;
    esac
    mkdir -p "fuzz/work/$t"
    echo "== fuzz $t for ${seconds}s"
    # One process (no -jobs/-workers): the machine is shared. With
    # -timeout an input that runs 10 s is reported as a hang (inputs take
    # milliseconds: every wait in the harnesses has a zero timeout).
    set +e
    TMPDIR="$scratch" cargo +nightly fuzz run "$t" "fuzz/work/$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 2>&1 |
        grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)'
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" -ne 0 ]; then
        echo "fuzz.sh: $t failed (status $status); see fuzz/artifacts/$t/" >&2
        exit "$status"
    fi
    if [ "$merge" = 1 ]; then
        echo "== merge fuzz/work/$t into fuzz/corpus/$t"
        TMPDIR="$scratch" cargo +nightly fuzz run "$t" "fuzz/corpus/$t" "fuzz/work/$t" -- \
            -merge=1 -use_counters=0 -max_len="$max_len" -timeout=10 2>&1 |
            grep -E 'MERGE-OUTER: [0-9]+ new' || true
    fi
done
