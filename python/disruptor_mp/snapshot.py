"""Snapshots (``dmp_snapshot_*``): a ring's counters and tables read at one
moment, from any process that opened the ring, without slowing it.

The record types are made from the C structs' fields (less ``struct_size``
and the reserved ones), so they follow the header: ``RingStats`` from
``dmp_ring_stats``, ``ConsumerStatus``, ``ProducerStatus``, ``Counter``.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, make_dataclass
from typing import List

from . import _core, _lib


def _record(struct, name: str, doc: str):
    fields = [f for f, _ in struct._fields_ if f != "struct_size" and not f.startswith("reserved")]
    cls = make_dataclass(name, fields, frozen=True)
    cls.__doc__ = doc
    cls.__module__ = __name__

    def convert(c):
        values = {}
        for f in fields:
            v = getattr(c, f)
            values[f] = v.decode(errors="replace") if isinstance(v, bytes) else v
        return cls(**values)

    return cls, convert


RingStats, _stats = _record(_lib.dmp_ring_stats, "RingStats", "Ring-wide figures (dmp_ring_stats).")
ConsumerStatus, _consumer = _record(
    _lib.dmp_consumer_status, "ConsumerStatus", "A consumer-table entry (dmp_consumer_status)."
)
ProducerStatus, _producer = _record(
    _lib.dmp_producer_status, "ProducerStatus", "A producer-table entry (dmp_producer_status)."
)
Counter, _counter = _record(_lib.dmp_counter, "Counter", "A counter with its label (dmp_counter).")


@dataclass(frozen=True)
class Snapshot:
    """What ``Ring.snapshot()`` read: ``stats``, then every consumer,
    producer and counter."""

    stats: RingStats
    consumers: List[ConsumerStatus]
    producers: List[ProducerStatus]
    counters: List[Counter]


def _sized(struct):
    s = struct()
    s.struct_size = ctypes.sizeof(s)
    return s


def take(ring_handle) -> Snapshot:
    """Takes, reads and frees one snapshot."""
    c = _core.c
    snap = ctypes.POINTER(_lib.dmp_snapshot)()
    _core.check(c.dmp_snapshot_take(ring_handle, ctypes.byref(snap)), "dmp_snapshot_take")
    try:
        st = _sized(_lib.dmp_ring_stats)
        _core.check(c.dmp_snapshot_stats(snap, ctypes.byref(st)), "dmp_snapshot_stats")

        def entries(count, fn, struct, convert, call):
            out = []
            for i in range(count):
                e = _sized(struct)
                _core.check(fn(snap, i, ctypes.byref(e)), call)
                out.append(convert(e))
            return out

        return Snapshot(
            stats=_stats(st),
            consumers=entries(
                st.consumer_count, c.dmp_snapshot_consumer, _lib.dmp_consumer_status, _consumer,
                "dmp_snapshot_consumer",
            ),
            producers=entries(
                st.producer_count, c.dmp_snapshot_producer, _lib.dmp_producer_status, _producer,
                "dmp_snapshot_producer",
            ),
            counters=entries(
                st.counter_count, c.dmp_snapshot_counter, _lib.dmp_counter, _counter, "dmp_snapshot_counter"
            ),
        )
    finally:
        c.dmp_snapshot_free(snap)
