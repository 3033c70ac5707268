"""The ring (``dmp_ring``): create, open, unlink, info, snapshots, and the
producers and consumers attached from it."""

from __future__ import annotations

import ctypes
from ctypes import byref, c_bool
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

from . import _core, _lib, snapshot
from ._core import Name, Timeout, check, ns, positive_ns
from ._lib import (
    DMP_BACKING_FILE,
    DMP_BACKING_SHM,
    DMP_LAYOUT_PACKED,
    DMP_LAYOUT_STAMPED,
    DMP_PRODUCER_MULTI,
    DMP_PRODUCER_SINGLE,
    DMP_WAKEUPS_OFF,
    DMP_WAKEUPS_ON,
)
from .consumer import Consumer, consumer_options
from .producer import Producer, StallAlert, producer_options


def _ring_options(
    *,
    file: bool = False,
    capacity: int = 0,
    slot_size: int = 0,
    max_consumers: int = 0,
    multi_producer: Optional[bool] = None,
    max_producers: int = 0,
    unblock_timeout: Optional[float] = None,
    mode: int = 0,
    type_id: int = 0,
    wakeups: Optional[bool] = None,
    packed: Optional[bool] = None,
    timeout: Timeout = 0.0,
    reclaim_stale: bool = False,
    read_only: bool = False,
) -> _lib.dmp_ring_options:
    o = _lib.dmp_ring_options()
    _core.c.dmp_ring_options_init(byref(o))
    o.backing = DMP_BACKING_FILE if file else DMP_BACKING_SHM
    o.capacity = capacity
    o.slot_size = slot_size
    o.max_consumers = max_consumers
    if multi_producer is not None:
        o.producer_mode = DMP_PRODUCER_MULTI if multi_producer else DMP_PRODUCER_SINGLE
    o.max_producers = max_producers
    if unblock_timeout is not None:
        o.unblock_timeout_ns = positive_ns(unblock_timeout)
    o.mode = mode
    o.type_id = type_id
    if wakeups is not None:
        o.wakeups = DMP_WAKEUPS_ON if wakeups else DMP_WAKEUPS_OFF
    if packed is not None:
        o.layout = DMP_LAYOUT_PACKED if packed else DMP_LAYOUT_STAMPED
    o.timeout_ns = ns(timeout)
    o.open_flags = (_lib.DMP_OPEN_RECLAIM_STALE if reclaim_stale else 0) | (
        _lib.DMP_OPEN_READ_ONLY if read_only else 0
    )
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
    max_producers: int = 0
    unblock_timeout_ns: int = 0
    #: Multi-producer rings: the highest claimed sequence (-1: none).
    claimed: int = -1
    #: Multi-producer rings: sequences abandoned so far.
    abandoned: int = 0


class Ring(_core.Handle):
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
        (16), ``multi_producer``, ``max_producers`` (8),
        ``unblock_timeout`` (seconds; 2), ``mode`` (permission bits of the
        new segment; 0o600), ``type_id``, ``wakeups`` (True), ``packed``
        (False), ``file`` (NAME is a file path instead of a shared-memory
        name).
        """
        h = ctypes.POINTER(_lib.dmp_ring)()
        o = _ring_options(**options)
        check(_core.c.dmp_ring_create(_core.name(name), byref(o), byref(h)), "dmp_ring_create")
        return cls(h, name)

    @classmethod
    def open(cls, name: Name, *, timeout: Timeout = 0.0, **checks) -> "Ring":
        """Opens an existing ring, waiting up to ``timeout`` seconds for it
        to appear. Layout options given (as for create) are checked against
        the ring (DmpError LAYOUT_MISMATCH / TYPE_MISMATCH). ``read_only``
        opens it as an observer (snapshots only)."""
        h = ctypes.POINTER(_lib.dmp_ring)()
        o = _ring_options(timeout=timeout, **checks)
        check(_core.c.dmp_ring_open(_core.name(name), byref(o), byref(h)), "dmp_ring_open")
        return cls(h, name)

    @classmethod
    def open_or_create(cls, name: Name, **options) -> "tuple[Ring, bool]":
        """Opens the ring or creates it; returns (ring, created). With
        ``reclaim_stale=True`` a stale ring (used once, no live participant
        now; a never-used ring is not stale) is unlinked and created anew."""
        h = ctypes.POINTER(_lib.dmp_ring)()
        created = c_bool(False)
        o = _ring_options(**options)
        check(
            _core.c.dmp_ring_open_or_create(_core.name(name), byref(o), byref(h), byref(created)),
            "dmp_ring_open_or_create",
        )
        return cls(h, name), bool(created.value)

    @staticmethod
    def unlink(name: Name, *, file: bool = False) -> None:
        """Removes a ring's name; refuses (DmpError NAME_IN_USE, naming
        them) while live processes take part in it, this one's own producers
        and consumers included: close them first, or use remove(force=True)."""
        backing = DMP_BACKING_FILE if file else DMP_BACKING_SHM
        check(_core.c.dmp_ring_unlink(_core.name(name), backing), "dmp_ring_unlink")

    @staticmethod
    def remove(name: Name, *, force: bool = False, file: bool = False) -> None:
        """Removes a ring's name: as unlink(), or with ``force`` even while
        live processes take part (they keep working on the removed ring
        until they exit)."""
        backing = DMP_BACKING_FILE if file else DMP_BACKING_SHM
        flags = _lib.DMP_REMOVE_FORCE if force else 0
        check(_core.c.dmp_ring_remove(_core.name(name), backing, flags), "dmp_ring_remove")

    def retire_consumer(self, name: str) -> None:
        """Retires consumer ``name``, whose process died and will not come
        back: it stops holding the producers back and its entry is freed.
        Raises DmpError NAME_IN_USE (naming the pid) while a live process
        holds the name."""
        check(
            _core.c.dmp_consumer_retire(self._handle(), _core.name(name)),
            "dmp_consumer_retire",
        )

    def info(self) -> RingInfo:
        i = _lib.dmp_ring_info()
        i.struct_size = ctypes.sizeof(i)
        check(_core.c.dmp_ring_get_info(self._handle(), byref(i)), "dmp_ring_get_info")
        return RingInfo(
            capacity=i.capacity,
            slot_size=i.slot_size,
            max_consumers=i.max_consumers,
            multi_producer=i.producer_mode == DMP_PRODUCER_MULTI,
            type_id=i.type_id,
            wakeups=bool(i.wakeups),
            packed=i.layout == DMP_LAYOUT_PACKED,
            cursor=i.cursor,
            max_producers=i.max_producers,
            unblock_timeout_ns=i.unblock_timeout_ns,
            claimed=i.claimed,
            abandoned=i.abandoned,
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

    def snapshot(self) -> snapshot.Snapshot:
        """The ring's counters and both tables at one moment (what `dmp
        stat` shows): ``stats``, ``consumers``, ``producers``, ``counters``."""
        return snapshot.take(self._handle())

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
        on_stall: Optional[Callable[[StallAlert], None]] = None,
    ) -> Producer:
        """Attaches the ring's producer. ``wait``: "spin", "yield", "sleep"
        (``sleep`` seconds between polls) or "block".

        Liveness (seconds; None = the library's default): a dead required
        consumer holding the producer back fails claims after
        ``consumer_dead_timeout`` (5); a live one without progress for
        ``progress_timeout`` (never) is counted as stalled, reported to
        ``on_stall(StallAlert)`` (called inside claim, on this thread) and
        fails claims ``stall_grace`` (5) later. ``ready`` / ``ready_names``:
        attaching waits (at most ``ready_timeout``, 10) until that many
        consumers, and the named ones, are active."""
        o, keep = producer_options(
            wait=wait,
            sleep=sleep,
            consumer_dead_timeout=consumer_dead_timeout,
            progress_timeout=progress_timeout,
            stall_grace=stall_grace,
            ready=ready,
            ready_names=ready_names,
            ready_timeout=ready_timeout,
            on_stall=on_stall,
        )
        h = ctypes.POINTER(_lib.dmp_producer)()
        check(_core.c.dmp_producer_open(self._handle(), byref(o), byref(h)), "dmp_producer_open")
        return Producer(h, self.info(), keep)

    def consumer(
        self,
        name: str,
        *,
        after: Sequence[str] = (),
        wait: Union[str, int] = "yield",
        sleep: Optional[float] = None,
        optional: bool = False,
        max_block: float = 0.0,
        join_at_oldest: bool = False,
    ) -> Consumer:
        """Registers consumer ``name``, which reads an event only after
        every consumer named in ``after`` has committed it. An ``optional``
        consumer is evicted rather than waited for longer than
        ``max_block`` seconds (see Evicted, Consumer.rejoin). A name whose
        previous holder died resumes from its committed sequence.
        ``join_at_oldest``: start at the oldest event the ring still retains
        for certain instead of the cursor (Consumer.lost_on_join then counts
        the events published before the first one it reads)."""
        o, _deps = consumer_options(
            after=after,
            wait=wait,
            sleep=sleep,
            optional=optional,
            max_block=max_block,
            join_at_oldest=join_at_oldest,
        )
        h = ctypes.POINTER(_lib.dmp_consumer)()
        check(
            _core.c.dmp_consumer_open(self._handle(), _core.name(name), byref(o), byref(h)),
            "dmp_consumer_open",
        )
        return Consumer(h, name, self.info())

    def __repr__(self) -> str:
        return f"<disruptor_mp.Ring {self.name!r}{' closed' if self.closed else ''}>"
