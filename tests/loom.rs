//! Model checks of the ring protocols with loom, on the real code.
//!
//! Built normally, this file is one test, [`loom_models`], which runs the
//! models: it builds this same file with `--cfg loom` (in `target/loom`, so
//! the normal build is not disturbed) and runs it. Built with `--cfg loom`,
//! the crate's atomics, fences and futex calls are loom's (see `src/sync.rs`)
//! and this file holds the models themselves. Each model drives the public
//! `Ring`/`Producer`/`Consumer` API (or, for the futex handshake, the
//! `SharedSequence` functions the wait strategies call) on a real segment in
//! /dev/shm; loom explores every interleaving of its threads up to the
//! preemption bound, and each model prints how many it explored.
//!
//! Run the models alone (see docs/ARCHITECTURE.md, "Model checking"):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test --release --test loom -- --nocapture [model name]
//! ```

/// Runs the loom models (a nested `cargo test` with `--cfg loom`).
#[cfg(not(loom))]
#[test]
fn loom_models() {
    use std::path::Path;
    use std::process::Command;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = std::time::Instant::now();
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "test",
            "-p",
            "disruptor-mp",
            "--release",
            "--test",
            "loom",
            "--",
            "--nocapture",
        ])
        .env("RUSTFLAGS", "--cfg loom")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TARGET_DIR", root.join("target").join("loom"))
        .status()
        .expect("run cargo test with --cfg loom");
    eprintln!(
        "loom models: build and run took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(status.success(), "the loom models failed: {status}");
}

#[cfg(loom)]
mod models {
    use disruptor_mp::internals::recovery;
    use disruptor_mp::internals::Stamp;
    use disruptor_mp::internals::{doorbell_install, doorbell_wait, membarrier, Membarrier};
    use disruptor_mp::internals::{Recheck, SharedSequence, Wakeups};
    use disruptor_mp::{Armed, Error, Location, ProducerMode, Ring, RingOptions, WaitStrategy};
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::thread;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// No preemption bound: every interleaving.
    const NO_BOUND: usize = usize::MAX;

    /// Explores `f` with loom, with at most `preemptions` preemptions per
    /// interleaving unless `LOOM_MAX_PREEMPTIONS` says otherwise, and prints
    /// how many interleavings it took (each call of `f` is one execution,
    /// i.e. one interleaving).
    fn explore(name: &str, preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
        let runs = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let mut builder = loom::model::Builder::new();
        if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
            // usize::MAX: no bound (every interleaving).
            builder.preemption_bound = (preemptions != usize::MAX).then_some(preemptions);
        }
        // Setting a ring up takes a few hundred atomic operations, each a
        // branch point for loom (its default limit is 1,000).
        builder.max_branches = 100_000;
        let bound = builder.preemption_bound;
        let started = Instant::now();
        builder.check(move || {
            counted.fetch_add(1, Ordering::Relaxed);
            f();
        });
        println!(
            "loom model {name}: {} interleavings explored in {:.1} s (preemption bound {})",
            runs.load(Ordering::Relaxed),
            started.elapsed().as_secs_f64(),
            bound.map_or("none".into(), |b| b.to_string()),
        );
    }

    /// A fresh ring in /dev/shm; the name is unlinked once `attach` has
    /// attached the participants (the mapping lives as long as they do).
    fn ring<T>(options: RingOptions, attach: impl FnOnce(&Ring) -> T) -> (Ring, T) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let loc = Location::shm(format!(
            "dmp-loom-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let ring = Ring::create(&loc, &options).expect("create ring");
        let parts = attach(&ring);
        Ring::unlink(&loc).expect("unlink ring");
        prime(&ring);
        (ring, parts)
    }

    /// Creates the loom shadows of the ring's shared words here, before the
    /// model's threads start. loom treats creating an atomic as a plain
    /// write, which every later access must happen after; a shadow that a
    /// thread created on first touch would look unsynchronised to the
    /// others (src/sync.rs). Attaching already made those of the entries it
    /// wrote; this touches the rest (stamps, counters, tables).
    fn prime(ring: &Ring) {
        let (_, t, slots) = ring.raw_parts();
        for s in 0..slots.capacity() as i64 {
            slots.raw_stamp(s);
        }
        t.abandoned().load(Ordering::Relaxed);
        t.claim().load(Ordering::Relaxed);
        t.gating_mask().load(Ordering::Relaxed);
        for s in [t.cursor(), t.notice()] {
            let _ = (s.get(), s.armed().load(Ordering::Relaxed));
            s.wake_token().load(Ordering::Relaxed);
        }
        for i in 0..t.max_consumers() {
            t.consumer_record(i);
            let s = t.consumer_sequence(i);
            s.waiters().load(Ordering::Relaxed);
            let _ = (
                s.armed().load(Ordering::Relaxed),
                s.wake_token().load(Ordering::Relaxed),
            );
        }
        for i in 0..t.max_producers() {
            t.claim_record(i).read();
        }
    }

    /// Every wait of the models: the blocking strategy (the futex emulation
    /// of src/sync.rs sleeps until woken, whatever the timeout, so a lost
    /// wake-up is a deadlock that loom reports).
    const WAIT: Duration = Duration::from_secs(3600);

    /// One loom cell per slot: touching it when a slot's payload is written
    /// or read makes loom check that the ring orders those accesses (a
    /// write concurrent with a read of the same slot is reported).
    fn cells(n: u64) -> Arc<Vec<UnsafeCell<()>>> {
        Arc::new((0..n).map(|_| UnsafeCell::new(())).collect())
    }

    /// A ring of `capacity` 8-byte stamped slots with wake-ups, without the
    /// per-batch counters (not part of any protocol; fewer operations for
    /// loom to interleave).
    fn small(capacity: u64) -> RingOptions {
        RingOptions::new()
            .capacity(capacity)
            .slot_size(8)
            .hot_counters(false)
    }

    fn event(seq: i64, producer: u64) -> u64 {
        seq as u64 * 10 + producer
    }

    // ---------------------------------------------------------------
    // (1) Single producer: claim, publish, gating.
    // ---------------------------------------------------------------

    /// One producer publishes `events` one by one into a ring of
    /// `capacity`; `consumers` first-stage consumers read them in batches.
    /// Checks: every consumer reads each sequence exactly once, in order,
    /// with the payload written for it (never a slot before it is
    /// published, never one the producer has started to overwrite), and the
    /// payload accesses are ordered (loom cells).
    fn single_producer(capacity: u64, events: i64, consumers: usize, batch: u64) {
        let options = small(capacity);
        let (ring, (mut producer, cs)) = ring(options, |r| {
            let cs: Vec<_> = (0..consumers)
                .map(|i| {
                    r.consumer(&format!("c{i}"), &[], WaitStrategy::Blocking)
                        .unwrap()
                })
                .collect();
            (r.producer(WaitStrategy::Blocking).unwrap(), cs)
        });
        let slots = cells(capacity);
        let mask = capacity as i64 - 1;
        let readers: Vec<_> = cs
            .into_iter()
            .map(|mut c| {
                let slots = slots.clone();
                thread::spawn(move || {
                    let mut next = 0;
                    while next < events {
                        let available = c.wait_for(next, WAIT).unwrap();
                        assert!(available < events, "{available} was never published");
                        for s in next..=available {
                            slots[(s & mask) as usize].with(|_| ());
                            assert_eq!(c.read::<u64>(s).unwrap(), event(s, 1), "seq {s}");
                        }
                        c.commit(available).unwrap();
                        next = available + 1;
                    }
                    c
                })
            })
            .collect();
        let mut next = 0;
        while next < events {
            let n = batch.min((events - next) as u64);
            let first = producer.claim(n, WAIT).unwrap();
            assert_eq!(first, next);
            let last = first + n as i64 - 1;
            for s in first..=last {
                slots[(s & mask) as usize].with_mut(|_| ());
                producer.write(s, &event(s, 1)).unwrap();
            }
            producer.publish(first, last).unwrap();
            next = last + 1;
        }
        for r in readers {
            assert_eq!(r.join().unwrap().committed(), events - 1);
        }
        drop((producer, ring));
    }

    #[test]
    fn sp_capacity_2_one_consumer() {
        explore("sp_capacity_2_one_consumer", 2, || {
            single_producer(2, 4, 1, 1)
        });
    }

    #[test]
    fn sp_capacity_2_two_consumers() {
        explore("sp_capacity_2_two_consumers", 1, || {
            single_producer(2, 3, 2, 1)
        });
    }

    /// Batches across wraps. It runs with the fenced wake-up handshake:
    /// the light one (the default, which the models above and the futex
    /// models check) adds a lock per publish and commit to the model and
    /// took this one from 7 thousand interleavings to 555 thousand (five
    /// minutes), for a protocol the batch size does not touch.
    #[test]
    fn sp_capacity_4_batches() {
        explore("sp_capacity_4_batches", 2, || {
            let _mode = MembarrierMode::set(Membarrier::Refused);
            single_producer(4, 6, 1, 2)
        });
    }

    // ---------------------------------------------------------------
    // (2) Multi-producer: claim counter, stamps, abandonment.
    // ---------------------------------------------------------------

    fn multi(capacity: u64) -> RingOptions {
        small(capacity)
            .producer_mode(ProducerMode::Multi)
            .max_producers(2)
            .unblock_timeout(Duration::from_secs(3600))
    }

    /// Two producers publish `events[k]` events each (one per claim) into
    /// a ring of `capacity`; one consumer reads them. Checks: the consumer
    /// is handed only contiguous runs of published sequences (never a gap,
    /// never a slot still being written: every stamp in the run says
    /// published and the payload is the one written for that sequence),
    /// and sees every event exactly once.
    fn multi_producer(capacity: u64, events: [i64; 2], packed: bool) {
        let total = events[0] + events[1];
        let (ring, (mut c, ps)) = ring(multi(capacity).packed(packed), |r| {
            let c = r.consumer("c", &[], WaitStrategy::Blocking).unwrap();
            let ps = [
                r.producer(WaitStrategy::Blocking).unwrap(),
                r.producer(WaitStrategy::Blocking).unwrap(),
            ];
            (c, ps)
        });
        let slots = ring.raw_parts().2;
        let cells = cells(capacity);
        let mask = capacity as i64 - 1;
        let producers: Vec<_> = ps
            .into_iter()
            .enumerate()
            .map(|(k, mut p)| {
                let cells = cells.clone();
                thread::spawn(move || {
                    for _ in 0..events[k] {
                        let seq = p.claim(1, WAIT).unwrap();
                        cells[(seq & mask) as usize].with_mut(|_| ());
                        p.write(seq, &event(seq, k as u64 + 1)).unwrap();
                        p.publish(seq, seq).unwrap();
                    }
                    p
                })
            })
            .collect();
        let mut seen = [0i64; 2];
        let mut next = 0;
        while next < total {
            let available = c.wait_for(next, WAIT).unwrap();
            assert!(available < total, "{available} was never claimed");
            for s in next..=available {
                assert_eq!(slots.state(s), Stamp::Published, "seq {s} in the run");
                cells[(s & mask) as usize].with(|_| ());
                let v = c.read::<u64>(s).unwrap();
                assert_eq!(v as i64 / 10, s, "payload of seq {s}");
                seen[(v % 10 - 1) as usize] += 1;
            }
            c.commit(available).unwrap();
            next = available + 1;
        }
        assert_eq!(seen, events);
        for p in producers {
            p.join().unwrap();
        }
        drop((c, ring));
    }

    #[test]
    fn mp_capacity_2_two_producers() {
        explore("mp_capacity_2_two_producers", 2, || {
            multi_producer(2, [1, 1], false)
        });
    }

    /// The same on a packed ring: availability in one-byte flags, two to
    /// a word here, so each producer's flag write races the other's.
    #[test]
    fn mp_packed_capacity_2_two_producers() {
        explore("mp_packed_capacity_2_two_producers", 2, || {
            multi_producer(2, [1, 1], true)
        });
    }

    #[test]
    fn mp_capacity_2_two_producers_wrapping() {
        explore("mp_capacity_2_two_producers_wrapping", 1, || {
            multi_producer(2, [2, 1], false)
        });
    }

    /// A producer claims `n` sequences and publishes them while a consumer's
    /// recovery (`recovery::unblock`, the code a consumer runs once the
    /// first sequence has been pending for the unblock timeout, here
    /// called at once) tries to abandon them. Checks: exactly one side
    /// wins, for the whole claim: either the publish succeeds and the
    /// consumer reads every event with its payload and nothing is counted
    /// abandoned, or the publish fails with `ClaimAbandoned` and the
    /// consumer sees every sequence abandoned, each counted once.
    fn abandon_race(n: u64, packed: bool) {
        let (ring, (mut c, mut p)) = ring(multi(2).packed(packed), |r| {
            let c = r.consumer("c", &[], WaitStrategy::Blocking).unwrap();
            (c, r.producer(WaitStrategy::Blocking).unwrap())
        });
        let ring = Arc::new(ring);
        let cells = cells(2);
        let producer = {
            let cells = cells.clone();
            thread::spawn(move || {
                let lo = p.claim(n, WAIT).unwrap();
                let hi = lo + n as i64 - 1;
                for s in lo..=hi {
                    cells[s as usize].with_mut(|_| ());
                    p.write(s, &event(s, 1)).unwrap();
                }
                let published = match p.publish(lo, hi) {
                    Ok(()) => true,
                    Err(Error::ClaimAbandoned { .. }) => false,
                    Err(e) => panic!("publish: {e}"),
                };
                (p, published)
            })
        };
        let recoverer = {
            let ring = ring.clone();
            thread::spawn(move || {
                let (segment, tables, slots) = ring.raw_parts();
                recovery::unblock(segment, &tables, &slots, 0, slots.capacity() as i64 - 1).unwrap()
            })
        };
        let mut delivered = 0;
        let mut skipped = 0;
        let mut next = 0;
        while next < n as i64 {
            let available = c.wait_for(next, WAIT).unwrap();
            for s in next..=available {
                match c.read::<u64>(s) {
                    Ok(v) => {
                        cells[s as usize].with(|_| ());
                        assert_eq!(v, event(s, 1));
                        delivered += 1;
                    }
                    Err(Error::Abandoned { .. }) => skipped += 1,
                    Err(e) => panic!("read {s}: {e}"),
                }
            }
            c.commit(available).unwrap();
            next = available + 1;
        }
        let (p, published) = producer.join().unwrap();
        let abandoned_by_recovery = recoverer.join().unwrap();
        if published {
            assert_eq!((delivered, skipped), (n, 0), "published claim");
            assert_eq!(abandoned_by_recovery, 0);
            assert_eq!(ring.abandoned(), 0);
        } else {
            assert_eq!((delivered, skipped), (0, n), "abandoned claim");
            assert!(abandoned_by_recovery >= 1);
            assert_eq!(ring.abandoned(), n);
        }
        drop((p, c));
    }

    #[test]
    fn mp_abandon_races_publish() {
        explore("mp_abandon_races_publish", 3, || abandon_race(1, false));
    }

    #[test]
    fn mp_abandon_races_publish_of_two() {
        explore("mp_abandon_races_publish_of_two", 3, || {
            abandon_race(2, false)
        });
    }

    /// The same on a packed ring (one-byte flags in one shared word).
    #[test]
    fn mp_packed_abandon_races_publish_of_two() {
        explore("mp_packed_abandon_races_publish_of_two", 3, || {
            abandon_race(2, true)
        });
    }

    // ---------------------------------------------------------------
    // (3) Dependency barrier.
    // ---------------------------------------------------------------

    /// A producer publishes `events` into a ring of `capacity`; consumer
    /// `a` reads them and marks each sequence done (a loom cell per
    /// sequence) before it commits; consumer `b` depends on `a`. Checks:
    /// `b` is never handed a sequence `a` has not committed (it finds `a`'s
    /// mark, and loom finds `a`'s write of it ordered before `b`'s read),
    /// and both read the right payloads.
    fn pipeline(capacity: u64, events: i64) {
        let (ring, (mut p, a, b)) = ring(small(capacity), |r| {
            let a = r.consumer("a", &[], WaitStrategy::Blocking).unwrap();
            let b = r.consumer("b", &["a"], WaitStrategy::Blocking).unwrap();
            (r.producer(WaitStrategy::Blocking).unwrap(), a, b)
        });
        let done: Arc<Vec<UnsafeCell<bool>>> =
            Arc::new((0..events).map(|_| UnsafeCell::new(false)).collect());
        let stage = |mut c: disruptor_mp::Consumer, first: bool| {
            let done = done.clone();
            thread::spawn(move || {
                let mut next = 0;
                while next < events {
                    let available = c.wait_for(next, WAIT).unwrap();
                    assert!(available < events);
                    for s in next..=available {
                        assert_eq!(c.read::<u64>(s).unwrap(), event(s, 1));
                        if first {
                            done[s as usize].with_mut(|d| unsafe { *d = true });
                        } else {
                            let d = done[s as usize].with(|d| unsafe { *d });
                            assert!(d, "b was handed {s} before a committed it");
                        }
                    }
                    c.commit(available).unwrap();
                    next = available + 1;
                }
                c
            })
        };
        let (ta, tb) = (stage(a, true), stage(b, false));
        for s in 0..events {
            let seq = p.claim(1, WAIT).unwrap();
            assert_eq!(seq, s);
            p.write(seq, &event(seq, 1)).unwrap();
            p.publish(seq, seq).unwrap();
        }
        drop((ta.join().unwrap(), tb.join().unwrap(), p, ring));
    }

    #[test]
    fn dependency_capacity_2() {
        explore("dependency_capacity_2", 1, || pipeline(2, 3));
    }

    // ---------------------------------------------------------------
    // (4) Futex wait/wake: no lost wake-up.
    // ---------------------------------------------------------------
    //
    // Every model above waits with the blocking strategy, so each already
    // checks that no sleeper misses its wake-up. These are the three
    // handshakes alone, explored without a preemption bound.

    /// A consumer sleeps, on the cursor (single-producer `options`) or on
    /// the notice (multi-producer); the producer's publish wakes it.
    fn consumer_sleeps(options: RingOptions, m: Membarrier) {
        let _mode = MembarrierMode::set(m);
        let (ring, (mut c, mut p)) = ring(options, |r| {
            let c = r.consumer("c", &[], WaitStrategy::Blocking).unwrap();
            (c, r.producer(WaitStrategy::Blocking).unwrap())
        });
        let t = thread::spawn(move || {
            assert_eq!(c.wait_for(0, WAIT).unwrap(), 0);
            c
        });
        p.send(&7u64, WAIT).unwrap();
        drop((t.join().unwrap(), p, ring));
    }

    /// The producer of a full ring sleeps on the consumer's sequence; the
    /// consumer's commit wakes it.
    fn producer_sleeps_on_consumer(m: Membarrier) {
        let _mode = MembarrierMode::set(m);
        let (ring, (mut c, mut p)) = ring(small(2), |r| {
            let c = r.consumer("c", &[], WaitStrategy::Blocking).unwrap();
            (c, r.producer(WaitStrategy::Blocking).unwrap())
        });
        p.send(&1u64, WAIT).unwrap();
        p.send(&2u64, WAIT).unwrap();
        let t = thread::spawn(move || {
            assert_eq!(p.claim(1, WAIT).unwrap(), 2);
            p
        });
        assert_eq!(c.wait_for(0, WAIT).unwrap(), 1);
        c.commit(0).unwrap();
        drop((t.join().unwrap(), c, ring));
    }

    // Each handshake with the light writers (membarrier works, the default)
    // and with the fenced fallback (the kernel refuses membarrier: fenced
    // writers, sleepers without a barrier). No lost wake-up either way.

    #[test]
    fn futex_consumer_sleeps_on_cursor() {
        explore("futex_consumer_sleeps_on_cursor", NO_BOUND, || {
            consumer_sleeps(small(2), Membarrier::Works)
        });
    }

    #[test]
    fn futex_consumer_sleeps_on_notice() {
        explore("futex_consumer_sleeps_on_notice", NO_BOUND, || {
            consumer_sleeps(multi(2), Membarrier::Works)
        });
    }

    #[test]
    fn futex_producer_sleeps_on_consumer() {
        explore("futex_producer_sleeps_on_consumer", NO_BOUND, || {
            producer_sleeps_on_consumer(Membarrier::Works)
        });
    }

    #[test]
    fn futex_fenced_consumer_sleeps_on_cursor() {
        explore("futex_fenced_consumer_sleeps_on_cursor", NO_BOUND, || {
            consumer_sleeps(small(2), Membarrier::Refused)
        });
    }

    #[test]
    fn futex_fenced_consumer_sleeps_on_notice() {
        explore("futex_fenced_consumer_sleeps_on_notice", NO_BOUND, || {
            consumer_sleeps(multi(2), Membarrier::Refused)
        });
    }

    #[test]
    fn futex_fenced_producer_sleeps_on_consumer() {
        explore("futex_fenced_producer_sleeps_on_consumer", NO_BOUND, || {
            producer_sleeps_on_consumer(Membarrier::Refused)
        });
    }

    /// The models can see a lost wake-up: the same sleeper against a
    /// writer that stores the cursor without the wake-up check (what a
    /// ring without wake-ups does) deadlocks in some interleaving.
    #[test]
    #[should_panic(expected = "deadlock")]
    fn futex_a_store_without_wake_is_caught() {
        explore("futex_a_store_without_wake_is_caught", NO_BOUND, || {
            let (ring, ()) = ring(small(2), |_| ());
            let cursor = ring.raw_parts().1.cursor();
            let t = thread::spawn(move || sleep_until_published(cursor));
            cursor.set(0);
            t.join().unwrap();
            drop(ring);
        });
    }

    /// A sleeper's loop on the cursor, as the blocking strategy runs it.
    fn sleep_until_published(cursor: SharedSequence) {
        loop {
            let woken = cursor.sleep(WAIT, || {
                if cursor.get() >= 0 {
                    Recheck::Ready(())
                } else {
                    Recheck::Sleep
                }
            });
            if woken.is_some() || cursor.get() >= 0 {
                break;
            }
        }
    }

    /// Sets what the emulated `membarrier` does for the rest of one model
    /// execution (and back to working when it ends, even by a panic).
    struct MembarrierMode;
    impl MembarrierMode {
        fn set(m: Membarrier) -> MembarrierMode {
            membarrier(m);
            MembarrierMode
        }
    }
    impl Drop for MembarrierMode {
        fn drop(&mut self) {
            membarrier(Membarrier::Works);
        }
    }

    /// The light handshake needs the sleeper's barrier, and the models can
    /// see it: a producer publishing with the light store and load against
    /// a sleeper whose membarrier does nothing loses the wake-up in some
    /// interleaving (what the real code bounds with short sleeps when the
    /// kernel refuses the barrier).
    #[test]
    #[should_panic(expected = "deadlock")]
    fn futex_light_publish_without_the_sleepers_barrier_is_caught() {
        explore(
            "futex_light_publish_without_the_sleepers_barrier_is_caught",
            NO_BOUND,
            || {
                let _mode = MembarrierMode::set(Membarrier::Skipped);
                let (ring, ()) = ring(small(2), |_| ());
                let cursor = ring.raw_parts().1.cursor();
                let t = thread::spawn(move || sleep_until_published(cursor));
                assert_eq!(Wakeups::for_ring(true), Wakeups::Light);
                cursor.publish(0, Wakeups::Light);
                t.join().unwrap();
                drop(ring);
            },
        );
    }

    /// The positive twin of the control above: the same light publish
    /// against the same sleeper, whose barrier works, never loses it.
    #[test]
    fn futex_light_publish_with_the_sleepers_barrier_wakes() {
        explore(
            "futex_light_publish_with_the_sleepers_barrier_wakes",
            NO_BOUND,
            || {
                let (ring, ()) = ring(small(2), |_| ());
                let cursor = ring.raw_parts().1.cursor();
                let t = thread::spawn(move || sleep_until_published(cursor));
                assert_eq!(Wakeups::for_ring(true), Wakeups::Light);
                cursor.publish(0, Wakeups::Light);
                t.join().unwrap();
                drop(ring);
            },
        );
    }

    /// The one-event calls hand events over, and wake each other, like
    /// claim and publish: a full ring of 2, the producer sleeping for room
    /// and the consumer for events.
    #[test]
    fn one_event_calls_hand_over_every_event() {
        explore("one_event_calls_hand_over_every_event", 2, || {
            let (ring, (mut c, mut p)) = ring(small(2), |r| {
                let c = r.consumer("c", &[], WaitStrategy::Blocking).unwrap();
                (c, r.producer(WaitStrategy::Blocking).unwrap())
            });
            let t = thread::spawn(move || {
                for i in 0..3u64 {
                    p.publish_with(WAIT, |slot| slot.copy_from_slice(&i.to_le_bytes()))
                        .unwrap();
                }
                p
            });
            for i in 0..3u64 {
                let (seq, v) = c
                    .consume_with(WAIT, |seq, b| {
                        (seq, u64::from_le_bytes(b.try_into().unwrap()))
                    })
                    .unwrap();
                assert_eq!((seq, v), (i as i64, i));
            }
            drop((t.join().unwrap(), c, ring));
        });
    }

    // The wake-up fd (an event loop's consumer): arming, the re-check after
    // it and the writer's check of the sleeper count form the same
    // handshake as a futex sleep, with the sleep replaced by the doorbell
    // (src/sync.rs emulates the datagram; waiting for a doorbell nobody
    // rings deadlocks, which loom reports).

    /// An event loop's consumer of `options` arms until it has `events`
    /// events, waiting for the doorbell whenever `arm` says `Armed`; the
    /// producer publishes them with its one-event call.
    fn armed_consumer(options: RingOptions, m: Membarrier, events: u64) {
        let _mode = MembarrierMode::set(m);
        doorbell_install();
        let (ring, (mut c, mut p)) = ring(options, |r| {
            let c = r.consumer("c", &[], WaitStrategy::Blocking).unwrap();
            (c, r.producer(WaitStrategy::Blocking).unwrap())
        });
        let t = thread::spawn(move || {
            for i in 0..events {
                p.send(&i, WAIT).unwrap();
            }
            p
        });
        let bit = 1u64 << c.index();
        let mut got = 0;
        while got < events {
            match c.arm().unwrap() {
                Armed::Available => {
                    let hi = c.try_wait_for(got as i64).unwrap();
                    c.commit(hi).unwrap();
                    got = hi as u64 + 1;
                }
                Armed::Armed => doorbell_wait(bit),
            }
        }
        drop((t.join().unwrap(), c, ring));
    }

    #[test]
    fn wakefd_consumer_arms_on_cursor() {
        explore("wakefd_consumer_arms_on_cursor", NO_BOUND, || {
            armed_consumer(small(2), Membarrier::Works, 1)
        });
    }

    #[test]
    fn wakefd_consumer_arms_on_cursor_twice() {
        explore("wakefd_consumer_arms_on_cursor_twice", 3, || {
            armed_consumer(small(2), Membarrier::Works, 2)
        });
    }

    #[test]
    fn wakefd_consumer_arms_on_notice() {
        explore("wakefd_consumer_arms_on_notice", NO_BOUND, || {
            armed_consumer(multi(2), Membarrier::Works, 1)
        });
    }

    #[test]
    fn wakefd_fenced_consumer_arms_on_cursor() {
        explore("wakefd_fenced_consumer_arms_on_cursor", NO_BOUND, || {
            armed_consumer(small(2), Membarrier::Refused, 1)
        });
    }

    /// An armed consumer and a futex sleeper on the same cursor: one writer
    /// wakes both. (A writer that took the armings first and skipped
    /// FUTEX_WAKE when the count held nothing else, to save the system call
    /// when only fds sleep, deadlocked here: the model keeps that idea out.)
    #[test]
    fn wakefd_and_futex_sleeper_on_one_cursor() {
        explore("wakefd_and_futex_sleeper_on_one_cursor", 2, || {
            let _mode = MembarrierMode::set(Membarrier::Works);
            doorbell_install();
            let (ring, (mut armed, mut sleeper, mut p)) = ring(small(2), |r| {
                let a = r.consumer("a", &[], WaitStrategy::Blocking).unwrap();
                let s = r.consumer("s", &[], WaitStrategy::Blocking).unwrap();
                (a, s, r.producer(WaitStrategy::Blocking).unwrap())
            });
            let t = thread::spawn(move || {
                p.send(&7u64, WAIT).unwrap();
                p
            });
            let s = thread::spawn(move || {
                assert_eq!(sleeper.wait_for(0, WAIT).unwrap(), 0);
                sleeper
            });
            let bit = 1u64 << armed.index();
            while armed.arm().unwrap() == Armed::Armed {
                doorbell_wait(bit);
            }
            assert_eq!(armed.try_wait_for(0).unwrap(), 0);
            drop((t.join().unwrap(), s.join().unwrap(), armed, ring));
        });
    }

    /// Negative control: the same arming against a light publisher, with
    /// the arming's barrier doing nothing, loses the wake-up in some
    /// interleaving (loom reports the deadlock on the doorbell).
    #[test]
    #[should_panic(expected = "deadlock")]
    fn wakefd_arming_without_the_barrier_is_caught() {
        explore(
            "wakefd_arming_without_the_barrier_is_caught",
            NO_BOUND,
            || armed_consumer(small(2), Membarrier::Skipped, 1),
        );
    }
}
