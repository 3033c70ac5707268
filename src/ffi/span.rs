//! `dmp_span`: the slots of a whole range of sequences in one call, for a
//! producer's claim or a consumer's available batch.

use super::boundary::{boundary_on, guarded, required, write_versioned};
use super::consumer::dmp_consumer;
use super::handle::{fast_mut, live_mut};
use super::producer::dmp_producer;
use super::status::DMP_STATUS_OK;
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
    span_of_counts(
        [(a, slots_in(a_len, stride)), (b, slots_in(b_len, stride))],
        stride,
    )
}

/// The span of two parts given as (first payload, count of sequences),
/// with this version's `struct_size`. No panicking operation.
#[inline(always)]
fn span_of_counts(parts: [(*mut u8, u64); 2], stride: usize) -> dmp_span {
    let [(a, a_count), (b, b_count)] = parts;
    dmp_span {
        struct_size: SPAN_SIZE,
        reserved: 0,
        first: a as *mut c_void,
        first_count: a_count,
        second: if b_count == 0 {
            std::ptr::null_mut()
        } else {
            b as *mut c_void
        },
        second_count: b_count,
        stride: stride as u64,
    }
}

/// The call-free fast path of the span calls: for a live handle and an
/// `out` of this version's size, the parts and stride `parts` finds (no
/// call, no panicking operation), written as a whole struct. `false`:
/// nothing written; the full call answers.
#[inline(always)]
fn span_now<H: super::handle::Handle>(
    h: *mut H,
    out: *mut dmp_span,
    parts: impl FnOnce(&mut H::Inner) -> Option<([(*mut u8, u64); 2], usize)>,
) -> bool
where
    H::Inner: super::handle::OnRing,
{
    // SAFETY: non-null; every version of the struct starts with its u32
    // size, which the caller sets.
    if out.is_null() || unsafe { out.cast::<u32>().read_unaligned() } != SPAN_SIZE {
        return false;
    }
    let Some((parts, stride)) = fast_mut(h).and_then(parts) else {
        return false;
    };
    // SAFETY: non-null, and the caller's struct is `struct_size ==
    // sizeof(dmp_span)` bytes, writable.
    unsafe { out.write_unaligned(span_of_counts(parts, stride)) };
    true
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
        let value = span(inner)?;
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
    // Fast path: a range of the unpublished claim (what
    // `Producer::raw_span` checks), with no call.
    if span_now(producer, out, |p| {
        Some((p.claimed_span(lo, hi)?, p.stride()))
    }) {
        return DMP_STATUS_OK;
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
    // Fast path: a range the last wait made readable with no stamp to
    // look at (what `Consumer::raw_span` checks first), with no call.
    if span_now(consumer, out, |c| Some((c.known_span(lo, hi)?, c.stride()))) {
        return DMP_STATUS_OK;
    }
    consumer_span_full(consumer, lo, hi, out)
}

/// `dmp_consumer_span` past its fast path: `Consumer::raw_span` inside
/// `guarded`'s catch_unwind, or the checks of bad arguments.
#[inline(never)]
extern "C" fn consumer_span_full(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::{
        dmp_claim, dmp_commit, dmp_consumer_close, dmp_consumer_open, dmp_consumer_slot,
        dmp_producer_close, dmp_producer_open, dmp_producer_slot, dmp_publish, dmp_ring_close,
        dmp_ring_create, dmp_ring_options, dmp_ring_options_init, dmp_ring_unlink, dmp_wait_for,
        DMP_LAYOUT_PACKED, DMP_PRODUCER_MULTI, DMP_STATUS_SEQUENCE_OUT_OF_RANGE,
    };
    use std::ffi::CString;
    use std::ptr::null_mut;

    fn ok(st: i32) {
        assert_eq!(st, DMP_STATUS_OK, "status {st}");
    }

    fn span_in(c: *mut dmp_consumer, lo: i64, hi: i64, size: u32) -> (i32, dmp_span) {
        // SAFETY: all-zero is a valid dmp_span (null pointers, zero counts).
        let mut s: dmp_span = unsafe { std::mem::zeroed() };
        s.struct_size = size;
        s.first_count = 99;
        (dmp_consumer_span(c, lo, hi, &mut s), s)
    }

    /// The checks of `span_in` on the claim [6, 10] of a ring of 8 slots,
    /// from the producer's side.
    fn producer_spans_name_the_claimed_slots(p: *mut dmp_producer) {
        for lo in 6..=10 {
            for hi in lo..=10 {
                // SAFETY: all-zero is a valid dmp_span.
                let mut s: dmp_span = unsafe { std::mem::zeroed() };
                s.struct_size = SPAN_SIZE;
                ok(dmp_producer_span(p, lo, hi, &mut s));
                let before_wrap = (8 - lo % 8).min(hi - lo + 1);
                assert_eq!(s.first, dmp_producer_slot(p, lo), "[{lo}, {hi}]");
                assert_eq!(s.first_count, before_wrap as u64, "[{lo}, {hi}]");
                assert_eq!(s.second_count, (hi - lo + 1 - before_wrap) as u64);
                if s.second_count != 0 {
                    assert_eq!(s.second, dmp_producer_slot(p, 8));
                }
            }
        }
        for (lo, hi) in [(6, 11), (5, 7), (8, 7)] {
            // SAFETY: as above.
            let mut s: dmp_span = unsafe { std::mem::zeroed() };
            s.struct_size = SPAN_SIZE;
            let st = dmp_producer_span(p, lo, hi, &mut s);
            assert_eq!(st, DMP_STATUS_SEQUENCE_OUT_OF_RANGE, "[{lo}, {hi}]");
        }
    }

    /// A ring of 8 slots whose batch [6, 10] wraps: the span of every
    /// sub-range, on the fast path (single producer) and through the full
    /// call (multi-producer), names the slots `dmp_consumer_slot` names.
    #[test]
    fn spans_of_a_wrapped_batch_name_the_slots_on_both_paths() {
        for multi in [false, true] {
            let name =
                CString::new(format!("dmp-span-test-{}-{multi}", std::process::id())).unwrap();
            let mut o = std::mem::MaybeUninit::<dmp_ring_options>::uninit();
            dmp_ring_options_init(o.as_mut_ptr());
            // SAFETY: dmp_ring_options_init initialises every field.
            let mut o = unsafe { o.assume_init() };
            o.capacity = 8;
            o.slot_size = 8;
            o.layout = DMP_LAYOUT_PACKED;
            if multi {
                o.producer_mode = DMP_PRODUCER_MULTI;
            }
            let mut ring = null_mut();
            ok(dmp_ring_create(name.as_ptr(), &o, &mut ring));
            let cname = CString::new("c").unwrap();
            let mut c = null_mut();
            ok(dmp_consumer_open(
                ring,
                cname.as_ptr(),
                std::ptr::null(),
                &mut c,
            ));
            let mut p = null_mut();
            ok(dmp_producer_open(ring, std::ptr::null(), &mut p));
            let (mut first, mut avail) = (0i64, 0i64);
            for (n, lo) in [(6u64, 0i64), (5, 6)] {
                ok(dmp_claim(p, n, 0, &mut first));
                assert_eq!(first, lo);
                if lo == 6 {
                    producer_spans_name_the_claimed_slots(p);
                }
                ok(dmp_publish(p, lo, lo + n as i64 - 1));
                ok(dmp_wait_for(c, lo, 0, &mut avail));
                assert_eq!(avail, lo + n as i64 - 1);
                if lo == 0 {
                    ok(dmp_commit(c, 5));
                }
            }
            for lo in 6..=10 {
                for hi in lo..=10 {
                    let (st, s) = span_in(c, lo, hi, SPAN_SIZE);
                    ok(st);
                    let before_wrap = (8 - lo % 8).min(hi - lo + 1);
                    assert_eq!(s.struct_size, SPAN_SIZE);
                    assert_eq!(s.stride, 8);
                    assert_eq!(s.first, dmp_consumer_slot(c, lo) as *mut c_void);
                    assert_eq!(s.first_count, before_wrap as u64, "[{lo}, {hi}]");
                    assert_eq!(s.second_count, (hi - lo + 1 - before_wrap) as u64);
                    if s.second_count == 0 {
                        assert!(s.second.is_null());
                    } else {
                        assert_eq!(s.second, dmp_consumer_slot(c, 8) as *mut c_void);
                    }
                }
            }
            // Past what the wait returned, or before the commit: refused
            // by the full call, which names the bounds.
            for (lo, hi) in [(6, 11), (5, 7), (8, 7)] {
                let (st, s) = span_in(c, lo, hi, SPAN_SIZE);
                assert_eq!(st, DMP_STATUS_SEQUENCE_OUT_OF_RANGE, "[{lo}, {hi}]");
                assert_eq!(s.first_count, 99, "nothing written");
            }
            // An older, shorter struct: the full call writes its prefix.
            let (st, s) = span_in(c, 6, 10, 24);
            ok(st);
            assert_eq!((s.struct_size, s.first_count, s.second_count), (24, 2, 0));
            ok(dmp_producer_close(p));
            ok(dmp_consumer_close(c));
            ok(dmp_ring_close(ring));
            ok(dmp_ring_unlink(name.as_ptr(), 0));
        }
    }
}
