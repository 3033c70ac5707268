//! Each event-loop consumer against `dmp produce` (a Rust producer),
//! paced (single events with gaps) and bursty (100 events per publish with
//! idle gaps): every event checked by the consumer, the wake-ups counted
//! against the publishes, the consumer's CPU time over a second of
//! idleness while armed.

use super::loops::{cpu_ticks, create, produce, Loop, Summary, T};
use crate::support::{self, run, ShmName};
use std::time::Duration;

fn paced_and_bursty(lp: Loop, idle_bound: u64) {
    if !lp.available() {
        return;
    }
    let _serial = support::serial();
    // (events, batch, pause after each batch).
    for (tag, count, batch, pause_us) in [
        ("paced", 200u64, 1u64, 2000u64),
        ("bursty", 2000, 100, 20_000),
    ] {
        let ring = ShmName::new(&format!("wakefd-{lp:?}-{tag}"));
        create(&ring);
        let c = lp.spawn(&ring, "ep", count);
        // Idle and armed: a bounded 50 ms wait and a new arm 20 times a
        // second (Python: and a heartbeat task every 0.1 s), nothing else.
        let pid = c.child.id();
        let before = cpu_ticks(pid);
        std::thread::sleep(Duration::from_secs(1));
        let idle = cpu_ticks(pid) - before;
        let (ok, out) = run(produce(&ring, count, batch, pause_us), "dmp produce", T);
        assert!(ok, "{out}");
        let out = c.succeed(T);
        let s = Summary::parse(&out);
        eprintln!("{lp:?} {tag}: {} idle CPU {idle} ticks", out.trim());
        assert_eq!(s.events, count, "{tag}: {out}");
        assert_eq!(s.last, count as i64 - 1, "{tag}: {out}");
        assert!(s.batches <= count, "{tag}: {out}");
        // One datagram per arming, and a publish call takes each arming
        // once: never more wake-ups than publishes, however many events
        // (2000 events, at most 20 wake-ups when bursty).
        let publishes = count / batch;
        assert!(
            s.wakeups <= publishes,
            "{tag}: {} wake-ups for {publishes} publishes: {out}",
            s.wakeups
        );
        // And the fd, not only the bounded re-arm, woke the consumer.
        assert!(s.wakeups >= 1, "{tag}: the fd never became readable: {out}");
        if let Some(armings) = s.armings {
            assert!(s.wakeups <= armings, "{tag}: {out}");
        }
        assert!(
            idle <= idle_bound,
            "{tag}: {idle} clock ticks of CPU over 1 s idle"
        );
    }
}

#[test]
fn a_c_epoll_consumer_gets_every_event_paced_and_bursty_with_one_wakeup_per_arming() {
    paced_and_bursty(Loop::C, 5);
}

#[test]
fn a_cpp_epoll_consumer_gets_every_event_paced_and_bursty_with_one_wakeup_per_arming() {
    paced_and_bursty(Loop::Cpp, 5);
}

#[test]
fn an_asyncio_consumer_gets_every_event_from_a_rust_producer_paced_and_bursty() {
    paced_and_bursty(Loop::Python, 10);
}
