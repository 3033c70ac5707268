//! Status codes: the `DMP_STATUS_*` constants, `dmp_status_str`, and the
//! per-thread last error behind `dmp_last_error_message`.

use crate::error::{Error, Status};
use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::path::{Path, PathBuf};

/// Success.
pub const DMP_STATUS_OK: i32 = 0;
/// A non-blocking call could not complete now (ring full, nothing to read).
pub const DMP_STATUS_WOULD_BLOCK: i32 = 1;
/// A bounded wait expired.
pub const DMP_STATUS_TIMEOUT: i32 = 2;
/// An argument is invalid (unknown enum value, unknown option-struct tail, …).
pub const DMP_STATUS_INVALID_ARGUMENT: i32 = -1;
/// A required pointer argument was null.
pub const DMP_STATUS_NULL_POINTER: i32 = -2;
/// A panic was caught at the boundary (a bug in the library).
pub const DMP_STATUS_PANIC: i32 = -3;
/// A closed handle, or a pointer that is not a handle of that kind.
pub const DMP_STATUS_INVALID_HANDLE: i32 = -4;
/// An unusable segment or consumer name.
pub const DMP_STATUS_INVALID_NAME: i32 = -5;
/// Capacity zero, not a power of two, or too large.
pub const DMP_STATUS_INVALID_CAPACITY: i32 = -6;
/// Slot size zero or too large.
pub const DMP_STATUS_INVALID_SLOT_SIZE: i32 = -7;
/// An operating-system call failed.
pub const DMP_STATUS_IO: i32 = -8;
/// The segment does not exist.
pub const DMP_STATUS_NOT_FOUND: i32 = -9;
/// The segment already exists.
pub const DMP_STATUS_ALREADY_EXISTS: i32 = -10;
/// Not enough space to reserve the segment.
pub const DMP_STATUS_NO_SPACE: i32 = -11;
/// Permission denied.
pub const DMP_STATUS_PERMISSION_DENIED: i32 = -12;
/// The file is not a disruptor-mp segment.
pub const DMP_STATUS_NOT_A_SEGMENT: i32 = -13;
/// The segment has another format version.
pub const DMP_STATUS_VERSION_MISMATCH: i32 = -14;
/// The file is shorter than its header says.
pub const DMP_STATUS_TRUNCATED: i32 = -15;
/// The header checksum does not match.
pub const DMP_STATUS_CHECKSUM_MISMATCH: i32 = -16;
/// Impossible header or table values.
pub const DMP_STATUS_CORRUPT: i32 = -17;
/// The segment's layout differs from the one asked for.
pub const DMP_STATUS_LAYOUT_MISMATCH: i32 = -18;
/// The segment's type id differs from the one asked for.
pub const DMP_STATUS_TYPE_MISMATCH: i32 = -19;
/// A sequence outside the range the call allows.
pub const DMP_STATUS_SEQUENCE_OUT_OF_RANGE: i32 = -20;
/// Claim of zero slots or more slots than the ring holds.
pub const DMP_STATUS_BATCH_TOO_LARGE: i32 = -21;
/// The consumer table is full.
pub const DMP_STATUS_CONSUMER_TABLE_FULL: i32 = -22;
/// A live process holds that name: a consumer name (`dmp_consumer_open`,
/// `dmp_consumer_retire`), or a ring with live participants
/// (`dmp_ring_remove` without `DMP_REMOVE_FORCE`).
pub const DMP_STATUS_NAME_IN_USE: i32 = -23;
/// A named dependency is not an active consumer.
pub const DMP_STATUS_DEPENDENCY_NOT_FOUND: i32 = -24;
/// The single-producer ring already has a live producer.
pub const DMP_STATUS_PRODUCER_EXISTS: i32 = -25;
/// Valid request this ring or build does not support.
pub const DMP_STATUS_UNSUPPORTED: i32 = -26;
/// Multi-producer rings: the sequence was abandoned by its producer (it
/// holds no event): skip it and commit past it as usual.
pub const DMP_STATUS_ABANDONED: i32 = 3;
/// Multi-producer rings: this producer's claim was abandoned after the
/// ring's unblock timeout; nothing of it was published. Claim again.
pub const DMP_STATUS_CLAIM_ABANDONED: i32 = -27;
/// Every producer-table entry of the multi-producer ring is in use.
pub const DMP_STATUS_PRODUCER_TABLE_FULL: i32 = -28;
/// A required consumer holding the ring back is dead and did not come back
/// within the producer's `consumer_dead_timeout_ns`; the message names it.
pub const DMP_STATUS_CONSUMER_DEAD: i32 = -29;
/// A live required consumer holding the ring back made no progress for the
/// producer's progress timeout plus its grace period; the message names it.
pub const DMP_STATUS_CONSUMER_STALLED: i32 = -30;
/// This optional consumer was evicted (events after its committed sequence
/// may be lost; a batch read since is void): `dmp_consumer_rejoin` goes on.
pub const DMP_STATUS_EVICTED: i32 = -31;

// The codes are written once, in the status table of src/error.rs; cbindgen
// cannot expand macros, so the header's constants are written out above
// and checked against the table here: a constant missing, of another value
// or without a row fails the build.
macro_rules! assert_status_constants {
    ($($(#[$doc:meta])* $variant:ident = $code:literal => $c_name:ident, $text:literal;)*) => {
        $(
            const _: () = assert!(
                $c_name == Status::$variant as i32,
                concat!(stringify!($c_name), " is not the code of Status::", stringify!($variant)),
            );
        )*
    };
}
crate::error::status_table!(assert_status_constants);

const _: () = assert!(
    lines_starting_with(include_str!("status.rs"), "pub const DMP_STATUS_") == Status::ALL.len(),
    "one DMP_STATUS_* constant per row of the status table in src/error.rs",
);

/// How many lines of `text` begin with `prefix`.
const fn lines_starting_with(text: &str, prefix: &str) -> usize {
    let (text, prefix) = (text.as_bytes(), prefix.as_bytes());
    let mut count = 0;
    let mut i = 0;
    while i + prefix.len() <= text.len() {
        if i == 0 || text[i - 1] == b'\n' {
            let mut j = 0;
            while j < prefix.len() && text[i + j] == prefix[j] {
                j += 1;
            }
            if j == prefix.len() {
                count += 1;
            }
        }
        i += 1;
    }
    count
}

thread_local! {
    /// The last error and the ring of the handle it happened on, if known.
    static LAST_ERROR: RefCell<Option<(Error, Option<PathBuf>)>> = const { RefCell::new(None) };
    static LAST_MESSAGE: RefCell<CString> = RefCell::new(CString::default());
}

pub(super) fn record(e: Error) -> i32 {
    record_in(e, None)
}

/// Records `e`, which happened on a handle of the ring at `ring`: its
/// message names the ring unless it does already.
pub(super) fn record_in(e: Error, ring: Option<PathBuf>) -> i32 {
    let code = e.status() as i32;
    LAST_ERROR.with(|l| *l.borrow_mut() = Some((e, ring)));
    code
}

fn message(e: &Error, ring: Option<&Path>) -> String {
    let text = e.to_string();
    match ring {
        Some(p) if !text.contains(&*p.to_string_lossy()) => format!("ring {}: {text}", p.display()),
        _ => text,
    }
}

/// A static description of a status code (never NULL).
#[no_mangle]
pub extern "C" fn dmp_status_str(status: i32) -> *const c_char {
    match Status::from_code(status) {
        Some(s) => s.as_cstr().as_ptr(),
        None => c"unknown status code".as_ptr(),
    }
}

/// The detailed message of the last error on this thread (names the
/// segment, both values of a mismatch, …), or "" if there was none. Valid
/// until the next call of this function on the same thread.
#[no_mangle]
pub extern "C" fn dmp_last_error_message() -> *const c_char {
    let text = LAST_ERROR
        .with(|l| l.borrow().as_ref().map(|(e, r)| message(e, r.as_deref())))
        .unwrap_or_default();
    let c = CString::new(text.replace('\0', " ")).unwrap_or_default();
    LAST_MESSAGE.with(|m| {
        *m.borrow_mut() = c;
        m.borrow().as_ptr()
    })
}
