//! Abandonment of multi-producer claims in the states a dying producer can
//! leave them, set up directly in the segment's producer table (a process
//! cannot be killed at an exact instruction): died while storing stamps,
//! died around the claim counter's compare-and-swap, a stale intent beside
//! a real claim, and a live holder that is only slow to store its stamps.

use disruptor_mp::internals::Lease;
use disruptor_mp::layout::{claim, state, LOCK_PRODUCER_LEASE};
use disruptor_mp::{Location, ProducerMode, Ring, RingOptions, Status, WaitStrategy};
use std::sync::atomic::Ordering;
use std::time::Duration;

struct Name(Location);

impl Name {
    fn new(tag: &str) -> Name {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        Name(Location::shm(format!(
            "dmp-recovery-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )))
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        let _ = Ring::unlink(&self.0);
    }
}

const UNBLOCK: Duration = Duration::from_millis(30);

fn ring(name: &Name, max_producers: u32) -> Ring {
    Ring::create(
        &name.0,
        &RingOptions::new()
            .capacity(16)
            .slot_size(8)
            .producer_mode(ProducerMode::Multi)
            .max_producers(max_producers)
            .unblock_timeout(UNBLOCK),
    )
    .unwrap()
}

/// Entry `i` as a producer left it: active, with a claim record; the
/// counter at `claimed`; `published` sequences stamped.
fn leave_claim(ring: &Ring, i: u32, lo: i64, hi: i64, st: u32, claimed: i64, published: &[i64]) {
    let (_, t, slots) = ring.raw_parts();
    t.producer_state(i).store(state::ACTIVE, Ordering::Release);
    t.claim_record(i).write(lo, hi, st);
    t.claim().fetch_max(claimed, Ordering::SeqCst);
    for &s in published {
        slots.mark_published(s, s);
    }
}

#[test]
fn a_producer_dead_while_storing_stamps_has_the_rest_abandoned() {
    let name = Name::new("stamps");
    let ring = ring(&name, 4);
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    // Entry 1 claimed 0..=4, published 0 and 1 (its first stamp won), and
    // died: nobody holds its lease.
    leave_claim(&ring, 1, 0, 4, claim::CLAIMED, 4, &[0, 1]);
    assert_eq!(c.wait_for(0, Duration::ZERO).unwrap(), 1);
    c.commit(1).unwrap();
    assert_eq!(c.wait_for(2, Duration::from_secs(10)).unwrap(), 4);
    assert!((2..=4).all(|s| c.is_abandoned(s)));
    assert_eq!(ring.abandoned(), 3);
}

#[test]
fn a_live_producer_storing_its_stamps_is_never_abandoned() {
    let name = Name::new("live");
    let ring = ring(&name, 4);
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    leave_claim(&ring, 1, 0, 4, claim::CLAIMED, 4, &[0, 1]);
    // Its holder lives (this process holds the lease).
    let (segment, _, slots) = ring.raw_parts();
    let _lease = Lease::try_acquire(segment, LOCK_PRODUCER_LEASE + 1)
        .unwrap()
        .unwrap();
    let avail = c.wait_for(0, Duration::ZERO).unwrap();
    c.commit(avail).unwrap();
    let e = c.wait_for(2, UNBLOCK * 4).unwrap_err();
    assert_eq!(e.status(), Status::Timeout, "{e}");
    assert_eq!(ring.abandoned(), 0);
    // It finishes its stamps: everything is delivered.
    slots.mark_published(2, 4);
    assert_eq!(c.wait_for(2, Duration::ZERO).unwrap(), 4);
    assert!(!(2..=4).any(|s| c.is_abandoned(s)));
}

#[test]
fn a_claim_whose_producer_died_after_the_counter_moved_is_abandoned() {
    // Died between the compare-and-swap and marking the record claimed:
    // the record still says intent. A consumer abandons it after the
    // unblock timeout.
    let name = Name::new("intent");
    let ring = ring(&name, 4);
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    leave_claim(&ring, 0, 0, 3, claim::INTENT, 3, &[]);
    assert_eq!(c.wait_for(0, Duration::from_secs(10)).unwrap(), 3);
    assert_eq!(ring.abandoned(), 4);
}

#[test]
fn a_new_producer_abandons_the_claim_of_the_dead_one_it_replaces() {
    let name = Name::new("takeover");
    let ring = ring(&name, 1);
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    leave_claim(&ring, 0, 0, 3, claim::INTENT, 3, &[]);
    // The only entry belongs to a dead producer: the new one takes it and
    // resolves its claim at once, without waiting for a timeout.
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    assert_eq!(ring.abandoned(), 4);
    assert_eq!(c.wait_for(0, Duration::ZERO).unwrap(), 3);
    c.commit(3).unwrap();
    let s = p.send(&7u64, Duration::from_secs(1)).unwrap();
    assert_eq!(s, 4);
    assert_eq!(c.wait_for(4, Duration::ZERO).unwrap(), 4);
    assert_eq!(c.read::<u64>(4).unwrap(), 7);
}

#[test]
fn an_intent_that_lost_the_counter_race_is_not_the_claim() {
    // Entry 0 wrote intent 0..=9 and lost the compare-and-swap to entry 1,
    // which took 0..=3; both died. Only 0..=3 was ever claimed.
    let name = Name::new("stale");
    let ring = ring(&name, 4);
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    leave_claim(&ring, 0, 0, 9, claim::INTENT, -1, &[]);
    leave_claim(&ring, 1, 0, 3, claim::CLAIMED, 3, &[]);
    assert_eq!(c.wait_for(0, Duration::from_secs(10)).unwrap(), 3);
    assert_eq!(ring.abandoned(), 4);
    // A later claim beyond it is untouched by the stale intent.
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    c.commit(3).unwrap();
    let lo = p.claim(2, Duration::from_secs(1)).unwrap();
    assert_eq!(lo, 4);
    p.publish(lo, lo + 1).unwrap();
    assert_eq!(c.wait_for(4, Duration::ZERO).unwrap(), 5);
    assert_eq!(ring.abandoned(), 4);
}

#[test]
fn abandoned_sequences_stay_abandoned_whatever_order_they_are_read_in() {
    // The consumer remembers where its scans found abandoned sequences, so
    // that reading a published one needs no stamp load; reads in any order
    // must still see every abandoned one. Stamped and packed (one-byte
    // flags) rings alike.
    for packed in [false, true] {
        let name = Name::new("order");
        let ring = Ring::create(
            &name.0,
            &RingOptions::new()
                .capacity(16)
                .slot_size(8)
                .packed(packed)
                .producer_mode(ProducerMode::Multi)
                .max_producers(4)
                .unblock_timeout(UNBLOCK),
        )
        .unwrap();
        let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
        // Entry 1 claimed 0..=4, published 0 and 1, and died.
        leave_claim(&ring, 1, 0, 4, claim::CLAIMED, 4, &[0, 1]);
        let mut p = ring.producer(WaitStrategy::Yield).unwrap();
        for v in [50u64, 60] {
            p.send(&v, Duration::from_secs(1)).unwrap();
        }
        assert_eq!(c.wait_for(0, Duration::ZERO).unwrap(), 1);
        // 2..=4 are abandoned after the unblock timeout.
        assert_eq!(c.wait_for(2, Duration::from_secs(10)).unwrap(), 6);
        assert_eq!(ring.abandoned(), 3, "packed {packed}");
        // Later sequences first, then the abandoned ones, then earlier.
        assert_eq!(c.read::<u64>(6).unwrap(), 60);
        assert_eq!(c.read::<u64>(5).unwrap(), 50);
        if packed {
            c.slots(5, 6).unwrap();
        }
        for s in 2..=4 {
            let e = c.read::<u64>(s).unwrap_err();
            assert_eq!(
                e.status(),
                Status::Abandoned,
                "packed {packed}, seq {s}: {e}"
            );
            assert!(c.is_abandoned(s));
        }
        if packed {
            assert_eq!(c.slots(1, 3).unwrap_err().status(), Status::Abandoned);
            c.slots(5, 6).unwrap();
            assert_eq!(c.slots(2, 2).unwrap_err().status(), Status::Abandoned);
        }
        c.read::<u64>(0).unwrap();
        c.read::<u64>(1).unwrap();
        c.commit(6).unwrap();
    }
}
