//! Multi-producer rings within one process (threads): the claim protocol,
//! abandonment of stalled claims and the errors a late publisher gets. The
//! same behaviour between processes is in `multi_producer.rs`.

use disruptor_mp::{Error, Location, ProducerMode, Ring, RingOptions, Status, WaitStrategy};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(20);

struct Name(Location);

impl Name {
    fn new(tag: &str) -> Name {
        Name(Location::shm(format!(
            "dmp-mpi-{tag}-{}-{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        )))
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        let _ = Ring::unlink(&self.0);
    }
}

fn options(capacity: u64, packed: bool, unblock: Duration) -> RingOptions {
    RingOptions::new()
        .capacity(capacity)
        .slot_size(16)
        .producer_mode(ProducerMode::Multi)
        .max_producers(4)
        .packed(packed)
        .unblock_timeout(unblock)
}

/// Event: (producer id, per-producer counter).
fn event(id: u64, n: u64) -> [u64; 2] {
    [id, n]
}

#[test]
fn two_producer_threads_deliver_every_event_once_in_order() {
    for packed in [false, true] {
        let name = Name::new(if packed { "p" } else { "s" });
        let ring = Ring::create(&name.0, &options(64, packed, Duration::from_secs(10))).unwrap();
        let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
        const N: u64 = 50_000;
        let producers: Vec<_> = (0..2u64)
            .map(|id| {
                let ring = ring.clone();
                std::thread::spawn(move || {
                    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
                    let mut n = 0;
                    while n < N {
                        let batch = (1 + (n % 7)).min(N - n);
                        let lo = p.claim(batch, T).unwrap();
                        for k in 0..batch as i64 {
                            p.write(lo + k, &event(id, n + k as u64)).unwrap();
                        }
                        p.publish(lo, lo + batch as i64 - 1).unwrap();
                        n += batch;
                    }
                })
            })
            .collect();
        let mut next = HashMap::new();
        let mut seen = 0;
        while seen < 2 * N {
            c.poll(T, |_, bytes| {
                let e: [u64; 2] = bytemuck::pod_read_unaligned(&bytes[..16]);
                let want = next.entry(e[0]).or_insert(0u64);
                assert_eq!(e[1], *want, "producer {} out of order", e[0]);
                *want += 1;
                seen += 1;
            })
            .unwrap();
        }
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(next.get(&0), Some(&N));
        assert_eq!(next.get(&1), Some(&N));
        assert_eq!(ring.abandoned(), 0);
        assert_eq!(ring.claimed(), 2 * N as i64 - 1);
        assert_eq!(ring.cursor(), 2 * N as i64 - 1);
    }
}

#[test]
fn a_stalled_claim_is_abandoned_and_its_late_publish_fails() {
    for packed in [false, true] {
        let name = Name::new(if packed { "ap" } else { "as" });
        let unblock = Duration::from_millis(50);
        let ring = Ring::create(&name.0, &options(16, packed, unblock)).unwrap();
        let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
        let mut slow = ring.producer(WaitStrategy::Yield).unwrap();
        let mut fast = ring.producer(WaitStrategy::Yield).unwrap();
        assert_ne!(slow.index(), fast.index());

        let s = slow.claim(3, T).unwrap();
        assert_eq!(s, 0);
        slow.write(s, &event(1, 0)).unwrap();
        let f = fast.claim(2, T).unwrap();
        assert_eq!(f, 3);
        fast.write(f, &event(2, 0)).unwrap();
        fast.write(f + 1, &event(2, 1)).unwrap();
        fast.publish(f, f + 1).unwrap();

        // The consumer sees nothing (0..=2 are pending) until the unblock
        // timeout passes; then 0..=2 are abandoned and 3..=4 delivered.
        assert!(matches!(c.try_wait_for(0), Err(Error::WouldBlock(_))));
        let start = Instant::now();
        let avail = c.wait_for(0, T).unwrap();
        assert!(start.elapsed() >= unblock / 2, "{:?}", start.elapsed());
        assert_eq!(avail, 4);
        for seq in 0..=2 {
            assert!(c.is_abandoned(seq));
            assert_eq!(
                c.slot(seq).unwrap_err().status(),
                Status::Abandoned,
                "seq {seq}"
            );
        }
        assert_eq!(c.read::<[u64; 2]>(3).unwrap(), event(2, 0));
        assert_eq!(c.read::<[u64; 2]>(4).unwrap(), event(2, 1));
        c.commit(4).unwrap();
        assert_eq!(ring.abandoned(), 3);

        // The slow producer wakes up: its publish fails, nothing changes,
        // and it can claim again.
        let e = slow.publish(s, s + 2).unwrap_err();
        assert_eq!(e.status(), Status::ClaimAbandoned, "{e}");
        assert!(e.to_string().contains("abandoned"), "{e}");
        assert_eq!(ring.abandoned(), 3);
        let s2 = slow.claim(1, T).unwrap();
        assert_eq!(s2, 5);
        slow.write(s2, &event(1, 0)).unwrap();
        slow.publish(s2, s2).unwrap();
        assert_eq!(c.wait_for(5, T).unwrap(), 5);
        assert_eq!(c.read::<[u64; 2]>(5).unwrap(), event(1, 0));
        if packed {
            // Batch slices refuse ranges holding abandoned sequences.
            assert_eq!(c.slots(5, 5).unwrap().0.len(), 16);
        }
    }
}

#[test]
fn unclaim_and_drop_abandon_at_once() {
    let name = Name::new("u");
    let ring = Ring::create(&name.0, &options(8, false, Duration::from_secs(30))).unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    let lo = p.claim(4, T).unwrap();
    p.write(lo, &event(0, 0)).unwrap();
    p.publish(lo, lo).unwrap();
    p.unclaim(lo + 1);
    // Only one claim at a time, and a publish past the unclaim is refused.
    assert_eq!(
        p.publish(lo + 1, lo + 1).unwrap_err().status(),
        Status::SequenceOutOfRange
    );
    assert_eq!(c.wait_for(0, Duration::ZERO).unwrap(), 3);
    assert!(!c.is_abandoned(0) && c.is_abandoned(1) && c.is_abandoned(3));
    c.commit(3).unwrap();
    {
        let mut q = ring.producer(WaitStrategy::Yield).unwrap();
        let lo = q.claim(2, T).unwrap();
        assert_eq!(
            q.claim(1, T).unwrap_err().status(),
            Status::SequenceOutOfRange
        );
        assert_eq!(lo, 4);
    }
    // Dropped with a claim outstanding: abandoned, no timeout needed.
    assert_eq!(c.wait_for(4, Duration::ZERO).unwrap(), 5);
    assert_eq!(ring.abandoned(), 5);
}

#[test]
fn the_producer_table_limits_live_producers() {
    let name = Name::new("t");
    let ring = Ring::create(
        &name.0,
        &options(8, false, Duration::from_secs(1)).max_producers(2),
    )
    .unwrap();
    let a = ring.producer(WaitStrategy::Yield).unwrap();
    let _b = ring.producer(WaitStrategy::Yield).unwrap();
    let e = ring.producer(WaitStrategy::Yield).unwrap_err();
    assert_eq!(e.status(), Status::ProducerTableFull, "{e}");
    drop(a);
    ring.producer(WaitStrategy::Yield).unwrap();
}

#[test]
fn blocking_consumers_wake_for_multi_producer_publishes() {
    let name = Name::new("b");
    let ring = Ring::create(&name.0, &options(64, false, Duration::from_secs(10))).unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::Blocking).unwrap();
    let r2 = ring.clone();
    let t = std::thread::spawn(move || {
        let mut p = r2.producer(WaitStrategy::Blocking).unwrap();
        for i in 0..200u64 {
            std::thread::sleep(Duration::from_micros(200));
            p.send(&event(0, i), T).unwrap();
        }
    });
    let mut got = 0u64;
    while got < 200 {
        c.poll(T, |_, b| {
            let e: [u64; 2] = bytemuck::pod_read_unaligned(&b[..16]);
            assert_eq!(e[1], got);
            got += 1;
        })
        .unwrap();
    }
    t.join().unwrap();
}

#[test]
fn batch_slices_refuse_abandoned_sequences_for_first_stage_and_dependent_consumers() {
    let name = Name::new("s");
    let ring = Ring::create(&name.0, &options(16, true, Duration::from_secs(30))).unwrap();
    let mut a = ring.consumer("a", &[], WaitStrategy::Yield).unwrap();
    let mut b = ring.consumer("b", &["a"], WaitStrategy::Yield).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    // 0..=1 published, 2..=3 abandoned, 4..=5 published.
    let lo = p.claim(4, T).unwrap();
    p.publish(lo, lo + 1).unwrap();
    p.unclaim(lo + 2);
    let lo = p.claim(2, T).unwrap();
    p.publish(lo, lo + 1).unwrap();
    for c in [&mut a, &mut b] {
        let avail = c.wait_for(0, T).unwrap();
        assert_eq!(avail, 5);
        // The first batch is clean; a slice across the abandoned ones is
        // refused; past them, clean again.
        assert!(c.slots(0, 1).is_ok());
        let e = c.slots(0, 5).unwrap_err();
        assert_eq!(e.status(), Status::Abandoned, "{e}");
        assert!(c.slots(4, 5).is_ok());
        c.commit(5).unwrap();
    }
}
