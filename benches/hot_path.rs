//! Micro-benchmarks of the in-process hot paths on a ring in /dev/shm:
//! claim + publish (one event, a batch of 64; single- and multi-producer
//! rings) and wait_for + commit.
//!
//! Producer and consumer live in the same thread. Only the side under test
//! is timed (`iter_custom`); the other side runs between timed chunks of
//! half a ring, so the ring never fills and never runs dry. Every slot is
//! hot in this core's cache, so these are the costs of the bookkeeping
//! (no cache-line transfers); `dmp bench` measures the cross-process cost.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use disruptor_mp::{Consumer, Location, Producer, ProducerMode, Ring, RingOptions, WaitStrategy};
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const CAPACITY: u64 = 4096;
const HALF: u64 = CAPACITY / 2;
const T: Duration = Duration::from_secs(1);

/// A producer and a consumer on a fresh single-producer ring of 8-byte
/// stamped slots whose name is already unlinked (the mapping lives as long
/// as the handles).
fn ring(wakeups: bool) -> (Producer, Consumer) {
    ring_with(RingOptions::new().wakeups(wakeups))
}

/// The same on a multi-producer ring (one producer attached).
fn multi_ring(wakeups: bool, packed: bool) -> (Producer, Consumer) {
    ring_with(
        RingOptions::new()
            .wakeups(wakeups)
            .packed(packed)
            .producer_mode(ProducerMode::Multi)
            .max_producers(2),
    )
}

/// A producer and a consumer on a fresh ring of `CAPACITY` 8-byte slots
/// with `options`, its name already unlinked.
fn ring_with(options: RingOptions) -> (Producer, Consumer) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "dmp-hot-path-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let loc = Location::shm(&name);
    let ring = Ring::create(&loc, &options.capacity(CAPACITY).slot_size(8))
        .expect("create ring in /dev/shm");
    let consumer = ring
        .consumer("bench", &[], WaitStrategy::BusySpin)
        .expect("register consumer");
    let producer = ring
        .producer(WaitStrategy::BusySpin)
        .expect("attach producer");
    Ring::unlink(&loc).expect("unlink ring");
    (producer, consumer)
}

/// Consumes everything published so far.
fn drain(c: &mut Consumer) {
    let next = c.next_sequence();
    if let Ok(last) = c.try_wait_for(next) {
        c.commit(last).expect("commit");
    }
}

/// Publishes `n` events (untimed helper for the consumer benchmarks).
fn fill(p: &mut Producer, n: u64, batch: u64) {
    let mut left = n;
    while left > 0 {
        let k = batch.min(left);
        let first = p.claim(k, T).expect("claim");
        p.publish(first, first + k as i64 - 1).expect("publish");
        left -= k;
    }
}

/// Times `iters` claim+publish of batches of `batch` events.
fn produce(p: &mut Producer, c: &mut Consumer, iters: u64, batch: u64) -> Duration {
    let per_chunk = (HALF / batch).max(1);
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = per_chunk.min(left);
        let start = Instant::now();
        for _ in 0..n {
            let first = p.claim(batch, T).expect("claim");
            for k in 0..batch as i64 {
                let seq = first + k;
                p.slot_mut(seq).expect("slot")[..8].copy_from_slice(&seq.to_le_bytes());
            }
            p.publish(first, first + batch as i64 - 1).expect("publish");
        }
        total += start.elapsed();
        drain(c);
        left -= n;
    }
    total
}

/// Times `iters` rounds of wait_for + read + commit, each covering `batch`
/// events.
fn consume(p: &mut Producer, c: &mut Consumer, iters: u64, batch: u64) -> Duration {
    let per_chunk = (HALF / batch).max(1);
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = per_chunk.min(left);
        fill(p, n * batch, batch);
        let start = Instant::now();
        for _ in 0..n {
            let next = c.next_sequence();
            let avail = c.wait_for(next, T).expect("wait_for");
            let last = (next + batch as i64 - 1).min(avail);
            let mut sum = 0u8;
            for seq in next..=last {
                sum ^= c.slot(seq).expect("slot")[0];
            }
            black_box(sum);
            c.commit(last).expect("commit");
        }
        total += start.elapsed();
        left -= n;
    }
    total
}

fn hot_path(crit: &mut Criterion) {
    let mut g = crit.benchmark_group("producer");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (wakeups, tag) in [(false, "no wake-ups"), (true, "wake-ups")] {
        let (mut p, mut c) = ring(wakeups);
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("claim+publish 1 ({tag})"), |b| {
            b.iter_custom(|iters| produce(&mut p, &mut c, iters, 1))
        });
        g.throughput(Throughput::Elements(64));
        g.bench_function(format!("claim+publish batch 64 ({tag})"), |b| {
            b.iter_custom(|iters| produce(&mut p, &mut c, iters, 64))
        });
    }
    g.finish();

    // The same calls on a multi-producer ring with one producer attached:
    // the cost of the claim counter, the claim record and the stamps
    // (packed rings: the availability array) without contention.
    let mut g = crit.benchmark_group("multi-producer");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (packed, tag) in [(false, "stamped"), (true, "packed")] {
        let (mut p, mut c) = multi_ring(false, packed);
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("claim+publish 1 ({tag}, no wake-ups)"), |b| {
            b.iter_custom(|iters| produce(&mut p, &mut c, iters, 1))
        });
        g.throughput(Throughput::Elements(64));
        g.bench_function(
            format!("claim+publish batch 64 ({tag}, no wake-ups)"),
            |b| b.iter_custom(|iters| produce(&mut p, &mut c, iters, 64)),
        );
    }
    g.finish();

    let mut g = crit.benchmark_group("consumer");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (wakeups, tag) in [(false, "no wake-ups"), (true, "wake-ups")] {
        let (mut p, mut c) = ring(wakeups);
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("wait_for+commit 1 ({tag})"), |b| {
            b.iter_custom(|iters| consume(&mut p, &mut c, iters, 1))
        });
        g.throughput(Throughput::Elements(64));
        g.bench_function(format!("wait_for+commit batch 64 ({tag})"), |b| {
            b.iter_custom(|iters| consume(&mut p, &mut c, iters, 64))
        });
    }
    g.finish();

    // Producer and consumer alternating one event at a time: the whole
    // in-process hand-off.
    let mut g = crit.benchmark_group("hand-off");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(1));
    let (mut p, mut c) = ring(false);
    g.bench_function("claim+publish then wait_for+commit 1 (no wake-ups)", |b| {
        b.iter(|| {
            let seq = p.claim(1, T).expect("claim");
            p.slot_mut(seq).expect("slot")[..8].copy_from_slice(&seq.to_le_bytes());
            p.publish(seq, seq).expect("publish");
            let avail = c.wait_for(seq, T).expect("wait_for");
            black_box(c.slot(avail).expect("slot")[0]);
            c.commit(avail).expect("commit");
        })
    });
    g.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
