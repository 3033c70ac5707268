//! The slot array: `capacity` slots of `stride` bytes, each holding the
//! payload at offset 0 and, unless the ring is packed, a publication stamp
//! at `stamp_offset`, in the payload's last cache line when it fits.
//!
//! A stamp holds `sequence + 1` once the sequence is published,
//! `-(sequence + 1)` once it is abandoned (multi-producer rings), and
//! anything else (0, or a value of an earlier lap) before. Packed
//! multi-producer rings keep the same stamps in an availability array of
//! their own; packed single-producer rings have none (the cursor tells).

use crate::layout::{stamp_abandoned, stamp_published, Layout, RegionKind};
use crate::region::Region;
use crate::sync::AtomicI64;
use std::sync::atomic::Ordering;

/// What the stamp of a sequence says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// Not (yet) published.
    Pending,
    /// Published: the slot holds the event.
    Published,
    /// Abandoned: the slot holds no event (multi-producer rings).
    Abandoned,
    /// A later lap already uses the slot: the sequence is long resolved.
    Lapped,
}

/// A view of the slot array of a segment.
#[derive(Debug, Clone, Copy)]
pub struct Slots {
    base: *mut u8,
    mask: u64,
    stride: u64,
    slot_size: usize,
    /// Whether the slots are packed (no inline stamps).
    packed: bool,
    /// First stamp (null: no stamps) and the distance between stamps.
    stamps: *mut u8,
    stamp_stride: u64,
}

// SAFETY: the pointer refers to shared memory that outlives every holder
// (each holds the segment's Arc); access is synchronised by the protocol.
unsafe impl Send for Slots {}
// SAFETY: as above.
unsafe impl Sync for Slots {}

impl Slots {
    /// The slots of `layout` inside `region`.
    pub fn new(region: &Region, layout: &Layout) -> Slots {
        let (off, size) = layout.region(RegionKind::Slots);
        // Bounds-check the whole array once, so per-slot access is in bounds
        // by construction (index masked to capacity).
        let base = region.ptr(off, size as usize);
        let packed = layout.stamp_offset == 0;
        let (stamps, stamp_stride) = if !packed {
            // SAFETY: stamp_offset + 8 <= stride, so every stamp lies in its
            // slot, inside the array checked above.
            (
                unsafe { base.add(layout.stamp_offset as usize) },
                layout.stride,
            )
        } else if layout.has_region(RegionKind::Availability) {
            let (off, size) = layout.region(RegionKind::Availability);
            (region.ptr(off, size as usize), 8)
        } else {
            (std::ptr::null_mut(), 0)
        };
        Slots {
            base,
            mask: layout.mask,
            stride: layout.stride,
            slot_size: layout.params.slot_size as usize,
            packed,
            stamps,
            stamp_stride,
        }
    }

    /// Payload bytes per slot.
    #[inline]
    pub fn slot_size(&self) -> usize {
        self.slot_size
    }

    /// Number of slots.
    #[inline]
    pub fn capacity(&self) -> u64 {
        self.mask + 1
    }

    /// Bytes from one slot to the next.
    #[inline]
    pub fn stride(&self) -> usize {
        self.stride as usize
    }

    /// The slots of `[lo, hi]` (at most a ring's worth, checked by the
    /// caller) as at most two runs of stride-spaced slots, split where the
    /// ring wraps: (start, length in bytes) of each. Contiguous payloads in
    /// packed rings; stamps between them otherwise.
    #[inline]
    pub fn contiguous(&self, lo: i64, hi: i64) -> [(*mut u8, usize); 2] {
        let count = (hi - lo + 1) as u64;
        let index = lo as u64 & self.mask;
        let first = count.min(self.mask + 1 - index);
        [
            (self.payload(lo), (first * self.stride) as usize),
            (
                self.payload(lo + first as i64),
                ((count - first) * self.stride) as usize,
            ),
        ]
    }

    /// Whether sequences carry publication stamps (every ring but packed
    /// single-producer ones).
    #[inline]
    pub fn stamped(&self) -> bool {
        !self.stamps.is_null()
    }

    /// Whether the slots are packed (contiguous payloads, see
    /// [`Slots::contiguous`]).
    #[inline]
    pub fn packed(&self) -> bool {
        self.packed
    }

    /// Alignment of every payload: 64 bytes, or 8 in packed rings.
    pub fn alignment(&self) -> usize {
        if self.packed {
            8
        } else {
            64
        }
    }

    /// Pointer to the payload of the slot holding `seq`.
    #[inline]
    pub fn payload(&self, seq: i64) -> *mut u8 {
        let index = seq as u64 & self.mask;
        // SAFETY: index < capacity, and capacity * stride bytes from `base`
        // were bounds-checked in `new`.
        unsafe { self.base.add((index * self.stride) as usize) }
    }

    /// The publication stamp of the sequence `seq` (stamped rings only).
    #[inline]
    fn stamp(&self, seq: i64) -> &AtomicI64 {
        debug_assert!(self.stamped());
        let index = seq as u64 & self.mask;
        // SAFETY: inline stamps lie inside their slot (see `new`), and the
        // availability array holds capacity words, bounds-checked in `new`;
        // index < capacity. Stamps are 8-byte aligned (page- or line-aligned
        // bases, strides and offsets multiples of 8) and only ever accessed
        // atomically.
        unsafe { crate::sync::atomic_at(self.stamps.add((index * self.stamp_stride) as usize)) }
    }

    /// Stamps `[lo, hi]` published (release: the payloads written before
    /// are visible to whoever sees a stamp). Nothing to do without stamps.
    #[inline]
    pub fn mark_published(&self, lo: i64, hi: i64) {
        if self.stamped() {
            for seq in lo..=hi {
                self.stamp(seq)
                    .store(stamp_published(seq), Ordering::Release);
            }
        }
    }

    /// Whether the stamp of `seq` shows it published (always false without
    /// stamps: ask the cursor).
    #[inline]
    pub fn is_published(&self, seq: i64) -> bool {
        self.stamped() && self.stamp(seq).load(Ordering::Acquire) == stamp_published(seq)
    }

    /// What the stamp of `seq` says (stamped rings only).
    #[inline]
    pub fn state(&self, seq: i64) -> Stamp {
        classify(seq, self.stamp(seq).load(Ordering::Acquire))
    }

    /// The raw stamp word of `seq` (diagnostics and recovery).
    pub fn raw_stamp(&self, seq: i64) -> i64 {
        self.stamp(seq).load(Ordering::Acquire)
    }

    /// Moves the stamp of `seq` from pending to `target` (published or
    /// abandoned) with one compare-and-swap, so that of a publisher and an
    /// abandoner racing for the same sequence exactly one wins. `Ok` if this
    /// call moved it; otherwise the state it already had (resolved by the
    /// other party, or a slot a later lap already uses, which is never
    /// touched).
    #[inline]
    pub fn resolve(&self, seq: i64, published: bool) -> Result<(), Stamp> {
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
fn classify(seq: i64, v: i64) -> Stamp {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_tell_laps_apart() {
        assert_eq!(classify(5, 0), Stamp::Pending);
        assert_eq!(classify(5, 6), Stamp::Published);
        assert_eq!(classify(5, -6), Stamp::Abandoned);
        // Capacity 4: sequence 1 used the slot before, 9 after.
        assert_eq!(classify(5, 2), Stamp::Pending);
        assert_eq!(classify(5, -2), Stamp::Pending);
        assert_eq!(classify(5, 10), Stamp::Lapped);
        assert_eq!(classify(5, -10), Stamp::Lapped);
        assert_eq!(classify(5, i64::MIN), Stamp::Lapped);
    }
}
