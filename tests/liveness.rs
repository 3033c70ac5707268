//! Liveness between real processes (`dmp produce` / `dmp consume`): a dead
//! required consumer fails the producer with an error naming it, one that
//! comes back in time is carried on with; a stalled (SIGSTOPped) required
//! consumer raises an alert, then an error, unless it resumes within the
//! grace period; optional consumers are evicted when dead or stopped and
//! learn it, with what they lost, and rejoin; a consumer killed and
//! restarted under its name 100 times resumes from its committed sequence
//! every time; the readiness gate holds the first publish back.
//!
//! Every wait is bounded; segments are removed by their guards, also on
//! failure. At most three processes run, with yielding waits.

mod support;

use std::time::{Duration, Instant};
use support::{dmp, Proc, ShmName};

const T: Duration = Duration::from_secs(60);

fn create(name: &ShmName, capacity: u64) {
    let mut c = dmp();
    c.args(["create", &name.0, "--capacity", &capacity.to_string()])
        .args(["--slot-size", "64"]);
    let (ok, out) = support::run(c, "dmp create", T);
    assert!(ok, "{out}");
}

fn consumer(name: &ShmName, consumer: &str, extra: &[&str]) -> Proc {
    let mut c = dmp();
    c.args(["consume", &name.0, "--name", consumer, "--wait", "yield"])
        .args(["--timeout-ms", "10000"])
        .args(extra);
    let mut p = Proc::spawn(c, &format!("consumer {consumer}"));
    p.wait_line("ready ", T);
    p
}

fn producer(name: &ShmName, count: u64, extra: &[&str]) -> Proc {
    let mut c = dmp();
    c.args(["produce", &name.0, "--count", &count.to_string()])
        .args(["--batch", "8", "--wait", "yield", "--timeout-ms", "10000"])
        .args(extra);
    Proc::spawn(c, "producer")
}

fn signal(p: &Proc, sig: i32) {
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    let rc = unsafe { libc::kill(p.child.id() as i32, sig) };
    assert_eq!(rc, 0, "kill({sig}) of {}", p.what);
}

/// `dmp stat --json` of the ring: a third process reads the counters.
fn stat(name: &ShmName) -> String {
    let mut c = dmp();
    c.args(["stat", &name.0, "--json"]);
    let (ok, out) = support::run(c, "dmp stat", T);
    assert!(ok, "{out}");
    out
}

fn json_u64(json: &str, key: &str) -> u64 {
    let at = json
        .find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("no {key} in {json}"));
    json[at + key.len() + 3..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|e| panic!("{key} in {json}: {e}"))
}

/// The number after `key` in `text` (for example "lost on join 0").
fn number_after(text: &str, key: &str) -> i64 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("no {key:?} in:\n{text}"));
    text[at + key.len()..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect::<String>()
        .parse()
        .unwrap_or_else(|e| panic!("{key:?} in:\n{text}: {e}"))
}

/// Waits until the producer is held back (its back-pressure waits grow),
/// so a signal lands while the ring is full.
fn until_held_back(name: &ShmName) {
    let start = Instant::now();
    while json_u64(&stat(name), "back_pressure_waits") == 0 {
        assert!(start.elapsed() < T, "the producer never waited");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_dead_required_consumer_fails_the_producer_with_an_error_naming_it() {
    let name = ShmName::new("deadreq");
    create(&name, 64);
    let c = consumer(&name, "ledger", &["--pause-us", "2000"]);
    let p = producer(&name, 1_000_000, &["--consumer-dead-ms", "300"]);
    until_held_back(&name);
    signal(&c, libc::SIGKILL);
    let started = Instant::now();
    let (ok, out) = p.finish(T);
    assert!(!ok, "the producer went on past a dead consumer:\n{out}");
    assert!(
        out.contains("required consumer \"ledger\"") && out.contains("is dead"),
        "{out}"
    );
    // Within the configured time plus slack for a loaded machine; not a
    // timing assertion about speed, only that the bound is not ignored.
    assert!(started.elapsed() < Duration::from_secs(30), "{out}");
    drop(c);
}

#[test]
fn a_consumer_killed_and_restarted_100_times_resumes_from_its_commit_each_time() {
    let name = ShmName::new("restart");
    create(&name, 64);
    let events: u64 = 200_000;
    let mut c = consumer(&name, "audit", &["--max-batch", "16"]);
    let mut joined = vec![number_after(
        &c.wait_line("joined at", T),
        "joined at sequence",
    )];
    // Paced, so that it is still publishing when the restarts end.
    let p = producer(&name, events, &["--pause-us", "20"]);
    // Seeded, so a failing run can be replayed with the same pauses.
    let seed: u64 = std::env::var("DMP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    let mut rng = seed;
    for round in 0..100 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_micros(500 + rng % 3000));
        signal(&c, libc::SIGKILL);
        let _ = c.child.wait();
        c = consumer(&name, "audit", &["--max-batch", "16", "--drain-ms", "500"]);
        let line = c.wait_line("joined at", T);
        assert_eq!(
            number_after(&line, "lost on join"),
            0,
            "round {round} (DMP_SEED={seed}): {line}"
        );
        let at = number_after(&line, "joined at sequence");
        assert!(
            at >= *joined.last().unwrap(),
            "round {round} (DMP_SEED={seed}): went back from {} to {at}",
            joined.last().unwrap()
        );
        joined.push(at);
    }
    p.succeed(T);
    // The last incarnation consumed everything after its start, in order
    // (the tool checks each event follows the one before), through the end.
    let out = c.succeed(T);
    let start = *joined.last().unwrap();
    assert_eq!(
        number_after(&out, "consumed"),
        events as i64 - 1 - start,
        "{out}"
    );
    if start < events as i64 - 1 {
        assert_eq!(number_after(&out, "last event"), events as i64 - 1, "{out}");
    }
    assert!(
        stat(&name).contains(&format!("\"sequence\":{}", events - 1)),
        "the name did not commit through the last event"
    );
    assert!(
        joined.windows(2).any(|w| w[1] > w[0]),
        "the consumer never progressed between restarts: {joined:?}"
    );
}

#[test]
fn a_required_consumer_that_comes_back_in_time_is_carried_on_with() {
    let name = ShmName::new("comeback");
    create(&name, 64);
    let c = consumer(&name, "ledger", &["--pause-us", "1000"]);
    let p = producer(&name, 20_000, &["--consumer-dead-ms", "20000"]);
    until_held_back(&name);
    signal(&c, libc::SIGKILL);
    drop(c);
    std::thread::sleep(Duration::from_millis(200));
    let again = consumer(&name, "ledger", &["--drain-ms", "500"]);
    p.succeed(T);
    let out = again.succeed(T);
    assert_eq!(number_after(&out, "last event"), 19_999, "{out}");
}

#[test]
fn a_stalled_required_consumer_raises_an_alert_then_an_error() {
    let name = ShmName::new("stall");
    create(&name, 64);
    let c = consumer(&name, "ledger", &[]);
    let p = producer(
        &name,
        1_000_000,
        &["--progress-ms", "200", "--grace-ms", "300"],
    );
    until_held_back(&name);
    signal(&c, libc::SIGSTOP);
    let (ok, out) = p.finish(T);
    signal(&c, libc::SIGCONT);
    assert!(!ok, "{out}");
    assert!(
        out.contains("alert: consumer 'ledger'"),
        "no alert before the error:\n{out}"
    );
    assert!(
        out.contains("required consumer \"ledger\"") && out.contains("made no progress"),
        "{out}"
    );
    assert!(json_u64(&stat(&name), "stall_alerts") >= 1);
}

#[test]
fn a_stalled_required_consumer_that_resumes_within_the_grace_period_is_carried_on_with() {
    let name = ShmName::new("grace");
    create(&name, 64);
    let c = consumer(&name, "ledger", &["--drain-ms", "500"]);
    let p = producer(
        &name,
        200_000,
        &["--progress-ms", "200", "--grace-ms", "20000"],
    );
    until_held_back(&name);
    signal(&c, libc::SIGSTOP);
    std::thread::sleep(Duration::from_millis(600));
    signal(&c, libc::SIGCONT);
    let out = p.succeed(T);
    assert!(out.contains("alert: consumer 'ledger'"), "{out}");
    let out = c.succeed(T);
    assert_eq!(number_after(&out, "last event"), 199_999, "{out}");
    assert_eq!(json_u64(&stat(&name), "stall_alerts"), 1);
}

#[test]
fn a_stopped_optional_consumer_is_evicted_learns_what_it_lost_and_rejoins() {
    let name = ShmName::new("evict");
    create(&name, 64);
    let c = consumer(
        &name,
        "dashboard",
        &[
            "--optional",
            "--max-block-ms",
            "50",
            "--rejoin",
            "--drain-ms",
            "500",
            // Slow enough that the producer is still held back when the
            // stop lands (a `dmp stat` takes a few hundred ms here, the
            // unpaced pair moved the 200 000 events in about 100 ms).
            "--pause-us",
            "1000",
        ],
    );
    let p = producer(&name, 200_000, &[]);
    until_held_back(&name);
    signal(&c, libc::SIGSTOP);
    // The producer finishes without it: eviction after 50 ms blocked.
    p.succeed(T);
    signal(&c, libc::SIGCONT);
    let out = c.succeed(T);
    assert!(out.contains("evicted after"), "{out}");
    let lost = number_after(&out, ", lost ");
    assert!(lost > 0, "{out}");
    assert!(out.contains("evicted 1 times"), "{out}");
    assert_eq!(json_u64(&stat(&name), "evictions"), 1);
}

#[test]
fn a_dead_optional_consumer_is_evicted_at_once_and_the_producer_never_fails() {
    let name = ShmName::new("evictdead");
    create(&name, 64);
    let c = consumer(
        &name,
        "dashboard",
        &[
            "--optional",
            "--max-block-ms",
            "60000",
            "--pause-us",
            "2000",
        ],
    );
    let p = producer(&name, 100_000, &[]);
    until_held_back(&name);
    signal(&c, libc::SIGKILL);
    drop(c);
    // A live consumer could hold it back a minute; a dead one not at all.
    p.succeed(T);
    let s = stat(&name);
    assert_eq!(json_u64(&s, "evictions"), 1, "{s}");
    assert!(s.contains("\"state\":\"evicted\""), "{s}");
}

#[test]
fn the_readiness_gate_holds_the_first_publish_back_until_the_named_consumers_are_there() {
    let name = ShmName::new("ready");
    create(&name, 1024);
    // Not there in time: a timeout naming what is missing.
    let mut c = dmp();
    c.args(["produce", &name.0, "--count", "10", "--timeout-ms", "300"])
        .args(["--expect-consumers", "1", "--expect-names", "billing"]);
    let (ok, out) = support::run(c, "gated producer", T);
    assert!(!ok, "{out}");
    assert!(
        out.contains("consumers to be ready") && out.contains("billing"),
        "{out}"
    );
    // Started before its consumers: it waits, and they see every event.
    let p = producer(
        &name,
        500,
        &["--expect-consumers", "2", "--expect-names", "billing,risk"],
    );
    std::thread::sleep(Duration::from_millis(100));
    let a = consumer(&name, "billing", &["--count", "500"]);
    let b = consumer(&name, "risk", &["--count", "500"]);
    p.succeed(T);
    for c in [a, b] {
        let what = c.what.clone();
        let out = c.succeed(T);
        assert_eq!(number_after(&out, "consumed"), 500, "{what}: {out}");
    }
}

#[test]
fn open_or_create_reclaims_a_stale_ring_only_when_asked_and_only_when_stale() {
    let name = ShmName::new("stale");
    create(&name, 64);
    let reopen = |reclaim: bool| {
        let mut c = dmp();
        c.args(["create", &name.0, "--capacity", "64", "--slot-size", "64"])
            .arg("--open-existing");
        if reclaim {
            c.arg("--reclaim-stale");
        }
        let (ok, out) = support::run(c, "dmp create --open-existing", T);
        assert!(ok, "{out}");
        out
    };
    // Never used: not stale, whatever is asked.
    assert!(reopen(true).starts_with("opened"));
    // A live consumer: not stale.
    let c = consumer(&name, "ledger", &[]);
    assert!(reopen(true).starts_with("opened"));
    // Everyone dead: stale, but only reclaimed when asked.
    signal(&c, libc::SIGKILL);
    drop(c);
    assert!(reopen(false).starts_with("opened"));
    assert!(reopen(true).starts_with("created"));
    // The new ring has none of the old one's history.
    let s = stat(&name);
    assert_eq!(json_u64(&s, "attaches"), 0, "{s}");
}

#[test]
fn a_file_backed_ring_keeps_events_and_consumer_positions_after_every_process_died() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring");
    let p = path.to_str().unwrap();
    let mut c = dmp();
    c.args([
        "create",
        "--file",
        p,
        "--capacity",
        "64",
        "--slot-size",
        "64",
    ]);
    let (ok, out) = support::run(c, "dmp create --file", T);
    assert!(ok, "{out}");
    let file_consumer = |extra: &[&str]| {
        let mut c = dmp();
        c.args([
            "consume", "--file", p, "--name", "ledger", "--wait", "yield",
        ])
        .args(["--timeout-ms", "10000"])
        .args(extra);
        let mut proc = Proc::spawn(c, "file consumer");
        proc.wait_line("ready ", T);
        proc
    };
    let first = file_consumer(&["--pause-us", "2000", "--max-batch", "8"]);
    // The producer gives up soon after its consumer died.
    let mut pc = dmp();
    pc.args(["produce", "--file", p, "--count", "1000", "--batch", "8"])
        .args(["--wait", "yield", "--consumer-dead-ms", "200"]);
    let producer = Proc::spawn(pc, "file producer");
    std::thread::sleep(Duration::from_millis(100));
    signal(&first, libc::SIGKILL);
    drop(first);
    let (_, out) = producer.finish(T);
    assert!(
        !out.contains("produced 1000 events"),
        "the producer finished before its consumer died:\n{out}"
    );
    // Every process is gone now. The name resumes where it committed and
    // reads everything that was published, through the last event.
    let mut again = file_consumer(&["--drain-ms", "300"]);
    let joined = again.wait_line("joined at", T);
    assert_eq!(number_after(&joined, "lost on join"), 0, "{joined}");
    let rest = again.succeed(T);
    // The producer stopped at the dead consumer, a full ring past it.
    let published = number_after(&joined, "joined at sequence") + 64;
    assert_eq!(
        number_after(&rest, "last event"),
        published,
        "{joined}{rest}\nproducer: {out}"
    );
}

#[test]
fn two_producers_racing_for_a_single_producer_ring_one_wins_and_a_successor_takes_over() {
    let name = ShmName::new("race");
    create(&name, 64);
    let _c = consumer(&name, "ledger", &["--pause-us", "1000"]);
    for round in 0..5 {
        let a = producer(&name, 1_000_000, &[]);
        let b = producer(&name, 1_000_000, &[]);
        std::thread::sleep(Duration::from_millis(300));
        let mut procs = vec![a, b];
        let loser = procs
            .iter_mut()
            .position(|p| p.child.try_wait().unwrap().is_some())
            .unwrap_or_else(|| panic!("round {round}: both producers are running"));
        let lost = procs.remove(loser);
        let (ok, out) = lost.finish(T);
        assert!(!ok && out.contains("already has a live producer"), "{out}");
        let winner = procs.pop().unwrap();
        assert!(winner.child.id() > 0);
        // The winner dies; the next round's producers race for its place.
        signal(&winner, libc::SIGKILL);
        drop(winner);
    }
    // Each takeover incremented the ownership epoch.
    let s = stat(&name);
    assert!(json_u64(&s, "epoch") >= 5, "{s}");
}

#[test]
fn an_optional_consumer_that_progresses_but_keeps_the_producer_waiting_is_evicted() {
    let name = ShmName::new("slowopt");
    create(&name, 64);
    // It commits every 20 ms: it moves, but the producer waits all along.
    let c = consumer(
        &name,
        "dashboard",
        &["--optional", "--max-block-ms", "200", "--pause-us", "20000"],
    );
    let p = producer(&name, 50_000, &[]);
    p.succeed(T);
    assert_eq!(json_u64(&stat(&name), "evictions"), 1);
    drop(c);
}
