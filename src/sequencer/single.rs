//! The single-producer sequencer: one producer process claims and publishes
//! with no read-modify-write atomic and no system call on the hot path.
//!
//! The next sequence to claim and the last known gating minimum live in
//! process-local memory. A claim only rescans the consumer table when the
//! cached minimum no longer covers it, which with consumers keeping up is
//! about once per ring's worth of events.

use crate::error::{Error, Result};
use crate::sequence::SharedSequence;
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
    wakeups: bool,
    strategy: WaitStrategy,
    /// Next sequence to claim.
    next: i64,
    /// Last published sequence (mirror of the shared cursor).
    published: i64,
    /// Gating minimum as last read from the consumer table.
    cached_gate: i64,
}

impl SingleSequencer {
    /// A sequencer resuming after the last published sequence.
    pub fn new(
        tables: Tables,
        slots: Slots,
        capacity: u64,
        wakeups: bool,
        strategy: WaitStrategy,
    ) -> SingleSequencer {
        let cursor = tables.cursor();
        let published = cursor.get();
        SingleSequencer {
            tables,
            cursor,
            slots,
            capacity: capacity as i64,
            wakeups,
            strategy,
            next: published + 1,
            published,
            cached_gate: published,
        }
    }

    /// Last published sequence.
    pub fn published(&self) -> i64 {
        self.published
    }

    /// Highest claimed sequence (== `published()` when nothing is pending).
    pub fn claimed(&self) -> i64 {
        self.next - 1
    }

    /// The slot array.
    pub fn slots(&self) -> &Slots {
        &self.slots
    }

    /// Claims `n` consecutive sequences, waiting at most `timeout` for
    /// consumers to free the slots, and returns the first. A zero timeout
    /// never waits (`WouldBlock` when the ring is full).
    #[inline]
    pub fn claim(&mut self, n: u64, timeout: Duration) -> Result<i64> {
        if n == 0 || n > self.capacity as u64 {
            return Err(Error::BatchTooLarge {
                requested: n,
                capacity: self.capacity as u64,
            });
        }
        let first = self.next;
        let last = first + n as i64 - 1;
        let wrap_point = last - self.capacity;
        if wrap_point > self.cached_gate {
            self.cached_gate = self.wait_for_gate(wrap_point, timeout)?;
        }
        self.next = last + 1;
        Ok(first)
    }

    #[cold]
    fn wait_for_gate(&self, wrap_point: i64, timeout: Duration) -> Result<i64> {
        let tables = self.tables;
        let published = self.published;
        // The blocking strategy sleeps on the slowest gating consumer's
        // sequence, whose commit wakes it.
        wait_until(
            self.strategy,
            timeout,
            "consumers to free slots",
            || match tables.gating_minimum(published) {
                (min, _) if min >= wrap_point => Poll::Ready(min),
                (_, at) => Poll::Pending(at.map(|i| tables.consumer_sequence(i))),
            },
        )
    }

    /// Publishes `[lo, hi]`, which must start right after the last published
    /// sequence and lie within the claimed range.
    #[inline]
    pub fn publish(&mut self, lo: i64, hi: i64) -> Result<()> {
        if lo != self.published + 1 || hi < lo || hi >= self.next {
            return Err(self.out_of_range(lo, hi));
        }
        for seq in lo..=hi {
            self.slots.mark_published(seq);
        }
        if self.wakeups {
            self.cursor.set_and_wake(hi);
        } else {
            self.cursor.set(hi);
        }
        self.published = hi;
        Ok(())
    }

    #[cold]
    fn out_of_range(&self, lo: i64, hi: i64) -> Error {
        Error::SequenceOutOfRange(format!(
            "publish [{lo}, {hi}]: the next publish must start at {} and end by {} (claimed)",
            self.published + 1,
            self.next - 1
        ))
    }

    /// Gives back claimed but unpublished sequences from `from` on, so the
    /// next claim reuses them.
    pub fn unclaim(&mut self, from: i64) {
        if from > self.published && from < self.next {
            self.next = from;
        }
    }
}
