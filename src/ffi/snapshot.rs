//! `dmp_snapshot`: a ring's counters and tables read at one moment, and
//! the structs that report them.

use super::boundary::{boundary, boundary_on, out_ptr, required, write_versioned};
use super::handle::{close_handle, live, new_handle};
use super::ring::dmp_ring;
use crate::counters::Owner;
use crate::error::{Error, Result};
use std::ffi::c_char;

/// Counter owner: the ring.
pub const DMP_OWNER_RING: u32 = 0;
/// Counter owner: a producer-table entry.
pub const DMP_OWNER_PRODUCER: u32 = 1;
/// Counter owner: a consumer-table entry.
pub const DMP_OWNER_CONSUMER: u32 = 2;

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
    /// Dead consumers retired (`dmp_consumer_retire`).
    pub retired: u64,
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

/// Takes a snapshot of the ring's counters and tables, read at one moment
/// without taking part in the ring (it never blocks or slows it); any
/// process that opened the ring may take one. Free with
/// `dmp_snapshot_free`.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_snapshot_take(ring: *mut dmp_ring, out: *mut *mut dmp_snapshot) -> i32 {
    boundary_on(ring, || {
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
        required(out, "out")?;
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
            retired: s.retired,
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
        required(out, "out")?;
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
        required(out, "out")?;
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
        required(out, "out")?;
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
