//! What the C ABI's fast paths ask of a [`Consumer`]: its common cases
//! as a yes or no, without building an `Error` or making a call (the
//! exports fall back to the full call otherwise).

use super::Consumer;

impl Consumer {
    /// Highest sequence an earlier wait saw available (no shared read):
    /// `wait_for` of a sequence up to it returns it at once.
    #[inline(always)]
    pub(crate) fn known_available(&self) -> i64 {
        self.core.known_available()
    }

    /// The slots of `[lo, hi]` (pointer and count of each part, see
    /// [`crate::slots::Slots::contiguous_counts`]) when
    /// [`Consumer::raw_span`] would find the range readable with no stamp
    /// to look at, or `None`: the full call answers or refuses.
    #[inline(always)]
    pub(crate) fn known_span(&self, lo: i64, hi: i64) -> Option<[(*mut u8, u64); 2]> {
        self.core.readable_span(lo, hi)
    }

    /// [`Consumer::commit`] up to the wake-up (required consumers):
    /// whether a sleeping producer or dependent must be woken (then call
    /// [`Consumer::wake_waiters`]), or `None`: the full call commits or
    /// refuses.
    #[inline(always)]
    pub(crate) fn commit_unwoken(&mut self, seq: i64) -> Option<bool> {
        self.core.commit_unwoken(seq)
    }

    /// [`Consumer::consume_with`] of an event `read` copies out of the
    /// slot's payload, when it needs no wait and no flush (required
    /// consumers): its sequence and whether waiters must be woken (then
    /// call [`Consumer::wake_waiters`]), or `None` with nothing done: the
    /// full call consumes or refuses.
    #[inline(always)]
    pub(crate) fn consume_one_unwoken(
        &mut self,
        read: impl FnOnce(*const u8),
    ) -> Option<(i64, bool)> {
        self.core.consume_one_unwoken(read)
    }

    /// Wakes the waiters a [`Consumer::commit_unwoken`] or
    /// [`Consumer::consume_one_unwoken`] found asleep.
    #[cold]
    pub(crate) fn wake_waiters(&self) {
        self.core.wake_waiters();
    }
}
