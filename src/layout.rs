//! The on-segment format: the header, the offset of every region, and the
//! validation of a segment written by another process.
//!
//! `docs/FORMAT.md` documents every byte; the constants here are the source
//! of truth and the tests at the bottom pin them. All integers are stored in
//! the machine's native byte order, which the `endian` field records.

use crate::error::{Error, Result};
use std::path::Path;

/// The eight bytes every segment starts with.
pub const MAGIC: [u8; 8] = *b"DMPRING\0";
/// The format version this library reads and writes. Version 2: packed
/// multi-producer rings keep one-byte round flags in the availability array
/// (version 1 kept an 8-byte stamp per slot there).
pub const FORMAT_VERSION: u32 = 2;
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

/// Offsets of header fields (see docs/FORMAT.md).
pub mod field {
    /// `[u8; 8]` magic.
    pub const MAGIC: usize = 0;
    /// `u32` format version.
    pub const FORMAT_VERSION: usize = 8;
    /// `u32` header size.
    pub const HEADER_SIZE: usize = 12;
    /// `u32` byte-order mark.
    pub const ENDIAN: usize = 16;
    /// `u32` flags.
    pub const FLAGS: usize = 20;
    /// `u64` number of slots.
    pub const CAPACITY: usize = 24;
    /// `u32` payload bytes per slot.
    pub const SLOT_SIZE: usize = 32;
    /// `u32` bytes between slots.
    pub const SLOT_STRIDE: usize = 36;
    /// `u32` producer mode.
    pub const PRODUCER_MODE: usize = 40;
    /// `u32` consumer-table entries.
    pub const MAX_CONSUMERS: usize = 44;
    /// `u32` producer-table entries.
    pub const MAX_PRODUCERS: usize = 48;
    /// `u32` stamp offset inside a slot.
    pub const STAMP_OFFSET: usize = 52;
    /// `u64` application type id.
    pub const TYPE_ID: usize = 56;
    /// `u64` segment size.
    pub const TOTAL_SIZE: usize = 64;
    /// `u64` creator PID.
    pub const CREATOR_PID: usize = 72;
    /// `u64` creator start time (clock ticks since boot).
    pub const CREATOR_START_TIME: usize = 80;
    /// `u64` creation time (ns since the Unix epoch).
    pub const CREATED_AT_NS: usize = 88;
    /// Region table: `REGION_COUNT` entries of (offset u64, size u64).
    pub const REGIONS: usize = 96;
    /// `u64` unblock timeout in nanoseconds (multi-producer rings: how long
    /// a claimed, unpublished sequence may hold consumers up before it is
    /// abandoned).
    pub const UNBLOCK_TIMEOUT_NS: usize = 224;
}

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

    /// Encodes the header block (without the `state` word, which the creator
    /// stores last).
    pub fn encode_header(&self, creator_pid: u32, start_time: u64, now_ns: u64) -> Vec<u8> {
        let mut h = vec![0u8; HEADER_SIZE as usize];
        let p = &self.params;
        put(&mut h, field::MAGIC, &MAGIC);
        put(&mut h, field::FORMAT_VERSION, &FORMAT_VERSION.to_ne_bytes());
        put(
            &mut h,
            field::HEADER_SIZE,
            &(HEADER_SIZE as u32).to_ne_bytes(),
        );
        put(&mut h, field::ENDIAN, &ENDIAN_MARK.to_ne_bytes());
        put(&mut h, field::FLAGS, &p.flags.to_ne_bytes());
        put(&mut h, field::CAPACITY, &p.capacity.to_ne_bytes());
        put(
            &mut h,
            field::SLOT_SIZE,
            &(p.slot_size as u32).to_ne_bytes(),
        );
        put(
            &mut h,
            field::SLOT_STRIDE,
            &(self.stride as u32).to_ne_bytes(),
        );
        put(
            &mut h,
            field::PRODUCER_MODE,
            &p.producer_mode.code().to_ne_bytes(),
        );
        put(&mut h, field::MAX_CONSUMERS, &p.max_consumers.to_ne_bytes());
        put(&mut h, field::MAX_PRODUCERS, &p.max_producers.to_ne_bytes());
        put(
            &mut h,
            field::STAMP_OFFSET,
            &(self.stamp_offset as u32).to_ne_bytes(),
        );
        put(&mut h, field::TYPE_ID, &p.type_id.to_ne_bytes());
        put(&mut h, field::TOTAL_SIZE, &self.total_size.to_ne_bytes());
        put(
            &mut h,
            field::CREATOR_PID,
            &u64::from(creator_pid).to_ne_bytes(),
        );
        put(&mut h, field::CREATOR_START_TIME, &start_time.to_ne_bytes());
        put(&mut h, field::CREATED_AT_NS, &now_ns.to_ne_bytes());
        put(
            &mut h,
            field::UNBLOCK_TIMEOUT_NS,
            &p.unblock_timeout_ns.to_ne_bytes(),
        );
        for (i, (off, size)) in self.regions.iter().enumerate() {
            put(&mut h, field::REGIONS + i * 16, &off.to_ne_bytes());
            put(&mut h, field::REGIONS + i * 16 + 8, &size.to_ne_bytes());
        }
        let sum = checksum(&h[..CHECKSUM_OFFSET]);
        put(&mut h, CHECKSUM_OFFSET, &sum.to_ne_bytes());
        h
    }

    /// Validates a header read from a segment of `file_len` bytes and returns
    /// its layout. `bytes` is a private copy of the first bytes of the file
    /// (at most `HEADER_SIZE`), so a peer changing the mapping meanwhile
    /// cannot make validation and use disagree.
    pub fn decode(path: &Path, bytes: &[u8], file_len: u64) -> Result<Layout> {
        let corrupt = |detail: String| Error::Corrupt {
            path: path.into(),
            detail,
        };
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            return Err(Error::NotASegment {
                path: path.into(),
                found: bytes[..bytes.len().min(8)].to_vec(),
            });
        }
        if (bytes.len() as u64) < HEADER_SIZE || file_len < HEADER_SIZE {
            return Err(Error::Truncated {
                path: path.into(),
                size: file_len,
                needed: HEADER_SIZE,
            });
        }
        let endian = get_u32(bytes, field::ENDIAN);
        let version = get_u32(bytes, field::FORMAT_VERSION);
        if endian != ENDIAN_MARK {
            return Err(corrupt(format!(
                "byte-order mark {endian:#010x}: written on a machine of the other byte order"
            )));
        }
        if version != FORMAT_VERSION {
            return Err(Error::VersionMismatch {
                path: path.into(),
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let stored = get_u64(bytes, CHECKSUM_OFFSET);
        let computed = checksum(&bytes[..CHECKSUM_OFFSET]);
        if stored != computed {
            return Err(Error::ChecksumMismatch {
                path: path.into(),
                stored,
                computed,
            });
        }
        let header_size = get_u32(bytes, field::HEADER_SIZE);
        if u64::from(header_size) != HEADER_SIZE {
            return Err(corrupt(format!(
                "header size {header_size}, expected {HEADER_SIZE}"
            )));
        }
        let mode_code = get_u32(bytes, field::PRODUCER_MODE);
        let producer_mode = ProducerMode::from_code(mode_code)
            .ok_or_else(|| corrupt(format!("unknown producer mode {mode_code}")))?;
        let params = Params {
            capacity: get_u64(bytes, field::CAPACITY),
            slot_size: u64::from(get_u32(bytes, field::SLOT_SIZE)),
            max_consumers: get_u32(bytes, field::MAX_CONSUMERS),
            max_producers: get_u32(bytes, field::MAX_PRODUCERS),
            producer_mode,
            type_id: get_u64(bytes, field::TYPE_ID),
            flags: get_u32(bytes, field::FLAGS),
            unblock_timeout_ns: get_u64(bytes, field::UNBLOCK_TIMEOUT_NS),
        };
        let layout =
            Layout::compute(params).map_err(|e| corrupt(format!("invalid parameters: {e}")))?;
        // Every derived value must be exactly what this version computes:
        // offsets pointing anywhere else (outside the mapping, overlapping
        // regions) are rejected here, before anything is dereferenced.
        let check = |name: &str, found: u64, want: u64| {
            if found == want {
                Ok(())
            } else {
                Err(corrupt(format!(
                    "{name} is {found}, the layout requires {want}"
                )))
            }
        };
        check(
            "slot stride",
            u64::from(get_u32(bytes, field::SLOT_STRIDE)),
            layout.stride,
        )?;
        check(
            "stamp offset",
            u64::from(get_u32(bytes, field::STAMP_OFFSET)),
            layout.stamp_offset,
        )?;
        check(
            "total size",
            get_u64(bytes, field::TOTAL_SIZE),
            layout.total_size,
        )?;
        for (i, (off, size)) in layout.regions.iter().enumerate() {
            let f_off = get_u64(bytes, field::REGIONS + i * 16);
            let f_size = get_u64(bytes, field::REGIONS + i * 16 + 8);
            if f_off
                .checked_add(f_size)
                .is_none_or(|end| end > layout.total_size)
            {
                return Err(corrupt(format!(
                    "region {i} [{f_off}, +{f_size}) lies outside the {}-byte segment",
                    layout.total_size
                )));
            }
            check(&format!("region {i} offset"), f_off, *off)?;
            check(&format!("region {i} size"), f_size, *size)?;
        }
        if file_len < layout.total_size {
            return Err(Error::Truncated {
                path: path.into(),
                size: file_len,
                needed: layout.total_size,
            });
        }
        for &(start, end) in &HEADER_RESERVED {
            if let Some(at) = (start..end).find(|&at| bytes[at] != 0) {
                return Err(corrupt(format!(
                    "reserved header byte at offset {at} is {:#04x}, not 0",
                    bytes[at]
                )));
            }
        }
        Ok(layout)
    }
}

/// FNV-1a, 64 bit: simple enough to reimplement in any language.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn put(buf: &mut [u8], at: usize, v: &[u8]) {
    buf[at..at + v.len()].copy_from_slice(v);
}

/// Reads a native `u32` at `at` (caller guarantees bounds).
pub fn get_u32(buf: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

/// Reads a native `u64` at `at` (caller guarantees bounds).
pub fn get_u64(buf: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(buf[at..at + 8].try_into().expect("8 bytes"))
}

/// Offsets inside the control region.
pub mod control {
    /// Published cursor (i64, -1 = nothing published); its low 32 bits are
    /// the futex word consumers sleep on.
    pub const CURSOR: u64 = 0;
    /// Number of sleepers on the cursor (u32).
    pub const CURSOR_WAITERS: u64 = 8;
    /// Multi-producer claim counter (i64), own line.
    pub const CLAIM: u64 = 128;
    /// Bit mask of consumer entries that gate the producer (u64), own line.
    pub const GATING_MASK: u64 = 256;
    /// Incremented on every consumer-table change (u64).
    pub const TABLE_GENERATION: u64 = 264;
    /// Multi-producer rings: the publication notice (u64) that blocking
    /// consumers sleep on, bumped by a publisher that sees sleepers.
    pub const NOTICE: u64 = 384;
    /// Number of sleepers on the notice (u32).
    pub const NOTICE_WAITERS: u64 = 392;
}

/// Offsets inside a consumer-table entry.
pub mod consumer_entry {
    /// Committed sequence (i64, -1 = none); low 32 bits are a futex word.
    pub const SEQUENCE: u64 = 0;
    /// Number of sleepers on the sequence (u32).
    pub const WAITERS: u64 = 8;
    /// Entry state (u32): 0 free, 1 joining, 2 active, 3 left, 4 evicted.
    pub const STATE: u64 = 128;
    /// Flags (u32): [`OPTIONAL`] or 0 (a required consumer).
    pub const FLAGS: u64 = 132;
    /// Flag: an optional consumer, which the producer evicts rather than
    /// wait for (see [`MAX_BLOCK_NS`]).
    pub const OPTIONAL: u32 = 1;
    /// Dependencies: bit i set = waits for consumer entry i (u64).
    pub const DEPENDENCIES: u64 = 136;
    /// PID of the holder (u32).
    pub const PID: u64 = 144;
    /// Start time of the holder, clock ticks since boot (u64).
    pub const START_TIME: u64 = 152;
    /// Incremented every time the entry is (re)joined (u64).
    pub const GENERATION: u64 = 160;
    /// NUL-padded name (64 bytes, at most 63 used).
    pub const NAME: u64 = 168;
    /// Name field length.
    pub const NAME_LEN: usize = 64;
    /// Optional consumers: how long, in nanoseconds, this consumer may hold
    /// a waiting producer back before it is evicted (u64; 0: never).
    pub const MAX_BLOCK_NS: u64 = 232;
    /// Evicted consumers: the committed sequence at eviction (i64). Events
    /// after it may have been overwritten.
    pub const EVICTED_AT: u64 = 240;
}

/// Offsets inside a producer-table entry.
pub mod producer_entry {
    /// Multi-producer rings: claim record seqlock version (u64, odd while
    /// the producer rewrites the record).
    pub const RECORD_VERSION: u64 = 0;
    /// First sequence of the producer's latest claim (i64).
    pub const RECORD_LO: u64 = 8;
    /// Last sequence of the producer's latest claim (i64).
    pub const RECORD_HI: u64 = 16;
    /// Claim record state (u32, `claim::*`).
    pub const RECORD_STATE: u64 = 24;
    /// Entry state (u32): 0 free, 2 active, 3 left.
    pub const STATE: u64 = 128;
    /// PID of the holder (u32).
    pub const PID: u64 = 132;
    /// Start time of the holder (u64).
    pub const START_TIME: u64 = 136;
    /// Ownership epoch, incremented by each new owner (u64).
    pub const EPOCH: u64 = 144;
}

/// Byte of the file whose OFD lock serialises table changes.
pub const LOCK_REGISTRY: u64 = 0;
/// First lease byte of consumer entries (entry i: `+ i`).
pub const LOCK_CONSUMER_LEASE: u64 = 1024;
/// First lease byte of producer entries (entry i: `+ i`).
pub const LOCK_PRODUCER_LEASE: u64 = 2048;

/// The counters region: `count(max_producers, max_consumers)` slots of
/// `SLOT` bytes. Slot `i` holds its value (u64) at offset 0, alone in its
/// cache line so only its writer owns it, and its description at
/// `META` (written once, at creation).
pub mod counters {
    /// Bytes per counter slot.
    pub const SLOT: u64 = 128;
    /// Offset of the value (u64) inside a slot, alone in its cache line.
    pub const VALUE: u64 = 0;
    /// Offset of the description inside a slot.
    pub const META: u64 = 64;
    /// Description: counter id (u32).
    pub const ID: u64 = META;
    /// Description: owner kind (u32, `OWNER_*`).
    pub const OWNER_KIND: u64 = META + 4;
    /// Description: owner index (u32): the table entry, 0 for the ring.
    pub const OWNER_INDEX: u64 = META + 8;
    /// Description: label, NUL-padded ASCII.
    pub const LABEL: u64 = META + 16;
    /// Label field length.
    pub const LABEL_LEN: usize = 48;

    /// Owner kind: the ring.
    pub const OWNER_RING: u32 = 0;
    /// Owner kind: a producer-table entry.
    pub const OWNER_PRODUCER: u32 = 1;
    /// Owner kind: a consumer-table entry.
    pub const OWNER_CONSUMER: u32 = 2;

    /// Declares a group of counters once: an index per counter (its slot
    /// order in the group, as a `usize` constant), and for each owner of
    /// the group its table of (id, label) in slot order, ids counted from
    /// the owner's first id. A table that leaves an index without a label
    /// does not compile.
    macro_rules! catalog {
        (
            $(#[$gm:meta])* $group:ident { $( $(#[$dm:meta])* $name:ident ),+ $(,)? }
            $( $(#[$tm:meta])* $table:ident from $base:literal { $( $key:ident => $label:literal ),+ $(,)? } )+
        ) => {
            $(#[$gm])*
            #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            #[repr(usize)]
            pub enum $group { $( $(#[$dm])* $name ),+ }
            impl $group {
                /// Counters in the group.
                pub const COUNT: usize = [$($group::$name),+].len();
            }
            $( $(#[$dm])* pub const $name: usize = $group::$name as usize; )+
            $(
                $(#[$tm])*
                pub const $table: [(u32, &str); $group::COUNT] = {
                    let mut t = [(u32::MAX, ""); $group::COUNT];
                    $( t[$group::$key as usize] = ($base + $group::$key as u32, $label); )+
                    let mut k = 0;
                    while k < t.len() {
                        assert!(t[k].0 != u32::MAX, "a counter without a label");
                        k += 1;
                    }
                    t
                };
            )+
        };
    }

    catalog! {
        /// Ring-wide counters, in slot order.
        RingCounter {
            /// Index in [`RING`] of attaches.
            ATTACHES,
            /// Index in [`RING`] of detaches.
            DETACHES,
            /// Index in [`RING`] of the abandoned-sequences counter.
            ABANDONED,
            /// Index in [`RING`] of producer back-pressure waits.
            BACK_PRESSURE_WAITS,
            /// Index in [`RING`] of futex wake-ups.
            WAKEUPS,
            /// Index in [`RING`] of consumer evictions.
            EVICTIONS,
            /// Index in [`RING`] of stalled-consumer alerts.
            STALL_ALERTS,
        }
        /// Ring-wide counters (ids 0..): id and label, in slot order.
        RING from 0 {
            ATTACHES => "attaches",
            DETACHES => "detaches",
            ABANDONED => "abandoned sequences",
            BACK_PRESSURE_WAITS => "producer back-pressure waits",
            WAKEUPS => "futex wake-ups issued",
            EVICTIONS => "consumer evictions",
            STALL_ALERTS => "stalled-consumer alerts",
        }
    }

    catalog! {
        /// Per-participant counters (the same indices for producers and
        /// consumers), in slot order.
        EntryCounter {
            /// Events published or consumed.
            EVENTS,
            /// Batches published or consumed.
            BATCHES,
            /// Waits (claims that waited, waits for events).
            WAITS,
            /// Waits that timed out.
            TIMEOUTS,
            /// Last activity, ns since the Unix epoch.
            ACTIVITY,
        }
        /// Per producer entry: (id, label), in slot order.
        PRODUCER from 16 {
            EVENTS => "events published",
            BATCHES => "batches published",
            WAITS => "claims that waited",
            TIMEOUTS => "claim timeouts",
            ACTIVITY => "last activity (ns since epoch)",
        }
        /// Per consumer entry: (id, label), in slot order.
        CONSUMER from 32 {
            EVENTS => "events consumed",
            BATCHES => "batches consumed",
            WAITS => "waits",
            TIMEOUTS => "wait timeouts",
            ACTIVITY => "last activity (ns since epoch)",
        }
    }

    /// Slot of ring-wide counter `k` (its index in [`RING`]).
    pub const fn ring_slot(k: usize) -> u64 {
        k as u64
    }
    /// Slot of producer entry `i`'s counter `k`.
    pub const fn producer_slot(i: u32, k: usize) -> u64 {
        (RING.len() + i as usize * PRODUCER.len() + k) as u64
    }
    /// Slot of consumer entry `i`'s counter `k`.
    pub const fn consumer_slot(max_producers: u32, i: u32, k: usize) -> u64 {
        (RING.len() + max_producers as usize * PRODUCER.len() + i as usize * CONSUMER.len() + k)
            as u64
    }
    /// Number of slots.
    pub const fn count(max_producers: u32, max_consumers: u32) -> u64 {
        (RING.len()
            + max_producers as usize * PRODUCER.len()
            + max_consumers as usize * CONSUMER.len()) as u64
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

/// Whether `fields` ((offset, size) in offset order) do not overlap, end by
/// `end` and are naturally aligned (byte arrays longer than 8: to 8).
const fn packed_in(fields: &[(u64, u64)], end: u64) -> bool {
    let (mut i, mut at) = (0, 0);
    while i < fields.len() {
        let (offset, size) = fields[i];
        let align = if size < 8 { size } else { 8 };
        if offset < at || offset % align != 0 {
            return false;
        }
        at = offset + size;
        i += 1;
    }
    at <= end
}

/// The 128-byte block of an offset: values written by different parties
/// sit in different blocks (two cache lines, so the adjacent-line
/// prefetcher does not couple their writers either).
const fn block(offset: u64) -> u64 {
    offset / LINE
}

/// A header offset (`usize`, as the encoder indexes bytes) as a `u64`.
const fn u(offset: usize) -> u64 {
    offset as u64
}

// The layouts above, checked when the crate compiles: every field fits its
// record, aligned and without overlap, and the values of different writers
// do not share a block.
const _: () = {
    use field as f;
    assert!(packed_in(
        &[
            (u(f::MAGIC), 8),
            (u(f::FORMAT_VERSION), 4),
            (u(f::HEADER_SIZE), 4),
            (u(f::ENDIAN), 4),
            (u(f::FLAGS), 4),
            (u(f::CAPACITY), 8),
            (u(f::SLOT_SIZE), 4),
            (u(f::SLOT_STRIDE), 4),
            (u(f::PRODUCER_MODE), 4),
            (u(f::MAX_CONSUMERS), 4),
            (u(f::MAX_PRODUCERS), 4),
            (u(f::STAMP_OFFSET), 4),
            (u(f::TYPE_ID), 8),
            (u(f::TOTAL_SIZE), 8),
            (u(f::CREATOR_PID), 8),
            (u(f::CREATOR_START_TIME), 8),
            (u(f::CREATED_AT_NS), 8),
            (u(f::REGIONS), 8),
            (u(f::REGIONS) + 16 * REGION_COUNT as u64 - 8, 8),
            (u(f::UNBLOCK_TIMEOUT_NS), 8),
            (u(CHECKSUM_OFFSET), 8),
            (u(STATE_OFFSET), 4),
        ],
        HEADER_SIZE
    ));
    // The checksum covers everything before it, the state comes after it.
    assert!(u(f::UNBLOCK_TIMEOUT_NS) + 8 <= u(CHECKSUM_OFFSET));

    use control as c;
    assert!(packed_in(
        &[
            (c::CURSOR, 8),
            (c::CURSOR_WAITERS, 4),
            (c::CLAIM, 8),
            (c::GATING_MASK, 8),
            (c::TABLE_GENERATION, 8),
            (c::NOTICE, 8),
            (c::NOTICE_WAITERS, 4),
        ],
        CONTROL_SIZE
    ));
    // The single producer's cursor, the producers' claim counter, the
    // registry's words and the multi-producer notice: four writers, four
    // blocks (each futex word shares its block with its sleeper count).
    assert!(block(c::CURSOR) == block(c::CURSOR_WAITERS));
    assert!(block(c::NOTICE) == block(c::NOTICE_WAITERS));
    assert!(block(c::CURSOR) != block(c::CLAIM));
    assert!(block(c::CLAIM) != block(c::GATING_MASK));
    assert!(block(c::GATING_MASK) == block(c::TABLE_GENERATION));
    assert!(block(c::GATING_MASK) != block(c::NOTICE));

    use consumer_entry as ce;
    assert!(packed_in(
        &[
            (ce::SEQUENCE, 8),
            (ce::WAITERS, 4),
            (ce::STATE, 4),
            (ce::FLAGS, 4),
            (ce::DEPENDENCIES, 8),
            (ce::PID, 4),
            (ce::START_TIME, 8),
            (ce::GENERATION, 8),
            (ce::NAME, ce::NAME_LEN as u64),
            (ce::MAX_BLOCK_NS, 8),
            (ce::EVICTED_AT, 8),
        ],
        CONSUMER_ENTRY_SIZE
    ));
    // The consumer's committed sequence (written per commit) has a block
    // of its own; the registry and evicting producers write the other.
    assert!(block(ce::WAITERS) == block(ce::SEQUENCE));
    assert!(block(ce::STATE) != block(ce::SEQUENCE));
    assert!(block(ce::EVICTED_AT) == block(ce::STATE));

    use producer_entry as pe;
    assert!(packed_in(
        &[
            (pe::RECORD_VERSION, 8),
            (pe::RECORD_LO, 8),
            (pe::RECORD_HI, 8),
            (pe::RECORD_STATE, 4),
            (pe::STATE, 4),
            (pe::PID, 4),
            (pe::START_TIME, 8),
            (pe::EPOCH, 8),
        ],
        PRODUCER_ENTRY_SIZE
    ));
    // The claim record (its producer, per claim) apart from the ownership
    // fields (the registry).
    assert!(block(pe::RECORD_STATE) == block(pe::RECORD_VERSION));
    assert!(block(pe::STATE) != block(pe::RECORD_VERSION));

    use counters as k;
    assert!(packed_in(
        &[
            (0, 8),
            (k::ID, 4),
            (k::OWNER_KIND, 4),
            (k::OWNER_INDEX, 4),
            (k::LABEL, k::LABEL_LEN as u64),
        ],
        k::SLOT
    ));
    // A counter's value (its writer's) apart from its description
    // (written once) and from every other counter.
    assert!(k::META >= 64 && k::SLOT == LINE);
};

#[cfg(test)]
mod tests {
    use super::*;

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

/// docs/FORMAT.md's offset tables ("offset | type | field") against the
/// constants above, so that a drifted offset, a field the document lacks
/// or one it has and the code does not fails a test.
#[cfg(test)]
mod format_doc {
    use super::*;
    use std::collections::BTreeMap;

    fn document() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FORMAT.md");
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
    }

    /// The cells of a Markdown table row (`\|` inside a cell kept).
    fn cells(line: &str) -> Vec<String> {
        let line = line.trim().replace("\\|", "\u{1}");
        line.trim_matches('|')
            .split('|')
            .map(|c| c.trim().replace('\u{1}', "|"))
            .collect()
    }

    /// The body rows of the first table in the `## ` section whose heading
    /// starts with `heading` and whose header row starts with `columns`.
    fn table(doc: &str, heading: &str, columns: &[&str]) -> Vec<Vec<String>> {
        let mut in_section = false;
        let mut rows: Option<Vec<Vec<String>>> = None;
        let mut lines = doc.lines().peekable();
        while let Some(line) = lines.next() {
            if let Some(h) = line.strip_prefix("## ") {
                if rows.is_some() {
                    break;
                }
                in_section = h.starts_with(heading);
                continue;
            }
            if !in_section || !line.starts_with('|') {
                if rows.is_some() {
                    break;
                }
                continue;
            }
            match &mut rows {
                None => {
                    let head = cells(line);
                    let matches = head.len() >= columns.len()
                        && head.iter().zip(columns).all(|(h, c)| h == c);
                    if matches {
                        // The separator row.
                        lines.next();
                        rows = Some(Vec::new());
                    }
                }
                Some(rows) => rows.push(cells(line)),
            }
        }
        rows.unwrap_or_else(|| {
            panic!("docs/FORMAT.md: no table {columns:?} under a heading \"## {heading}\"")
        })
    }

    /// The byte size of a documented type (`—`: a reserved gap up to the
    /// offset named in the field, "reserved to N").
    fn type_size(ty: &str, offset: u64, field: &str) -> u64 {
        let scalar = |t: &str| match t {
            "u8" => 1,
            "u32" | "i32" => 4,
            "u64" | "i64" => 8,
            other => panic!("docs/FORMAT.md: unknown type {other:?}"),
        };
        if ty == "—" {
            let to: u64 = field
                .strip_prefix("reserved to ")
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or_else(|| panic!("a `—` row must read \"reserved to N\": {field:?}"));
            return to - offset;
        }
        if let Some((elem, n)) = ty.strip_suffix(']').and_then(|t| t.rsplit_once('[')) {
            let n: u64 = n.parse().expect("array length");
            let elem = if let Some(tuple) = elem.strip_prefix('(') {
                tuple
                    .trim_end_matches(')')
                    .split(',')
                    .map(|t| scalar(t.trim()))
                    .sum()
            } else {
                scalar(elem)
            };
            return elem * n;
        }
        scalar(ty)
    }

    /// The natural alignment of a documented type.
    fn type_align(ty: &str) -> u64 {
        match ty {
            "u32" | "i32" => 4,
            "u64" | "i64" => 8,
            t if t.starts_with("(u64") => 8,
            _ => 1,
        }
    }

    /// A documented row: offset, size, and the field's name (its leading
    /// identifier; "reserved" for gaps).
    struct Row {
        offset: u64,
        size: u64,
        ty: String,
        name: String,
    }

    fn rows(doc: &str, heading: &str, offset_column: &str) -> Vec<Row> {
        table(doc, heading, &[offset_column, "type", "field"])
            .into_iter()
            .map(|c| {
                let offset: u64 = c[0]
                    .parse()
                    .unwrap_or_else(|_| panic!("{heading}: offset {:?} is not a number", c[0]));
                let name: String = c[2]
                    .chars()
                    .take_while(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || *ch == '_')
                    .collect();
                let name = if c[1] == "—" {
                    "reserved".to_string()
                } else {
                    name
                };
                Row {
                    offset,
                    size: type_size(&c[1], offset, &c[2]),
                    ty: c[1].clone(),
                    name,
                }
            })
            .collect()
    }

    /// Checks one table against `(field, offset, size)` of the code:
    /// every documented field is known and at the code's offset (with the
    /// code's size where it has one), every known field is documented, the
    /// rows ascend without overlap inside `block` bytes and are naturally
    /// aligned. Returns the reserved rows as (offset, size).
    fn check(
        doc: &str,
        heading: &str,
        offset_column: &str,
        block: u64,
        code: &[(&str, u64, Option<u64>)],
    ) -> Vec<(u64, u64)> {
        let rows = rows(doc, heading, offset_column);
        let mut documented: BTreeMap<&str, u64> = BTreeMap::new();
        let mut reserved = Vec::new();
        let mut end = 0;
        for r in &rows {
            assert!(
                r.offset >= end,
                "{heading}: {} at {} overlaps the row before (which ends at {end})",
                r.name,
                r.offset
            );
            end = r.offset + r.size;
            assert!(
                end <= block,
                "{heading}: {} at {} ({} bytes) runs past the {block}-byte block",
                r.name,
                r.offset,
                r.size
            );
            assert_eq!(
                r.offset % type_align(&r.ty),
                0,
                "{heading}: {} at {} is not aligned for {}",
                r.name,
                r.offset,
                r.ty
            );
            if r.name == "reserved" {
                reserved.push((r.offset, r.size));
                continue;
            }
            let known = code.iter().find(|(name, _, _)| *name == r.name);
            let (_, offset, size) = known.unwrap_or_else(|| {
                panic!(
                    "{heading}: FORMAT.md documents {:?} at {}, which layout.rs has no constant for",
                    r.name, r.offset
                )
            });
            assert_eq!(
                r.offset, *offset,
                "{heading}: FORMAT.md puts {} at offset {}, layout.rs at {offset}",
                r.name, r.offset
            );
            if let Some(size) = size {
                assert_eq!(
                    r.size, *size,
                    "{heading}: FORMAT.md gives {} {} bytes, layout.rs {size}",
                    r.name, r.size
                );
            }
            assert!(
                documented.insert(&r.name, r.offset).is_none(),
                "{heading}: {} documented twice",
                r.name
            );
        }
        for (name, offset, _) in code {
            assert!(
                documented.contains_key(name),
                "{heading}: layout.rs has {name} at {offset}, FORMAT.md does not document it"
            );
        }
        reserved
    }

    fn u(v: usize) -> u64 {
        v as u64
    }

    #[test]
    fn header_table_matches_the_field_offsets() {
        let doc = document();
        let f = |name, at: usize| (name, u(at), None);
        let code = [
            ("magic", u(field::MAGIC), Some(u(MAGIC.len()))),
            f("format_version", field::FORMAT_VERSION),
            f("header_size", field::HEADER_SIZE),
            f("endian", field::ENDIAN),
            f("flags", field::FLAGS),
            f("capacity", field::CAPACITY),
            f("slot_size", field::SLOT_SIZE),
            f("slot_stride", field::SLOT_STRIDE),
            f("producer_mode", field::PRODUCER_MODE),
            f("max_consumers", field::MAX_CONSUMERS),
            f("max_producers", field::MAX_PRODUCERS),
            f("stamp_offset", field::STAMP_OFFSET),
            f("type_id", field::TYPE_ID),
            f("total_size", field::TOTAL_SIZE),
            f("creator_pid", field::CREATOR_PID),
            f("creator_start_time", field::CREATOR_START_TIME),
            f("created_at_ns", field::CREATED_AT_NS),
            ("regions", u(field::REGIONS), Some(u(REGION_COUNT) * 16)),
            f("unblock_timeout_ns", field::UNBLOCK_TIMEOUT_NS),
            ("checksum", u(CHECKSUM_OFFSET), Some(8)),
            ("state", u(STATE_OFFSET), Some(4)),
        ];
        let reserved = check(&doc, "Header", "offset", HEADER_SIZE, &code);
        let want: Vec<(u64, u64)> = HEADER_RESERVED
            .iter()
            .map(|&(start, end)| (u(start), u(end - start)))
            .collect();
        assert_eq!(
            reserved, want,
            "the reserved rows of FORMAT.md's header table are not layout::HEADER_RESERVED"
        );
    }

    #[test]
    fn control_table_matches_layout_control() {
        let doc = document();
        let code = [
            ("cursor", control::CURSOR, Some(8)),
            ("cursor_waiters", control::CURSOR_WAITERS, Some(4)),
            ("claim", control::CLAIM, Some(8)),
            ("gating_mask", control::GATING_MASK, Some(8)),
            ("table_generation", control::TABLE_GENERATION, Some(8)),
            ("notice", control::NOTICE, Some(8)),
            ("notice_waiters", control::NOTICE_WAITERS, Some(4)),
        ];
        check(
            &doc,
            "Control region",
            "offset in region",
            CONTROL_SIZE,
            &code,
        );
    }

    #[test]
    fn consumer_entry_table_matches_layout_consumer_entry() {
        use consumer_entry as e;
        let doc = document();
        let code = [
            ("sequence", e::SEQUENCE, Some(8)),
            ("waiters", e::WAITERS, Some(4)),
            ("state", e::STATE, Some(4)),
            ("flags", e::FLAGS, Some(4)),
            ("dependencies", e::DEPENDENCIES, Some(8)),
            ("pid", e::PID, Some(4)),
            ("start_time", e::START_TIME, Some(8)),
            ("generation", e::GENERATION, Some(8)),
            ("name", e::NAME, Some(u(e::NAME_LEN))),
            ("max_block_ns", e::MAX_BLOCK_NS, Some(8)),
            ("evicted_at", e::EVICTED_AT, Some(8)),
        ];
        check(
            &doc,
            "Consumer table",
            "offset in entry",
            CONSUMER_ENTRY_SIZE,
            &code,
        );
    }

    #[test]
    fn producer_entry_table_matches_layout_producer_entry() {
        use producer_entry as e;
        let doc = document();
        let code = [
            ("record_version", e::RECORD_VERSION, Some(8)),
            ("record_lo", e::RECORD_LO, Some(8)),
            ("record_hi", e::RECORD_HI, Some(8)),
            ("record_state", e::RECORD_STATE, Some(4)),
            ("state", e::STATE, Some(4)),
            ("pid", e::PID, Some(4)),
            ("start_time", e::START_TIME, Some(8)),
            ("epoch", e::EPOCH, Some(8)),
        ];
        check(
            &doc,
            "Producer table",
            "offset in entry",
            PRODUCER_ENTRY_SIZE,
            &code,
        );
    }

    #[test]
    fn counter_slot_table_and_ids_match_layout_counters() {
        let doc = document();
        let code = [
            ("value", counters::VALUE, Some(8)),
            ("id", counters::ID, Some(4)),
            ("owner_kind", counters::OWNER_KIND, Some(4)),
            ("owner_index", counters::OWNER_INDEX, Some(4)),
            ("label", counters::LABEL, Some(u(counters::LABEL_LEN))),
        ];
        check(&doc, "Counters", "offset in slot", counters::SLOT, &code);
        // The id table: every counter, in slot order, with its owner.
        let documented: Vec<(u32, String, String)> =
            table(&doc, "Counters", &["id", "owner", "label"])
                .into_iter()
                .map(|c| {
                    (
                        c[0].parse().expect("counter id"),
                        c[1].clone(),
                        c[2].clone(),
                    )
                })
                .collect();
        let code: Vec<(u32, String, String)> = [
            ("ring", &counters::RING[..]),
            ("producer", &counters::PRODUCER[..]),
            ("consumer", &counters::CONSUMER[..]),
        ]
        .iter()
        .flat_map(|(owner, list)| {
            list.iter()
                .map(|(id, label)| (*id, owner.to_string(), label.to_string()))
        })
        .collect();
        assert_eq!(documented, code, "FORMAT.md's counter id table");
        // The region's size and the slot numbering.
        let formula = format!(
            "({} + {} * max_producers + {} * max_consumers) * {}",
            counters::RING.len(),
            counters::PRODUCER.len(),
            counters::CONSUMER.len(),
            counters::SLOT
        );
        assert!(
            doc.contains(&formula),
            "FORMAT.md does not give the counters region as {formula}"
        );
        for text in [
            format!(
                "`{} + {} * i`",
                counters::RING.len(),
                counters::PRODUCER.len()
            ),
            format!(
                "`{} + {} * max_producers + {} * i`",
                counters::RING.len(),
                counters::PRODUCER.len(),
                counters::CONSUMER.len()
            ),
        ] {
            assert!(
                doc.contains(&text),
                "FORMAT.md does not number the entry counters as {text}"
            );
        }
        assert_eq!(counters::producer_slot(1, 0), 7 + 5);
        assert_eq!(counters::consumer_slot(2, 1, 0), 7 + 5 * 2 + 5);
    }
}
