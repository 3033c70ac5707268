//! The failure cases of docs/ARCHITECTURE.md ("Wake-ups for event loops")
//! for each event-loop consumer, between real processes: the producer
//! SIGKILLed while the consumer is armed (a new producer takes over and
//! the consumer gets every event), a producer killed mid-notify (at the
//! `wake.taken` fault point: it took the arming and sent nothing; the
//! consumer's bounded wait and re-arm find the events), and an armed
//! consumer SIGKILLed (the
//! next publish takes its dead arming without failing; restarted under
//! its name it resumes after its commit and gets every remaining event).

use super::loops::{create, produce, publish, wait_caught_up, Loop, Summary, T};
use crate::support::{self, Proc, ShmName};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

/// Events of the first producer, published in one call; then it sleeps.
const FIRST: u64 = 40;
/// Events of the second producer, one per publish, 2 ms apart.
const SECOND: u64 = 60;

fn producer_killed_while_armed(lp: Loop) {
    if !lp.available() {
        return;
    }
    let _serial = support::serial();
    let ring = ShmName::new(&format!("wakefd-kill-producer-{lp:?}"));
    create(&ring);
    let c = lp.spawn(&ring, "ep", FIRST + SECOND);
    // FIRST events, then a minute's pause, during which it is killed: the
    // consumer has read and committed them all and waits, armed.
    let mut first = Proc::spawn(
        produce(&ring, 2 * FIRST, FIRST, 60_000_000),
        "first producer",
    );
    wait_caught_up(&ring, "ep", FIRST as i64 - 1);
    std::thread::sleep(Duration::from_millis(100));
    first.child.kill().unwrap();
    let _ = first.child.wait();
    // The next producer takes over and numbers on after the cursor; the
    // consumer checks that the numbers follow each other across the two.
    publish(&ring, SECOND, 1, 2000);
    let out = c.succeed(T);
    let s = Summary::parse(&out);
    eprintln!("{lp:?}: {}", out.trim());
    assert_eq!(s.events, FIRST + SECOND, "{out}");
    assert_eq!(s.last, (FIRST + SECOND) as i64 - 1, "{out}");
    // Woken through the fd (before or after the kill), not only by the
    // bounded re-arm.
    assert!(s.wakeups >= 1, "the fd never became readable: {out}");
}

fn producer_killed_mid_notify(lp: Loop) {
    if !lp.available() {
        return;
    }
    let _serial = support::serial();
    let ring = ShmName::new(&format!("wakefd-mid-notify-{lp:?}"));
    create(&ring);
    let c = lp.spawn(&ring, "ep", FIRST + SECOND);
    // Armed on the cursor (it arms as it starts, and again every 50 ms).
    std::thread::sleep(Duration::from_millis(100));
    // Publishes FIRST events at once, takes the consumer's arming on its
    // slow path and is killed before it sends the datagram.
    let mut first = Command::new(support::fault_dmp());
    first
        .args(["produce", &ring.0, "--wait", "block"])
        .args(["--count", &FIRST.to_string(), "--batch", &FIRST.to_string()])
        .env("DMP_FAULTS", "wake.taken=kill");
    let (status, out) = Proc::spawn(first, "producer killed mid-notify").finish_status(T);
    assert!(
        status.signal() == Some(libc::SIGKILL) && out.contains("fault: wake.taken"),
        "the producer was not killed at wake.taken ({status}): {out}"
    );
    // No wake-up is coming; the bounded wait and the re-arm after it find
    // the events.
    wait_caught_up(&ring, "ep", FIRST as i64 - 1);
    publish(&ring, SECOND, 1, 2000);
    let out = c.succeed(T);
    let s = Summary::parse(&out);
    eprintln!("{lp:?}: {}", out.trim());
    assert_eq!(s.events, FIRST + SECOND, "{out}");
    assert_eq!(s.last, (FIRST + SECOND) as i64 - 1, "{out}");
}

fn armed_consumer_killed_and_restarted(lp: Loop) {
    if !lp.available() {
        return;
    }
    let _serial = support::serial();
    // Restarted after the next publish took the dead arming, or at once
    // (its arming is still set: the new one finds the bit taken and the
    // publish that takes it wakes the new socket under the same name).
    for publish_while_dead in [true, false] {
        let tag = format!("wakefd-kill-consumer-{lp:?}-{publish_while_dead}");
        let ring = ShmName::new(&tag);
        create(&ring);
        let total = 2 * FIRST + SECOND;
        let mut c = lp.spawn(&ring, "ep", total);
        publish(&ring, FIRST, 1, 1000);
        // It read and committed FIRST events and armed again: killed so,
        // its arming stays behind in the ring.
        wait_caught_up(&ring, "ep", FIRST as i64 - 1);
        std::thread::sleep(Duration::from_millis(100));
        c.child.kill().unwrap();
        let _ = c.child.wait();
        let again = if publish_while_dead {
            // The next publishes take the dead arming (a datagram to a
            // socket that died with its process: ECONNREFUSED, ignored)
            // and finish.
            publish(&ring, FIRST, 1, 1000);
            // Under the same name it takes the same entry and resumes
            // after its commit: the FIRST events published while it was
            // dead are there at once; it arms and is woken for the rest.
            let again = lp.spawn(&ring, "ep", total - FIRST);
            publish(&ring, SECOND, 1, 2000);
            again
        } else {
            let again = lp.spawn(&ring, "ep", total - FIRST);
            publish(&ring, FIRST + SECOND, 1, 2000);
            again
        };
        let out = again.succeed(T);
        let s = Summary::parse(&out);
        eprintln!("{lp:?} ({tag}): {}", out.trim());
        // Gapless numbers ending at the last event: it began at FIRST.
        assert_eq!(s.events, total - FIRST, "{tag}: {out}");
        assert_eq!(s.last, total as i64 - 1, "{tag}: {out}");
        assert!(s.wakeups >= 1, "{tag}: the fd never became readable: {out}");
    }
}

#[test]
fn a_producer_killed_while_a_c_epoll_consumer_is_armed_leaves_it_to_the_next_producer() {
    producer_killed_while_armed(Loop::C);
}

#[test]
fn a_producer_killed_while_a_cpp_epoll_consumer_is_armed_leaves_it_to_the_next_producer() {
    producer_killed_while_armed(Loop::Cpp);
}

#[test]
fn a_producer_killed_while_an_asyncio_consumer_is_armed_leaves_it_to_the_next_producer() {
    producer_killed_while_armed(Loop::Python);
}

#[test]
fn a_producer_killed_mid_notify_leaves_a_c_epoll_consumer_to_its_bounded_wait() {
    producer_killed_mid_notify(Loop::C);
}

#[test]
fn a_producer_killed_mid_notify_leaves_a_cpp_epoll_consumer_to_its_bounded_wait() {
    producer_killed_mid_notify(Loop::Cpp);
}

#[test]
fn a_producer_killed_mid_notify_leaves_an_asyncio_consumer_to_its_bounded_wait() {
    producer_killed_mid_notify(Loop::Python);
}

#[test]
fn an_armed_c_epoll_consumer_killed_and_restarted_under_its_name_gets_the_rest() {
    armed_consumer_killed_and_restarted(Loop::C);
}

#[test]
fn an_armed_cpp_epoll_consumer_killed_and_restarted_under_its_name_gets_the_rest() {
    armed_consumer_killed_and_restarted(Loop::Cpp);
}

#[test]
fn an_armed_asyncio_consumer_killed_and_restarted_under_its_name_gets_the_rest() {
    armed_consumer_killed_and_restarted(Loop::Python);
}
