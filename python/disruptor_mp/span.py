"""A whole batch as buffers: ``dmp_producer_span`` / ``dmp_consumer_span``.

The slots of a range of sequences lie in at most two contiguous runs (two
when the range wraps around the end of the ring), ``stride`` bytes from one
slot to the next. Each run is one memoryview of ``count * stride`` bytes,
so ``struct.iter_unpack`` and ``numpy.frombuffer`` read a whole batch
without a call per event. The payload of the k-th event of a run is
``view[k * stride : k * stride + slot_size]``; the bytes after it, up to
the stride, belong to the ring (padding, and in a stamped ring the
publication stamp): read them as padding, never write them.
"""

from __future__ import annotations

import ctypes
import struct
from dataclasses import dataclass
from typing import Iterator, List

from . import _core, _lib


@dataclass(frozen=True)
class Run:
    """One contiguous run of slots: sequences ``first`` to
    ``first + count - 1``, the k-th at ``view[k * stride:]``."""

    view: memoryview
    first: int
    count: int
    stride: int


def runs(fn, handle, lo: int, hi: int, call: str, writable: bool) -> List[Run]:
    """The runs of [lo, hi] from ``fn`` (one of the two span calls)."""
    s = _lib.dmp_span()
    s.struct_size = ctypes.sizeof(s)
    _core.check(fn(handle, lo, hi, ctypes.byref(s)), call)
    out = []
    seq = lo
    for address, count in ((s.first, s.first_count), (s.second, s.second_count)):
        if not count:
            continue
        array = (ctypes.c_ubyte * (count * s.stride)).from_address(address)
        view = memoryview(array).cast("B")
        out.append(Run(view if writable else view.toreadonly(), seq, count, s.stride))
        seq += count
    return out


def padded(fmt: "str | struct.Struct", stride: int) -> struct.Struct:
    """``fmt`` with pad bytes up to ``stride``, so that one unpack reads one
    slot. ``fmt`` must fit a slot and carry an explicit byte order (or
    ``@`` alignment) if it needs one."""
    s = fmt if isinstance(fmt, struct.Struct) else struct.Struct(fmt)
    if s.size > stride:
        raise ValueError(f"format {s.format!r} is {s.size} bytes, more than the {stride}-byte stride")
    if s.size == stride:
        return s
    f = s.format if isinstance(s.format, str) else s.format.decode()
    order = f[0] if f[:1] in "@=<>!" else ""
    return struct.Struct(f"{order}{f[len(order):]}{stride - s.size}x")


def iter_unpack(parts: List[Run], fmt: "str | struct.Struct") -> Iterator[tuple]:
    """Every slot of ``parts`` unpacked with ``fmt`` (padded to the stride)."""
    for run in parts:
        yield from padded(fmt, run.stride).iter_unpack(run.view)
