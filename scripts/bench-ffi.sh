#!/usr/bin/env bash
# The cost of the C ABI: the same throughput workload run by a C producer
# and a C consumer (benches/ffi/bench_worker.c, through libdisruptor_mp.so)
# and by a Rust producer and consumer (the safe API, `dmp bench-worker`),
# in the same run, interleaved, each process pinned (producer on CPU 0,
# consumer on CPU 1). Every event is verified. Prints both rates (best of
# the rounds) and the ratio C / Rust.
#
# A second workload runs each producer alone on a ring without consumers
# (it is never held back): the cost per event of claim, slot access, write
# and publish without any cross-core traffic, which isolates the price of
# calling through the C ABI from the noise of two communicating cores.
#
# usage: scripts/bench-ffi.sh [--events N] [--rounds R] [--batch B]
#                             [--capacity SLOTS] [--size BYTES] [--quick]
#                             [--dmp PATH --lib DIR]
#
#   --events N        events per run (default 20000000; --quick: 1000000)
#   --rounds R        runs of each side, interleaved (default 5; --quick: 1)
#   --batch B         slots per claim (default 256)
#   --capacity SLOTS  ring size, a power of two (default 4096)
#   --size BYTES      event size, 8 to 256 (default 64)
#   --dmp PATH --lib DIR
#                     use this dmp binary and the libdisruptor_mp.so in DIR
#                     instead of running `cargo build --release`
#   --producer-cpu N / --consumer-cpu N   CPUs to pin to (default 0 and 1)
#
# Environment: CC (default cc), CARGO_TARGET_DIR.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
events=""
rounds=""
batch=256
capacity=4096
size=64
quick=0
dmp=""
libdir=""
producer_cpu=0
consumer_cpu=1

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --events) events="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --batch) batch="$2"; shift 2 ;;
        --capacity) capacity="$2"; shift 2 ;;
        --size) size="$2"; shift 2 ;;
        --quick) quick=1; shift ;;
        --dmp) dmp="$2"; shift 2 ;;
        --lib) libdir="$2"; shift 2 ;;
        --producer-cpu) producer_cpu="$2"; shift 2 ;;
        --consumer-cpu) consumer_cpu="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench-ffi.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done
if [[ $quick == 1 ]]; then
    events="${events:-1000000}"
    rounds="${rounds:-1}"
fi
events="${events:-20000000}"
rounds="${rounds:-5}"

if [[ -z "$dmp" ]]; then
    (cd "$repo" && cargo build --release --locked -p disruptor-mp -p dmp) >&2
    out="${CARGO_TARGET_DIR:-$repo/target}/release"
    dmp="$out/dmp"
    libdir="$out"
elif [[ -z "$libdir" ]]; then
    echo "bench-ffi.sh: --dmp needs --lib DIR (where libdisruptor_mp.so is)" >&2
    exit 2
fi

work="$(mktemp -d)"
rings=()
cleanup() {
    jobs -p | xargs -r kill 2>/dev/null || true
    for r in "${rings[@]}"; do rm -f "/dev/shm/$r"; done
    rm -rf "$work"
}
trap cleanup EXIT

# Prints the output of both sides of a failed run, then exits.
failed() {
    echo "bench-ffi.sh: $1" >&2
    for f in consumer.out consumer.err producer.out producer.err; do
        [[ -s "$work/$f" ]] && { echo "--- $f" >&2; cat "$work/$f" >&2; }
    done
    exit 1
}

# The library's SONAME is libdisruptor_mp.so.N: give the loader that name.
major="$(readelf -d "$libdir/libdisruptor_mp.so" | sed -n 's/.*(SONAME).*\[libdisruptor_mp\.so\.\([0-9]*\)\]/\1/p')"
mkdir -p "$work/lib"
ln -s "$(cd "$libdir" && pwd)/libdisruptor_mp.so" "$work/lib/libdisruptor_mp.so.${major:-0}"
ln -s "$(cd "$libdir" && pwd)/libdisruptor_mp.so" "$work/lib/libdisruptor_mp.so"
"${CC:-cc}" -O2 -std=c11 -Wall -Wextra -Werror -I"$repo/include" "$repo/benches/ffi/bench_worker.c" \
    -o "$work/bench_worker" -L"$work/lib" -Wl,-rpath,"$work/lib" -ldisruptor_mp

# Runs one producer/consumer pair over a fresh ring; sets RESULT to the
# consumer's events per second.
run_pair() {
    local side="$1" n="$2"
    local ring="dmp-bench-ffi-$$-$n"
    rings+=("$ring")
    rm -f "$work"/*.out "$work"/*.err
    "$dmp" create "$ring" --capacity "$capacity" --slot-size "$size" --no-wakeups >/dev/null
    local consumer producer
    if [[ $side == c ]]; then
        consumer=("$work/bench_worker" consumer "$ring" "$events" "$size" "$batch" "$consumer_cpu")
        producer=("$work/bench_worker" producer "$ring" "$events" "$size" "$batch" "$producer_cpu")
    else
        local common=(--name "$ring" --events "$events" --size "$size" --batch "$batch" --capacity "$capacity" --strategy spin)
        consumer=("$dmp" bench-worker --role ring-consumer "${common[@]}" --cpu "$consumer_cpu")
        producer=("$dmp" bench-worker --role ring-producer "${common[@]}" --cpu "$producer_cpu")
    fi
    timeout 300 "${consumer[@]}" >"$work/consumer.out" 2>"$work/consumer.err" &
    local cpid=$!
    local waited=0
    until grep -q '^ready' "$work/consumer.out" 2>/dev/null; do
        if ! kill -0 "$cpid" 2>/dev/null || ((waited > 2000)); then
            failed "the $side consumer did not start"
        fi
        sleep 0.01
        waited=$((waited + 1))
    done
    if ! timeout 300 "${producer[@]}" >"$work/producer.out" 2>"$work/producer.err"; then
        failed "the $side producer failed"
    fi
    if ! wait "$cpid"; then
        failed "the $side consumer failed"
    fi
    rm -f "/dev/shm/$ring"
    # Rate over the events after the first batch, from the consumer's clock.
    RESULT="$(grep '^result' "$work/consumer.out" | tr ' ' '\n' | awk -F= -v want="$events" '
        $1 == "events" { e = $2 } $1 == "first_batch" { f = $2 } $1 == "span_ns" { s = $2 }
        END {
            if (e != want || s <= 0) { exit 1 }
            printf "%.0f\n", (e - f) * 1e9 / s
        }')" || failed "the $side consumer reported no valid result"
}

# Runs one producer alone on a ring without consumers; sets RESULT to its
# nanoseconds per event.
run_producer_alone() {
    local side="$1" n="$2"
    local ring="dmp-bench-ffi-$$-alone-$n"
    rings+=("$ring")
    rm -f "$work"/*.out "$work"/*.err
    "$dmp" create "$ring" --capacity "$capacity" --slot-size "$size" --no-wakeups >/dev/null
    local producer
    if [[ $side == c ]]; then
        producer=("$work/bench_worker" producer "$ring" "$events" "$size" "$batch" "$producer_cpu")
    else
        producer=("$dmp" bench-worker --role ring-producer --name "$ring" --events "$events" --size "$size"
            --batch "$batch" --capacity "$capacity" --strategy spin --cpu "$producer_cpu")
    fi
    if ! timeout 300 "${producer[@]}" >"$work/producer.out" 2>"$work/producer.err"; then
        failed "the $side producer (alone) failed"
    fi
    rm -f "/dev/shm/$ring"
    RESULT="$(grep '^result' "$work/producer.out" | tr ' ' '\n' | awk -F= -v want="$events" '
        $1 == "events" { e = $2 } $1 == "span_ns" { s = $2 }
        END {
            if (e != want || s <= 0) { exit 1 }
            printf "%.3f\n", s / e
        }')" || failed "the $side producer reported no valid result"
}

echo "C ABI vs Rust API: $events events of $size bytes, ring of $capacity slots, batches of $batch,"
echo "busy-spin, producer on CPU $producer_cpu, consumer on CPU $consumer_cpu, best of $rounds round(s)"
best_c=0
best_rust=0
alone_c=""
alone_rust=""
n=0
for ((round = 1; round <= rounds; round++)); do
    for side in rust c; do
        n=$((n + 1))
        run_pair "$side" "$n"
        rate="$RESULT"
        run_producer_alone "$side" "$n"
        alone="$RESULT"
        printf '  round %d  %-4s  %8.2f M events/s   producer alone %6.2f ns/event\n' "$round" "$side" \
            "$(awk -v r="$rate" 'BEGIN { print r / 1e6 }')" "$alone"
        if [[ $side == c ]]; then
            ((rate > best_c)) && best_c=$rate
            alone_c="$(awk -v a="$alone" -v b="$alone_c" 'BEGIN { print (b == "" || a < b) ? a : b }')"
        else
            ((rate > best_rust)) && best_rust=$rate
            alone_rust="$(awk -v a="$alone" -v b="$alone_rust" 'BEGIN { print (b == "" || a < b) ? a : b }')"
        fi
    done
done
awk -v c="$best_c" -v r="$best_rust" -v size="$size" -v ac="$alone_c" -v ar="$alone_rust" 'BEGIN {
    printf "producer + consumer, best of the rounds:\n"
    printf "  Rust producer + Rust consumer (safe API)  %8.2f M events/s  %6.2f GB/s\n", r / 1e6, r * size / 1e9
    printf "  C producer + C consumer (C ABI)           %8.2f M events/s  %6.2f GB/s\n", c / 1e6, c * size / 1e9
    printf "  ratio C / Rust                            %8.3f\n", c / r
    printf "producer alone (no consumer, no cross-core traffic), best of the rounds:\n"
    printf "  Rust API                                  %8.2f ns/event\n", ar
    printf "  C ABI                                     %8.2f ns/event\n", ac
    printf "  ratio of rates C / Rust                   %8.3f\n", ar / ac
}'
