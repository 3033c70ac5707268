"""Command-line roles, the Python twins of `dmp produce` / `dmp consume`
and of the C examples (same event pattern, same output lines):

    python -m disruptor_mp info RING [--file]
    python -m disruptor_mp produce RING [--count N] [--batch B] [--wait W]
                                        [--create [--capacity N] [--slot-size B]]
    python -m disruptor_mp consume RING --name NAME [--count N] [--after A]...
                                        [--wait W] [--timeout-ms MS]
    python -m disruptor_mp bench [--dmp PATH] [--count N] [--rounds R]
                                 [--slot-size B] [--packed]

bench: the batch-buffer path against the per-event path, fed by `dmp
produce` in another process (see disruptor_mp/bench.py).
"""

from __future__ import annotations

import argparse
import sys

from . import DmpError, Pattern, Ring


def _info(a: argparse.Namespace) -> int:
    with Ring.open(a.ring, file=a.file) as ring:
        info = ring.info()
    print(f"ring            {a.ring}")
    for field in ("capacity", "slot_size", "max_consumers", "multi_producer", "type_id",
                  "wakeups", "packed", "cursor"):
        print(f"{field.replace('_', ' '):<15} {getattr(info, field)}")
    return 0


def _produce(a: argparse.Namespace) -> int:
    if a.create:
        ring, created = Ring.open_or_create(a.ring, capacity=a.capacity, slot_size=a.slot_size)
    else:
        ring, created = Ring.open(a.ring, timeout=10.0), False
    with ring:
        print(f"{'created' if created else 'opened'} ring {a.ring}", flush=True)
        info = ring.info()
        pattern = Pattern(info.slot_size)
        number = info.cursor + 1
        batch = max(1, min(a.batch, info.capacity))
        sent = 0
        with ring.producer(wait=a.wait) as producer:
            while sent < a.count:
                with producer.claim(min(batch, a.count - sent), timeout=10.0) as claim:
                    for seq in claim.sequences:
                        producer.write(seq, pattern.fill(number + sent))
                        sent += 1
    print(f"produced {sent} events", flush=True)
    return 0


def _consume(a: argparse.Namespace) -> int:
    timeout = a.timeout_ms / 1000.0
    with Ring.open(a.ring, timeout=timeout) as ring:
        pattern = Pattern(ring.slot_size)
        with ring.consumer(a.name, after=a.after, wait=a.wait) as consumer:
            print(f"ready {a.name}", flush=True)
            got = batches = 0
            expected = None
            while got < a.count:
                with consumer.wait(timeout, a.count - got) as batch:
                    for seq, view in zip(batch.sequences, batch):
                        i = pattern.check(view)
                        if expected is not None and i != expected:
                            raise ValueError(f"event {i} at sequence {seq}, expected {expected}")
                        expected = i + 1
                    got += len(batch)
                    batches += 1
    last = -1 if expected is None else expected - 1
    print(f"consumed {got} events in {batches} batches, last event {last}", flush=True)
    return 0


def _bench(a: argparse.Namespace) -> int:
    from . import bench

    bench.run(a.dmp, a.count, a.rounds, a.slot_size, a.capacity, a.packed, a.batch)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m disruptor_mp", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="print a ring's layout and cursor")
    info.add_argument("ring")
    info.add_argument("--file", action="store_true", help="RING is a file path")
    prod = sub.add_parser("produce", help="publish numbered, verifiable events")
    prod.add_argument("ring")
    prod.add_argument("--count", type=int, default=1_000_000)
    prod.add_argument("--batch", type=int, default=64)
    prod.add_argument("--wait", default="yield")
    prod.add_argument("--create", action="store_true")
    prod.add_argument("--capacity", type=int, default=0)
    prod.add_argument("--slot-size", type=int, default=0)
    cons = sub.add_parser("consume", help="consume and verify events")
    cons.add_argument("ring")
    cons.add_argument("--name", required=True)
    cons.add_argument("--count", type=int, default=1_000_000)
    cons.add_argument("--after", action="append", default=[])
    cons.add_argument("--wait", default="yield")
    cons.add_argument("--timeout-ms", type=int, default=10_000)
    b = sub.add_parser("bench", help="batch-buffer against per-event throughput, cross-process")
    b.add_argument("--dmp", help="the dmp tool (default: $DMP_TOOL, then PATH)")
    b.add_argument("--count", type=int, default=1_000_000)
    b.add_argument("--rounds", type=int, default=3)
    b.add_argument("--slot-size", type=int, default=64)
    b.add_argument("--capacity", type=int, default=4096)
    b.add_argument("--batch", type=int, default=64, help="events per claim of the producer")
    b.add_argument("--packed", action="store_true")
    a = p.parse_args(argv)
    try:
        return {"info": _info, "produce": _produce, "consume": _consume, "bench": _bench}[a.command](a)
    except (DmpError, ValueError, OSError, RuntimeError) as e:
        print(f"python -m disruptor_mp {a.command}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
