"""An asyncio consumer: ``async for batch in consumer.batches()``.

    python examples/asyncio_consumer.py RING --name NAME --count N

Registers NAME on RING, prints "ready NAME", then reads N events in the
event loop (the consumer's wake-up fd with loop.add_reader: no thread is
blocked and the process uses no CPU while the ring is idle), checks every
event (the 8-byte little-endian event number, then byte k equal to
(number * 31 + k) mod 256, the pattern of `dmp produce`) and that the
numbers follow each other, and prints
"consumed N events in B batches, W wake-ups, last event L" (W: the
times the wake-up fd was readable). A heartbeat task runs in
the same loop, to show that the loop stays free. tests/wakefd.rs runs it
against `dmp produce`.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import sys

import disruptor_mp as dmp


def intact(number: int, event: bytes) -> bool:
    """Whether byte k (from 8 on) is (number * 31 + k) mod 256."""
    return all(b == (number * 31 + k) & 0xFF for k, b in enumerate(event[8:], 8))


async def consume(ring_name: str, name: str, count: int) -> int:
    ring = dmp.Ring.open(ring_name, timeout=10.0)
    consumer = ring.consumer(name)
    print(f"ready {name}", flush=True)
    beats = 0

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            await asyncio.sleep(0.1)
            beats += 1

    beat = asyncio.create_task(heartbeat())
    got, batches, expected = 0, 0, None
    async for batch in consumer.batches():
        batches += 1
        for event in batch:
            (number,) = struct.unpack_from("<Q", event)
            if not intact(number, event):
                print(f"event {number} damaged", file=sys.stderr)
                return 1
            if expected is not None and number != expected:
                print(f"event {number}, expected {expected}", file=sys.stderr)
                return 1
            expected = number + 1
            got += 1
        if got >= count:
            break
    beat.cancel()
    print(
        f"consumed {got} events in {batches} batches, {consumer.wakeups} wake-ups, last event {expected - 1}",
        flush=True,
    )
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("ring")
    p.add_argument("--name", required=True)
    p.add_argument("--count", type=int, default=1000)
    a = p.parse_args()
    return asyncio.run(consume(a.ring, a.name, a.count))


if __name__ == "__main__":
    sys.exit(main())
