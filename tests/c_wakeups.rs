//! The C ABI's fast paths wake sleepers: a C producer's `dmp_publish`
//! wakes a Rust consumer asleep on the futex, and a C consumer's
//! `dmp_commit` wakes a Rust producer asleep on a full ring. Both C
//! programs pause (RING_GAP_US) before each call, so that the peer is
//! asleep when it comes; the ring-wide wake-ups count (which counts the
//! futex calls made) shows the calls woke it.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;
use support::{dmp, run, Proc, ShmName};

const T: Duration = Duration::from_secs(120);
/// Long enough for the peer to spin, yield and fall asleep on the futex.
const GAP_US: &str = "3000";

/// `tests/c/SOURCE`, built once per test process (tests running at once
/// must not rebuild a program another one is starting).
fn c_program(source: &'static str) -> PathBuf {
    static BUILT: Mutex<Vec<(&'static str, PathBuf)>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, exe)) = built.iter().find(|(s, _)| *s == source) {
        return exe.clone();
    }
    let path = support::repo_root().join("tests/c").join(source);
    let out = source.trim_end_matches(".c").to_string() + "_wake";
    let exe = support::compile_c(&[&path], &out, false);
    built.push((source, exe.clone()));
    exe
}

/// The ring-wide count of futex wake-ups made (`dmp stat --json`).
fn wakeups(name: &ShmName) -> u64 {
    let mut stat = dmp();
    stat.args(["stat", "--json", &name.0]);
    let (ok, out) = run(stat, "dmp stat", T);
    assert!(ok, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("stat json");
    v["wakeups"].as_u64().expect("wakeups")
}

#[test]
fn a_c_publish_wakes_a_sleeping_rust_consumer() {
    c_producer_wakes_a_consumer("cwake-p", "1");
}

#[test]
fn a_c_publish_one_wakes_a_sleeping_rust_consumer() {
    c_producer_wakes_a_consumer("cwake-p1", "0");
}

/// A C producer pausing before each `dmp_claim`/`dmp_publish` (`batch`
/// "1") or each `dmp_publish_one` ("0") ahead of a Rust consumer that
/// blocks.
fn c_producer_wakes_a_consumer(tag: &str, batch: &str) {
    let producer = c_program("ring_producer.c");
    let name = ShmName::new(tag);
    let count = 40u64;
    let mut pc = Command::new(producer);
    pc.args([name.0.as_str(), &count.to_string(), batch, "create"])
        .env("RING_GAP_US", GAP_US)
        .stdin(std::process::Stdio::piped());
    let mut c_producer = Proc::spawn(pc, "C producer");
    c_producer.wait_line("created", Duration::from_secs(20));
    let mut cc = dmp();
    cc.args(["consume", &name.0, "--name", "sleeper"]).args([
        "--count",
        &count.to_string(),
        "--wait",
        "block",
    ]);
    let mut consumer = Proc::spawn(cc, "Rust consumer");
    consumer.wait_line("ready", Duration::from_secs(20));
    c_producer.send_line("go");
    c_producer.succeed(T);
    let out = consumer.succeed(T);
    assert!(out.contains(&format!("consumed {count} events")), "{out}");
    // The consumer sleeps through nearly every gap; each publish then
    // finds it counted and makes the call (a quarter leaves room for
    // events that arrive while it still spins).
    let woken = wakeups(&name);
    assert!(woken >= count / 4, "{woken} wake-ups for {count} publishes");
}

#[test]
fn a_c_commit_wakes_a_rust_producer_asleep_on_a_full_ring() {
    c_consumer_wakes_a_producer("cwake-c", &[]);
}

#[test]
fn a_c_consume_one_wakes_a_rust_producer_asleep_on_a_full_ring() {
    c_consumer_wakes_a_producer("cwake-1", &["one"]);
}

/// A C consumer pausing before each `dmp_commit` (`mode` empty) or each
/// `dmp_consume_one` (`["one"]`) behind a Rust producer that blocks.
fn c_consumer_wakes_a_producer(tag: &str, mode: &[&str]) {
    let consumer = c_program("ring_consumer.c");
    let name = ShmName::new(tag);
    let mut create = dmp();
    create.args(["create", &name.0, "--capacity", "64", "--slot-size", "24"]);
    let (ok, out) = run(create, "dmp create", T);
    assert!(ok, "{out}");
    // Ten rings' worth: the producer fills the ring and sleeps until the
    // consumer's next commit, about ten times.
    let count = 640u64;
    let mut cc = Command::new(consumer);
    cc.args([name.0.as_str(), "c-consumer", &count.to_string()])
        .args(mode)
        .env("RING_GAP_US", GAP_US);
    let mut c_consumer = Proc::spawn(cc, "C consumer");
    c_consumer.wait_line("ready", Duration::from_secs(20));
    let before = wakeups(&name);
    let mut p = dmp();
    p.args(["produce", &name.0, "--count", &count.to_string()])
        .args(["--batch", "8", "--first", "0", "--wait", "block"]);
    Proc::spawn(p, "Rust producer").succeed(T);
    let out = c_consumer.succeed(T);
    assert!(
        out.contains(&format!(
            "consumed {count} events, last event {}",
            count - 1
        )),
        "{out}"
    );
    let woken = wakeups(&name) - before;
    assert!(
        woken >= 3,
        "{woken} wake-ups of a producer held back 10 times"
    );
}
