//! The `dmp` tool as an operator uses it, against real processes: a
//! `stat` table that fits 80 columns (`--wide`, `$COLUMNS`), "last active"
//! from what moved between two looks, held-back lines that say "waits"
//! only when a producer does, `--watch` noticing a recreated ring
//! (stat.rs); `ls --json` with the fields OPERATIONS.md lists, `rm
//! --stale`, `--all` alike in `ls` and `stat`, the unlinked rings
//! processes still use (ls_rm.rs); one exit code per kind of failure and
//! README's command table against `dmp --help` (codes_docs.rs).

#[path = "../support/mod.rs"]
mod support;

mod codes_docs;
mod ls_rm;
mod stat;

use disruptor_mp::{Ring, RingOptions, WaitStrategy};
use std::time::{Duration, Instant};
use support::{dmp, Proc, ShmName};

const T: Duration = Duration::from_secs(120);
pub const READY: Duration = Duration::from_secs(20);

/// Runs `dmp ARGS` to the end: (exit code, stdout + stderr).
pub fn dmp_code(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut c = dmp();
    c.args(args).env_remove("COLUMNS");
    for (k, v) in env {
        c.env(k, v);
    }
    let (status, out) = Proc::spawn(c, &args.join(" ")).finish_status(T);
    (status.code().unwrap_or(-1), out)
}

pub fn ok(args: &[&str]) -> String {
    let (code, out) = dmp_code(args, &[]);
    assert_eq!(code, 0, "dmp {} failed:\n{out}", args.join(" "));
    out
}

pub fn consumer(target: &[&str], name: &str, extra: &[&str]) -> Proc {
    let mut c = dmp();
    c.arg("consume")
        .args(target)
        .args(["--name", name, "--timeout-ms", "60000"])
        .args(extra);
    let mut p = Proc::spawn(c, &format!("consumer {name}"));
    p.wait_line("ready", READY);
    p
}

pub fn producer(target: &[&str], extra: &[&str]) -> Proc {
    let mut c = dmp();
    c.arg("produce")
        .args(target)
        .args(["--timeout-ms", "60000"])
        .args(extra);
    Proc::spawn(c, "producer")
}

/// Waits (bounded) until `f` holds.
pub fn until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < READY, "never: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The table line of consumer `name` in `dmp stat` output, as words.
pub fn consumer_row(out: &str, name: &str) -> Vec<String> {
    out.lines()
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .find(|w| w.get(1).map(String::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no consumer {name} in:\n{out}"))
}

/// A ring in which consumer 'slow' (this process) holds 64 slots full,
/// 'fast' (this process) is caught up and a live producer waits.
pub struct FullRing {
    pub name: ShmName,
    _ring: Ring,
    pub producer: Proc,
}

pub fn full_ring(tag: &str) -> FullRing {
    let name = ShmName::new(tag);
    ok(&["create", &name.0, "--capacity", "64", "--slot-size", "16"]);
    let ring = Ring::open(&name.location(), &RingOptions::new()).unwrap();
    let mut fast = ring.consumer("fast", &[], WaitStrategy::Yield).unwrap();
    let _slow = ring.consumer("slow", &[], WaitStrategy::Yield).unwrap();
    let producer = producer(&[&name.0], &["--count", "1000"]);
    until("the producer fills the ring", || {
        if let Ok(last) = fast.wait_for(fast.next_sequence(), Duration::from_millis(1)) {
            fast.commit(last).unwrap();
        }
        let s = ring.snapshot();
        s.cursor == 63 && fast.committed() == 63 && s.back_pressure_waits > 0
    });
    // Both entries stay registered (and leased) with the ring handle.
    std::mem::forget(fast);
    std::mem::forget(_slow);
    FullRing {
        name,
        _ring: ring,
        producer,
    }
}
