//! The slot array: `capacity` slots of `stride` bytes, each holding the
//! payload at offset 0 and, unless the ring is packed, a publication stamp
//! (`sequence + 1`, 0 = never written) at `stamp_offset`, in the payload's
//! last cache line when it fits.

use crate::layout::{Layout, RegionKind};
use crate::region::Region;
use std::sync::atomic::{AtomicI64, Ordering};

/// A view of the slot array of a segment.
#[derive(Debug, Clone, Copy)]
pub struct Slots {
    base: *mut u8,
    mask: u64,
    stride: u64,
    stamp_offset: u64,
    slot_size: usize,
    stamped: bool,
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
        Slots {
            base,
            mask: layout.mask,
            stride: layout.stride,
            stamp_offset: layout.stamp_offset,
            slot_size: layout.params.slot_size as usize,
            stamped: layout.stamp_offset != 0,
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

    /// Packed rings only: the slots of `[lo, hi]` (at most a ring's worth,
    /// checked by the caller) as at most two contiguous byte ranges, split
    /// where the ring wraps: (start, length in bytes) of each.
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

    /// Whether slots carry publication stamps (not in packed rings).
    #[inline]
    pub fn stamped(&self) -> bool {
        self.stamped
    }

    /// Alignment of every payload: 64 bytes, or 8 in packed rings.
    pub fn alignment(&self) -> usize {
        if self.stamped {
            64
        } else {
            8
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

    /// The publication stamp of the slot holding `seq` (stamped rings only).
    #[inline]
    fn stamp(&self, seq: i64) -> &AtomicI64 {
        debug_assert!(self.stamped);
        // SAFETY: stamp_offset + 8 <= stride, so the stamp lies inside the
        // slot (in bounds, see `payload`); it is 8-byte aligned because the
        // array is page-aligned, stride is a multiple of 64 and stamp_offset
        // a multiple of 8; it is only accessed atomically.
        unsafe { &*(self.payload(seq).add(self.stamp_offset as usize) as *const AtomicI64) }
    }

    /// Stamps `[lo, hi]` published (release: the payloads written before
    /// are visible to whoever sees a stamp). Nothing to do in packed rings.
    #[inline]
    pub fn mark_published(&self, lo: i64, hi: i64) {
        if self.stamped {
            for seq in lo..=hi {
                self.stamp(seq).store(seq + 1, Ordering::Release);
            }
        }
    }

    /// Whether the stamp of `seq` shows it published (always false in
    /// packed rings, which have no stamps: ask the cursor).
    #[inline]
    pub fn is_published(&self, seq: i64) -> bool {
        self.stamped && self.stamp(seq).load(Ordering::Acquire) == seq + 1
    }
}
