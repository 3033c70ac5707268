//! Committing: the release store that frees slots for the producer (and
//! wakes it), and an optional consumer's check that it was not evicted.

use super::ConsumerCore;
use crate::error::{Error, Result};
use crate::layout::state;
use std::sync::atomic::Ordering;

impl ConsumerCore {
    /// Marks every sequence up to `seq` consumed. `seq` must not exceed what
    /// `wait_for` returned; committing the current value again is a no-op.
    #[inline]
    pub fn commit(&mut self, seq: i64) -> Result<()> {
        if seq == self.committed {
            return Ok(());
        }
        if seq < self.committed || seq > self.available {
            return Err(self.uncommittable(seq));
        }
        self.store_commit(seq)
    }

    /// [`ConsumerCore::commit`] up to the wake-up, for the C ABI's
    /// `dmp_commit` without a call: whether a sleeping producer (or
    /// dependent) must be woken (then call [`ConsumerCore::wake_waiters`]),
    /// or `None`, a commit the full call makes or refuses (an optional
    /// consumer's, which checks its eviction; one out of range; one whose
    /// count flushes, which reads the clock; and, with fault points compiled
    /// in, every commit). No panicking operation, no call.
    #[inline(always)]
    pub fn commit_unwoken(&mut self, seq: i64) -> Option<bool> {
        if cfg!(feature = "fault-injection") || self.evictable {
            return None;
        }
        if seq == self.committed {
            return Some(false);
        }
        if seq < self.committed
            || seq > self.available
            || self.counters.flushes(seq - self.committed, seq)
        {
            return None;
        }
        let wake = self.sequence.store_for_wake(seq, self.wakeups);
        self.count_commit(seq);
        Some(wake)
    }

    /// Wakes the waiters a commit found asleep, and counts it (cold).
    #[cold]
    pub fn wake_waiters(&self) {
        if self.sequence.wake() {
            self.counters.wakeup();
        }
    }

    /// The commit itself, of a `seq` in `(committed, available]`.
    #[inline(always)]
    pub(super) fn store_commit(&mut self, seq: i64) -> Result<()> {
        self.store_sequence(seq)?;
        self.count_commit(seq);
        Ok(())
    }

    /// The bookkeeping of a stored commit of `seq`.
    #[inline(always)]
    fn count_commit(&mut self, seq: i64) {
        if seq == self.committed + 1 {
            // One event: counted from the committed sequence's advance, as
            // `commit_one`'s are.
            self.counters.one_event(seq);
        } else {
            self.counters.batch((seq - self.committed) as u64);
        }
        self.committed = seq;
    }

    /// The store of the committed sequence (and its wake-up).
    #[inline(always)]
    fn store_sequence(&mut self, seq: i64) -> Result<()> {
        // Fault harness: the batch was read, its commit not yet stored.
        crate::fault::fault_point!("consumer.commit");
        if self.evictable {
            self.store_evictable(seq)?;
        } else if self.sequence.publish(seq, self.wakeups) {
            self.counters.wakeup();
        }
        Ok(())
    }

    /// The one-event consume without a call, for the C ABI's
    /// `dmp_consume_one`: when this required consumer's next event is
    /// there ([`ConsumerCore::next_event_now`]) and its count would not
    /// flush, `read` gets the event's payload and the event is committed;
    /// the answer is its sequence and whether waiters must be woken (then
    /// call [`ConsumerCore::wake_waiters`]). `None`, with nothing
    /// committed: the full call (it may wait, flush, or check an eviction);
    /// with fault points compiled in, always. No panicking operation but
    /// `read`'s.
    #[inline(always)]
    pub fn consume_one_unwoken(&mut self, read: impl FnOnce(*const u8)) -> Option<(i64, bool)> {
        if cfg!(feature = "fault-injection") || self.evictable {
            return None;
        }
        let seq = self.next_event_now()?;
        if self.counters.flushes(1, seq) {
            return None;
        }
        read(self.slots.payload(seq));
        let wake = self.sequence.store_for_wake(seq, self.wakeups);
        // Counted from the committed sequence's advance (no flush due).
        self.committed = seq;
        Some((seq, wake))
    }

    /// Commits `seq`, which [`ConsumerCore::next_event`] returned (the
    /// one-event calls: nothing left to check).
    #[inline(always)]
    pub fn commit_next(&mut self, seq: i64) -> Result<()> {
        debug_assert!(seq == self.committed + 1 && seq <= self.available);
        self.store_sequence(seq)?;
        // Counted from the committed sequence's advance, at flushes.
        self.counters.one_event(seq);
        self.committed = seq;
        Ok(())
    }

    #[cold]
    fn uncommittable(&self, seq: i64) -> Error {
        let what = if seq < self.committed {
            "commits only go forward"
        } else {
            "wait for it before committing it"
        };
        Error::SequenceOutOfRange(format!(
            "commit {seq}: a commit must lie in [{}, {}] (from the last commit up to what the last wait returned): {what}",
            self.committed, self.available
        ))
    }

    /// Fails with `Evicted` once a producer has evicted this (optional)
    /// consumer: one load of its own entry's state, a line only the
    /// consumer reads until an eviction writes it.
    #[inline]
    pub(super) fn check_evicted(&self) -> Result<()> {
        if self
            .tables
            .consumer_state(self.index)
            .load(Ordering::Acquire)
            == state::ACTIVE
        {
            return Ok(());
        }
        Err(self.evicted())
    }

    /// An optional consumer's commit store: first [`ConsumerCore::check_evicted`],
    /// after the batch's reads, so that a commit that does not see the
    /// eviction read slots the producer had not yet overwritten. Out of
    /// line, so that required consumers' `commit` stays as small as it was.
    #[inline(never)]
    fn store_evictable(&mut self, seq: i64) -> Result<()> {
        crate::sync::fence(Ordering::Acquire);
        self.check_evicted()?;
        if self.sequence.publish(seq, self.wakeups) {
            self.counters.wakeup();
        }
        Ok(())
    }

    #[cold]
    fn evicted(&self) -> Error {
        let t = &self.tables;
        let st = t.consumer_state(self.index).load(Ordering::Acquire);
        if st != state::EVICTED {
            return Error::Corrupt {
                path: Default::default(),
                detail: format!(
                    "consumer entry {} holds state {st} while its consumer is attached",
                    self.index
                ),
            };
        }
        let committed = t.consumer_evicted_at(self.index).load(Ordering::Relaxed);
        let head = t.head(self.multi);
        Error::Evicted {
            name: t.consumer_name(self.index),
            committed,
            lost: u64::try_from(head.saturating_sub(self.committed)).unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{consumer, ring};
    use crate::{Error, RingOptions, WaitStrategy};
    use std::time::Duration;

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn a_commit_out_of_range_is_refused() {
        let r = ring("commit-range", &RingOptions::new().capacity(8).slot_size(8));
        let (segment, ..) = r.raw_parts();
        let mut c = consumer(&r, "c", &[], None).unwrap();
        let mut p = r.producer(WaitStrategy::Yield).unwrap();
        for i in 0..3u64 {
            p.send(&i, T).unwrap();
        }
        // Nothing is available before a wait says so.
        let e = c.commit(0).unwrap_err();
        assert!(matches!(e, Error::SequenceOutOfRange(_)), "{e:?}");
        assert_eq!(c.wait_for(|| segment, 0, T).unwrap(), 2);
        for beyond in [3, 100] {
            let e = c.commit(beyond).unwrap_err();
            assert!(matches!(e, Error::SequenceOutOfRange(_)), "{e:?}");
        }
        c.commit(1).unwrap();
        // Again: a no-op; back: refused.
        c.commit(1).unwrap();
        let e = c.commit(0).unwrap_err();
        assert!(matches!(e, Error::SequenceOutOfRange(_)), "{e:?}");
        assert_eq!(c.committed(), 1);
        c.commit(2).unwrap();
        assert_eq!(c.committed(), 2);
    }

    #[test]
    fn a_commit_frees_slots_for_the_producer() {
        let r = ring("commit-frees", &RingOptions::new().capacity(4).slot_size(8));
        let (segment, ..) = r.raw_parts();
        let mut c = consumer(&r, "c", &[], None).unwrap();
        let mut p = r.producer(WaitStrategy::Yield).unwrap();
        for i in 0..4u64 {
            p.send(&i, T).unwrap();
        }
        let e = p.try_claim(1).unwrap_err();
        assert!(matches!(e, Error::WouldBlock(_)), "{e:?}");
        assert_eq!(c.wait_for(|| segment, 0, T).unwrap(), 3);
        c.commit(1).unwrap();
        assert_eq!(p.try_claim(2).unwrap(), 4);
    }

    /// An optional consumer that holds the producer back is evicted; its
    /// next commit says so, and rejoining counts what it lost.
    #[test]
    fn an_evicted_consumer_s_commit_fails_with_evicted() {
        let r = ring(
            "commit-evicted",
            &RingOptions::new().capacity(4).slot_size(8),
        );
        let (segment, ..) = r.raw_parts();
        let mut c = consumer(&r, "c", &[], Some(Duration::ZERO)).unwrap();
        let mut p = r.producer(WaitStrategy::Yield).unwrap();
        for i in 0..4u64 {
            p.send(&i, T).unwrap();
        }
        assert_eq!(c.wait_for(|| segment, 0, T).unwrap(), 3);
        // The ring is full: a claim that may not wait evicts `c`.
        p.send(&4u64, Duration::ZERO).unwrap();
        let e = c.commit(3).unwrap_err();
        assert!(matches!(e, Error::Evicted { .. }), "{e:?}");
        assert_eq!(c.committed(), -1);
        assert_eq!(c.rejoin(segment).unwrap(), 5);
        assert_eq!(c.committed(), 4);
        assert_eq!(c.rejoin(segment).unwrap(), 0);
    }
}
