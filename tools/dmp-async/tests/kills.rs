//! The failure cases of docs/ARCHITECTURE.md ("Wake-ups for event loops")
//! for the tokio consumer, between real processes: this test binary runs
//! itself as the consumer (`AsyncConsumer`, in a child process) and as a
//! Rust producer that publishes a burst and sleeps; the C producer
//! example (c_examples/producer.c) takes over or publishes the rest.
//!
//! - The producer is SIGKILLed while the consumer is armed: the next
//!   producer takes over and the consumer gets every event.
//! - The armed consumer is SIGKILLed: the next publishes take its dead
//!   arming without failing; restarted under its name it resumes after
//!   its commit and gets every remaining event.

mod common;

use common::{c_producer, check, produce, Proc};
use disruptor_mp::{Location, Ring, RingOptions, WaitStrategy};
use dmp_async::AsyncConsumer;
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(60);
/// Events of the first producer, or published before the kill.
const FIRST: u64 = 40;
/// Events published after the kill (paced: 3 per C producer run, 20 ms
/// apart).
const SECOND: u64 = 60;

/// One test at a time in this binary: each runs two or three processes.
static SERIAL: Mutex<()> = Mutex::new(());

fn producer_exe() -> &'static Path {
    static P: OnceLock<std::path::PathBuf> = OnceLock::new();
    P.get_or_init(|| c_producer("dmp_async_kills_c_producer"))
}

/// A ring of its own, unlinked when the test ends (or fails).
struct TestRing {
    name: String,
    ring: Ring,
}

impl TestRing {
    fn new(tag: &str) -> TestRing {
        let name = format!("dmp-async-{tag}-{}", std::process::id());
        let ring = Ring::create(
            &Location::shm(&name),
            &RingOptions::new().capacity(1024).slot_size(64),
        )
        .unwrap();
        TestRing { name, ring }
    }

    /// Waits (bounded, polling) until the cursor is `cursor` and the
    /// consumer `name` committed it: it is caught up and arms its fd.
    fn wait_caught_up(&self, name: &str, cursor: i64) {
        let start = Instant::now();
        loop {
            let committed = self
                .ring
                .consumers()
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.sequence);
            if self.ring.cursor() == cursor && committed == Some(cursor) {
                return;
            }
            assert!(start.elapsed() < T, "{name} committed {committed:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// `count` events from C producer runs of 3 events, 20 ms apart.
    fn publish_paced(&self, count: u64) {
        for _ in 0..count / 3 {
            produce(producer_exe(), &self.name, 3, 1);
            std::thread::sleep(Duration::from_millis(20));
        }
        produce(producer_exe(), &self.name, count % 3, 1);
    }
}

impl Drop for TestRing {
    fn drop(&mut self) {
        let _ = Ring::unlink(&Location::shm(&self.name));
    }
}

/// This test binary as a child process playing `role` (see `child_role`).
fn child(role: &str, ring: &str, name: &str, count: u64) -> Proc {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["child_role", "--exact", "--nocapture", "--test-threads=1"])
        .env("DMP_ASYNC_ROLE", role)
        .env("DMP_ASYNC_RING", ring)
        .env("DMP_ASYNC_NAME", name)
        .env("DMP_ASYNC_COUNT", count.to_string());
    Proc::spawn(c, &format!("{role} {name}"))
}

/// The tokio consumer `name` reading `count` events, once it registered.
fn consumer(ring: &TestRing, name: &str, count: u64) -> Proc {
    let mut c = child("consumer", &ring.name, name, count);
    c.wait_line("ready", T);
    c
}

/// The numbers in the consumer's summary line: events, batches,
/// wake-ups, first event, last event.
fn summary(c: Proc) -> [u64; 5] {
    let (status, out) = c.finish(T);
    assert!(status.success(), "tokio consumer: {out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("consumed "))
        .unwrap_or_else(|| panic!("no summary: {out}"));
    eprintln!("{line}");
    let n: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    [n[0], n[1], n[2], n[3], n[4]]
}

#[test]
fn a_producer_killed_while_the_tokio_consumer_is_armed_leaves_it_to_the_next_producer() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let ring = TestRing::new("kill-producer");
    let c = consumer(&ring, "tokio", FIRST + SECOND);
    // FIRST events in one publish, then it sleeps and is killed there: the
    // consumer read and committed them all and waits, armed.
    let mut first = child("burst-then-sleep", &ring.name, "", FIRST);
    first.wait_line("published", T);
    ring.wait_caught_up("tokio", FIRST as i64 - 1);
    std::thread::sleep(Duration::from_millis(100));
    first.kill();
    // The C producer takes over and numbers on after the cursor.
    ring.publish_paced(SECOND);
    let [events, _, wakeups, first_event, last] = summary(c);
    assert_eq!(
        (events, first_event, last),
        (FIRST + SECOND, 0, FIRST + SECOND - 1)
    );
    // Woken through the fd, not only by the bounded re-arm.
    assert!(wakeups >= 1);
}

#[test]
fn an_armed_tokio_consumer_killed_and_restarted_under_its_name_gets_the_rest() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // Restarted after the next publish took the dead arming, or at once
    // (its arming still set, taken by the publish that wakes the new one).
    for publish_while_dead in [true, false] {
        let ring = TestRing::new(&format!("kill-consumer-{publish_while_dead}"));
        let total = 2 * FIRST + SECOND;
        let c = consumer(&ring, "tokio", total);
        produce(producer_exe(), &ring.name, FIRST, 1);
        ring.wait_caught_up("tokio", FIRST as i64 - 1);
        std::thread::sleep(Duration::from_millis(100));
        c.kill();
        let again = if publish_while_dead {
            // The next publish takes the dead arming (ECONNREFUSED,
            // ignored) and the producer finishes.
            produce(producer_exe(), &ring.name, FIRST, 1);
            // Same name, same entry: it resumes after its commit.
            let again = consumer(&ring, "tokio", total - FIRST);
            ring.publish_paced(SECOND);
            again
        } else {
            let again = consumer(&ring, "tokio", total - FIRST);
            ring.publish_paced(FIRST + SECOND);
            again
        };
        let [events, _, wakeups, first_event, last] = summary(again);
        assert_eq!(
            (events, first_event, last),
            (total - FIRST, FIRST, total - 1),
            "publish while dead: {publish_while_dead}"
        );
        assert!(wakeups >= 1);
    }
}

/// Not a test on its own: the role a test above spawns this binary for
/// (DMP_ASYNC_ROLE); without it, nothing.
#[test]
fn child_role() {
    let Ok(role) = std::env::var("DMP_ASYNC_ROLE") else {
        return;
    };
    // Ends libtest's "test child_role ... " line: what follows starts lines.
    println!();
    let var = |k: &str| std::env::var(k).unwrap();
    let (ring, name) = (var("DMP_ASYNC_RING"), var("DMP_ASYNC_NAME"));
    let count: u64 = var("DMP_ASYNC_COUNT").parse().unwrap();
    let ring = Ring::open(
        &Location::shm(&ring),
        &RingOptions::new().timeout(Duration::from_secs(10)),
    )
    .unwrap();
    match role.as_str() {
        "consumer" => consume(&ring, &name, count),
        "burst-then-sleep" => burst_then_sleep(&ring, count),
        _ => panic!("unknown role {role}"),
    }
}

/// Reads `count` events with the tokio consumer, checking each and that
/// the numbers follow each other; prints the summary.
fn consume(ring: &Ring, name: &str, count: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let consumer = ring.consumer(name, &[], WaitStrategy::Blocking).unwrap();
        let mut c = AsyncConsumer::new(consumer).unwrap();
        println!("ready {name}");
        let (mut got, mut batches, mut first, mut next) = (0u64, 0u64, None, 0u64);
        while got < count {
            let batch = tokio::time::timeout(T, c.next_batch())
                .await
                .expect("events within a minute")
                .unwrap();
            let hi = (*batch.end()).min(batch.start() + (count - got) as i64 - 1);
            for seq in *batch.start()..=hi {
                let n = check(c.consumer().slot(seq).unwrap());
                assert!(first.is_none() || n == next, "event {n}, expected {next}");
                first.get_or_insert(n);
                next = n + 1;
            }
            c.consumer().commit(hi).unwrap();
            got += (hi - batch.start() + 1) as u64;
            batches += 1;
        }
        println!(
            "consumed {got} events in {batches} batches, {} wake-ups, first event {}, last event {}",
            c.wakeups(),
            first.unwrap(),
            next - 1
        );
    });
}

/// Publishes `count` events in one call, numbered on from the cursor,
/// then sleeps a minute (to be killed meanwhile).
fn burst_then_sleep(ring: &Ring, count: u64) {
    let mut p = ring.producer(WaitStrategy::Blocking).unwrap();
    let lo = p.claim(count, T).unwrap();
    for k in 0..count as i64 {
        let n = (lo + k) as u64;
        let slot = p.slot_mut(lo + k).unwrap();
        slot[..8].copy_from_slice(&n.to_le_bytes());
        for (j, b) in slot.iter_mut().enumerate().skip(8) {
            *b = (n as u8).wrapping_mul(31).wrapping_add(j as u8);
        }
    }
    p.publish(lo, lo + count as i64 - 1).unwrap();
    println!("published {count}");
    std::thread::sleep(T);
}
