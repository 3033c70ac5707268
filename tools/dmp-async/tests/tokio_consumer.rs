//! A tokio consumer (this process) and the C example producer
//! (c_examples/producer.c, separate processes) on one ring: paced (one
//! event per producer run, with gaps) and bursty (runs of 200 events),
//! every event checked, the wake-ups counted, and the consumer's thread
//! using no CPU over a second of idleness.

mod common;

use common::{c_producer, check, produce};
use disruptor_mp::{Location, Ring, RingOptions, WaitStrategy};
use dmp_async::AsyncConsumer;
use std::time::Duration;

/// CPU time of the calling thread, in clock ticks.
fn thread_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let f: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn a_tokio_consumer_gets_every_event_from_a_c_producer_paced_and_bursty() {
    let producer = c_producer("dmp_async_c_producer");
    for (tag, runs, per_run, batch) in [("paced", 20u64, 1u64, 1u64), ("bursty", 5, 200, 50)] {
        let name = format!("dmp-async-{tag}-{}", std::process::id());
        let loc = Location::shm(&name);
        let ring = Ring::create(&loc, &RingOptions::new().capacity(1024).slot_size(64)).unwrap();
        let consumer = ring.consumer("tokio", &[], WaitStrategy::Blocking).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (events, wakeups, idle) = rt.block_on(async {
            let mut c = AsyncConsumer::new(consumer).unwrap();
            // A second of idleness, waiting for events that do not come.
            let before = thread_ticks();
            let r = tokio::time::timeout(Duration::from_secs(1), c.next_batch()).await;
            assert!(r.is_err(), "no event was published");
            let idle = thread_ticks() - before;
            let total = runs * per_run;
            let feeder = std::thread::spawn({
                let (producer, name) = (producer.clone(), name.clone());
                move || {
                    for _ in 0..runs {
                        produce(&producer, &name, per_run, batch);
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            });
            let mut expected = 0;
            while expected < total {
                let batch = tokio::time::timeout(Duration::from_secs(60), c.next_batch())
                    .await
                    .expect("events within a minute")
                    .unwrap();
                for seq in batch.clone() {
                    assert_eq!(check(c.consumer().slot(seq).unwrap()), expected, "{tag}");
                    expected += 1;
                }
                c.consumer().commit(*batch.end()).unwrap();
            }
            feeder.join().unwrap();
            (expected, c.wakeups(), idle)
        });
        eprintln!("{tag}: {events} events, {wakeups} wake-ups, idle CPU {idle} ticks");
        // At most one wake-up per publish call (one per arming).
        assert!(
            wakeups <= runs * per_run.div_ceil(batch),
            "{tag}: {wakeups} wake-ups"
        );
        assert!(
            idle <= 5,
            "{tag}: {idle} ticks of CPU over a second of idleness"
        );
        drop(ring);
        Ring::unlink(&loc).unwrap();
    }
}
