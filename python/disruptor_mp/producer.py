"""The producer side: Producer (``dmp_producer``) and Claim."""

from __future__ import annotations

import ctypes
from ctypes import byref, c_char_p, c_int64
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Sequence, Union

from . import _core, _lib, span
from ._core import Timeout, check, error, ns, positive_ns
from ._lib import DMP_STATUS_WOULD_BLOCK


@dataclass(frozen=True)
class StallAlert:
    """What ``on_stall`` is told about a stalled required consumer."""

    name: str
    index: int
    pid: int
    sequence: int
    stalled_ns: int


def producer_options(
    *,
    wait: Union[str, int] = "yield",
    sleep: Optional[float] = None,
    consumer_dead_timeout: Optional[float] = None,
    progress_timeout: Optional[float] = None,
    stall_grace: Optional[float] = None,
    ready: int = 0,
    ready_names: Sequence[str] = (),
    ready_timeout: Optional[float] = None,
    on_stall: Optional[Callable[[StallAlert], None]] = None,
):
    """(options struct, what must stay alive with it: the names array and
    the callback)."""
    o = _lib.dmp_producer_options()
    _core.c.dmp_producer_options_init(byref(o))
    o.wait_strategy = _core.wait(wait)
    for field, value in (
        ("sleep_ns", positive_ns(sleep)),
        ("consumer_dead_timeout_ns", positive_ns(consumer_dead_timeout)),
        ("progress_timeout_ns", positive_ns(progress_timeout)),
        ("stall_grace_ns", positive_ns(stall_grace)),
        ("ready_timeout_ns", positive_ns(ready_timeout)),
    ):
        if value is not None:
            setattr(o, field, value)
    names = (c_char_p * max(1, len(ready_names)))(*[_core.name(n) for n in ready_names])
    o.ready_consumers = ready
    if ready_names:
        o.ready_names = ctypes.cast(names, ctypes.POINTER(c_char_p))
        o.ready_name_count = len(ready_names)
    callback = None
    if on_stall is not None:

        def trampoline(_user, alert):
            a = alert.contents
            on_stall(StallAlert(a.name.decode(errors="replace"), a.index, a.pid, a.sequence, a.stalled_ns))

        callback = _lib.dmp_stall_callback(trampoline)
        o.on_stall = callback
    return o, (names, callback)


class Producer(_core.Handle):
    """The ring's producer (``dmp_producer``). One thread at a time."""

    _close_fn = "dmp_producer_close"
    _kind = "producer"

    def __init__(self, handle, info, keep_alive=None):
        super().__init__(handle)
        self.capacity = info.capacity
        self.slot_size = info.slot_size
        self._array = ctypes.c_ubyte * info.slot_size
        # The on_stall callback must outlive every dmp_claim.
        self._keep_alive = keep_alive

    def claim(self, n: int = 1, timeout: Timeout = None) -> "Claim":
        """Claims ``n`` consecutive slots, waiting up to ``timeout`` seconds
        (None = forever) for room; raises DmpTimeout when the wait expires
        (DmpError CONSUMER_DEAD / CONSUMER_STALLED when a required consumer
        holds the ring back, see the liveness options)."""
        first = c_int64()
        check(_core.c.dmp_claim(self._handle(), n, ns(timeout), byref(first)), "dmp_claim")
        return Claim(self, first.value, n)

    def try_claim(self, n: int = 1) -> Optional["Claim"]:
        """Claims ``n`` slots if there is room now, else returns None."""
        first = c_int64()
        status = _core.c.dmp_try_claim(self._handle(), n, byref(first))
        if status == DMP_STATUS_WOULD_BLOCK:
            return None
        check(status, "dmp_try_claim")
        return Claim(self, first.value, n)

    def slot(self, seq: int) -> memoryview:
        """A writable view of claimed, unpublished sequence ``seq``."""
        address = _core.c.dmp_producer_slot(self._handle(), seq)
        if not address:
            raise error(_lib.DMP_STATUS_SEQUENCE_OUT_OF_RANGE, "dmp_producer_slot")
        return memoryview(self._array.from_address(address)).cast("B")

    def buffers(self, lo: int, hi: int) -> List[span.Run]:
        """Claimed, unpublished [lo, hi] as at most two writable runs
        (``dmp_producer_span``; see disruptor_mp.span): write each event's
        ``slot_size`` bytes at ``k * stride`` (``struct.pack_into``, a NumPy
        structured array), never the bytes between them."""
        return span.runs(_core.c.dmp_producer_span, self._handle(), lo, hi, "dmp_producer_span", True)

    def write(self, seq: int, data: bytes) -> None:
        """Copies ``data`` (at most slot_size bytes) into slot ``seq``."""
        if len(data) > self.slot_size:
            raise ValueError(f"{len(data)} bytes do not fit a {self.slot_size}-byte slot")
        address = _core.c.dmp_producer_slot(self._handle(), seq)
        if not address:
            raise error(_lib.DMP_STATUS_SEQUENCE_OUT_OF_RANGE, "dmp_producer_slot")
        ctypes.memmove(address, bytes(data), len(data))

    def publish(self, lo: int, hi: Optional[int] = None) -> None:
        """Publishes [lo, hi] (hi defaults to lo)."""
        check(_core.c.dmp_publish(self._handle(), lo, lo if hi is None else hi), "dmp_publish")

    def unclaim(self, first: int) -> None:
        """Gives back the claimed, unpublished sequences from ``first`` on
        (``dmp_unclaim``): a single-producer ring reuses them for the next
        claim, a multi-producer ring abandons them. Outside the unpublished
        claim it does nothing."""
        check(_core.c.dmp_unclaim(self._handle(), first), "dmp_unclaim")

    def send(self, data: bytes, timeout: Timeout = None) -> int:
        """Publishes one event holding ``data`` (at most slot_size bytes) in
        one call (``dmp_publish_one``), waiting up to ``timeout`` seconds
        (None = forever) for room; returns its sequence. Raises DmpTimeout,
        or WouldBlock with timeout=0, when the ring stays full."""
        data = bytes(data)
        if len(data) > self.slot_size:
            raise ValueError(f"{len(data)} bytes do not fit a {self.slot_size}-byte slot")
        seq = c_int64()
        check(
            _core.c.dmp_publish_one(self._handle(), data, len(data), ns(timeout), byref(seq)),
            "dmp_publish_one",
        )
        return seq.value

    def try_send(self, data: bytes) -> Optional[int]:
        """Publishes one event if there is room now: its sequence, else None."""
        try:
            return self.send(data, 0.0)
        except _core.WouldBlock:
            return None


class Claim:
    """Claimed slots [first, last] of a producer. Iterating gives a writable
    memoryview per slot; ``buffers()`` the whole claim as at most two. As a
    context manager it publishes when the block ends without an exception,
    and gives the claim back (``unclaim``) when it ends with one."""

    def __init__(self, producer: Producer, first: int, n: int):
        self.producer = producer
        self.first = first
        self.last = first + n - 1
        self.published = False

    def __len__(self) -> int:
        return self.last - self.first + 1

    @property
    def sequences(self) -> range:
        return range(self.first, self.last + 1)

    def __getitem__(self, i: int) -> memoryview:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self.producer.slot(self.sequences[i])

    def __iter__(self) -> Iterator[memoryview]:
        for seq in self.sequences:
            yield self.producer.slot(seq)

    def buffers(self) -> List[span.Run]:
        """The claim as at most two writable runs (see Producer.buffers)."""
        return self.producer.buffers(self.first, self.last)

    def publish(self) -> None:
        self.producer.publish(self.first, self.last)
        self.published = True

    def unclaim(self) -> None:
        """Gives the whole claim back (see Producer.unclaim)."""
        self.producer.unclaim(self.first)
        self.published = True  # nothing left to publish

    def __enter__(self) -> "Claim":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if self.published:
            return
        if exc_type is None:
            self.publish()
        elif not self.producer.closed:
            try:
                self.unclaim()
            except _core.DmpError:
                pass  # the block's own exception is the one to see
