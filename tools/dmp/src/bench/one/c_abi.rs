//! The one-event loops through the exported C ABI (`dmp_claim`,
//! `dmp_publish`, `dmp_wait_for`, `dmp_consumer_span`, `dmp_commit`,
//! `dmp_publish_one`, `dmp_consume_one`), called from the Rust worker, and
//! the handles they open.

use super::produce;
use crate::bench::args::WorkerArgs;
use crate::bench::payload::{check, write_event, Size};
use crate::bench::worker::{nanos, ready, report, Receipt};
use crate::bench::{BoxResult, CONSUMER_NAME, STALL};
use disruptor_mp::ffi::{
    self, dmp_consumer, dmp_consumer_options, dmp_producer, dmp_producer_options, dmp_ring,
    dmp_ring_options, dmp_span, DMP_LAYOUT_PACKED, DMP_PRODUCER_SINGLE, DMP_STATUS_OK,
    DMP_WAIT_BUSY_SPIN,
};
use std::error::Error;
use std::ffi::{CStr, CString};
use std::mem::MaybeUninit;
use std::time::Instant;

/// The C ABI loops call the exported `dmp_*` functions from this (Rust)
/// worker: what they measure is those functions' own work (handle and null
/// checks, the panic boundary, the out-pointers) around the Rust API, in
/// process; no C compiler and no dynamic linking are involved (the release
/// profile has no LTO, so the calls are not inlined into the loop).
const STALL_NS: u64 = STALL.as_nanos() as u64;

/// Turns a C ABI status into an error carrying the library's message.
fn c_status(what: &str, status: i32) -> BoxResult<()> {
    if status == DMP_STATUS_OK {
        Ok(())
    } else {
        Err(c_error(what, status))
    }
}

#[cold]
fn c_error(what: &str, status: i32) -> Box<dyn Error> {
    // SAFETY: both return NUL-terminated strings that stay valid until the
    // next call of the same function on this thread.
    let (name, msg) = unsafe {
        (
            CStr::from_ptr(ffi::dmp_status_str(status)),
            CStr::from_ptr(ffi::dmp_last_error_message()),
        )
    };
    format!(
        "{what}: {} ({status}): {}",
        name.to_string_lossy(),
        msg.to_string_lossy()
    )
    .into()
}

/// A NULL from a C ABI accessor, with the library's message.
#[cold]
fn c_null(what: &str) -> Box<dyn Error> {
    // SAFETY: as in `c_error`.
    let msg = unsafe { CStr::from_ptr(ffi::dmp_last_error_message()) };
    format!("{what} returned NULL: {}", msg.to_string_lossy()).into()
}

/// A C ABI ring handle, closed on drop (after the producer or consumer
/// opened from it, which own their own references).
struct CRing(*mut dmp_ring);

impl CRing {
    /// Opens the worker's ring through `dmp_ring_open`, checking the
    /// layout the parent created.
    fn open(a: &WorkerArgs, size: usize) -> BoxResult<CRing> {
        let name = CString::new(a.name.as_str())?;
        let mut o = MaybeUninit::<dmp_ring_options>::uninit();
        ffi::dmp_ring_options_init(o.as_mut_ptr());
        // SAFETY: dmp_ring_options_init initialises every field.
        let mut o = unsafe { o.assume_init() };
        o.slot_size = u32::try_from(size)?;
        o.layout = DMP_LAYOUT_PACKED;
        o.producer_mode = DMP_PRODUCER_SINGLE;
        let mut ring: *mut dmp_ring = std::ptr::null_mut();
        c_status(
            "dmp_ring_open",
            ffi::dmp_ring_open(name.as_ptr(), &o, &mut ring),
        )?;
        Ok(CRing(ring))
    }
}

impl Drop for CRing {
    fn drop(&mut self) {
        let _ = ffi::dmp_ring_close(self.0);
    }
}

struct CProducer(*mut dmp_producer);

impl CProducer {
    /// A busy-spinning producer of `ring`, through `dmp_producer_open`.
    fn open(ring: &CRing) -> BoxResult<CProducer> {
        let mut o = MaybeUninit::<dmp_producer_options>::uninit();
        ffi::dmp_producer_options_init(o.as_mut_ptr());
        // SAFETY: dmp_producer_options_init initialises every field.
        let mut o = unsafe { o.assume_init() };
        o.wait_strategy = DMP_WAIT_BUSY_SPIN;
        let mut p: *mut dmp_producer = std::ptr::null_mut();
        c_status(
            "dmp_producer_open",
            ffi::dmp_producer_open(ring.0, &o, &mut p),
        )?;
        Ok(CProducer(p))
    }
}

impl Drop for CProducer {
    fn drop(&mut self) {
        let _ = ffi::dmp_producer_close(self.0);
    }
}

struct CConsumer(*mut dmp_consumer);

impl CConsumer {
    /// The bench's busy-spinning consumer of `ring`, through
    /// `dmp_consumer_open`.
    fn open(ring: &CRing) -> BoxResult<CConsumer> {
        let mut o = MaybeUninit::<dmp_consumer_options>::uninit();
        ffi::dmp_consumer_options_init(o.as_mut_ptr());
        // SAFETY: dmp_consumer_options_init initialises every field.
        let mut o = unsafe { o.assume_init() };
        o.wait_strategy = DMP_WAIT_BUSY_SPIN;
        let name = CString::new(CONSUMER_NAME)?;
        let mut c: *mut dmp_consumer = std::ptr::null_mut();
        c_status(
            "dmp_consumer_open",
            ffi::dmp_consumer_open(ring.0, name.as_ptr(), &o, &mut c),
        )?;
        Ok(CConsumer(c))
    }
}

impl Drop for CConsumer {
    fn drop(&mut self) {
        let _ = ffi::dmp_consumer_close(self.0);
    }
}

/// `dmp_claim(1)`, write `dmp_producer_slot`, `dmp_publish(seq, seq)`, per
/// event.
pub(super) fn c_abi_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let n = size.get();
    let ring = CRing::open(a, n)?;
    let p = CProducer::open(&ring)?;
    ready()?;
    let start = Instant::now();
    for i in 0..a.events {
        produce(i, a.work);
        let mut seq = 0i64;
        let st = ffi::dmp_claim(p.0, 1, STALL_NS, &mut seq);
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_claim (a free slot)", st));
        }
        let slot = ffi::dmp_producer_slot(p.0, seq).cast::<u8>();
        if slot.is_null() {
            return Err(c_null("dmp_producer_slot"));
        }
        // SAFETY: a non-null dmp_producer_slot is the claimed sequence's
        // payload of slot_size (= the event size, checked at open) bytes,
        // the producer's alone until it is published below.
        write_event(unsafe { std::slice::from_raw_parts_mut(slot, n) }, size, i)?;
        let st = ffi::dmp_publish(p.0, seq, seq);
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_publish", st));
        }
    }
    let span = start.elapsed();
    drop(p);
    drop(ring);
    report(&[("events", a.events as f64), ("span_ns", nanos(span))])
}

/// `dmp_publish_one` per event, from an event built in a local buffer.
pub(super) fn c_one_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let n = size.get();
    let ring = CRing::open(a, n)?;
    let p = CProducer::open(&ring)?;
    ready()?;
    let mut event = vec![0u8; n];
    let start = Instant::now();
    for i in 0..a.events {
        produce(i, a.work);
        write_event(&mut event[..n], size, i)?;
        let st = ffi::dmp_publish_one(
            p.0,
            event.as_ptr().cast(),
            n,
            STALL_NS,
            std::ptr::null_mut(),
        );
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_publish_one (a free slot)", st));
        }
    }
    let span = start.elapsed();
    drop(p);
    drop(ring);
    report(&[("events", a.events as f64), ("span_ns", nanos(span))])
}

/// `dmp_consume_one` per event into a local buffer, checking each.
pub(super) fn c_one_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let n = size.get();
    let ring = CRing::open(a, n)?;
    let c = CConsumer::open(&ring)?;
    ready()?;
    let mut base = 0i64;
    c_status("dmp_consumer_next", ffi::dmp_consumer_next(c.0, &mut base))?;
    let mut event = vec![0u8; n];
    let mut receipt = Receipt::new();
    for i in 0..a.events {
        let mut seq = 0i64;
        let st = ffi::dmp_consume_one(c.0, event.as_mut_ptr().cast(), n, STALL_NS, &mut seq);
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_consume_one (events)", st));
        }
        if seq - base != i as i64 {
            return Err(format!("event {i} arrived at sequence {seq}").into());
        }
        check(&event[..n], size, i)?;
        receipt.batch(1);
    }
    drop(c);
    drop(ring);
    receipt.report(a.events)
}

/// `dmp_wait_for`, `dmp_consumer_span` (the C counterpart of
/// `Consumer::slots`, as benches/ffi/bench_worker.c reads), check every
/// event, `dmp_commit(available)`.
pub(super) fn c_abi_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let n = size.get();
    let ring = CRing::open(a, n)?;
    let c = CConsumer::open(&ring)?;
    ready()?;
    let mut base = 0i64;
    c_status("dmp_consumer_next", ffi::dmp_consumer_next(c.0, &mut base))?;
    let last = base + a.events as i64 - 1;
    let mut next = base;
    let mut receipt = Receipt::new();
    while next <= last {
        let mut available = 0i64;
        let st = ffi::dmp_wait_for(c.0, next, STALL_NS, &mut available);
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_wait_for (events)", st));
        }
        if available > last {
            return Err(format!(
                "received more than the {} events published (sequence {available})",
                a.events
            )
            .into());
        }
        receipt.batch((available - next + 1) as u64);
        let mut span = dmp_span {
            struct_size: std::mem::size_of::<dmp_span>() as u32,
            reserved: 0,
            first: std::ptr::null_mut(),
            first_count: 0,
            second: std::ptr::null_mut(),
            second_count: 0,
            stride: 0,
        };
        let st = ffi::dmp_consumer_span(c.0, next, available, &mut span);
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_consumer_span", st));
        }
        let stride = span.stride as usize;
        if stride < n || span.first_count + span.second_count != (available - next + 1) as u64 {
            return Err("dmp_consumer_span: span does not match the range".into());
        }
        let mut number = (next - base) as u64;
        for (ptr, count) in [
            (span.first, span.first_count),
            (span.second, span.second_count),
        ] {
            if count == 0 {
                continue;
            }
            // SAFETY: dmp_consumer_span describes `count` available,
            // uncommitted payloads `stride` bytes apart from `ptr`, which the
            // producer does not overwrite before the commit below.
            let bytes =
                unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), count as usize * stride) };
            for slot in bytes.chunks_exact(stride) {
                check(&slot[..n], size, number)?;
                number += 1;
            }
        }
        let st = ffi::dmp_commit(c.0, available);
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_commit", st));
        }
        next = available + 1;
    }
    drop(c);
    drop(ring);
    receipt.report(a.events)
}
