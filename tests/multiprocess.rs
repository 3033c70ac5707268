//! Real processes share one ring: fan-out, pipelines, diamonds, every wait
//! strategy, create races and attach-before-create. Producers and consumers
//! are `dmp produce` / `dmp consume` processes, which verify every payload
//! and the order of events.

mod support;

use std::time::Duration;
use support::{dmp, run, Proc, ShmName};

const T: Duration = Duration::from_secs(120);
const READY: Duration = Duration::from_secs(20);

fn create(name: &ShmName, capacity: u64, slot_size: u64) {
    create_with(name, capacity, slot_size, &[]);
}

fn create_with(name: &ShmName, capacity: u64, slot_size: u64, extra: &[&str]) {
    let mut c = dmp();
    c.args(["create", &name.0, "--capacity", &capacity.to_string()])
        .args(["--slot-size", &slot_size.to_string()])
        .args(extra);
    let (ok, out) = run(c, "dmp create", T);
    assert!(ok, "{out}");
}

fn consumer(name: &ShmName, cname: &str, after: &[&str], count: u64, wait: &str) -> Proc {
    let mut c = dmp();
    c.args([
        "consume",
        &name.0,
        "--name",
        cname,
        "--count",
        &count.to_string(),
    ])
    .args(["--wait", wait, "--timeout-ms", "30000"]);
    if !after.is_empty() {
        c.args(["--after", &after.join(","), "--check-dependencies"]);
    }
    let mut p = Proc::spawn(c, &format!("consumer {cname}"));
    p.wait_line("ready", READY);
    p
}

fn producer(name: &ShmName, count: u64, batch: u64, wait: &str, extra: &[&str]) -> Proc {
    let mut c = dmp();
    c.args(["produce", &name.0, "--count", &count.to_string()])
        .args([
            "--batch",
            &batch.to_string(),
            "--wait",
            wait,
            "--first",
            "0",
        ])
        .args(extra);
    Proc::spawn(c, "producer")
}

/// Every consumer saw events 0..count, each once and in order.
fn assert_consumed_all(p: Proc, count: u64) {
    let out = p.succeed(T);
    assert!(
        out.contains(&format!("consumed {count} events"))
            && out.contains(&format!("last event {}", count - 1)),
        "{out}"
    );
}

#[test]
fn fan_out_to_one_two_and_three_consumer_processes_with_constant_wrap_around() {
    let _serial = support::serial();
    for (consumers, count, wait) in [
        (1, 2_000_000, "yield"),
        (2, 1_000_000, "yield"),
        (3, 500_000, "block"),
    ] {
        let name = ShmName::new("fanout");
        // 64 slots: the producer laps the ring constantly and is held back.
        create(&name, 64, 24);
        let cs: Vec<Proc> = (0..consumers)
            .map(|i| consumer(&name, &format!("c{i}"), &[], count, wait))
            .collect();
        let p = producer(&name, count, 7, wait, &[]);
        p.succeed(T);
        for c in cs {
            assert_consumed_all(c, count);
        }
    }
}

#[test]
fn packed_rings_move_every_event_with_every_strategy() {
    let _serial = support::serial();
    for (wait, slot) in [("spin", 8), ("yield", 12), ("block", 20)] {
        let name = ShmName::new("packed");
        create_with(&name, 64, slot, &["--packed"]);
        let count = 300_000;
        let a = consumer(&name, "a", &[], count, wait);
        let b = consumer(&name, "b", &["a"], count, wait);
        producer(&name, count, 5, wait, &[]).succeed(T);
        assert_consumed_all(a, count);
        assert_consumed_all(b, count);
    }
}

#[test]
fn pipeline_a_then_b() {
    let _serial = support::serial();
    let name = ShmName::new("pipeline");
    create(&name, 128, 16);
    let count = 300_000;
    let a = consumer(&name, "a", &[], count, "yield");
    let b = consumer(&name, "b", &["a"], count, "yield");
    producer(&name, count, 16, "yield", &[]).succeed(T);
    assert_consumed_all(a, count);
    assert_consumed_all(b, count);
}

#[test]
fn diamond_c_reads_only_what_a_and_b_committed() {
    let _serial = support::serial();
    let name = ShmName::new("diamond");
    create(&name, 64, 8);
    let count = 200_000;
    let a = consumer(&name, "a", &[], count, "block");
    let b = consumer(&name, "b", &[], count, "block");
    let c = consumer(&name, "c", &["a", "b"], count, "block");
    producer(&name, count, 5, "block", &[]).succeed(T);
    assert_consumed_all(a, count);
    assert_consumed_all(b, count);
    assert_consumed_all(c, count);
}

#[test]
fn every_wait_strategy_moves_every_event() {
    let _serial = support::serial();
    for wait in ["spin", "yield", "sleep:20", "block"] {
        let name = ShmName::new("strategy");
        create(&name, 256, 64);
        let count = 200_000;
        let c = consumer(&name, "c", &[], count, wait);
        producer(&name, count, 32, wait, &[]).succeed(T);
        assert_consumed_all(c, count);
    }
}

#[test]
fn blocking_consumer_sleeps_between_bursts_and_wakes_for_each() {
    let _serial = support::serial();
    let name = ShmName::new("futex");
    create(&name, 1024, 8);
    // 40 bursts of 100 events, 25 ms apart: the consumer spends most of the
    // run asleep on the futex and must wake for every burst.
    let count = 4_000;
    let c = consumer(&name, "sleepy", &[], count, "block");
    producer(&name, count, 100, "block", &["--pause-us", "25000"]).succeed(T);
    assert_consumed_all(c, count);
}

#[test]
fn create_race_has_exactly_one_winner() {
    let _serial = support::serial();
    for open_existing in [false, true] {
        let name = ShmName::new("race");
        let racers: Vec<Proc> = (0..3)
            .map(|_| {
                let mut c = dmp();
                c.args(["create", &name.0, "--capacity", "1024"]);
                if open_existing {
                    c.arg("--open-existing");
                }
                Proc::spawn(c, "creator")
            })
            .collect();
        let results: Vec<(bool, String)> = racers.into_iter().map(|p| p.finish(T)).collect();
        let created = results
            .iter()
            .filter(|(ok, o)| *ok && o.contains("created"))
            .count();
        assert_eq!(created, 1, "{results:?}");
        for (ok, out) in &results {
            if open_existing {
                assert!(*ok, "{out}");
            } else if !out.contains("created") {
                assert!(!ok && out.contains("already exists"), "{out}");
            }
        }
    }
}

#[test]
fn consumer_attaches_before_the_ring_exists() {
    let _serial = support::serial();
    let name = ShmName::new("early");
    let mut c = dmp();
    c.args([
        "consume",
        &name.0,
        "--name",
        "early",
        "--count",
        "1000",
        "--timeout-ms",
        "20000",
    ]);
    let mut early = Proc::spawn(c, "early consumer");
    std::thread::sleep(Duration::from_millis(300));
    create(&name, 64, 8);
    early.wait_line("ready", READY);
    producer(&name, 1000, 10, "yield", &[]).succeed(T);
    assert_consumed_all(early, 1000);
}

#[test]
fn attach_to_a_ring_that_never_appears_times_out_cleanly() {
    let _serial = support::serial();
    let name = ShmName::new("never");
    let mut c = dmp();
    c.args(["consume", &name.0, "--name", "x", "--timeout-ms", "200"]);
    let (ok, out) = run(c, "consumer", T);
    assert!(!ok);
    assert!(out.contains("timed out") && out.contains(&name.0), "{out}");
    assert!(!name.path().exists());
}

#[test]
fn file_backed_ring_keeps_events_and_cursor_across_processes() {
    let _serial = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring.dmp");
    let p = path.to_str().unwrap();
    let mut c = dmp();
    c.args([
        "create",
        "--file",
        p,
        "--capacity",
        "1024",
        "--slot-size",
        "32",
    ]);
    assert!(run(c, "create", T).0);
    let mut c = dmp();
    c.args(["produce", "--file", p, "--count", "500", "--first", "0"]);
    assert!(run(c, "producer", T).0);
    // A second producer process continues after the published cursor.
    let mut c = dmp();
    c.args(["produce", "--file", p, "--count", "10"]);
    let (ok, out) = run(c, "producer", T);
    assert!(ok && out.contains("last sequence 509"), "{out}");
    let mut c = dmp();
    c.args(["inspect", "--file", p]);
    let (ok, out) = run(c, "inspect", T);
    assert!(ok && out.contains("cursor         509"), "{out}");
}

fn cursor_of(name: &ShmName) -> i64 {
    let mut c = dmp();
    c.args(["inspect", &name.0]);
    let (ok, out) = run(c, "inspect", T);
    assert!(ok, "{out}");
    out.lines()
        .find_map(|l| l.strip_prefix("cursor"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no cursor in {out}"))
}

#[test]
fn a_killed_producer_is_replaced_and_its_successor_resumes_after_the_cursor() {
    let _serial = support::serial();
    let name = ShmName::new("prodkill");
    create(&name, 1024, 8);
    let mut first = producer(&name, 1 << 40, 1, "yield", &["--pause-us", "200"]);
    // Wait until it has published something.
    let start = std::time::Instant::now();
    while cursor_of(&name) < 10 {
        assert!(
            start.elapsed() < READY,
            "the first producer never published"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let (ok, out) = run(producer_cmd(&name, 1), "second producer", T);
    assert!(!ok && out.contains("already has a live producer"), "{out}");
    first.child.kill().unwrap(); // SIGKILL: no chance to clean up
    first.child.wait().unwrap();
    let cursor = cursor_of(&name);
    let (ok, out) = run(producer_cmd(&name, 10), "successor", T);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("last sequence {}", cursor + 10)),
        "cursor {cursor}: {out}"
    );
}

fn producer_cmd(name: &ShmName, count: u64) -> std::process::Command {
    let mut c = dmp();
    c.args([
        "produce",
        &name.0,
        "--count",
        &count.to_string(),
        "--timeout-ms",
        "5000",
    ]);
    c
}

#[test]
fn a_killed_consumers_name_can_be_taken_again() {
    let _serial = support::serial();
    let name = ShmName::new("conskill");
    create(&name, 64, 8);
    let mut first = consumer(&name, "audit", &[], 1, "block");
    let mut again = dmp();
    again.args(["consume", &name.0, "--name", "audit", "--count", "1"]);
    let (ok, out) = run(again, "duplicate consumer", T);
    assert!(!ok && out.contains("held by a live consumer"), "{out}");
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let successor = consumer(&name, "audit", &[], 5, "block");
    producer(&name, 5, 1, "yield", &[]).succeed(T);
    assert_consumed_all(successor, 5);
}

/// The one-event calls (`publish_with`, `consume_with`) between processes:
/// a small ring that wraps thousands of times, every payload and the order
/// checked by the consumer, in a single- and a multi-producer ring, with
/// the blocking strategy (wake-ups every way) and busy-spin.
#[test]
fn one_event_calls_move_every_event_between_processes() {
    let _serial = support::serial();
    for (multi, wait) in [(false, "block"), (false, "spin"), (true, "block")] {
        let name = ShmName::new(&format!("one-{multi}-{wait}"));
        create_with(&name, 64, 24, if multi { &["--multi"] } else { &[] });
        let count = 200_000u64;
        let mut c = dmp();
        c.args(["consume", &name.0, "--name", "one", "--one-event"])
            .args(["--count", &count.to_string(), "--wait", wait])
            .args(["--timeout-ms", "30000"]);
        let mut consumer = Proc::spawn(c, "one-event consumer");
        consumer.wait_line("ready", READY);
        producer(&name, count, 1, wait, &["--one-event"]).succeed(T);
        assert_consumed_all(consumer, count);
    }
}

/// CPU time (user + system, in clock ticks) `pid` has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    let rest = &stat[stat.rfind(')').expect("comm field") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the comm.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// A blocking consumer with nothing to read sleeps in the kernel: over a
/// second asleep it uses (almost) no CPU, and the producer's publish still
/// wakes it (the ring's futex wake-ups counter moves).
#[test]
fn a_blocking_consumer_asleep_for_a_second_uses_no_cpu_and_is_woken() {
    let _serial = support::serial();
    let name = ShmName::new("asleep");
    create(&name, 64, 8);
    let mut consumer = consumer(&name, "sleeper", &[], 1, "block");
    let pid = consumer.child.id();
    consumer.wait_line("joined at", READY);
    // Past the spin phase and into the futex.
    std::thread::sleep(Duration::from_millis(200));
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(pid) - before;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    // A spinning consumer would use the whole second (hz ticks); a sleeper
    // wakes every 50 ms slice at most. Allow for a tick of accounting.
    assert!(
        used * 20 <= hz,
        "the sleeping consumer used {used} of {hz} ticks in a second"
    );
    let mut stat = dmp();
    stat.args(["stat", "--json", &name.0]);
    let wakeups = |out: &str| -> u64 {
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("stat json");
        v["wakeups"].as_u64().expect("wakeups")
    };
    let (ok, out) = run(stat, "dmp stat", T);
    assert!(ok, "{out}");
    let wakeups_before = wakeups(&out);
    producer(&name, 1, 1, "block", &["--one-event"]).succeed(T);
    assert_consumed_all(consumer, 1);
    let mut stat = dmp();
    stat.args(["stat", "--json", &name.0]);
    let (ok, out) = run(stat, "dmp stat", T);
    assert!(ok, "{out}");
    assert!(
        wakeups(&out) > wakeups_before,
        "the publish woke the sleeper: {out}"
    );
}
