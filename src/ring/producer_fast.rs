//! What the C ABI's fast paths ask of a [`Producer`]: the checks of its
//! calls as a yes or no, without building an `Error` (the exports fall
//! back to the full call, which names what is wrong).

use super::Producer;
use crate::sequencer::Sequencer;

impl Producer {
    /// The payload of claimed, unpublished sequence `seq`, as
    /// [`Producer::slot_mut`] gives it, or `None` where that fails. No
    /// panicking operation.
    #[inline(always)]
    pub(crate) fn claimed_slot(&mut self, seq: i64) -> Option<*mut u8> {
        if !self.holds(seq, seq) {
            return None;
        }
        Some(self.slots.payload(seq))
    }

    /// The slots of claimed, unpublished `[lo, hi]` (pointer and count of
    /// each part, see [`crate::slots::Slots::contiguous_counts`]), as
    /// [`Producer::raw_span`] gives them, or `None` where that fails. No
    /// panicking operation.
    #[inline(always)]
    pub(crate) fn claimed_span(&self, lo: i64, hi: i64) -> Option<[(*mut u8, u64); 2]> {
        if !self.holds(lo, hi) {
            return None;
        }
        Some(self.slots.contiguous_counts(lo, hi))
    }

    /// A claim of `n` that needs no wait, as [`Producer::claim`] makes it
    /// (single-producer rings), or `None`: the call that may wait, or
    /// refuses, is the full one.
    #[inline(always)]
    pub(crate) fn claim_cached(&mut self, n: u64) -> Option<i64> {
        match &mut self.sequencer {
            Sequencer::Single(s) => s.claim_cached(n),
            Sequencer::Multi(_) => None,
        }
    }

    /// [`Producer::publish`] up to the wake-up (single-producer rings):
    /// whether consumers must be woken (then call
    /// [`Producer::wake_consumers`]), or `None`: the full call publishes or
    /// refuses.
    #[inline(always)]
    pub(crate) fn publish_unwoken(&mut self, lo: i64, hi: i64) -> Option<bool> {
        match &mut self.sequencer {
            Sequencer::Single(s) => s.publish_unwoken(lo, hi),
            Sequencer::Multi(_) => None,
        }
    }

    /// [`Producer::publish_with`] of an event `write` copies into the
    /// slot's payload, when it needs no wait and no flush (single-producer
    /// rings): its sequence and whether consumers must be woken (then
    /// call [`Producer::wake_consumers`]), or `None` with nothing done:
    /// the full call publishes or refuses.
    #[inline(always)]
    pub(crate) fn publish_one_unwoken(
        &mut self,
        write: impl FnOnce(*mut u8),
    ) -> Option<(i64, bool)> {
        match &mut self.sequencer {
            Sequencer::Single(s) => s.publish_one_unwoken(write),
            Sequencer::Multi(_) => None,
        }
    }

    /// Wakes the consumers a [`Producer::publish_unwoken`] or
    /// [`Producer::publish_one_unwoken`] found asleep.
    #[cold]
    pub(crate) fn wake_consumers(&self) {
        if let Sequencer::Single(s) = &self.sequencer {
            s.wake_consumers();
        }
    }
}
