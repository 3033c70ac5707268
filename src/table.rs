//! Views of the participant tables and the control block: where each field
//! lives, and typed accessors. Values read here come from shared memory and
//! are untrusted: indices are masked to the table size, names are bounded.

use crate::layout::{
    consumer_entry as ce, control, producer_entry as pe, Layout, RegionKind, CONSUMER_ENTRY_SIZE,
    PRODUCER_ENTRY_SIZE,
};
use crate::region::Region;
use crate::sequence::SharedSequence;
use crate::sync::{fence, AtomicI64, AtomicU32, AtomicU64};
use std::sync::atomic::Ordering;

/// The control block and both tables of one segment.
#[derive(Debug, Clone, Copy)]
pub struct Tables {
    region: Region,
    control: u64,
    consumers: u64,
    producers: u64,
    max_consumers: u32,
    max_producers: u32,
    counters: crate::counters::Counters,
}

/// A consumer-table entry as read at one moment (for inspection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// Entry index.
    pub index: u32,
    /// State (`layout::state::*`).
    pub state: u32,
    /// Name.
    pub name: String,
    /// Committed sequence.
    pub sequence: i64,
    /// Dependency mask.
    pub dependencies: u64,
    /// PID of the last holder.
    pub pid: u32,
    /// Number of times the entry was joined.
    pub generation: u64,
}

impl Tables {
    /// The tables of `layout` in `region`.
    pub fn new(region: Region, layout: &Layout) -> Tables {
        let t = Tables {
            region,
            control: layout.region(RegionKind::Control).0,
            consumers: layout.region(RegionKind::Consumers).0,
            producers: layout.region(RegionKind::Producers).0,
            max_consumers: layout.params.max_consumers,
            max_producers: layout.params.max_producers,
            counters: crate::counters::Counters::new(region, layout),
        };
        // Bounds-check the last byte of each table once.
        let _ = region.ptr(
            t.consumer_offset(t.max_consumers - 1),
            CONSUMER_ENTRY_SIZE as usize,
        );
        let _ = region.ptr(
            t.producer_offset(t.max_producers - 1),
            PRODUCER_ENTRY_SIZE as usize,
        );
        t
    }

    /// The region these tables live in.
    pub fn region(&self) -> Region {
        self.region
    }

    /// Entries in the consumer table.
    pub fn max_consumers(&self) -> u32 {
        self.max_consumers
    }

    /// Mask of valid consumer-entry bits.
    pub fn consumer_bits(&self) -> u64 {
        if self.max_consumers >= 64 {
            u64::MAX
        } else {
            (1u64 << self.max_consumers) - 1
        }
    }

    /// The published cursor.
    pub fn cursor(&self) -> SharedSequence {
        SharedSequence::new(self.region, self.control + control::CURSOR)
    }

    /// Consumers gating the producer (bit per entry), masked to the table.
    pub fn gating_mask(&self) -> &AtomicU64 {
        self.region.u64(self.control + control::GATING_MASK)
    }

    /// Multi-producer claim counter: the highest claimed sequence.
    pub fn claim(&self) -> &AtomicI64 {
        self.region.i64(self.control + control::CLAIM)
    }

    /// Multi-producer rings: the notice blocking consumers sleep on.
    pub fn notice(&self) -> SharedSequence {
        SharedSequence::new(self.region, self.control + control::NOTICE)
    }

    /// Multi-producer rings: sequences abandoned so far.
    pub fn abandoned(&self) -> &AtomicU64 {
        self.counters.ring(crate::layout::counters::ABANDONED)
    }

    /// The counters region.
    pub fn counters(&self) -> &crate::counters::Counters {
        &self.counters
    }

    /// Entries in the producer table.
    pub fn max_producers(&self) -> u32 {
        self.max_producers
    }

    /// Bumped on every table change.
    pub fn table_generation(&self) -> &AtomicU64 {
        self.region.u64(self.control + control::TABLE_GENERATION)
    }

    /// Consumer entries retired over the ring's life (registry lock).
    pub fn retired(&self) -> &AtomicU64 {
        self.region.u64(self.control + control::RETIRED)
    }

    fn consumer_offset(&self, i: u32) -> u64 {
        let i = i % self.max_consumers;
        self.consumers + u64::from(i) * CONSUMER_ENTRY_SIZE
    }

    fn producer_offset(&self, i: u32) -> u64 {
        let i = i % self.max_producers;
        self.producers + u64::from(i) * PRODUCER_ENTRY_SIZE
    }

    /// Byte offset of consumer `i`'s committed sequence.
    pub fn consumer_sequence_offset(&self, i: u32) -> u64 {
        self.consumer_offset(i) + ce::SEQUENCE
    }

    /// Consumer `i`'s committed sequence.
    pub fn consumer_sequence(&self, i: u32) -> SharedSequence {
        SharedSequence::new(self.region, self.consumer_sequence_offset(i))
    }

    /// Consumer `i`'s state word.
    pub fn consumer_state(&self, i: u32) -> &AtomicU32 {
        self.region.u32(self.consumer_offset(i) + ce::STATE)
    }

    /// Consumer `i`'s flags (`consumer_entry::OPTIONAL`).
    pub fn consumer_flags(&self, i: u32) -> &AtomicU32 {
        self.region.u32(self.consumer_offset(i) + ce::FLAGS)
    }

    /// Optional consumer `i`'s eviction policy: how long it may hold a
    /// waiting producer back, in nanoseconds.
    pub fn consumer_max_block_ns(&self, i: u32) -> &AtomicU64 {
        self.region.u64(self.consumer_offset(i) + ce::MAX_BLOCK_NS)
    }

    /// Evicted consumer `i`'s committed sequence at eviction.
    pub fn consumer_evicted_at(&self, i: u32) -> &AtomicI64 {
        self.region.i64(self.consumer_offset(i) + ce::EVICTED_AT)
    }

    /// Whether consumer `i` is optional.
    pub fn consumer_is_optional(&self, i: u32) -> bool {
        self.consumer_flags(i).load(Ordering::Relaxed) & ce::OPTIONAL != 0
    }

    /// The head a joining consumer starts from: the cursor, or in
    /// multi-producer rings the claim counter (read with a read-modify-write,
    /// which sees the latest claim).
    pub fn head(&self, multi: bool) -> i64 {
        if multi {
            self.claim().fetch_add(0, Ordering::SeqCst)
        } else {
            self.cursor().value().load(Ordering::SeqCst)
        }
    }

    /// Consumer `i`'s dependency mask.
    pub fn consumer_dependencies(&self, i: u32) -> &AtomicU64 {
        self.region.u64(self.consumer_offset(i) + ce::DEPENDENCIES)
    }

    /// Consumer `i`'s holder PID.
    pub fn consumer_pid(&self, i: u32) -> &AtomicU32 {
        self.region.u32(self.consumer_offset(i) + ce::PID)
    }

    /// Consumer `i`'s holder start time.
    pub fn consumer_start_time(&self, i: u32) -> &AtomicU64 {
        self.region.u64(self.consumer_offset(i) + ce::START_TIME)
    }

    /// Consumer `i`'s join count.
    pub fn consumer_generation(&self, i: u32) -> &AtomicU64 {
        self.region.u64(self.consumer_offset(i) + ce::GENERATION)
    }

    /// Consumer `i`'s name (lossy, up to the first NUL).
    pub fn consumer_name(&self, i: u32) -> String {
        let raw = self
            .region
            .copy_out(self.consumer_offset(i) + ce::NAME, ce::NAME_LEN);
        let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
        String::from_utf8_lossy(&raw[..end]).into_owned()
    }

    /// Writes consumer `i`'s name (caller validated length and content).
    pub fn set_consumer_name(&self, i: u32, name: &str) {
        let mut raw = [0u8; ce::NAME_LEN];
        raw[..name.len()].copy_from_slice(name.as_bytes());
        self.region
            .copy_in(self.consumer_offset(i) + ce::NAME, &raw);
    }

    /// A snapshot of consumer `i`.
    pub fn consumer_record(&self, i: u32) -> ConsumerRecord {
        ConsumerRecord {
            index: i,
            state: self.consumer_state(i).load(Ordering::Acquire),
            name: self.consumer_name(i),
            sequence: self.consumer_sequence(i).get(),
            dependencies: self.consumer_dependencies(i).load(Ordering::Relaxed),
            pid: self.consumer_pid(i).load(Ordering::Relaxed),
            generation: self.consumer_generation(i).load(Ordering::Relaxed),
        }
    }

    /// Producer `i`'s state word.
    pub fn producer_state(&self, i: u32) -> &AtomicU32 {
        self.region.u32(self.producer_offset(i) + pe::STATE)
    }

    /// Producer `i`'s holder PID.
    pub fn producer_pid(&self, i: u32) -> &AtomicU32 {
        self.region.u32(self.producer_offset(i) + pe::PID)
    }

    /// Producer `i`'s holder start time.
    pub fn producer_start_time(&self, i: u32) -> &AtomicU64 {
        self.region.u64(self.producer_offset(i) + pe::START_TIME)
    }

    /// Producer `i`'s ownership epoch.
    pub fn producer_epoch(&self, i: u32) -> &AtomicU64 {
        self.region.u64(self.producer_offset(i) + pe::EPOCH)
    }

    /// Producer `i`'s claim record.
    pub fn claim_record(&self, i: u32) -> ClaimRecord {
        let base = self.producer_offset(i);
        ClaimRecord {
            version: self.region.u64(base + pe::RECORD_VERSION).into(),
            lo: self.region.i64(base + pe::RECORD_LO).into(),
            hi: self.region.i64(base + pe::RECORD_HI).into(),
            state: self.region.u32(base + pe::RECORD_STATE).into(),
        }
    }

    /// Minimum committed sequence over the gating consumers, `default`
    /// when there are none, with the entry that holds it.
    ///
    /// The leading fence orders the producer's earlier cursor store before
    /// the mask load. It pairs with a joining consumer that sets its mask
    /// bit and then reads the cursor (both sequentially consistent): either
    /// the producer sees the new consumer, or the consumer sees the cursor.
    pub fn gating_minimum(&self, default: i64) -> (i64, Option<u32>) {
        fence(Ordering::SeqCst);
        let mask = self.gating_mask().load(Ordering::Acquire) & self.consumer_bits();
        crate::sequence::minimum_of(
            &self.region,
            mask,
            |i| self.consumer_sequence_offset(i),
            default,
        )
    }
}

/// A multi-producer entry's claim record: the range its producer is taking
/// or has taken from the claim counter, under a sequence lock so a reader
/// never pairs the bounds of two different claims.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRecord {
    version: std::ptr::NonNull<AtomicU64>,
    lo: std::ptr::NonNull<AtomicI64>,
    hi: std::ptr::NonNull<AtomicI64>,
    state: std::ptr::NonNull<AtomicU32>,
}

// SAFETY: the pointers refer to atomics in the shared mapping, which
// outlives the record's holder (it holds the segment); atomics may be used
// from any thread.
unsafe impl Send for ClaimRecord {}
// SAFETY: as above.
unsafe impl Sync for ClaimRecord {}

/// A consistent reading of a claim record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimSnapshot {
    /// First claimed sequence.
    pub lo: i64,
    /// Last claimed sequence.
    pub hi: i64,
    /// `layout::claim::*`.
    pub state: u32,
}

impl ClaimRecord {
    #[inline]
    fn parts(&self) -> (&AtomicU64, &AtomicI64, &AtomicI64, &AtomicU32) {
        // SAFETY: (each of the four) built from bounds-checked, aligned
        // region accessors; the mapping outlives the record (see the Send
        // impl), and the atomics are only used as atomics.
        let version = unsafe { self.version.as_ref() };
        // SAFETY: as above.
        let lo = unsafe { self.lo.as_ref() };
        // SAFETY: as above.
        let hi = unsafe { self.hi.as_ref() };
        // SAFETY: as above.
        let state = unsafe { self.state.as_ref() };
        (version, lo, hi, state)
    }

    /// Rewrites the record (its producer only): plain stores on the
    /// producer's own cache line, bracketed by the version.
    #[inline]
    pub fn write(&self, lo: i64, hi: i64, state: u32) {
        let (version, l, h, st) = self.parts();
        let v = version.load(Ordering::Relaxed);
        version.store(v.wrapping_add(1) | 1, Ordering::Relaxed);
        fence(Ordering::Release);
        l.store(lo, Ordering::Relaxed);
        h.store(hi, Ordering::Relaxed);
        st.store(state, Ordering::Relaxed);
        version.store((v | 1).wrapping_add(1), Ordering::Release);
    }

    /// Changes only the state (one store; readers see either value with
    /// the same bounds).
    #[inline]
    pub fn set_state(&self, state: u32) {
        self.parts().3.store(state, Ordering::Release);
    }

    /// Reads the record consistently; `None` when it is being rewritten
    /// (retried a few times first) or a peer scribbled an odd version.
    pub fn read(&self) -> Option<ClaimSnapshot> {
        let (version, l, h, st) = self.parts();
        for _ in 0..64 {
            let v1 = version.load(Ordering::Acquire);
            if v1 & 1 == 0 {
                let snap = ClaimSnapshot {
                    lo: l.load(Ordering::Relaxed),
                    hi: h.load(Ordering::Relaxed),
                    state: st.load(Ordering::Relaxed),
                };
                fence(Ordering::Acquire);
                if version.load(Ordering::Relaxed) == v1 {
                    return Some(snap);
                }
            }
            crate::sync::spin_loop();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{claim, ProducerMode};
    use crate::segment::scratch;

    #[test]
    fn the_gating_minimum_covers_the_masked_consumers_only() {
        let segment = scratch::segment("table-gate", scratch::params(8, ProducerMode::Single, 0));
        let tables = Tables::new(segment.region(), segment.layout());
        assert_eq!(tables.gating_minimum(7), (7, None));
        tables.consumer_sequence(0).set(5);
        tables.consumer_sequence(1).set(3);
        tables.gating_mask().store(0b01, Ordering::SeqCst);
        assert_eq!(tables.gating_minimum(7), (5, Some(0)));
        tables.gating_mask().store(0b11, Ordering::SeqCst);
        assert_eq!(tables.gating_minimum(7), (3, Some(1)));
        // Bits past the table (a peer's scribble) name no entry.
        tables.gating_mask().store(0b100, Ordering::SeqCst);
        assert_eq!(tables.gating_minimum(7), (7, None));
    }

    #[test]
    fn a_claim_record_reads_whole_or_not_at_all() {
        let segment = scratch::segment("table-record", scratch::params(8, ProducerMode::Multi, 0));
        let tables = Tables::new(segment.region(), segment.layout());
        let record = tables.claim_record(1);
        record.write(4, 6, claim::INTENT);
        record.set_state(claim::CLAIMED);
        let read = record.read().unwrap();
        assert_eq!((read.lo, read.hi, read.state), (4, 6, claim::CLAIMED));
        // The other entry's record is untouched.
        assert_eq!(tables.claim_record(0).read().unwrap().state, claim::NONE);
        // A writer that died mid-rewrite leaves an odd version: no reader
        // pairs its bounds.
        let (version, ..) = record.parts();
        version.fetch_add(1, Ordering::SeqCst);
        assert_eq!(record.read(), None);
        // Its next rewrite makes it readable again.
        record.write(7, 7, claim::CLAIMED);
        assert_eq!(record.read().map(|r| (r.lo, r.hi)), Some((7, 7)));
    }

    #[test]
    fn consumer_names_round_trip_and_never_read_past_the_field() {
        let segment = scratch::segment("table-name", scratch::params(8, ProducerMode::Single, 0));
        let tables = Tables::new(segment.region(), segment.layout());
        tables.set_consumer_name(1, "audit");
        assert_eq!(tables.consumer_name(1), "audit");
        assert_eq!(tables.consumer_name(0), "");
        let longest = "n".repeat(ce::NAME_LEN);
        tables.set_consumer_name(0, &longest);
        assert_eq!(tables.consumer_name(0), longest);
        assert_eq!(tables.consumer_name(1), "audit");
        // A name overwritten by a shorter one keeps no tail.
        tables.set_consumer_name(0, "x");
        assert_eq!(tables.consumer_name(0), "x");
    }
}
