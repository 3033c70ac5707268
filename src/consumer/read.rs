//! What a consumer may read now: the window between its commit and the
//! highest sequence known available, without the abandoned sequences of a
//! multi-producer ring.

use super::{Barrier, ConsumerCore};
use crate::error::{Error, Result};
use crate::slots::Stamp;

impl ConsumerCore {
    /// Checks that `seq` may be read now (committed < seq <= available)
    /// and holds an event (multi-producer rings: not abandoned).
    #[inline]
    pub fn check_readable(&self, seq: i64) -> Result<()> {
        if seq <= self.committed || seq > self.available {
            return Err(self.unreadable(seq));
        }
        // A first-stage consumer's stamp scans found no abandoned sequence
        // below `abandoned_at`: one comparison instead of a stamp load.
        let scanned = matches!(self.barrier, Barrier::Stamps(_));
        if self.multi
            && (seq >= self.abandoned_at.get() || !scanned)
            && self.slots.state(seq) == Stamp::Abandoned
        {
            return Err(Error::Abandoned { seq });
        }
        Ok(())
    }

    /// Checks that every sequence of `[lo, hi]` may be read now (see
    /// [`ConsumerCore::check_readable`]).
    pub fn check_range(&self, lo: i64, hi: i64) -> Result<()> {
        if !self.in_window(lo, hi) {
            return Err(Error::SequenceOutOfRange(format!(
                "[{lo}, {hi}] is not readable: committed through {}, available through {}: read only after the last commit and up to what the last wait returned (wait for more first)",
                self.committed, self.available
            )));
        }
        if self.may_hold_abandoned(hi) {
            return self.check_abandoned(lo, hi);
        }
        Ok(())
    }

    /// Whether `[lo, hi]` is non-empty and lies after the last commit and
    /// within what the last wait returned.
    #[inline(always)]
    fn in_window(&self, lo: i64, hi: i64) -> bool {
        hi >= lo && lo > self.committed && hi <= self.available
    }

    /// Whether a range ending at `hi` may hold an abandoned sequence, so
    /// that its stamps must be looked at: only a first-stage consumer's
    /// own stamp scans record abandoned sequences; a dependent one looks.
    #[inline(always)]
    fn may_hold_abandoned(&self, hi: i64) -> bool {
        let scanned = matches!(self.barrier, Barrier::Stamps(_));
        self.multi && (self.abandoned_at.get() <= hi || !scanned)
    }

    /// The slots of `[lo, hi]` as [`crate::slots::Slots::contiguous`]
    /// counts them, when [`ConsumerCore::check_range`] would pass with no
    /// stamp to look at (a single producer's ring, or a first-stage
    /// consumer whose scans found no abandoned sequence up to `hi`); `None`
    /// otherwise: the full check answers. No panicking operation (the
    /// range lies within a ring's worth), for the C ABI's span without a
    /// call.
    #[inline(always)]
    pub fn readable_span(&self, lo: i64, hi: i64) -> Option<[(*mut u8, u64); 2]> {
        if !self.in_window(lo, hi) || self.may_hold_abandoned(hi) {
            return None;
        }
        Some(self.slots.contiguous_counts(lo, hi))
    }

    /// `[lo, hi]` may hold an abandoned sequence: look (rare, cold).
    #[cold]
    fn check_abandoned(&self, lo: i64, hi: i64) -> Result<()> {
        let abandoned = |s: &i64| self.slots.state(*s) == Stamp::Abandoned;
        if let Some(seq) = (lo..=hi).find(abandoned) {
            return Err(Error::Abandoned { seq });
        }
        // None in the range: the lowest abandoned sequence not yet
        // committed, if any (one before `lo` stays recorded, so that
        // `check_readable` of it still looks at its stamp).
        let next = (self.committed + 1..=self.available).find(abandoned);
        self.abandoned_at.set(next.unwrap_or(i64::MAX));
        Ok(())
    }

    /// Whether `seq` (available) was abandoned by its producer.
    #[inline]
    pub fn is_abandoned(&self, seq: i64) -> bool {
        self.multi && self.slots.state(seq) == Stamp::Abandoned
    }

    #[cold]
    fn unreadable(&self, seq: i64) -> Error {
        Error::SequenceOutOfRange(format!(
            "sequence {seq} is not readable: committed through {}, available through {}: read only after the last commit and up to what the last wait returned (wait for more first)",
            self.committed, self.available
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{consumer, ring};
    use crate::{Error, RingOptions, WaitStrategy};
    use std::time::Duration;

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn only_the_window_between_commit_and_available_is_readable() {
        let r = ring("read-window", &RingOptions::new().capacity(8).slot_size(8));
        let (segment, ..) = r.raw_parts();
        let mut c = consumer(&r, "c", &[], None).unwrap();
        let mut p = r.producer(WaitStrategy::Yield).unwrap();
        for i in 0..3u64 {
            p.send(&i, T).unwrap();
        }
        let out = |r: crate::Result<()>| matches!(r, Err(Error::SequenceOutOfRange(_)));
        // Published, but not yet known available.
        assert!(out(c.check_readable(0)));
        assert_eq!(c.wait_for(|| segment, 0, T).unwrap(), 2);
        for seq in 0..=2 {
            c.check_readable(seq).unwrap();
        }
        c.check_range(0, 2).unwrap();
        assert!(out(c.check_readable(3)));
        assert!(out(c.check_range(1, 3)));
        assert!(out(c.check_range(2, 1)));
        c.commit(0).unwrap();
        assert!(out(c.check_readable(0)));
        assert!(out(c.check_range(0, 1)));
        c.check_range(1, 2).unwrap();
    }
}
