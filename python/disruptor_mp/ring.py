"""The Pythonic face of the C ABI: Ring, Producer, Consumer, Claim, Batch."""

from __future__ import annotations

import ctypes
import os
from ctypes import byref, c_bool, c_char_p, c_int64
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence, Union

from . import _lib
from ._lib import (
    DMP_BACKING_FILE,
    DMP_BACKING_SHM,
    DMP_LAYOUT_PACKED,
    DMP_LAYOUT_STAMPED,
    DMP_PRODUCER_MULTI,
    DMP_PRODUCER_SINGLE,
    DMP_STATUS_OK,
    DMP_STATUS_TIMEOUT,
    DMP_STATUS_WOULD_BLOCK,
    DMP_TIMEOUT_INFINITE,
    DMP_WAKEUPS_OFF,
    DMP_WAKEUPS_ON,
)

_c = _lib.load()

#: Status code -> name without the DMP_STATUS_ prefix ("TIMEOUT", ...).
STATUS_NAMES = {
    value: name[len("DMP_STATUS_") :]
    for name, value in vars(_lib).items()
    if name.startswith("DMP_STATUS_")
}

_WAITS = {
    "spin": _lib.DMP_WAIT_BUSY_SPIN,
    "busy_spin": _lib.DMP_WAIT_BUSY_SPIN,
    "yield": _lib.DMP_WAIT_YIELD,
    "sleep": _lib.DMP_WAIT_SLEEP,
    "block": _lib.DMP_WAIT_BLOCKING,
    "blocking": _lib.DMP_WAIT_BLOCKING,
}

Name = Union[str, bytes, "os.PathLike[str]"]
Timeout = Optional[float]


class DmpError(Exception):
    """A failed call: ``status`` (a DMP_STATUS_* code), ``status_name``
    (e.g. ``"NOT_FOUND"``) and ``message`` (``dmp_last_error_message()``)."""

    def __init__(self, status: int, text: str, message: str = ""):
        super().__init__(text)
        self.status = status
        self.status_name = STATUS_NAMES.get(status, str(status))
        self.message = message


class DmpTimeout(DmpError, TimeoutError):
    """A bounded wait expired (DMP_STATUS_TIMEOUT)."""


class WouldBlock(DmpError, BlockingIOError):
    """A call that must not wait could not complete (DMP_STATUS_WOULD_BLOCK)."""


class Evicted(DmpError):
    """This optional consumer was evicted (DMP_STATUS_EVICTED): a batch read
    since its last commit is void; ``Consumer.rejoin()`` goes on."""


def library_version() -> str:
    """The version of the loaded libdisruptor_mp, e.g. ``"0.1.0"``."""
    return _c.dmp_version().decode()


def status_str(status: int) -> str:
    """The library's description of a status code."""
    return _c.dmp_status_str(status).decode()


def _error(status: int, call: str) -> DmpError:
    message = (_c.dmp_last_error_message() or b"").decode(errors="replace")
    text = f"{call}: {status_str(status)}"
    if message:
        text += f": {message}"
    cls = {
        DMP_STATUS_TIMEOUT: DmpTimeout,
        DMP_STATUS_WOULD_BLOCK: WouldBlock,
        _lib.DMP_STATUS_EVICTED: Evicted,
    }.get(status, DmpError)
    return cls(status, text, message)


def _check(status: int, call: str) -> None:
    if status != DMP_STATUS_OK:
        raise _error(status, call)


def _ns(timeout: Timeout) -> int:
    """Seconds (None = forever) to the nanoseconds the C API takes."""
    if timeout is None:
        return DMP_TIMEOUT_INFINITE
    return max(0, min(int(timeout * 1e9), DMP_TIMEOUT_INFINITE - 1))


def _name(name: Name) -> bytes:
    if isinstance(name, bytes):
        return name
    return os.fsencode(name)


def _wait(wait: Union[str, int]) -> int:
    if isinstance(wait, int):
        return wait
    try:
        return _WAITS[wait]
    except KeyError:
        raise ValueError(f"wait strategy {wait!r}: expected one of {sorted(_WAITS)}") from None


def _ring_options(
    *,
    file: bool = False,
    capacity: int = 0,
    slot_size: int = 0,
    max_consumers: int = 0,
    multi_producer: Optional[bool] = None,
    mode: int = 0,
    type_id: int = 0,
    wakeups: Optional[bool] = None,
    packed: Optional[bool] = None,
    timeout: Timeout = 0.0,
) -> _lib.dmp_ring_options:
    o = _lib.dmp_ring_options()
    _c.dmp_ring_options_init(byref(o))
    o.backing = DMP_BACKING_FILE if file else DMP_BACKING_SHM
    o.capacity = capacity
    o.slot_size = slot_size
    o.max_consumers = max_consumers
    if multi_producer is not None:
        o.producer_mode = DMP_PRODUCER_MULTI if multi_producer else DMP_PRODUCER_SINGLE
    o.mode = mode
    o.type_id = type_id
    if wakeups is not None:
        o.wakeups = DMP_WAKEUPS_ON if wakeups else DMP_WAKEUPS_OFF
    if packed is not None:
        o.layout = DMP_LAYOUT_PACKED if packed else DMP_LAYOUT_STAMPED
    o.timeout_ns = _ns(timeout)
    return o


@dataclass(frozen=True)
class RingInfo:
    """What ``dmp_ring_get_info`` reports."""

    capacity: int
    slot_size: int
    max_consumers: int
    multi_producer: bool
    type_id: int
    wakeups: bool
    packed: bool
    cursor: int


class _Handle:
    """A C handle closed exactly once: by close(), the with block or GC."""

    _close_fn = ""
    _kind = "handle"

    def __init__(self, handle):
        self._h = handle

    @property
    def closed(self) -> bool:
        return self._h is None

    def _handle(self):
        if self._h is None:
            raise DmpError(_lib.DMP_STATUS_INVALID_HANDLE, f"the {self._kind} is closed")
        return self._h

    def close(self) -> None:
        """Closes the handle (a second close does nothing)."""
        h, self._h = self._h, None
        if h is not None:
            _check(getattr(_c, self._close_fn)(h), self._close_fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h is not None and _c is not None:
            try:
                getattr(_c, self._close_fn)(h)
            except Exception:  # interpreter shutdown
                pass


class Ring(_Handle):
    """An open ring (``dmp_ring``). Use as a context manager, or close().

    Producers and consumers opened from it stay usable after it is closed.
    """

    _close_fn = "dmp_ring_close"
    _kind = "ring"

    def __init__(self, handle, name: Name):
        super().__init__(handle)
        self.name = name

    @classmethod
    def create(cls, name: Name, **options) -> "Ring":
        """Creates a ring; raises DmpError (status ALREADY_EXISTS, ...).

        Options (0 / None = the library's default): ``capacity`` (slots, a
        power of two; 4096), ``slot_size`` (bytes; 64), ``max_consumers``
        (16), ``multi_producer``, ``mode`` (permissions; 0o600),
        ``type_id``, ``wakeups`` (True), ``packed`` (False), ``file`` (NAME
        is a file path instead of a shared-memory name).
        """
        h = ctypes.POINTER(_lib.dmp_ring)()
        o = _ring_options(**options)
        _check(_c.dmp_ring_create(_name(name), byref(o), byref(h)), "dmp_ring_create")
        return cls(h, name)

    @classmethod
    def open(cls, name: Name, *, timeout: Timeout = 0.0, **checks) -> "Ring":
        """Opens an existing ring, waiting up to ``timeout`` seconds for it
        to appear. Layout options given (as for create) are checked against
        the ring (DmpError LAYOUT_MISMATCH / TYPE_MISMATCH)."""
        h = ctypes.POINTER(_lib.dmp_ring)()
        o = _ring_options(timeout=timeout, **checks)
        _check(_c.dmp_ring_open(_name(name), byref(o), byref(h)), "dmp_ring_open")
        return cls(h, name)

    @classmethod
    def open_or_create(cls, name: Name, **options) -> "tuple[Ring, bool]":
        """Opens the ring or creates it; returns (ring, created)."""
        h = ctypes.POINTER(_lib.dmp_ring)()
        created = c_bool(False)
        o = _ring_options(**options)
        _check(
            _c.dmp_ring_open_or_create(_name(name), byref(o), byref(h), byref(created)),
            "dmp_ring_open_or_create",
        )
        return cls(h, name), bool(created.value)

    @staticmethod
    def unlink(name: Name, *, file: bool = False) -> None:
        """Removes a ring's name; processes that have it open keep working."""
        backing = DMP_BACKING_FILE if file else DMP_BACKING_SHM
        _check(_c.dmp_ring_unlink(_name(name), backing), "dmp_ring_unlink")

    def info(self) -> RingInfo:
        i = _lib.dmp_ring_info()
        i.struct_size = ctypes.sizeof(i)
        _check(_c.dmp_ring_get_info(self._handle(), byref(i)), "dmp_ring_get_info")
        return RingInfo(
            capacity=i.capacity,
            slot_size=i.slot_size,
            max_consumers=i.max_consumers,
            multi_producer=i.producer_mode == DMP_PRODUCER_MULTI,
            type_id=i.type_id,
            wakeups=bool(i.wakeups),
            packed=i.layout == DMP_LAYOUT_PACKED,
            cursor=i.cursor,
        )

    @property
    def capacity(self) -> int:
        return self.info().capacity

    @property
    def slot_size(self) -> int:
        return self.info().slot_size

    @property
    def cursor(self) -> int:
        """The last published sequence (-1 before the first publish)."""
        return self.info().cursor

    def producer(
        self,
        *,
        wait: Union[str, int] = "yield",
        sleep: Optional[float] = None,
        consumer_dead_timeout: Optional[float] = None,
        progress_timeout: Optional[float] = None,
        stall_grace: Optional[float] = None,
        ready: int = 0,
        ready_names: Sequence[str] = (),
        ready_timeout: Optional[float] = None,
    ) -> "Producer":
        """Attaches the ring's producer. ``wait``: "spin", "yield", "sleep"
        (``sleep`` seconds between polls) or "block".

        Liveness (seconds; None = the library's default): a dead required
        consumer holding the producer back fails claims after
        ``consumer_dead_timeout``; a live one without progress for
        ``progress_timeout`` is counted as stalled and fails claims
        ``stall_grace`` later. ``ready`` / ``ready_names``: attaching waits
        (at most ``ready_timeout``) until that many consumers, and the named
        ones, are active."""
        o = _lib.dmp_producer_options()
        _c.dmp_producer_options_init(byref(o))
        o.wait_strategy = _wait(wait)
        if sleep is not None:
            o.sleep_ns = _ns(sleep)
        if consumer_dead_timeout is not None:
            o.consumer_dead_timeout_ns = max(1, _ns(consumer_dead_timeout))
        if progress_timeout is not None:
            o.progress_timeout_ns = max(1, _ns(progress_timeout))
        if stall_grace is not None:
            o.stall_grace_ns = max(1, _ns(stall_grace))
        names = (c_char_p * max(1, len(ready_names)))(*[_name(n) for n in ready_names])
        o.ready_consumers = ready
        if ready_names:
            o.ready_names = ctypes.cast(names, ctypes.POINTER(c_char_p))
            o.ready_name_count = len(ready_names)
        if ready_timeout is not None:
            o.ready_timeout_ns = max(1, _ns(ready_timeout))
        h = ctypes.POINTER(_lib.dmp_producer)()
        _check(_c.dmp_producer_open(self._handle(), byref(o), byref(h)), "dmp_producer_open")
        return Producer(h, self.info())

    def consumer(
        self,
        name: str,
        *,
        after: Sequence[str] = (),
        wait: Union[str, int] = "yield",
        sleep: Optional[float] = None,
        optional: bool = False,
        max_block: float = 0.0,
    ) -> "Consumer":
        """Registers consumer ``name``, which reads an event only after
        every consumer named in ``after`` has committed it. An ``optional``
        consumer is evicted rather than waited for longer than
        ``max_block`` seconds (see Evicted, Consumer.rejoin)."""
        o = _lib.dmp_consumer_options()
        _c.dmp_consumer_options_init(byref(o))
        if optional:
            o.optional = 1
            o.max_block_ns = _ns(max_block)
        o.wait_strategy = _wait(wait)
        if sleep is not None:
            o.sleep_ns = _ns(sleep)
        deps = (c_char_p * max(1, len(after)))(*[_name(a) for a in after])
        if after:
            o.dependencies = ctypes.cast(deps, ctypes.POINTER(c_char_p))
            o.dependency_count = len(after)
        h = ctypes.POINTER(_lib.dmp_consumer)()
        _check(
            _c.dmp_consumer_open(self._handle(), _name(name), byref(o), byref(h)),
            "dmp_consumer_open",
        )
        return Consumer(h, name, self.info())

    def __repr__(self) -> str:
        return f"<disruptor_mp.Ring {self.name!r}{' closed' if self.closed else ''}>"


class _Slots:
    """Zero-copy views of slots: ``slot_size`` bytes at the address the C
    API returns. Valid until the slot is published / committed and while
    the handle is open; copy (``bytes(view)``) what must outlive that."""

    def __init__(self, slot_size: int):
        self.slot_size = slot_size
        self._array = ctypes.c_ubyte * slot_size

    def view(self, address: Optional[int], call: str, writable: bool) -> memoryview:
        if not address:
            raise _error(_lib.DMP_STATUS_SEQUENCE_OUT_OF_RANGE, call)
        view = memoryview(self._array.from_address(address)).cast("B")
        return view if writable else view.toreadonly()


class Producer(_Handle):
    """The ring's producer (``dmp_producer``). One thread at a time."""

    _close_fn = "dmp_producer_close"
    _kind = "producer"

    def __init__(self, handle, info: RingInfo):
        super().__init__(handle)
        self.capacity = info.capacity
        self.slot_size = info.slot_size
        self._slots = _Slots(info.slot_size)

    def claim(self, n: int = 1, timeout: Timeout = None) -> "Claim":
        """Claims ``n`` consecutive slots, waiting up to ``timeout`` seconds
        (None = forever) for room; raises DmpTimeout when the wait expires."""
        first = c_int64()
        _check(_c.dmp_claim(self._handle(), n, _ns(timeout), byref(first)), "dmp_claim")
        return Claim(self, first.value, n)

    def try_claim(self, n: int = 1) -> Optional["Claim"]:
        """Claims ``n`` slots if there is room now, else returns None."""
        first = c_int64()
        status = _c.dmp_try_claim(self._handle(), n, byref(first))
        if status == DMP_STATUS_WOULD_BLOCK:
            return None
        _check(status, "dmp_try_claim")
        return Claim(self, first.value, n)

    def slot(self, seq: int) -> memoryview:
        """A writable view of claimed, unpublished sequence ``seq``."""
        return self._slots.view(_c.dmp_producer_slot(self._handle(), seq), "dmp_producer_slot", True)

    def write(self, seq: int, data: bytes) -> None:
        """Copies ``data`` (at most slot_size bytes) into slot ``seq``."""
        if len(data) > self.slot_size:
            raise ValueError(f"{len(data)} bytes do not fit a {self.slot_size}-byte slot")
        address = _c.dmp_producer_slot(self._handle(), seq)
        if not address:
            raise _error(_lib.DMP_STATUS_SEQUENCE_OUT_OF_RANGE, "dmp_producer_slot")
        ctypes.memmove(address, bytes(data), len(data))

    def publish(self, lo: int, hi: Optional[int] = None) -> None:
        """Publishes [lo, hi] (hi defaults to lo)."""
        _check(_c.dmp_publish(self._handle(), lo, lo if hi is None else hi), "dmp_publish")

    def send(self, data: bytes, timeout: Timeout = None) -> int:
        """Publishes one event holding ``data`` (at most slot_size bytes) in
        one call (``dmp_publish_one``), waiting up to ``timeout`` seconds
        (None = forever) for room; returns its sequence. Raises DmpTimeout,
        or WouldBlock with timeout=0, when the ring stays full."""
        data = bytes(data)
        if len(data) > self.slot_size:
            raise ValueError(f"{len(data)} bytes do not fit a {self.slot_size}-byte slot")
        seq = c_int64()
        _check(
            _c.dmp_publish_one(self._handle(), data, len(data), _ns(timeout), byref(seq)),
            "dmp_publish_one",
        )
        return seq.value

    def try_send(self, data: bytes) -> Optional[int]:
        """Publishes one event if there is room now: its sequence, else None."""
        try:
            return self.send(data, 0.0)
        except WouldBlock:
            return None


class Claim:
    """Claimed slots [first, last] of a producer. Iterating gives a writable
    memoryview per slot. As a context manager it publishes when the block
    ends without an exception; otherwise nothing is published (publish it
    later, or close the producer: later publishes must follow it)."""

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

    def publish(self) -> None:
        self.producer.publish(self.first, self.last)
        self.published = True

    def __enter__(self) -> "Claim":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None and not self.published:
            self.publish()


class Consumer(_Handle):
    """A registered consumer (``dmp_consumer``). One thread at a time;
    closing it makes it leave the ring."""

    _close_fn = "dmp_consumer_close"
    _kind = "consumer"

    def __init__(self, handle, name: str, info: RingInfo):
        super().__init__(handle)
        self.name = name
        self.slot_size = info.slot_size
        self._slots = _Slots(info.slot_size)

    @property
    def next_sequence(self) -> int:
        """The next sequence to read (last committed + 1)."""
        nxt = c_int64()
        _check(_c.dmp_consumer_next(self._handle(), byref(nxt)), "dmp_consumer_next")
        return nxt.value

    def wait_for(self, seq: int, timeout: Timeout = None) -> int:
        """Waits until ``seq`` is available; returns the highest available
        sequence. Raises DmpTimeout (or WouldBlock for timeout=0)."""
        available = c_int64()
        _check(
            _c.dmp_wait_for(self._handle(), seq, _ns(timeout), byref(available)),
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
        except (DmpTimeout, WouldBlock):
            return None

    def slot(self, seq: int) -> memoryview:
        """A read-only view of available, uncommitted sequence ``seq``."""
        return self._slots.view(_c.dmp_consumer_slot(self._handle(), seq), "dmp_consumer_slot", False)

    def read(self, seq: int) -> bytes:
        """A copy of slot ``seq``."""
        address = _c.dmp_consumer_slot(self._handle(), seq)
        if not address:
            raise _error(_lib.DMP_STATUS_SEQUENCE_OUT_OF_RANGE, "dmp_consumer_slot")
        return ctypes.string_at(address, self.slot_size)

    def commit(self, seq: int) -> None:
        """Marks every sequence up to ``seq`` consumed (one release store)."""
        _check(_c.dmp_commit(self._handle(), seq), "dmp_commit")

    def receive(self, timeout: Timeout = None) -> bytes:
        """Consumes one event in one call (``dmp_consume_one``): waits up to
        ``timeout`` seconds (None = forever), returns a copy of its slot and
        commits it. Abandoned sequences are skipped. Raises DmpTimeout, or
        WouldBlock with timeout=0, when nothing arrived."""
        buf = ctypes.create_string_buffer(self.slot_size)
        _check(
            _c.dmp_consume_one(self._handle(), buf, self.slot_size, _ns(timeout), None),
            "dmp_consume_one",
        )
        return buf.raw

    def try_receive(self, timeout: Timeout = 0.0) -> Optional[bytes]:
        """Like receive(), but None when nothing arrived in time (by default
        it does not wait at all)."""
        try:
            return self.receive(timeout)
        except (DmpTimeout, WouldBlock):
            return None

    def rejoin(self) -> int:
        """After Evicted: joins again at the current position; returns how
        many events were lost (0 when it was not evicted)."""
        lost = ctypes.c_uint64()
        _check(_c.dmp_consumer_rejoin(self._handle(), byref(lost)), "dmp_consumer_rejoin")
        return lost.value

    @property
    def lost_on_join(self) -> int:
        """Events this name missed when it joined (0 for a new name, or one
        that resumed from its committed sequence)."""
        lost = ctypes.c_uint64()
        _check(_c.dmp_consumer_lost_on_join(self._handle(), byref(lost)), "dmp_consumer_lost_on_join")
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
    read-only memoryview per event. As a context manager it commits when the
    block ends without an exception."""

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

    def commit(self) -> None:
        self.consumer.commit(self.last)
        self.committed = True

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None and not self.committed:
            self.commit()
