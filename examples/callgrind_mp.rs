//! Profiling aid (not part of the build's tests): one thread moves events
//! through a ring in batches, producer then consumer, so that callgrind
//! counts the instructions per event of each mode repeatably.
//! `callgrind_mp {sp|mp} {packed|stamped} EVENTS BATCH`; a BATCH of 0
//! moves each event with the one-event calls (`publish_with`,
//! `consume_with`), a BATCH of 1 with `claim(1)`, `slot_mut`,
//! `publish(seq, seq)` (the bench's "Rust API, one per claim" producer).
use disruptor_mp::{Location, ProducerMode, Ring, RingOptions, WaitStrategy};
use std::time::Duration;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let mode = if a[1] == "mp" {
        ProducerMode::Multi
    } else {
        ProducerMode::Single
    };
    let packed = a[2] == "packed";
    let events: u64 = a[3].parse().unwrap();
    let batch: u64 = a[4].parse().unwrap();
    let size = if packed { 8 } else { 64 };
    let loc = Location::shm(format!("dmp-cg-{}", std::process::id()));
    let ring = Ring::create(
        &loc,
        &RingOptions::new()
            .capacity(4096)
            .slot_size(size)
            .packed(packed)
            .producer_mode(mode)
            .max_producers(if mode == ProducerMode::Multi { 2 } else { 1 }),
    )
    .unwrap();
    Ring::unlink(&loc).unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::BusySpin).unwrap();
    let mut p = ring.producer(WaitStrategy::BusySpin).unwrap();
    let t = Duration::from_secs(1);
    let mut sum = 0u64;
    let mut i = 0;
    if batch == 0 {
        for n in 0..events {
            p.publish_with(t, |s| s[..8].copy_from_slice(&n.to_le_bytes()))
                .unwrap();
            sum = c
                .consume_with(t, |_, s| sum.wrapping_add(s[0] as u64))
                .unwrap();
        }
        println!("{sum}");
        return;
    }
    while i < events {
        let first = p.claim(batch, t).unwrap();
        let last = first + batch as i64 - 1;
        if packed && batch > 1 {
            let stride = p.stride();
            let (x, y) = p.slots_mut(first, last).unwrap();
            for (k, s) in x
                .chunks_exact_mut(stride)
                .chain(y.chunks_exact_mut(stride))
                .enumerate()
            {
                s[..8].copy_from_slice(&(first as u64 + k as u64).to_le_bytes());
            }
        } else {
            for s in first..=last {
                p.slot_mut(s).unwrap()[..8].copy_from_slice(&(s as u64).to_le_bytes());
            }
        }
        p.publish(first, last).unwrap();
        let next = c.next_sequence();
        let avail = c.wait_for(next, t).unwrap();
        if packed {
            let stride = c.stride();
            let (x, y) = c.slots(next, avail).unwrap();
            for s in x.chunks_exact(stride).chain(y.chunks_exact(stride)) {
                sum = sum.wrapping_add(s[0] as u64);
            }
        } else {
            for s in next..=avail {
                sum = sum.wrapping_add(c.slot(s).unwrap()[0] as u64);
            }
        }
        c.commit(avail).unwrap();
        i += batch;
    }
    println!("{sum}");
}
