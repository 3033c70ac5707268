//! The on-segment format: the header, the offset of every region, and the
//! validation of a segment written by another process.
//!
//! `docs/FORMAT.md` documents every byte; the constants here are the source
//! of truth and the tests at the bottom pin them. All integers are stored in
//! the machine's native byte order, which the `endian` field records.

use crate::error::{Error, Result};

pub mod counters;
mod header;
mod offsets;

pub use header::{checksum, field, get_u32, get_u64};
pub use offsets::{
    consumer_entry, control, producer_entry, LOCK_CONSUMER_LEASE, LOCK_PRODUCER_LEASE,
    LOCK_REGISTRY,
};

#[cfg(test)]
mod format_doc;

/// The eight bytes every segment starts with.
pub const MAGIC: [u8; 8] = *b"DMPRING\0";
/// The format version this library reads and writes. Version 3: each
/// shared sequence's sleeper count, armed mask and wake token sit in the
/// second cache line of its block (offsets 64, 72, 80 from the value;
/// version 2 had them at 8, 16, 24). Version 2: packed multi-producer
/// rings keep one-byte round flags in the availability array (version 1
/// kept an 8-byte stamp per slot there).
pub const FORMAT_VERSION: u32 = 3;
/// Size of the header block at offset 0.
pub const HEADER_SIZE: u64 = 512;
/// Written as a native `u32`; reads back differently on another byte order.
pub const ENDIAN_MARK: u32 = 0x0102_0304;
/// Offset of the checksum: FNV-1a 64 over bytes `[0, CHECKSUM_OFFSET)`.
pub const CHECKSUM_OFFSET: usize = 248;
/// Offset of the `state` word (outside the checksum).
pub const STATE_OFFSET: usize = 256;
/// `state` value of a fully initialised segment.
pub const STATE_READY: u32 = 1;
/// The reserved header bytes, as `[start, end)` ranges: 0 in every segment
/// of this version, and checked (a later version may give them a meaning,
/// which this one must refuse rather than misread). The first lies inside
/// the checksum, the second after the `state` word.
pub const HEADER_RESERVED: [(usize, usize); 2] = [
    (field::UNBLOCK_TIMEOUT_NS + 8, CHECKSUM_OFFSET),
    (STATE_OFFSET + 4, HEADER_SIZE as usize),
];

/// Size of one cache-line block that holds a shared value written by one
/// party. 128 bytes: two 64-byte lines, so the adjacent-line prefetcher does
/// not couple neighbours.
pub const LINE: u64 = 128;
/// Size of the control region (cursor, claim counter, table bookkeeping).
pub const CONTROL_SIZE: u64 = 4 * LINE;
/// Size of one consumer-table entry.
pub const CONSUMER_ENTRY_SIZE: u64 = 2 * LINE;
/// Size of one producer-table entry.
pub const PRODUCER_ENTRY_SIZE: u64 = 2 * LINE;
/// Slots start on a page boundary.
pub const PAGE: u64 = 4096;

/// Largest capacity accepted (slot indices fit in 31 bits).
pub const MAX_CAPACITY: u64 = 1 << 31;
/// Largest slot size accepted.
pub const MAX_SLOT_SIZE: u64 = 1 << 20;
/// Largest consumer table (dependencies are a 64-bit mask of entries).
pub const MAX_CONSUMERS: u32 = 64;
/// Largest producer table.
pub const MAX_PRODUCERS: u32 = 64;
/// Largest total segment size accepted (1 TiB).
pub const MAX_TOTAL_SIZE: u64 = 1 << 40;
/// Shortest unblock timeout accepted (1 ms).
pub const MIN_UNBLOCK_TIMEOUT_NS: u64 = 1_000_000;
/// Longest unblock timeout accepted (1 hour).
pub const MAX_UNBLOCK_TIMEOUT_NS: u64 = 3_600_000_000_000;

/// Header flag: publish and commit wake sleepers of the blocking strategy.
pub const FLAG_WAKEUPS: u32 = 1;
/// Header flag: packed slots (stride = slot size rounded to 8 bytes, no
/// publication stamps): densest for small events; consumers go by the
/// cursor. Without it, every slot is 64-byte aligned and carries a stamp in
/// the payload's cache line (lowest latency).
pub const FLAG_PACKED: u32 = 2;
/// Header flag: producers and consumers do not count their events and
/// batches (the cold-path counters are kept all the same).
pub const FLAG_NO_HOT_COUNTERS: u32 = 4;
/// Every flag this version knows.
pub const KNOWN_FLAGS: u32 = FLAG_WAKEUPS | FLAG_PACKED | FLAG_NO_HOT_COUNTERS;

/// Number of entries in the region table.
pub const REGION_COUNT: usize = 8;

/// Index of each region in the region table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum RegionKind {
    /// Cursor, claim counter, table bookkeeping.
    Control = 0,
    /// Consumer table.
    Consumers = 1,
    /// Producer table.
    Producers = 2,
    /// The slots.
    Slots = 3,
    /// Multi-producer packed rings: one availability flag byte per slot
    /// (round and state; see `slots`), read and written as aligned 64-bit
    /// words of eight flags. Empty otherwise.
    Availability = 4,
    /// Counters: ring-wide, then per producer entry, then per consumer
    /// entry (see [`counters`]).
    Counters = 5,
}

/// Producer mode recorded in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProducerMode {
    /// One producer process at a time; no read-modify-write on the hot path.
    Single,
    /// Several producer processes (shared claim counter).
    Multi,
}

impl ProducerMode {
    /// The value stored in the header.
    pub fn code(self) -> u32 {
        match self {
            ProducerMode::Single => 0,
            ProducerMode::Multi => 1,
        }
    }

    /// The mode for a stored value.
    pub fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(ProducerMode::Single),
            1 => Some(ProducerMode::Multi),
            _ => None,
        }
    }
}

/// The parameters a segment is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Number of slots, a power of two.
    pub capacity: u64,
    /// Bytes of payload per slot.
    pub slot_size: u64,
    /// Entries in the consumer table.
    pub max_consumers: u32,
    /// Entries in the producer table.
    pub max_producers: u32,
    /// Single or multi producer.
    pub producer_mode: ProducerMode,
    /// Application-chosen event type identifier (0 = none).
    pub type_id: u64,
    /// Header flags (`FLAG_*`).
    pub flags: u32,
    /// Multi-producer rings: how long a claimed, unpublished sequence may
    /// hold consumers up before it is abandoned (nanoseconds).
    pub unblock_timeout_ns: u64,
}

impl Params {
    /// Whether publish and commit wake futex sleepers ([`FLAG_WAKEUPS`]).
    pub fn wakeups(&self) -> bool {
        self.flags & FLAG_WAKEUPS != 0
    }

    /// Whether the slots are packed, without stamps ([`FLAG_PACKED`]).
    pub fn packed(&self) -> bool {
        self.flags & FLAG_PACKED != 0
    }

    /// Whether producers and consumers count events and batches (no
    /// [`FLAG_NO_HOT_COUNTERS`]).
    pub fn hot_counters(&self) -> bool {
        self.flags & FLAG_NO_HOT_COUNTERS == 0
    }
}

/// A validated layout: where everything lives in the mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The creation parameters.
    pub params: Params,
    /// `capacity - 1`.
    pub mask: u64,
    /// Distance between consecutive slots (multiple of 64).
    pub stride: u64,
    /// Offset of the publication stamp inside a slot (0: packed layout,
    /// no stamps).
    pub stamp_offset: u64,
    /// Region table: (offset, size) per [`RegionKind`].
    pub regions: [(u64, u64); REGION_COUNT],
    /// Total bytes of the segment.
    pub total_size: u64,
}

fn round_up(v: u64, to: u64) -> Option<u64> {
    v.checked_add(to - 1).map(|x| x / to * to)
}

impl Layout {
    /// Computes the layout for `params`, validating every parameter.
    pub fn compute(params: Params) -> Result<Layout> {
        let cap = params.capacity;
        if cap == 0 {
            return Err(Error::InvalidCapacity {
                capacity: cap,
                reason: "must be at least 1".into(),
            });
        }
        if !cap.is_power_of_two() {
            return Err(Error::InvalidCapacity {
                capacity: cap,
                reason: format!(
                    "must be a power of two (nearest: {})",
                    cap.checked_next_power_of_two().unwrap_or(MAX_CAPACITY)
                ),
            });
        }
        if cap > MAX_CAPACITY {
            return Err(Error::InvalidCapacity {
                capacity: cap,
                reason: format!("must be at most {MAX_CAPACITY}"),
            });
        }
        if params.slot_size == 0 || params.slot_size > MAX_SLOT_SIZE {
            return Err(Error::InvalidSlotSize {
                slot_size: params.slot_size,
                reason: format!("must be between 1 and {MAX_SLOT_SIZE} bytes"),
            });
        }
        if params.max_consumers == 0 || params.max_consumers > MAX_CONSUMERS {
            return Err(Error::InvalidArgument(format!(
                "max_consumers {} must be between 1 and {MAX_CONSUMERS}",
                params.max_consumers
            )));
        }
        if params.max_producers == 0 || params.max_producers > MAX_PRODUCERS {
            return Err(Error::InvalidArgument(format!(
                "max_producers {} must be between 1 and {MAX_PRODUCERS}",
                params.max_producers
            )));
        }
        if params.producer_mode == ProducerMode::Single && params.max_producers != 1 {
            return Err(Error::InvalidArgument(format!(
                "a single-producer ring has exactly 1 producer entry, not {}",
                params.max_producers
            )));
        }
        if !(MIN_UNBLOCK_TIMEOUT_NS..=MAX_UNBLOCK_TIMEOUT_NS).contains(&params.unblock_timeout_ns) {
            return Err(Error::InvalidArgument(format!(
                "unblock timeout {} ns must be between {MIN_UNBLOCK_TIMEOUT_NS} (1 ms) and {MAX_UNBLOCK_TIMEOUT_NS} (1 h)",
                params.unblock_timeout_ns
            )));
        }
        if params.flags & !KNOWN_FLAGS != 0 {
            return Err(Error::InvalidArgument(format!(
                "unknown flags {:#x}",
                params.flags & !KNOWN_FLAGS
            )));
        }
        // The stamp sits right after the payload, in the payload's last cache
        // line when there is room, so a consumer sees "published" and the
        // payload of a small event with one cache-line transfer.
        let (stamp_offset, stride) = if params.flags & FLAG_PACKED != 0 {
            (0, round_up(params.slot_size, 8).expect("slot size bounded"))
        } else {
            let stamp_offset = round_up(params.slot_size, 8).expect("slot size bounded");
            (
                stamp_offset,
                round_up(stamp_offset + 8, 64).expect("slot size bounded"),
            )
        };

        let mut regions = [(0u64, 0u64); REGION_COUNT];
        let mut at = HEADER_SIZE;
        let mut place = |kind: RegionKind, size: u64, align: u64| -> Option<()> {
            let off = round_up(at, align)?;
            regions[kind as usize] = (off, size);
            at = off.checked_add(size)?;
            Some(())
        };
        let too_large = || Error::InvalidCapacity {
            capacity: cap,
            reason: format!(
                "capacity x slot stride {stride} exceeds the {MAX_TOTAL_SIZE}-byte segment limit"
            ),
        };
        place(RegionKind::Control, CONTROL_SIZE, LINE).ok_or_else(too_large)?;
        place(
            RegionKind::Consumers,
            u64::from(params.max_consumers) * CONSUMER_ENTRY_SIZE,
            LINE,
        )
        .ok_or_else(too_large)?;
        place(
            RegionKind::Producers,
            u64::from(params.max_producers) * PRODUCER_ENTRY_SIZE,
            LINE,
        )
        .ok_or_else(too_large)?;
        let slots = cap.checked_mul(stride).ok_or_else(too_large)?;
        place(RegionKind::Slots, slots, PAGE).ok_or_else(too_large)?;
        let counters = counters::count(params.max_producers, params.max_consumers);
        place(RegionKind::Counters, counters * counters::SLOT, LINE).ok_or_else(too_large)?;
        if params.producer_mode == ProducerMode::Multi && stamp_offset == 0 {
            // Packed slots have no room for stamps: multi-producer rings
            // keep a one-byte flag per slot in an array of their own, 64 to
            // a cache line, in whole 64-bit words.
            let bytes = round_up(cap, 8).ok_or_else(too_large)?;
            place(RegionKind::Availability, bytes, LINE).ok_or_else(too_large)?;
        }
        let total_size = round_up(at, PAGE).ok_or_else(too_large)?;
        if total_size > MAX_TOTAL_SIZE {
            return Err(too_large());
        }
        Ok(Layout {
            mask: cap - 1,
            stride,
            stamp_offset,
            regions,
            total_size,
            params,
        })
    }

    /// (offset, size) of a region.
    pub fn region(&self, kind: RegionKind) -> (u64, u64) {
        self.regions[kind as usize]
    }

    /// Whether `kind` is present (non-empty) in this layout.
    pub fn has_region(&self, kind: RegionKind) -> bool {
        self.regions[kind as usize].1 != 0
    }

    /// Byte offset of the slot holding `seq`.
    #[inline]
    pub fn slot_offset(&self, seq: i64) -> u64 {
        self.regions[RegionKind::Slots as usize].0 + (seq as u64 & self.mask) * self.stride
    }
}

/// Claim-record states of a multi-producer entry.
pub mod claim {
    /// No claim recorded.
    pub const NONE: u32 = 0;
    /// About to take `[lo, hi]` from the claim counter (it may lose the race).
    pub const INTENT: u32 = 1;
    /// Took `[lo, hi]`: it must publish or abandon them.
    pub const CLAIMED: u32 = 2;
}

/// Publication stamp of `seq`: published.
#[inline]
pub const fn stamp_published(seq: i64) -> i64 {
    seq + 1
}

/// Publication stamp of `seq`: abandoned (multi-producer rings).
#[inline]
pub const fn stamp_abandoned(seq: i64) -> i64 {
    -(seq + 1)
}

/// Participant-entry states.
pub mod state {
    /// Never used.
    pub const FREE: u32 = 0;
    /// Being registered.
    pub const JOINING: u32 = 1;
    /// Registered and taking part.
    pub const ACTIVE: u32 = 2;
    /// Closed; name and sequence are kept for a later resume.
    pub const LEFT: u32 = 3;
    /// Consumers: an optional consumer the producer stopped waiting for
    /// (dead, or holding the producer back past its policy). It no longer
    /// gates; its holder learns on its next call and may rejoin.
    pub const EVICTED: u32 = 4;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn params(capacity: u64, slot_size: u64) -> Params {
        Params {
            capacity,
            slot_size,
            max_consumers: 4,
            max_producers: 1,
            producer_mode: ProducerMode::Single,
            type_id: 0,
            flags: 0,
            unblock_timeout_ns: 1_000_000_000,
        }
    }

    #[test]
    fn stamp_shares_the_payload_line_for_small_events() {
        let l = Layout::compute(params(8, 8)).unwrap();
        assert_eq!((l.stamp_offset, l.stride), (8, 64));
        let l = Layout::compute(params(8, 56)).unwrap();
        assert_eq!((l.stamp_offset, l.stride), (56, 64));
        let l = Layout::compute(params(8, 64)).unwrap();
        assert_eq!((l.stamp_offset, l.stride), (64, 128));
        let l = Layout::compute(params(8, 13)).unwrap();
        assert_eq!((l.stamp_offset, l.stride), (16, 64));
    }

    #[test]
    fn packed_slots_have_no_stamp_and_8_byte_stride() {
        let mut p = params(8, 8);
        p.flags = FLAG_PACKED;
        let l = Layout::compute(p.clone()).unwrap();
        assert_eq!((l.stamp_offset, l.stride), (0, 8));
        p.slot_size = 13;
        let l = Layout::compute(p).unwrap();
        assert_eq!((l.stamp_offset, l.stride), (0, 16));
    }

    #[test]
    fn regions_are_aligned_and_disjoint() {
        let l = Layout::compute(params(1024, 100)).unwrap();
        let mut end = HEADER_SIZE;
        for (off, size) in &l.regions[..4] {
            assert!(*off >= end);
            assert_eq!(off % LINE, 0);
            end = off + size;
        }
        assert_eq!(l.region(RegionKind::Slots).0 % PAGE, 0);
        assert_eq!(l.total_size % PAGE, 0);
        assert!(l.total_size >= end);
    }

    #[test]
    fn bad_parameters_have_distinct_errors() {
        use crate::error::Status;
        let st = |p| Layout::compute(p).unwrap_err().status();
        assert_eq!(st(params(0, 8)), Status::InvalidCapacity);
        assert_eq!(st(params(12, 8)), Status::InvalidCapacity);
        assert_eq!(st(params(1 << 40, 8)), Status::InvalidCapacity);
        assert_eq!(st(params(1 << 31, 1 << 20)), Status::InvalidCapacity);
        assert_eq!(st(params(8, 0)), Status::InvalidSlotSize);
        assert_eq!(st(params(8, (1 << 20) + 1)), Status::InvalidSlotSize);
    }

    #[test]
    fn header_round_trips_and_detects_damage() {
        let l = Layout::compute(params(64, 24)).unwrap();
        let h = l.encode_header(42, 7, 9);
        let p = Path::new("/x");
        assert_eq!(Layout::decode(p, &h, l.total_size).unwrap(), l);
        use crate::error::Status;
        let st = |b: &[u8], len| Layout::decode(p, b, len).unwrap_err().status();
        assert_eq!(st(&h, l.total_size - 1), Status::Truncated);
        assert_eq!(st(&h[..100], 100), Status::Truncated);
        assert_eq!(st(b"hello world", 11), Status::NotASegment);
        assert_eq!(st(&[], 0), Status::NotASegment);
        let mut bad = h.clone();
        bad[field::CAPACITY] ^= 1;
        assert_eq!(st(&bad, l.total_size), Status::ChecksumMismatch);
        // The previous version (8-byte availability stamps) is refused.
        let mut v1 = h.clone();
        v1[field::FORMAT_VERSION..field::FORMAT_VERSION + 4].copy_from_slice(&1u32.to_ne_bytes());
        assert_eq!(st(&v1, l.total_size), Status::VersionMismatch);
        // Offsets outside the mapping, with a valid checksum.
        let mut far = h.clone();
        far[field::REGIONS + 3 * 16..field::REGIONS + 3 * 16 + 8]
            .copy_from_slice(&(1u64 << 50).to_ne_bytes());
        let sum = checksum(&far[..CHECKSUM_OFFSET]);
        far[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 8].copy_from_slice(&sum.to_ne_bytes());
        let e = Layout::decode(p, &far, l.total_size).unwrap_err();
        assert_eq!(e.status(), Status::Corrupt);
        assert!(e.to_string().contains("outside"), "{e}");
    }

    #[test]
    fn reserved_header_bytes_must_be_zero() {
        use crate::error::Status;
        let l = Layout::compute(params(64, 24)).unwrap();
        let h = l.encode_header(42, 7, 9);
        let p = Path::new("/x");
        let with_sum = |mut b: Vec<u8>| {
            let sum = checksum(&b[..CHECKSUM_OFFSET]);
            b[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 8].copy_from_slice(&sum.to_ne_bytes());
            b
        };
        // The ranges are the ones docs/FORMAT.md gives.
        assert_eq!(HEADER_RESERVED, [(232, 248), (260, 512)]);
        for (start, end) in HEADER_RESERVED {
            for at in [start, (start + end) / 2, end - 1] {
                let mut bad = h.clone();
                bad[at] = 0x5a;
                // Inside the checksum, the checksum fails first.
                if at < CHECKSUM_OFFSET {
                    let e = Layout::decode(p, &bad, l.total_size).unwrap_err();
                    assert_eq!(e.status(), Status::ChecksumMismatch, "{e}");
                }
                let bad = with_sum(bad);
                let e = Layout::decode(p, &bad, l.total_size).unwrap_err();
                assert_eq!(e.status(), Status::Corrupt, "offset {at}: {e}");
                let msg = e.to_string();
                assert!(
                    msg.contains(&format!("reserved header byte at offset {at} ")),
                    "{msg}"
                );
                // Truncation is reported before the reserved bytes.
                let e = Layout::decode(p, &bad, l.total_size - 1).unwrap_err();
                assert_eq!(e.status(), Status::Truncated, "{e}");
            }
        }
        // The bytes that are not reserved may be anything a valid header
        // holds: the state word itself is the opener's to check.
        let mut state = h.clone();
        state[STATE_OFFSET..STATE_OFFSET + 4].copy_from_slice(&STATE_READY.to_ne_bytes());
        assert_eq!(Layout::decode(p, &state, l.total_size).unwrap(), l);
    }
}
