//! Copying one event between a caller's buffer and a slot, for the
//! one-event calls: events of 8 to 64 bytes move with two overlapping
//! fixed-size loads and stores, as a C compiler inlines a small `memcpy`,
//! instead of a call of `memcpy` with a length known only at run time.

use std::ptr::{copy_nonoverlapping, read_unaligned, write_unaligned};

/// Copies `len` bytes from `src` to `dst`.
///
/// # Safety
///
/// `src` is readable and `dst` writable for `len` bytes (any alignment),
/// and the two ranges do not overlap.
#[inline(always)]
pub(super) unsafe fn copy_event(dst: *mut u8, src: *const u8, len: usize) {
    /// Two `N`-byte copies, of the first and the last `N` bytes, which
    /// overlap when `len < 2 * N`: the whole of `N <= len <= 2 * N`.
    ///
    /// # Safety
    ///
    /// As for `copy_event`, with `N <= len`.
    #[inline(always)]
    unsafe fn two<const N: usize>(dst: *mut u8, src: *const u8, len: usize) {
        let tail = len - N;
        // Both `N`-byte runs, at 0 and at `len - N`, lie in the `len`
        // bytes the caller passes (`N <= len`); both are read before
        // either is written.
        // SAFETY: as above.
        let from = unsafe { src.add(tail) };
        // SAFETY: as above.
        let a = unsafe { read_unaligned(src.cast::<[u8; N]>()) };
        // SAFETY: as above.
        let b = unsafe { read_unaligned(from.cast::<[u8; N]>()) };
        // SAFETY: as above.
        let to = unsafe { dst.add(tail) };
        // SAFETY: as above.
        unsafe { write_unaligned(dst.cast::<[u8; N]>(), a) };
        // SAFETY: as above.
        unsafe { write_unaligned(to.cast::<[u8; N]>(), b) };
    }
    match len {
        // SAFETY: the caller's contract, and `8 <= len <= 16`.
        8..=16 => unsafe { two::<8>(dst, src, len) },
        // SAFETY: the caller's contract, and `16 <= len <= 32`.
        17..=32 => unsafe { two::<16>(dst, src, len) },
        // SAFETY: the caller's contract, and `32 <= len <= 64`.
        33..=64 => unsafe { two::<32>(dst, src, len) },
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
