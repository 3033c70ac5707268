//! `dmp_consumer`: opening a consumer, waiting for, reading and committing
//! events.

use super::boundary::{
    boundary, boundary_on, buffer_bytes, c_str, guarded, guarded_ptr, options_out, out_ptr,
    write_optional,
};
use super::copy::copy_event;
use super::handle::{close_handle, fast_mut, live, live_mut, new_handle};
use super::options::{
    dmp_consumer_options, read_options, timeout, DMP_JOIN_OLDEST, DMP_WAIT_YIELD,
};
use super::ring::dmp_ring;
use super::status::DMP_STATUS_OK;
use crate::error::Error;
use crate::ring::ConsumerOptions;
use crate::wait::WaitStrategy;
use std::ffi::{c_char, c_void};

/// A consumer. Opaque; close with `dmp_consumer_close`.
pub struct dmp_consumer {
    _opaque: [u8; 0],
}

/// Fills `options` with defaults.
#[no_mangle]
pub extern "C" fn dmp_consumer_options_init(options: *mut dmp_consumer_options) {
    if let Ok(o) = options_out(options) {
        *o = dmp_consumer_options {
            struct_size: std::mem::size_of::<dmp_consumer_options>() as u32,
            wait_strategy: DMP_WAIT_YIELD,
            sleep_ns: 0,
            dependencies: std::ptr::null(),
            dependency_count: 0,
            optional: 0,
            join_flags: 0,
            max_block_ns: 0,
        };
    }
}

/// Registers consumer `name` (1 to 63 of `[A-Za-z0-9._-]`). It sees every
/// event published after it joined; with `DMP_JOIN_OLDEST` in
/// `options->join_flags`, every event the ring still retains for certain:
/// those after the slowest other gating consumer, or, with no producer
/// attached, the whole ring (with an attached producer and no other
/// consumer holding it back, nothing is retained for certain: it joins at
/// the cursor). `dmp_consumer_lost_on_join` then counts the events
/// published before the first one it reads. A name whose holder died while
/// it gated resumes from its last commit either way. `options` may be NULL.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_consumer_open(
    ring: *mut dmp_ring,
    name: *const c_char,
    options: *const dmp_consumer_options,
    out: *mut *mut dmp_consumer,
) -> i32 {
    boundary_on(ring, || {
        let r = live(ring)?;
        let name = c_str(name, "name")?;
        out_ptr(out, "out")?;
        let o = read_options(options, "dmp_consumer_options")?;
        let optional = o.and_then(|o| match o.optional {
            0 => None,
            _ => Some(timeout(o.max_block_ns)),
        });
        if let Some(o) = o.filter(|o| o.optional > 1) {
            return Err(Error::InvalidArgument(format!(
                "dmp_consumer_options.optional is {}; use 0 or 1",
                o.optional
            )));
        }
        if let Some(o) = o.filter(|o| o.join_flags & !DMP_JOIN_OLDEST != 0) {
            return Err(Error::InvalidArgument(format!(
                "dmp_consumer_options.join_flags is {:#x}; unknown bits {:#x} (known: DMP_JOIN_OLDEST 0x1)",
                o.join_flags,
                o.join_flags & !DMP_JOIN_OLDEST
            )));
        }
        let oldest = o.is_some_and(|o| o.join_flags & DMP_JOIN_OLDEST != 0);
        let (strategy, deps) = match o {
            None => (WaitStrategy::default(), Vec::new()),
            Some(o) => {
                let strategy = WaitStrategy::from_code(o.wait_strategy, timeout(o.sleep_ns))?;
                if o.dependency_count > crate::layout::MAX_CONSUMERS as usize {
                    return Err(Error::InvalidArgument(format!(
                        "dependency_count {} exceeds {}",
                        o.dependency_count,
                        crate::layout::MAX_CONSUMERS
                    )));
                }
                if o.dependency_count > 0 && o.dependencies.is_null() {
                    return Err(Error::NullPointer("dependencies"));
                }
                let mut deps = Vec::with_capacity(o.dependency_count);
                for i in 0..o.dependency_count {
                    // SAFETY: the caller passes `dependency_count` pointers,
                    // so `dependencies + i` lies in that array.
                    let at = unsafe { o.dependencies.add(i) };
                    // SAFETY: and is readable (the caller's array).
                    let dep = unsafe { at.read() };
                    deps.push(c_str(dep, "dependencies[i]")?);
                }
                (strategy, deps)
            }
        };
        let deps: Vec<&str> = deps.iter().map(|d| &**d).collect();
        let mut co = ConsumerOptions::new()
            .dependencies(&deps)
            .strategy(strategy)
            .join_at_oldest(oldest);
        if let Some(max_block) = optional {
            co = co.optional(max_block);
        }
        let c = r.consumer_with(name, &co)?;
        new_handle(c, out)
    })
}

/// Closes a consumer: it leaves the ring and stops holding the producer
/// back. NULL is a no-op.
#[no_mangle]
pub extern "C" fn dmp_consumer_close(consumer: *mut dmp_consumer) -> i32 {
    boundary(|| close_handle(consumer))
}

/// Waits at most `timeout_ns` until `seq` is available; `*out_available`
/// receives the highest available sequence (>= `seq`): read them all, then
/// commit. A zero timeout never waits (`DMP_STATUS_WOULD_BLOCK`).
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_wait_for(
    consumer: *mut dmp_consumer,
    seq: i64,
    timeout_ns: u64,
    out_available: *mut i64,
) -> i32 {
    // Fast path: a live handle and a non-null out-pointer, checked without
    // building an error, and a sequence an earlier call saw available (what
    // `Consumer::wait_for` looks at first): a comparison, no call, no
    // panicking operation, so no frame to set up either.
    if !out_available.is_null() {
        if let Some(c) = fast_mut(consumer) {
            let known = c.known_available();
            if seq <= known {
                // SAFETY: non-null (checked above), and C passes an
                // out-pointer to writable storage.
                unsafe { out_available.write(known) };
                return DMP_STATUS_OK;
            }
        }
    }
    wait_for_full(consumer, seq, timeout_ns, out_available)
}

/// `dmp_wait_for` past the known-available case: `Consumer::wait_for`
/// itself (it may wait) inside `guarded`'s catch_unwind, or the checks of
/// bad arguments.
#[inline(never)]
extern "C" fn wait_for_full(
    consumer: *mut dmp_consumer,
    seq: i64,
    timeout_ns: u64,
    out_available: *mut i64,
) -> i32 {
    if !out_available.is_null() {
        if let Some(c) = fast_mut(consumer) {
            return guarded(consumer, || {
                let available = c.wait_for(seq, timeout(timeout_ns))?;
                // SAFETY: non-null (checked above), and C passes an
                // out-pointer to writable storage.
                unsafe { out_available.write(available) };
                Ok(())
            });
        }
    }
    wait_for_slow(consumer, seq, timeout_ns, out_available)
}

/// `dmp_wait_for` when its fast path does not apply: the checks of the
/// arguments, in the order and with the errors of the whole call. The
/// slow paths are `extern "C"` (they never unwind: their boundary catches
/// every panic), so that the exports reach them with a tail call rather
/// than through an abort guard; those that only check arguments call the
/// export again should the checks pass (the fast path makes the same
/// ones), so that the Rust API has one call site, inlined into it.
#[cold]
#[inline(never)]
extern "C" fn wait_for_slow(
    consumer: *mut dmp_consumer,
    seq: i64,
    timeout_ns: u64,
    out_available: *mut i64,
) -> i32 {
    let checked = boundary_on(consumer, || {
        live_mut(consumer)?;
        out_ptr(out_available, "out_available")?;
        Ok(())
    });
    if checked != DMP_STATUS_OK {
        return checked;
    }
    dmp_wait_for(consumer, seq, timeout_ns, out_available)
}

/// The payload of available, uncommitted sequence `seq`, or NULL with the
/// last error set.
#[no_mangle]
pub extern "C" fn dmp_consumer_slot(consumer: *mut dmp_consumer, seq: i64) -> *const c_void {
    // Fast path: a live handle, checked without building an error, then
    // `Consumer::slot` itself inside `guarded_ptr`'s catch_unwind; nothing
    // outside it can panic.
    if let Some(c) = fast_mut(consumer) {
        return guarded_ptr(consumer, || Ok(c.slot(seq)?.as_ptr() as *mut c_void));
    }
    consumer_slot_slow(consumer, seq)
}

/// `dmp_consumer_slot` on a null or dead handle (see `wait_for_slow`).
#[cold]
#[inline(never)]
extern "C" fn consumer_slot_slow(consumer: *mut dmp_consumer, seq: i64) -> *const c_void {
    let checked = boundary_on(consumer, || live_mut(consumer).map(drop));
    if checked != DMP_STATUS_OK {
        return std::ptr::null();
    }
    dmp_consumer_slot(consumer, seq)
}

/// The payload of available, uncommitted sequence `seq` in `*out_payload`:
/// `DMP_STATUS_OK`, or `DMP_STATUS_ABANDONED` with `*out_payload` NULL when
/// its producer abandoned it (multi-producer rings): skip it.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_consumer_event(
    consumer: *mut dmp_consumer,
    seq: i64,
    out_payload: *mut *const c_void,
) -> i32 {
    boundary_on(consumer, || {
        let c = live_mut(consumer)?;
        let out = out_ptr(out_payload, "out_payload")?;
        *out = std::ptr::null();
        *out = c.slot(seq)?.as_ptr() as *const c_void;
        Ok(())
    })
}

/// The next sequence this consumer should read (last committed + 1).
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_consumer_next(consumer: *mut dmp_consumer, out_next: *mut i64) -> i32 {
    boundary_on(consumer, || {
        let c = live_mut(consumer)?;
        *out_ptr(out_next, "out_next")? = c.next_sequence();
        Ok(())
    })
}

/// After `DMP_STATUS_EVICTED`: joins again at the current position;
/// `*out_lost` (may be NULL) receives how many events were lost since the
/// last commit. A consumer that was not evicted is left as it is (0 lost).
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_consumer_rejoin(consumer: *mut dmp_consumer, out_lost: *mut u64) -> i32 {
    boundary_on(consumer, || {
        let c = live_mut(consumer)?;
        let lost = c.rejoin()?;
        if !out_lost.is_null() {
            // SAFETY: optional out-pointer; written only when non-null.
            unsafe { *out_lost = lost };
        }
        Ok(())
    })
}

/// `*out_lost` receives how many events this consumer's name missed when
/// it joined (0 for a new name, or one that resumed from its committed
/// sequence after its previous holder died; with `DMP_JOIN_OLDEST`, a new
/// name counts every event published before the first one it reads).
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_consumer_lost_on_join(
    consumer: *mut dmp_consumer,
    out_lost: *mut u64,
) -> i32 {
    boundary_on(consumer, || {
        let c = live(consumer)?;
        *out_ptr(out_lost, "out_lost")? = c.lost_on_join();
        Ok(())
    })
}

/// Marks every sequence up to `seq` consumed (one release store). `seq`
/// must not exceed what `dmp_wait_for` returned.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_commit(consumer: *mut dmp_consumer, seq: i64) -> i32 {
    // Fast path: a live handle, and a required consumer's commit within
    // what it saw available: the store, no call and no panicking operation
    // (the wake-up of a sleeping producer, when one sleeps, is a guarded
    // call); otherwise the full call.
    if let Some(c) = fast_mut(consumer) {
        match c.commit_unwoken(seq) {
            Some(false) => return DMP_STATUS_OK,
            Some(true) => return commit_wake(consumer),
            None => {}
        }
    }
    commit_full(consumer, seq)
}

/// `dmp_commit` past its fast path: `Consumer::commit` itself inside
/// `guarded`'s catch_unwind, or the checks of a bad handle.
#[inline(never)]
extern "C" fn commit_full(consumer: *mut dmp_consumer, seq: i64) -> i32 {
    if let Some(c) = fast_mut(consumer) {
        return guarded(consumer, || c.commit(seq));
    }
    commit_slow(consumer, seq)
}

/// The wake-up a fast `dmp_commit` found due, inside `guarded`'s
/// catch_unwind.
#[cold]
#[inline(never)]
extern "C" fn commit_wake(consumer: *mut dmp_consumer) -> i32 {
    guarded(consumer, || {
        if let Some(c) = fast_mut(consumer) {
            c.wake_waiters();
        }
        Ok(())
    })
}

/// `dmp_commit` on a null or dead handle.
#[cold]
#[inline(never)]
extern "C" fn commit_slow(consumer: *mut dmp_consumer, seq: i64) -> i32 {
    let checked = boundary_on(consumer, || live_mut(consumer).map(drop));
    if checked != DMP_STATUS_OK {
        return checked;
    }
    dmp_commit(consumer, seq)
}

/// Consumes one event: waits at most `timeout_ns` for the next one,
/// copies the first `len` bytes of its payload to `buf` (`len` at most
/// `slot_size`), commits it; `*out_seq` (may be NULL) receives its
/// sequence. Abandoned sequences (multi-producer rings) are skipped.
/// `DMP_STATUS_TIMEOUT` or, with a zero timeout, `DMP_STATUS_WOULD_BLOCK`
/// when no event arrives; nothing is copied then.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_consume_one(
    consumer: *mut dmp_consumer,
    buf: *mut c_void,
    len: usize,
    timeout_ns: u64,
    out_seq: *mut i64,
) -> i32 {
    // Fast path: a live handle and a buffer the length fits (non-null
    // unless empty), checked without building an error, then a required
    // consumer's next event that is there and needs no flush: the copy and
    // the commit's store, no call and no panicking operation (the wake-up
    // of a sleeping producer, when one sleeps, is a guarded call).
    // Otherwise the full call.
    if let Some(c) = fast_mut(consumer) {
        if len <= c.slot_size() && (len == 0 || !buf.is_null()) {
            // SAFETY: the consumer passes the payload of its next event,
            // `slot_size` bytes, and `len <= slot_size`; `buf` points to
            // `len` writable bytes (non-null unless `len` is 0: the
            // documented contract), which are not the ring's slot.
            let copy = |slot: *const u8| unsafe { copy_event(buf.cast(), slot, len) };
            if let Some((seq, wake)) = c.consume_one_unwoken(copy) {
                // SAFETY: `out_seq` is C's optional out-pointer.
                unsafe { write_optional(out_seq, seq) };
                return if wake {
                    commit_wake(consumer)
                } else {
                    DMP_STATUS_OK
                };
            }
            return consume_one_full(consumer, buf, len, timeout_ns, out_seq);
        }
    }
    consume_one_slow(consumer, buf, len, timeout_ns, out_seq)
}

/// `dmp_consume_one` past its fast path, with its arguments checked:
/// `Consumer::consume_with` itself (it may wait) inside `guarded`'s
/// catch_unwind. Nothing outside it can panic.
#[inline(never)]
extern "C" fn consume_one_full(
    consumer: *mut dmp_consumer,
    buf: *mut c_void,
    len: usize,
    timeout_ns: u64,
    out_seq: *mut i64,
) -> i32 {
    let Some(c) = fast_mut(consumer) else {
        return consume_one_slow(consumer, buf, len, timeout_ns, out_seq);
    };
    let copy = |seq: i64, slot: &[u8]| {
        // SAFETY: `slot` is the event's payload, `slot_size` bytes, and
        // `len <= slot_size` (checked by the export); `buf` points to `len`
        // writable bytes (non-null unless `len` is 0: the documented
        // contract), which are not the ring's slot.
        unsafe { copy_event(buf.cast(), slot.as_ptr(), len) };
        seq
    };
    guarded(consumer, || {
        let seq = c.consume_with(timeout(timeout_ns), copy)?;
        // SAFETY: `out_seq` is C's optional out-pointer.
        unsafe { write_optional(out_seq, seq) };
        Ok(())
    })
}

/// `dmp_consume_one` when its fast path does not apply: the checks of the
/// arguments (see `wait_for_slow`).
#[cold]
#[inline(never)]
extern "C" fn consume_one_slow(
    consumer: *mut dmp_consumer,
    buf: *mut c_void,
    len: usize,
    timeout_ns: u64,
    out_seq: *mut i64,
) -> i32 {
    let checked = boundary_on(consumer, || {
        let c = live_mut(consumer)?;
        buffer_bytes(buf, len, c.slot_size())?;
        Ok(())
    });
    if checked != DMP_STATUS_OK {
        return checked;
    }
    dmp_consume_one(consumer, buf, len, timeout_ns, out_seq)
}

/// Retires consumer `name` of `ring`, whose process died and will not come
/// back: its entry stops holding the producers back and is freed (the name
/// can join again, fresh), and the ring's `retired` count grows. Refused
/// with `DMP_STATUS_NAME_IN_USE` (the message names the pid) while a live
/// process holds the name, `DMP_STATUS_INVALID_ARGUMENT` when the ring has
/// no such consumer or an active consumer depends on it.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_consumer_retire(ring: *mut dmp_ring, name: *const c_char) -> i32 {
    boundary_on(ring, || {
        let r = live(ring)?;
        let name = c_str(name, "name")?;
        r.retire_consumer(name)
    })
}
