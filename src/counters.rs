//! Counters in the segment, readable by any process without taking part:
//! ring-wide counters (attach and detach events, abandoned sequences,
//! back-pressure waits, futex wake-ups) and, per producer and consumer
//! entry, events and batches, waits, timeouts and the last activity time.
//!
//! Every counter has one slot of its own (value alone in its cache line,
//! description beside it; see `docs/FORMAT.md`). Per-entry counters have a
//! single writer, the entry's holder, so an increment is a relaxed load and
//! store (no locked instruction); ring-wide counters are incremented on cold
//! paths with a relaxed add. Per-entry counters accumulate over every holder
//! of the entry (a consumer that comes back under its name keeps them).

mod entry;

pub use entry::{EntryCounters, FLUSH_EVERY};

use crate::layout::{counters as c, Layout, RegionKind};
use crate::region::Region;
use crate::sync::AtomicU64;
use std::sync::atomic::Ordering;

/// The counters region of a segment.
#[derive(Debug, Clone, Copy)]
pub struct Counters {
    region: Region,
    base: u64,
    max_producers: u32,
    max_consumers: u32,
}

/// Who a counter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    /// The ring as a whole.
    Ring,
    /// A producer-table entry.
    Producer(u32),
    /// A consumer-table entry.
    Consumer(u32),
}

/// One counter as read at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterValue {
    /// Counter id (see `layout::counters`).
    pub id: u32,
    /// Its owner.
    pub owner: Owner,
    /// Its label.
    pub label: String,
    /// Its value.
    pub value: u64,
}

impl Counters {
    /// The counters of `layout` in `region` (bounds-checked once here).
    pub fn new(region: Region, layout: &Layout) -> Counters {
        let (base, size) = layout.region(RegionKind::Counters);
        let _ = region.ptr(base, size as usize);
        Counters {
            region,
            base,
            max_producers: layout.params.max_producers,
            max_consumers: layout.params.max_consumers,
        }
    }

    fn slot(&self, slot: u64) -> u64 {
        self.base + slot * c::SLOT
    }

    /// Writes every slot's description (at creation, before the segment is
    /// published).
    pub fn describe(&self) {
        let put = |slot: u64, id: u32, kind: u32, index: u32, label: &str| {
            let at = self.slot(slot);
            self.region.u32(at + c::ID).store(id, Ordering::Relaxed);
            self.region
                .u32(at + c::OWNER_KIND)
                .store(kind, Ordering::Relaxed);
            self.region
                .u32(at + c::OWNER_INDEX)
                .store(index, Ordering::Relaxed);
            let mut raw = [0u8; c::LABEL_LEN];
            raw[..label.len()].copy_from_slice(label.as_bytes());
            self.region.copy_in(at + c::LABEL, &raw);
        };
        for (k, (id, label)) in c::RING.iter().enumerate() {
            put(c::ring_slot(k), *id, c::OWNER_RING, 0, label);
        }
        for i in 0..self.max_producers {
            for (k, (id, label)) in c::PRODUCER.iter().enumerate() {
                put(c::producer_slot(i, k), *id, c::OWNER_PRODUCER, i, label);
            }
        }
        for i in 0..self.max_consumers {
            for (k, (id, label)) in c::CONSUMER.iter().enumerate() {
                let slot = c::consumer_slot(self.max_producers, i, k);
                put(slot, *id, c::OWNER_CONSUMER, i, label);
            }
        }
    }

    /// Ring-wide counter `k` (index in `layout::counters::RING`).
    pub fn ring(&self, k: usize) -> &AtomicU64 {
        self.region.u64(self.slot(c::ring_slot(k)))
    }

    /// Counter `k` of producer entry `i`.
    pub fn producer(&self, i: u32, k: usize) -> &AtomicU64 {
        self.region
            .u64(self.slot(c::producer_slot(i % self.max_producers, k)))
    }

    /// Counter `k` of consumer entry `i`.
    pub fn consumer(&self, i: u32, k: usize) -> &AtomicU64 {
        let i = i % self.max_consumers;
        self.region
            .u64(self.slot(c::consumer_slot(self.max_producers, i, k)))
    }

    /// Adds one to ring-wide counter `k` (cold paths).
    pub fn bump(&self, k: usize) {
        self.ring(k).fetch_add(1, Ordering::Relaxed);
    }

    /// The handle producer entry `i` counts through.
    pub fn for_producer(&self, i: u32) -> EntryCounters {
        EntryCounters::new(self, |k| self.producer(i, k))
    }

    /// The handle consumer entry `i` counts through.
    pub fn for_consumer(&self, i: u32) -> EntryCounters {
        EntryCounters::new(self, |k| self.consumer(i, k))
    }

    /// Every counter with its description, as stored (descriptions come
    /// from shared memory: labels are bounded and made printable).
    pub fn read_all(&self) -> Vec<CounterValue> {
        let n = c::count(self.max_producers, self.max_consumers);
        (0..n)
            .map(|slot| {
                let at = self.slot(slot);
                let kind = self.region.u32(at + c::OWNER_KIND).load(Ordering::Relaxed);
                let index = self.region.u32(at + c::OWNER_INDEX).load(Ordering::Relaxed);
                let raw = self.region.copy_out(at + c::LABEL, c::LABEL_LEN);
                let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
                let label: String = raw[..end]
                    .iter()
                    .map(|&b| {
                        if b.is_ascii_graphic() || b == b' ' {
                            b as char
                        } else {
                            '?'
                        }
                    })
                    .collect();
                CounterValue {
                    id: self.region.u32(at + c::ID).load(Ordering::Relaxed),
                    owner: match kind {
                        c::OWNER_PRODUCER => Owner::Producer(index),
                        c::OWNER_CONSUMER => Owner::Consumer(index),
                        _ => Owner::Ring,
                    },
                    label,
                    value: self.region.u64(at).load(Ordering::Relaxed),
                }
            })
            .collect()
    }
}

/// A described counters region, for the unit tests of this module and
/// `entry`.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::layout::{Params, ProducerMode};
    use crate::region::heap::HeapRegion;

    /// A counters region of a two-producer, two-consumer ring, described.
    pub fn counters() -> (HeapRegion, Counters) {
        let layout = Layout::compute(Params {
            capacity: 8,
            slot_size: 8,
            max_consumers: 2,
            max_producers: 2,
            producer_mode: ProducerMode::Multi,
            type_id: 0,
            flags: 0,
            unblock_timeout_ns: 1_000_000_000,
        })
        .unwrap();
        let heap = HeapRegion::new(layout.total_size);
        let counters = Counters::new(heap.region(), &layout);
        counters.describe();
        (heap, counters)
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::counters;
    use super::*;

    #[test]
    fn read_all_lists_the_catalog_with_owners_and_values() {
        let (_heap, counters) = counters();
        counters.bump(c::WAKEUPS);
        counters.for_consumer(1).wait(false);
        let all = counters.read_all();
        assert_eq!(all.len() as u64, c::count(2, 2));
        let find = |owner: Owner, label: &str| {
            all.iter()
                .find(|v| v.owner == owner && v.label == label)
                .unwrap_or_else(|| panic!("no {label} for {owner:?} in {all:?}"))
                .value
        };
        let (_, wakeups) = c::RING[c::WAKEUPS];
        let (_, waits) = c::CONSUMER[c::WAITS];
        assert_eq!(find(Owner::Ring, wakeups), 1);
        assert_eq!(find(Owner::Consumer(1), waits), 1);
        assert_eq!(find(Owner::Consumer(0), waits), 0);
    }
}
