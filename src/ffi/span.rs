//! `dmp_span`: the slots of a whole range of sequences in one call, for a
//! producer's claim or a consumer's available batch.

use super::boundary::{boundary_on, required, write_versioned};
use super::consumer::dmp_consumer;
use super::handle::live_mut;
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

fn span_of(parts: [(*mut u8, usize); 2], stride: usize) -> dmp_span {
    let [(a, a_len), (b, b_len)] = parts;
    dmp_span {
        struct_size: 0,
        reserved: 0,
        first: a as *mut c_void,
        first_count: (a_len / stride) as u64,
        second: if b_len == 0 {
            std::ptr::null_mut()
        } else {
            b as *mut c_void
        },
        second_count: (b_len / stride) as u64,
        stride: stride as u64,
    }
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
    boundary_on(consumer, || {
        let c = live_mut(consumer)?;
        required(out, "out")?;
        let stride = c.stride();
        let span = span_of(c.raw_span(lo, hi)?, stride);
        write_versioned(out, span, "dmp_span")
    })
}
