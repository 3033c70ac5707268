//! The multi-producer sequencer: any number of producer processes (up to
//! the ring's producer table) claim through a shared counter and publish
//! through per-sequence stamps, as in the LMAX multi-producer sequencer.
//!
//! A claim is recorded in the producer's own table entry (a sequence-locked
//! `[lo, hi]` written before the claim counter moves), so that a claim whose
//! producer died or stalls can be found and abandoned: see
//! [`super::recovery`] and docs/ARCHITECTURE.md for the protocol.
//!
//! Hot path of a claim and publish of `n` events without contention: one
//! load and one compare-and-swap of the claim counter, five stores to the
//! producer's own cache line (the record), one compare-and-swap of the first
//! stamp (the line the producer just wrote) and `n - 1` stamp stores (packed
//! rings: one-byte flags, one store per eight and a compare-and-swap per
//! word shared with a neighbouring claim); with wake-ups, one fence and one
//! load. No system call, lock or allocation.

use super::Watcher;
use crate::counters::EntryCounters;
use crate::error::{Error, Result};
use crate::layout::claim;
use crate::sequence::{SharedSequence, Wakeups};
use crate::slots::{Slots, Stamp};
use crate::table::{ClaimRecord, Tables};
use crate::wait::{wait_until, Poll, WaitStrategy};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Process-local state of one producer of a multi-producer ring.
#[derive(Debug)]
pub struct MultiSequencer {
    tables: Tables,
    slots: Slots,
    notice: SharedSequence,
    record: ClaimRecord,
    capacity: i64,
    wakeups: Wakeups,
    strategy: WaitStrategy,
    unblock: Duration,
    /// The outstanding claim `[lo, hi]` (empty when `next > hi`).
    lo: i64,
    hi: i64,
    /// Next sequence of the outstanding claim to publish.
    next: i64,
    /// Last sequence this producer published (-1: none).
    published: i64,
    /// Gating minimum as last read from the consumer table.
    cached_gate: i64,
    counters: EntryCounters,
}

impl MultiSequencer {
    /// The sequencer of producer-table entry `entry`, which the caller
    /// holds (lease) and whose previous claim was resolved.
    pub fn new(
        tables: Tables,
        slots: Slots,
        entry: u32,
        wakeups: Wakeups,
        strategy: WaitStrategy,
        unblock: Duration,
        counters: EntryCounters,
    ) -> MultiSequencer {
        let record = tables.claim_record(entry);
        record.write(0, -1, claim::NONE);
        let claimed = tables.claim().load(Ordering::SeqCst);
        let cached_gate = tables.gating_minimum(claimed).0;
        MultiSequencer {
            notice: tables.notice(),
            record,
            capacity: slots.capacity() as i64,
            tables,
            slots,
            wakeups,
            strategy,
            unblock,
            lo: 0,
            hi: -1,
            next: 0,
            published: -1,
            cached_gate,
            counters,
        }
    }

    /// Stores this producer's events and batches counts to the segment.
    pub fn flush_counters(&self) {
        self.counters.flush();
    }

    /// Last sequence this producer published (-1: none yet).
    pub fn published(&self) -> i64 {
        self.published
    }

    /// The outstanding claim's unpublished part `[first, last]`, if any.
    pub fn pending(&self) -> Option<(i64, i64)> {
        (self.next <= self.hi).then_some((self.next, self.hi))
    }

    /// Claims `n` consecutive sequences, waiting at most `timeout` for
    /// consumers to free the slots, and returns the first. A zero timeout
    /// never waits (`WouldBlock` when the ring is full). One claim may be
    /// outstanding at a time: publish it (or unclaim it) first.
    ///
    /// `watcher` is asked for only when the claim has to wait (see
    /// [`super::Watcher`]).
    #[inline]
    pub fn claim<'w>(
        &mut self,
        n: u64,
        timeout: Duration,
        watcher: impl FnOnce() -> Option<Watcher<'w>>,
    ) -> Result<i64> {
        let mut watcher = Some(watcher);
        super::check_batch(n, self.capacity)?;
        if self.next <= self.hi {
            return Err(self.outstanding());
        }
        let n = n as i64;
        let counter = self.tables.claim();
        let mut deadline = None;
        let mut lost = 0u32;
        let mut current = counter.load(Ordering::SeqCst);
        loop {
            if !(-1..=i64::MAX / 2).contains(&current) {
                return Err(corrupt_counter(current));
            }
            let hi = current + n;
            if hi - self.capacity > self.cached_gate {
                self.cached_gate = self.tables.gating_minimum(current).0;
                if hi - self.capacity > self.cached_gate {
                    let until = *deadline.get_or_insert_with(|| Instant::now() + timeout);
                    let w = watcher.take().and_then(|f| f());
                    self.cached_gate = self.wait_for_gate(n, until, timeout, w)?;
                    current = counter.load(Ordering::SeqCst);
                    continue;
                }
            }
            // The record goes first: whoever finds `current + 1` stuck later
            // finds who took it, even if that producer died right after the
            // counter moved.
            self.record.write(current + 1, hi, claim::INTENT);
            match counter.compare_exchange_weak(current, hi, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => {
                    self.record.set_state(claim::CLAIMED);
                    self.lo = current + 1;
                    self.hi = hi;
                    self.next = current + 1;
                    // Fault harness: claimed, not yet published.
                    crate::fault::fault_point!("mp.claimed");
                    return Ok(current + 1);
                }
                Err(seen) => {
                    current = seen;
                    // Losing the race means another producer won; losing it
                    // a thousand times in a row means the counter is being
                    // scribbled on: keep the caller's timeout all the same.
                    lost += 1;
                    if lost % 1024 == 0 {
                        let until = *deadline.get_or_insert_with(|| Instant::now() + timeout);
                        if Instant::now() >= until {
                            return Err(Error::Timeout {
                                what: "the claim counter (every claim lost the race)".into(),
                                waited: timeout,
                            });
                        }
                    }
                }
            }
        }
    }

    #[cold]
    fn outstanding(&self) -> Error {
        Error::SequenceOutOfRange(format!(
            "[{}, {}] is still claimed: publish or unclaim it before the next claim (multi-producer rings allow one outstanding claim per producer)",
            self.next, self.hi
        ))
    }

    #[cold]
    fn wait_for_gate(
        &self,
        n: i64,
        deadline: Instant,
        timeout: Duration,
        watcher: Option<Watcher<'_>>,
    ) -> Result<i64> {
        let tables = self.tables;
        let capacity = self.capacity;
        self.counters.wait(true);
        let left = if timeout.is_zero() {
            Duration::ZERO
        } else {
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_nanos(1))
        };
        let poll = || {
            let current = tables.claim().load(Ordering::SeqCst);
            match tables.gating_minimum(current) {
                (min, _) if current + n - capacity <= min => Poll::Ready(min),
                (_, at) => Poll::Pending(at.map(|i| tables.consumer_sequence(i))),
            }
        };
        let what = "consumers to free slots";
        let idle = || self.counters.flush();
        match watcher {
            None => wait_until(self.strategy, left, what, idle, poll),
            Some(w) => super::watched_wait(self.strategy, left, what, idle, poll, || {
                let current = tables.claim().load(Ordering::SeqCst);
                w.watch.check(
                    w.segment,
                    &tables,
                    w.policy,
                    current + n - capacity,
                    current,
                )
            }),
        }
        .map_err(|e| match e {
            Error::WouldBlock(w) => {
                self.counters.flush_counts();
                Error::WouldBlock(w)
            }
            Error::Timeout { what, .. } => {
                self.counters.timeout();
                Error::Timeout {
                    what,
                    waited: timeout,
                }
            }
            other => other,
        })
    }

    /// Publishes `[lo, hi]`, which must start at the next unpublished
    /// sequence of the outstanding claim and lie within it. Fails with
    /// `ClaimAbandoned` when the claim was abandoned (it outlived the
    /// ring's unblock timeout): nothing of it is published then.
    #[inline]
    pub fn publish(&mut self, lo: i64, hi: i64) -> Result<()> {
        if lo != self.next || hi < lo || hi > self.hi {
            return Err(self.out_of_range(lo, hi));
        }
        // The first stamp decides between this producer and an abandoner;
        // once it is ours, nobody else writes the stamps of this range.
        if let Err(found) = self.slots.resolve(lo, true, self.tables.claim()) {
            return Err(self.lost(lo, found));
        }
        // Fault harness: the first stamp is ours, the rest not yet written.
        crate::fault::fault_point!("mp.publish");
        self.slots.mark_published(lo + 1, hi);
        if self.notice.notify(self.wakeups) {
            self.counters.wakeup();
        }
        self.next = hi + 1;
        self.published = hi;
        self.counters.batch((hi - lo + 1) as u64);
        Ok(())
    }

    #[cold]
    fn lost(&mut self, from: i64, found: Stamp) -> Error {
        match found {
            Stamp::Abandoned => self.abandoned(from),
            Stamp::Lapped => {
                // No consumer gated the slot (none attached, or they joined
                // after this claim), so other producers went a whole lap
                // past it: the slot holds a later event now.
                let e = Error::ClaimLapped {
                    lo: from,
                    hi: self.hi,
                };
                self.hi = from - 1;
                self.record.set_state(claim::NONE);
                e
            }
            // Only this producer or an abandoner resolve a claimed
            // sequence: a published stamp means a peer wrote it.
            _ => Error::Corrupt {
                path: Default::default(),
                detail: format!(
                    "the stamp of claimed sequence {from} reads {found:?} ({:#x}) before its publish",
                    self.slots.raw_stamp(from)
                ),
            },
        }
    }

    #[cold]
    fn abandoned(&mut self, from: i64) -> Error {
        // Somebody abandoned `from`: abandon what is left of the claim too,
        // so consumers need not wait another timeout for it.
        let err = Error::ClaimAbandoned {
            lo: from,
            hi: self.hi,
            timeout: self.unblock,
        };
        self.abandon_rest(from);
        err
    }

    #[cold]
    fn out_of_range(&self, lo: i64, hi: i64) -> Error {
        if self.next > self.hi {
            return Error::SequenceOutOfRange(format!(
                "publish [{lo}, {hi}]: this producer has nothing claimed: claim first, then publish within the claim"
            ));
        }
        Error::SequenceOutOfRange(format!(
            "publish [{lo}, {hi}]: the unpublished claim is [{}, {}]: publish a range that starts at {} and ends at most at {} (publishes go in order)",
            self.next, self.hi, self.next, self.hi
        ))
    }

    /// Gives up the claimed, unpublished sequences from `from` on. The claim
    /// counter cannot move back, so they are abandoned (consumers skip
    /// them); returns how many this call abandoned.
    pub fn unclaim(&mut self, from: i64) -> u64 {
        if from >= self.next && from <= self.hi {
            self.abandon_rest(from)
        } else {
            0
        }
    }

    fn abandon_rest(&mut self, from: i64) -> u64 {
        let count = super::recovery::abandon_run(&self.tables, &self.slots, from, self.hi, None);
        self.hi = from - 1;
        if self.next > self.hi {
            self.record.set_state(claim::NONE);
        }
        count
    }

    /// Whether `[lo, hi]` is claimed by this producer and unpublished.
    #[inline]
    pub fn holds(&self, lo: i64, hi: i64) -> bool {
        lo >= self.next && hi <= self.hi && lo <= hi
    }
}

#[cold]
fn corrupt_counter(value: i64) -> Error {
    Error::Corrupt {
        path: Default::default(),
        detail: format!("the claim counter holds {value}, which no producer claims"),
    }
}

impl Drop for MultiSequencer {
    fn drop(&mut self) {
        if self.next <= self.hi {
            let from = self.next;
            self.abandon_rest(from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{claim, ProducerMode, FLAG_PACKED};
    use crate::segment::scratch;

    const NONE: fn() -> Option<Watcher<'static>> = || None;

    /// Producer `entry` of `tables`/`slots`, without wake-ups.
    fn producer(tables: Tables, slots: Slots, entry: u32) -> MultiSequencer {
        MultiSequencer::new(
            tables,
            slots,
            entry,
            Wakeups::Off,
            WaitStrategy::BusySpin,
            Duration::from_secs(1),
            tables.counters().for_producer(entry),
        )
    }

    /// Both layouts of a multi-producer ring: 8-byte stamps and packed
    /// one-byte flags.
    fn each_layout(tag: &str, capacity: u64, test: impl Fn(Tables, Slots)) {
        for flags in [0, FLAG_PACKED] {
            let segment =
                scratch::segment(tag, scratch::params(capacity, ProducerMode::Multi, flags));
            let tables = Tables::new(segment.region(), segment.layout());
            let slots = Slots::new(&segment.region(), segment.layout());
            // One gating consumer (entry 0) that has consumed nothing.
            tables.gating_mask().store(1, Ordering::SeqCst);
            test(tables, slots);
        }
    }

    #[test]
    fn producers_claim_disjoint_runs_and_publish_them_in_any_order() {
        each_layout("mp-disjoint", 8, |tables, slots| {
            let (mut p0, mut p1) = (producer(tables, slots, 0), producer(tables, slots, 1));
            assert_eq!(p0.claim(3, Duration::ZERO, NONE).unwrap(), 0);
            assert_eq!(p1.claim(2, Duration::ZERO, NONE).unwrap(), 3);
            assert_eq!(tables.claim().load(Ordering::SeqCst), 4);
            let record = tables.claim_record(1).read().unwrap();
            assert_eq!((record.lo, record.hi, record.state), (3, 4, claim::CLAIMED));
            // The later claim is published first: a consumer sees nothing
            // before sequence 0 is published.
            p1.publish(3, 4).unwrap();
            assert_eq!(slots.state(0), Stamp::Pending);
            assert_eq!(slots.resolved_run(0, 4), (-1, None));
            assert_eq!(slots.state(4), Stamp::Published);
            // One claim at a time, and a publish starts where the last ended.
            let e = p0.claim(1, Duration::ZERO, NONE).unwrap_err();
            assert!(matches!(e, Error::SequenceOutOfRange(_)), "{e:?}");
            let e = p0.publish(1, 2).unwrap_err();
            assert!(matches!(e, Error::SequenceOutOfRange(_)), "{e:?}");
            p0.publish(0, 0).unwrap();
            assert_eq!(p0.pending(), Some((1, 2)));
            p0.publish(1, 2).unwrap();
            assert_eq!((p0.pending(), p0.published()), (None, 2));
            assert_eq!(slots.resolved_run(0, 7), (4, None));
        });
    }

    #[test]
    fn a_claim_never_laps_the_gating_consumer() {
        each_layout("mp-gate", 4, |tables, slots| {
            let (mut p0, mut p1) = (producer(tables, slots, 0), producer(tables, slots, 1));
            let lo = p0.claim(3, Duration::ZERO, NONE).unwrap();
            p0.publish(lo, lo + 2).unwrap();
            // One slot is left, whoever claims it.
            let e = p1.claim(2, Duration::ZERO, NONE).unwrap_err();
            assert!(matches!(e, Error::WouldBlock(_)), "{e:?}");
            let e = p1.claim(2, Duration::from_millis(5), NONE).unwrap_err();
            assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
            assert_eq!(p1.claim(1, Duration::ZERO, NONE).unwrap(), 3);
            p1.publish(3, 3).unwrap();
            // The consumer commits two: exactly two more fit.
            tables.consumer_sequence(0).set(1);
            assert_eq!(p0.claim(2, Duration::ZERO, NONE).unwrap(), 4);
            assert!(p1.claim(1, Duration::ZERO, NONE).is_err());
        });
    }

    #[test]
    fn unclaim_and_drop_abandon_what_was_not_published() {
        each_layout("mp-unclaim", 8, |tables, slots| {
            let mut p = producer(tables, slots, 0);
            assert_eq!(p.claim(4, Duration::ZERO, NONE).unwrap(), 0);
            p.publish(0, 0).unwrap();
            // Outside the unpublished part: nothing to do.
            assert_eq!(p.unclaim(0), 0);
            assert_eq!(p.unclaim(2), 2);
            assert_eq!(p.pending(), Some((1, 1)));
            assert_eq!(slots.state(2), Stamp::Abandoned);
            assert_eq!(slots.state(3), Stamp::Abandoned);
            drop(p);
            assert_eq!(slots.state(1), Stamp::Abandoned);
            assert_eq!(tables.abandoned().load(Ordering::Relaxed), 3);
            assert_eq!(slots.resolved_run(0, 7), (3, Some(1)));
            assert_eq!(tables.claim_record(0).read().unwrap().state, claim::NONE);
        });
    }

    #[test]
    fn a_claim_abandoned_by_another_process_publishes_nothing() {
        each_layout("mp-abandoned", 8, |tables, slots| {
            let mut p = producer(tables, slots, 0);
            assert_eq!(p.claim(3, Duration::ZERO, NONE).unwrap(), 0);
            // A consumer gave up waiting for the first sequence.
            assert_eq!(
                super::super::recovery::abandon_run(&tables, &slots, 0, 0, Some(0)),
                1
            );
            let e = p.publish(0, 1).unwrap_err();
            assert!(
                matches!(e, Error::ClaimAbandoned { lo: 0, hi: 2, .. }),
                "{e:?}"
            );
            // The rest of the claim went with it, and the producer is free.
            assert_eq!(slots.resolved_run(0, 7), (2, Some(0)));
            assert_eq!(p.pending(), None);
            assert_eq!(p.claim(1, Duration::ZERO, NONE).unwrap(), 3);
        });
    }
}
