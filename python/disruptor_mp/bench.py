"""``python -m disruptor_mp bench``: the Python consumer's throughput with
the batch buffer (``Batch.iter_unpack`` over ``Batch.buffers()``, and NumPy
over the same buffers when it is installed) against the per-event path (a
memoryview per event), in the same run, each fed across processes by
``dmp produce`` (the Rust producer). Every event's number is checked on
every path, so all of them do the same work; the ratios to the per-event
path are the result (absolute rates move with the machine)."""

from __future__ import annotations

import os
import shutil
import statistics
import struct
import subprocess
import time
from typing import Callable, Dict, List, Optional

from .consumer import Consumer
from .ring import Ring

#: The event number ``dmp produce`` writes in the first 8 bytes.
_NUMBER = struct.Struct("=q")


def _per_event(consumer: Consumer, expected: int, batch) -> int:
    unpack = _NUMBER.unpack_from
    for view in batch:
        if unpack(view)[0] != expected:
            raise ValueError(f"event {unpack(view)[0]}, expected {expected}")
        expected += 1
    return expected


def _batch_buffer(consumer: Consumer, expected: int, batch) -> int:
    for (n,) in batch.iter_unpack(_NUMBER):
        if n != expected:
            raise ValueError(f"event {n}, expected {expected}")
        expected += 1
    return expected


def _numpy_path():
    try:
        import numpy as np
    except ImportError:
        return None

    def numpy_buffer(consumer: Consumer, expected: int, batch) -> int:
        for run in batch.buffers():
            dtype = np.dtype({"names": ["n"], "formats": ["=i8"], "offsets": [0], "itemsize": run.stride})
            numbers = np.frombuffer(run.view, dtype=dtype)["n"]
            if numbers[0] != expected or numbers[-1] != expected + run.count - 1 or (
                run.count > 1 and not (np.diff(numbers) == 1).all()
            ):
                raise ValueError(f"events {numbers[0]}..{numbers[-1]}, expected from {expected}")
            expected += run.count
        return expected

    return numpy_buffer


def paths() -> Dict[str, Callable]:
    out = {"per-event": _per_event, "batch-buffer": _batch_buffer}
    numpy_buffer = _numpy_path()
    if numpy_buffer is not None:
        out["numpy"] = numpy_buffer
    return out


def find_dmp(given: Optional[str]) -> str:
    for candidate in (given, os.environ.get("DMP_TOOL"), shutil.which("dmp")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(
        "bench needs the dmp tool as its producer: pass --dmp PATH, set DMP_TOOL, or put dmp on PATH "
        "(scripts/install.sh installs PREFIX/bin/dmp)"
    )


def one_run(dmp: str, read: Callable, count: int, slot_size: int, capacity: int, packed: bool,
            batch: int, timeout: float) -> float:
    """Events per second of one consumer run over ``count`` events."""
    name = f"dmp-pybench-{os.getpid()}-{time.monotonic_ns()}"
    with Ring.create(name, capacity=capacity, slot_size=slot_size, packed=packed) as ring:
        try:
            with ring.consumer("python-bench") as consumer:
                producer = subprocess.Popen(
                    [dmp, "produce", name, "--count", str(count), "--batch", str(batch), "--first", "0"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                )
                try:
                    expected = 0
                    start = None
                    while expected < count:
                        with consumer.wait(timeout) as b:
                            if start is None:
                                start, first = time.perf_counter(), len(b)
                            expected = read(consumer, expected, b)
                    elapsed = time.perf_counter() - start
                finally:
                    _, err = producer.communicate(timeout=timeout)
                if producer.returncode != 0:
                    raise RuntimeError(f"dmp produce failed: {err}")
        finally:
            Ring.unlink(name)
    return (count - first) / elapsed if elapsed > 0 else float("inf")


def run(dmp: Optional[str], count: int, rounds: int, slot_size: int, capacity: int, packed: bool,
        batch: int, timeout: float = 30.0) -> Dict[str, List[float]]:
    """Rates per path, round by round (the paths alternate within a round,
    so every ratio compares runs minutes apart at most)."""
    tool = find_dmp(dmp)
    chosen = paths()
    layout = "packed" if packed else "stamped"
    print(f"python consumer, {count} events of {slot_size} bytes ({layout}, {capacity} slots) "
          f"from `dmp produce --batch {batch}` in another process, {rounds} round(s)", flush=True)
    rates: Dict[str, List[float]] = {p: [] for p in chosen}
    for r in range(rounds):
        for path, read in chosen.items():
            rates[path].append(one_run(tool, read, count, slot_size, capacity, packed, batch, timeout))
        base = rates["per-event"][-1]
        cells = [f"per-event {base / 1e6:.2f} M ev/s"] + [
            f"{p} {rates[p][-1] / 1e6:.2f} M ev/s ({rates[p][-1] / base:.1f}x)" for p in chosen if p != "per-event"
        ]
        print(f"round {r + 1}: " + ", ".join(cells), flush=True)
    for p in chosen:
        if p == "per-event":
            continue
        ratios = [a / b for a, b in zip(rates[p], rates["per-event"])]
        print(f"{p} / per-event: {statistics.median(ratios):.1f}x "
              f"(median of {rounds}, range {min(ratios):.1f}-{max(ratios):.1f}x)", flush=True)
    return rates
