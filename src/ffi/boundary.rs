//! The panic boundary every export runs inside, and the checks of the raw
//! pointers C passes in: out-pointers, strings, size-versioned structs and
//! event buffers.

use super::handle::{ring_of, Handle, OnRing};
use super::status::{record, record_in, DMP_STATUS_OK};
use crate::error::{Error, Result};
use std::ffi::{c_char, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// Runs `f`, turning its error or panic into a status code.
#[inline]
pub(super) fn boundary(f: impl FnOnce() -> Result<()>) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => DMP_STATUS_OK,
        Ok(Err(e)) => record(e),
        Err(p) => record(Error::Panic(panic_message(p))),
    }
}

/// Like [`boundary`] for a call on producer or consumer handle `h`: the
/// message of an error names the handle's ring (expected outcomes, such as
/// a poll that would block, cost nothing more).
#[inline]
pub(super) fn boundary_on<H: Handle>(h: *mut H, f: impl FnOnce() -> Result<()>) -> i32
where
    H::Inner: OnRing,
{
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => DMP_STATUS_OK,
        Ok(Err(e)) => located(e, h),
        Err(p) => record(Error::Panic(panic_message(p))),
    }
}

/// The fast paths' boundary: runs `f` (a call of the Rust API on the
/// handle `h`, which was checked live, and the writes of its results)
/// inside `catch_unwind`, as [`boundary_on`] does; its error or panic is
/// recorded out of line as [`boundary_on`] records it. The error becomes
/// its status inside the `catch_unwind`, whose result (returned through
/// memory) is then an `i32` rather than a `Result` holding an `Error`: the
/// success path is `f` and a branch, and nothing of `Error` is moved
/// unless it failed. (Recording the error inside `catch_unwind` also
/// catches a panic while recording it.)
#[inline(always)]
pub(super) fn guarded<H: Handle>(h: *mut H, f: impl FnOnce() -> Result<()>) -> i32
where
    H::Inner: OnRing,
{
    let status = || match f() {
        Ok(()) => DMP_STATUS_OK,
        Err(e) => failed(e, h),
    };
    match catch_unwind(AssertUnwindSafe(status)) {
        Ok(status) => status,
        Err(p) => panicked(p),
    }
}

/// Like [`guarded`] for functions returning a pointer: null on failure,
/// as [`boundary_ptr_on`] returns it.
#[inline(always)]
pub(super) fn guarded_ptr<H: Handle, T>(h: *mut H, f: impl FnOnce() -> Result<*mut T>) -> *mut T
where
    H::Inner: OnRing,
{
    let ptr = || match f() {
        Ok(p) => p,
        Err(e) => {
            failed(e, h);
            std::ptr::null_mut()
        }
    };
    match catch_unwind(AssertUnwindSafe(ptr)) {
        Ok(p) => p,
        Err(p) => {
            panicked(p);
            std::ptr::null_mut()
        }
    }
}

/// [`located`], out of line, for the fast paths.
#[cold]
#[inline(never)]
fn failed<H: Handle>(e: Error, h: *mut H) -> i32
where
    H::Inner: OnRing,
{
    located(e, h)
}

/// Records a panic caught by a fast path, as [`boundary`] does.
#[cold]
#[inline(never)]
pub(super) fn panicked(p: Box<dyn std::any::Any + Send>) -> i32 {
    record(Error::Panic(panic_message(p)))
}

/// Records `e` from a call on `h`, naming `h`'s ring if it is an error.
fn located<H: Handle>(e: Error, h: *mut H) -> i32
where
    H::Inner: OnRing,
{
    if (e.status() as i32) < 0 {
        record_in(e, ring_of(h))
    } else {
        record(e)
    }
}

/// Like [`boundary_on`] for functions returning a pointer: null on failure.
#[inline]
pub(super) fn boundary_ptr_on<H: Handle, T>(h: *mut H, f: impl FnOnce() -> Result<*mut T>) -> *mut T
where
    H::Inner: OnRing,
{
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            located(e, h);
            std::ptr::null_mut()
        }
        Err(p) => {
            record(Error::Panic(panic_message(p)));
            std::ptr::null_mut()
        }
    }
}

/// A required out-pointer to a value of a type both sides know in full
/// (an integer, a handle pointer): a reference to it, or `NullPointer`.
pub(super) fn out_ptr<'a, T>(p: *mut T, name: &'static str) -> Result<&'a mut T> {
    // SAFETY: a non-null out-pointer from C points to writable storage.
    let r = unsafe { p.as_mut() };
    // A match, not `ok_or`: an `Error` built eagerly is dropped on every
    // success (a call into its drop glue per call of the one-event exports).
    match r {
        Some(r) => Ok(r),
        None => Err(Error::NullPointer(name)),
    }
}

/// A required out-pointer to a size-versioned struct the caller may have
/// allocated with an older, smaller `struct_size`: only checked for null,
/// never turned into a reference (see [`write_versioned`], which writes
/// it).
pub(super) fn required<T>(p: *mut T, name: &'static str) -> Result<()> {
    if p.is_null() {
        return Err(Error::NullPointer(name));
    }
    Ok(())
}

pub(super) fn options_out<'a, T>(p: *mut T) -> Result<&'a mut T> {
    out_ptr(p, "options")
}

pub(super) fn c_str<'a>(p: *const c_char, name: &'static str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::NullPointer(name));
    }
    // SAFETY: non-null, and C strings passed to this library are
    // NUL-terminated (documented contract).
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map_err(|_| Error::InvalidName {
        name: s.to_string_lossy().into_owned(),
        reason: "not valid UTF-8",
    })
}

/// Largest `struct_size` accepted: a guard against uninitialised structs.
pub(super) const MAX_STRUCT_SIZE: usize = 4096;

/// Writes `value` into the caller's size-versioned struct `out` (non-null),
/// whose first `u32` is its `struct_size`: only the part both sides know,
/// with `struct_size` set to that length.
pub(super) fn write_versioned<T: Copy>(out: *mut T, value: T, name: &'static str) -> Result<()> {
    // SAFETY: non-null (checked by the caller); every version of the struct
    // starts with its u32 size, which the caller sets. No reference to the
    // (possibly smaller) caller struct is formed.
    let size = unsafe { std::ptr::read(out as *const u32) } as usize;
    if !(8..=MAX_STRUCT_SIZE).contains(&size) || size % 8 != 0 {
        return Err(Error::InvalidArgument(format!(
            "{name}.struct_size must be set to sizeof({name})"
        )));
    }
    let len = size.min(std::mem::size_of::<T>());
    // SAFETY: the caller's struct is `size` bytes and `len <= size`: `len`
    // bytes of `value` are copied into it through raw pointers.
    unsafe { std::ptr::copy_nonoverlapping(&value as *const T as *const u8, out as *mut u8, len) };
    // SAFETY: then its size field (the leading u32, within `len >= 8`) is
    // set to what was written.
    unsafe { std::ptr::write(out as *mut u32, len as u32) };
    Ok(())
}

/// Writes `value` to an optional out-pointer from C; NULL asks for nothing.
///
/// # Safety
///
/// `out` is NULL or points to writable storage for a `T`.
#[inline(always)]
pub(super) unsafe fn write_optional<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-null, so writable storage (the caller's contract).
        unsafe { out.write(value) };
    }
}

/// `len` bytes at `event` for a slot of `slot_size` (see [`event_len`]).
#[inline]
pub(super) fn event_bytes<'a>(
    event: *const c_void,
    len: usize,
    slot_size: usize,
) -> Result<&'a [u8]> {
    if !event_len(event.is_null(), len, slot_size, "event")? {
        return Ok(&[]);
    }
    // SAFETY: non-null, and the caller passes `len` readable bytes (the
    // documented contract of the calls taking an event and its length).
    Ok(unsafe { std::slice::from_raw_parts(event as *const u8, len) })
}

/// `len` writable bytes at `buf` for a slot of `slot_size` (see
/// [`event_len`]).
#[inline]
pub(super) fn buffer_bytes<'a>(
    buf: *mut c_void,
    len: usize,
    slot_size: usize,
) -> Result<&'a mut [u8]> {
    if !event_len(buf.is_null(), len, slot_size, "buf")? {
        return Ok(&mut []);
    }
    // SAFETY: non-null, and the caller passes `len` writable bytes that no
    // other thread uses during the call (documented contract).
    Ok(unsafe { std::slice::from_raw_parts_mut(buf as *mut u8, len) })
}

/// Checks an event buffer's length against the slot size and its pointer
/// against null; `Ok(false)` for an empty buffer (any pointer).
#[inline]
fn event_len(null: bool, len: usize, slot_size: usize, name: &'static str) -> Result<bool> {
    if len > slot_size {
        return Err(event_too_long(len, slot_size));
    }
    if len == 0 {
        return Ok(false);
    }
    if null {
        return Err(Error::NullPointer(name));
    }
    Ok(true)
}

#[cold]
fn event_too_long(len: usize, slot_size: usize) -> Error {
    Error::InvalidArgument(format!(
        "an event of {len} bytes does not fit the ring's {slot_size}-byte slots"
    ))
}
