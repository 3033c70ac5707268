//! Copying one event between a caller's buffer and a slot, for the
//! one-event calls: events of 8 to 64 bytes move as 8-byte words (the
//! first and the last `N` bytes, overlapping when the length is not a
//! multiple of 8), as a C compiler inlines a small `memcpy`, instead of a
//! call of `memcpy` with a length known only at run time. Words, not wider
//! vector loads: a caller that has just written its event with 8-byte
//! stores has them forwarded to these loads, where a 16-byte load spanning
//! an 8-byte store waits for the store to complete (seen in `dmp bench`:
//! 64-byte `dmp_publish_one` stalled on its first load).

use std::ptr::{copy_nonoverlapping, read_unaligned, write_unaligned};

/// Copies `len` bytes from `src` to `dst`.
///
/// # Safety
///
/// `src` is readable and `dst` writable for `len` bytes (any alignment),
/// and the two ranges do not overlap.
#[inline(always)]
pub(super) unsafe fn copy_event(dst: *mut u8, src: *const u8, len: usize) {
    /// The first and the last `W` words (`8 * W` bytes each), which
    /// overlap when `len < 16 * W`: the whole of `8 * W <= len <= 16 * W`.
    ///
    /// # Safety
    ///
    /// As for `copy_event`, with `8 * W <= len`.
    #[inline(always)]
    unsafe fn words<const W: usize>(dst: *mut u8, src: *const u8, len: usize) {
        /// Copies the word at `at`.
        ///
        /// # Safety
        ///
        /// As for `copy_event`, with `at + 8 <= len`.
        #[inline(always)]
        unsafe fn word(dst: *mut u8, src: *const u8, at: usize) {
            // The word lies in the `len` bytes the caller passes, and the
            // ranges do not overlap.
            // SAFETY: as above.
            let from = unsafe { src.add(at) };
            // SAFETY: as above.
            let w = unsafe { read_unaligned(from.cast::<u64>()) };
            // SAFETY: as above.
            let to = unsafe { dst.add(at) };
            // SAFETY: as above.
            unsafe { write_unaligned(to.cast::<u64>(), w) };
        }
        let tail = len - 8 * W;
        let mut k = 0;
        while k < W {
            // SAFETY: `8 * k + 8 <= 8 * W <= len`.
            unsafe { word(dst, src, 8 * k) };
            // SAFETY: `tail + 8 * k + 8 <= tail + 8 * W == len`.
            unsafe { word(dst, src, tail + 8 * k) };
            k += 1;
        }
    }
    match len {
        // SAFETY: the caller's contract, and `8 <= len <= 16`.
        8..=16 => unsafe { words::<1>(dst, src, len) },
        // SAFETY: the caller's contract, and `16 <= len <= 32`.
        17..=32 => unsafe { words::<2>(dst, src, len) },
        // SAFETY: the caller's contract, and `32 <= len <= 64`.
        33..=64 => unsafe { words::<4>(dst, src, len) },
        // SAFETY: the caller's contract.
        _ => unsafe { copy_nonoverlapping(src, dst, len) },
    }
}

#[cfg(test)]
mod tests {
    use super::copy_event;

    #[test]
    fn every_length_up_to_two_slots_is_copied_exactly() {
        let src: Vec<u8> = (0..130u8).collect();
        for len in 0..=130 {
            let mut dst = vec![0xffu8; 132];
            // SAFETY: both buffers hold at least `len` bytes; distinct.
            unsafe { copy_event(dst.as_mut_ptr(), src.as_ptr(), len) };
            assert_eq!(&dst[..len], &src[..len], "len {len}");
            assert!(dst[len..].iter().all(|&b| b == 0xff), "len {len}");
        }
    }
}
