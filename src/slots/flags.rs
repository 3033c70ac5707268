//! Availability flags of packed multi-producer rings: one byte per slot,
//! read and written as aligned 64-bit words of eight flags.

use super::{Slots, Stamp};
use crate::sync::{AtomicI64, AtomicU64};
use std::sync::atomic::Ordering;

/// The one-byte availability flags of packed multi-producer rings.
///
/// The flag of sequence `s` (lap `L = s / capacity`) is
/// `round << 1 | abandoned`, with `round = (L + 1) mod 128`: published
/// `s` reads `round(s) << 1`, abandoned `s` reads `round(s) << 1 | 1`. A
/// slot never written holds 0, round 0, the round of lap -1, so every
/// sequence of lap 0 starts pending. A reader of `s` takes the round
/// distance `d = (flag >> 1) - round(s) mod 128`: 0 is `s` itself
/// (published or abandoned by the low bit), 1..=63 a later lap (lapped),
/// 64..=127 an earlier lap (pending). Every byte value means something, so
/// garbage written by a hostile peer is never undefined behaviour: at
/// worst a wrong answer about that one sequence, as with 8-byte stamps.
///
/// **Why seven bits are enough.** The distance is exact as long as the
/// flag a reader sees was written for a lap within 64 before or 63 after
/// its own:
///
/// - *Earlier laps.* A flag lags only by laps whose sequence of that slot
///   is claimed and not yet resolved (every publish or abandonment writes
///   the flag, unless the slot already holds a later lap). A producer holds
///   at most one claim, so at most `max_producers <= 64` claims are
///   unresolved at any time, and a flag lags its slot's newest claim by at
///   most 64 laps. Reading a lag of 64 or more as pending needs only that;
///   mistaking a stale flag for published or abandoned `s` needs a lag of
///   128 laps, which cannot happen.
/// - *Later laps, consumers.* A gating consumer reading `s` has resolved
///   `s - capacity` (so the flag is at most one lap behind) and holds the
///   producers back before `s + capacity` (so it is never ahead): it only
///   ever sees `d` in {-1, 0}. (An optional consumer that was evicted may
///   see later laps; its commit reports the eviction, as with stamps.)
/// - *Later laps, producers and abandoners* ([`Slots::resolve`]): without a
///   gating consumer, producers may lap a stalled claim any number of
///   times. `resolve` reads the flag, then the claim counter: a counter
///   below `s + capacity` means no later lap had been claimed when the flag
///   was read, so the flag is of `s`'s lap or an earlier one; otherwise the
///   sequence is lapped and left alone. Its compare-and-swap then succeeds
///   only on the exact word it read. The one case 64-bit stamps decide and
///   this does not: a resolver descheduled between reading the counter and
///   its compare-and-swap (two instructions) while a ring that no consumer
///   gates goes a multiple of 128 laps further, back to the very flag byte
///   it read. Its compare-and-swap then succeeds on a later lap's flag,
///   and a consumer that joined meanwhile could take the slot's next lap
///   for published. With a gating consumer this cannot happen (nobody
///   claims `s + capacity` before `s` is resolved); docs/ARCHITECTURE.md
///   lists it among the limits.
pub mod flag {
    /// `(lap + 1) mod 128` of `seq` in a ring of `2^shift` slots.
    #[inline]
    pub fn round(seq: i64, shift: u32) -> u8 {
        (((seq as u64) >> shift).wrapping_add(1) & 0x7f) as u8
    }

    /// The flag of published `seq`.
    #[inline]
    pub fn published(seq: i64, shift: u32) -> u8 {
        round(seq, shift) << 1
    }

    /// The flag of abandoned `seq`.
    #[inline]
    pub fn abandoned(seq: i64, shift: u32) -> u8 {
        round(seq, shift) << 1 | 1
    }

    /// What flag `f` says about `seq`.
    #[inline]
    pub fn classify(seq: i64, shift: u32, f: u8) -> super::Stamp {
        use super::Stamp;
        match (f >> 1).wrapping_sub(round(seq, shift)) & 0x7f {
            0 if f & 1 == 0 => Stamp::Published,
            0 => Stamp::Abandoned,
            1..=63 => Stamp::Lapped,
            _ => Stamp::Pending,
        }
    }
}

/// `0x01` in every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;

/// The low `n` bytes (`n <= 8`) of a word.
#[inline]
fn low_bytes(n: u64) -> u64 {
    if n >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    }
}

impl Slots {
    /// The word of eight flags holding slot `index`'s (flagged rings only),
    /// as an atomic; its value is in memory order, so `u64::from_le` puts
    /// the flag of slot `8w + j` in bits `8j..8j + 8` on any machine.
    #[inline]
    pub(super) fn flag_word(&self, index: u64) -> &AtomicU64 {
        debug_assert!(self.flagged() && index <= self.mask);
        // SAFETY: the availability array holds round_up(capacity, 8)
        // bytes, bounds-checked in `new`, and index < capacity, so the
        // word at index & !7 lies inside it.
        let word = unsafe { self.flags.add((index & !7) as usize) };
        // SAFETY: its base is line-aligned and the offset a multiple of 8;
        // the array is only ever accessed as atomic 64-bit words.
        unsafe { crate::sync::atomic_at(word) }
    }

    /// The flag byte of `seq` (flagged rings only).
    #[inline]
    pub(super) fn flag(&self, seq: i64) -> u8 {
        let index = seq as u64 & self.mask;
        let word = u64::from_le(self.flag_word(index).load(Ordering::Acquire));
        (word >> (8 * (index & 7))) as u8
    }

    /// Sets the flags of `[lo, hi]`, which lie in one lap (contiguous
    /// indices), to `f`: one release store per word wholly inside the
    /// range, a compare-and-swap for a word shared with other sequences
    /// (their flags belong to other claims and are left as they are).
    #[inline]
    fn set_flags(&self, lo: i64, hi: i64, f: u8) {
        let first = lo as u64 & self.mask;
        let last = first + (hi - lo) as u64;
        let all = ONES * u64::from(f);
        let mut index = first;
        while index <= last {
            if index & 7 == 0 {
                // Whole words: one release store per eight flags.
                while index + 7 <= last {
                    self.flag_word(index).store(all.to_le(), Ordering::Release);
                    index += 8;
                }
                if index > last {
                    break;
                }
            }
            let start = index & !7;
            let from = index - start;
            let to = last.min(start + 7) - start;
            let word = self.flag_word(index);
            if from == 0 && to == 7 {
                word.store(all.to_le(), Ordering::Release);
            } else {
                let mine = low_bytes(to + 1) & !low_bytes(from);
                let mut current = word.load(Ordering::Relaxed);
                loop {
                    let new = (u64::from_le(current) & !mine) | (all & mine);
                    match word.compare_exchange_weak(
                        current,
                        new.to_le(),
                        Ordering::Release,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => break,
                        Err(seen) => current = seen,
                    }
                }
            }
            index = start + 8;
        }
    }

    /// Flags `[lo, hi]` published (flagged rings).
    #[inline]
    pub(super) fn mark_flags(&self, lo: i64, hi: i64) {
        // At most a ring's worth: split where the ring wraps (the next
        // lap has the next round).
        let mut lo = lo;
        while lo <= hi {
            let lap_end = lo | self.mask as i64;
            let end = hi.min(lap_end);
            self.set_flags(lo, end, flag::published(lo, self.shift));
            lo = end + 1;
        }
    }

    /// [`Slots::resolved_run`] with availability flags.
    #[inline(always)]
    pub(super) fn flag_run(&self, seq: i64, limit: i64) -> (i64, Option<i64>) {
        let mut abandoned = None;
        let mut next = seq;
        let capacity = self.mask + 1;
        while next <= limit {
            let index = next as u64 & self.mask;
            let own = ONES * u64::from(flag::published(next, self.shift));
            let raw = u64::from_le(self.flag_word(index).load(Ordering::Acquire));
            let at = index & 7;
            if at == 0 && raw == own && capacity >= 8 && limit - next >= 7 {
                // The common case: whole words of eight published sequences
                // of this lap, one load and one comparison each (the words
                // lie in this lap: capacity is a multiple of 8).
                let stop = limit.min(next | self.mask as i64);
                let mut word = index;
                loop {
                    next += 8;
                    word += 8;
                    if next + 7 > stop
                        || u64::from_le(self.flag_word(word).load(Ordering::Acquire)) != own
                    {
                        break;
                    }
                }
                continue;
            }
            // Flags of this word from `next` on, in this lap and in range.
            let n = (8 - at)
                .min(capacity - index)
                .min((limit - next) as u64 + 1);
            // Zero bytes: `next + j`'s own round (published or abandoned).
            let x = (raw ^ own) >> (8 * at);
            let unresolved = x & !ONES;
            let run = (u64::from(unresolved.trailing_zeros()) / 8).min(n);
            // Low bits set: abandoned flags (or, past the run, flags of
            // other rounds); rare, so looked at only then.
            let odd = x & ONES;
            if odd != 0 && abandoned.is_none() {
                let gone = odd & low_bytes(run);
                if gone != 0 {
                    abandoned = Some(next + i64::from(gone.trailing_zeros() / 8));
                }
            }
            next += run as i64;
            if run < n {
                break;
            }
        }
        (next - 1, abandoned)
    }

    /// [`Slots::resolve`] in a flagged ring: a compare-and-swap of the word
    /// holding `seq`'s flag that changes that flag only.
    #[inline]
    pub(super) fn resolve_flag(
        &self,
        seq: i64,
        published: bool,
        claimed: &AtomicI64,
    ) -> Result<(), Stamp> {
        let index = seq as u64 & self.mask;
        let word = self.flag_word(index);
        let shift = 8 * (index & 7);
        let new = if published {
            flag::published(seq, self.shift)
        } else {
            flag::abandoned(seq, self.shift)
        };
        let mut current = word.load(Ordering::Acquire);
        loop {
            let value = u64::from_le(current);
            // Read after the flag (acquire): if the flag had been written
            // for a later lap, that lap's claim came before it, and the
            // counter shows it. Below `seq + capacity`, the flag is of this
            // lap or an earlier one (within 64, see [`flag`]), so what it
            // says is exact; at or above, a later lap may own the slot.
            if claimed.load(Ordering::Acquire) >= seq.saturating_add(self.capacity() as i64) {
                return Err(Stamp::Lapped);
            }
            match flag::classify(seq, self.shift, (value >> shift) as u8) {
                Stamp::Pending => {}
                other => return Err(other),
            }
            let next = (value & !(0xff << shift)) | (u64::from(new) << shift);
            match word.compare_exchange_weak(
                current,
                next.to_le(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(seen) => current = seen,
            }
        }
    }
}
