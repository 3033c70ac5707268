//! Offsets inside the control region and the participant-table entries,
//! the lease bytes, and the compile-time checks of every record's layout
//! (the header's too): fields fit, aligned and without overlap, and values
//! of different writers sit in different 128-byte blocks.

use super::{
    counters, field, CHECKSUM_OFFSET, CONSUMER_ENTRY_SIZE, CONTROL_SIZE, HEADER_SIZE, LINE,
    PRODUCER_ENTRY_SIZE, REGION_COUNT, STATE_OFFSET,
};

/// A cache line: a sequence's value fills the first of its block's two,
/// its wake-up words sit in the second.
const CACHE_LINE: u64 = 64;

/// Offsets inside the control region.
pub mod control {
    /// Published cursor (i64, -1 = nothing published); its low 32 bits are
    /// the futex word consumers sleep on.
    pub const CURSOR: u64 = 0;
    /// Number of sleepers on the cursor (u32).
    pub const CURSOR_WAITERS: u64 = 64;
    /// Consumers whose wake-up fd is armed on the cursor (u64 bit mask).
    pub const CURSOR_ARMED: u64 = 72;
    /// Ring token of their wake-up socket names (u64).
    pub const CURSOR_WAKE_TOKEN: u64 = 80;
    /// Multi-producer claim counter (i64), own line.
    pub const CLAIM: u64 = 128;
    /// Bit mask of consumer entries that gate the producer (u64), own line.
    pub const GATING_MASK: u64 = 256;
    /// Incremented on every consumer-table change (u64).
    pub const TABLE_GENERATION: u64 = 264;
    /// Consumer entries retired (`Ring::retire_consumer`) over the ring's
    /// life (u64), written under the registry lock. Segments of earlier
    /// builds never wrote it: they read 0, which is exact for them.
    pub const RETIRED: u64 = 280;
    /// Multi-producer rings: the publication notice (u64) that blocking
    /// consumers sleep on, bumped by a publisher that sees sleepers.
    pub const NOTICE: u64 = 384;
    /// Number of sleepers on the notice (u32).
    pub const NOTICE_WAITERS: u64 = 448;
    /// Consumers whose wake-up fd is armed on the notice (u64 bit mask).
    pub const NOTICE_ARMED: u64 = 456;
    /// Ring token of their wake-up socket names (u64).
    pub const NOTICE_WAKE_TOKEN: u64 = 464;
}

/// Offsets inside a consumer-table entry.
pub mod consumer_entry {
    /// Committed sequence (i64, -1 = none); low 32 bits are a futex word.
    pub const SEQUENCE: u64 = 0;
    /// Number of sleepers on the sequence (u32).
    pub const WAITERS: u64 = 64;
    /// Dependent consumers whose wake-up fd is armed on this sequence
    /// (u64 bit mask).
    pub const ARMED: u64 = 72;
    /// Ring token of their wake-up socket names (u64).
    pub const WAKE_TOKEN: u64 = 80;
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
            (c::CURSOR_ARMED, 8),
            (c::CURSOR_WAKE_TOKEN, 8),
            (c::CLAIM, 8),
            (c::GATING_MASK, 8),
            (c::TABLE_GENERATION, 8),
            (c::RETIRED, 8),
            (c::NOTICE, 8),
            (c::NOTICE_WAITERS, 4),
            (c::NOTICE_ARMED, 8),
            (c::NOTICE_WAKE_TOKEN, 8),
        ],
        CONTROL_SIZE
    ));
    // The single producer's cursor, the producers' claim counter, the
    // registry's words and the multi-producer notice: four writers, four
    // blocks (each futex word shares its block with its sleeper count).
    assert!(block(c::CURSOR) == block(c::CURSOR_WAITERS));
    assert!(block(c::NOTICE) == block(c::NOTICE_WAITERS));
    // A sequence's wake-up words sit where `sequence::SharedSequence`
    // looks for them: the same offsets from every shared sequence (it
    // takes them from the consumer entry's).
    assert!(c::CURSOR_WAITERS - c::CURSOR == ce::WAITERS - ce::SEQUENCE);
    assert!(c::NOTICE_WAITERS - c::NOTICE == ce::WAITERS - ce::SEQUENCE);
    assert!(c::CURSOR_ARMED - c::CURSOR == ce::ARMED - ce::SEQUENCE);
    assert!(c::NOTICE_ARMED - c::NOTICE == ce::ARMED - ce::SEQUENCE);
    assert!(c::CURSOR_WAKE_TOKEN - c::CURSOR == ce::WAKE_TOKEN - ce::SEQUENCE);
    assert!(c::NOTICE_WAKE_TOKEN - c::NOTICE == ce::WAKE_TOKEN - ce::SEQUENCE);
    // ... in the second 64-byte cache line of the sequence's block: the
    // writer reads the sleeper count after every store of the value, and
    // a load from the line a spinning reader keeps pulling away (the
    // value's) halved the one-event rate (docs/ARCHITECTURE.md, "What one
    // event stores").
    assert!(ce::WAITERS - ce::SEQUENCE >= CACHE_LINE && ce::SEQUENCE % LINE == 0);
    assert!(ce::WAKE_TOKEN + 8 - ce::SEQUENCE <= LINE);
    assert!(block(c::CURSOR) != block(c::CLAIM));
    assert!(block(c::CLAIM) != block(c::GATING_MASK));
    assert!(block(c::GATING_MASK) == block(c::TABLE_GENERATION));
    assert!(block(c::GATING_MASK) == block(c::RETIRED));
    assert!(block(c::GATING_MASK) != block(c::NOTICE));

    use consumer_entry as ce;
    assert!(packed_in(
        &[
            (ce::SEQUENCE, 8),
            (ce::WAITERS, 4),
            (ce::ARMED, 8),
            (ce::WAKE_TOKEN, 8),
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
