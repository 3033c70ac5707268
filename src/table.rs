//! Views of the participant tables and the control block: where each field
//! lives, and typed accessors. Values read here come from shared memory and
//! are untrusted: indices are masked to the table size, names are bounded.

use crate::layout::{
    consumer_entry as ce, control, producer_entry as pe, Layout, RegionKind, CONSUMER_ENTRY_SIZE,
    PRODUCER_ENTRY_SIZE,
};
use crate::region::Region;
use crate::sequence::SharedSequence;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The control block and both tables of one segment.
#[derive(Debug, Clone, Copy)]
pub struct Tables {
    region: Region,
    control: u64,
    consumers: u64,
    producers: u64,
    max_consumers: u32,
    max_producers: u32,
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

    /// Bumped on every table change.
    pub fn table_generation(&self) -> &AtomicU64 {
        self.region.u64(self.control + control::TABLE_GENERATION)
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

    /// Minimum committed sequence over the gating consumers, `default`
    /// when there are none, with the entry that holds it.
    ///
    /// The leading fence orders the producer's earlier cursor store before
    /// the mask load. It pairs with a joining consumer that sets its mask
    /// bit and then reads the cursor (both sequentially consistent): either
    /// the producer sees the new consumer, or the consumer sees the cursor.
    pub fn gating_minimum(&self, default: i64) -> (i64, Option<u32>) {
        std::sync::atomic::fence(Ordering::SeqCst);
        let mask = self.gating_mask().load(Ordering::Acquire) & self.consumer_bits();
        crate::sequence::minimum_of(
            &self.region,
            mask,
            |i| self.consumer_sequence_offset(i),
            default,
        )
    }
}
