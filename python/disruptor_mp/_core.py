"""The loaded library and what every wrapper shares: the exceptions, the
status check, and the conversions of timeouts, names and wait strategies."""

from __future__ import annotations

import os
from typing import Optional, Union

from . import _lib
from ._lib import DMP_STATUS_OK, DMP_STATUS_TIMEOUT, DMP_STATUS_WOULD_BLOCK, DMP_TIMEOUT_INFINITE

#: The library, with every function of ``_lib.FUNCTIONS`` declared.
c = _lib.load()

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


class Abandoned(DmpError):
    """A range holds a sequence its producer abandoned (DMP_STATUS_ABANDONED,
    multi-producer rings): read that range event by event
    (``Consumer.event`` answers None for the abandoned ones)."""


def library_version() -> str:
    """The version of the loaded libdisruptor_mp, e.g. ``"0.1.0"``."""
    return c.dmp_version().decode()


def status_str(status: int) -> str:
    """The library's description of a status code."""
    return c.dmp_status_str(status).decode()


def error(status: int, call: str) -> DmpError:
    message = (c.dmp_last_error_message() or b"").decode(errors="replace")
    text = f"{call}: {status_str(status)}"
    if message:
        text += f": {message}"
    cls = {
        DMP_STATUS_TIMEOUT: DmpTimeout,
        DMP_STATUS_WOULD_BLOCK: WouldBlock,
        _lib.DMP_STATUS_EVICTED: Evicted,
        _lib.DMP_STATUS_ABANDONED: Abandoned,
    }.get(status, DmpError)
    return cls(status, text, message)


def check(status: int, call: str) -> None:
    if status != DMP_STATUS_OK:
        raise error(status, call)


def ns(timeout: Timeout) -> int:
    """Seconds (None = forever) to the nanoseconds the C API takes."""
    if timeout is None:
        return DMP_TIMEOUT_INFINITE
    return max(0, min(int(timeout * 1e9), DMP_TIMEOUT_INFINITE - 1))


def positive_ns(seconds: Optional[float]) -> Optional[int]:
    """An optional duration for a field where 0 means "the default":
    None stays None (keep the default), anything else is at least 1 ns."""
    return None if seconds is None else max(1, ns(seconds))


def name(n: Name) -> bytes:
    if isinstance(n, bytes):
        return n
    return os.fsencode(n)


def wait(strategy: Union[str, int]) -> int:
    if isinstance(strategy, int):
        return strategy
    try:
        return _WAITS[strategy]
    except KeyError:
        raise ValueError(f"wait strategy {strategy!r}: expected one of {sorted(_WAITS)}") from None


class Handle:
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
            check(getattr(c, self._close_fn)(h), self._close_fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h is not None and c is not None:
            try:
                getattr(c, self._close_fn)(h)
            except Exception:  # interpreter shutdown
                pass
