//! `dmp_producer`: opening a producer, claiming, writing and publishing
//! events one at a time.

use super::boundary::{
    boundary, boundary_on, boundary_ptr_on, event_bytes, guarded, options_out, out_ptr, panicked,
    write_optional,
};
use super::copy::copy_event;
use super::handle::{close_handle, fast_mut, live, live_mut, new_handle};
use super::options::{
    dmp_producer_options, producer_options, read_options, timeout, DMP_WAIT_YIELD,
};
use super::ring::dmp_ring;
use super::status::DMP_STATUS_OK;
use crate::wait::WaitStrategy;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The ring's producer. Opaque; close with `dmp_producer_close`.
pub struct dmp_producer {
    _opaque: [u8; 0],
}

/// Fills `options` with defaults.
#[no_mangle]
pub extern "C" fn dmp_producer_options_init(options: *mut dmp_producer_options) {
    if let Ok(o) = options_out(options) {
        *o = dmp_producer_options {
            struct_size: std::mem::size_of::<dmp_producer_options>() as u32,
            wait_strategy: DMP_WAIT_YIELD,
            sleep_ns: 0,
            consumer_dead_timeout_ns: 0,
            progress_timeout_ns: 0,
            stall_grace_ns: 0,
            ready_consumers: 0,
            reserved: 0,
            ready_names: std::ptr::null(),
            ready_name_count: 0,
            ready_timeout_ns: 0,
            on_stall: None,
            on_stall_user: std::ptr::null_mut(),
        };
    }
}

/// Attaches the ring's producer (`options` may be NULL). Fails with
/// `DMP_STATUS_PRODUCER_EXISTS` while another live producer holds the ring.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_producer_open(
    ring: *mut dmp_ring,
    options: *const dmp_producer_options,
    out: *mut *mut dmp_producer,
) -> i32 {
    boundary_on(ring, || {
        let r = live(ring)?;
        out_ptr(out, "out")?;
        let o = read_options(options, "dmp_producer_options")?;
        let p = match o {
            Some(o) => r.producer_with(&producer_options(&o)?)?,
            None => r.producer(WaitStrategy::default())?,
        };
        new_handle(p, out)
    })
}

/// Closes a producer handle (NULL is a no-op).
#[no_mangle]
pub extern "C" fn dmp_producer_close(producer: *mut dmp_producer) -> i32 {
    boundary(|| close_handle(producer))
}

/// Claims `n` consecutive slots, waiting at most `timeout_ns` for
/// consumers to free them; `*out_first` receives the first sequence.
/// Returns `DMP_STATUS_TIMEOUT` when the wait expires.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_claim(
    producer: *mut dmp_producer,
    n: u64,
    timeout_ns: u64,
    out_first: *mut i64,
) -> i32 {
    // Fast path: a live handle and a non-null out-pointer, checked without
    // building an error, and a single producer's claim that needs no wait:
    // no call and no panicking operation, so no frame to set up either.
    if !out_first.is_null() {
        if let Some(p) = fast_mut(producer) {
            if let Some(first) = p.claim_cached(n) {
                // SAFETY: non-null (checked above), and C passes an
                // out-pointer to writable storage.
                unsafe { out_first.write(first) };
                return DMP_STATUS_OK;
            }
        }
    }
    claim_full(producer, n, timeout_ns, out_first)
}

/// `dmp_claim` past its no-wait case: `Producer::claim` itself (it may
/// wait, or refuse) inside `guarded`'s catch_unwind, or the checks of bad
/// arguments.
#[inline(never)]
extern "C" fn claim_full(
    producer: *mut dmp_producer,
    n: u64,
    timeout_ns: u64,
    out_first: *mut i64,
) -> i32 {
    if !out_first.is_null() {
        if let Some(p) = fast_mut(producer) {
            return guarded(producer, || {
                let first = p.claim(n, timeout(timeout_ns))?;
                // SAFETY: non-null (checked above), and C passes an
                // out-pointer to writable storage.
                unsafe { out_first.write(first) };
                Ok(())
            });
        }
    }
    claim_slow(producer, n, timeout_ns, out_first)
}

/// `dmp_claim` when its fast path does not apply: the checks of the
/// arguments, in the order and with the errors of the whole call. The
/// slow paths are `extern "C"` (they never unwind: their boundary catches
/// every panic), so that the exports reach them with a tail call rather
/// than through an abort guard; those that only check arguments call the
/// export again should the checks pass (the fast path makes the same
/// ones), so that the Rust API has one call site, inlined into it.
#[cold]
#[inline(never)]
extern "C" fn claim_slow(
    producer: *mut dmp_producer,
    n: u64,
    timeout_ns: u64,
    out_first: *mut i64,
) -> i32 {
    let checked = boundary_on(producer, || {
        live_mut(producer)?;
        out_ptr(out_first, "out_first")?;
        Ok(())
    });
    if checked != DMP_STATUS_OK {
        return checked;
    }
    dmp_claim(producer, n, timeout_ns, out_first)
}

/// Claims `n` slots without waiting; `DMP_STATUS_WOULD_BLOCK` when the
/// ring has no room.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_try_claim(producer: *mut dmp_producer, n: u64, out_first: *mut i64) -> i32 {
    boundary_on(producer, || {
        let p = live_mut(producer)?;
        let out = out_ptr(out_first, "out_first")?;
        *out = p.try_claim(n)?;
        Ok(())
    })
}

/// The payload of claimed, unpublished sequence `seq` (`slot_size` bytes,
/// 64-byte aligned), or NULL with the last error set.
#[no_mangle]
pub extern "C" fn dmp_producer_slot(producer: *mut dmp_producer, seq: i64) -> *mut c_void {
    // Fast path: a live handle and a sequence of the unpublished claim (the
    // check `Producer::slot_mut` makes, without its error). The check runs
    // inside catch_unwind for the overflow checks of debug builds (in
    // release builds nothing in it can unwind and the guard costs
    // nothing).
    if let Some(p) = fast_mut(producer) {
        match catch_unwind(AssertUnwindSafe(|| p.claimed_slot(seq))) {
            Ok(Some(slot)) => return slot.cast(),
            Ok(None) => {}
            Err(panic) => {
                panicked(panic);
                return std::ptr::null_mut();
            }
        }
    }
    producer_slot_slow(producer, seq)
}

/// `dmp_producer_slot` when its fast path does not apply.
#[cold]
#[inline(never)]
extern "C" fn producer_slot_slow(producer: *mut dmp_producer, seq: i64) -> *mut c_void {
    boundary_ptr_on(producer, || {
        let p = live_mut(producer)?;
        Ok(p.slot_mut(seq)?.as_mut_ptr() as *mut c_void)
    })
}

/// Publishes `[lo, hi]`: it must start at the first unpublished sequence
/// of this producer's claim and lie within the claimed range. In a
/// multi-producer ring, `DMP_STATUS_CLAIM_ABANDONED` means the claim
/// outlived the ring's unblock timeout and was abandoned: nothing of it was
/// published; claim again.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_publish(producer: *mut dmp_producer, lo: i64, hi: i64) -> i32 {
    // Fast path: a live handle, and a single producer's publish within its
    // claim: the stores, no call and no panicking operation (the wake-up of
    // sleeping consumers, when one sleeps, is a guarded call); otherwise
    // the full call.
    if let Some(p) = fast_mut(producer) {
        match p.publish_unwoken(lo, hi) {
            Some(false) => return DMP_STATUS_OK,
            Some(true) => return publish_wake(producer),
            None => {}
        }
    }
    publish_full(producer, lo, hi)
}

/// `dmp_publish` past its fast path: `Producer::publish` itself inside
/// `guarded`'s catch_unwind, or the checks of a bad handle.
#[inline(never)]
extern "C" fn publish_full(producer: *mut dmp_producer, lo: i64, hi: i64) -> i32 {
    if let Some(p) = fast_mut(producer) {
        return guarded(producer, || p.publish(lo, hi));
    }
    publish_slow(producer, lo, hi)
}

/// The wake-up a fast `dmp_publish` found due, inside `guarded`'s
/// catch_unwind.
#[cold]
#[inline(never)]
extern "C" fn publish_wake(producer: *mut dmp_producer) -> i32 {
    guarded(producer, || {
        if let Some(p) = fast_mut(producer) {
            p.wake_consumers();
        }
        Ok(())
    })
}

/// `dmp_publish` on a null or dead handle.
#[cold]
#[inline(never)]
extern "C" fn publish_slow(producer: *mut dmp_producer, lo: i64, hi: i64) -> i32 {
    let checked = boundary_on(producer, || live_mut(producer).map(drop));
    if checked != DMP_STATUS_OK {
        return checked;
    }
    dmp_publish(producer, lo, hi)
}

/// Publishes one event: claims the next slot (waiting at most `timeout_ns`
/// for consumers to free it), copies the `len` bytes at `event` into its
/// payload (`len` at most `slot_size`; the rest of the slot keeps the bytes
/// of an earlier lap), publishes it; `*out_seq` (may be NULL) receives its
/// sequence. The one-event path, in one call: `DMP_STATUS_TIMEOUT` or, with
/// a zero timeout, `DMP_STATUS_WOULD_BLOCK` when the ring stays full.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_publish_one(
    producer: *mut dmp_producer,
    event: *const c_void,
    len: usize,
    timeout_ns: u64,
    out_seq: *mut i64,
) -> i32 {
    // Fast path: a live handle and an event that fits the slot (non-null
    // unless empty), checked without building an error, then a single
    // producer's publish that needs no wait and no flush: the copy and the
    // stores, no call and no panicking operation (the wake-up of sleeping
    // consumers, when one sleeps, is a guarded call). Otherwise the full
    // call.
    if let Some(p) = fast_mut(producer) {
        if len <= p.slot_size() && (len == 0 || !event.is_null()) {
            // SAFETY: the sequencer passes the payload of the slot it
            // claimed, `slot_size` bytes, and `len <= slot_size`; `event`
            // points to `len` readable bytes (non-null unless `len` is 0:
            // the documented contract), which are not the ring's slot.
            let copy = |slot: *mut u8| unsafe { copy_event(slot, event.cast(), len) };
            if let Some((seq, wake)) = p.publish_one_unwoken(copy) {
                // SAFETY: `out_seq` is C's optional out-pointer.
                unsafe { write_optional(out_seq, seq) };
                return if wake {
                    publish_wake(producer)
                } else {
                    DMP_STATUS_OK
                };
            }
            return publish_one_full(producer, event, len, timeout_ns, out_seq);
        }
    }
    publish_one_slow(producer, event, len, timeout_ns, out_seq)
}

/// `dmp_publish_one` past its fast path, with its arguments checked:
/// `Producer::publish_with` itself (it may wait, or flush) inside
/// `guarded`'s catch_unwind. Nothing outside it can panic.
#[inline(never)]
extern "C" fn publish_one_full(
    producer: *mut dmp_producer,
    event: *const c_void,
    len: usize,
    timeout_ns: u64,
    out_seq: *mut i64,
) -> i32 {
    let Some(p) = fast_mut(producer) else {
        return publish_one_slow(producer, event, len, timeout_ns, out_seq);
    };
    let copy = |slot: &mut [u8]| {
        // SAFETY: `slot` is the claimed slot's payload, `slot_size` bytes,
        // and `len <= slot_size` (checked by the export); `event` points
        // to `len` readable bytes (non-null unless `len` is 0: the
        // documented contract), which are not the ring's slot.
        unsafe { copy_event(slot.as_mut_ptr(), event.cast(), len) }
    };
    guarded(producer, || {
        let seq = p.publish_with(timeout(timeout_ns), copy)?;
        // SAFETY: `out_seq` is C's optional out-pointer.
        unsafe { write_optional(out_seq, seq) };
        Ok(())
    })
}

/// `dmp_publish_one` when its fast path does not apply: the checks of the
/// arguments (see `claim_slow`).
#[cold]
#[inline(never)]
extern "C" fn publish_one_slow(
    producer: *mut dmp_producer,
    event: *const c_void,
    len: usize,
    timeout_ns: u64,
    out_seq: *mut i64,
) -> i32 {
    let checked = boundary_on(producer, || {
        let p = live_mut(producer)?;
        event_bytes(event, len, p.slot_size())?;
        Ok(())
    });
    if checked != DMP_STATUS_OK {
        return checked;
    }
    dmp_publish_one(producer, event, len, timeout_ns, out_seq)
}

/// Gives back the claimed, unpublished sequences from `from` on (a claim
/// the producer cannot fill). A single-producer ring reuses them for the
/// next claim; a multi-producer ring abandons them (consumers skip them).
/// A `from` outside the unpublished claim is a no-op.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_unclaim(producer: *mut dmp_producer, from: i64) -> i32 {
    boundary_on(producer, || {
        live_mut(producer)?.unclaim(from);
        Ok(())
    })
}
