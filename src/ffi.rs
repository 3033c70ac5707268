//! The C ABI. Only argument checks, handles and status codes live here;
//! every function body runs inside [`boundary`], which catches panics and
//! records the error for `dmp_last_error_message`. `include/disruptor_mp.h`
//! is generated from this file by cbindgen (see tests/header.rs).

#![allow(non_camel_case_types)]
// Exported functions take raw pointers by design: C callers promise they
// are valid or null (docs/C_API.md), and every one is null-checked here.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use crate::counters::Owner;
use crate::error::{Error, Result, Status};
use crate::region::Location;
use crate::ring::{Consumer, ConsumerOptions, Producer, ProducerOptions, Ring, RingOptions};
use crate::snapshot::Snapshot;
use crate::wait::WaitStrategy;
use crate::ProducerMode;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::Duration;

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
/// A live consumer holds that name.
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

/// `backing`: a POSIX shared-memory name (a file under /dev/shm).
pub const DMP_BACKING_SHM: u32 = 0;
/// `backing`: a file path.
pub const DMP_BACKING_FILE: u32 = 1;

/// `producer_mode`: single at creation, not checked at open.
pub const DMP_PRODUCER_DEFAULT: u32 = 0;
/// `producer_mode`: one producer process at a time.
pub const DMP_PRODUCER_SINGLE: u32 = 1;
/// `producer_mode`: several producer processes.
pub const DMP_PRODUCER_MULTI: u32 = 2;

/// `wakeups`: on at creation, not checked at open.
pub const DMP_WAKEUPS_DEFAULT: u32 = 0;
/// `wakeups`: publish and commit wake sleepers (blocking strategy allowed).
pub const DMP_WAKEUPS_ON: u32 = 1;
/// `wakeups`: no wake-ups (blocking strategy refused).
pub const DMP_WAKEUPS_OFF: u32 = 2;

/// `layout`: 64-byte slots with stamps at creation, not checked at open.
pub const DMP_LAYOUT_DEFAULT: u32 = 0;
/// `layout`: every slot 64-byte aligned with a publication stamp in the
/// payload's cache line: the lowest latency.
pub const DMP_LAYOUT_STAMPED: u32 = 1;
/// `layout`: slots packed at 8-byte granularity, no stamps: the densest,
/// the highest throughput for small events.
pub const DMP_LAYOUT_PACKED: u32 = 2;

/// Wait strategy: spin.
pub const DMP_WAIT_BUSY_SPIN: u32 = 0;
/// Wait strategy: spin, then yield.
pub const DMP_WAIT_YIELD: u32 = 1;
/// Wait strategy: spin, yield, then sleep `sleep_ns` between polls.
pub const DMP_WAIT_SLEEP: u32 = 2;
/// Wait strategy: spin, then sleep on a futex until woken.
pub const DMP_WAIT_BLOCKING: u32 = 3;

/// A timeout that never expires.
pub const DMP_TIMEOUT_INFINITE: u64 = u64::MAX;

/// Counter owner: the ring.
pub const DMP_OWNER_RING: u32 = 0;
/// Counter owner: a producer-table entry.
pub const DMP_OWNER_PRODUCER: u32 = 1;
/// Counter owner: a consumer-table entry.
pub const DMP_OWNER_CONSUMER: u32 = 2;

/// Options for creating or opening a ring. Initialise with
/// `dmp_ring_options_init`, then change fields. Zero fields mean "default"
/// at creation and "do not check" at open.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmp_ring_options {
    /// `sizeof(dmp_ring_options)`, set by `dmp_ring_options_init`.
    pub struct_size: u32,
    /// `DMP_BACKING_SHM` (default) or `DMP_BACKING_FILE`.
    pub backing: u32,
    /// Number of slots, a power of two (default 4096).
    pub capacity: u64,
    /// Payload bytes per slot (default 64).
    pub slot_size: u32,
    /// Consumer-table entries, 1 to 64 (default 16).
    pub max_consumers: u32,
    /// `DMP_PRODUCER_*`.
    pub producer_mode: u32,
    /// Permission bits of a new segment (0 = 0600).
    pub mode: u32,
    /// Application event type id (0 = none / not checked).
    pub type_id: u64,
    /// `DMP_WAKEUPS_*`.
    pub wakeups: u32,
    /// `DMP_LAYOUT_*`.
    pub layout: u32,
    /// How long open waits for the segment to appear (0 = not at all).
    pub timeout_ns: u64,
    /// Multi-producer rings: producer-table entries, 1 to 64 (default 8).
    pub max_producers: u32,
    /// Reserved, must be 0.
    pub reserved: u32,
    /// Multi-producer rings: how long a claimed, unpublished sequence may
    /// hold consumers up before it is abandoned (default 2 s, 1 ms to 1 h).
    pub unblock_timeout_ns: u64,
}

/// Options for opening a producer.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmp_producer_options {
    /// `sizeof(dmp_producer_options)`.
    pub struct_size: u32,
    /// `DMP_WAIT_*` (default `DMP_WAIT_YIELD`).
    pub wait_strategy: u32,
    /// Sleep between polls for `DMP_WAIT_SLEEP` (0 = 50 µs).
    pub sleep_ns: u64,
    /// How long a dead required consumer may hold the producer back (time
    /// for it to come back and resume) before claims fail with
    /// `DMP_STATUS_CONSUMER_DEAD` (0 = 5 s).
    pub consumer_dead_timeout_ns: u64,
    /// A live required consumer that makes no progress this long while it
    /// holds the producer back is reported: the ring's stalled-consumer
    /// alert counter and `on_stall` (0 = never).
    pub progress_timeout_ns: u64,
    /// After the report, how much longer it may stall before claims fail
    /// with `DMP_STATUS_CONSUMER_STALLED` (0 = 5 s).
    pub stall_grace_ns: u64,
    /// Readiness gate: `dmp_producer_open` waits until at least this many
    /// consumers are active (0 = no count).
    pub ready_consumers: u32,
    /// Reserved (0).
    pub reserved: u32,
    /// Readiness gate: names of consumers that must be active (may be NULL
    /// when `ready_name_count` is 0).
    pub ready_names: *const *const c_char,
    /// Number of entries in `ready_names`.
    pub ready_name_count: usize,
    /// How long the readiness gate waits (0 = 10 s); then
    /// `DMP_STATUS_TIMEOUT`.
    pub ready_timeout_ns: u64,
    /// Called once per stall on the producer's thread while it waits in
    /// `dmp_claim`; it must return promptly and must not call back into the
    /// same producer (NULL: none).
    pub on_stall: Option<extern "C" fn(user: *mut c_void, alert: *const dmp_stall_alert)>,
    /// Passed to `on_stall` as is.
    pub on_stall_user: *mut c_void,
}

/// What `on_stall` is told about a stalled required consumer.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmp_stall_alert {
    /// NUL-terminated name.
    pub name: [c_char; 64],
    /// Consumer-table entry.
    pub index: u32,
    /// PID of its holder.
    pub pid: u32,
    /// Its committed sequence, unchanged all that time.
    pub sequence: i64,
    /// How long it has made no progress, in nanoseconds.
    pub stalled_ns: u64,
}

/// Options for opening a consumer.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmp_consumer_options {
    /// `sizeof(dmp_consumer_options)`.
    pub struct_size: u32,
    /// `DMP_WAIT_*` (default `DMP_WAIT_YIELD`).
    pub wait_strategy: u32,
    /// Sleep between polls for `DMP_WAIT_SLEEP` (0 = 50 µs).
    pub sleep_ns: u64,
    /// Names of consumers whose commits this one waits for (may be NULL
    /// when `dependency_count` is 0).
    pub dependencies: *const *const c_char,
    /// Number of entries in `dependencies`.
    pub dependency_count: usize,
    /// 1: an optional consumer, which producers evict rather than wait for
    /// longer than `max_block_ns`; 0: required (waited for).
    pub optional: u32,
    /// Reserved (0).
    pub reserved: u32,
    /// Optional consumers: how long it may hold a waiting producer back
    /// (0 = not at all).
    pub max_block_ns: u64,
}

/// What `dmp_ring_info` reports.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmp_ring_info {
    /// Set by the caller to `sizeof(dmp_ring_info)`.
    pub struct_size: u32,
    /// Payload bytes per slot.
    pub slot_size: u32,
    /// Number of slots.
    pub capacity: u64,
    /// Consumer-table entries.
    pub max_consumers: u32,
    /// `DMP_PRODUCER_SINGLE` or `DMP_PRODUCER_MULTI`.
    pub producer_mode: u32,
    /// Application event type id.
    pub type_id: u64,
    /// Whether wake-ups are on (1) or off (0).
    pub wakeups: u32,
    /// `DMP_LAYOUT_STAMPED` or `DMP_LAYOUT_PACKED`.
    pub layout: u32,
    /// Last published sequence (-1 before the first publish). In a
    /// multi-producer ring: the highest sequence up to which everything is
    /// published or abandoned.
    pub cursor: i64,
    /// Producer-table entries.
    pub max_producers: u32,
    /// Reserved (0).
    pub reserved: u32,
    /// The unblock timeout (multi-producer rings).
    pub unblock_timeout_ns: u64,
    /// Multi-producer rings: the highest claimed sequence (-1: none).
    pub claimed: i64,
    /// Multi-producer rings: sequences abandoned so far.
    pub abandoned: u64,
}

const RING_MAGIC: u64 = 0x676e_6972_5f70_6d64; // "dmp_ring"
const PRODUCER_MAGIC: u64 = 0x6f72_705f_706d_6401;
const CONSUMER_MAGIC: u64 = 0x6e6f_635f_706d_6402;
const SNAPSHOT_MAGIC: u64 = 0x6e61_6e73_706d_6403;
const CLOSED_MAGIC: u64 = 0xdead_c105_ed00_0000;

/// An open ring. Opaque; close with `dmp_ring_close`.
pub struct dmp_ring {
    _opaque: [u8; 0],
}

/// The ring's producer. Opaque; close with `dmp_producer_close`.
pub struct dmp_producer {
    _opaque: [u8; 0],
}

/// A consumer. Opaque; close with `dmp_consumer_close`.
pub struct dmp_consumer {
    _opaque: [u8; 0],
}

/// A snapshot of a ring's counters and tables, taken at one moment.
/// Opaque; free with `dmp_snapshot_free`.
pub struct dmp_snapshot {
    _opaque: [u8; 0],
}

/// Ring-wide figures of a snapshot. Set `struct_size` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmp_ring_stats {
    /// Set by the caller to `sizeof(dmp_ring_stats)`.
    pub struct_size: u32,
    /// Reserved (0).
    pub reserved: u32,
    /// When the snapshot was taken, ns since the Unix epoch.
    pub taken_at_ns: u64,
    /// Last published sequence (multi-producer: everything up to it is
    /// published or abandoned).
    pub cursor: i64,
    /// Highest claimed sequence.
    pub claimed: i64,
    /// Events published.
    pub published: u64,
    /// Sequences abandoned.
    pub abandoned: u64,
    /// Participants that attached.
    pub attaches: u64,
    /// Participants that detached.
    pub detaches: u64,
    /// Claims that had to wait for consumers.
    pub back_pressure_waits: u64,
    /// Futex wake-ups issued.
    pub wakeups: u64,
    /// Entries of `dmp_snapshot_consumer`.
    pub consumer_count: u32,
    /// Entries of `dmp_snapshot_producer`.
    pub producer_count: u32,
    /// Entries of `dmp_snapshot_counter`.
    pub counter_count: u32,
    /// Reserved (0).
    pub reserved2: u32,
    /// Optional consumers evicted.
    pub evictions: u64,
    /// Stalled required consumers reported by producers.
    pub stall_alerts: u64,
}

/// One consumer-table entry of a snapshot. Set `struct_size` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmp_consumer_status {
    /// Set by the caller to `sizeof(dmp_consumer_status)`.
    pub struct_size: u32,
    /// Entry index.
    pub index: u32,
    /// NUL-terminated name.
    pub name: [c_char; 64],
    /// 1 joining, 2 active, 3 left, 4 evicted.
    pub state: u32,
    /// 1 when a live process holds the entry.
    pub alive: u32,
    /// 1 when the entry holds the producers back.
    pub gating: u32,
    /// PID of the last holder.
    pub pid: u32,
    /// Last committed sequence.
    pub sequence: i64,
    /// Cursor minus `sequence`.
    pub lag: i64,
    /// Dependency mask (bit j: waits for entry j).
    pub dependencies: u64,
    /// Times the entry was joined.
    pub generation: u64,
    /// Events consumed.
    pub events: u64,
    /// Commits.
    pub batches: u64,
    /// Waits.
    pub waits: u64,
    /// Waits that timed out.
    pub timeouts: u64,
    /// Last activity, ns since the Unix epoch (0: never).
    pub last_activity_ns: u64,
    /// 1 for an optional consumer, 0 for a required one.
    pub optional: u32,
    /// Reserved (0).
    pub reserved: u32,
}

/// One producer-table entry of a snapshot. Set `struct_size` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmp_producer_status {
    /// Set by the caller to `sizeof(dmp_producer_status)`.
    pub struct_size: u32,
    /// Entry index.
    pub index: u32,
    /// 2 active, 3 left.
    pub state: u32,
    /// 1 when a live process holds the entry.
    pub alive: u32,
    /// PID of the last holder.
    pub pid: u32,
    /// Reserved (0).
    pub reserved: u32,
    /// Ownership epoch.
    pub epoch: u64,
    /// Multi-producer rings: the unpublished claim `[pending_lo,
    /// pending_hi]`; empty (`pending_lo > pending_hi`) when none.
    pub pending_lo: i64,
    /// See `pending_lo`.
    pub pending_hi: i64,
    /// Events published.
    pub events: u64,
    /// Publishes.
    pub batches: u64,
    /// Claims that had to wait.
    pub waits: u64,
    /// Claims that timed out.
    pub timeouts: u64,
    /// Last activity, ns since the Unix epoch (0: never).
    pub last_activity_ns: u64,
}

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

/// One counter of a snapshot. Set `struct_size` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmp_counter {
    /// Set by the caller to `sizeof(dmp_counter)`.
    pub struct_size: u32,
    /// Counter id (docs/FORMAT.md).
    pub id: u32,
    /// `DMP_OWNER_*`.
    pub owner_kind: u32,
    /// The owner's table entry (0 for the ring).
    pub owner_index: u32,
    /// The value.
    pub value: u64,
    /// NUL-terminated label.
    pub label: [c_char; 48],
}

/// What every handle pointer given to C points to, whatever its kind: the
/// magic first (`repr(C)`), so that telling a handle's kind reads 8 bytes
/// that every handle has, even when C passes one kind as another. The
/// public handle types are opaque markers that are never constructed.
#[repr(C)]
struct Tagged<T> {
    magic: u64,
    inner: Option<T>,
}

trait Handle: 'static {
    type Inner: Send + 'static;
    const MAGIC: u64;
    const KIND: &'static str;
}

macro_rules! handle {
    ($t:ty, $inner:ty, $magic:expr, $kind:literal) => {
        impl Handle for $t {
            type Inner = $inner;
            const MAGIC: u64 = $magic;
            const KIND: &'static str = $kind;
        }
    };
}
handle!(dmp_ring, Ring, RING_MAGIC, "dmp_ring");
handle!(dmp_producer, Producer, PRODUCER_MAGIC, "dmp_producer");
handle!(dmp_consumer, Consumer, CONSUMER_MAGIC, "dmp_consumer");
handle!(dmp_snapshot, Snapshot, SNAPSHOT_MAGIC, "dmp_snapshot");

/// Closed handles are kept (emptied, magic cleared) for a while, so using
/// or closing one again is detected as `DMP_STATUS_INVALID_HANDLE` instead
/// of touching freed memory. Only the oldest are freed.
const GRAVEYARD_SIZE: usize = 4096;
static GRAVEYARD: Mutex<VecDeque<Box<dyn Send>>> = Mutex::new(VecDeque::new());

fn new_handle<H: Handle>(inner: H::Inner, out: *mut *mut H) -> Result<()> {
    let ptr = Box::into_raw(Box::new(Tagged {
        magic: H::MAGIC,
        inner: Some(inner),
    }));
    // SAFETY: `out` was checked non-null by the caller of new_handle.
    unsafe { *out = ptr.cast::<H>() };
    Ok(())
}

/// The storage of `h` when it is a live handle of kind `H`.
fn check_live<H: Handle>(h: *mut H) -> Result<*mut Tagged<H::Inner>> {
    if h.is_null() {
        return Err(Error::NullPointer(H::KIND));
    }
    // SAFETY: non-null; the caller passes a pointer obtained from this
    // library, which points to a `Tagged<_>` of some kind (magic first,
    // 8-byte aligned) that stays allocated after close (graveyard), so
    // reading the magic is defined for every kind, live or recently
    // closed. Nothing else is read before the magic names the kind.
    let magic = unsafe { h.cast::<u64>().read() };
    let tagged = h.cast::<Tagged<H::Inner>>();
    // SAFETY: the magic says `h` holds a `Tagged<H::Inner>`; shared
    // access only.
    if magic == H::MAGIC && unsafe { (*tagged).inner.is_some() } {
        Ok(tagged)
    } else {
        Err(Error::InvalidHandle(H::KIND))
    }
}

/// Shared access to a live handle (ring handles may be used concurrently).
fn live<'a, H: Handle>(h: *mut H) -> Result<&'a H::Inner> {
    let tagged = check_live(h)?;
    // SAFETY: checked live above; shared access only.
    let tagged: &'a Tagged<H::Inner> = unsafe { &*tagged };
    // A match, not `ok_or`: the error (which has drop glue) is built only
    // on the failure path.
    match tagged.inner.as_ref() {
        Some(inner) => Ok(inner),
        None => Err(Error::InvalidHandle(H::KIND)),
    }
}

/// Exclusive access to a live producer or consumer handle: the caller
/// promises one thread at a time (docs/C_API.md, Threading).
fn live_mut<'a, H: Handle>(h: *mut H) -> Result<&'a mut H::Inner> {
    let tagged = check_live(h)?;
    // SAFETY: checked live above; exclusive use is the caller's contract
    // for producer and consumer handles.
    let tagged: &'a mut Tagged<H::Inner> = unsafe { &mut *tagged };
    match tagged.inner.as_mut() {
        Some(inner) => Ok(inner),
        None => Err(Error::InvalidHandle(H::KIND)),
    }
}

fn close_handle<H: Handle>(h: *mut H) -> Result<()> {
    if h.is_null() {
        return Ok(());
    }
    let tagged = check_live(h)?;
    // SAFETY: checked live above; closing is exclusive by contract (no
    // other call on this handle may run concurrently with its close).
    let handle = unsafe { &mut *tagged };
    handle.magic = CLOSED_MAGIC;
    drop(handle.inner.take());
    // SAFETY: `tagged` came from Box::into_raw in new_handle and is closed
    // only once (the magic check above); ownership moves to the graveyard.
    let husk: Box<dyn Send> = unsafe { Box::from_raw(tagged) };
    let mut g = GRAVEYARD.lock().unwrap_or_else(|p| p.into_inner());
    g.push_back(husk);
    if g.len() > GRAVEYARD_SIZE {
        g.pop_front();
    }
    Ok(())
}

thread_local! {
    static LAST_ERROR: RefCell<Option<Error>> = const { RefCell::new(None) };
    static LAST_MESSAGE: RefCell<CString> = RefCell::new(CString::default());
}

fn record(e: Error) -> i32 {
    let code = e.status() as i32;
    LAST_ERROR.with(|l| *l.borrow_mut() = Some(e));
    code
}

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
fn boundary(f: impl FnOnce() -> Result<()>) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => DMP_STATUS_OK,
        Ok(Err(e)) => record(e),
        Err(p) => record(Error::Panic(panic_message(p))),
    }
}

/// Like [`boundary`] for functions returning a pointer: null on failure.
#[inline]
fn boundary_ptr<T>(f: impl FnOnce() -> Result<*mut T>) -> *mut T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            record(e);
            std::ptr::null_mut()
        }
        Err(p) => {
            record(Error::Panic(panic_message(p)));
            std::ptr::null_mut()
        }
    }
}

fn out_ptr<'a, T>(p: *mut T, name: &'static str) -> Result<&'a mut T> {
    // SAFETY: a non-null out-pointer from C points to writable storage.
    unsafe { p.as_mut() }.ok_or(Error::NullPointer(name))
}

fn c_str<'a>(p: *const c_char, name: &'static str) -> Result<&'a str> {
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
const MAX_STRUCT_SIZE: usize = 4096;

/// Reads an extensible option struct: the caller's `struct_size` bytes,
/// the known prefix copied, an unknown non-zero tail rejected. Null means
/// all defaults.
fn read_options<T: Copy>(p: *const T, name: &'static str) -> Result<Option<T>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: every option struct starts with a u32 struct_size.
    let size = unsafe { *(p as *const u32) } as usize;
    let known = std::mem::size_of::<T>();
    if !(8..=MAX_STRUCT_SIZE).contains(&size) || size % 8 != 0 {
        return Err(Error::InvalidArgument(format!(
            "{name}.struct_size is {size}; initialise the struct with its _init function"
        )));
    }
    // SAFETY: the caller's struct is `size` bytes long (its contract).
    let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, size) };
    if bytes[known.min(size)..].iter().any(|b| *b != 0) {
        return Err(Error::InvalidArgument(format!(
            "{name} has {size} bytes with non-zero fields this library (which knows {known}) does not understand"
        )));
    }
    // SAFETY: option structs hold only integers and raw pointers, for which
    // all-zero is a valid value (and means "default").
    let mut v: T = unsafe { std::mem::zeroed() };
    // SAFETY: copying min(size, known) bytes between valid, non-overlapping
    // buffers.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), &mut v as *mut T as *mut u8, size.min(known))
    };
    Ok(Some(v))
}

/// The user pointer of a C stall callback, handed back as is.
struct CallbackUser(*mut c_void);

// SAFETY: the pointer is only passed back to the caller's own callback, on
// the producer's thread; what it points to is the caller's business, as
// documented on `dmp_producer_options.on_stall`.
unsafe impl Send for CallbackUser {}
// SAFETY: as above; the library never dereferences it.
unsafe impl Sync for CallbackUser {}

impl CallbackUser {
    fn get(&self) -> *mut c_void {
        self.0
    }
}

fn producer_options(o: &dmp_producer_options) -> Result<ProducerOptions> {
    let or_default = |ns: u64, default: Duration| {
        if ns == 0 {
            default
        } else {
            timeout(ns)
        }
    };
    let mut p = ProducerOptions::new()
        .strategy(WaitStrategy::from_code(
            o.wait_strategy,
            timeout(o.sleep_ns),
        )?)
        .consumer_dead_timeout(or_default(
            o.consumer_dead_timeout_ns,
            Duration::from_secs(5),
        ));
    if o.progress_timeout_ns != 0 {
        p = p.progress_timeout(
            timeout(o.progress_timeout_ns),
            or_default(o.stall_grace_ns, Duration::from_secs(5)),
        );
    }
    if let Some(f) = o.on_stall {
        let user = CallbackUser(o.on_stall_user);
        p = p.on_stall(move |a| {
            let mut alert = dmp_stall_alert {
                name: [0; 64],
                index: a.index,
                pid: a.pid,
                sequence: a.sequence,
                stalled_ns: u64::try_from(a.stalled.as_nanos()).unwrap_or(u64::MAX),
            };
            for (d, b) in alert.name.iter_mut().zip(a.name.bytes().take(63)) {
                *d = b as c_char;
            }
            f(user.get(), &alert);
        });
    }
    if o.ready_consumers > 0 || o.ready_name_count > 0 {
        if o.ready_name_count > crate::layout::MAX_CONSUMERS as usize {
            return Err(Error::InvalidArgument(format!(
                "ready_name_count {} exceeds {}",
                o.ready_name_count,
                crate::layout::MAX_CONSUMERS
            )));
        }
        if o.ready_name_count > 0 && o.ready_names.is_null() {
            return Err(Error::NullPointer("ready_names"));
        }
        let mut names = Vec::with_capacity(o.ready_name_count);
        for i in 0..o.ready_name_count {
            // SAFETY: the caller passes `ready_name_count` pointers.
            names.push(c_str(unsafe { *o.ready_names.add(i) }, "ready_names[i]")?);
        }
        p = p.wait_for_consumers(
            o.ready_consumers,
            &names,
            or_default(o.ready_timeout_ns, Duration::from_secs(10)),
        );
    }
    Ok(p)
}

fn timeout(ns: u64) -> Duration {
    Duration::from_nanos(ns)
}

fn location(name: *const c_char, backing: u32) -> Result<Location> {
    let name = c_str(name, "name")?;
    match backing {
        DMP_BACKING_SHM => Ok(Location::shm(name)),
        DMP_BACKING_FILE => Ok(Location::file(name)),
        other => Err(Error::InvalidArgument(format!(
            "unknown backing {other} (0 shm, 1 file)"
        ))),
    }
}

fn ring_options(o: &dmp_ring_options) -> Result<RingOptions> {
    let mut r = RingOptions::new().timeout(timeout(o.timeout_ns));
    if o.capacity != 0 {
        r = r.capacity(o.capacity);
    }
    if o.slot_size != 0 {
        r = r.slot_size(o.slot_size.into());
    }
    if o.max_consumers != 0 {
        r = r.max_consumers(o.max_consumers);
    }
    if o.max_producers != 0 {
        r = r.max_producers(o.max_producers);
    }
    if o.unblock_timeout_ns != 0 {
        r = r.unblock_timeout(timeout(o.unblock_timeout_ns));
    }
    if o.reserved != 0 {
        return Err(Error::InvalidArgument(format!(
            "dmp_ring_options.reserved is {}; it must be 0",
            o.reserved
        )));
    }
    r = match o.producer_mode {
        DMP_PRODUCER_DEFAULT => r,
        DMP_PRODUCER_SINGLE => r.producer_mode(ProducerMode::Single),
        DMP_PRODUCER_MULTI => r.producer_mode(ProducerMode::Multi),
        other => {
            return Err(Error::InvalidArgument(format!(
                "unknown producer_mode {other}"
            )))
        }
    };
    if o.mode != 0 {
        r = r.mode(o.mode);
    }
    if o.type_id != 0 {
        r = r.type_id(o.type_id);
    }
    r = match o.wakeups {
        DMP_WAKEUPS_DEFAULT => r,
        DMP_WAKEUPS_ON => r.wakeups(true),
        DMP_WAKEUPS_OFF => r.wakeups(false),
        other => {
            return Err(Error::InvalidArgument(format!(
                "unknown wakeups value {other}"
            )))
        }
    };
    r = match o.layout {
        DMP_LAYOUT_DEFAULT => r,
        DMP_LAYOUT_STAMPED => r.packed(false),
        DMP_LAYOUT_PACKED => r.packed(true),
        other => {
            return Err(Error::InvalidArgument(format!(
                "unknown layout value {other}"
            )))
        }
    };
    Ok(r)
}

/// All fields "unset": defaults at creation, no checks at open.
fn default_ring_options() -> dmp_ring_options {
    dmp_ring_options {
        struct_size: std::mem::size_of::<dmp_ring_options>() as u32,
        backing: DMP_BACKING_SHM,
        capacity: 0,
        slot_size: 0,
        max_consumers: 0,
        producer_mode: DMP_PRODUCER_DEFAULT,
        mode: 0,
        type_id: 0,
        wakeups: DMP_WAKEUPS_DEFAULT,
        layout: DMP_LAYOUT_DEFAULT,
        timeout_ns: 0,
        max_producers: 0,
        reserved: 0,
        unblock_timeout_ns: 0,
    }
}

/// The library version, e.g. `"0.1.0"`. Static storage.
#[no_mangle]
pub extern "C" fn dmp_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// The library version as `major * 10000 + minor * 100 + patch`; compare
/// with `DMP_VERSION_NUMBER` from the header you compiled against.
#[no_mangle]
pub extern "C" fn dmp_version_number() -> u32 {
    let p = |s: &str| s.parse::<u32>().unwrap_or(0);
    p(env!("CARGO_PKG_VERSION_MAJOR")) * 10000
        + p(env!("CARGO_PKG_VERSION_MINOR")) * 100
        + p(env!("CARGO_PKG_VERSION_PATCH"))
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
        .with(|l| l.borrow().as_ref().map(|e| e.to_string()))
        .unwrap_or_default();
    let c = CString::new(text.replace('\0', " ")).unwrap_or_default();
    LAST_MESSAGE.with(|m| {
        *m.borrow_mut() = c;
        m.borrow().as_ptr()
    })
}

/// Initialises `options`: sets `struct_size` and leaves every layout field
/// 0, which means "default" when creating (4096 slots of 64 bytes, 16
/// consumers, mode 0600, stamped layout, wake-ups on) and "do not check"
/// when opening.
#[no_mangle]
pub extern "C" fn dmp_ring_options_init(options: *mut dmp_ring_options) {
    if let Ok(o) = options_out(options) {
        *o = default_ring_options();
    }
}

fn options_out<'a, T>(p: *mut T) -> Result<&'a mut T> {
    out_ptr(p, "options")
}

fn create_like(
    name: *const c_char,
    options: *const dmp_ring_options,
    out: *mut *mut dmp_ring,
    f: impl FnOnce(&Location, &RingOptions) -> Result<Ring>,
) -> Result<()> {
    out_ptr(out, "out")?;
    let o = read_options(options, "dmp_ring_options")?.unwrap_or_else(default_ring_options);
    let loc = location(name, o.backing)?;
    let ring = f(&loc, &ring_options(&o)?)?;
    new_handle(ring, out)
}

/// Creates a ring; fails with `DMP_STATUS_ALREADY_EXISTS` if the name is
/// taken. `options` may be NULL (all defaults). On success `*out` receives
/// a handle to close with `dmp_ring_close`.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_ring_create(
    name: *const c_char,
    options: *const dmp_ring_options,
    out: *mut *mut dmp_ring,
) -> i32 {
    boundary(|| create_like(name, options, out, Ring::create))
}

/// Opens an existing ring, waiting up to `options->timeout_ns` for it to
/// appear. Non-zero layout fields of `options` are checked against the
/// segment (`DMP_STATUS_LAYOUT_MISMATCH`, `DMP_STATUS_TYPE_MISMATCH`).
/// `options` may be NULL (no checks, no wait).
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_ring_open(
    name: *const c_char,
    options: *const dmp_ring_options,
    out: *mut *mut dmp_ring,
) -> i32 {
    boundary(|| {
        let o = read_options(options, "dmp_ring_options")?.unwrap_or_else(default_ring_options);
        out_ptr(out, "out")?;
        let loc = location(name, o.backing)?;
        let ring = Ring::open(&loc, &ring_options(&o)?)?;
        new_handle(ring, out)
    })
}

/// Opens the ring if it exists (checking the non-zero layout fields of
/// `options`), creates it otherwise. `*out_created` (may be NULL) is set to
/// whether this call created it.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_ring_open_or_create(
    name: *const c_char,
    options: *const dmp_ring_options,
    out: *mut *mut dmp_ring,
    out_created: *mut bool,
) -> i32 {
    boundary(|| {
        let mut created = false;
        create_like(name, options, out, |loc, o| {
            let (ring, c) = Ring::open_or_create(loc, o)?;
            created = c;
            Ok(ring)
        })?;
        // SAFETY: optional out-pointer; written only when non-null.
        if let Some(c) = unsafe { out_created.as_mut() } {
            *c = created;
        }
        Ok(())
    })
}

/// Closes a ring handle. Producers and consumers opened from it stay
/// usable. Closing NULL is a no-op; closing twice is
/// `DMP_STATUS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn dmp_ring_close(ring: *mut dmp_ring) -> i32 {
    boundary(|| close_handle(ring))
}

/// Removes a ring's name (`backing` is `DMP_BACKING_SHM` or
/// `DMP_BACKING_FILE`). Processes that have it open keep working.
#[no_mangle]
pub extern "C" fn dmp_ring_unlink(name: *const c_char, backing: u32) -> i32 {
    boundary(|| Ring::unlink(&location(name, backing)?))
}

/// Reports the ring's layout and cursor. Set `out->struct_size` first.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_ring_get_info(ring: *mut dmp_ring, out: *mut dmp_ring_info) -> i32 {
    boundary(|| {
        let r = live(ring)?;
        if out.is_null() {
            return Err(Error::NullPointer("out"));
        }
        let p = &r.layout().params;
        let info = dmp_ring_info {
            struct_size: 0,
            slot_size: p.slot_size as u32,
            capacity: p.capacity,
            max_consumers: p.max_consumers,
            producer_mode: match p.producer_mode {
                ProducerMode::Single => DMP_PRODUCER_SINGLE,
                ProducerMode::Multi => DMP_PRODUCER_MULTI,
            },
            type_id: p.type_id,
            wakeups: u32::from(p.flags & crate::layout::FLAG_WAKEUPS != 0),
            layout: if p.flags & crate::layout::FLAG_PACKED != 0 {
                DMP_LAYOUT_PACKED
            } else {
                DMP_LAYOUT_STAMPED
            },
            cursor: r.cursor(),
            max_producers: p.max_producers,
            reserved: 0,
            unblock_timeout_ns: p.unblock_timeout_ns,
            claimed: r.claimed(),
            abandoned: r.abandoned(),
        };
        write_versioned(out, info, "dmp_ring_info")
    })
}

/// Writes `value` into the caller's size-versioned struct `out` (non-null),
/// whose first `u32` is its `struct_size`: only the part both sides know,
/// with `struct_size` set to that length.
fn write_versioned<T: Copy>(out: *mut T, value: T, name: &'static str) -> Result<()> {
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
    // SAFETY: the caller's struct is `size` bytes; `len` bytes of `value`
    // are copied through raw pointers, then its size field is set.
    unsafe {
        std::ptr::copy_nonoverlapping(&value as *const T as *const u8, out as *mut u8, len);
        std::ptr::write(out as *mut u32, len as u32);
    }
    Ok(())
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
    boundary(|| {
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
    boundary(|| {
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
    boundary(|| {
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
    boundary_ptr(|| {
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
    boundary(|| live_mut(producer)?.publish(lo, hi))
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
    boundary(|| {
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

/// `len` bytes at `event` for a slot of `slot_size` (see [`event_len`]).
#[inline]
fn event_bytes<'a>(event: *const c_void, len: usize, slot_size: usize) -> Result<&'a [u8]> {
    if !event_len(event.is_null(), len, slot_size, "event")? {
        return Ok(&[]);
    }
    // SAFETY: non-null, and the caller passes `len` readable bytes (the
    // documented contract of the calls taking an event and its length).
    Ok(unsafe { std::slice::from_raw_parts(event as *const u8, len) })
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

/// An optional out-pointer: `None` when the caller passed NULL.
#[inline]
fn nullable<'a, T>(p: *mut T) -> Option<&'a mut T> {
    // SAFETY: a non-null out-pointer from C points to writable storage.
    unsafe { p.as_mut() }
}

/// Gives back the claimed, unpublished sequences from `from` on (a claim
/// the producer cannot fill). A single-producer ring reuses them for the
/// next claim; a multi-producer ring abandons them (consumers skip them).
/// A `from` outside the unpublished claim is a no-op.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_unclaim(producer: *mut dmp_producer, from: i64) -> i32 {
    boundary(|| {
        live_mut(producer)?.unclaim(from);
        Ok(())
    })
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
            reserved: 0,
            max_block_ns: 0,
        };
    }
}

/// Registers consumer `name` (1 to 63 of `[A-Za-z0-9._-]`). It sees every
/// event published after it joined. `options` may be NULL.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_consumer_open(
    ring: *mut dmp_ring,
    name: *const c_char,
    options: *const dmp_consumer_options,
    out: *mut *mut dmp_consumer,
) -> i32 {
    boundary(|| {
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
                    // SAFETY: the caller passes `dependency_count` pointers.
                    deps.push(c_str(unsafe { *o.dependencies.add(i) }, "dependencies[i]")?);
                }
                (strategy, deps)
            }
        };
        let deps: Vec<&str> = deps.iter().map(|d| &**d).collect();
        let mut co = ConsumerOptions::new()
            .dependencies(&deps)
            .strategy(strategy);
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
    boundary(|| {
        let c = live_mut(consumer)?;
        let out = out_ptr(out_available, "out_available")?;
        *out = c.wait_for(seq, timeout(timeout_ns))?;
        Ok(())
    })
}

/// The payload of available, uncommitted sequence `seq`, or NULL with the
/// last error set.
#[no_mangle]
pub extern "C" fn dmp_consumer_slot(consumer: *mut dmp_consumer, seq: i64) -> *const c_void {
    boundary_ptr(|| {
        let c = live_mut(consumer)?;
        Ok(c.slot(seq)?.as_ptr() as *mut c_void)
    })
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
    boundary(|| {
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
    boundary(|| {
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
    boundary(|| {
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
/// sequence after its previous holder died).
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_consumer_lost_on_join(
    consumer: *mut dmp_consumer,
    out_lost: *mut u64,
) -> i32 {
    boundary(|| {
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
    boundary(|| live_mut(consumer)?.commit(seq))
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
    boundary(|| {
        let c = live_mut(consumer)?;
        let out = buffer_bytes(buf, len, c.slot_size())?;
        let seq = c.consume_with(timeout(timeout_ns), |seq, slot| {
            out.copy_from_slice(&slot[..len]);
            seq
        })?;
        if let Some(o) = nullable(out_seq) {
            *o = seq;
        }
        Ok(())
    })
}

/// `len` writable bytes at `buf` for a slot of `slot_size` (see
/// [`event_len`]).
#[inline]
fn buffer_bytes<'a>(buf: *mut c_void, len: usize, slot_size: usize) -> Result<&'a mut [u8]> {
    if !event_len(buf.is_null(), len, slot_size, "buf")? {
        return Ok(&mut []);
    }
    // SAFETY: non-null, and the caller passes `len` writable bytes that no
    // other thread uses during the call (documented contract).
    Ok(unsafe { std::slice::from_raw_parts_mut(buf as *mut u8, len) })
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
    boundary(|| {
        let p = live_mut(producer)?;
        out_ptr(out, "out")?;
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
    boundary(|| {
        let c = live_mut(consumer)?;
        out_ptr(out, "out")?;
        let stride = c.stride();
        let span = span_of(c.raw_span(lo, hi)?, stride);
        write_versioned(out, span, "dmp_span")
    })
}

/// Takes a snapshot of the ring's counters and tables, read at one moment
/// without taking part in the ring (it never blocks or slows it); any
/// process that opened the ring may take one. Free with
/// `dmp_snapshot_free`.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_snapshot_take(ring: *mut dmp_ring, out: *mut *mut dmp_snapshot) -> i32 {
    boundary(|| {
        let r = live(ring)?;
        out_ptr(out, "out")?;
        new_handle(r.snapshot(), out)
    })
}

/// Frees a snapshot. NULL is a no-op.
#[no_mangle]
pub extern "C" fn dmp_snapshot_free(snapshot: *mut dmp_snapshot) -> i32 {
    boundary(|| close_handle(snapshot))
}

/// The ring-wide figures of a snapshot and how many consumers, producers
/// and counters it holds.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_snapshot_stats(snapshot: *mut dmp_snapshot, out: *mut dmp_ring_stats) -> i32 {
    boundary(|| {
        let s = live(snapshot)?;
        out_ptr(out, "out")?;
        let stats = dmp_ring_stats {
            struct_size: 0,
            reserved: 0,
            taken_at_ns: s.taken_at_ns,
            cursor: s.cursor,
            claimed: s.claimed,
            published: s.published,
            abandoned: s.abandoned,
            attaches: s.attaches,
            detaches: s.detaches,
            back_pressure_waits: s.back_pressure_waits,
            wakeups: s.wakeups,
            consumer_count: s.consumers.len() as u32,
            producer_count: s.producers.len() as u32,
            counter_count: s.counters.len() as u32,
            reserved2: 0,
            evictions: s.evictions,
            stall_alerts: s.stall_alerts,
        };
        write_versioned(out, stats, "dmp_ring_stats")
    })
}

fn nth<'a, T>(items: &'a [T], i: usize, what: &'static str) -> Result<&'a T> {
    items.get(i).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{what} {i} out of range: the snapshot has {}",
            items.len()
        ))
    })
}

/// Copies `text` into a NUL-terminated C buffer, truncating.
fn c_text<const N: usize>(text: &str) -> [c_char; N] {
    let mut buf = [0 as c_char; N];
    for (d, b) in buf.iter_mut().zip(text.bytes().take(N - 1)) {
        *d = b as c_char;
    }
    buf
}

/// Consumer `i` (0 to `consumer_count - 1`) of a snapshot.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_snapshot_consumer(
    snapshot: *mut dmp_snapshot,
    i: usize,
    out: *mut dmp_consumer_status,
) -> i32 {
    boundary(|| {
        let c = nth(&live(snapshot)?.consumers, i, "consumer")?;
        out_ptr(out, "out")?;
        let v = dmp_consumer_status {
            struct_size: 0,
            index: c.index,
            name: c_text(&c.name),
            state: c.state,
            alive: u32::from(c.alive),
            gating: u32::from(c.gating),
            pid: c.pid,
            sequence: c.sequence,
            lag: c.lag,
            dependencies: c.dependencies,
            generation: c.generation,
            events: c.events,
            batches: c.batches,
            waits: c.waits,
            timeouts: c.timeouts,
            last_activity_ns: c.last_activity_ns,
            optional: u32::from(c.optional),
            reserved: 0,
        };
        write_versioned(out, v, "dmp_consumer_status")
    })
}

/// Producer `i` (0 to `producer_count - 1`) of a snapshot.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_snapshot_producer(
    snapshot: *mut dmp_snapshot,
    i: usize,
    out: *mut dmp_producer_status,
) -> i32 {
    boundary(|| {
        let p = nth(&live(snapshot)?.producers, i, "producer")?;
        out_ptr(out, "out")?;
        let (pending_lo, pending_hi) = p.pending_claim.unwrap_or((0, -1));
        let v = dmp_producer_status {
            struct_size: 0,
            index: p.index,
            state: p.state,
            alive: u32::from(p.alive),
            pid: p.pid,
            reserved: 0,
            epoch: p.epoch,
            pending_lo,
            pending_hi,
            events: p.events,
            batches: p.batches,
            waits: p.waits,
            timeouts: p.timeouts,
            last_activity_ns: p.last_activity_ns,
        };
        write_versioned(out, v, "dmp_producer_status")
    })
}

/// Counter `i` (0 to `counter_count - 1`) of a snapshot, with its label.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_snapshot_counter(
    snapshot: *mut dmp_snapshot,
    i: usize,
    out: *mut dmp_counter,
) -> i32 {
    boundary(|| {
        let c = nth(&live(snapshot)?.counters, i, "counter")?;
        out_ptr(out, "out")?;
        let (owner_kind, owner_index) = match c.owner {
            Owner::Ring => (DMP_OWNER_RING, 0),
            Owner::Producer(i) => (DMP_OWNER_PRODUCER, i),
            Owner::Consumer(i) => (DMP_OWNER_CONSUMER, i),
        };
        let v = dmp_counter {
            struct_size: 0,
            id: c.id,
            owner_kind,
            owner_index,
            value: c.value,
            label: c_text(&c.label),
        };
        write_versioned(out, v, "dmp_counter")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_constants_match_the_rust_codes() {
        let c = [
            DMP_STATUS_OK,
            DMP_STATUS_WOULD_BLOCK,
            DMP_STATUS_TIMEOUT,
            DMP_STATUS_INVALID_ARGUMENT,
            DMP_STATUS_NULL_POINTER,
            DMP_STATUS_PANIC,
            DMP_STATUS_INVALID_HANDLE,
            DMP_STATUS_INVALID_NAME,
            DMP_STATUS_INVALID_CAPACITY,
            DMP_STATUS_INVALID_SLOT_SIZE,
            DMP_STATUS_IO,
            DMP_STATUS_NOT_FOUND,
            DMP_STATUS_ALREADY_EXISTS,
            DMP_STATUS_NO_SPACE,
            DMP_STATUS_PERMISSION_DENIED,
            DMP_STATUS_NOT_A_SEGMENT,
            DMP_STATUS_VERSION_MISMATCH,
            DMP_STATUS_TRUNCATED,
            DMP_STATUS_CHECKSUM_MISMATCH,
            DMP_STATUS_CORRUPT,
            DMP_STATUS_LAYOUT_MISMATCH,
            DMP_STATUS_TYPE_MISMATCH,
            DMP_STATUS_SEQUENCE_OUT_OF_RANGE,
            DMP_STATUS_BATCH_TOO_LARGE,
            DMP_STATUS_CONSUMER_TABLE_FULL,
            DMP_STATUS_NAME_IN_USE,
            DMP_STATUS_DEPENDENCY_NOT_FOUND,
            DMP_STATUS_PRODUCER_EXISTS,
            DMP_STATUS_UNSUPPORTED,
            DMP_STATUS_ABANDONED,
            DMP_STATUS_CLAIM_ABANDONED,
            DMP_STATUS_PRODUCER_TABLE_FULL,
            DMP_STATUS_CONSUMER_DEAD,
            DMP_STATUS_CONSUMER_STALLED,
            DMP_STATUS_EVICTED,
        ];
        for (i, s) in Status::ALL.iter().enumerate() {
            assert_eq!(c[i], *s as i32, "{s:?}");
        }
    }

    #[test]
    fn option_tail_rules() {
        #[repr(C)]
        #[derive(Clone, Copy)]
        struct Bigger {
            o: dmp_producer_options,
            extra: u64,
        }
        let mut o = std::mem::MaybeUninit::<dmp_producer_options>::uninit();
        dmp_producer_options_init(o.as_mut_ptr());
        // SAFETY: dmp_producer_options_init wrote every field.
        let mut o = unsafe { o.assume_init() };
        o.struct_size = std::mem::size_of::<Bigger>() as u32;
        o.wait_strategy = DMP_WAIT_BUSY_SPIN;
        let mut b = Bigger { o, extra: 0 };
        let p = &b as *const Bigger as *const dmp_producer_options;
        assert_eq!(read_options(p, "x").unwrap().unwrap().wait_strategy, 0);
        b.extra = 1;
        let p = &b as *const Bigger as *const dmp_producer_options;
        assert_eq!(
            read_options(p, "x").unwrap_err().status(),
            Status::InvalidArgument
        );
    }
}
