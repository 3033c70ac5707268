//! The slot array: `capacity` slots of `stride` bytes, each holding the
//! payload at offset 0 and, unless the ring is packed, a publication stamp
//! at `stamp_offset`, in the payload's last cache line when it fits.
//!
//! A stamp holds `sequence + 1` once the sequence is published,
//! `-(sequence + 1)` once it is abandoned (multi-producer rings), and
//! anything else (0, or a value of an earlier lap) before. Packed
//! multi-producer rings keep a one-byte *flag* per slot instead, in an
//! availability array of their own (see [`flag`]); packed single-producer
//! rings have neither (the cursor tells).
//!
//! The flags are read and written as aligned 64-bit words of eight flags
//! (never as single bytes, so that every access to that memory is an
//! atomic of one size): a consumer checks eight sequences with one load,
//! and a producer publishes the flags of a batch with one store per eight
//! sequences, plus one read-modify-write for each word it shares with a
//! neighbouring claim.

mod flags;
mod stamps;

pub use flags::flag;

use crate::layout::{stamp_published, Layout, RegionKind};
use crate::region::Region;
use crate::sync::AtomicI64;
use stamps::classify;
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
    /// Whether availability is kept per slot (inline stamps or flags):
    /// one load on the one-event paths instead of two null tests.
    stamped: bool,
    /// First stamp (null: no inline stamps) and the distance between them.
    stamps: *mut u8,
    stamp_stride: u64,
    /// Packed multi-producer rings: the availability flags (null: none).
    flags: *mut u8,
    /// log2(capacity): a sequence's lap is `seq >> shift`.
    shift: u32,
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
        } else {
            (std::ptr::null_mut(), 0)
        };
        let flags = if packed && layout.has_region(RegionKind::Availability) {
            let (off, size) = layout.region(RegionKind::Availability);
            // Whole words covering every slot's flag (checked by the layout;
            // asserted here so that a flag word is never out of bounds).
            assert!(size >= (layout.mask + 1).div_ceil(8) * 8);
            region.ptr(off, size as usize)
        } else {
            std::ptr::null_mut()
        };
        Slots {
            base,
            mask: layout.mask,
            stride: layout.stride,
            slot_size: layout.params.slot_size as usize,
            packed,
            stamped: !stamps.is_null() || !flags.is_null(),
            stamps,
            stamp_stride,
            flags,
            shift: (layout.mask + 1).trailing_zeros(),
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
        let [(a, a_count), (b, b_count)] = self.contiguous_counts(lo, hi);
        [
            (a, (a_count * self.stride) as usize),
            (b, (b_count * self.stride) as usize),
        ]
    }

    /// [`Slots::contiguous`] with the parts' lengths in slots, not bytes.
    #[inline(always)]
    pub fn contiguous_counts(&self, lo: i64, hi: i64) -> [(*mut u8, u64); 2] {
        let count = (hi - lo + 1) as u64;
        let index = lo as u64 & self.mask;
        let first = count.min(self.mask + 1 - index);
        [
            (self.payload(lo), first),
            (self.payload(lo + first as i64), count - first),
        ]
    }

    /// Whether sequences carry publication stamps or flags (every ring but
    /// packed single-producer ones).
    #[inline]
    pub fn stamped(&self) -> bool {
        self.stamped
    }

    /// Whether availability is kept in one-byte flags (packed
    /// multi-producer rings) rather than 8-byte stamps.
    #[inline]
    pub fn flagged(&self) -> bool {
        !self.flags.is_null()
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

    /// Stamps `[lo, hi]` published (release: the payloads written before
    /// are visible to whoever sees a stamp). Nothing to do without stamps.
    #[inline(always)]
    pub fn mark_published(&self, lo: i64, hi: i64) {
        // Packed single-producer rings have no stamps, and one event at a
        // time a multi-producer publish has no further ones: no call.
        if lo <= hi && self.stamped() {
            self.mark_run(lo, hi);
        }
    }

    /// [`Slots::mark_published`] of a non-empty range.
    #[inline]
    fn mark_run(&self, lo: i64, hi: i64) {
        if self.flagged() {
            self.mark_flags(lo, hi);
        } else if !self.stamps.is_null() {
            self.mark_stamps(lo, hi);
        }
    }

    /// Whether the stamp of `seq` shows it published (always false without
    /// stamps: ask the cursor).
    #[inline]
    pub fn is_published(&self, seq: i64) -> bool {
        if !self.stamps.is_null() {
            return self.stamp(seq).load(Ordering::Acquire) == stamp_published(seq);
        }
        self.flagged() && self.state(seq) == Stamp::Published
    }

    /// What the stamp of `seq` says (stamped rings only).
    #[inline]
    pub fn state(&self, seq: i64) -> Stamp {
        if self.flagged() {
            return flag::classify(seq, self.shift, self.flag(seq));
        }
        classify(seq, self.stamp(seq).load(Ordering::Acquire))
    }

    /// The raw stamp word of `seq`, or its flag byte in flagged rings
    /// (diagnostics and recovery).
    pub fn raw_stamp(&self, seq: i64) -> i64 {
        if self.flagged() {
            return i64::from(self.flag(seq));
        }
        self.stamp(seq).load(Ordering::Acquire)
    }

    /// Multi-producer rings: the end of the run of resolved (published or
    /// abandoned) sequences from `seq`, at most `limit` (`seq - 1`: `seq`
    /// is not resolved), and the first abandoned sequence in it. Flagged
    /// rings check eight sequences per load.
    #[inline(always)]
    pub fn resolved_run(&self, seq: i64, limit: i64) -> (i64, Option<i64>) {
        if !self.flagged() {
            return self.stamped_run(seq, limit);
        }
        self.flag_run(seq, limit)
    }

    /// Moves the stamp of `seq` from pending to `target` (published or
    /// abandoned) with one compare-and-swap, so that of a publisher and an
    /// abandoner racing for the same sequence exactly one wins. `Ok` if this
    /// call moved it; otherwise the state it already had (resolved by the
    /// other party, or a slot a later lap already uses, which is never
    /// touched).
    ///
    /// `claimed` is the ring's claim counter: flagged rings read it after
    /// the flag, to tell a later lap that their narrow round cannot (see
    /// [`flag`]).
    #[inline]
    pub fn resolve(&self, seq: i64, published: bool, claimed: &AtomicI64) -> Result<(), Stamp> {
        if self.flagged() {
            return self.resolve_flag(seq, published, claimed);
        }
        self.resolve_stamp(seq, published)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Params, ProducerMode, FLAG_PACKED};

    /// The slots of a fresh packed multi-producer ring of `capacity` in
    /// zeroed, page-aligned memory (freed when the holder drops).
    struct Flagged {
        slots: Slots,
        mem: *mut u8,
        alloc: std::alloc::Layout,
        claim: AtomicI64,
    }

    impl Flagged {
        fn new(capacity: u64) -> Flagged {
            Flagged::with(capacity, true)
        }

        /// `packed: false`: the same ring with inline 8-byte stamps.
        fn with(capacity: u64, packed: bool) -> Flagged {
            let layout = Layout::compute(Params {
                capacity,
                slot_size: 8,
                max_consumers: 2,
                max_producers: 2,
                producer_mode: ProducerMode::Multi,
                type_id: 0,
                flags: if packed { FLAG_PACKED } else { 0 },
                unblock_timeout_ns: 1_000_000_000,
            })
            .unwrap();
            let alloc =
                std::alloc::Layout::from_size_align(layout.total_size as usize, 4096).unwrap();
            // SAFETY: non-zero size; freed in Drop with the same layout.
            let mem = unsafe { std::alloc::alloc_zeroed(alloc) };
            let base = std::ptr::NonNull::new(mem).unwrap();
            // SAFETY: `mem` holds total_size bytes, page-aligned, for as
            // long as `slots` (dropped with it) is used.
            let region = unsafe { Region::from_raw(base, layout.total_size as usize) };
            let slots = Slots::new(&region, &layout);
            assert_eq!(slots.flagged(), packed);
            Flagged {
                slots,
                mem,
                alloc,
                claim: AtomicI64::new(-1),
            }
        }

        /// Claims through `hi` and publishes `[lo, hi]` as a producer does.
        fn publish(&self, lo: i64, hi: i64) -> Result<(), Stamp> {
            self.claim.fetch_max(hi, Ordering::SeqCst);
            self.slots.resolve(lo, true, &self.claim)?;
            self.slots.mark_published(lo + 1, hi);
            Ok(())
        }
    }

    impl Drop for Flagged {
        fn drop(&mut self) {
            // SAFETY: allocated in `new` with `alloc`.
            unsafe { std::alloc::dealloc(self.mem, self.alloc) }
        }
    }

    #[test]
    fn flags_tell_laps_apart_within_the_window() {
        // Capacity 4 (shift 2): every lap distance from -64 to 63 reads
        // right, across the wrap of the seven-bit round.
        for lap in [0i64, 1, 63, 64, 126, 127, 128, 200, 1 << 40] {
            let s = lap * 4 + 1;
            for d in -64i64..=63 {
                let other = s + d * 4;
                if other < 0 {
                    continue;
                }
                let expect = match d {
                    0 => Stamp::Published,
                    1.. => Stamp::Lapped,
                    _ => Stamp::Pending,
                };
                assert_eq!(
                    flag::classify(s, 2, flag::published(other, 2)),
                    expect,
                    "lap {lap}, distance {d}"
                );
                let expect = if d == 0 { Stamp::Abandoned } else { expect };
                assert_eq!(flag::classify(s, 2, flag::abandoned(other, 2)), expect);
            }
        }
        // A slot never written is pending for lap 0 and every lap within
        // 64 of it.
        for s in 0..64 * 4 {
            assert_eq!(flag::classify(s, 2, 0), Stamp::Pending, "seq {s}");
        }
    }

    #[test]
    fn flag_runs_are_found_word_by_word() {
        runs_are_found(true);
    }

    #[test]
    fn stamp_runs_are_found_across_laps() {
        runs_are_found(false);
    }

    fn runs_are_found(packed: bool) {
        for capacity in [1u64, 2, 4, 8, 16, 64] {
            let f = Flagged::with(capacity, packed);
            let c = capacity as i64;
            let mut next = 0i64;
            // Batches of every length up to a ring's worth, across laps.
            for round in 0..(3 * c + 5) {
                let n = 1 + round % c;
                let (hi, gone) = f.slots.resolved_run(next, next + c - 1);
                assert_eq!((hi, gone), (next - 1, None), "capacity {c} before {next}");
                f.publish(next, next + n - 1).unwrap();
                // Abandon the sequence after the batch when there is room.
                let abandoned = (n < c).then_some(next + n);
                if let Some(a) = abandoned {
                    f.claim.fetch_max(a, Ordering::SeqCst);
                    f.slots.resolve(a, false, &f.claim).unwrap();
                }
                let end = abandoned.unwrap_or(next + n - 1);
                for s in next..=end {
                    let want = if Some(s) == abandoned {
                        Stamp::Abandoned
                    } else {
                        Stamp::Published
                    };
                    assert_eq!(f.slots.state(s), want, "capacity {c}, seq {s}");
                }
                assert_eq!(
                    f.slots.resolved_run(next, next + c - 1),
                    (end, abandoned),
                    "capacity {c}, from {next}"
                );
                // A limit inside the run ends it there.
                assert_eq!(f.slots.resolved_run(next, next).0, next);
                next = end + 1;
            }
        }
    }

    #[test]
    fn neighbouring_claims_keep_each_others_flags() {
        let f = Flagged::new(16);
        f.publish(3, 5).unwrap();
        f.publish(0, 2).unwrap();
        f.publish(9, 9).unwrap();
        f.publish(6, 8).unwrap();
        assert_eq!(f.slots.resolved_run(0, 15), (9, None));
        // Another lap over the same words.
        f.publish(16, 20).unwrap();
        assert_eq!(f.slots.state(21), Stamp::Pending);
        assert_eq!(f.slots.state(10), Stamp::Pending);
        assert_eq!(f.slots.resolved_run(10, 25), (9, None));
        assert_eq!(f.slots.resolved_run(16, 31), (20, None));
        assert_eq!(f.slots.state(4), Stamp::Lapped);
        assert_eq!(f.slots.state(5), Stamp::Published);
    }

    #[test]
    fn a_lapped_claim_is_left_alone_however_far_behind() {
        // No consumer gates: other producers go 1, 64, 128 and 300 laps
        // past a stalled claim of sequence 1; its publish and an
        // abandonment both find it lapped and write nothing.
        for laps in [1i64, 64, 128, 300] {
            let f = Flagged::new(4);
            f.publish(0, 0).unwrap();
            f.claim.fetch_max(1, Ordering::SeqCst);
            // Later laps of slot 1 included (5, 9, ...).
            for s in 2..=1 + laps * 4 {
                f.publish(s, s).unwrap();
            }
            let before = f.slots.raw_stamp(1);
            assert_eq!(f.slots.resolve(1, true, &f.claim), Err(Stamp::Lapped));
            assert_eq!(f.slots.resolve(1, false, &f.claim), Err(Stamp::Lapped));
            assert_eq!(f.slots.raw_stamp(1), before, "{laps} laps");
        }
    }

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
