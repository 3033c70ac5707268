//! A ring's lifecycle between real processes: removing a ring is refused
//! while another process takes part (naming it) and goes with force;
//! retiring a dead required consumer lets a held-back producer (another
//! process) go on, is refused while its holder lives, and is counted in
//! `dmp stat` (text, JSON, Prometheus); a consumer joining at the oldest
//! event reads what a producer process published before it joined, with
//! `lost_on_join` exact.
//!
//! Every wait is bounded; segments are removed by their guards.

mod support;

use disruptor_mp::{ConsumerOptions, Error, Ring, RingOptions, WaitStrategy};
use std::time::{Duration, Instant};
use support::{dmp, Proc, ShmName};

const T: Duration = Duration::from_secs(60);

fn ring(name: &ShmName, capacity: u64) -> Ring {
    Ring::create(
        &name.location(),
        &RingOptions::new().capacity(capacity).slot_size(64),
    )
    .unwrap()
}

fn consumer_proc(name: &ShmName, consumer: &str, extra: &[&str]) -> Proc {
    let mut c = dmp();
    c.args(["consume", &name.0, "--name", consumer, "--wait", "yield"])
        .args(["--timeout-ms", "30000"])
        .args(extra);
    let mut p = Proc::spawn(c, &format!("consumer {consumer}"));
    p.wait_line("ready ", T);
    p
}

fn kill(p: &Proc) {
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    let rc = unsafe { libc::kill(p.child.id() as i32, libc::SIGKILL) };
    assert_eq!(rc, 0, "kill of {}", p.what);
}

fn tool(args: &[&str]) -> (bool, String) {
    let mut c = dmp();
    c.args(args);
    support::run(c, &format!("dmp {}", args.join(" ")), T)
}

#[test]
fn removing_a_ring_another_process_uses_is_refused_naming_it_and_goes_with_force() {
    let name = ShmName::new("rm-live");
    let r = ring(&name, 64);
    let c = consumer_proc(&name, "watcher", &[]);
    let pid = c.child.id();
    let e = Ring::remove(&name.location(), false).unwrap_err();
    assert!(matches!(e, Error::RingInUse { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains(&name.0)
            && msg.contains(&format!("consumer 'watcher' (pid {pid})"))
            && msg.contains("force"),
        "{msg}"
    );
    assert_eq!(e.status(), disruptor_mp::Status::NameInUse);
    assert!(name.path().exists());
    // `dmp rm` goes by the same rule.
    let (ok, out) = tool(&["rm", &name.0]);
    assert!(!ok && out.contains(&format!("pid {pid}")), "{out}");
    let live = Ring::remove(&name.location(), true).unwrap();
    assert_eq!(live, vec![format!("consumer 'watcher' (pid {pid})")]);
    assert!(!name.path().exists());
    kill(&c);
    let _ = c.finish(T);
    drop(r);
}

#[test]
fn retiring_a_dead_required_consumer_lets_the_producer_go_on_and_is_counted() {
    let name = ShmName::new("retire");
    let r = ring(&name, 64);
    let c = consumer_proc(&name, "ledger", &["--pause-us", "2000"]);
    let pid = c.child.id();
    let mut p = dmp();
    p.args(["produce", &name.0, "--count", "2000", "--batch", "8"])
        .args(["--wait", "yield", "--timeout-ms", "30000"])
        .args(["--consumer-dead-ms", "60000"]);
    let p = Proc::spawn(p, "producer");
    let start = Instant::now();
    while r.snapshot().back_pressure_waits == 0 {
        assert!(start.elapsed() < T, "the producer never waited");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Refused while its holder lives, naming the pid.
    let e = r.retire_consumer("ledger").unwrap_err();
    assert!(matches!(e, Error::ConsumerAlive { .. }), "{e:?}");
    assert!(e.to_string().contains(&format!("pid {pid}")), "{e}");
    let (ok, out) = tool(&["retire", &name.0, "ledger"]);
    assert!(!ok && out.contains(&format!("pid {pid}")), "{out}");
    kill(&c);
    let _ = c.finish(T);
    // Dead now: the tool retires it, and the held-back producer goes on.
    let (ok, out) = tool(&["retire", &name.0, "ledger"]);
    assert!(ok && out.contains("retired consumer \"ledger\""), "{out}");
    let out = p.succeed(T);
    assert!(!out.contains("dead"), "{out}");
    assert!(r.consumers().iter().all(|c| c.name != "ledger"));
    // Counted, in every look of `dmp stat`.
    let (ok, json) = tool(&["stat", &name.0, "--json"]);
    assert!(ok && json.contains("\"retired\":1"), "{json}");
    let (ok, text) = tool(&["stat", &name.0]);
    assert!(ok && text.contains("retired 1"), "{text}");
    let (ok, prom) = tool(&["stat", &name.0, "--prometheus"]);
    assert!(
        ok && prom
            .lines()
            .any(|l| l.starts_with("dmp_ring_retired_consumers_total{") && l.ends_with(" 1")),
        "{prom}"
    );
    // Nothing left to retire; the name joins again, fresh, at the head.
    let (ok, out) = tool(&["retire", &name.0, "ledger"]);
    assert!(!ok && out.contains("no consumer named"), "{out}");
    let again = r.consumer("ledger", &[], WaitStrategy::Yield).unwrap();
    assert_eq!((again.committed(), again.lost_on_join()), (1999, 0));
}

fn read_all(c: &mut disruptor_mp::Consumer, until: i64) -> Vec<u64> {
    let mut got = Vec::new();
    while c.committed() < until {
        let next = c.next_sequence();
        let hi = c.wait_for(next, T).unwrap();
        for s in next..=hi {
            got.push(u64::from_ne_bytes(
                c.slot(s).unwrap()[..8].try_into().unwrap(),
            ));
        }
        c.commit(hi).unwrap();
    }
    got
}

#[test]
fn a_consumer_joining_at_the_oldest_event_reads_what_another_process_published_before() {
    let name = ShmName::new("oldest");
    let r = ring(&name, 64);
    let oldest = ConsumerOptions::new().join_at_oldest(true);
    // "a" gates from the start; a producer process publishes 10 and leaves.
    let mut a = r.consumer("a", &[], WaitStrategy::Yield).unwrap();
    let (ok, out) = tool(&["produce", &name.0, "--count", "10", "--first", "0"]);
    assert!(ok, "{out}");
    // Behind the slowest gating consumer: everything a has not read.
    let mut b = r.consumer_with("b", &oldest).unwrap();
    assert_eq!((b.committed(), b.lost_on_join()), (-1, 0));
    assert_eq!(read_all(&mut b, 9), (0..10).collect::<Vec<_>>());
    let first = a.next_sequence();
    let hi = a.wait_for(first, T).unwrap();
    a.commit(hi.min(5)).unwrap();
    let mut c = r.consumer_with("c", &oldest).unwrap();
    assert_eq!((c.committed(), c.lost_on_join()), (5, 6));
    assert_eq!(read_all(&mut c, 9), (6..10).collect::<Vec<_>>());
    // The default joins at the cursor.
    let d = r.consumer("d", &[], WaitStrategy::Yield).unwrap();
    assert_eq!((d.committed(), d.lost_on_join()), (9, 0));
    drop((a, b, c, d));
    // No consumer gates and no producer is attached: the whole ring.
    let mut e = r.consumer_with("e", &oldest).unwrap();
    assert_eq!((e.committed(), e.lost_on_join()), (-1, 0));
    assert_eq!(read_all(&mut e, 9), (0..10).collect::<Vec<_>>());
    drop(e);
    // An attached producer nothing holds back may be overwriting any slot:
    // nothing is retained for certain, it joins at the cursor.
    let p = r.producer(WaitStrategy::Yield).unwrap();
    let f = r.consumer_with("f", &oldest).unwrap();
    assert_eq!((f.committed(), f.lost_on_join()), (9, 10));
    drop((f, p));
}

#[test]
fn the_c_abi_reclaims_refuses_removes_joins_at_the_oldest_and_retires() {
    let exe = support::compile_c(
        &[&support::repo_root().join("tests/c/lifecycle.c")],
        "lifecycle",
        false,
    );
    // A stale ring: a producer process attached once and left.
    let name = ShmName::new("c-lifecycle");
    let (ok, out) = tool(&["create", &name.0, "--capacity", "16", "--slot-size", "8"]);
    assert!(ok, "{out}");
    let (ok, out) = tool(&["produce", &name.0, "--count", "1"]);
    assert!(ok, "{out}");
    let mut c = std::process::Command::new(exe);
    c.arg(&name.0);
    let (ok, out) = support::run(c, "lifecycle", T);
    assert!(ok && out.contains(" passed, 0 failed"), "{out}");
}
