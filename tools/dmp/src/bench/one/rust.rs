//! The one-event loops through the library's safe API: `claim(1)`, write,
//! `publish` per event, and the one-event calls `publish_with` and
//! `consume_with`.

use super::produce;
use crate::bench::args::WorkerArgs;
use crate::bench::payload::{check, check_room, fill_event, write_event, Size};
use crate::bench::ring::open_throughput_ring;
use crate::bench::wake_fd::obtain_wake_fd;
use crate::bench::worker::{nanos, ready, report, waiting, Receipt};
use crate::bench::{BoxResult, CONSUMER_NAME, STALL};
use std::time::Instant;

/// `publish_with` per event.
pub(super) fn rust_one_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let ring = open_throughput_ring(a, size.get())?;
    let mut p = ring.producer(a.strategy.wait())?;
    check_room(p.slot_size(), size)?;
    ready()?;
    let start = Instant::now();
    for i in 0..a.events {
        produce(i, a.work);
        p.publish_with(STALL, |slot| fill_event(slot, size, i))
            .map_err(waiting("a free slot"))?;
    }
    report(&[
        ("events", a.events as f64),
        ("span_ns", nanos(start.elapsed())),
    ])
}

/// `consume_with` per event, checking each; every call counts as a batch.
pub(super) fn rust_one_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let ring = open_throughput_ring(a, size.get())?;
    let mut c = ring.consumer(CONSUMER_NAME, &[], a.strategy.wait())?;
    obtain_wake_fd(&mut c, a.wake_fd)?;
    ready()?;
    let base = c.next_sequence();
    let mut receipt = Receipt::new();
    for i in 0..a.events {
        let checked = c
            .consume_with(STALL, |seq, slot| {
                if seq - base != i as i64 {
                    return Err(format!("event {i} arrived at sequence {seq}").into());
                }
                check(slot, size, i)
            })
            .map_err(waiting("events"))?;
        checked?;
        receipt.batch(1);
    }
    receipt.report(a.events)
}

/// `claim(1)`, write the slot, `publish(seq, seq)`, per event.
pub(super) fn rust_api_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let ring = open_throughput_ring(a, size.get())?;
    let mut p = ring.producer(a.strategy.wait())?;
    ready()?;
    let start = Instant::now();
    for i in 0..a.events {
        produce(i, a.work);
        let seq = p.claim(1, STALL).map_err(waiting("a free slot"))?;
        write_event(p.slot_mut(seq)?, size, i)?;
        p.publish(seq, seq)?;
    }
    report(&[
        ("events", a.events as f64),
        ("span_ns", nanos(start.elapsed())),
    ])
}
