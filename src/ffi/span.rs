//! `dmp_span`: the slots of a whole range of sequences in one call, for a
//! producer's claim or a consumer's available batch.

use super::boundary::{boundary_on, guarded, required, write_versioned};
use super::consumer::dmp_consumer;
use super::handle::{fast_mut, live_mut};
use super::producer::dmp_producer;
use std::ffi::c_void;

/// The slots of a range of sequences, for writing or reading a whole batch
/// with one call: the payload of sequence `lo + k` is at
/// `first + k * stride` for `k < first_count`, then at
/// `second + (k - first_count) * stride` (the range wrapped around the end
/// of the ring; `second_count` is 0 otherwise). Set `struct_size` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmp_span {
    /// Set by the caller to `sizeof(dmp_span)`.
    pub struct_size: u32,
    /// Reserved (0).
    pub reserved: u32,
    /// Payload of the first sequence.
    pub first: *mut c_void,
    /// Sequences from `first` on, before the wrap.
    pub first_count: u64,
    /// Payload of the first sequence after the wrap (NULL if none).
    pub second: *mut c_void,
    /// Sequences from `second` on.
    pub second_count: u64,
    /// Bytes from one payload to the next.
    pub stride: u64,
}

/// `sizeof(dmp_span)` in this version of the library.
const SPAN_SIZE: u32 = std::mem::size_of::<dmp_span>() as u32;

/// How many `stride`-byte slots `len` bytes hold: a shift for the usual
/// power-of-two strides rather than a division.
#[inline]
fn slots_in(len: usize, stride: usize) -> u64 {
    if stride.is_power_of_two() {
        (len >> stride.trailing_zeros()) as u64
    } else {
        (len / stride) as u64
    }
}

#[inline]
fn span_of(parts: [(*mut u8, usize); 2], stride: usize) -> dmp_span {
    let [(a, a_len), (b, b_len)] = parts;
    dmp_span {
        struct_size: 0,
        reserved: 0,
        first: a as *mut c_void,
        first_count: slots_in(a_len, stride),
        second: if b_len == 0 {
            std::ptr::null_mut()
        } else {
            b as *mut c_void
        },
        second_count: slots_in(b_len, stride),
        stride: stride as u64,
    }
}

/// The fast path of the span calls, for a live handle's `span` (which
/// calls the Rust API) into a non-null `out` of this version's size: the
/// whole struct written at once, which is what `write_versioned` writes
/// when `struct_size == sizeof(dmp_span)`. `span` runs inside `guarded`'s
/// catch_unwind; nothing outside it can panic. `None`: take the slow path.
#[inline(always)]
fn fast_span<H: super::handle::Handle>(
    h: *mut H,
    out: *mut dmp_span,
    span: impl FnOnce(&mut H::Inner) -> crate::error::Result<dmp_span>,
) -> Option<i32>
where
    H::Inner: super::handle::OnRing,
{
    if out.is_null() {
        return None;
    }
    // SAFETY: non-null; every version of the struct starts with its u32
    // size, which the caller sets (as `write_versioned` reads it).
    if unsafe { out.cast::<u32>().read_unaligned() } != SPAN_SIZE {
        return None;
    }
    let inner = fast_mut(h)?;
    Some(guarded(h, || {
        let value = dmp_span {
            struct_size: SPAN_SIZE,
            ..span(inner)?
        };
        // SAFETY: non-null, and the caller's struct is
        // `struct_size == sizeof(dmp_span)` bytes, writable.
        unsafe { out.write_unaligned(value) };
        Ok(())
    }))
}

/// The payloads of claimed, unpublished sequences `[lo, hi]` in one call
/// (see `dmp_span`): write them, then publish. Checked once for the whole
/// range; works for every layout.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_producer_span(
    producer: *mut dmp_producer,
    lo: i64,
    hi: i64,
    out: *mut dmp_span,
) -> i32 {
    let span = |p: &mut crate::ring::Producer| Ok(span_of(p.raw_span(lo, hi)?, p.stride()));
    if let Some(status) = fast_span(producer, out, span) {
        return status;
    }
    producer_span_slow(producer, lo, hi, out)
}

/// `dmp_producer_span` when its fast path does not apply: the whole call,
/// whose errors name the bad argument. The slow paths are `extern "C"`
/// (they never unwind: their boundary catches every panic), so that the
/// exports reach them with a tail call rather than through an abort guard.
#[cold]
#[inline(never)]
extern "C" fn producer_span_slow(
    producer: *mut dmp_producer,
    lo: i64,
    hi: i64,
    out: *mut dmp_span,
) -> i32 {
    boundary_on(producer, || {
        let p = live_mut(producer)?;
        required(out, "out")?;
        let stride = p.stride();
        let span = span_of(p.raw_span(lo, hi)?, stride);
        write_versioned(out, span, "dmp_span")
    })
}

/// The payloads of available, uncommitted sequences `[lo, hi]` in one call
/// (see `dmp_span`). In a multi-producer ring a range holding an abandoned
/// sequence answers `DMP_STATUS_ABANDONED` (read it with
/// `dmp_consumer_event` one by one).
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_consumer_span(
    consumer: *mut dmp_consumer,
    lo: i64,
    hi: i64,
    out: *mut dmp_span,
) -> i32 {
    let span = |c: &mut crate::ring::Consumer| Ok(span_of(c.raw_span(lo, hi)?, c.stride()));
    if let Some(status) = fast_span(consumer, out, span) {
        return status;
    }
    consumer_span_slow(consumer, lo, hi, out)
}

/// `dmp_consumer_span` when its fast path does not apply.
#[cold]
#[inline(never)]
extern "C" fn consumer_span_slow(
    consumer: *mut dmp_consumer,
    lo: i64,
    hi: i64,
    out: *mut dmp_span,
) -> i32 {
    boundary_on(consumer, || {
        let c = live_mut(consumer)?;
        required(out, "out")?;
        let stride = c.stride();
        let span = span_of(c.raw_span(lo, hi)?, stride);
        write_versioned(out, span, "dmp_span")
    })
}
