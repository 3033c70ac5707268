#!/usr/bin/env python3
"""An independent reader of the disruptor-mp segment format (docs/FORMAT.md).

Written from docs/FORMAT.md alone, with Python's standard library: it does
not use the project's bindings (python/) and copies no constant from the
Rust source. Every number below is one the document states.

    python3 tools/dmp_format.py NAME              # /dev/shm/NAME
    python3 tools/dmp_format.py --file PATH       # a file-backed ring
    python3 tools/dmp_format.py NAME --payloads   # also decode `dmp produce` events

It validates the segment in the documented order, takes a consistent
snapshot as FORMAT.md ("Reading a live ring") describes, and prints every
field as one JSON object on one line (--indent N to pretty-print).

Exit status: 0 success; 1 the segment was refused (stderr names the error
code of FORMAT.md's validation order and why); 2 it cannot be read at all.
"""

import argparse
import fcntl
import json
import mmap
import os
import struct
import sys
import time

# --- Header (FORMAT.md, "Header") -------------------------------------------
MAGIC = b"DMPRING\0"
FORMAT_VERSION = 3
HEADER_SIZE = 512
ENDIAN_MARK = 0x01020304
ENDIAN_SWAPPED = 0x04030201
CHECKSUM_AT = 248
STATE_AT = 256
STATE_READY = 1
# Reserved header ranges, [start, end): documented as 0.
RESERVED_HEADER = ((232, 248), (260, 512))

FLAG_WAKEUPS = 1 << 0
FLAG_PACKED = 1 << 1
FLAG_NO_HOT_COUNTERS = 1 << 2
KNOWN_FLAGS = FLAG_WAKEUPS | FLAG_PACKED | FLAG_NO_HOT_COUNTERS

MAX_CAPACITY = 1 << 31
MAX_SLOT_SIZE = 1 << 20
MAX_ENTRIES = 64
MAX_TOTAL_SIZE = 1 << 40
MIN_UNBLOCK_NS = 1_000_000
MAX_UNBLOCK_NS = 3_600_000_000_000

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
U64 = 0xFFFFFFFFFFFFFFFF

# --- Overall layout ----------------------------------------------------------
CONTROL_OFFSET = 512
CONTROL_SIZE = 512
CONSUMER_TABLE_OFFSET = 1024
ENTRY_SIZE = 256
BLOCK = 128
PAGE = 4096

REGION_NAMES = (
    "control",
    "consumer_table",
    "producer_table",
    "slots",
    "availability",
    "counters",
    "reserved_6",
    "reserved_7",
)

# --- Tables ------------------------------------------------------------------
CONSUMER_STATES = {0: "free", 1: "joining", 2: "active", 3: "left", 4: "evicted"}
PRODUCER_STATES = {0: "free", 2: "active", 3: "left"}
RECORD_STATES = {0: "none", 1: "intent", 2: "claimed"}
CONSUMER_OPTIONAL = 1

# --- Counters (FORMAT.md, "Counters") ----------------------------------------
OWNER_KINDS = {0: "ring", 1: "producer", 2: "consumer"}
RING_COUNTERS = (
    (0, "attaches"),
    (1, "detaches"),
    (2, "abandoned sequences"),
    (3, "producer back-pressure waits"),
    (4, "futex wake-ups issued"),
    (5, "consumer evictions"),
    (6, "stalled-consumer alerts"),
)
PRODUCER_COUNTERS = (
    (16, "events published"),
    (17, "batches published"),
    (18, "claims that waited"),
    (19, "claim timeouts"),
    (20, "last activity (ns since epoch)"),
)
CONSUMER_COUNTERS = (
    (32, "events consumed"),
    (33, "batches consumed"),
    (34, "waits"),
    (35, "wait timeouts"),
    (36, "last activity (ns since epoch)"),
)
# Short JSON keys, in slot order.
RING_KEYS = (
    "attaches",
    "detaches",
    "abandoned",
    "back_pressure_waits",
    "wakeups",
    "evictions",
    "stall_alerts",
)
ENTRY_KEYS = ("events", "batches", "waits", "timeouts", "last_activity_ns")

# --- Locks (FORMAT.md, "Locks") ----------------------------------------------
LOCK_CONSUMER_LEASE = 1024
LOCK_PRODUCER_LEASE = 2048

# --- dmp produce payload (FORMAT.md, "Events written by `dmp produce`") -------
PRODUCER_SHIFT = 48

SNAPSHOT_TRIES = 8


class Refused(Exception):
    """The segment fails validation; `code` is FORMAT.md's error code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def fnv1a64(data):
    h = FNV_OFFSET
    for b in data:
        h ^= b
        h = (h * FNV_PRIME) & U64
    return h


def round_up(value, multiple):
    return (value + multiple - 1) // multiple * multiple


def cstring(raw):
    return raw.split(b"\0", 1)[0].decode("ascii", "replace")


class View:
    """Typed reads of a buffer in native byte order (the segment's, once
    its byte-order mark has been checked)."""

    def __init__(self, buf):
        self.buf = buf

    def raw(self, off, n):
        return bytes(self.buf[off : off + n])

    def u8(self, off):
        return self.buf[off]

    def u32(self, off):
        return struct.unpack_from("=I", self.buf, off)[0]

    def u64(self, off):
        return struct.unpack_from("=Q", self.buf, off)[0]

    def i64(self, off):
        return struct.unpack_from("=q", self.buf, off)[0]


def counter_slots(max_producers, max_consumers):
    return (
        len(RING_COUNTERS)
        + len(PRODUCER_COUNTERS) * max_producers
        + len(CONSUMER_COUNTERS) * max_consumers
    )


def derive_layout(capacity, slot_size, packed, multi, max_consumers, max_producers):
    """Stride, stamp offset, region table and total size, as FORMAT.md
    computes them from the parameters."""
    if packed:
        stamp_offset = 0
        stride = round_up(slot_size, 8)
    else:
        stamp_offset = round_up(slot_size, 8)
        stride = round_up(stamp_offset + 8, 64)
    regions = [(0, 0)] * 8
    regions[0] = (CONTROL_OFFSET, CONTROL_SIZE)
    consumers = (CONSUMER_TABLE_OFFSET, max_consumers * ENTRY_SIZE)
    regions[1] = consumers
    producers = (round_up(sum(consumers), BLOCK), max_producers * ENTRY_SIZE)
    regions[2] = producers
    slots = (round_up(sum(producers), PAGE), capacity * stride)
    regions[3] = slots
    counters = (round_up(sum(slots), BLOCK), counter_slots(max_producers, max_consumers) * BLOCK)
    regions[5] = counters
    end = sum(counters)
    if packed and multi:
        availability = (round_up(end, BLOCK), round_up(capacity, 8))
        regions[4] = availability
        end = sum(availability)
    return stride, stamp_offset, regions, round_up(end, PAGE)


# --- Wake-up fds (FORMAT.md, "Wake-up fds") ---------------------------------
WAKE_NAME_PART = 40
WAKE_MARK = ".dmp-wake."


def wake_token(st):
    """The ring token: st_ino ^ rotl64(st_dev, 40) ^ 1."""
    dev = st.st_dev & 0xFFFFFFFFFFFFFFFF
    rot = ((dev << 40) | (dev >> 24)) & 0xFFFFFFFFFFFFFFFF
    return (st.st_ino ^ rot ^ 1) & 0xFFFFFFFFFFFFFFFF


def wake_dir(path, st):
    """The wake-up directory beside the segment at `path` (stat `st`):
    its consumers' sockets are `<dir>/<entry index>`."""
    parent, name = os.path.split(os.path.abspath(path))
    part = os.fsencode(name)[:WAKE_NAME_PART]
    return os.path.join(parent, "." + os.fsdecode(part) + WAKE_MARK + "%016x" % wake_token(st))


class Segment:
    def __init__(self, path):
        self.path = path
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        try:
            st = os.fstat(fd)
            if not (st.st_mode & 0o170000) == 0o100000:
                raise Refused("NOT_A_SEGMENT", "not a regular file")
            self.file_size = st.st_size
            # A private copy of the header: every check sees the same bytes.
            self.head = os.pread(fd, HEADER_SIZE, 0)
            self.map = None
            self.fd = fd
        except BaseException:
            os.close(fd)
            raise

    def close(self):
        if self.map is not None:
            self.map.close()
        os.close(self.fd)

    # -- validation, in FORMAT.md's order --------------------------------------

    def validate(self):
        hdr = self.head
        if len(hdr) < 8 or hdr[:8] != MAGIC:
            raise Refused("NOT_A_SEGMENT", "no ring magic at offset 0 (%r)" % hdr[:8])
        if len(hdr) < HEADER_SIZE or self.file_size < HEADER_SIZE:
            raise Refused(
                "TRUNCATED",
                "file is %d bytes, shorter than the %d-byte header" % (self.file_size, HEADER_SIZE),
            )
        v = View(hdr)
        endian = v.u32(16)
        if endian != ENDIAN_MARK:
            other = " (written on a machine of the other byte order)" if endian == ENDIAN_SWAPPED else ""
            raise Refused("CORRUPT", "byte-order mark 0x%08x%s" % (endian, other))
        version = v.u32(8)
        if version != FORMAT_VERSION:
            raise Refused(
                "VERSION_MISMATCH",
                "format version %d; this reader implements %d" % (version, FORMAT_VERSION),
            )
        stored = v.u64(CHECKSUM_AT)
        computed = fnv1a64(hdr[:CHECKSUM_AT])
        if stored != computed:
            raise Refused(
                "CHECKSUM_MISMATCH", "header checksum 0x%016x, computed 0x%016x" % (stored, computed)
            )
        h = decode_header(v)
        self.header = h
        check_parameters(h)
        if self.file_size < h["total_size"]:
            raise Refused(
                "TRUNCATED", "file is %d bytes, total_size is %d" % (self.file_size, h["total_size"])
            )
        if h["state"] != STATE_READY:
            raise Refused("CORRUPT", "state word is %d, not %d (ready)" % (h["state"], STATE_READY))
        for lo, hi in RESERVED_HEADER:
            for off in range(lo, hi):
                if hdr[off] != 0:
                    raise Refused(
                        "CORRUPT", "reserved header byte at offset %d is 0x%02x, not 0" % (off, hdr[off])
                    )
        self.map = mmap.mmap(self.fd, h["total_size"], mmap.MAP_SHARED, mmap.PROT_READ)
        self.v = View(self.map)

    # -- the live regions --------------------------------------------------------

    def snapshot(self, want_payloads=False, all_entries=False):
        """FORMAT.md, "Reading a live ring": the tables until two readings
        of table_generation agree, then the counters, then the cursor."""
        h = self.header
        v = self.v
        ctl = h["regions"][0][0]
        tries = 0
        while True:
            tries += 1
            generation = v.u64(ctl + 264)
            consumers = self.read_consumers(all_entries)
            producers = self.read_producers(all_entries)
            gating_mask = v.u64(ctl + 256)
            if v.u64(ctl + 264) == generation or tries >= SNAPSHOT_TRIES:
                break
        counters = self.read_counters()
        taken_at_ns = time.time_ns()
        control = {
            "cursor": v.i64(ctl + 0),
            "cursor_waiters": v.u32(ctl + 64),
            "claim": v.i64(ctl + 128),
            "gating_mask": gating_mask,
            "table_generation": generation,
            "retired": v.u64(ctl + 280),
            "notice": v.u64(ctl + 384),
            "notice_waiters": v.u32(ctl + 448),
        }
        multi = h["producer_mode"] == 1
        # The cursor last: every committed sequence read above is <= it.
        if multi:
            claimed = control["claim"]
            cursor = self.multi_cursor(claimed, consumers, gating_mask)
        else:
            cursor = control["cursor"]
            claimed = cursor

        ring = {}
        for c in counters:
            if c["owner"] == "ring":
                ring[RING_KEYS[c["slot"]]] = c["value"]
        first_consumer_slot = len(RING_COUNTERS) + len(PRODUCER_COUNTERS) * h["max_producers"]
        by_entry = {}
        for c in counters:
            if c["owner"] != "ring":
                base = len(RING_COUNTERS) if c["owner"] == "producer" else first_consumer_slot
                key = ENTRY_KEYS[(c["slot"] - base) % len(ENTRY_KEYS)]
                by_entry.setdefault((c["owner"], c["owner_index"]), {})[key] = c["value"]

        for e in consumers:
            e.update(by_entry.get(("consumer", e["index"]), {}))
            e["mean_batch"] = e["events"] / e["batches"] if e["batches"] else None
            e["gating"] = bool(gating_mask >> e["index"] & 1)
            e["lag"] = max(cursor - e["sequence"], 0)
            e["alive"] = self.lease_held(LOCK_CONSUMER_LEASE + e["index"])
        for e in producers:
            e.update(by_entry.get(("producer", e["index"]), {}))
            e["mean_batch"] = e["events"] / e["batches"] if e["batches"] else None
            e["alive"] = self.lease_held(LOCK_PRODUCER_LEASE + e["index"])
            e["pending_claim"] = self.pending_claim(e) if multi else None

        if multi:
            published = sum(e["events"] for e in producers)
        else:
            published = max(cursor + 1, 0)
        gating = [e for e in consumers if e["gating"]]
        slowest = min(gating, key=lambda e: (e["sequence"], e["index"])) if gating else None
        derived = {
            "cursor": cursor,
            "claimed": claimed,
            "published": published,
            "abandoned": ring["abandoned"],
            "slowest_gating_consumer": None if slowest is None else slowest["index"],
            "held_back_by": None if slowest is None or slowest["lag"] == 0 else slowest["index"],
        }
        out = {
            "reader": "dmp_format.py",
            "path": self.path,
            "file_size": self.file_size,
            "taken_at_ns": taken_at_ns,
            "snapshot_tries": tries,
            "header": h,
            "regions": [
                {"index": i, "name": REGION_NAMES[i], "offset": off, "size": size, "end": off + size}
                for i, (off, size) in enumerate(h["regions"])
            ],
            "control": control,
            "ring_counters": ring,
            "consumers": consumers,
            "producers": producers,
            "counters": counters,
            "derived": derived,
            "wake_dir": wake_dir(self.path, os.fstat(self.fd)),
        }
        if want_payloads:
            out["events"] = self.events(cursor, claimed)
        return out

    def read_consumers(self, all_entries):
        h = self.header
        v = self.v
        base = h["regions"][1][0]
        out = []
        for i in range(h["max_consumers"]):
            e = base + i * ENTRY_SIZE
            state = v.u32(e + 128)
            if state == 0 and not all_entries:
                continue
            flags = v.u32(e + 132)
            out.append(
                {
                    "index": i,
                    "sequence": v.i64(e + 0),
                    "waiters": v.u32(e + 64),
                    "state_code": state,
                    "state": CONSUMER_STATES.get(state, "unknown(%d)" % state),
                    "flags": flags,
                    "optional": bool(flags & CONSUMER_OPTIONAL),
                    "dependencies": v.u64(e + 136),
                    "pid": v.u32(e + 144),
                    "start_time": v.u64(e + 152),
                    "generation": v.u64(e + 160),
                    "name": cstring(v.raw(e + 168, 64)),
                    "max_block_ns": v.u64(e + 232),
                    "evicted_at": v.i64(e + 240),
                }
            )
        return out

    def read_producers(self, all_entries):
        h = self.header
        v = self.v
        base = h["regions"][2][0]
        out = []
        for i in range(h["max_producers"]):
            e = base + i * ENTRY_SIZE
            state = v.u32(e + 128)
            if state == 0 and not all_entries:
                continue
            record = self.read_record(e)
            out.append(
                {
                    "index": i,
                    "record_version": record[0],
                    "record_lo": record[1],
                    "record_hi": record[2],
                    "record_state_code": record[3],
                    "record_state": RECORD_STATES.get(record[3], "unknown(%d)" % record[3]),
                    "record_consistent": record[4],
                    "state_code": state,
                    "state": PRODUCER_STATES.get(state, "unknown(%d)" % state),
                    "pid": v.u32(e + 132),
                    "start_time": v.u64(e + 136),
                    "epoch": v.u64(e + 144),
                }
            )
        return out

    def read_record(self, e):
        """The claim record under its sequence lock: an even version that
        reads the same before and after the fields."""
        v = self.v
        for _ in range(64):
            v1 = v.u64(e + 0)
            if v1 & 1 == 0:
                lo, hi, st = v.i64(e + 8), v.i64(e + 16), v.u32(e + 24)
                if v.u64(e + 0) == v1:
                    return v1, lo, hi, st, True
        return v.u64(e + 0), v.i64(e + 8), v.i64(e + 16), v.u32(e + 24), False

    def read_counters(self):
        h = self.header
        v = self.v
        off, size = h["regions"][5]
        mp = h["max_producers"]
        out = []
        for slot in range(size // BLOCK):
            s = off + slot * BLOCK
            kind = v.u32(s + 68)
            c = {
                "slot": slot,
                "id": v.u32(s + 64),
                "owner": OWNER_KINDS.get(kind, "unknown(%d)" % kind),
                "owner_index": v.u32(s + 72),
                "label": cstring(v.raw(s + 80, 48)),
                "value": v.u64(s + 0),
            }
            # The description FORMAT.md places in this slot.
            if slot < len(RING_COUNTERS):
                want = ("ring", 0) + RING_COUNTERS[slot]
            elif slot < len(RING_COUNTERS) + len(PRODUCER_COUNTERS) * mp:
                i, k = divmod(slot - len(RING_COUNTERS), len(PRODUCER_COUNTERS))
                want = ("producer", i) + PRODUCER_COUNTERS[k]
            else:
                i, k = divmod(slot - len(RING_COUNTERS) - len(PRODUCER_COUNTERS) * mp, len(CONSUMER_COUNTERS))
                want = ("consumer", i) + CONSUMER_COUNTERS[k]
            have = (c["owner"], c["owner_index"], c["id"], c["label"])
            if have != want:
                raise Refused(
                    "CORRUPT",
                    "counter slot %d is described as %r; FORMAT.md places %r there" % (slot, have, want),
                )
            out.append(c)
        return out

    def lease_held(self, byte):
        """Whether another open file description holds an OFD lock on
        `byte` (F_OFD_GETLK takes nothing). None when it cannot be asked."""
        op = getattr(fcntl, "F_OFD_GETLK", None)
        if op is None or struct.calcsize("q") != 8:
            return None
        # struct flock on 64-bit Linux: short l_type, short l_whence,
        # off_t l_start, off_t l_len, pid_t l_pid (native alignment).
        fmt = "@hhqqi4x"
        req = struct.pack(fmt, fcntl.F_WRLCK, os.SEEK_SET, byte, 1, 0)
        try:
            got = fcntl.fcntl(self.fd, op, req)
        except OSError:
            return None
        return struct.unpack(fmt, got)[0] != fcntl.F_UNLCK

    # -- slots -----------------------------------------------------------------

    def seq_state(self, s):
        """What the stamp (or flag) of sequence `s` says: published,
        abandoned, pending or lapped."""
        h = self.header
        cap = h["capacity"]
        i = s & (cap - 1)
        if h["stamp_offset"] != 0:
            v = self.v.i64(h["regions"][3][0] + i * h["slot_stride"] + h["stamp_offset"])
            if v == s + 1:
                return "published"
            if v == -(s + 1):
                return "abandoned"
            if abs(v) < s + 1:
                return "pending"
            return "lapped"
        if h["regions"][4][1] != 0:
            flag = self.v.u8(h["regions"][4][0] + i)
            rnd = (s // cap + 1) % 128
            if flag == rnd << 1:
                return "published"
            if flag == (rnd << 1 | 1):
                return "abandoned"
            d = ((flag >> 1) - rnd) % 128
            return "lapped" if 1 <= d <= 63 else "pending"
        # Packed single-producer rings: the cursor alone.
        return "published" if s <= self.v.i64(h["regions"][0][0]) else "pending"

    def multi_cursor(self, claimed, consumers, gating_mask):
        """FORMAT.md, "Derived figures": the highest sequence up to which
        everything is published or abandoned."""
        cap = self.header["capacity"]
        start = max(claimed - (cap - 1), 0)
        gating = [e["sequence"] for e in consumers if gating_mask >> e["index"] & 1]
        if gating:
            start = max(start, min(gating) + 1)
        for s in range(start, claimed + 1):
            if self.seq_state(s) not in ("published", "abandoned"):
                return s - 1
        return claimed

    def pending_claim(self, e):
        cap = self.header["capacity"]
        lo, hi = e["record_lo"], e["record_hi"]
        if not e["record_consistent"] or e["record_state"] != "claimed" or hi < lo or hi - lo >= cap:
            return None
        if any(self.seq_state(s) == "pending" for s in range(lo, hi + 1)):
            return [lo, hi]
        return None

    def events(self, cursor, claimed):
        """The events of the last ring's worth of sequences, decoded as
        `dmp produce` writes them."""
        h = self.header
        cap = h["capacity"]
        size = h["slot_size"]
        base = h["regions"][3][0]
        last = claimed if h["producer_mode"] == 1 else cursor
        out = []
        for s in range(max(last - cap + 1, 0), last + 1):
            state = self.seq_state(s)
            item = {"sequence": s, "state": state}
            if state == "published":
                raw = self.v.raw(base + (s & (cap - 1)) * h["slot_stride"], size)
                number = struct.unpack("=Q", raw[:8].ljust(8, b"\0"))[0]
                bad = [
                    k for k in range(8, size) if raw[k] != ((number * 31) + k) & 0xFF
                ]
                item.update(
                    {
                        "number": number,
                        "producer_id": number >> PRODUCER_SHIFT,
                        "n": number & ((1 << PRODUCER_SHIFT) - 1),
                        "pattern_ok": not bad,
                    }
                )
                if bad:
                    item["first_bad_byte"] = bad[0]
            out.append(item)
        return out


def decode_header(v):
    flags = v.u32(20)
    return {
        "magic": v.raw(0, 8).hex(),
        "format_version": v.u32(8),
        "header_size": v.u32(12),
        "endian": v.u32(16),
        "flags": flags,
        "wakeups": bool(flags & FLAG_WAKEUPS),
        "packed": bool(flags & FLAG_PACKED),
        "no_hot_counters": bool(flags & FLAG_NO_HOT_COUNTERS),
        "capacity": v.u64(24),
        "slot_size": v.u32(32),
        "slot_stride": v.u32(36),
        "producer_mode": v.u32(40),
        "max_consumers": v.u32(44),
        "max_producers": v.u32(48),
        "stamp_offset": v.u32(52),
        "type_id": v.u64(56),
        "total_size": v.u64(64),
        "creator_pid": v.u64(72),
        "creator_start_time": v.u64(80),
        "created_at_ns": v.u64(88),
        "created_at_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(v.u64(88) // 1_000_000_000)),
        "regions": [[v.u64(96 + 16 * i), v.u64(104 + 16 * i)] for i in range(8)],
        "unblock_timeout_ns": v.u64(224),
        "checksum": v.u64(CHECKSUM_AT),
        "state": v.u32(STATE_AT),
    }


def check_parameters(h):
    """Step 6 of the validation order: parameters in range, derived values
    exactly as computed."""

    def corrupt(msg):
        raise Refused("CORRUPT", msg)

    if h["header_size"] != HEADER_SIZE:
        corrupt("header_size %d, expected %d" % (h["header_size"], HEADER_SIZE))
    if h["flags"] & ~KNOWN_FLAGS:
        corrupt("unknown flag bits 0x%x" % (h["flags"] & ~KNOWN_FLAGS))
    cap = h["capacity"]
    if not 1 <= cap <= MAX_CAPACITY or cap & (cap - 1):
        corrupt("capacity %d is not a power of two in 1..=2^31" % cap)
    if not 1 <= h["slot_size"] <= MAX_SLOT_SIZE:
        corrupt("slot_size %d not in 1..=2^20" % h["slot_size"])
    if h["producer_mode"] not in (0, 1):
        corrupt("producer_mode %d" % h["producer_mode"])
    for key in ("max_consumers", "max_producers"):
        if not 1 <= h[key] <= MAX_ENTRIES:
            corrupt("%s %d not in 1..=64" % (key, h[key]))
    if h["producer_mode"] == 0 and h["max_producers"] != 1:
        corrupt("a single-producer ring with max_producers %d" % h["max_producers"])
    if not MIN_UNBLOCK_NS <= h["unblock_timeout_ns"] <= MAX_UNBLOCK_NS:
        corrupt("unblock_timeout_ns %d not in 1 ms..=1 h" % h["unblock_timeout_ns"])
    stride, stamp, regions, total = derive_layout(
        cap,
        h["slot_size"],
        h["packed"],
        h["producer_mode"] == 1,
        h["max_consumers"],
        h["max_producers"],
    )
    if total > MAX_TOTAL_SIZE:
        corrupt("the layout needs %d bytes, more than 2^40" % total)
    if h["slot_stride"] != stride:
        corrupt("slot_stride %d, computed %d" % (h["slot_stride"], stride))
    if h["stamp_offset"] != stamp:
        corrupt("stamp_offset %d, computed %d" % (h["stamp_offset"], stamp))
    if h["total_size"] != total:
        corrupt("total_size %d, computed %d" % (h["total_size"], total))
    for i, (rec, want) in enumerate(zip(h["regions"], regions)):
        if tuple(rec) != want:
            corrupt(
                "region %d (%s) is recorded as (%d, %d), computed (%d, %d)"
                % (i, REGION_NAMES[i], rec[0], rec[1], want[0], want[1])
            )


def main(argv=None):
    ap = argparse.ArgumentParser(description="Read a disruptor-mp segment from docs/FORMAT.md alone.")
    ap.add_argument("name", help="shm name (/dev/shm/NAME), or a path with --file")
    ap.add_argument("--file", action="store_true", help="NAME is a file path")
    ap.add_argument("--payloads", action="store_true", help="decode the last ring's worth of events as `dmp produce` writes them")
    ap.add_argument("--all-entries", action="store_true", help="also print free table entries")
    ap.add_argument("--indent", type=int, default=None, help="pretty-print the JSON")
    args = ap.parse_args(argv)
    path = args.name if args.file else "/dev/shm/" + args.name.lstrip("/")
    seg = None
    try:
        seg = Segment(path)
        seg.validate()
        out = seg.snapshot(want_payloads=args.payloads, all_entries=args.all_entries)
    except Refused as e:
        print("dmp_format: %s: %s: %s" % (path, e.code, e), file=sys.stderr)
        return 1
    except OSError as e:
        print("dmp_format: %s: %s" % (path, e.strerror or e), file=sys.stderr)
        return 2
    finally:
        if seg is not None:
            seg.close()
    json.dump(out, sys.stdout, indent=args.indent)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
