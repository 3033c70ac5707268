//! Joining and leaving the consumer table: a consumer's name, its entry
//! and lease, where it starts (resuming, or at the head), rejoining after
//! an eviction, and leaving.

use super::{Barrier, ConsumerCore};
use crate::error::{Error, Result};
use crate::layout::{state, LOCK_CONSUMER_LEASE};
use crate::liveness::{lock_registry, Lease};
use crate::segment::Segment;
use crate::sequence::Wakeups;
use crate::slots::Slots;
use crate::sys;
use crate::table::Tables;
use crate::wait::WaitStrategy;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Longest consumer name, in bytes.
pub const MAX_CONSUMER_NAME: usize = 63;

/// Checks a consumer name: 1 to 63 bytes of ASCII letters, digits, `_`, `-`,
/// `.`.
pub fn validate_name(name: &str) -> Result<()> {
    let bad = |reason| {
        Err(Error::InvalidName {
            name: name.into(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("consumer name is empty");
    }
    if name.len() > MAX_CONSUMER_NAME {
        return bad("consumer name is longer than 63 bytes");
    }
    if !crate::region::is_portable_name(name) {
        return bad("consumer name may only contain ASCII letters, digits, '_', '-' and '.'");
    }
    Ok(())
}

/// Where and how a consumer joins: optional (with its `max_block`) or
/// required, at the cursor or at the oldest retained event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Join {
    /// `Some(max_block)`: an optional consumer.
    pub optional: Option<Duration>,
    /// Join at the oldest event the ring still retains for certain.
    pub oldest: bool,
}

impl ConsumerCore {
    /// Registers consumer `name` depending on `dependencies` (by name).
    /// It starts at the producer's current cursor: it sees every event
    /// published after it joined.
    pub fn register(
        segment: &Segment,
        tables: Tables,
        slots: Slots,
        name: &str,
        dependencies: &[String],
        strategy: WaitStrategy,
        how: Join,
    ) -> Result<ConsumerCore> {
        let Join { optional, oldest } = how;
        validate_name(name)?;
        let params = &segment.layout().params;
        let wakeups = params.wakeups();
        let multi = params.producer_mode == crate::layout::ProducerMode::Multi;
        let unblock = Duration::from_nanos(params.unblock_timeout_ns);
        let hot_counters = params.hot_counters();
        if strategy == WaitStrategy::Blocking && !wakeups {
            return Err(Error::Unsupported(format!(
                "ring {} was created without wake-ups; the blocking strategy needs them (use spin, yield or sleep, or recreate the ring with wake-ups)",
                segment.path().display()
            )));
        }
        // Fault harness: a dropped attach fails here, before any change.
        crate::fault::fault_point!("consumer.attach");
        let _guard = lock_registry(segment)?;
        let n = tables.max_consumers();

        let mut deps = 0u64;
        for dep in dependencies {
            if dep == name {
                return Err(Error::InvalidArgument(format!(
                    "consumer {name:?} cannot depend on itself"
                )));
            }
            let found = (0..n).find(|&i| {
                tables.consumer_state(i).load(Ordering::Acquire) == state::ACTIVE
                    && tables.consumer_name(i) == *dep
            });
            match found {
                Some(i) => deps |= 1 << i,
                None => return Err(Error::DependencyNotFound { name: dep.clone() }),
            }
        }

        let (index, lease) = Self::claim_entry(segment, &tables, name)?;
        // The entry was this name's (not a free one, nor another name's).
        let own = tables.consumer_state(index).load(Ordering::Acquire) != state::FREE
            && tables.consumer_name(index) == name;
        // A name whose holder died while it still gated the producer finds
        // its events still in the ring (the producer waited for it): it
        // resumes from its committed sequence.
        let resume = tables.consumer_state(index).load(Ordering::Acquire) == state::ACTIVE
            && tables.gating_mask().load(Ordering::SeqCst) & (1 << index) != 0;
        let previous = tables.consumer_sequence(index).get();
        let pid = sys::pid();
        tables.set_consumer_name(index, name);
        tables
            .consumer_dependencies(index)
            .store(deps, Ordering::Relaxed);
        tables.consumer_flags(index).store(
            if optional.is_some() {
                crate::layout::consumer_entry::OPTIONAL
            } else {
                0
            },
            Ordering::Relaxed,
        );
        tables.consumer_max_block_ns(index).store(
            optional.map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
            Ordering::Relaxed,
        );
        tables.consumer_pid(index).store(pid, Ordering::Relaxed);
        tables
            .consumer_start_time(index)
            .store(sys::process_start_time(pid), Ordering::Relaxed);
        tables
            .consumer_generation(index)
            .fetch_add(1, Ordering::Relaxed);
        // A resume keeps the entry ACTIVE (and gating) throughout: a holder
        // killed in the middle of it leaves it as it found it, and the next
        // process taking the name resumes from the committed sequence too.
        // A fresh join is marked JOINING until its start is safe.
        if !resume {
            tables
                .consumer_state(index)
                .store(state::JOINING, Ordering::Release);
        }

        let start = if resume {
            previous
        } else if oldest {
            join_oldest(
                &tables,
                index,
                multi,
                slots.capacity() as i64,
                if own { previous } else { -1 },
            )
        } else {
            join(&tables, index, multi)
        };
        // Fault harness: in the gating mask, not yet ACTIVE.
        crate::fault::fault_point!("consumer.join");
        let lost_on_join = if own && !resume {
            u64::try_from(start.saturating_sub(previous)).unwrap_or(0)
        } else if oldest && !resume {
            // Everything published before the oldest retained event.
            u64::try_from(start.saturating_add(1)).unwrap_or(0)
        } else {
            0
        };
        if !(-1..=i64::MAX / 2).contains(&start) {
            // A value no producer writes (a peer scribbled on the cursor,
            // the claim counter or this entry): leave instead of starting
            // where every later sequence would overflow.
            tables
                .gating_mask()
                .fetch_and(!(1 << index), Ordering::SeqCst);
            tables
                .consumer_state(index)
                .store(state::LEFT, Ordering::Release);
            return Err(Error::Corrupt {
                path: segment.path().into(),
                detail: format!(
                    "consumer {name:?} would start at sequence {start}, which no producer publishes"
                ),
            });
        }
        tables
            .consumer_state(index)
            .store(state::ACTIVE, Ordering::Release);
        tables.table_generation().fetch_add(1, Ordering::Release);
        tables.counters().bump(crate::layout::counters::ATTACHES);
        let cursor = tables.cursor();
        let sequence = tables.consumer_sequence(index);

        let barrier = match (deps, multi) {
            (0, false) => Barrier::Cursor(cursor),
            (0, true) => Barrier::Stamps(tables.notice()),
            _ => Barrier::Dependencies(deps),
        };
        Ok(ConsumerCore {
            tables,
            slots,
            index,
            sequence,
            barrier,
            strategy,
            wakeups: Wakeups::for_ring(wakeups),
            committed: start,
            available: start,
            multi,
            unblock,
            stuck: None,
            evictable: optional.is_some(),
            abandoned_at: std::cell::Cell::new(i64::MAX),
            lost_on_join,
            counters: {
                let c = tables.counters().for_consumer(index);
                c.touch();
                // Events are the committed sequence's advance from here
                // (`start`, which the join stored).
                let c = c.derived_from(sequence.value());
                c.restart_at(start);
                if hot_counters {
                    c
                } else {
                    c.without_hot_counting()
                }
            },
            wake: None,
            _lease: lease,
        })
    }

    /// Finds the entry for `name`: its own entry if it held one before (and
    /// its holder is gone), else a free one, else the oldest left one.
    fn claim_entry(segment: &Segment, tables: &Tables, name: &str) -> Result<(u32, Lease)> {
        let n = tables.max_consumers();
        let own = (0..n).find(|&i| {
            tables.consumer_state(i).load(Ordering::Acquire) != state::FREE
                && tables.consumer_name(i) == name
        });
        let candidates: Vec<u32> =
            match own {
                Some(i) => vec![i],
                None => (0..n)
                    .filter(|&i| tables.consumer_state(i).load(Ordering::Acquire) == state::FREE)
                    .chain((0..n).filter(|&i| {
                        tables.consumer_state(i).load(Ordering::Acquire) == state::LEFT
                    }))
                    .collect(),
            };
        for i in candidates {
            match Lease::try_acquire(segment, LOCK_CONSUMER_LEASE + u64::from(i))? {
                Some(lease) => return Ok((i, lease)),
                None if own.is_some() => {
                    return Err(Error::NameInUse {
                        name: name.into(),
                        pid: tables.consumer_pid(i).load(Ordering::Relaxed),
                    })
                }
                None => continue,
            }
        }
        Err(Error::ConsumerTableFull {
            path: segment.path().into(),
            max: n,
        })
    }

    /// After an eviction: joins again at the current position and returns
    /// the events lost since the last commit. `Ok(0)` when not evicted.
    pub fn rejoin(&mut self, segment: &Segment) -> Result<u64> {
        let _guard = lock_registry(segment)?;
        let t = &self.tables;
        if t.consumer_state(self.index).load(Ordering::Acquire) != state::EVICTED {
            return Ok(0);
        }
        t.consumer_generation(self.index)
            .fetch_add(1, Ordering::Relaxed);
        // What this consumer counted before the eviction, flushed before the
        // join moves its sequence (a jump, not events).
        self.counters.flush();
        t.consumer_state(self.index)
            .store(state::JOINING, Ordering::Release);
        let start = join(t, self.index, self.multi);
        self.counters.restart_at(start);
        t.consumer_state(self.index)
            .store(state::ACTIVE, Ordering::Release);
        t.table_generation().fetch_add(1, Ordering::Release);
        let lost = u64::try_from(start.saturating_sub(self.committed)).unwrap_or(0);
        self.committed = start;
        self.available = start;
        self.stuck = None;
        self.abandoned_at.set(i64::MAX);
        Ok(lost)
    }

    /// Leaves the ring: stops gating the producer. The entry keeps its name
    /// and committed sequence.
    pub fn leave(&mut self, segment: &Segment) -> Result<()> {
        self.disarm_wake_fd();
        // Exact counts before the entry shows it left.
        self.counters.flush();
        let _guard = lock_registry(segment)?;
        let t = &self.tables;
        t.gating_mask()
            .fetch_and(!(1 << self.index), Ordering::SeqCst);
        t.consumer_state(self.index)
            .store(state::LEFT, Ordering::Release);
        t.table_generation().fetch_add(1, Ordering::Release);
        t.counters().bump(crate::layout::counters::DETACHES);
        Ok(())
    }
}

/// Joins entry `index` to the gating set at the current head (registry
/// lock held) and returns its start. Publishes the start, joins the gating
/// mask, then re-reads the head: see `Tables::gating_minimum` for the
/// pairing that keeps producers from lapping a consumer that is joining.
fn join(tables: &Tables, index: u32, multi: bool) -> i64 {
    let sequence = tables.consumer_sequence(index);
    let start = tables.head(multi).max(sequence.get());
    sequence.set(start);
    tables.gating_mask().fetch_or(1 << index, Ordering::SeqCst);
    let start = tables.head(multi).max(start);
    sequence.value().store(start, Ordering::SeqCst);
    start
}

/// Joins entry `index` to the gating set at the oldest event the ring
/// still retains for certain, never before `floor` (the name's own
/// committed sequence when it comes back), registry lock held. The entry
/// first gates from a whole ring back from the head (nothing newer can be
/// overwritten from then on), then moves forward to its start: the slowest
/// other gating consumer's committed sequence (producers could not pass
/// it); with no other consumer gating but no producer attached (every
/// producer entry free or left; none attaches while the lock is held), a
/// whole ring back from the head; otherwise (an attached producer nothing
/// held back may be overwriting any slot right now) the head. Moving a
/// gating sequence forward never exposes an event after it.
fn join_oldest(tables: &Tables, index: u32, multi: bool, capacity: i64, floor: i64) -> i64 {
    let sequence = tables.consumer_sequence(index);
    let low = tables.head(multi).saturating_sub(capacity).max(-1);
    sequence.value().store(low.max(floor), Ordering::SeqCst);
    tables.gating_mask().fetch_or(1 << index, Ordering::SeqCst);
    let head = tables.head(multi);
    let others = tables.gating_mask().load(Ordering::SeqCst) & !(1u64 << index);
    let slowest = (0..tables.max_consumers())
        .filter(|&i| others & (1 << i) != 0)
        .map(|i| tables.consumer_sequence(i).get())
        .min();
    let no_producer = (0..tables.max_producers()).all(|i| {
        matches!(
            tables.producer_state(i).load(Ordering::Acquire),
            state::FREE | state::LEFT
        )
    });
    let start = match slowest {
        Some(s) => s.min(head),
        None if no_producer => low,
        None => head,
    }
    .max(low)
    .max(floor);
    sequence.value().store(start, Ordering::SeqCst);
    start
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{consumer, ring};
    use super::validate_name;
    use crate::{Error, RingOptions, WaitStrategy};
    use std::time::Duration;

    const T: Duration = Duration::from_secs(5);

    fn options() -> RingOptions {
        RingOptions::new().capacity(8).slot_size(8)
    }

    #[test]
    fn names_are_checked() {
        for good in ["a", "audit.v2", "x_Y-9", &"n".repeat(63)] {
            validate_name(good).unwrap();
        }
        for bad in ["", "sp ace", "a/b", "é", &"n".repeat(64)] {
            let e = validate_name(bad).unwrap_err();
            assert!(matches!(e, Error::InvalidName { .. }), "{bad:?}: {e:?}");
        }
    }

    #[test]
    fn a_name_held_by_a_live_consumer_is_refused() {
        let r = ring("register-in-use", &options());
        let _a = consumer(&r, "a", &[], None).unwrap();
        let e = consumer(&r, "a", &[], None).unwrap_err();
        assert!(matches!(e, Error::NameInUse { .. }), "{e:?}");
    }

    #[test]
    fn dependencies_must_be_other_active_consumers() {
        let r = ring("register-deps", &options());
        let e = consumer(&r, "b", &["a"], None).unwrap_err();
        assert!(matches!(e, Error::DependencyNotFound { .. }), "{e:?}");
        let e = consumer(&r, "b", &["b"], None).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
        let _a = consumer(&r, "a", &[], None).unwrap();
        consumer(&r, "b", &["a"], None).unwrap();
    }

    /// A new consumer starts at the head; a name that left and comes back
    /// starts there too, and learns how many events it missed.
    #[test]
    fn a_name_that_left_counts_what_it_missed_when_it_comes_back() {
        let r = ring("register-lost", &options());
        let (segment, ..) = r.raw_parts();
        let mut p = r.producer(WaitStrategy::Yield).unwrap();
        p.send(&0u64, T).unwrap();
        let mut c = consumer(&r, "c", &[], None).unwrap();
        assert_eq!((c.committed(), c.lost_on_join()), (0, 0));
        c.leave(segment).unwrap();
        drop(c);
        for i in 1..4u64 {
            p.send(&i, T).unwrap();
        }
        let c = consumer(&r, "c", &[], None).unwrap();
        assert_eq!((c.committed(), c.lost_on_join()), (3, 3));
    }
}
