use disruptor_mp::{Location, Ring, RingOptions, WaitStrategy};
use std::time::Duration;

#[test]
fn one_producer_two_consumers_in_one_process() {
    let loc = Location::shm(format!("dmp-smoke-{}", std::process::id()));
    let ring = Ring::create(&loc, &RingOptions::new().capacity(8).slot_size(8)).unwrap();
    let mut a = ring.consumer("a", &[], WaitStrategy::Yield).unwrap();
    let mut b = ring.consumer("b", &["a"], WaitStrategy::Yield).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    let t = Duration::from_secs(5);
    let mut got_a = vec![];
    let mut got_b = vec![];
    for i in 0..100u64 {
        if p.try_claim(1).is_err() {
            a.poll(t, |_, s| {
                got_a.push(u64::from_ne_bytes(s[..8].try_into().unwrap()))
            })
            .unwrap();
            b.poll(t, |_, s| {
                got_b.push(u64::from_ne_bytes(s[..8].try_into().unwrap()))
            })
            .unwrap();
            p.send(&i, t).unwrap();
        } else {
            let seq = p.published() + 1;
            p.write(seq, &i).unwrap();
            p.publish(seq, seq).unwrap();
        }
    }
    while got_b.len() < 100 {
        if got_a.len() < 100 {
            a.poll(t, |_, s| {
                got_a.push(u64::from_ne_bytes(s[..8].try_into().unwrap()))
            })
            .unwrap();
        }
        b.poll(t, |_, s| {
            got_b.push(u64::from_ne_bytes(s[..8].try_into().unwrap()))
        })
        .unwrap();
    }
    assert_eq!(got_a, (0..100).collect::<Vec<_>>());
    assert_eq!(got_b, got_a);
    Ring::unlink(&loc).unwrap();
}

/// A consumer of a single producer's stamped ring reads a short run of
/// published events from their stamps, and a long one up to the cursor;
/// both end at the last published event, never past it.
#[test]
fn a_stamped_batch_ends_at_the_last_published_event() {
    let loc = Location::shm(format!("dmp-smoke-batch-{}", std::process::id()));
    let ring = Ring::create(&loc, &RingOptions::new().capacity(256).slot_size(8)).unwrap();
    Ring::unlink(&loc).unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    let t = Duration::from_secs(5);
    for (events, expect_last) in [(5u64, 4i64), (100, 104), (1, 105)] {
        for i in 0..events {
            p.send(&i, t).unwrap();
        }
        let next = c.next_sequence();
        assert_eq!(c.wait_for(next, t).unwrap(), expect_last, "after {events}");
        c.commit(expect_last).unwrap();
    }
}

#[test]
fn a_read_only_ring_observes_and_refuses_participants() {
    let loc = Location::shm(format!("dmp-smoke-ro-{}", std::process::id()));
    let ring = Ring::create(&loc, &RingOptions::new().capacity(16).slot_size(8)).unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    p.send(&5u64, Duration::from_secs(1)).unwrap();
    let observer = Ring::open(&loc, &RingOptions::new().read_only(true)).unwrap();
    assert!(observer.is_read_only() && !ring.is_read_only());
    let s = observer.snapshot();
    assert_eq!((s.cursor, s.consumers.len(), s.producers.len()), (0, 1, 1));
    assert!(s.consumers[0].alive && s.producers[0].alive);
    for (role, e) in [
        (
            "consumer",
            observer
                .consumer("x", &[], WaitStrategy::Yield)
                .unwrap_err(),
        ),
        (
            "producer",
            observer.producer(WaitStrategy::Yield).unwrap_err(),
        ),
    ] {
        assert_eq!(e.status(), disruptor_mp::Status::PermissionDenied, "{e}");
        let text = e.to_string();
        assert!(
            text.contains(&format!("attaching a {role} needs write permission")),
            "{text}"
        );
    }
    // Nothing was registered by the refused attaches.
    assert_eq!(observer.snapshot().consumers.len(), 1);
    assert_eq!(c.recv::<u64>(Duration::from_secs(1)).unwrap(), 5);
    drop((c, p));
    Ring::unlink(&loc).unwrap();
}
