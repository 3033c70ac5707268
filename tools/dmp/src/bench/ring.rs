//! The worker loops over a dmp ring, through the library's safe API:
//! throughput producer and consumer (single- and multi-producer rings),
//! the check of a received batch, and the two sides of the ring ping-pong
//! (waiting with the strategy or on the wake-up fd).

use super::args::WorkerArgs;
use super::payload::{check, share, write_event, PerProducer, Size, ID_SHIFT};
use super::pingpong::{histogram, report_latency};
use super::wake_fd::{obtain_wake_fd, wait_next};
use super::worker::{await_go, nanos, ready, report, waiting, Receipt};
use super::{BoxResult, CONSUMER_NAME, STALL};
use disruptor_mp::{Consumer, ConsumerOptions, Location, ProducerMode, Ring, RingOptions};
use std::time::{Duration, Instant};

/// The worker's consumer: required, or optional with `--optional` (a
/// policy so long that the run never evicts it; what is measured is the
/// cost of the checks); with `--wake-fd bound` or `poll`, its wake-up fd
/// obtained (the socket bound) before the worker says ready.
pub(super) fn bench_consumer(ring: &Ring, a: &WorkerArgs) -> BoxResult<Consumer> {
    let mut o = ConsumerOptions::new().strategy(a.strategy.wait());
    if a.optional {
        o = o.optional(Duration::from_secs(3600));
    }
    let mut c = ring.consumer_with(CONSUMER_NAME, &o)?;
    obtain_wake_fd(&mut c, a.wake_fd)?;
    Ok(c)
}

fn open_ring(name: &str, size: usize) -> BoxResult<Ring> {
    Ok(Ring::open(
        &Location::shm(name),
        &RingOptions::new().slot_size(size as u64),
    )?)
}

/// The throughput ring of a worker: single-producer unless `--producers`
/// says otherwise (checked against the segment).
pub(super) fn open_throughput_ring(a: &WorkerArgs, size: usize) -> BoxResult<Ring> {
    let mode = if a.producers == 0 {
        ProducerMode::Single
    } else {
        ProducerMode::Multi
    };
    Ok(Ring::open(
        &Location::shm(&a.name),
        &RingOptions::new()
            .slot_size(size as u64)
            .producer_mode(mode),
    )?)
}

pub(super) fn ring_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let ring = open_throughput_ring(a, size.get())?;
    let mut p = ring.producer(a.strategy.wait())?;
    let packed = ring.is_packed();
    // Single-producer rings: event numbers 0, 1, ...; multi-producer ones:
    // the producer id on top of its own counter.
    let (tag, events) = if a.producers == 0 {
        (0, a.events)
    } else if a.producer_id < a.producers {
        (
            u64::from(a.producer_id) << ID_SHIFT,
            share(a.events, a.producers, a.producer_id),
        )
    } else {
        return Err(format!(
            "--producer-id {} must be below --producers {}",
            a.producer_id, a.producers
        )
        .into());
    };
    if events >= 1 << ID_SHIFT {
        return Err(format!("{events} events do not fit the event numbering").into());
    }
    ready()?;
    await_go(a)?;
    let batch = a.batch.clamp(1, ring.capacity());
    let start = Instant::now();
    let mut i = 0u64;
    while i < events {
        let n = batch.min(events - i);
        let first = p.claim(n, STALL).map_err(waiting("free slots"))?;
        let last = first + n as i64 - 1;
        let number = tag | i;
        if packed {
            // One range check per batch: the slots as contiguous slices.
            let stride = p.stride();
            let (a, b) = p.slots_mut(first, last)?;
            let events = a.chunks_exact_mut(stride).chain(b.chunks_exact_mut(stride));
            for (k, slot) in events.enumerate() {
                write_event(slot, size, number + k as u64)?;
            }
        } else {
            for k in 0..n {
                write_event(p.slot_mut(first + k as i64)?, size, number + k)?;
            }
        }
        p.publish(first, last)?;
        i += n;
    }
    report(&[
        ("events", events as f64),
        ("span_ns", nanos(start.elapsed())),
    ])
}

pub(super) fn ring_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    // One producer (its id, 0, is the top byte of every number) sends
    // event i at sequence base + i: the single-producer check is complete
    // for it, so MP-1 and SP rows verify at the same cost.
    if a.producers > 1 {
        return ring_mp_consumer(a, size);
    }
    let ring = open_throughput_ring(a, size.get())?;
    let mut c = bench_consumer(&ring, a)?;
    let packed = ring.is_packed();
    ready()?;
    let base = c.next_sequence();
    let last = base + a.events as i64 - 1;
    let mut next = base;
    let mut receipt = Receipt::new();
    while next <= last {
        let available = c.wait_for(next, STALL).map_err(waiting("events"))?;
        receipt.batch((available - next + 1) as u64);
        check_batch(&mut c, size, packed, (base, last), next, available)?;
        next = available + 1;
    }
    receipt.report(a.events)
}

/// Checks the events `next..=available` of a single-producer ring (event
/// `i` at sequence `base + i`, none past `last`) and commits them: the
/// throughput consumers' verification, whichever way they waited.
#[inline(always)]
pub(super) fn check_batch<S: Size>(
    c: &mut Consumer,
    size: S,
    packed: bool,
    (base, last): (i64, i64),
    next: i64,
    available: i64,
) -> BoxResult<()> {
    if available > last {
        return Err(format!(
            "received more than the {} events published (sequence {available})",
            last - base + 1
        )
        .into());
    }
    if packed {
        // One range check per batch: the slots as contiguous slices.
        let stride = c.stride();
        let (a, b) = c.slots(next, available)?;
        let events = a.chunks_exact(stride).chain(b.chunks_exact(stride));
        for (k, slot) in events.enumerate() {
            check(slot, size, (next - base) as u64 + k as u64)?;
        }
    } else {
        for seq in next..=available {
            check(c.slot(seq)?, size, (seq - base) as u64)?;
        }
    }
    c.commit(available)?;
    Ok(())
}

/// The consumer of a multi-producer ring: as `ring_consumer`, checking
/// every event against its producer's counter instead of its sequence.
fn ring_mp_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let ring = open_throughput_ring(a, size.get())?;
    let mut c = bench_consumer(&ring, a)?;
    let packed = ring.is_packed();
    let mut verify = PerProducer::new(a.producers);
    ready()?;
    let base = c.next_sequence();
    let last = base + a.events as i64 - 1;
    let mut next = base;
    let mut receipt = Receipt::new();
    while next <= last {
        let available = c.wait_for(next, STALL).map_err(waiting("events"))?;
        if available > last {
            return Err(format!(
                "received more than the {} events published (sequence {available})",
                a.events
            )
            .into());
        }
        receipt.batch((available - next + 1) as u64);
        if packed {
            let stride = c.stride();
            let (a, b) = c.slots(next, available)?;
            let events = a.chunks_exact(stride).chain(b.chunks_exact(stride));
            verify.check(events.map(Ok), size)?;
        } else {
            let events = (next..=available).map(|seq| Ok(c.slot(seq)?));
            verify.check(events, size)?;
        }
        c.commit(available)?;
        next = available + 1;
    }
    verify.finish(a.events)?;
    receipt.report(a.events)
}

pub(super) fn ring_ping(a: &WorkerArgs) -> BoxResult<()> {
    let back = a
        .back
        .as_deref()
        .ok_or("--back (the return ring) is missing")?;
    let to_echo = open_ring(&a.name, 8)?;
    let from_echo = open_ring(back, 8)?;
    let mut c = bench_consumer(&from_echo, a)?;
    let mut p = to_echo.producer(a.strategy.wait())?;
    ready()?;
    let gap = Duration::from_micros(a.gap_us);
    let mut hist = histogram()?;
    for i in 0..a.warmup + a.events {
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
        let t = Instant::now();
        p.send(&i, STALL).map_err(waiting("a free slot"))?;
        let seq = c.next_sequence();
        wait_next(&mut c, seq, a.wake_fd, "the echo")?;
        let got: u64 = c.read(seq)?;
        c.commit(seq)?;
        let rtt = t.elapsed();
        if got != i {
            return Err(format!("round trip {i}: echo carried {got}").into());
        }
        if i >= a.warmup {
            hist.saturating_record(rtt.as_nanos() as u64);
        }
    }
    report_latency(&hist)
}

pub(super) fn ring_echo(a: &WorkerArgs) -> BoxResult<()> {
    let back = a
        .back
        .as_deref()
        .ok_or("--back (the return ring) is missing")?;
    let from_ping = open_ring(&a.name, 8)?;
    let to_ping = open_ring(back, 8)?;
    let mut c = bench_consumer(&from_ping, a)?;
    let mut p = to_ping.producer(a.strategy.wait())?;
    ready()?;
    for i in 0..a.warmup + a.events {
        let seq = c.next_sequence();
        wait_next(&mut c, seq, a.wake_fd, "a ping")?;
        let got: u64 = c.read(seq)?;
        p.send(&got, STALL).map_err(waiting("a free slot"))?;
        c.commit(seq)?;
        if got != i {
            return Err(format!("round trip {i}: ping carried {got}").into());
        }
    }
    report(&[("events", (a.warmup + a.events) as f64)])
}
