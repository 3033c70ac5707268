//! Consumers: registration in the segment's consumer table, the barrier a
//! consumer waits on (the producer's cursor, or the committed sequences of
//! the consumers it depends on), `wait_for` and `commit`.
//!
//! This file holds a consumer's state, [`ConsumerCore`], and its barrier;
//! `register` joins and leaves the table, `wait` waits for sequences,
//! `stamps` scans a multi-producer ring's stamps, `read` checks what may
//! be read, `commit` commits (and notices an eviction).

mod arm;
mod commit;
mod read;
mod register;
mod stamps;
mod wait;

pub(crate) use register::{validate_name, Join};

use crate::liveness::Lease;
use crate::sequence::{SharedSequence, Wakeups};
use crate::slots::Slots;
use crate::table::Tables;
use crate::wait::WaitStrategy;
pub use arm::Armed;
use std::time::{Duration, Instant};

/// What a consumer waits on before reading a sequence.
#[derive(Debug)]
enum Barrier {
    /// A first-stage consumer of a single-producer ring: the producer's
    /// cursor and the slot stamps.
    Cursor(SharedSequence),
    /// A first-stage consumer of a multi-producer ring: the stamps alone
    /// (published or abandoned, in order); blocking waiters sleep on the
    /// ring's publication notice.
    Stamps(SharedSequence),
    /// A dependent consumer: the committed sequences of the entries in the
    /// mask (pipelines and diamonds).
    Dependencies(u64),
}

/// A registered consumer (process-local state plus its table entry).
#[derive(Debug)]
pub struct ConsumerCore {
    tables: Tables,
    slots: Slots,
    index: u32,
    sequence: SharedSequence,
    barrier: Barrier,
    strategy: WaitStrategy,
    /// How `commit` wakes sleepers.
    wakeups: Wakeups,
    /// Last committed sequence.
    committed: i64,
    /// Highest sequence known to be available.
    available: i64,
    /// Multi-producer rings: sequences may be abandoned.
    multi: bool,
    /// Multi-producer rings: the unblock timeout.
    unblock: Duration,
    /// The pending sequence this consumer waits for, and since when.
    stuck: Option<(i64, Instant)>,
    /// An optional consumer, which a producer may evict.
    evictable: bool,
    /// Multi-producer rings: the lowest abandoned sequence the stamp scans
    /// found in the available window (`i64::MAX`: none), so that reading a
    /// batch does not scan its stamps a second time.
    abandoned_at: std::cell::Cell<i64>,
    /// Events its name missed when it joined.
    lost_on_join: u64,
    counters: crate::counters::EntryCounters,
    /// The wake-up fd for event loops, once asked for (see `arm`).
    /// Declared before the lease: dropped first, so the socket's name is
    /// removed while this process still holds the entry.
    wake: Option<arm::WakeFd>,
    _lease: Lease,
}

impl ConsumerCore {
    /// Entry index in the consumer table.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Last committed sequence.
    pub fn committed(&self) -> i64 {
        self.committed
    }

    /// Highest sequence known available (no shared read).
    #[inline(always)]
    pub fn known_available(&self) -> i64 {
        self.available
    }

    /// The slot array.
    pub fn slots(&self) -> &Slots {
        &self.slots
    }

    /// Whether this consumer is optional (evictable).
    pub fn is_optional(&self) -> bool {
        self.evictable
    }

    /// Events its name missed when it joined.
    pub fn lost_on_join(&self) -> u64 {
        self.lost_on_join
    }
}

/// Scenario tests' rings: a real ring in shared memory whose name is
/// unlinked at once (the mapping lives as long as the ring), and
/// consumers registered on it.
#[cfg(test)]
mod fixture {
    use super::ConsumerCore;
    use crate::{Location, Ring, RingOptions, WaitStrategy};
    use std::time::Duration;

    /// A new ring named after `tag` (unique per test) and this process.
    pub(super) fn ring(tag: &str, options: &RingOptions) -> Ring {
        let loc = Location::shm(format!("dmp-unit-{tag}-{}", std::process::id()));
        let ring = Ring::create(&loc, options).unwrap();
        Ring::unlink(&loc).unwrap();
        ring
    }

    /// A consumer `name` of `ring` after `dependencies`, required unless
    /// `optional` gives its `max_block`.
    pub(super) fn consumer(
        ring: &Ring,
        name: &str,
        dependencies: &[&str],
        optional: Option<Duration>,
    ) -> crate::Result<ConsumerCore> {
        let (segment, tables, slots) = ring.raw_parts();
        let dependencies: Vec<String> = dependencies.iter().map(|d| d.to_string()).collect();
        ConsumerCore::register(
            segment,
            tables,
            slots,
            name,
            &dependencies,
            WaitStrategy::Yield,
            super::Join {
                optional,
                oldest: false,
            },
        )
    }
}
