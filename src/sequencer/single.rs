//! The single-producer sequencer: one producer process claims and publishes
//! with no read-modify-write atomic and no system call on the hot path.
//!
//! The next sequence to claim and the last known gating minimum live in
//! process-local memory. A claim only rescans the consumer table when the
//! cached minimum no longer covers it, which with consumers keeping up is
//! about once per ring's worth of events.

use super::Watcher;
use crate::counters::EntryCounters;
use crate::error::{Error, Result};
use crate::sequence::{SharedSequence, Wakeups};
use crate::slots::Slots;
use crate::table::Tables;
use crate::wait::{wait_until, Poll, WaitStrategy};
use std::time::Duration;

/// Process-local state of the ring's single producer.
#[derive(Debug)]
pub struct SingleSequencer {
    tables: Tables,
    cursor: SharedSequence,
    slots: Slots,
    capacity: i64,
    wakeups: Wakeups,
    strategy: WaitStrategy,
    /// Last published sequence (mirror of the shared cursor).
    published: i64,
    /// Last claimed sequence while a claim is outstanding; at or below
    /// `published` otherwise (a one-event publish moves `published` past
    /// it, so each call stores one field: `claim` this, `publish` the
    /// other).
    claim_end: i64,
    /// Gating minimum as last read from the consumer table.
    cached_gate: i64,
    counters: EntryCounters,
}

impl SingleSequencer {
    /// A sequencer resuming after the last published sequence. Call it
    /// with the producer lease held (no other producer runs).
    ///
    /// A predecessor that died inside `publish` may have stamped sequences
    /// beyond the cursor: consumers already treat them as published, so the
    /// cursor is first moved past them (they are never written again). The
    /// gating minimum is read from the table, never assumed, so a new
    /// producer cannot lap consumers that fell behind its predecessor.
    pub fn new(
        tables: Tables,
        slots: Slots,
        capacity: u64,
        wakeups: Wakeups,
        strategy: WaitStrategy,
        counters: EntryCounters,
    ) -> Result<SingleSequencer> {
        let cursor = tables.cursor();
        let mut published = cursor.get();
        if !(-1..=i64::MAX / 2).contains(&published) {
            return Err(Error::Corrupt {
                path: Default::default(),
                detail: format!("the cursor holds {published}, which no producer publishes"),
            });
        }
        let stamped_ahead = (1..=capacity as i64)
            .take_while(|k| slots.is_published(published + k))
            .count() as i64;
        if stamped_ahead > 0 {
            published += stamped_ahead;
            cursor.set_and_wake(published);
        }
        // Events a killed predecessor published but had not flushed, and
        // those adopted above, are counted now: events == cursor + 1.
        counters.adopt_events((published + 1) as u64);
        // From here on the events count is the cursor's advance.
        let counters = counters.derived_from(cursor.value());
        let cached_gate = tables.gating_minimum(published).0;
        Ok(SingleSequencer {
            tables,
            cursor,
            slots,
            capacity: capacity as i64,
            wakeups,
            strategy,
            claim_end: published,
            published,
            cached_gate,
            counters,
        })
    }

    /// Last published sequence.
    pub fn published(&self) -> i64 {
        self.published
    }

    /// Highest claimed sequence (== `published()` when nothing is pending).
    #[inline(always)]
    pub fn claimed(&self) -> i64 {
        self.claim_end.max(self.published)
    }

    /// Claims `n` consecutive sequences, waiting at most `timeout` for
    /// consumers to free the slots, and returns the first. A zero timeout
    /// never waits (`WouldBlock` when the ring is full).
    ///
    /// `watcher` is asked for only when the cached gating minimum does not
    /// cover the claim (the claim may have to wait): it watches the
    /// consumer holding the producer back (see [`super::Watcher`]).
    #[inline(always)]
    pub fn claim<'w>(
        &mut self,
        n: u64,
        timeout: Duration,
        watcher: impl FnOnce() -> Option<Watcher<'w>>,
    ) -> Result<i64> {
        match self.claim_cached(n) {
            Some(first) => Ok(first),
            None => self.claim_waiting(n, timeout, watcher()).map_err(|e| *e),
        }
    }

    /// A claim the cached gating minimum does not cover (or a bad `n`):
    /// the table, then a wait. Boxed, its error keeps the inlined claim's
    /// result in registers.
    #[cold]
    #[inline(never)]
    fn claim_waiting(
        &mut self,
        n: u64,
        timeout: Duration,
        watcher: Option<Watcher<'_>>,
    ) -> std::result::Result<i64, Box<Error>> {
        super::check_batch(n, self.capacity)?;
        let first = self.claimed() + 1;
        let last = first + n as i64 - 1;
        let wrap_point = last - self.capacity;
        if wrap_point > self.cached_gate {
            self.cached_gate = self.wait_for_gate(wrap_point, timeout, watcher)?;
        }
        self.claim_end = last;
        // Fault harness: claimed, not yet published.
        crate::fault::fault_point!("sp.claimed");
        Ok(first)
    }

    /// [`SingleSequencer::claim`] when the cached gating minimum covers the
    /// claim (no wait, no table read), or `None` (a claim the full call
    /// must make or refuse): the inlined part of every claim, and the C
    /// ABI's `dmp_claim` without a call. No panicking operation (`n <= capacity` is checked before any
    /// arithmetic, and the claimed sequences stay far from overflow).
    #[inline(always)]
    pub fn claim_cached(&mut self, n: u64) -> Option<i64> {
        // The fault harness's `sp.claimed` may fail the claim: with fault
        // points compiled in, every claim takes the full path, which has it.
        if cfg!(feature = "fault-injection") || n == 0 || n > self.capacity as u64 {
            return None;
        }
        let first = self.claimed() + 1;
        let last = first + n as i64 - 1;
        if last - self.capacity > self.cached_gate {
            return None;
        }
        self.claim_end = last;
        Some(first)
    }

    #[cold]
    fn wait_for_gate(
        &self,
        wrap_point: i64,
        timeout: Duration,
        watcher: Option<Watcher<'_>>,
    ) -> Result<i64> {
        let tables = self.tables;
        let published = self.published;
        let (min, _) = tables.gating_minimum(published);
        if min >= wrap_point {
            // The cache ran out but the consumers had moved on: no wait.
            return Ok(min);
        }
        self.counters.wait(true);
        // The blocking strategy sleeps on the slowest gating consumer's
        // sequence, whose commit wakes it.
        let poll = || match tables.gating_minimum(published) {
            (min, _) if min >= wrap_point => Poll::Ready(min),
            (_, at) => Poll::Pending(at.map(|i| tables.consumer_sequence(i))),
        };
        let what = "consumers to free slots";
        let idle = || self.counters.flush();
        match watcher {
            None => wait_until(self.strategy, timeout, what, idle, poll),
            Some(w) => super::watched_wait(self.strategy, timeout, what, idle, poll, || {
                w.watch
                    .check(w.segment, &tables, w.policy, wrap_point, published)
            }),
        }
        .inspect_err(|e| match e {
            Error::Timeout { .. } => self.counters.timeout(),
            Error::WouldBlock(_) => self.counters.flush_counts(),
            _ => {}
        })
    }

    /// Stores this producer's events and batches counts to the segment.
    pub fn flush_counters(&self) {
        self.counters.flush();
    }

    /// Publishes `[lo, hi]`, which must start right after the last published
    /// sequence and lie within the claimed range.
    #[inline(always)]
    pub fn publish(&mut self, lo: i64, hi: i64) -> Result<()> {
        if !self.publishable(lo, hi) {
            return Err(self.out_of_range(lo, hi));
        }
        self.slots.mark_published(lo, hi);
        // Fault harness: stamps written, cursor not yet.
        crate::fault::fault_point!("sp.publish");
        if self.store_published(lo, hi) {
            self.wake_consumers();
        }
        Ok(())
    }

    /// [`SingleSequencer::publish`] up to the wake-up, for the C ABI's
    /// `dmp_publish` without a call: whether sleepers must be woken (then
    /// call [`SingleSequencer::wake_consumers`]), or `None`, a publish the
    /// full call must refuse, or one whose count flushes (a flush reads
    /// the clock), and, with fault points compiled in, every publish
    /// (`sp.publish` may fail it). No panicking operation, no call but the
    /// stamp loop of a stamped ring.
    #[inline(always)]
    pub fn publish_unwoken(&mut self, lo: i64, hi: i64) -> Option<bool> {
        if cfg!(feature = "fault-injection")
            || !self.publishable(lo, hi)
            || self.counters.flushes(hi - lo + 1, hi)
        {
            return None;
        }
        self.slots.mark_published(lo, hi);
        Some(self.store_published(lo, hi))
    }

    /// Whether `[lo, hi]` starts right after the last published sequence
    /// and lies within the claim (`hi > claim_end` also refuses a publish
    /// with nothing claimed: `claim_end` is then at or below `published`).
    #[inline(always)]
    fn publishable(&self, lo: i64, hi: i64) -> bool {
        lo == self.published + 1 && hi >= lo && hi <= self.claim_end
    }

    /// The cursor store of a publish whose stamps are written, and its
    /// bookkeeping; whether sleepers must be woken.
    #[inline(always)]
    fn store_published(&mut self, lo: i64, hi: i64) -> bool {
        let wake = self.cursor.store_for_wake(hi, self.wakeups);
        self.published = hi;
        if hi == lo {
            // Counted from the cursor, as `publish_one` is: one batch.
            self.counters.one_event(hi);
        } else {
            self.counters.batch((hi - lo + 1) as u64);
        }
        wake
    }

    /// Wakes the consumers a publish found asleep, and counts it (cold).
    #[cold]
    pub fn wake_consumers(&self) {
        if self.cursor.wake() {
            self.counters.wakeup();
        }
    }

    /// Claims the next sequence, lets `write` fill its slot, publishes it
    /// and returns it: the one-event path, which checks only what a single
    /// event needs (room, and no claim outstanding). If `write` panics
    /// nothing was claimed.
    #[inline(always)]
    pub fn publish_one<'w>(
        &mut self,
        timeout: Duration,
        watcher: impl FnOnce() -> Option<Watcher<'w>>,
        write: impl FnOnce(i64),
    ) -> Result<i64> {
        if self.claim_end > self.published {
            return Err(self.claim_outstanding());
        }
        let seq = self.published + 1;
        let wrap_point = seq - self.capacity;
        if wrap_point > self.cached_gate {
            self.cached_gate = self.wait_for_gate(wrap_point, timeout, watcher())?;
        }
        // Fault harness: claimed, not yet published.
        crate::fault::fault_point!("sp.claimed");
        write(seq);
        self.slots.mark_published(seq, seq);
        // Fault harness: stamps written, cursor not yet.
        crate::fault::fault_point!("sp.publish");
        if self.cursor.publish(seq, self.wakeups) {
            self.counters.wakeup();
        }
        self.published = seq;
        self.counters.one_event(seq);
        Ok(seq)
    }

    /// [`SingleSequencer::publish_one`] up to the wake-up, for the C ABI's
    /// `dmp_publish_one` without a call: when no claim is outstanding, the
    /// cached gating minimum covers the next sequence and its count would
    /// not flush, `write` fills the slot `seq` (given its payload), `seq`
    /// is published, and the answer is `seq` and whether sleepers must be
    /// woken (then call [`SingleSequencer::wake_consumers`]). `None`, with
    /// nothing done: the full call publishes (it may wait or flush) or
    /// refuses; with fault points compiled in, always. No panicking
    /// operation but `write`'s.
    #[inline(always)]
    pub fn publish_one_unwoken(&mut self, write: impl FnOnce(*mut u8)) -> Option<(i64, bool)> {
        let seq = self.published + 1;
        if cfg!(feature = "fault-injection")
            || self.claim_end > self.published
            || seq - self.capacity > self.cached_gate
            || self.counters.flushes(1, seq)
        {
            return None;
        }
        write(self.slots.payload(seq));
        self.slots.mark_published(seq, seq);
        let wake = self.cursor.store_for_wake(seq, self.wakeups);
        // Counted from the cursor, as `publish_one` counts (no flush due).
        self.published = seq;
        Some((seq, wake))
    }

    #[cold]
    fn claim_outstanding(&self) -> Error {
        Error::SequenceOutOfRange(format!(
            "[{}, {}] is claimed and unpublished: publish or unclaim it before publishing single events",
            self.published + 1,
            self.claim_end
        ))
    }

    #[cold]
    fn out_of_range(&self, lo: i64, hi: i64) -> Error {
        if self.claim_end <= self.published {
            let published = match self.published {
                -1 => "nothing published yet".to_string(),
                p => format!("published through {p}"),
            };
            return Error::SequenceOutOfRange(format!(
                "publish [{lo}, {hi}]: nothing is claimed ({published}): claim first, then publish within the claim"
            ));
        }
        Error::SequenceOutOfRange(format!(
            "publish [{lo}, {hi}]: the unpublished claim is [{}, {}]: publish a range that starts at {} and ends at most at {} (publishes go in order)",
            self.published + 1,
            self.claim_end,
            self.published + 1,
            self.claim_end
        ))
    }

    /// Gives back claimed but unpublished sequences from `from` on, so the
    /// next claim reuses them.
    pub fn unclaim(&mut self, from: i64) {
        if from > self.published && from <= self.claimed() {
            self.claim_end = from - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::ProducerMode;
    use crate::segment::scratch;
    use std::sync::atomic::Ordering;

    #[test]
    fn producer_never_laps_a_gating_consumer() {
        let seg = scratch::segment("sp", scratch::params(4, ProducerMode::Single, 0));
        let tables = Tables::new(seg.region(), seg.layout());
        let slots = Slots::new(&seg.region(), seg.layout());
        // One gating consumer (entry 0) that has consumed nothing.
        tables.consumer_sequence(0).set(-1);
        tables.gating_mask().store(1, Ordering::SeqCst);
        let mut p = SingleSequencer::new(
            tables,
            slots,
            4,
            Wakeups::Off,
            WaitStrategy::BusySpin,
            tables.counters().for_producer(0),
        )
        .unwrap();

        assert_eq!(p.claim(3, Duration::ZERO, || None).unwrap(), 0);
        assert_eq!(p.claim(1, Duration::ZERO, || None).unwrap(), 3);
        assert!(matches!(
            p.claim(1, Duration::ZERO, || None),
            Err(Error::WouldBlock(_))
        ));
        assert!(matches!(
            p.claim(1, Duration::from_millis(5), || None),
            Err(Error::Timeout { .. })
        ));
        assert!(p.publish(1, 1).is_err(), "must publish in order");
        p.publish(0, 2).unwrap();
        assert!(slots.is_published(2) && !slots.is_published(3));
        assert_eq!(tables.cursor().get(), 2);
        p.publish(3, 3).unwrap();
        // The consumer frees two slots: exactly two more can be claimed.
        tables.consumer_sequence(0).set(1);
        assert_eq!(p.claim(2, Duration::ZERO, || None).unwrap(), 4);
        assert!(p.claim(1, Duration::ZERO, || None).is_err());
        p.unclaim(5);
        assert_eq!(p.claim(1, Duration::ZERO, || None).unwrap(), 5);
    }

    #[test]
    fn a_new_producer_reads_the_gate_instead_of_assuming_it() {
        let seg = scratch::segment("sp", scratch::params(4, ProducerMode::Single, 0));
        let tables = Tables::new(seg.region(), seg.layout());
        let slots = Slots::new(&seg.region(), seg.layout());
        tables.consumer_sequence(0).set(-1);
        tables.gating_mask().store(1, Ordering::SeqCst);
        let new = || {
            SingleSequencer::new(
                tables,
                slots,
                4,
                Wakeups::Off,
                WaitStrategy::BusySpin,
                tables.counters().for_producer(0),
            )
        };
        {
            let mut first = new().unwrap();
            let lo = first.claim(4, Duration::ZERO, || None).unwrap();
            first.publish(lo, lo + 3).unwrap();
        }
        // Its successor must not lap the consumer that has read nothing.
        let mut second = new().unwrap();
        assert!(matches!(
            second.claim(1, Duration::ZERO, || None),
            Err(Error::WouldBlock(_))
        ));
    }

    #[test]
    fn stamps_a_dead_producer_left_beyond_the_cursor_are_adopted() {
        let seg = scratch::segment("sp", scratch::params(8, ProducerMode::Single, 0));
        let tables = Tables::new(seg.region(), seg.layout());
        let slots = Slots::new(&seg.region(), seg.layout());
        // A producer died after stamping 0..=2 and before storing the cursor.
        slots.mark_published(0, 2);
        assert_eq!(tables.cursor().get(), -1);
        let mut p = SingleSequencer::new(
            tables,
            slots,
            8,
            Wakeups::Off,
            WaitStrategy::BusySpin,
            tables.counters().for_producer(0),
        )
        .unwrap();
        assert_eq!((p.published(), tables.cursor().get()), (2, 2));
        assert_eq!(p.claim(1, Duration::ZERO, || None).unwrap(), 3);
        // A cursor no producer can have written is refused.
        tables.cursor().set(-5);
        assert!(SingleSequencer::new(
            tables,
            slots,
            8,
            Wakeups::Off,
            WaitStrategy::BusySpin,
            tables.counters().for_producer(0)
        )
        .is_err());
    }

    #[test]
    fn without_consumers_the_producer_overwrites_freely() {
        let seg = scratch::segment("sp", scratch::params(2, ProducerMode::Single, 0));
        let tables = Tables::new(seg.region(), seg.layout());
        let slots = Slots::new(&seg.region(), seg.layout());
        let mut p = SingleSequencer::new(
            tables,
            slots,
            2,
            Wakeups::Off,
            WaitStrategy::BusySpin,
            tables.counters().for_producer(0),
        )
        .unwrap();
        for i in 0..10 {
            let s = p.claim(1, Duration::ZERO, || None).unwrap();
            assert_eq!(s, i);
            p.publish(s, s).unwrap();
        }
        assert!(slots.is_published(9) && !slots.is_published(7));
    }
}
