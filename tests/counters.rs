//! Counters in the segment match what happened, read through a snapshot by
//! a second handle that takes no part in the ring.

use disruptor_mp::Owner;
use disruptor_mp::{Location, ProducerMode, Ring, RingOptions, WaitStrategy};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

struct Name(Location);

impl Name {
    fn new(tag: &str) -> Name {
        Name(Location::shm(format!(
            "dmp-counters-{tag}-{}",
            std::process::id()
        )))
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        let _ = Ring::unlink(&self.0);
    }
}

#[test]
fn counters_count_events_batches_waits_and_attaches_exactly() {
    let name = Name::new("exact");
    let ring = Ring::create(&name.0, &RingOptions::new().capacity(8).slot_size(8)).unwrap();
    let observer = Ring::open(&name.0, &RingOptions::new()).unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    // 3 batches of 4, consumed in 2 commits of 6; the third claim waits for
    // the consumer (a full ring) and times out once.
    for _ in 0..2 {
        let lo = p.claim(4, T).unwrap();
        p.publish(lo, lo + 3).unwrap();
    }
    assert!(p.try_claim(4).is_err());
    assert!(p.claim(4, Duration::from_millis(5)).is_err());
    c.wait_for(0, T).unwrap();
    c.commit(5).unwrap();
    c.commit(7).unwrap();
    let lo = p.claim(4, T).unwrap();
    p.publish(lo, lo + 3).unwrap();
    assert!(c.try_wait_for(12).is_err());

    // While they run, events and batches are as of each participant's last
    // flush: the producer's was its last wait (the timed-out claim), after
    // 8 events in 2 batches; the consumer's was its last wait, after both
    // commits. Everything else is exact at once.
    let s = observer.snapshot();
    assert_eq!((s.cursor, s.claimed, s.published), (11, 11, 12));
    assert_eq!((s.attaches, s.detaches, s.abandoned), (2, 0, 0));
    assert_eq!(s.back_pressure_waits, 2);
    let pr = &s.producers[0];
    assert_eq!((pr.events, pr.batches, pr.waits, pr.timeouts), (8, 2, 2, 1));
    assert!(pr.alive && pr.last_activity_ns > 0);
    let co = &s.consumers[0];
    assert_eq!((co.name.as_str(), co.sequence, co.lag), ("c", 7, 4));
    assert_eq!((co.events, co.batches, co.waits, co.timeouts), (8, 2, 1, 0));
    assert!(co.alive && co.gating);
    assert_eq!(s.slowest().map(|c| c.index), Some(co.index));
    // The same values through the labelled counters.
    let label = |owner: Owner, label: &str| {
        s.counters
            .iter()
            .find(|v| v.owner == owner && v.label == label)
            .unwrap_or_else(|| panic!("{label}"))
            .value
    };
    assert_eq!(label(Owner::Producer(0), "events published"), 8);
    assert_eq!(label(Owner::Consumer(co.index), "batches consumed"), 2);
    assert_eq!(label(Owner::Ring, "attaches"), 2);

    drop(c);
    drop(p);
    // Leaving flushes: exact once the participants are gone.
    let s = observer.snapshot();
    assert_eq!(s.detaches, 2);
    assert!(!s.consumers[0].alive && !s.producers[0].alive);
    let (pr, co) = (&s.producers[0], &s.consumers[0]);
    assert_eq!((pr.events, pr.batches), (12, 3));
    assert_eq!((co.events, co.batches), (8, 2));
}

#[test]
fn a_busy_participant_flushes_its_counts_every_flush_interval() {
    use disruptor_mp::internals::FLUSH_EVERY;
    let name = Name::new("flush");
    let ring = Ring::create(&name.0, &RingOptions::new().capacity(8).slot_size(8)).unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    let mut step = |p: &mut disruptor_mp::Producer| {
        p.send(&1u64, T).unwrap();
        let seq = c.wait_for(c.next_sequence(), T).unwrap();
        c.commit(seq).unwrap();
    };
    // Never waiting: nothing reaches the segment before the interval ends,
    // then all of it does.
    for _ in 0..FLUSH_EVERY - 1 {
        step(&mut p);
    }
    let s = ring.snapshot();
    assert_eq!((s.producers[0].events, s.consumers[0].events), (0, 0));
    assert_eq!(s.cursor, FLUSH_EVERY as i64 - 2, "the ring itself is exact");
    step(&mut p);
    let s = ring.snapshot();
    let (pr, co) = (&s.producers[0], &s.consumers[0]);
    assert_eq!((pr.events, pr.batches), (FLUSH_EVERY, FLUSH_EVERY));
    assert_eq!((co.events, co.batches), (FLUSH_EVERY, FLUSH_EVERY));
    assert!(pr.last_activity_ns > 0 && co.last_activity_ns > 0);
}

/// The one-event calls count nothing per event: the counts are derived
/// from the cursor and the committed sequence at each flush, every
/// FLUSH_EVERY sequences while they run, and exact once they leave, mixed
/// with batches or not.
#[test]
fn one_event_calls_are_counted_from_the_sequences() {
    use disruptor_mp::internals::FLUSH_EVERY;
    let name = Name::new("one");
    let ring = Ring::create(&name.0, &RingOptions::new().capacity(8).slot_size(8)).unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    let one = |p: &mut disruptor_mp::Producer, c: &mut disruptor_mp::Consumer, i: u64| {
        p.publish_with(T, |s| s[..8].copy_from_slice(&i.to_le_bytes()))
            .unwrap();
        let got = c
            .consume_with(T, |_, s| u64::from_le_bytes(s[..8].try_into().unwrap()))
            .unwrap();
        assert_eq!(got, i);
    };
    for i in 0..FLUSH_EVERY - 1 {
        one(&mut p, &mut c, i);
    }
    let s = ring.snapshot();
    assert_eq!((s.producers[0].events, s.consumers[0].events), (0, 0));
    one(&mut p, &mut c, FLUSH_EVERY - 1);
    let s = ring.snapshot();
    let (pr, co) = (&s.producers[0], &s.consumers[0]);
    assert_eq!((pr.events, pr.batches), (FLUSH_EVERY, FLUSH_EVERY));
    assert_eq!((co.events, co.batches), (FLUSH_EVERY, FLUSH_EVERY));
    // A batch of 4 among single events: 4 events, 1 batch.
    let lo = p.claim(4, T).unwrap();
    p.publish(lo, lo + 3).unwrap();
    let hi = c.wait_for(lo, T).unwrap();
    c.commit(hi).unwrap();
    for i in 0..5 {
        one(&mut p, &mut c, i);
    }
    // `claim(1)`/`publish(seq, seq)` and a commit of one event are counted
    // as the one-event calls are: an event and a batch each.
    for i in 0..3 {
        claim_publish_commit(&mut p, &mut c, i);
    }
    drop((p, c));
    let s = ring.snapshot();
    let (pr, co) = (&s.producers[0], &s.consumers[0]);
    assert_eq!((pr.events, pr.batches), (FLUSH_EVERY + 12, FLUSH_EVERY + 9));
    assert_eq!((co.events, co.batches), (FLUSH_EVERY + 12, FLUSH_EVERY + 9));
    assert_eq!(s.cursor, FLUSH_EVERY as i64 + 11);
}

/// One event through `claim(1)`, `slot_mut`, `publish(seq, seq)`, and
/// `wait_for`, `slot`, `commit(seq)`.
fn claim_publish_commit(p: &mut disruptor_mp::Producer, c: &mut disruptor_mp::Consumer, i: u64) {
    let seq = p.claim(1, T).unwrap();
    p.slot_mut(seq).unwrap()[..8].copy_from_slice(&i.to_le_bytes());
    p.publish(seq, seq).unwrap();
    assert_eq!(c.wait_for(seq, T).unwrap(), seq);
    assert_eq!(c.slot(seq).unwrap()[..8], i.to_le_bytes());
    c.commit(seq).unwrap();
}

#[test]
fn claim_and_publish_of_one_sequence_count_nothing_until_a_flush() {
    use disruptor_mp::internals::FLUSH_EVERY;
    let name = Name::new("claim1");
    let options = RingOptions::new().capacity(8).slot_size(8).packed(true);
    let ring = Ring::create(&name.0, &options).unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    for i in 0..FLUSH_EVERY - 1 {
        claim_publish_commit(&mut p, &mut c, i);
    }
    let s = ring.snapshot();
    assert_eq!((s.producers[0].events, s.consumers[0].events), (0, 0));
    claim_publish_commit(&mut p, &mut c, FLUSH_EVERY - 1);
    let s = ring.snapshot();
    let (pr, co) = (&s.producers[0], &s.consumers[0]);
    assert_eq!((pr.events, pr.batches), (FLUSH_EVERY, FLUSH_EVERY));
    assert_eq!((co.events, co.batches), (FLUSH_EVERY, FLUSH_EVERY));
}

#[test]
fn hot_counting_can_be_turned_off_and_abandoned_sequences_are_counted() {
    let name = Name::new("off");
    let ring = Ring::create(
        &name.0,
        &RingOptions::new()
            .capacity(8)
            .slot_size(8)
            .hot_counters(false)
            .producer_mode(ProducerMode::Multi),
    )
    .unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    let lo = p.claim(3, T).unwrap();
    p.publish(lo, lo).unwrap();
    p.unclaim(lo + 1);
    let avail = c.wait_for(0, T).unwrap();
    c.commit(avail).unwrap();
    let s = ring.snapshot();
    assert_eq!(s.abandoned, 2);
    assert_eq!((s.producers[0].events, s.consumers[0].events), (0, 0));
    assert_eq!(s.claimed, 2);
}

/// docs/OPERATIONS.md states the flush interval readers can rely on: keep
/// it the one the code uses.
#[test]
fn operations_md_states_the_flush_interval_of_the_code() {
    use disruptor_mp::internals::FLUSH_EVERY;
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/OPERATIONS.md"))
        .expect("read docs/OPERATIONS.md");
    for said in [
        format!("every {FLUSH_EVERY} batches (`counters::FLUSH_EVERY`)"),
        format!("at most {} batches", FLUSH_EVERY - 1),
    ] {
        assert!(
            doc.contains(&said),
            "docs/OPERATIONS.md should say {said:?}"
        );
    }
}
