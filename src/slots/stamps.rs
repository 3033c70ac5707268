//! Inline publication stamps: one 8-byte word per slot, `seq + 1` once
//! published, `-(seq + 1)` once abandoned.

use super::{Slots, Stamp};
use crate::layout::{stamp_abandoned, stamp_published};
use crate::sync::AtomicI64;
use std::sync::atomic::Ordering;

impl Slots {
    /// The publication stamp of the sequence `seq` (inline stamps only).
    #[inline]
    pub(super) fn stamp(&self, seq: i64) -> &AtomicI64 {
        debug_assert!(!self.stamps.is_null());
        let index = seq as u64 & self.mask;
        self.stamp_at((index * self.stamp_stride) as usize)
    }

    /// The stamp at byte `at` of the stamps (inline stamps only): `at` is
    /// `index * stamp_stride` for a slot index below the capacity.
    #[inline(always)]
    pub(super) fn stamp_at(&self, at: usize) -> &AtomicI64 {
        debug_assert!(
            !self.stamps.is_null() && at < (self.capacity() * self.stamp_stride) as usize
        );
        // SAFETY: inline stamps lie inside their slot (see `new`) and `at`
        // is the offset of the stamp of a slot index below the capacity,
        // so the pointer stays inside the slot array.
        let stamp = unsafe { self.stamps.add(at) };
        // SAFETY: stamps are 8-byte aligned (page-aligned base, strides and
        // offsets multiples of 8), live as long as the mapping (which
        // outlives `self`) and are only ever accessed atomically.
        unsafe { crate::sync::atomic_at(stamp) }
    }

    /// Stamps `[lo, hi]` published (inline stamps).
    #[inline]
    pub(super) fn mark_stamps(&self, lo: i64, hi: i64) {
        // Walk the stamps by address: no range iterator, no
        // multiplication per stamp, one comparison for the wrap.
        let index = lo as u64 & self.mask;
        let stride = self.stamp_stride as usize;
        let mut at = (index * self.stamp_stride) as usize;
        let mut lap_end = lo + (self.mask - index) as i64;
        let mut seq = lo;
        loop {
            // `at` is the offset of the stamp of slot `seq & mask`.
            let stamp = self.stamp_at(at);
            stamp.store(stamp_published(seq), Ordering::Release);
            if seq == hi {
                break;
            }
            if seq == lap_end {
                at = 0;
                lap_end += self.mask as i64 + 1;
            } else {
                at += stride;
            }
            seq += 1;
        }
    }

    /// [`Slots::resolved_run`] with inline stamps.
    #[inline]
    pub(super) fn stamped_run(&self, seq: i64, limit: i64) -> (i64, Option<i64>) {
        let mut abandoned = None;
        let mut next = seq;
        // Inline stamps, one per slot: walk them by address, a lap's
        // part at a time (no wrap check per stamp).
        let stride = self.stamp_stride as usize;
        'laps: while next <= limit {
            let stop = limit.min(next | self.mask as i64);
            let mut at = ((next as u64 & self.mask) * self.stamp_stride) as usize;
            while next <= stop {
                // `at` is the offset of the stamp of a slot (index <
                // capacity, up to the lap's last).
                let stamp = self.stamp_at(at);
                let v = stamp.load(Ordering::Acquire);
                if v != stamp_published(next) {
                    if v != stamp_abandoned(next) {
                        break 'laps;
                    }
                    abandoned.get_or_insert(next);
                }
                next += 1;
                at += stride;
            }
        }
        (next - 1, abandoned)
    }

    /// [`Slots::resolve`] with inline stamps: a compare-and-swap of the
    /// stamp.
    #[inline]
    pub(super) fn resolve_stamp(&self, seq: i64, published: bool) -> Result<(), Stamp> {
        let stamp = self.stamp(seq);
        let new = if published {
            stamp_published(seq)
        } else {
            stamp_abandoned(seq)
        };
        let mut current = stamp.load(Ordering::Acquire);
        loop {
            match classify(seq, current) {
                Stamp::Pending => {}
                other => return Err(other),
            }
            match stamp.compare_exchange_weak(current, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(()),
                Err(seen) => current = seen,
            }
        }
    }
}

/// Reads a stamp word for `seq`: its own published or abandoned mark, a
/// value of an earlier lap (or 0: pending), or of a later one (lapped).
#[inline]
pub(super) fn classify(seq: i64, v: i64) -> Stamp {
    if v == stamp_published(seq) {
        Stamp::Published
    } else if v == stamp_abandoned(seq) {
        Stamp::Abandoned
    } else if v.unsigned_abs() < stamp_published(seq).unsigned_abs() {
        Stamp::Pending
    } else {
        Stamp::Lapped
    }
}
