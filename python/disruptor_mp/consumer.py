"""The consumer side: Consumer (``dmp_consumer``) and Batch."""

from __future__ import annotations

import ctypes
import struct
from ctypes import byref, c_char_p, c_int64
from typing import Iterator, List, Optional, Sequence, Union

from . import _core, _lib, span
from ._core import Timeout, check, error, ns


def consumer_options(
    *,
    after: Sequence[str] = (),
    wait: Union[str, int] = "yield",
    sleep: Optional[float] = None,
    optional: bool = False,
    max_block: float = 0.0,
    join_at_oldest: bool = False,
):
    """(options struct, the dependency-name array it points to)."""
    o = _lib.dmp_consumer_options()
    _core.c.dmp_consumer_options_init(byref(o))
    if join_at_oldest:
        o.join_flags = _lib.DMP_JOIN_OLDEST
    if optional:
        o.optional = 1
        o.max_block_ns = ns(max_block)
    o.wait_strategy = _core.wait(wait)
    if sleep is not None:
        o.sleep_ns = max(1, ns(sleep))
    deps = (c_char_p * max(1, len(after)))(*[_core.name(a) for a in after])
    if after:
        o.dependencies = ctypes.cast(deps, ctypes.POINTER(c_char_p))
        o.dependency_count = len(after)
    return o, deps


class Consumer(_core.Handle):
    """A registered consumer (``dmp_consumer``). One thread at a time;
    closing it makes it leave the ring."""

    _close_fn = "dmp_consumer_close"
    _kind = "consumer"

    def __init__(self, handle, name: str, info):
        super().__init__(handle)
        self.name = name
        self.slot_size = info.slot_size
        self._array = ctypes.c_ubyte * info.slot_size
        # Times batches() found the wake-up fd readable (one per arming
        # that a publish took: far fewer than the events when they burst).
        self.wakeups = 0

    @property
    def next_sequence(self) -> int:
        """The next sequence to read (last committed + 1)."""
        nxt = c_int64()
        check(_core.c.dmp_consumer_next(self._handle(), byref(nxt)), "dmp_consumer_next")
        return nxt.value

    def wait_for(self, seq: int, timeout: Timeout = None) -> int:
        """Waits until ``seq`` is available; returns the highest available
        sequence. Raises DmpTimeout (or WouldBlock for timeout=0), Evicted."""
        available = c_int64()
        check(
            _core.c.dmp_wait_for(self._handle(), seq, ns(timeout), byref(available)),
            "dmp_wait_for",
        )
        return available.value

    def wait(self, timeout: Timeout = None, max_events: Optional[int] = None) -> "Batch":
        """Waits up to ``timeout`` seconds for the next event and returns
        every available one (at most ``max_events``) as a Batch; raises
        DmpTimeout when nothing arrived."""
        first = self.next_sequence
        last = self.wait_for(first, timeout)
        if max_events is not None:
            if max_events < 1:
                raise ValueError("max_events must be at least 1")
            last = min(last, first + max_events - 1)
        return Batch(self, first, last)

    def poll(self, timeout: Timeout = 0.0, max_events: Optional[int] = None) -> Optional["Batch"]:
        """Like wait(), but returns None when nothing arrived in time (by
        default it does not wait at all)."""
        try:
            return self.wait(timeout, max_events)
        except (_core.DmpTimeout, _core.WouldBlock):
            return None

    def slot(self, seq: int) -> memoryview:
        """A read-only view of available, uncommitted sequence ``seq``."""
        address = _core.c.dmp_consumer_slot(self._handle(), seq)
        if not address:
            raise error(_lib.DMP_STATUS_SEQUENCE_OUT_OF_RANGE, "dmp_consumer_slot")
        return memoryview(self._array.from_address(address)).cast("B").toreadonly()

    def event(self, seq: int) -> Optional[memoryview]:
        """Like slot(), but None for a sequence its producer abandoned
        (multi-producer rings; ``dmp_consumer_event``): skip it."""
        payload = ctypes.c_void_p()
        status = _core.c.dmp_consumer_event(self._handle(), seq, byref(payload))
        if status == _lib.DMP_STATUS_ABANDONED:
            return None
        check(status, "dmp_consumer_event")
        return memoryview(self._array.from_address(payload.value)).cast("B").toreadonly()

    def buffers(self, lo: int, hi: int) -> List[span.Run]:
        """Available, uncommitted [lo, hi] as at most two read-only runs
        (``dmp_consumer_span``; see disruptor_mp.span). Raises Abandoned
        when the range holds an abandoned sequence."""
        return span.runs(_core.c.dmp_consumer_span, self._handle(), lo, hi, "dmp_consumer_span", False)

    def read(self, seq: int) -> bytes:
        """A copy of slot ``seq``."""
        address = _core.c.dmp_consumer_slot(self._handle(), seq)
        if not address:
            raise error(_lib.DMP_STATUS_SEQUENCE_OUT_OF_RANGE, "dmp_consumer_slot")
        return ctypes.string_at(address, self.slot_size)

    def commit(self, seq: int) -> None:
        """Marks every sequence up to ``seq`` consumed (one release store).
        Raises Evicted when this optional consumer was evicted meanwhile."""
        check(_core.c.dmp_commit(self._handle(), seq), "dmp_commit")

    def receive(self, timeout: Timeout = None) -> bytes:
        """Consumes one event in one call (``dmp_consume_one``): waits up to
        ``timeout`` seconds (None = forever), returns a copy of its slot and
        commits it. Abandoned sequences are skipped. Raises DmpTimeout, or
        WouldBlock with timeout=0, when nothing arrived."""
        buf = ctypes.create_string_buffer(self.slot_size)
        check(
            _core.c.dmp_consume_one(self._handle(), buf, self.slot_size, ns(timeout), None),
            "dmp_consume_one",
        )
        return buf.raw

    def try_receive(self, timeout: Timeout = 0.0) -> Optional[bytes]:
        """Like receive(), but None when nothing arrived in time (by default
        it does not wait at all)."""
        try:
            return self.receive(timeout)
        except (_core.DmpTimeout, _core.WouldBlock):
            return None

    def wait_fd(self) -> int:
        """The wake-up fd for select/poll/asyncio (non-blocking,
        close-on-exec, owned by this consumer: do not close it). Readable
        after arm() returned True and events were published."""
        fd = ctypes.c_int32()
        check(_core.c.dmp_consumer_wait_fd(self._handle(), byref(fd)), "dmp_consumer_wait_fd")
        return fd.value

    def arm(self) -> bool:
        """Arms the wake-up fd: False when events are available now (read
        them, then arm again), True when armed (wait for wait_fd())."""
        status = _core.c.dmp_consumer_arm(self._handle())
        if status == _core.DMP_STATUS_WOULD_BLOCK:
            return True
        check(status, "dmp_consumer_arm")
        return False

    async def batches(self, max_batch: Optional[int] = None):
        """``async for batch in consumer.batches()``: yields each available
        batch as a list of event copies (committed before the next one),
        waiting on the wake-up fd with the running loop's add_reader when
        none is available; ``wakeups`` counts the times the fd was
        readable."""
        from ._asyncio import batches
        async for batch in batches(self, max_batch):
            yield batch

    def rejoin(self) -> int:
        """After Evicted: joins again at the current position; returns how
        many events were lost (0 when it was not evicted)."""
        lost = ctypes.c_uint64()
        check(_core.c.dmp_consumer_rejoin(self._handle(), byref(lost)), "dmp_consumer_rejoin")
        return lost.value

    @property
    def lost_on_join(self) -> int:
        """Events this name missed when it joined (0 for a new name, or one
        that resumed from its committed sequence)."""
        lost = ctypes.c_uint64()
        check(_core.c.dmp_consumer_lost_on_join(self._handle(), byref(lost)), "dmp_consumer_lost_on_join")
        return lost.value

    def events(self, count: Optional[int] = None, timeout: Timeout = None) -> Iterator[bytes]:
        """Yields a copy of each event, committing each batch once all its
        events were taken; stops after ``count`` events (None = never).
        Raises DmpTimeout when no event arrives for ``timeout`` seconds."""
        taken = 0
        while count is None or taken < count:
            with self.wait(timeout, None if count is None else count - taken) as batch:
                for seq in batch.sequences:
                    yield self.read(seq)
                taken += len(batch)


class Batch:
    """Available events [first, last] of a consumer. Iterating gives a
    read-only memoryview per event; ``buffers()`` the whole batch as at most
    two. As a context manager it commits when the block ends without an
    exception."""

    def __init__(self, consumer: Consumer, first: int, last: int):
        self.consumer = consumer
        self.first = first
        self.last = last
        self.committed = False

    def __len__(self) -> int:
        return self.last - self.first + 1

    @property
    def sequences(self) -> range:
        return range(self.first, self.last + 1)

    def __getitem__(self, i: int) -> memoryview:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self.consumer.slot(self.sequences[i])

    def __iter__(self) -> Iterator[memoryview]:
        for seq in self.sequences:
            yield self.consumer.slot(seq)

    def buffers(self) -> List[span.Run]:
        """The whole batch as at most two read-only runs, in sequence order
        (see disruptor_mp.span)."""
        return self.consumer.buffers(self.first, self.last)

    def iter_unpack(self, fmt: Union[str, struct.Struct]) -> Iterator[tuple]:
        """Every event unpacked with ``fmt`` (the leading bytes of each
        slot; padded to the stride): ``struct.iter_unpack`` over buffers()."""
        return span.iter_unpack(self.buffers(), fmt)

    def commit(self) -> None:
        self.consumer.commit(self.last)
        self.committed = True

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None and not self.committed:
            self.commit()
