//! The deterministic fault harness (docs/TESTING.md, "Fault harness").
//!
//! A seed chooses one failure class of DESIGN.md §2 and, within it, the
//! start order and delays of real `dmp` processes and which named fault
//! points (src/fault.rs) fire when. The processes run a `dmp` built with
//! the test-only `fault-injection` feature (built once, in
//! `target/faults`). Each run writes a JSON trace to
//! `target/fault-traces/<seed>.json` and checks the lifecycle invariants
//! that apply; the same seed schedules the same steps and decisions.
//!
//! `DMP_SEED=n cargo test --release --test fault_harness` reruns one seed
//! (`DMP_SEEDS=lo..hi` a range of them); a failing run prints the seed and
//! the trace path.

mod support;

use serde_json::{json, Value};
use std::os::unix::process::ExitStatusExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};
use support::{fault_dmp, serial, Proc, Rng, ShmName};

/// Seeds run by `cargo test`, chosen to cover every class and variant
/// (class = seed % 7): 0 producer first; 1, 8 late attach (alone, while
/// producing); 2 creators killed mid-initialisation; 3, 31, 38, 10, 45
/// producer killed in sp.publish, sp.claimed, producer.attach,
/// mp.publish, mp.claimed; 4, 32, 53, 88 consumer killed at commit or join,
/// with a dead optional consumer (53: the producer dies mid-eviction; 88:
/// restarted too late, the producer fails naming it); 5, 12 discovery lag
/// (timeout, converge); 6, 13 readiness gate (met, timed out).
const CI_SEEDS: &[u64] = &[0, 1, 8, 2, 3, 31, 38, 10, 45, 4, 32, 53, 88, 5, 12, 6, 13];

/// Bound on any one participant.
const BOUND: Duration = Duration::from_secs(20);

/// The failure classes of DESIGN.md §2, in seed order.
const CLASSES: [&str; 7] = [
    "producer before consumers",
    "late consumer attach",
    "create/attach churn",
    "producer crash and restart",
    "consumer crash and restart",
    "discovery/visibility lag",
    "readiness gate",
];

/// How a participant ended.
fn exit_of(s: ExitStatus) -> String {
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit:{c}"),
        (_, Some(sig)) => format!("signal:{sig}"),
        _ => "unknown".into(),
    }
}

/// One seeded run: the ring, the participants, the trace.
struct Run {
    seed: u64,
    rng: Rng,
    shm: ShmName,
    dmp: PathBuf,
    t0: Instant,
    /// What was scheduled and decided (compared by the replay test).
    plan: Vec<String>,
    /// Everything, with times and outcomes.
    steps: Vec<Value>,
    /// Sequences seen by `stat`, to check they never regress.
    last_cursor: i64,
    last_consumer: std::collections::BTreeMap<String, i64>,
    last_epoch: u64,
    invariants: Vec<String>,
}

/// A spawned participant.
struct Part {
    who: String,
    proc: Proc,
    started: Instant,
}

/// How a participant ended: exit, output.
struct Ended {
    exit: String,
    out: String,
}

impl Ended {
    fn ok(&self) -> bool {
        self.exit == "exit:0"
    }
    fn killed(&self) -> bool {
        self.exit == "signal:9"
    }
    /// The number after `prefix` on the first line holding it.
    fn num(&self, prefix: &str) -> Option<i64> {
        let at = self.out.find(prefix)? + prefix.len();
        let digits: String = self.out[at..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        digits.parse().ok()
    }
}

impl Run {
    fn new(seed: u64) -> Run {
        Run {
            seed,
            rng: Rng::new(seed),
            shm: ShmName::new(&format!("fh{seed}")),
            dmp: fault_dmp(),
            t0: Instant::now(),
            plan: Vec::new(),
            steps: Vec::new(),
            last_cursor: -1,
            last_consumer: Default::default(),
            last_epoch: 0,
            invariants: Vec::new(),
        }
    }

    fn ms(&self) -> f64 {
        self.t0.elapsed().as_secs_f64() * 1e3
    }

    fn step(&mut self, who: &str, action: &str, detail: Value) {
        let t = self.ms();
        self.steps
            .push(json!({"t_ms": t, "participant": who, "action": action, "detail": detail}));
    }

    /// A scheduling decision: part of the plan.
    fn decide<T: std::fmt::Debug>(&mut self, what: &str, value: T) -> T {
        let s = format!("decide {what} = {value:?}");
        self.plan.push(s);
        self.step(
            "scheduler",
            "decide",
            json!({"what": what, "value": format!("{value:?}")}),
        );
        value
    }

    /// A number in `lo..=hi`, decided.
    fn range(&mut self, what: &str, lo: u64, hi: u64) -> u64 {
        let v = self.rng.range(lo, hi);
        self.decide(what, v)
    }

    /// A coin toss, decided.
    fn coin(&mut self, what: &str) -> bool {
        let v = self.rng.coin();
        self.decide(what, v)
    }

    /// Checks an invariant, recording it; panics (failing the seed) if false.
    fn check(&mut self, ok: bool, what: &str) {
        self.step("checker", "invariant", json!({"what": what, "holds": ok}));
        self.invariants
            .push(format!("{}: {what}", if ok { "ok" } else { "VIOLATED" }));
        assert!(ok, "invariant violated: {what}");
    }

    fn sleep(&mut self, ms: u64) {
        self.plan.push(format!("sleep {ms}ms"));
        self.step("scheduler", "sleep", json!({"ms": ms}));
        std::thread::sleep(Duration::from_millis(ms));
    }

    /// Spawns `dmp <args>` with `faults` (`DMP_FAULTS`). `plan_args` are
    /// the arguments that the seed decides (others may be derived from
    /// outcomes).
    fn spawn(&mut self, who: &str, args: &[String], faults: &str, plan_args: &str) -> Part {
        self.plan
            .push(format!("spawn {who} [{plan_args}] faults=[{faults}]"));
        let mut cmd = Command::new(&self.dmp);
        cmd.args(args).env("DMP_FAULTS", faults);
        self.step(who, "spawn", json!({"args": args, "faults": faults}));
        Part {
            who: who.into(),
            proc: Proc::spawn(cmd, who),
            started: Instant::now(),
        }
    }

    /// Runs `dmp <args>` to the end.
    fn run(&mut self, who: &str, args: &[String], faults: &str, plan_args: &str) -> Ended {
        let p = self.spawn(who, args, faults, plan_args);
        self.finish(p)
    }

    /// Waits (bounded) for the participant to print a line starting with
    /// `prefix`; returns the line.
    fn wait_line(&mut self, p: &mut Part, prefix: &str) -> String {
        self.plan.push(format!("await {} {prefix:?}", p.who));
        let line = p.proc.wait_line(prefix, BOUND);
        self.step(&p.who, "line", json!({"line": line.trim_end()}));
        line
    }

    /// Waits for the participant's end within [`BOUND`] (no hang).
    fn finish(&mut self, p: Part) -> Ended {
        self.plan.push(format!("finish {}", p.who));
        let (status, out) = p.proc.finish_status(BOUND);
        let exit = exit_of(status);
        let took = p.started.elapsed().as_secs_f64() * 1e3;
        let tail: String = out.lines().rev().take(8).collect::<Vec<_>>().join(" | ");
        self.step(
            &p.who,
            "exit",
            json!({"exit": exit, "ran_ms": took, "output_tail": tail}),
        );
        // The counters after every exit (and the no-regression checks).
        if self.shm.path().exists() {
            self.stat();
        }
        Ended { exit, out }
    }

    fn args(&self, words: &str) -> Vec<String> {
        let mut v: Vec<String> = words.split_whitespace().map(String::from).collect();
        v.insert(1, self.shm.0.clone());
        v
    }

    /// `dmp stat --json`: records the counters and checks that the cursor,
    /// every consumer's sequence and the producer epoch never regress.
    fn stat(&mut self) -> Value {
        let mut cmd = Command::new(&self.dmp);
        cmd.args(["stat", "--json", &self.shm.0]);
        let (ok, out) = support::run(cmd, "dmp stat", BOUND);
        assert!(ok, "dmp stat failed: {out}");
        let v: Value = serde_json::from_str(out.trim()).expect("stat json");
        let cursor = v["cursor"].as_i64().unwrap_or(-1);
        let consumers: Vec<Value> = v["consumers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|c| json!({"name": c["name"], "state": c["state"], "sequence": c["sequence"], "alive": c["alive"]}))
            .collect();
        let epoch = v["producers"][0]["epoch"].as_u64().unwrap_or(0);
        self.step(
            "observer",
            "stat",
            json!({
                "cursor": cursor, "published": v["published"], "claimed": v["claimed"],
                "abandoned": v["abandoned"], "attaches": v["attaches"], "detaches": v["detaches"],
                "evictions": v["evictions"], "epoch": epoch, "consumers": consumers,
            }),
        );
        let (lc, le) = (self.last_cursor, self.last_epoch);
        self.check(
            cursor >= lc,
            &format!("cursor never regresses ({lc} -> {cursor})"),
        );
        self.check(
            epoch >= le,
            &format!("producer epoch never regresses ({le} -> {epoch})"),
        );
        self.last_cursor = cursor;
        self.last_epoch = epoch;
        for c in v["consumers"].as_array().cloned().unwrap_or_default() {
            let name = c["name"].as_str().unwrap_or("").to_string();
            let seq = c["sequence"].as_i64().unwrap_or(-1);
            let before = self.last_consumer.get(&name).copied().unwrap_or(-1);
            self.check(
                seq >= before,
                &format!("consumer {name} sequence never regresses ({before} -> {seq})"),
            );
            self.last_consumer.insert(name, seq);
        }
        v
    }

    fn create(&mut self, extra: &str) -> Ended {
        let words = format!("create {extra}");
        let e = self.run("creator", &self.args(&words), "", &words);
        self.check(e.ok(), "the ring is created");
        e
    }

    /// A wait strategy for a participant (not spinning: two cores).
    fn strategy(&mut self) -> &'static str {
        let s = self.rng.pick(&["block", "sleep:200", "yield"]);
        self.decide("wait strategy", s)
    }

    /// Leftovers of the ring's name in /dev/shm (the segment itself and
    /// its wake-up directory when `with_segment`, and any half-created
    /// temporary file).
    fn leftovers(&self, with_segment: bool) -> Vec<String> {
        let name = &self.shm.0;
        let wake = format!(".{name}.dmp-wake.");
        std::fs::read_dir("/dev/shm")
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|f| {
                        (with_segment && (f == name || f.starts_with(&wake)))
                            || (f.starts_with(&format!(".{name}.")) && !f.starts_with(&wake))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn trace(&self, failure: Option<&str>) -> Value {
        json!({
            "seed": self.seed,
            "class": CLASSES[(self.seed % 7) as usize],
            "ring": self.shm.0,
            "plan": self.plan,
            "steps": self.steps,
            "invariants": self.invariants,
            "failure": failure,
        })
    }
}

/// Class 0: the producer starts first, gated on its required consumers.
fn producer_before_consumers(r: &mut Run) {
    let cap = r.rng.pick(&["64", "256"]);
    let cap = r.decide("capacity", cap);
    r.create(&format!("--capacity {cap}"));
    let k = r.range("required consumers", 1, 2);
    let n = r.range("events", 1000, 3000);
    let by_name = r.coin("gate by names");
    let names: Vec<String> = (0..k).map(|i| format!("c{i}")).collect();
    let gate = if by_name {
        format!("--expect-consumers {k} --expect-names {}", names.join(","))
    } else {
        format!("--expect-consumers {k}")
    };
    let w = r.strategy();
    let pw = format!("produce --count {n} --wait {w} {gate} --timeout-ms 15000");
    let producer = r.spawn("producer", &r.args(&pw), "", &pw);
    let d = r.rng.range(50, 300);
    r.sleep(d);
    let s = r.stat();
    r.check(
        s["cursor"].as_i64() == Some(-1),
        "nothing is published before the required consumers attach",
    );
    let mut consumers = Vec::new();
    for name in &names {
        let faults = if r.rng.coin() {
            format!("consumer.join=delay:{}ms", r.rng.range(10, 100))
        } else {
            String::new()
        };
        let faults = r.decide("consumer faults", faults);
        let w = r.strategy();
        let cw = format!("consume --name {name} --count {n} --wait {w}");
        let mut c = r.spawn(name, &r.args(&cw), &faults, &cw);
        r.wait_line(&mut c, "joined at");
        consumers.push(c);
        let d = r.rng.range(0, 100);
        r.sleep(d);
    }
    let p = r.finish(producer);
    r.check(p.ok(), "the producer proceeds once the consumers are ready");
    for c in consumers {
        let who = c.who.clone();
        let e = r.finish(c);
        r.check(e.ok(), &format!("{who} exits cleanly"));
        r.check(
            e.num("consumed ") == Some(n as i64) && e.num("producer 0: next ") == Some(n as i64),
            &format!("{who} saw every event 0..{n} once, in order (nothing overwritten)"),
        );
    }
    r.stat();
}

/// Class 1: a consumer attaches after events were published.
fn late_consumer_attach(r: &mut Run) {
    r.create("--capacity 256");
    let n1 = r.range("events before", 100, 2000);
    let n2 = r.range("events after", 200, 2000);
    let pw = format!("produce --count {n1}");
    let e = r.run("producer1", &r.args(&pw), "", &pw);
    r.check(e.ok(), "the first producer finishes without consumers");
    let s = r.stat();
    r.check(
        s["cursor"].as_i64() == Some(n1 as i64 - 1),
        "the cursor is the first producer's last sequence",
    );
    let concurrent = r.coin("second producer runs while the consumer joins");
    let faults = if r.rng.coin() {
        format!("consumer.join=delay:{}ms", r.rng.range(10, 80))
    } else {
        String::new()
    };
    let faults = r.decide("consumer faults", faults);
    let w = r.strategy();
    let cw = format!("consume --name late --count 1000000000 --drain-ms 400 --wait {w}");
    let pw = format!("produce --count {n2} --pause-us 50 --timeout-ms 15000");
    let (mut c, producer) = if concurrent {
        let p = r.spawn("producer2", &r.args(&pw), "", &pw);
        let c = r.spawn("late", &r.args(&cw), &faults, &cw);
        (c, Some(p))
    } else {
        (r.spawn("late", &r.args(&cw), &faults, &cw), None)
    };
    let line = r.wait_line(&mut c, "joined at");
    let joined: i64 = line
        .split_whitespace()
        .nth(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(i64::MIN);
    r.check(
        joined >= n1 as i64 - 1,
        &format!(
            "the late consumer starts at the published state ({joined} >= {})",
            n1 as i64 - 1
        ),
    );
    if !concurrent {
        r.check(
            joined == n1 as i64 - 1,
            "with no producer running it starts exactly at the cursor",
        );
    }
    let p = match producer {
        Some(p) => p,
        None => r.spawn("producer2", &r.args(&pw), "", &pw),
    };
    let p = r.finish(p);
    r.check(p.ok(), "the second producer finishes");
    let e = r.finish(c);
    r.check(e.ok(), "the late consumer exits cleanly");
    let total = (n1 + n2) as i64;
    let got = e.num("consumed ").unwrap_or(-1);
    r.check(
        got == total - 1 - joined,
        &format!(
            "the late consumer got every event after its join ({got} == {} - {joined})",
            total - 1
        ),
    );
    if got > 0 {
        r.check(
            e.num("producer 0: next ") == Some(total),
            "its events end at the last published one, in order",
        );
    }
    r.stat();
}

/// Class 2: concurrent open-or-create, creators killed mid-initialisation,
/// dropped attaches, remove and recreate.
fn create_attach_churn(r: &mut Run) {
    let rounds = r.range("rounds", 1, 2);
    for round in 0..rounds {
        let k = r.range("creators", 2, 3);
        let mut creators = Vec::new();
        for i in 0..k {
            let f = r
                .rng
                .pick(&["", "segment.create=kill", "segment.create=delay:30ms"]);
            let f = r.decide("creator faults", f);
            let words = "create --open-existing --capacity 128";
            let who = format!("creator{round}.{i}");
            creators.push(r.spawn(&who, &r.args(words), f, words));
        }
        let mut created = 0;
        let mut survivors = 0;
        for c in creators {
            let e = r.finish(c);
            if e.ok() {
                survivors += 1;
                if e.out.contains("created ") {
                    created += 1;
                }
            } else {
                r.check(
                    e.killed(),
                    "a creator either succeeds or was killed by its fault",
                );
            }
        }
        r.check(
            created <= 1,
            &format!("at most one creator wins ({created})"),
        );
        r.check(
            r.leftovers(false).is_empty(),
            "no half-initialised temporary segment is left behind",
        );
        if survivors == 0 {
            r.check(
                r.leftovers(true).is_empty(),
                "creators killed mid-initialisation leave no segment under the name",
            );
            let e = r.run(
                "rebuilder",
                &r.args("create --open-existing --capacity 128"),
                "",
                "create --open-existing",
            );
            r.check(
                e.ok() && e.out.contains("created "),
                "the next open-or-create builds it",
            );
        } else {
            r.check(created == 1, "exactly one creator wins");
        }
        // Dropped attaches are explicit errors.
        let pw = "produce --count 10";
        let e = r.run("dropped-producer", &r.args(pw), "producer.attach=drop", pw);
        r.check(
            !e.ok() && e.out.contains("fault injected"),
            "a dropped producer attach is an explicit error",
        );
        let cw = "consume --name dropped --count 1";
        let e = r.run("dropped-consumer", &r.args(cw), "consumer.attach=drop", cw);
        r.check(
            !e.ok() && e.out.contains("fault injected"),
            "a dropped consumer attach is an explicit error",
        );
        let n = r.range("events", 100, 1000);
        let cw = format!("consume --name c --count {n}");
        let mut c = r.spawn("consumer", &r.args(&cw), "", &cw);
        r.wait_line(&mut c, "joined at");
        let pw = format!("produce --count {n}");
        let p = r.run("producer", &r.args(&pw), "", &pw);
        r.check(p.ok(), "the producer works on the surviving segment");
        let e = r.finish(c);
        r.check(
            e.ok() && e.num("consumed ") == Some(n as i64),
            "the consumer gets every event",
        );
        r.stat();
        // Churn: remove and start over.
        let e = r.run("remover", &r.args("rm"), "", "rm");
        r.check(e.ok(), "dmp rm removes the ring");
        r.last_cursor = -1;
        r.last_epoch = 0;
        r.last_consumer.clear();
    }
}

/// Class 3: the producer is killed at a fault point and restarted.
fn producer_crash_restart(r: &mut Run) {
    if r.coin("multi-producer ring") {
        return multi_producer_crash(r);
    }
    let cap = r.rng.pick(&["64", "256"]);
    let cap = r.decide("capacity", cap);
    r.create(&format!("--capacity {cap}"));
    let n = r.range("events", 1000, 3000);
    let point = r.rng.pick(&["sp.claimed", "sp.publish", "producer.attach"]);
    let point = r.decide("fault point", point);
    let at = if point == "producer.attach" {
        1
    } else {
        r.rng.range(1, n / 2)
    };
    let faults = r.decide("producer faults", format!("{point}=kill@{at}"));
    let w = r.strategy();
    let cw = format!("consume --name c --count {n} --wait {w}");
    let mut c = r.spawn("consumer", &r.args(&cw), "", &cw);
    r.wait_line(&mut c, "joined at");
    let pw = format!("produce --count {n}");
    let e = r.run("producer1", &r.args(&pw), &faults, &pw);
    r.check(
        e.killed(),
        "the first producer was killed at its fault point",
    );
    let s = r.stat();
    let cursor = s["cursor"].as_i64().unwrap_or(-2);
    let epoch = s["producers"][0]["epoch"].as_u64().unwrap_or(0);
    // Killed after claim K: batches 1..K-1 published (sequence K-2).
    // Killed in publish K: the cursor is at K-2, the stamp of K-1 is
    // written, so a successor adopts K-1 as published.
    let (want_cursor, published) = match point {
        "sp.claimed" => (at as i64 - 2, at as i64 - 2),
        "sp.publish" => (at as i64 - 2, at as i64 - 1),
        _ => (-1, -1),
    };
    r.check(
        cursor == want_cursor,
        &format!("the dead producer's cursor is at {want_cursor} ({cursor})"),
    );
    let rest = (n as i64 - 1 - published) as u64;
    let race = r.coin("a rival producer races for ownership");
    // With a rival, the replacement holds its first claim for 500 ms: the
    // rival certainly tries while it lives.
    let stall = if race { "--stall-ms 500" } else { "" };
    let pw = format!("produce --count {rest} {stall}");
    let mut p2 = r.spawn("producer2", &r.args(&pw), "", "produce --count <rest>");
    r.wait_line(&mut p2, "producing as entry");
    if race && rest > 0 {
        let e = r.run(
            "rival",
            &r.args("produce --count 10"),
            "",
            "produce --count 10",
        );
        r.check(
            !e.ok() && e.out.contains("producer"),
            "no second live producer: the rival is refused",
        );
    }
    let p2 = r.finish(p2);
    r.check(p2.ok(), "the restarted producer finishes");
    r.check(
        p2.num("last sequence ") == Some(n as i64 - 1),
        "the restarted producer resumed after the last published sequence",
    );
    let e = r.finish(c);
    r.check(e.ok(), "the consumer exits cleanly");
    r.check(
        e.num("consumed ") == Some(n as i64) && e.num("producer 0: next ") == Some(n as i64),
        "the consumer saw every event once, in order, across the restart",
    );
    let s = r.stat();
    let e2 = s["producers"][0]["epoch"].as_u64().unwrap_or(0);
    r.check(
        e2 > epoch,
        &format!("the new owner has a new epoch ({epoch} -> {e2})"),
    );
    // The takeover counted what its predecessor published and never
    // flushed, and what it adopted: events published == cursor + 1.
    let events = s["producers"][0]["events"].as_u64().unwrap_or(0);
    r.check(
        events == n,
        &format!("the producer entry counts every published event ({events} of {n})"),
    );
}

/// Class 3, multi-producer variant: a producer dies between claim and
/// publish; its claim is abandoned and the others carry on.
fn multi_producer_crash(r: &mut Run) {
    r.create("--capacity 256 --multi --unblock-ms 300");
    let n = r.range("events per producer", 500, 1500);
    let point = r.rng.pick(&["mp.claimed", "mp.publish"]);
    let point = r.decide("fault point", point);
    let at = r.range("fault hit", 1, n / 4);
    let cw = "consume --name c --count 1000000000 --drain-ms 1500 --wait sleep:200";
    let mut c = r.spawn("consumer", &r.args(cw), "", cw);
    r.wait_line(&mut c, "joined at");
    let pw = format!("produce --count {n} --batch 4 --producer-id 1 --first 0");
    let e = r.run(
        "producer1",
        &r.args(&pw),
        &format!("{point}=kill@{at}"),
        &pw,
    );
    r.check(
        e.killed(),
        "producer 1 was killed between claim and publish",
    );
    // One event per claim, so that producer 2 claims through the dead
    // claim's first sequence plus the capacity once the consumer has read
    // that one: killed in mp.publish, that first stamp's slot is reused
    // before the consumer unblocks the rest (with batches of 4 the claims
    // stopped one short of it, and a consumer that took the reused stamp
    // for none of the dead producer's business hung).
    let pw = format!("produce --count {n} --batch 1 --producer-id 2 --first 0");
    let p2 = r.run("producer2", &r.args(&pw), "", &pw);
    r.check(p2.ok(), "producer 2 is not stalled by the dead claim");
    let e = r.finish(c);
    r.check(e.ok(), "the consumer drains and exits (no hang)");
    r.check(
        e.num("producer 2: next ") == Some(n as i64),
        "the consumer got all of producer 2's events, in order",
    );
    let p1 = e.num("producer 1: next ").unwrap_or(0);
    // Killed after its claim: batches before it; killed in publish: the
    // first stamp of the batch is already its own (published), not the rest.
    let want = (at as i64 - 1) * 4 + i64::from(point == "mp.publish");
    r.check(
        p1 == want,
        &format!("producer 1's events up to its crash, in order ({p1})"),
    );
    let s = r.stat();
    r.check(
        s["abandoned"].as_u64().unwrap_or(0) >= 1,
        "the dead producer's claim was abandoned",
    );
}

/// Class 4: a required (and maybe an optional) consumer is killed and
/// restarted under its name.
fn consumer_crash_restart(r: &mut Run) {
    r.create("--capacity 64");
    let n = r.range("events", 1000, 3000);
    let back_in_time = r.range("restarted within consumer-dead-ms", 0, 3) != 0;
    let dead_ms = if back_in_time { 8000 } else { 300 };
    let optional = r.coin("an optional consumer dies too");
    // The producer evicts the dead optional consumer: slowly, or it dies
    // in the middle (marked evicted, still gating) and is restarted.
    let evict = if !optional {
        ""
    } else if back_in_time {
        let f = r
            .rng
            .pick(&["liveness.evict=delay:20ms", "liveness.evict=kill@1"]);
        r.decide("producer faults", f)
    } else {
        "liveness.evict=delay:20ms"
    };
    let point = r
        .rng
        .pick(&["consumer.commit", "consumer.commit", "consumer.join"]);
    let point = r.decide("fault point", point);
    // A producer that may die early (in an eviction) publishes at least one
    // event: c dies at its first commit then, whatever the timing.
    let at = if point == "consumer.join" || evict.ends_with("kill@1") {
        1
    } else {
        r.rng.range(2, 12)
    };
    let faults = r.decide("consumer faults", format!("{point}=kill@{at}"));
    let w = r.strategy();
    let cw = format!("consume --name c --count {n} --wait {w}");
    let c = r.spawn("consumer1", &r.args(&cw), &faults, &cw);
    // Started before the producer, so it gates from the first event.
    let mut opt = None;
    if optional {
        let ow = format!("consume --name o --count {n} --optional --wait sleep:100");
        // Killed at its first commit, or in the middle of its join (in the
        // gating mask, not yet ACTIVE): either way the producer must evict
        // it at once.
        let f = r
            .rng
            .pick(&["consumer.commit=kill@1", "consumer.join=kill@1"]);
        let f = r.decide("optional faults", f);
        opt = Some(r.spawn("optional", &r.args(&ow), f, &ow));
    }
    r.sleep(100);
    let pw = format!("produce --count {n} --consumer-dead-ms {dead_ms} --timeout-ms 15000");
    let producer = r.spawn("producer", &r.args(&pw), evict, &pw);
    let e = r.finish(c);
    r.check(e.killed(), "consumer c was killed at its fault point");
    if let Some(o) = opt {
        let e = r.finish(o);
        r.check(
            e.killed(),
            "the optional consumer was killed at its fault point",
        );
    }
    let s = r.stat();
    let before = s["consumers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "c"))
        .and_then(|c| c["sequence"].as_i64())
        .unwrap_or(-1);
    let delay = if back_in_time {
        r.rng.range(50, 400)
    } else {
        800
    };
    r.sleep(delay);
    if !back_in_time {
        let p = r.finish(producer);
        r.check(
            !p.ok() && p.out.contains("\"c\"") && p.out.contains("dead"),
            "a dead required consumer fails the producer, naming it, within consumer-dead-ms",
        );
        let cw = "consume --name c --count 1000000000 --drain-ms 300";
        let e = r.run("consumer2", &r.args(cw), "", cw);
        r.check(e.ok(), "the restarted consumer exits cleanly");
        let joined = e.num("joined at sequence ").unwrap_or(i64::MIN);
        r.check(
            joined >= before,
            &format!("its sequence never goes backwards ({before} -> {joined})"),
        );
        r.stat();
        return;
    }
    let cw = format!("consume --name c --count 1000000000 --drain-ms 400 --wait {w}");
    if point == "consumer.commit" && r.coin("the first restart dies in the middle of its resume") {
        // Killed after taking the name and its lease, before it reads: the
        // next holder must still resume from the committed sequence.
        let e = r.run(
            "consumer-resuming",
            &r.args(&cw),
            "consumer.join=kill@1",
            &cw,
        );
        r.check(e.killed(), "the resuming consumer was killed in its resume");
    }
    let mut c2 = r.spawn("consumer2", &r.args(&cw), "", &cw);
    let line = r.wait_line(&mut c2, "joined at");
    let joined: i64 = line
        .split_whitespace()
        .nth(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(i64::MIN);
    r.check(
        joined >= before,
        &format!("the restarted consumer's sequence never goes backwards ({before} -> {joined})"),
    );
    if point == "consumer.commit" {
        r.check(
            joined == before,
            &format!("it resumes from its last committed sequence ({before}): at-least-once"),
        );
    }
    let mut p = r.finish(producer);
    if evict.ends_with("kill@1") {
        r.check(
            p.killed(),
            "the producer was killed in the middle of an eviction",
        );
        let s = r.stat();
        let cursor = s["cursor"].as_i64().unwrap_or(-2);
        let rest = (n as i64 - 1 - cursor) as u64;
        let pw = format!("produce --count {rest} --consumer-dead-ms {dead_ms} --timeout-ms 15000");
        p = r.run("producer2", &r.args(&pw), "", "produce --count <rest>");
        r.check(
            p.num("last sequence ") == Some(n as i64 - 1),
            "the restarted producer resumes after the last published sequence",
        );
    }
    r.check(
        p.ok(),
        "producer gating stays bounded: the producer finishes",
    );
    let e = r.finish(c2);
    r.check(e.ok(), "the restarted consumer exits cleanly");
    let got = e.num("consumed ").unwrap_or(-1);
    r.check(
        got == n as i64 - 1 - joined,
        &format!("it got every event after {joined} once ({got})"),
    );
    if got > 0 {
        r.check(
            e.num("producer 0: next ") == Some(n as i64),
            "in order, through the last",
        );
    }
    let s = r.stat();
    if optional {
        r.check(
            s["evictions"].as_u64().unwrap_or(0) >= 1,
            "the dead optional consumer was evicted",
        );
    }
}

/// Class 5: participants start before the segment exists (or before it
/// is initialised); they converge or time out, never hang.
fn discovery_lag(r: &mut Run) {
    let converge = r.range("participants outwait the lag", 0, 2) != 0;
    // Timing out: participants give up after 60 ms, the ring comes at
    // least 400 ms after their start (a wide margin for a slow spawn).
    let lag = if converge {
        r.range("lag ms", 100, 500)
    } else {
        r.range("lag ms", 400, 700)
    };
    let timeout = if converge { 8000 } else { 60 };
    let n = r.range("events", 100, 1000);
    let cw = format!("consume --name c --count {n} --timeout-ms {timeout}");
    let c = r.spawn("consumer", &r.args(&cw), "", &cw);
    let pw = format!("produce --count {n} --expect-consumers 1 --timeout-ms {timeout}");
    let p = r.spawn("producer", &r.args(&pw), "", &pw);
    r.sleep(lag);
    let f = r.rng.pick(&["", "segment.create=delay:50ms"]);
    let f = r.decide("creator faults", f);
    let e = r.run("creator", &r.args("create --capacity 128"), f, "create");
    r.check(e.ok(), "the late ring is created");
    let ce = r.finish(c);
    let pe = r.finish(p);
    if converge {
        r.check(pe.ok(), "the producer found the late segment");
        r.check(
            ce.ok() && ce.num("consumed ") == Some(n as i64),
            "the consumer found it and got every event",
        );
    } else {
        r.check(
            !ce.ok() && ce.out.contains("appear"),
            "the consumer times out explicitly waiting for the segment",
        );
        r.check(
            !pe.ok() && pe.out.contains("appear"),
            "the producer times out explicitly waiting for the segment",
        );
    }
    r.stat();
}

/// Class 6: a producer gated on N consumers.
fn readiness_gate(r: &mut Run) {
    r.create("--capacity 64");
    let k = r.range("required", 1, 3);
    let present = r.coin("all present");
    let m = if present { k } else { k - 1 };
    let n = r.range("events", 200, 2000);
    let timeout = if present { 10000 } else { 400 };
    let pw = format!("produce --count {n} --expect-consumers {k} --timeout-ms {timeout}");
    let p = r.spawn("producer", &r.args(&pw), "", &pw);
    let mut cs = Vec::new();
    for i in 0..m.min(2) {
        let d = r.rng.range(0, 150);
        r.sleep(d);
        let f = if r.rng.coin() {
            format!("consumer.join=delay:{}ms", r.rng.range(10, 80))
        } else {
            String::new()
        };
        let f = r.decide("consumer faults", f);
        let cw = if present {
            format!("consume --name g{i} --count {n} --wait block")
        } else {
            format!("consume --name g{i} --count 1000000000 --drain-ms 800 --wait block")
        };
        cs.push(r.spawn(&format!("g{i}"), &r.args(&cw), &f, &cw));
    }
    // A third consumer when k == 3 (at most three busy processes: these
    // block rather than spin).
    if m == 3 {
        let cw = format!("consume --name g2 --count {n} --wait block");
        cs.push(r.spawn("g2", &r.args(&cw), "", &cw));
    }
    let started = Instant::now();
    let pe = r.finish(p);
    if present {
        r.check(pe.ok(), "with every consumer ready the producer proceeds");
    } else {
        let took = started.elapsed();
        r.check(
            !pe.ok() && took < Duration::from_millis(timeout + 5000),
            "a missing consumer times the producer out, within its bound",
        );
        let s = r.stat();
        r.check(s["cursor"].as_i64() == Some(-1), "nothing was published");
    }
    for c in cs {
        let who = c.who.clone();
        let e = r.finish(c);
        r.check(e.ok(), &format!("{who} exits cleanly"));
        if present {
            r.check(
                e.num("consumed ") == Some(n as i64)
                    && e.num("producer 0: next ") == Some(n as i64),
                &format!("{who} got every event from the first, in order"),
            );
        }
    }
    r.stat();
}

/// Runs one seed; the trace and plan.
fn run_seed(seed: u64) -> (Vec<String>, PathBuf) {
    let mut r = Run::new(seed);
    let class = (seed % 7) as usize;
    r.plan.push(format!("class {}", CLASSES[class]));
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| match class {
        0 => producer_before_consumers(&mut r),
        1 => late_consumer_attach(&mut r),
        2 => create_attach_churn(&mut r),
        3 => producer_crash_restart(&mut r),
        4 => consumer_crash_restart(&mut r),
        5 => discovery_lag(&mut r),
        _ => readiness_gate(&mut r),
    }));
    let failure = result.as_ref().err().map(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    });
    // No segment left behind (the ShmName guard removes it on drop too).
    if failure.is_none() {
        let _ = disruptor_mp::Ring::unlink(&r.shm.location());
        let left = r.leftovers(true);
        r.invariants.push(format!(
            "{}: no segment left behind",
            if left.is_empty() { "ok" } else { "VIOLATED" }
        ));
    }
    let dir = support::repo_root().join("target").join("fault-traces");
    std::fs::create_dir_all(&dir).expect("trace directory");
    let path = dir.join(format!("{seed}.json"));
    let trace = r.trace(failure.as_deref());
    std::fs::write(&path, serde_json::to_string_pretty(&trace).unwrap()).expect("write trace");
    eprintln!(
        "fault harness: seed {seed} ({}) {} in {:.2} s, trace {}",
        CLASSES[class],
        if failure.is_some() { "FAILED" } else { "ok" },
        started.elapsed().as_secs_f64(),
        path.display()
    );
    if let Some(f) = failure {
        panic!(
            "fault harness: seed {seed} failed: {f}\n  reproduce: DMP_SEED={seed} cargo test --release --test fault_harness\n  trace: {}",
            path.display()
        );
    }
    assert!(
        !r.invariants.iter().any(|i| i.starts_with("VIOLATED")),
        "seed {seed}: {:?} (trace {})",
        r.invariants,
        path.display()
    );
    (r.plan.clone(), path)
}

/// The CI seeds, or the one `DMP_SEED` names.
#[test]
fn fault_seeds() {
    let _serial = serial();
    let seeds: Vec<u64> = match (std::env::var("DMP_SEED"), std::env::var("DMP_SEEDS")) {
        (Ok(s), _) => vec![s.trim().parse().expect("DMP_SEED must be a number")],
        (_, Ok(range)) => {
            let (lo, hi) = range
                .split_once("..")
                .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
                .expect("DMP_SEEDS must be lo..hi");
            (lo..hi).collect()
        }
        _ => CI_SEEDS.to_vec(),
    };
    let started = Instant::now();
    let mut failed = Vec::new();
    for seed in seeds {
        if catch_unwind(|| run_seed(seed)).is_err() {
            failed.push(seed);
        }
    }
    eprintln!(
        "fault harness: seeds done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        failed.is_empty(),
        "fault harness: seeds {failed:?} failed (rerun one with DMP_SEED=n; traces in target/fault-traces/)"
    );
}

/// The fault points exist only in the fault-injection build: the `dmp`
/// and the shared library built for the other tests (no feature) hold no
/// trace of them (unless this test build itself has the feature).
#[cfg(not(feature = "fault-injection"))]
#[test]
fn normal_build_has_no_fault_points() {
    for path in [
        PathBuf::from(env!("CARGO_BIN_EXE_dmp")),
        support::shared_library(),
    ] {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for needle in [&b"DMP_FAULTS"[..], b"fault injected", b"fault::imp"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} contains {:?}",
                path.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
}

/// Replay: the same seed schedules the same steps and decisions.
#[test]
fn same_seed_same_trace() {
    let _serial = serial();
    let seed = std::env::var("DMP_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(53);
    let (a, path) = run_seed(seed);
    let (b, _) = run_seed(seed);
    assert_eq!(
        a,
        b,
        "seed {seed} scheduled differently on replay (trace {})",
        path.display()
    );
    assert!(a.len() > 3, "the plan records the schedule");
}

/// The wake-up handshake across processes of both kinds: one where the
/// kernel grants membarrier (light writer, barrier before sleeping) and one
/// where it is refused (`membarrier.register=drop`: fenced writer, sleeps
/// in 1 ms slices). A paced blocking producer and a blocking consumer, each
/// way round, move every event, checked by the consumer; the fault must
/// have fired, so the fallback really ran.
#[test]
fn wake_ups_work_between_light_and_fenced_processes() {
    let _serial = serial();
    let dmp = fault_dmp();
    let count = "3000";
    for refused in ["consumer", "producer"] {
        let shm = ShmName::new(&format!("fenced-{refused}"));
        let mut create = Command::new(&dmp);
        create.args(["create", &shm.0, "--capacity", "64", "--slot-size", "16"]);
        let (ok, out) = support::run(create, "dmp create", BOUND);
        assert!(ok, "{out}");
        let fault = |who: &str, cmd: &mut Command| {
            if who == refused {
                cmd.env("DMP_FAULTS", "membarrier.register=drop");
            }
        };
        let mut c = Command::new(&dmp);
        c.args(["consume", &shm.0, "--name", "c", "--count", count])
            .args(["--wait", "block", "--timeout-ms", "20000"]);
        fault("consumer", &mut c);
        let mut consumer = Proc::spawn(c, "blocking consumer");
        consumer.wait_line("ready", BOUND);
        let mut p = Command::new(&dmp);
        p.args(["produce", &shm.0, "--count", count, "--first", "0"])
            .args([
                "--wait",
                "block",
                "--pause-us",
                "100",
                "--timeout-ms",
                "20000",
            ]);
        fault("producer", &mut p);
        let (ok, produced) = Proc::spawn(p, "paced blocking producer").finish(BOUND);
        assert!(ok, "producer: {produced}");
        let (ok, consumed) = consumer.finish(BOUND);
        assert!(ok, "consumer: {consumed}");
        assert!(
            consumed.contains("consumed 3000 events") && consumed.contains("last event 2999"),
            "{consumed}"
        );
        let log = if refused == "consumer" {
            &consumed
        } else {
            &produced
        };
        assert!(
            log.contains("fault: membarrier.register"),
            "the {refused} did not take the fallback: {log}"
        );
    }
}
