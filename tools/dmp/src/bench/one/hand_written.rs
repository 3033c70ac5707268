//! The one-event rows' baseline: a hand-written SPSC ring in the style of
//! rigtorp's SPSCQueue, in the floor ring's shared-memory layout, that
//! publishes and acknowledges every event.

use super::produce;
use crate::bench::args::WorkerArgs;
use crate::bench::floor::{floor_ring_len, ShmFile, FLOOR_HEAD, FLOOR_TAIL};
use crate::bench::payload::{check, write_event, Size};
use crate::bench::worker::{nanos, ready, report, spin_until, Receipt};
use crate::bench::BoxResult;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Publishes every event with a release store of the write index; the read
/// index is reloaded (acquire) only when the ring looks full.
pub(crate) fn one_floor_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let shm = ShmFile::open(Path::new(&a.name), floor_ring_len(a.capacity, size.get())?)?;
    let (head, tail) = (shm.atomic(FLOOR_HEAD)?, shm.atomic(FLOOR_TAIL)?);
    let mut records = shm.records(a.capacity, size)?;
    ready()?;
    let start = Instant::now();
    let mut cached_tail = 0u64;
    for i in 0..a.events {
        produce(i, a.work);
        if i - cached_tail >= a.capacity {
            cached_tail = spin_until("a free record", || {
                let t = tail.load(Ordering::Acquire);
                (i - t < a.capacity).then_some(t)
            })?;
        }
        write_event(records.record_mut(i), size, i)?;
        head.store(i + 1, Ordering::Release);
    }
    report(&[
        ("events", a.events as f64),
        ("span_ns", nanos(start.elapsed())),
    ])
}

/// Reloads the write index (acquire) only when the ring looks empty, and
/// acknowledges every event with a release store of the read index.
pub(crate) fn one_floor_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let shm = ShmFile::open(Path::new(&a.name), floor_ring_len(a.capacity, size.get())?)?;
    let (head, tail) = (shm.atomic(FLOOR_HEAD)?, shm.atomic(FLOOR_TAIL)?);
    let records = shm.records(a.capacity, size)?;
    ready()?;
    let mut cached_head = 0u64;
    let mut receipt = Receipt::new();
    for i in 0..a.events {
        if i == cached_head {
            cached_head = spin_until("an event", || {
                let h = head.load(Ordering::Acquire);
                (h > i).then_some(h)
            })?;
            if cached_head > a.events {
                return Err(format!("received more than the {} events published", a.events).into());
            }
            // A "batch": the events one reload of the write index showed.
            receipt.batch(cached_head - i);
        }
        check(records.record(i), size, i)?;
        tail.store(i + 1, Ordering::Release);
    }
    receipt.report(a.events)
}
