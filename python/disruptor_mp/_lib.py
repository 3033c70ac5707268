"""Loading libdisruptor_mp and declaring its C ABI for ctypes.

Everything that mirrors ``include/disruptor_mp.h`` lives here: the
constants, the structs and, in :data:`FUNCTIONS`, the signature of every
function. ``tests/test_abi_declarations.py`` parses the header and fails when
any of them is missing or differs, so an ABI addition is one more line here.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)

#: The library major version (and, while it is 0, minor version) this
#: package is written for; checked against ``dmp_version_number()`` at import.
ABI_VERSION = (0, 1)

# --- constants (#define DMP_* in the header) --------------------------------

DMP_STATUS_OK = 0
DMP_STATUS_WOULD_BLOCK = 1
DMP_STATUS_TIMEOUT = 2
DMP_STATUS_INVALID_ARGUMENT = -1
DMP_STATUS_NULL_POINTER = -2
DMP_STATUS_PANIC = -3
DMP_STATUS_INVALID_HANDLE = -4
DMP_STATUS_INVALID_NAME = -5
DMP_STATUS_INVALID_CAPACITY = -6
DMP_STATUS_INVALID_SLOT_SIZE = -7
DMP_STATUS_IO = -8
DMP_STATUS_NOT_FOUND = -9
DMP_STATUS_ALREADY_EXISTS = -10
DMP_STATUS_NO_SPACE = -11
DMP_STATUS_PERMISSION_DENIED = -12
DMP_STATUS_NOT_A_SEGMENT = -13
DMP_STATUS_VERSION_MISMATCH = -14
DMP_STATUS_TRUNCATED = -15
DMP_STATUS_CHECKSUM_MISMATCH = -16
DMP_STATUS_CORRUPT = -17
DMP_STATUS_LAYOUT_MISMATCH = -18
DMP_STATUS_TYPE_MISMATCH = -19
DMP_STATUS_SEQUENCE_OUT_OF_RANGE = -20
DMP_STATUS_BATCH_TOO_LARGE = -21
DMP_STATUS_CONSUMER_TABLE_FULL = -22
DMP_STATUS_NAME_IN_USE = -23
DMP_STATUS_DEPENDENCY_NOT_FOUND = -24
DMP_STATUS_PRODUCER_EXISTS = -25
DMP_STATUS_UNSUPPORTED = -26
DMP_STATUS_ABANDONED = 3
DMP_STATUS_CLAIM_ABANDONED = -27
DMP_STATUS_PRODUCER_TABLE_FULL = -28
DMP_STATUS_CONSUMER_DEAD = -29
DMP_STATUS_CONSUMER_STALLED = -30
DMP_STATUS_EVICTED = -31

DMP_BACKING_SHM = 0
DMP_BACKING_FILE = 1

DMP_PRODUCER_DEFAULT = 0
DMP_PRODUCER_SINGLE = 1
DMP_PRODUCER_MULTI = 2

DMP_WAKEUPS_DEFAULT = 0
DMP_WAKEUPS_ON = 1
DMP_WAKEUPS_OFF = 2

DMP_LAYOUT_DEFAULT = 0
DMP_LAYOUT_STAMPED = 1
DMP_LAYOUT_PACKED = 2

DMP_OPEN_RECLAIM_STALE = 1
DMP_OPEN_READ_ONLY = 2

DMP_JOIN_OLDEST = 1

DMP_REMOVE_FORCE = 1

DMP_WAIT_BUSY_SPIN = 0
DMP_WAIT_YIELD = 1
DMP_WAIT_SLEEP = 2
DMP_WAIT_BLOCKING = 3

DMP_TIMEOUT_INFINITE = 2**64 - 1

DMP_OWNER_RING = 0
DMP_OWNER_PRODUCER = 1
DMP_OWNER_CONSUMER = 2

# --- types -------------------------------------------------------------------


class dmp_ring(Structure):
    """Opaque ring handle (only ever used through a pointer)."""


class dmp_producer(Structure):
    """Opaque producer handle."""


class dmp_consumer(Structure):
    """Opaque consumer handle."""


class dmp_snapshot(Structure):
    """Opaque snapshot handle."""


class dmp_ring_options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("backing", c_uint32),
        ("capacity", c_uint64),
        ("slot_size", c_uint32),
        ("max_consumers", c_uint32),
        ("producer_mode", c_uint32),
        ("mode", c_uint32),
        ("type_id", c_uint64),
        ("wakeups", c_uint32),
        ("layout", c_uint32),
        ("timeout_ns", c_uint64),
        ("max_producers", c_uint32),
        ("open_flags", c_uint32),
        ("unblock_timeout_ns", c_uint64),
    ]


class dmp_ring_info(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("slot_size", c_uint32),
        ("capacity", c_uint64),
        ("max_consumers", c_uint32),
        ("producer_mode", c_uint32),
        ("type_id", c_uint64),
        ("wakeups", c_uint32),
        ("layout", c_uint32),
        ("cursor", c_int64),
        ("max_producers", c_uint32),
        ("reserved", c_uint32),
        ("unblock_timeout_ns", c_uint64),
        ("claimed", c_int64),
        ("abandoned", c_uint64),
    ]


class dmp_ring_stats(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("taken_at_ns", c_uint64),
        ("cursor", c_int64),
        ("claimed", c_int64),
        ("published", c_uint64),
        ("abandoned", c_uint64),
        ("attaches", c_uint64),
        ("detaches", c_uint64),
        ("back_pressure_waits", c_uint64),
        ("wakeups", c_uint64),
        ("consumer_count", c_uint32),
        ("producer_count", c_uint32),
        ("counter_count", c_uint32),
        ("reserved2", c_uint32),
        ("evictions", c_uint64),
        ("stall_alerts", c_uint64),
        ("retired", c_uint64),
    ]


class dmp_consumer_status(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("index", c_uint32),
        ("name", ctypes.c_char * 64),
        ("state", c_uint32),
        ("alive", c_uint32),
        ("gating", c_uint32),
        ("pid", c_uint32),
        ("sequence", c_int64),
        ("lag", c_int64),
        ("dependencies", c_uint64),
        ("generation", c_uint64),
        ("events", c_uint64),
        ("batches", c_uint64),
        ("waits", c_uint64),
        ("timeouts", c_uint64),
        ("last_activity_ns", c_uint64),
        ("optional", c_uint32),
        ("reserved", c_uint32),
    ]


class dmp_producer_status(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("index", c_uint32),
        ("state", c_uint32),
        ("alive", c_uint32),
        ("pid", c_uint32),
        ("reserved", c_uint32),
        ("epoch", c_uint64),
        ("pending_lo", c_int64),
        ("pending_hi", c_int64),
        ("events", c_uint64),
        ("batches", c_uint64),
        ("waits", c_uint64),
        ("timeouts", c_uint64),
        ("last_activity_ns", c_uint64),
    ]


class dmp_span(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("first", c_void_p),
        ("first_count", c_uint64),
        ("second", c_void_p),
        ("second_count", c_uint64),
        ("stride", c_uint64),
    ]


class dmp_counter(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("id", c_uint32),
        ("owner_kind", c_uint32),
        ("owner_index", c_uint32),
        ("value", c_uint64),
        ("label", ctypes.c_char * 48),
    ]


class dmp_stall_alert(Structure):
    _fields_ = [
        ("name", ctypes.c_char * 64),
        ("index", c_uint32),
        ("pid", c_uint32),
        ("sequence", c_int64),
        ("stalled_ns", c_uint64),
    ]


#: ``void (*on_stall)(void *user, const struct dmp_stall_alert *alert)``
dmp_stall_callback = ctypes.CFUNCTYPE(None, c_void_p, POINTER(dmp_stall_alert))


class dmp_producer_options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("wait_strategy", c_uint32),
        ("sleep_ns", c_uint64),
        ("consumer_dead_timeout_ns", c_uint64),
        ("progress_timeout_ns", c_uint64),
        ("stall_grace_ns", c_uint64),
        ("ready_consumers", c_uint32),
        ("reserved", c_uint32),
        ("ready_names", POINTER(c_char_p)),
        ("ready_name_count", c_size_t),
        ("ready_timeout_ns", c_uint64),
        ("on_stall", dmp_stall_callback),
        ("on_stall_user", c_void_p),
    ]


class dmp_consumer_options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("wait_strategy", c_uint32),
        ("sleep_ns", c_uint64),
        ("dependencies", POINTER(c_char_p)),
        ("dependency_count", c_size_t),
        ("optional", c_uint32),
        ("join_flags", c_uint32),
        ("max_block_ns", c_uint64),
    ]


#: Every struct of the header, by its C name.
STRUCTS = {
    cls.__name__: cls
    for cls in (
        dmp_ring_options,
        dmp_ring_info,
        dmp_producer_options,
        dmp_consumer_options,
        dmp_ring_stats,
        dmp_consumer_status,
        dmp_producer_status,
        dmp_span,
        dmp_counter,
        dmp_stall_alert,
    )
}
#: Every opaque handle type of the header, by its C name.
HANDLES = {cls.__name__: cls for cls in (dmp_ring, dmp_producer, dmp_consumer, dmp_snapshot)}

_ring_p = POINTER(dmp_ring)
_producer_p = POINTER(dmp_producer)
_consumer_p = POINTER(dmp_consumer)
_snapshot_p = POINTER(dmp_snapshot)

# --- functions: name -> (restype, argtypes), in header order ------------------

FUNCTIONS = {
    "dmp_version": (c_char_p, []),
    "dmp_version_number": (c_uint32, []),
    "dmp_status_str": (c_char_p, [c_int32]),
    "dmp_last_error_message": (c_char_p, []),
    "dmp_ring_options_init": (None, [POINTER(dmp_ring_options)]),
    "dmp_ring_create": (c_int32, [c_char_p, POINTER(dmp_ring_options), POINTER(_ring_p)]),
    "dmp_ring_open": (c_int32, [c_char_p, POINTER(dmp_ring_options), POINTER(_ring_p)]),
    "dmp_ring_open_or_create": (
        c_int32,
        [c_char_p, POINTER(dmp_ring_options), POINTER(_ring_p), POINTER(c_bool)],
    ),
    "dmp_ring_close": (c_int32, [_ring_p]),
    "dmp_ring_unlink": (c_int32, [c_char_p, c_uint32]),
    "dmp_ring_remove": (c_int32, [c_char_p, c_uint32, c_uint32]),
    "dmp_consumer_retire": (c_int32, [_ring_p, c_char_p]),
    "dmp_ring_get_info": (c_int32, [_ring_p, POINTER(dmp_ring_info)]),
    "dmp_producer_options_init": (None, [POINTER(dmp_producer_options)]),
    "dmp_producer_open": (c_int32, [_ring_p, POINTER(dmp_producer_options), POINTER(_producer_p)]),
    "dmp_producer_close": (c_int32, [_producer_p]),
    "dmp_claim": (c_int32, [_producer_p, c_uint64, c_uint64, POINTER(c_int64)]),
    "dmp_try_claim": (c_int32, [_producer_p, c_uint64, POINTER(c_int64)]),
    "dmp_producer_slot": (c_void_p, [_producer_p, c_int64]),
    "dmp_publish": (c_int32, [_producer_p, c_int64, c_int64]),
    "dmp_publish_one": (c_int32, [_producer_p, c_void_p, c_size_t, c_uint64, POINTER(c_int64)]),
    "dmp_unclaim": (c_int32, [_producer_p, c_int64]),
    "dmp_consumer_options_init": (None, [POINTER(dmp_consumer_options)]),
    "dmp_consumer_open": (
        c_int32,
        [_ring_p, c_char_p, POINTER(dmp_consumer_options), POINTER(_consumer_p)],
    ),
    "dmp_consumer_close": (c_int32, [_consumer_p]),
    "dmp_wait_for": (c_int32, [_consumer_p, c_int64, c_uint64, POINTER(c_int64)]),
    "dmp_consumer_slot": (c_void_p, [_consumer_p, c_int64]),
    "dmp_consumer_event": (c_int32, [_consumer_p, c_int64, POINTER(c_void_p)]),
    "dmp_consumer_next": (c_int32, [_consumer_p, POINTER(c_int64)]),
    "dmp_consumer_rejoin": (c_int32, [_consumer_p, POINTER(c_uint64)]),
    "dmp_consumer_lost_on_join": (c_int32, [_consumer_p, POINTER(c_uint64)]),
    "dmp_consumer_wait_fd": (c_int32, [_consumer_p, POINTER(c_int32)]),
    "dmp_consumer_arm": (c_int32, [_consumer_p]),
    "dmp_consume_one": (c_int32, [_consumer_p, c_void_p, c_size_t, c_uint64, POINTER(c_int64)]),
    "dmp_commit": (c_int32, [_consumer_p, c_int64]),
    "dmp_producer_span": (c_int32, [_producer_p, c_int64, c_int64, POINTER(dmp_span)]),
    "dmp_consumer_span": (c_int32, [_consumer_p, c_int64, c_int64, POINTER(dmp_span)]),
    "dmp_snapshot_take": (c_int32, [_ring_p, POINTER(_snapshot_p)]),
    "dmp_snapshot_free": (c_int32, [_snapshot_p]),
    "dmp_snapshot_stats": (c_int32, [_snapshot_p, POINTER(dmp_ring_stats)]),
    "dmp_snapshot_consumer": (c_int32, [_snapshot_p, c_size_t, POINTER(dmp_consumer_status)]),
    "dmp_snapshot_producer": (c_int32, [_snapshot_p, c_size_t, POINTER(dmp_producer_status)]),
    "dmp_snapshot_counter": (c_int32, [_snapshot_p, c_size_t, POINTER(dmp_counter)]),
}

# --- loading -------------------------------------------------------------------


class LibraryNotFound(ImportError):
    """libdisruptor_mp could not be loaded, or is an incompatible version."""


#: The library a wheel carries, next to this file (setup.py puts it there).
BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libdisruptor_mp.so")


def _candidates() -> list[tuple[str, str]]:
    """(where it came from, path) to try, best first: the bundled library,
    then DISRUPTOR_MP_LIB (a source checkout carries none)."""
    found = []
    if os.path.exists(BUNDLED):
        found.append(("bundled", BUNDLED))
    env = os.environ.get("DISRUPTOR_MP_LIB")
    if env:
        found.append(("DISRUPTOR_MP_LIB", env))
    return found


def load() -> ctypes.CDLL:
    """Loads the library (the bundled one, else DISRUPTOR_MP_LIB), declares
    every function and checks the version."""
    errors = []
    for origin, path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append(f"{origin} {path}: {e}")
    else:
        tried = "\n  ".join(errors) if errors else (
            f"no bundled library ({BUNDLED} does not exist) and DISRUPTOR_MP_LIB is not set"
        )
        raise LibraryNotFound(
            "cannot load libdisruptor_mp: install the package with `pip install ./python` "
            "(it builds and bundles the library), or set DISRUPTOR_MP_LIB to the path of "
            "libdisruptor_mp.so (scripts/install.sh --prefix DIR puts it in DIR/lib). "
            "Tried:\n  " + tried
        )
    for name, (restype, argtypes) in FUNCTIONS.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise LibraryNotFound(f"{lib._name} has no {name}: the library is too old") from None
        fn.restype = restype
        fn.argtypes = argtypes
    number = lib.dmp_version_number()
    found = (number // 10000, number // 100 % 100)
    # Semantic versioning: the major version must match; while it is 0,
    # every minor release may change the ABI, so the minor must match too.
    if found[0] != ABI_VERSION[0] or (ABI_VERSION[0] == 0 and found[1] != ABI_VERSION[1]):
        raise LibraryNotFound(
            f"{lib._name} is version {lib.dmp_version().decode()}, this package "
            f"needs {ABI_VERSION[0]}.{ABI_VERSION[1]}.x"
        )
    return lib
