//! `dmp_producer`: opening a producer, claiming, writing and publishing
//! events one at a time.

use super::boundary::{
    boundary, boundary_on, boundary_ptr_on, event_bytes, nullable, options_out, out_ptr,
};
use super::handle::{close_handle, live, live_mut, new_handle};
use super::options::{
    dmp_producer_options, producer_options, read_options, timeout, DMP_WAIT_YIELD,
};
use super::ring::dmp_ring;
use crate::wait::WaitStrategy;
use std::ffi::c_void;

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
    boundary_on(producer, || {
        let p = live_mut(producer)?;
        let out = out_ptr(out_first, "out_first")?;
        *out = p.claim(n, timeout(timeout_ns))?;
        Ok(())
    })
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
    boundary_on(producer, || live_mut(producer)?.publish(lo, hi))
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
    boundary_on(producer, || {
        let p = live_mut(producer)?;
        let bytes = event_bytes(event, len, p.slot_size())?;
        let seq = p.publish_with(timeout(timeout_ns), |slot| {
            slot[..len].copy_from_slice(bytes)
        })?;
        if let Some(out) = nullable(out_seq) {
            *out = seq;
        }
        Ok(())
    })
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
