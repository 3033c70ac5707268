//! A snapshot of a ring as an outside observer sees it: the counters and
//! the participant tables, with liveness. Taking one reads shared memory
//! and queries locks without taking any, so it never blocks or slows the
//! ring; any process that can open the segment may take one.

use crate::counters::{CounterValue, Owner};
use crate::layout::{
    claim, counters as c, state, ProducerMode, LOCK_CONSUMER_LEASE, LOCK_PRODUCER_LEASE,
};
use crate::segment::Segment;
use crate::slots::{Slots, Stamp};
use crate::sys;
use crate::table::Tables;
use std::sync::atomic::Ordering;

/// One consumer-table entry in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerStatus {
    /// Entry index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// State (`layout::state::*`).
    pub state: u32,
    /// Last committed sequence.
    pub sequence: i64,
    /// Cursor minus `sequence` (events published and not yet consumed).
    pub lag: i64,
    /// Whether the entry holds the producers back (it is in the gating
    /// mask).
    pub gating: bool,
    /// Dependency mask (bit `j`: waits for entry `j`).
    pub dependencies: u64,
    /// PID of the last holder.
    pub pid: u32,
    /// Whether a live process holds the entry's lease.
    pub alive: bool,
    /// Times the entry was joined.
    pub generation: u64,
    /// An optional consumer (evicted rather than waited for); otherwise
    /// required.
    pub optional: bool,
    /// Events consumed (committed), over every holder of the entry.
    pub events: u64,
    /// Commits that advanced.
    pub batches: u64,
    /// Waits (calls that found nothing available).
    pub waits: u64,
    /// Waits that timed out.
    pub timeouts: u64,
    /// Last activity, ns since the Unix epoch (0: never).
    pub last_activity_ns: u64,
}

/// One producer-table entry in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerStatus {
    /// Entry index.
    pub index: u32,
    /// State (`layout::state::*`).
    pub state: u32,
    /// PID of the last holder.
    pub pid: u32,
    /// Whether a live process holds the entry's lease.
    pub alive: bool,
    /// Ownership epoch.
    pub epoch: u64,
    /// Multi-producer rings: the entry's unpublished claim, if any.
    pub pending_claim: Option<(i64, i64)>,
    /// Events published, over every holder of the entry.
    pub events: u64,
    /// Publishes.
    pub batches: u64,
    /// Claims that had to wait for consumers.
    pub waits: u64,
    /// Claims that timed out.
    pub timeouts: u64,
    /// Last activity, ns since the Unix epoch (0: never).
    pub last_activity_ns: u64,
}

/// A ring as seen at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// When it was taken, ns since the Unix epoch.
    pub taken_at_ns: u64,
    /// Single producer: the last published sequence. Multi-producer: the
    /// highest sequence up to which everything is published or abandoned.
    pub cursor: i64,
    /// Highest claimed sequence (the cursor in single-producer rings).
    pub claimed: i64,
    /// Events published: in single-producer rings `cursor + 1` (exact);
    /// in multi-producer rings the sum over producer entries (as of their
    /// last flush, see `counters::FLUSH_EVERY`).
    pub published: u64,
    /// Sequences abandoned (multi-producer rings).
    pub abandoned: u64,
    /// Consumers that attached, over the ring's life.
    pub attaches: u64,
    /// Consumers and producers that detached.
    pub detaches: u64,
    /// Claims that had to wait for consumers, all producers.
    pub back_pressure_waits: u64,
    /// Futex wake-ups issued.
    pub wakeups: u64,
    /// Optional consumers evicted.
    pub evictions: u64,
    /// Stalled required consumers reported by producers.
    pub stall_alerts: u64,
    /// Dead consumers' entries retired (`Ring::retire_consumer`).
    pub retired: u64,
    /// Every counter, labelled, as stored.
    pub counters: Vec<CounterValue>,
    /// Used consumer-table entries.
    pub consumers: Vec<ConsumerStatus>,
    /// Used producer-table entries.
    pub producers: Vec<ProducerStatus>,
}

impl Snapshot {
    /// The participants whose process is alive (holds its lease), as
    /// "producer 0 (pid 12)" and "consumer 'audit' (pid 34)": what makes a
    /// ring live (`Ring::remove` refuses it, `dmp rm` names them).
    pub fn live_participants(&self) -> Vec<String> {
        let producers = self
            .producers
            .iter()
            .filter(|p| p.alive)
            .map(|p| format!("producer {} (pid {})", p.index, p.pid));
        let consumers = self
            .consumers
            .iter()
            .filter(|c| c.alive)
            .map(|c| format!("consumer '{}' (pid {})", c.name, c.pid));
        producers.chain(consumers).collect()
    }

    /// The gating consumer with the lowest sequence (the one holding the
    /// producers back), if any consumer gates.
    pub fn slowest(&self) -> Option<&ConsumerStatus> {
        self.consumers
            .iter()
            .filter(|c| c.gating)
            .min_by_key(|c| (c.sequence, c.index))
    }
}

fn value(counters: &[CounterValue], owner: Owner, id: u32) -> u64 {
    counters
        .iter()
        .find(|v| v.owner == owner && v.id == id)
        .map_or(0, |v| v.value)
}

/// Takes a snapshot. The tables are read until two readings of the table
/// generation agree (a few tries), so no entry is caught half-changed by a
/// registration.
pub(crate) fn take(segment: &Segment, tables: &Tables, slots: &Slots, cursor: i64) -> Snapshot {
    let params = &segment.layout().params;
    let alive = |byte: u64| sys::lock_held(segment.file(), byte).unwrap_or(false);
    let (consumers, producers) = {
        let mut tries = 0;
        loop {
            let before = tables.table_generation().load(Ordering::Acquire);
            let read = read_tables(tables, slots, cursor, &alive);
            tries += 1;
            if tables.table_generation().load(Ordering::Acquire) == before || tries >= 8 {
                break read;
            }
        }
    };
    let counters = tables.counters().read_all();
    let ring = |k: usize| value(&counters, Owner::Ring, c::RING[k].0);
    let claimed = match params.producer_mode {
        ProducerMode::Single => tables.cursor().get(),
        ProducerMode::Multi => tables.claim().load(Ordering::Acquire),
    };
    let mut consumers = consumers;
    let mut producers = producers;
    for s in &mut consumers {
        let v = |k: usize| value(&counters, Owner::Consumer(s.index), c::CONSUMER[k].0);
        (s.events, s.batches, s.waits, s.timeouts, s.last_activity_ns) = (
            v(c::EVENTS),
            v(c::BATCHES),
            v(c::WAITS),
            v(c::TIMEOUTS),
            v(c::ACTIVITY),
        );
    }
    for s in &mut producers {
        let v = |k: usize| value(&counters, Owner::Producer(s.index), c::PRODUCER[k].0);
        (s.events, s.batches, s.waits, s.timeouts, s.last_activity_ns) = (
            v(c::EVENTS),
            v(c::BATCHES),
            v(c::WAITS),
            v(c::TIMEOUTS),
            v(c::ACTIVITY),
        );
    }
    let counted: u64 = producers.iter().map(|p| p.events).sum();
    // A single producer's published count is its cursor: exact at any
    // moment, where the counted events lag by the holders' flush interval.
    let published = if params.producer_mode == ProducerMode::Single {
        (cursor + 1).max(0) as u64
    } else {
        counted
    };
    Snapshot {
        taken_at_ns: sys::unix_time_ns(),
        cursor,
        claimed,
        published,
        abandoned: ring(c::ABANDONED),
        attaches: ring(c::ATTACHES),
        detaches: ring(c::DETACHES),
        back_pressure_waits: ring(c::BACK_PRESSURE_WAITS),
        wakeups: ring(c::WAKEUPS),
        evictions: ring(c::EVICTIONS),
        stall_alerts: ring(c::STALL_ALERTS),
        retired: tables.retired().load(Ordering::Relaxed),
        counters,
        consumers,
        producers,
    }
}

fn read_tables(
    tables: &Tables,
    slots: &Slots,
    cursor: i64,
    alive: &impl Fn(u64) -> bool,
) -> (Vec<ConsumerStatus>, Vec<ProducerStatus>) {
    let mask = tables.gating_mask().load(Ordering::Acquire) & tables.consumer_bits();
    let consumers = (0..tables.max_consumers())
        .map(|i| tables.consumer_record(i))
        .filter(|r| r.state != state::FREE)
        .map(|r| ConsumerStatus {
            index: r.index,
            lag: cursor.saturating_sub(r.sequence).max(0),
            gating: mask & (1 << r.index) != 0,
            alive: alive(LOCK_CONSUMER_LEASE + u64::from(r.index)),
            name: r.name,
            state: r.state,
            sequence: r.sequence,
            dependencies: r.dependencies,
            pid: r.pid,
            generation: r.generation,
            optional: tables.consumer_is_optional(r.index),
            events: 0,
            batches: 0,
            waits: 0,
            timeouts: 0,
            last_activity_ns: 0,
        })
        .collect();
    let producers = (0..tables.max_producers())
        .filter(|&i| tables.producer_state(i).load(Ordering::Acquire) != state::FREE)
        .map(|i| {
            let pending_claim = tables.claim_record(i).read().and_then(|r| {
                let open = r.state == claim::CLAIMED
                    && r.hi >= r.lo
                    && r.hi - r.lo < slots.capacity() as i64
                    && (r.lo..=r.hi).any(|s| slots.stamped() && slots.state(s) == Stamp::Pending);
                open.then_some((r.lo, r.hi))
            });
            ProducerStatus {
                index: i,
                state: tables.producer_state(i).load(Ordering::Acquire),
                pid: tables.producer_pid(i).load(Ordering::Relaxed),
                alive: alive(LOCK_PRODUCER_LEASE + u64::from(i)),
                epoch: tables.producer_epoch(i).load(Ordering::Relaxed),
                pending_claim,
                events: 0,
                batches: 0,
                waits: 0,
                timeouts: 0,
                last_activity_ns: 0,
            }
        })
        .collect();
    (consumers, producers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{consumer_entry, ProducerMode};
    use crate::liveness::Lease;
    use crate::segment::scratch;

    /// Consumer entry `i` named `name` at `sequence`, gating, optional or
    /// not; its lease (its holder alive) when `alive`.
    fn consumer(
        segment: &Segment,
        tables: &Tables,
        i: u32,
        name: &str,
        sequence: i64,
        optional: bool,
        alive: bool,
    ) -> Option<Lease> {
        tables.set_consumer_name(i, name);
        tables.consumer_sequence(i).set(sequence);
        if optional {
            tables
                .consumer_flags(i)
                .store(consumer_entry::OPTIONAL, Ordering::Relaxed);
        }
        tables
            .consumer_state(i)
            .store(state::ACTIVE, Ordering::Release);
        tables.gating_mask().fetch_or(1 << i, Ordering::SeqCst);
        alive.then(|| {
            Lease::try_acquire(segment, LOCK_CONSUMER_LEASE + u64::from(i))
                .unwrap()
                .unwrap()
        })
    }

    #[test]
    fn a_snapshot_reads_every_used_entry_with_its_counters_and_liveness() {
        let segment = scratch::segment("snap", scratch::params(8, ProducerMode::Single, 0));
        let tables = Tables::new(segment.region(), segment.layout());
        let slots = Slots::new(&segment.region(), segment.layout());
        let _fast = consumer(&segment, &tables, 0, "fast", 5, false, true);
        consumer(&segment, &tables, 1, "slow", 2, true, false);
        let mut counted = tables.counters().for_consumer(0);
        counted.batch(6);
        counted.flush();
        tables.cursor().set(6);
        let s = take(&segment, &tables, &slots, 6);
        assert_eq!((s.cursor, s.claimed, s.published), (6, 6, 7));
        let seen: Vec<_> = s
            .consumers
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.sequence,
                    c.lag,
                    c.gating,
                    c.alive,
                    c.optional,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("fast", 5, 1, true, true, false),
                ("slow", 2, 4, true, false, true)
            ]
        );
        assert_eq!((s.consumers[0].events, s.consumers[0].batches), (6, 1));
        assert_ne!(s.consumers[0].last_activity_ns, 0);
        assert_eq!(s.slowest().map(|c| c.name.as_str()), Some("slow"));
        // An entry that stops gating is still listed, and no longer the
        // slowest.
        tables.gating_mask().fetch_and(!0b10, Ordering::SeqCst);
        let s = take(&segment, &tables, &slots, 6);
        assert!(!s.consumers[1].gating);
        assert_eq!(s.slowest().map(|c| c.name.as_str()), Some("fast"));
        assert!(s.producers.is_empty());
    }

    #[test]
    fn a_multi_producer_snapshot_counts_published_events_and_open_claims() {
        let segment = scratch::segment("snap-mp", scratch::params(8, ProducerMode::Multi, 0));
        let tables = Tables::new(segment.region(), segment.layout());
        let slots = Slots::new(&segment.region(), segment.layout());
        tables
            .producer_state(1)
            .store(state::ACTIVE, Ordering::Release);
        let _lease = Lease::try_acquire(&segment, LOCK_PRODUCER_LEASE + 1)
            .unwrap()
            .unwrap();
        let mut counted = tables.counters().for_producer(1);
        counted.batch(3);
        counted.flush();
        // Entry 1 published [0, 2] and holds [3, 4] claimed, unpublished.
        slots.mark_published(0, 2);
        tables.claim().store(4, Ordering::SeqCst);
        tables.claim_record(1).write(3, 4, claim::CLAIMED);
        let s = take(&segment, &tables, &slots, 2);
        assert_eq!((s.cursor, s.claimed, s.published), (2, 4, 3));
        assert_eq!(s.producers.len(), 1);
        let p = &s.producers[0];
        assert_eq!((p.index, p.alive, p.pending_claim), (1, true, Some((3, 4))));
        // Once published, the claim is no longer open.
        slots.mark_published(3, 4);
        let s = take(&segment, &tables, &slots, 4);
        assert_eq!(s.producers[0].pending_claim, None);
    }
}
