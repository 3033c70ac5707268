//! The option structs C fills in (`dmp_ring_options`,
//! `dmp_producer_options`, `dmp_consumer_options`), the values of their
//! fields, and their conversion to the Rust options.

use super::boundary::{c_str, MAX_STRUCT_SIZE};
use crate::error::{Error, Result};
use crate::region::Location;
use crate::ring::{ProducerOptions, RingOptions};
use crate::wait::WaitStrategy;
use crate::ProducerMode;
use std::ffi::{c_char, c_void};
use std::time::Duration;

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

/// `open_flags`: `dmp_ring_open_or_create` unlinks a stale ring (used
/// once, no live process holds any of its leases now; a never-used ring is
/// not stale) and creates it anew with these options.
pub const DMP_OPEN_RECLAIM_STALE: u32 = 1;
/// `open_flags`: `dmp_ring_open` opens the ring read-only, as an observer
/// (snapshots only; opening a producer or consumer fails with
/// `DMP_STATUS_PERMISSION_DENIED`).
pub const DMP_OPEN_READ_ONLY: u32 = 2;

/// `join_flags`: join at the oldest event the ring still retains for
/// certain instead of the cursor (see `dmp_consumer_open`).
pub const DMP_JOIN_OLDEST: u32 = 1;

/// `dmp_ring_remove` flag: remove the ring even while live processes take
/// part in it (they keep working on the removed segment until they exit).
pub const DMP_REMOVE_FORCE: u32 = 1;

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
    /// `DMP_OPEN_*` flags (0: none); unknown bits are
    /// `DMP_STATUS_INVALID_ARGUMENT`. This was a reserved, must-be-0 field:
    /// the struct keeps its size.
    pub open_flags: u32,
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
    /// `DMP_JOIN_*` flags (0: join at the cursor); unknown bits are
    /// `DMP_STATUS_INVALID_ARGUMENT`. This was a reserved, must-be-0 field:
    /// the struct keeps its size.
    pub join_flags: u32,
    /// Optional consumers: how long it may hold a waiting producer back
    /// (0 = not at all).
    pub max_block_ns: u64,
}

/// Reads an extensible option struct: the caller's `struct_size` bytes,
/// the known prefix copied, an unknown non-zero tail rejected. Null means
/// all defaults.
pub(super) fn read_options<T: Copy>(p: *const T, name: &'static str) -> Result<Option<T>> {
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

pub(super) fn producer_options(o: &dmp_producer_options) -> Result<ProducerOptions> {
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
            // SAFETY: the caller passes `ready_name_count` pointers, so
            // `ready_names + i` lies in that array.
            let at = unsafe { o.ready_names.add(i) };
            // SAFETY: and is readable (the caller's array).
            let name = unsafe { at.read() };
            names.push(c_str(name, "ready_names[i]")?);
        }
        p = p.wait_for_consumers(
            o.ready_consumers,
            &names,
            or_default(o.ready_timeout_ns, Duration::from_secs(10)),
        );
    }
    Ok(p)
}

pub(super) fn timeout(ns: u64) -> Duration {
    Duration::from_nanos(ns)
}

pub(super) fn location(name: *const c_char, backing: u32) -> Result<Location> {
    let name = c_str(name, "name")?;
    match backing {
        DMP_BACKING_SHM => Ok(Location::shm(name)),
        DMP_BACKING_FILE => Ok(Location::file(name)),
        other => Err(Error::InvalidArgument(format!(
            "unknown backing {other} (0 shm, 1 file)"
        ))),
    }
}

pub(super) fn ring_options(o: &dmp_ring_options) -> Result<RingOptions> {
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
    let known = DMP_OPEN_RECLAIM_STALE | DMP_OPEN_READ_ONLY;
    if o.open_flags & !known != 0 {
        return Err(Error::InvalidArgument(format!(
            "dmp_ring_options.open_flags is {:#x}; unknown bits {:#x} (known: DMP_OPEN_RECLAIM_STALE 0x1, DMP_OPEN_READ_ONLY 0x2)",
            o.open_flags,
            o.open_flags & !known
        )));
    }
    r = r
        .reclaim_stale(o.open_flags & DMP_OPEN_RECLAIM_STALE != 0)
        .read_only(o.open_flags & DMP_OPEN_READ_ONLY != 0);
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
pub(super) fn default_ring_options() -> dmp_ring_options {
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
        open_flags: 0,
        unblock_timeout_ns: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;
    use crate::ffi::dmp_producer_options_init;

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

    /// The size each options struct had when its init function first
    /// shipped (ABI 0.1). A caller linked against an init can only have
    /// allocated that much, so the init writes exactly that and never
    /// more: a struct that grows keeps these symbols writing their first
    /// size and adds a sized init for the new fields. This test fails the
    /// day a struct grows without that decision.
    /// A struct's name, its first size and its init.
    type Init = (&'static str, usize, fn(*mut u8));

    const FIRST_SIZES: [Init; 3] = [
        ("dmp_ring_options", 72, |p| {
            crate::ffi::dmp_ring_options_init(p.cast())
        }),
        ("dmp_producer_options", 88, |p| {
            dmp_producer_options_init(p.cast())
        }),
        ("dmp_consumer_options", 48, |p| {
            crate::ffi::dmp_consumer_options_init(p.cast())
        }),
    ];

    #[test]
    fn an_options_init_writes_the_first_size_of_its_struct_and_nothing_past_it() {
        for (name, first, init) in FIRST_SIZES {
            let mut buffer = [0xAAAA_AAAA_AAAA_AAAAu64; 32];
            init(buffer.as_mut_ptr().cast());
            // SAFETY: the buffer is 256 bytes of plain integers.
            let bytes: &[u8; 256] = unsafe { &*buffer.as_ptr().cast() };
            let size = u32::from_ne_bytes(bytes[..4].try_into().unwrap());
            assert_eq!(size as usize, first, "{name}: struct_size");
            assert!(
                bytes[first..].iter().all(|b| *b == 0xAA),
                "{name}: the init wrote past the {first} bytes a caller of ABI 0.1 allocated"
            );
        }
    }
}
