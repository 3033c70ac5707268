//! A producer's entry in the producer table: attaching (the lease of the
//! single producer, replacing one whose process died; or a free entry of a
//! multi-producer ring, reusing one whose producer died after its claim is
//! abandoned), the entry's epoch and state, and detaching.

use super::{locate, recovery, MultiSequencer, Sequencer, SingleSequencer};
use crate::error::{Error, Result};
use crate::layout::{counters, state, ProducerMode, LOCK_PRODUCER_LEASE};
use crate::liveness::{lock_registry, Lease};
use crate::segment::Segment;
use crate::sequence::Wakeups;
use crate::slots::Slots;
use crate::sys;
use crate::table::Tables;
use crate::wait::WaitStrategy;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// An attached producer's part of the ring: its sequencer, its entry in
/// the producer table and the lease that holds the entry.
#[derive(Debug)]
pub(crate) struct Attached {
    /// How it claims and publishes.
    pub(crate) sequencer: Sequencer,
    /// Its entry in the producer table.
    pub(crate) entry: u32,
    /// The entry's lease, held as long as the producer is attached.
    pub(crate) lease: Lease,
}

/// Attaches a producer to the ring in `seg` (under the registry lock):
/// takes the producer lease, marks the entry active under a new epoch and
/// makes the sequencer of the ring's mode.
///
/// Single-producer rings: fails with `ProducerExists` while another live
/// process (or handle) is the producer; a producer whose process died is
/// replaced, and the new one resumes after the last published sequence.
///
/// Multi-producer rings: takes a free entry of the producer table
/// (`ProducerTableFull` when every entry has a live producer). An entry
/// whose producer died is reused after its unpublished claim, if any,
/// is abandoned.
pub(crate) fn attach(
    seg: &Segment,
    tables: Tables,
    slots: Slots,
    strategy: WaitStrategy,
) -> Result<Attached> {
    let t = &tables;
    let params = &seg.layout().params;
    let wakeups = Wakeups::for_ring(params.wakeups());
    if strategy == WaitStrategy::Blocking && !wakeups.on() {
        return Err(Error::Unsupported(format!(
            "ring {} was created without wake-ups; the blocking strategy needs them",
            seg.path().display()
        )));
    }
    let _guard = lock_registry(seg)?;
    let (entry, lease) = match params.producer_mode {
        ProducerMode::Single => {
            let lease = Lease::try_acquire(seg, LOCK_PRODUCER_LEASE)?.ok_or_else(|| {
                Error::ProducerExists {
                    path: seg.path().into(),
                    pid: t.producer_pid(0).load(Ordering::Relaxed),
                }
            })?;
            (0, lease)
        }
        ProducerMode::Multi => claim_entry(seg, t, &slots)?,
    };
    // Fault harness: after the lease, before the epoch and state.
    crate::fault::fault_point!("producer.attach");
    let pid = sys::pid();
    t.producer_pid(entry).store(pid, Ordering::Relaxed);
    t.producer_start_time(entry)
        .store(sys::process_start_time(pid), Ordering::Relaxed);
    t.producer_epoch(entry).fetch_add(1, Ordering::AcqRel);
    t.producer_state(entry)
        .store(state::ACTIVE, Ordering::Release);
    t.counters().bump(counters::ATTACHES);
    let counts = t.counters().for_producer(entry);
    // Attaching is activity (as a consumer's join is): an observer
    // sees the new holder at once, not after its first flush.
    counts.touch();
    let counts = if !params.hot_counters() {
        counts.without_hot_counting()
    } else {
        counts
    };
    let sequencer = match params.producer_mode {
        ProducerMode::Single => Sequencer::Single(
            SingleSequencer::new(*t, slots, params.capacity, wakeups, strategy, counts)
                .map_err(|e| locate(e, seg.path()))?,
        ),
        ProducerMode::Multi => Sequencer::Multi(MultiSequencer::new(
            *t,
            slots,
            entry,
            wakeups,
            strategy,
            Duration::from_nanos(params.unblock_timeout_ns),
            counts,
        )),
    };
    Ok(Attached {
        sequencer,
        entry,
        lease,
    })
}

/// Multi-producer rings: a producer-table entry and its lease (registry
/// lock held). Free entries first, then ones left cleanly, then ones
/// whose producer died, whose claim is abandoned first.
fn claim_entry(seg: &Segment, t: &Tables, slots: &Slots) -> Result<(u32, Lease)> {
    let n = t.max_producers();
    let in_state =
        |st: u32| (0..n).filter(move |&i| t.producer_state(i).load(Ordering::Acquire) == st);
    let others = (0..n).filter(|&i| {
        let st = t.producer_state(i).load(Ordering::Acquire);
        st != state::FREE && st != state::LEFT
    });
    for i in in_state(state::FREE)
        .chain(in_state(state::LEFT))
        .chain(others)
    {
        if let Some(lease) = Lease::try_acquire(seg, LOCK_PRODUCER_LEASE + u64::from(i))? {
            recovery::recover_entry(t, slots, i);
            return Ok((i, lease));
        }
    }
    Err(Error::ProducerTableFull {
        path: seg.path().into(),
        max: n,
    })
}

/// Detaches the producer of table entry `entry` (its handle is dropped;
/// the lease goes with it): exact counts first, then, under the registry
/// lock, its unpublished claim abandoned (multi-producer rings) and the
/// entry marked left.
pub(crate) fn detach(sequencer: &mut Sequencer, segment: &Segment, tables: &Tables, entry: u32) {
    // Exact counts before the entry shows it left.
    match sequencer {
        Sequencer::Single(s) => s.flush_counters(),
        Sequencer::Multi(m) => m.flush_counters(),
    }
    if let Ok(_guard) = lock_registry(segment) {
        if let Sequencer::Multi(m) = sequencer {
            if let Some((from, _)) = m.pending() {
                m.unclaim(from);
            }
        }
        let t = tables;
        t.producer_state(entry)
            .store(state::LEFT, Ordering::Release);
        t.counters().bump(counters::DETACHES);
    }
}
