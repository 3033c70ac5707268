//! Waiting for sequences: `wait_for` (a batch) and `next_event` (one
//! event) with their fast paths, and the slow paths behind them (the
//! cursor, the dependencies, an optional consumer's sliced wait).

use super::{Barrier, ConsumerCore};
use crate::error::{Error, Result};
use crate::segment::Segment;
use crate::sequence::{minimum_of, SharedSequence};
use crate::slots::Stamp;
use crate::wait::{wait_until, Poll};
use std::time::Duration;

/// Stamps a first-stage consumer of a single producer's stamped ring reads
/// past an available sequence before it asks the cursor for the rest of
/// the batch (see `ConsumerCore::published_from`).
const STAMP_RUN: i64 = 16;

impl ConsumerCore {
    /// Waits until `seq` is available and returns the highest available
    /// sequence (at least `seq`), so the caller can process a whole batch.
    /// A zero timeout never waits (`WouldBlock`).
    #[inline]
    ///
    /// `segment` is asked for only on the slow paths, so the fast path does
    /// not even load its address.
    pub fn wait_for<'s>(
        &mut self,
        segment: impl FnOnce() -> &'s Segment,
        seq: i64,
        timeout: Duration,
    ) -> Result<i64> {
        if seq <= self.available {
            return Ok(self.available);
        }
        if seq > self.committed.saturating_add(self.slots.capacity() as i64) {
            return Err(self.never_available(seq));
        }
        let available = match &self.barrier {
            // Look at the slot's own stamp first: its line holds the payload
            // too, so this read is never wasted.
            Barrier::Cursor(cursor) if self.slots.is_published(seq) => {
                self.published_from(*cursor, seq)
            }
            Barrier::Cursor(_) if self.slots.stamped() => {
                return self.wait_slow(segment(), seq, timeout)
            }
            Barrier::Cursor(cursor) => cursor.get(),
            Barrier::Dependencies(mask) => self.dependencies_minimum(*mask).0,
            Barrier::Stamps(_) => return self.wait_for_stamps(segment(), seq, timeout),
        };
        if available >= seq {
            self.available = self.clamp(available);
            return Ok(self.available);
        }
        self.wait_slow(segment(), seq, timeout)
    }

    /// A single producer's stamped ring, `seq` published: the end of the
    /// run of published stamps after it, read in the lines this consumer
    /// reads next anyway. Only a run of [`STAMP_RUN`] sends it to the
    /// cursor for the rest of the batch: a consumer that keeps up with the
    /// producer leaves the cursor line, which the producer writes for every
    /// event, alone (a cache-line transfer per event saved, and the
    /// producer's stores not held up).
    #[inline]
    fn published_from(&self, cursor: SharedSequence, seq: i64) -> i64 {
        let end = seq + STAMP_RUN;
        let (run, _) = self.slots.resolved_run(seq + 1, end);
        if run < end {
            return run;
        }
        cursor.get().max(run)
    }

    /// The next event to read, for the one-event calls: `committed + 1`
    /// once it is available (waiting at most `timeout`), after committing
    /// past abandoned sequences (multi-producer rings). When it is already
    /// known available, this is a comparison.
    #[inline(always)]
    pub fn next_event<'s>(
        &mut self,
        segment: impl Fn() -> &'s Segment,
        timeout: Duration,
    ) -> Result<i64> {
        match self.next_event_now() {
            Some(seq) => Ok(seq),
            None => self.next_event_slow(segment, timeout),
        }
    }

    /// The inline part of [`ConsumerCore::next_event`]: `committed + 1`
    /// when it is known available, or, caught up with a single producer,
    /// one load shows it arrived; `None`: the call that waits and skips
    /// abandoned sequences. No panicking operation.
    #[inline(always)]
    pub fn next_event_now(&mut self) -> Option<i64> {
        let seq = self.committed + 1;
        if seq <= self.available && !(self.multi && self.may_be_abandoned(seq)) {
            return Some(seq);
        }
        // Caught up with a single producer: one load tells whether `seq`
        // is there (its stamp, or the cursor in packed rings), before any
        // call. A stamped ring returns `seq` alone and leaves the cursor
        // line to the producer.
        if let Barrier::Cursor(cursor) = &self.barrier {
            if self.slots.stamped() {
                if self.slots.is_published(seq) {
                    self.available = seq;
                    return Some(seq);
                }
            } else {
                let available = cursor.get();
                if available >= seq {
                    self.available = self.clamp(available);
                    return Some(seq);
                }
            }
        }
        None
    }

    /// Whether available `seq` could be abandoned: a first-stage consumer's
    /// stamp scans recorded the lowest abandoned sequence; others look.
    #[inline]
    fn may_be_abandoned(&self, seq: i64) -> bool {
        !matches!(self.barrier, Barrier::Stamps(_)) || self.abandoned_at.get() <= seq
    }

    #[inline(never)]
    fn next_event_slow<'s>(
        &mut self,
        segment: impl Fn() -> &'s Segment,
        timeout: Duration,
    ) -> Result<i64> {
        loop {
            let seq = self.committed + 1;
            if seq > self.available {
                self.wait_for(&segment, seq, timeout)?;
            }
            if !(self.multi && self.slots.state(seq) == Stamp::Abandoned) {
                return Ok(seq);
            }
            self.store_commit(seq)?;
        }
    }

    /// Nothing beyond a ring's worth past the committed sequence can be
    /// published (this consumer gates the producer), so a larger value read
    /// from shared memory is corrupt; never hand it to the caller.
    #[inline]
    pub(super) fn clamp(&self, available: i64) -> i64 {
        available.min(self.committed.saturating_add(self.slots.capacity() as i64))
    }

    pub(super) fn dependencies_minimum(&self, mask: u64) -> (i64, Option<u32>) {
        let t = &self.tables;
        minimum_of(
            &t.region(),
            mask,
            |i| t.consumer_sequence_offset(i),
            i64::MAX,
        )
    }

    #[cold]
    pub(super) fn wait_slow(
        &mut self,
        segment: &Segment,
        seq: i64,
        timeout: Duration,
    ) -> Result<i64> {
        self.counters.wait(false);
        let result = if self.evictable {
            self.wait_evictable(segment, seq, timeout)
        } else {
            self.wait_slow_inner(segment, seq, timeout)
        };
        match result {
            Err(Error::Timeout { .. }) => self.counters.timeout(),
            // A non-blocking attempt found nothing: the counts are exact for
            // whoever looks while this consumer is idle.
            Err(Error::WouldBlock(_)) => self.counters.flush_counts(),
            _ => {}
        }
        result
    }

    /// An optional consumer's wait, in slices: between them it looks at its
    /// own state, so an eviction ends the wait (a lapped consumer would
    /// otherwise wait for a stamp that a later lap overwrote).
    fn wait_evictable(&mut self, segment: &Segment, seq: i64, timeout: Duration) -> Result<i64> {
        // Time is accounted slice by slice (each wait keeps its bound), so
        // a wait that succeeds in its first slice reads no clock here.
        let mut slice = timeout.min(crate::liveness::WATCH_INTERVAL);
        let mut left = timeout.saturating_sub(slice);
        loop {
            match self.wait_slow_inner(segment, seq, slice) {
                Err(e @ (Error::Timeout { .. } | Error::WouldBlock(_))) => {
                    self.check_evicted()?;
                    if left.is_zero() {
                        return Err(match e {
                            Error::Timeout { what, .. } => Error::Timeout {
                                what,
                                waited: timeout,
                            },
                            other => other,
                        });
                    }
                    slice = left.min(crate::liveness::WATCH_INTERVAL);
                    left = left.saturating_sub(slice);
                }
                other => return other,
            }
        }
    }

    fn wait_slow_inner(&mut self, segment: &Segment, seq: i64, timeout: Duration) -> Result<i64> {
        let available = match &self.barrier {
            Barrier::Stamps(_) => return self.wait_stamps(segment, seq, timeout),
            // The stamp of `seq` sits in the slot's own cache line: seeing
            // it costs one line transfer, where the cursor would cost a
            // second. The single producer stamps in order, so a stamped
            // `seq` means everything before it is published too.
            Barrier::Cursor(cursor) => {
                let (slots, cursor, counters) = (self.slots, *cursor, &self.counters);
                let idle = || counters.flush();
                let ready = wait_until(self.strategy, timeout, "events", idle, || {
                    if slots.is_published(seq) {
                        return Poll::Ready(seq);
                    }
                    // Packed rings have no stamps: the cursor tells. Stamped
                    // rings never read the cursor line while they wait.
                    if !slots.stamped() {
                        let c = cursor.get();
                        if c >= seq {
                            return Poll::Ready(c);
                        }
                    }
                    Poll::Pending(Some(cursor))
                })?;
                if ready == seq && slots.stamped() {
                    self.published_from(cursor, seq)
                } else {
                    ready
                }
            }
            Barrier::Dependencies(mask) => {
                let mask = *mask;
                wait_until(
                    self.strategy,
                    timeout,
                    "dependencies to commit",
                    || self.counters.flush(),
                    || match self.dependencies_minimum(mask) {
                        (min, _) if min >= seq => Poll::Ready(min),
                        (_, at) => Poll::Pending(at.map(|i| self.tables.consumer_sequence(i))),
                    },
                )?
            }
        };
        self.available = self.clamp(available);
        Ok(self.available)
    }

    #[cold]
    fn never_available(&self, seq: i64) -> Error {
        Error::SequenceOutOfRange(format!(
            "sequence {seq} cannot be published before this consumer commits past {}: it holds the producer back",
            seq - self.slots.capacity() as i64
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{consumer, ring};
    use crate::{Error, ProducerMode, RingOptions, WaitStrategy};
    use std::time::Duration;

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn a_zero_timeout_on_an_empty_ring_would_block() {
        for (tag, options) in [
            ("wb-stamped", RingOptions::new().capacity(8).slot_size(8)),
            (
                "wb-packed",
                RingOptions::new().capacity(8).slot_size(8).packed(true),
            ),
            (
                "wb-multi",
                RingOptions::new()
                    .capacity(8)
                    .slot_size(8)
                    .producer_mode(ProducerMode::Multi),
            ),
        ] {
            let r = ring(tag, &options);
            let (segment, ..) = r.raw_parts();
            let mut c = consumer(&r, "c", &[], None).unwrap();
            let e = c.wait_for(|| segment, 0, Duration::ZERO).unwrap_err();
            assert!(matches!(e, Error::WouldBlock(_)), "{tag}: {e:?}");
            let e = c.next_event(|| segment, Duration::ZERO).unwrap_err();
            assert!(matches!(e, Error::WouldBlock(_)), "{tag}: {e:?}");
        }
    }

    #[test]
    fn a_short_timeout_on_an_empty_ring_times_out() {
        let r = ring("timeout", &RingOptions::new().capacity(8).slot_size(8));
        let (segment, ..) = r.raw_parts();
        let mut c = consumer(&r, "c", &[], None).unwrap();
        let e = c
            .wait_for(|| segment, 0, Duration::from_millis(2))
            .unwrap_err();
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    }

    /// Short runs end at the stamps, long ones at the cursor (stamped
    /// rings), packed rings at the cursor: never past the last event.
    #[test]
    fn a_batch_ends_at_the_last_published_event() {
        for (tag, packed) in [("batch-stamped", false), ("batch-packed", true)] {
            let r = ring(
                tag,
                &RingOptions::new().capacity(256).slot_size(8).packed(packed),
            );
            let (segment, ..) = r.raw_parts();
            let mut c = consumer(&r, "c", &[], None).unwrap();
            let mut p = r.producer(WaitStrategy::Yield).unwrap();
            for (events, last) in [(5u64, 4i64), (100, 104), (1, 105)] {
                for i in 0..events {
                    p.send(&i, T).unwrap();
                }
                let next = c.committed() + 1;
                assert_eq!(c.wait_for(|| segment, next, T).unwrap(), last, "{tag}");
                assert_eq!(c.known_available(), last, "{tag}");
                c.commit(last).unwrap();
            }
        }
    }

    #[test]
    fn a_sequence_more_than_a_ring_ahead_is_refused_at_once() {
        let r = ring("ahead", &RingOptions::new().capacity(8).slot_size(8));
        let (segment, ..) = r.raw_parts();
        let mut c = consumer(&r, "c", &[], None).unwrap();
        // Committed through -1: sequence 7 may come, 8 never before a commit.
        let e = c.wait_for(|| segment, 8, T).unwrap_err();
        assert!(matches!(e, Error::SequenceOutOfRange(_)), "{e:?}");
        let e = c.wait_for(|| segment, 7, Duration::ZERO).unwrap_err();
        assert!(matches!(e, Error::WouldBlock(_)), "{e:?}");
    }

    #[test]
    fn a_dependent_consumer_waits_for_its_dependency_to_commit() {
        let r = ring("deps", &RingOptions::new().capacity(8).slot_size(8));
        let (segment, ..) = r.raw_parts();
        let mut a = consumer(&r, "a", &[], None).unwrap();
        let mut b = consumer(&r, "b", &["a"], None).unwrap();
        let mut p = r.producer(WaitStrategy::Yield).unwrap();
        for i in 0..3u64 {
            p.send(&i, T).unwrap();
        }
        let e = b.wait_for(|| segment, 0, Duration::ZERO).unwrap_err();
        assert!(matches!(e, Error::WouldBlock(_)), "{e:?}");
        assert_eq!(a.wait_for(|| segment, 0, T).unwrap(), 2);
        a.commit(1).unwrap();
        assert_eq!(b.wait_for(|| segment, 0, T).unwrap(), 1);
    }

    #[test]
    fn next_event_hands_out_one_event_at_a_time() {
        let r = ring("next", &RingOptions::new().capacity(8).slot_size(8));
        let (segment, ..) = r.raw_parts();
        let mut c = consumer(&r, "c", &[], None).unwrap();
        let mut p = r.producer(WaitStrategy::Yield).unwrap();
        for i in 0..3u64 {
            p.send(&i, T).unwrap();
        }
        for seq in 0..3 {
            assert_eq!(c.next_event(|| segment, T).unwrap(), seq);
            c.commit_next(seq).unwrap();
        }
        assert_eq!(c.committed(), 2);
        let e = c.next_event(|| segment, Duration::ZERO).unwrap_err();
        assert!(matches!(e, Error::WouldBlock(_)), "{e:?}");
    }
}
