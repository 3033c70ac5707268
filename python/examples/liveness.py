"""Liveness from Python: processes that die, stall and come back on one ring.

    python examples/liveness.py [--ring NAME] [--count N]

runs four processes and prints what each does:

- a producer that waits for its consumers (the readiness gate: it attaches
  only once "journal" and "dashboard" are active, so none misses an event),
  then publishes N numbered events, a whole claim at a time through
  Claim.buffers();
- "journal", a required consumer: the producer waits for it. It commits up
  to event 299 and hangs; the example kills it (SIGKILL) and starts it
  again, and the new process resumes from its commit (event 300, nothing
  lost) while the producer waited for it;
- "dashboard", an optional consumer: it stops reading after its first
  batch, the producer evicts it rather than wait (max_block), its commit
  raises Evicted, it rejoins (rejoin() says how many events it lost) and
  reads on.

Each role is also a command (`producer`, `journal`, `dashboard`) of this
script. tests/test_examples.py runs it.
"""

from __future__ import annotations

import argparse
import os
import signal
import struct
import subprocess
import sys
import time

import disruptor_mp as dmp

CAPACITY = 64
STOP_AT = 300  # the first journal commits up to STOP_AT - 1, then hangs
NUMBER = struct.Struct("=q")  # the event number, first 8 bytes of a slot
DEADLINE = 60.0  # every wait of the example is bounded by this


def producer(a) -> None:
    with dmp.Ring.open(a.ring, timeout=DEADLINE) as ring:
        print("producer: waiting for journal and dashboard", flush=True)
        with ring.producer(ready_names=["journal", "dashboard"], ready_timeout=DEADLINE,
                           consumer_dead_timeout=DEADLINE) as p:
            print("producer: both consumers active, publishing", flush=True)
            sent = 0
            while sent < a.count:
                with p.claim(min(8, a.count - sent), timeout=DEADLINE) as claim:
                    for run in claim.buffers():
                        for k in range(run.count):
                            NUMBER.pack_into(run.view, k * run.stride, run.first + k)
                sent += len(claim)
    print(f"producer: published {sent}", flush=True)


def journal(a) -> None:
    """Required: reads every event in order; with --stop-at, commits up to
    it and hangs until killed."""
    with dmp.Ring.open(a.ring, timeout=DEADLINE) as ring, ring.consumer("journal") as c:
        start = c.next_sequence
        print(f"journal: resumed at {start} (lost {c.lost_on_join})", flush=True)
        end = a.stop_at if a.stop_at else a.count
        while c.next_sequence < end:
            with c.wait(DEADLINE, end - c.next_sequence) as batch:
                for seq, (n,) in zip(batch.sequences, batch.iter_unpack(NUMBER)):
                    if n != seq:
                        raise SystemExit(f"journal: event {n} at sequence {seq}")
        if a.stop_at:
            print(f"journal: committed up to {a.stop_at - 1}, now hanging", flush=True)
            time.sleep(DEADLINE)
            raise SystemExit("journal: was not killed")
        print(f"journal: read {start}..{a.count - 1} in order", flush=True)


def dashboard(a) -> None:
    """Optional: pauses after its first batch until the producer has lapped
    it (so it must have been evicted), then rejoins and reads on."""
    with dmp.Ring.open(a.ring, timeout=DEADLINE) as ring, \
            ring.consumer("dashboard", optional=True, max_block=0.05) as c:
        print("dashboard: joined", flush=True)
        batch = c.wait(DEADLINE)
        deadline = time.monotonic() + DEADLINE
        while ring.cursor < batch.last + ring.capacity:
            if time.monotonic() > deadline:
                raise SystemExit("dashboard: the producer never lapped it")
            time.sleep(0.01)
        evictions = lost = read = 0
        try:
            batch.commit()
            raise SystemExit("dashboard: lapped, yet not evicted")
        except dmp.Evicted:
            evictions, lost = 1, c.rejoin()
            print(f"dashboard: evicted, lost {lost} events, rejoined at {c.next_sequence}", flush=True)
        while c.next_sequence < a.count:
            if time.monotonic() > deadline:
                raise SystemExit("dashboard: the last event never came")
            try:
                with c.wait(0.1) as batch:
                    read += sum(1 for _ in batch.iter_unpack(NUMBER))
            except dmp.DmpTimeout:
                continue
            except dmp.Evicted:
                evictions, lost = evictions + 1, lost + c.rejoin()
    print(f"dashboard: done, evicted {evictions} time(s), lost {lost} events, read {read} after rejoining",
          flush=True)


def role(name: str, a, *extra) -> subprocess.Popen:
    args = [sys.executable, "-u", os.path.abspath(__file__), name, "--ring", a.ring, "--count", str(a.count)]
    return subprocess.Popen(args + [str(x) for x in extra], stdout=subprocess.PIPE, text=True)


def line(proc: subprocess.Popen, prefix: str) -> str:
    """Echoes the process's lines until one starts with ``prefix`` (the
    pipe's end, when the process exits, ends the wait too)."""
    for text in proc.stdout:
        print(text, end="", flush=True)
        if text.startswith(prefix):
            return text
    raise SystemExit(f"liveness: a process ended without printing {prefix!r}")


def finish(proc: subprocess.Popen) -> None:
    for text in proc.stdout:
        print(text, end="", flush=True)
    if proc.wait(timeout=DEADLINE) != 0:
        raise SystemExit(f"liveness: {proc.args[3]} failed")


def run(a) -> None:
    procs = []
    with dmp.Ring.create(a.ring, capacity=CAPACITY, slot_size=64):
        try:
            p = role("producer", a)
            procs.append(p)
            line(p, "producer: waiting")
            first = role("journal", a, "--stop-at", STOP_AT)
            procs.append(first)
            d = role("dashboard", a)
            procs.append(d)
            line(first, "journal: committed up to")
            line(d, "dashboard: evicted")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=DEADLINE)
            print(f"liveness: killed journal (pid {first.pid}), starting it again", flush=True)
            second = role("journal", a)
            procs.append(second)
            for proc in (second, p, d):
                finish(proc)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=DEADLINE)
            dmp.Ring.unlink(a.ring)
    print("liveness: ok", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("role", nargs="?", default="run", choices=["run", "producer", "journal", "dashboard"])
    ap.add_argument("--ring", default=f"dmp-liveness-py-{os.getpid()}")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--stop-at", type=int, default=0)
    a = ap.parse_args()
    {"run": run, "producer": producer, "journal": journal, "dashboard": dashboard}[a.role](a)


if __name__ == "__main__":
    main()
