//! The observing commands against real processes: the counters `dmp stat`
//! reports from a third process equal what the producers and consumers
//! did; `--prometheus` is valid exposition text for a real parser; the
//! participant holding a ring back is named; `ls`, `rm`, `inspect` and
//! `stat` tell live, stale, initialising, damaged and foreign files apart.

#[path = "support/prometheus.rs"]
mod prometheus_check;
mod support;

use disruptor_mp::layout::{self, field, CHECKSUM_OFFSET, STATE_OFFSET};
use disruptor_mp::{Ring, RingOptions, Snapshot, WaitStrategy};
use serde_json::Value;

use std::process::Command;
use std::time::{Duration, Instant};
use support::{dmp, run, Proc, ShmName};

const T: Duration = Duration::from_secs(120);
const READY: Duration = Duration::from_secs(20);

fn ok(c: Command, what: &str) -> String {
    let (ok, out) = run(c, what, T);
    assert!(ok, "{what} failed:\n{out}");
    out
}

fn fails(c: Command, what: &str) -> String {
    let (ok, out) = run(c, what, T);
    assert!(!ok, "{what} succeeded but must fail:\n{out}");
    out
}

fn create(target: &[&str], extra: &[&str]) {
    let mut c = dmp();
    c.arg("create").args(target).args(extra);
    ok(c, "dmp create");
}

/// `dmp stat --json` from a process of its own.
fn stat_json(target: &[&str]) -> Value {
    let mut c = dmp();
    c.arg("stat").args(target).arg("--json");
    let out = ok(c, "dmp stat --json");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{out}"))
}

fn consumer(target: &[&str], name: &str, extra: &[&str]) -> Proc {
    let mut c = dmp();
    c.arg("consume")
        .args(target)
        .args(["--name", name, "--timeout-ms", "60000"])
        .args(extra);
    let mut p = Proc::spawn(c, &format!("consumer {name}"));
    p.wait_line("ready", READY);
    p
}

fn producer(target: &[&str], extra: &[&str]) -> Proc {
    let mut c = dmp();
    c.arg("produce")
        .args(target)
        .args(["--timeout-ms", "60000"])
        .args(extra);
    Proc::spawn(c, "producer")
}

/// The number after `key` in `text`.
fn number_after(text: &str, key: &str) -> u64 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("no {key:?} in {text}"))
        + key.len();
    text[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number after {key:?} in {text}"))
}

/// (events, batches) from `dmp consume`'s summary line.
fn consumed(out: &str) -> (u64, u64) {
    let line = out
        .lines()
        .find(|l| l.starts_with("consumed "))
        .unwrap_or_else(|| panic!("no summary in {out}"));
    (number_after(line, "consumed "), number_after(line, " in "))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("{v} is not a u64"))
}

fn i(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("{v} is not an i64"))
}

fn by_name<'a>(j: &'a Value, name: &str) -> &'a Value {
    j["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no consumer {name} in {j}"))
}

/// Every counter and table field of the JSON equals the snapshot this
/// process takes (the participants are gone: nothing moves any more).
fn assert_json_is_snapshot(j: &Value, s: &Snapshot) {
    for (key, want) in [
        ("published", s.published),
        ("abandoned", s.abandoned),
        ("attaches", s.attaches),
        ("detaches", s.detaches),
        ("back_pressure_waits", s.back_pressure_waits),
        ("wakeups", s.wakeups),
    ] {
        assert_eq!(u(&j[key]), want, "{key}: {j}");
    }
    assert_eq!(i(&j["cursor"]), s.cursor);
    assert_eq!(i(&j["claimed"]), s.claimed);
    let ps = j["producers"].as_array().unwrap();
    assert_eq!(ps.len(), s.producers.len());
    for (jp, p) in ps.iter().zip(&s.producers) {
        assert_eq!(u(&jp["index"]), u64::from(p.index));
        assert_eq!(u(&jp["pid"]), u64::from(p.pid));
        assert_eq!(jp["alive"], p.alive);
        for (key, want) in [
            ("events", p.events),
            ("batches", p.batches),
            ("waits", p.waits),
            ("timeouts", p.timeouts),
            ("last_activity_ns", p.last_activity_ns),
        ] {
            assert_eq!(u(&jp[key]), want, "producer {}: {key}", p.index);
        }
    }
    let cs = j["consumers"].as_array().unwrap();
    assert_eq!(cs.len(), s.consumers.len());
    for (jc, c) in cs.iter().zip(&s.consumers) {
        assert_eq!(jc["name"], c.name.as_str());
        assert_eq!(i(&jc["sequence"]), c.sequence);
        assert_eq!(i(&jc["lag"]), c.lag);
        assert_eq!(jc["gating"], c.gating);
        assert_eq!(jc["alive"], c.alive);
        assert_eq!(u(&jc["pid"]), u64::from(c.pid));
        for (key, want) in [
            ("events", c.events),
            ("batches", c.batches),
            ("waits", c.waits),
            ("timeouts", c.timeouts),
            ("last_activity_ns", c.last_activity_ns),
        ] {
            assert_eq!(u(&jc[key]), want, "consumer {}: {key}", c.name);
        }
    }
}

#[test]
fn counters_from_a_third_process_match_what_the_participants_did() {
    let _serial = support::serial();
    let name = ShmName::new("obs-truth");
    let target = [name.0.as_str()];
    // A tiny ring and a slow consumer: the producer must wait for it.
    create(&target, &["--capacity", "16", "--slot-size", "16"]);
    let (n, batch) = (10_000u64, 3u64);
    let fast = consumer(&target, "fast", &["--count", &n.to_string()]);
    let slow = consumer(
        &target,
        "slow",
        &[
            "--count",
            &n.to_string(),
            "--pause-us",
            "100",
            "--max-batch",
            "4",
        ],
    );
    let p = producer(
        &target,
        &[
            "--count",
            &n.to_string(),
            "--batch",
            &batch.to_string(),
            "--first",
            "0",
            "--expect-consumers",
            "2",
        ],
    );
    let produced = p.succeed(T);
    assert!(
        produced.contains(&format!("produced {n} events")),
        "{produced}"
    );
    let (fast_events, fast_batches) = consumed(&fast.succeed(T));
    let (slow_events, slow_batches) = consumed(&slow.succeed(T));
    assert_eq!((fast_events, slow_events), (n, n));
    assert!(
        slow_batches >= n / 4,
        "--max-batch 4: {slow_batches} batches"
    );

    let j = stat_json(&target);
    assert_eq!(i(&j["cursor"]), n as i64 - 1);
    assert_eq!(u(&j["published"]), n);
    assert_eq!(u(&j["abandoned"]), 0);
    // Two consumers and a producer came and went.
    assert_eq!(u(&j["attaches"]), 3);
    assert_eq!(u(&j["detaches"]), 3);
    let pr = &j["producers"][0];
    assert_eq!(u(&pr["events"]), n);
    assert_eq!(u(&pr["batches"]), n.div_ceil(batch));
    assert!(u(&pr["waits"]) > 0, "the producer never waited: {j}");
    assert_eq!(u(&j["back_pressure_waits"]), u(&pr["waits"]));
    assert_eq!(pr["alive"], false);
    for (cname, batches) in [("fast", fast_batches), ("slow", slow_batches)] {
        let c = by_name(&j, cname);
        assert_eq!(u(&c["events"]), n, "{cname}");
        assert_eq!(u(&c["batches"]), batches, "{cname}");
        assert_eq!(i(&c["sequence"]), n as i64 - 1, "{cname}");
        assert_eq!(c["state"], "left", "{cname}");
        assert_eq!(c["alive"], false, "{cname}");
        assert!(u(&c["last_activity_ns"]) > 0, "{cname}");
    }
    assert!(j["held_back_by"].is_null(), "{j}");

    let ring = Ring::open(&name.location(), &RingOptions::new()).unwrap();
    assert_json_is_snapshot(&j, &ring.snapshot());
}

#[test]
fn a_stalled_producers_abandoned_claim_is_counted_exactly() {
    let _serial = support::serial();
    let name = ShmName::new("obs-stall");
    let target = [name.0.as_str()];
    create(
        &target,
        &[
            "--multi",
            "--max-producers",
            "4",
            "--capacity",
            "64",
            "--slot-size",
            "24",
            "--unblock-ms",
            "200",
        ],
    );
    let c = consumer(
        &target,
        "c",
        &[
            "--wait",
            "block",
            "--count",
            &u64::MAX.to_string(),
            "--drain-ms",
            "1000",
        ],
    );
    let fast = producer(
        &target,
        &[
            "--producer-id",
            "1",
            "--count",
            "20000",
            "--batch",
            "16",
            "--mixed-batches",
            "--first",
            "0",
            "--pause-us",
            "50",
        ],
    );
    // Batches of exactly 10; the fourth stalls past the unblock timeout.
    let mut slow = producer(
        &target,
        &[
            "--producer-id",
            "2",
            "--count",
            "1000",
            "--batch",
            "10",
            "--first",
            "0",
            "--pause-us",
            "100",
            "--stall-batch",
            "3",
            "--stall-ms",
            "800",
        ],
    );
    let entry_line = slow.wait_line("producing as entry", READY);
    let slow_entry = number_after(&entry_line, "entry ");
    let out = slow.succeed(T);
    assert!(out.contains("abandoned claims 1"), "{out}");
    fast.succeed(T);
    let out = c.succeed(T);
    let (events, batches) = consumed(&out);
    assert_eq!(events, 21_000, "{out}");
    assert_eq!(number_after(&out, "abandoned "), 10, "{out}");

    let j = stat_json(&target);
    assert_eq!(u(&j["abandoned"]), 10);
    assert_eq!(u(&j["published"]), 21_000);
    assert_eq!(i(&j["claimed"]), 21_009);
    assert_eq!(i(&j["cursor"]), 21_009);
    assert_eq!(u(&j["attaches"]), 3);
    assert_eq!(u(&j["detaches"]), 3);
    let ps = j["producers"].as_array().unwrap();
    let slow_p = ps
        .iter()
        .find(|p| u(&p["index"]) == slow_entry)
        .expect("slow producer entry");
    // The abandoned publish counts nothing; the ten events went again.
    assert_eq!(u(&slow_p["events"]), 1000);
    assert_eq!(u(&slow_p["batches"]), 100);
    assert!(slow_p["pending_claim"].is_null());
    let fast_p = ps
        .iter()
        .find(|p| u(&p["index"]) != slow_entry)
        .expect("fast producer entry");
    assert_eq!(u(&fast_p["events"]), 20_000);
    // A consumer commits past abandoned sequences too.
    let cj = by_name(&j, "c");
    assert_eq!(u(&cj["events"]), 21_010);
    assert_eq!(u(&cj["batches"]), batches);
    let ring = Ring::open(&name.location(), &RingOptions::new()).unwrap();
    assert_json_is_snapshot(&j, &ring.snapshot());
}

#[test]
fn stat_names_the_consumer_holding_the_ring_back() {
    let _serial = support::serial();
    let name = ShmName::new("obs-held");
    let target = [name.0.as_str()];
    create(&target, &["--capacity", "16", "--slot-size", "8"]);
    // This process registers a consumer that reads nothing.
    let ring = Ring::open(&name.location(), &RingOptions::new()).unwrap();
    let mut stuck = ring.consumer("stuck", &[], WaitStrategy::Yield).unwrap();
    let fast = consumer(&target, "fast", &["--count", "40", "--wait", "block"]);
    let p = producer(&target, &["--count", "40", "--first", "0"]);
    let start = Instant::now();
    while !(ring.cursor() == 15 && ring.snapshot().back_pressure_waits > 0) {
        assert!(
            start.elapsed() < READY,
            "the producer never filled the ring"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut c = dmp();
    c.args(["stat", &name.0]);
    let out = ok(c, "dmp stat");
    let me = std::process::id();
    let producer_pid = p.child.id();
    assert!(
        out.contains(&format!(
            "held back by consumer 'stuck' (index 0, pid {me}, alive, required)\n  lag 16 of 16 slots (100% full); not moving in 0.20 s"
        )) && out.contains(&format!(
            "the ring is full: producer 0 (pid {producer_pid}) waits for it"
        )),
        "{out}"
    );
    for header in ["producers (1 of 1)", "consumers (2 of 16)", "role"] {
        assert!(out.contains(header), "no {header:?} in:\n{out}");
    }
    let j = stat_json(&target);
    let held = &j["held_back_by"];
    assert_eq!(held["name"], "stuck", "{j}");
    assert_eq!((i(&held["lag"]), u(&held["pid"])), (16, u64::from(me)));
    assert_eq!(held["alive"], true);
    // Let everything through.
    let mut got = 0;
    while got < 40 {
        let next = stuck.next_sequence();
        let last = stuck.wait_for(next, T).unwrap();
        stuck.commit(last).unwrap();
        got = last + 1;
    }
    p.succeed(T);
    fast.succeed(T);
    let j = stat_json(&target);
    assert!(j["held_back_by"].is_null(), "{j}");
}

#[test]
fn prometheus_output_parses_with_a_real_parser_and_matches_the_counters() {
    let parser = prometheus_check::Parser::new();
    let _serial = support::serial();
    let dir = tempfile::tempdir().unwrap();
    // A path that needs escaping in a label value.
    let path = dir.path().join("ring \"q\" \\x");
    let p = path.to_str().unwrap();
    let target = ["--file", p];
    create(&target, &["--capacity", "64", "--slot-size", "16"]);
    let c = consumer(&target, "c-1.a", &["--count", "500"]);
    producer(&target, &["--count", "500", "--batch", "5", "--first", "0"]).succeed(T);
    c.succeed(T);
    // A consumer that stays registered and alive while we look.
    let idle = consumer(&target, "idle", &["--count", "1", "--wait", "block"]);

    let mut cmd = dmp();
    cmd.args(["stat", "--file", p, "--prometheus"]);
    let text = ok(cmd, "dmp stat --prometheus");
    let parse = |text: &str| -> Value { parser.parse(text) };
    let families = parse(&text);
    let families = families.as_array().unwrap().clone();
    assert!(families.len() >= 20, "{text}");
    // One HELP and TYPE per family, counters named *_total.
    for f in &families {
        let (name, kind) = (f["name"].as_str().unwrap(), f["type"].as_str().unwrap());
        assert!(name.starts_with("dmp_"), "{name}");
        assert!(!f["help"].as_str().unwrap().is_empty(), "{name}: no HELP");
        assert!(kind == "counter" || kind == "gauge", "{name}: {kind}");
        for s in f["samples"].as_array().unwrap() {
            let sname = s["name"].as_str().unwrap();
            if kind == "counter" {
                assert_eq!(sname, format!("{name}_total"));
            }
            assert_eq!(s["labels"]["ring"], p, "{sname}: the ring label");
        }
    }
    let sample = |metric: &str, label: (&str, &str)| -> f64 {
        families
            .iter()
            .flat_map(|f| f["samples"].as_array().unwrap())
            .find(|s| s["name"] == metric && s["labels"][label.0] == label.1)
            .unwrap_or_else(|| panic!("no {metric}{{{}={}}} in:\n{text}", label.0, label.1))
            ["value"]
            .as_f64()
            .unwrap()
    };
    let kind = |metric: &str| {
        families
            .iter()
            .find(|f| f["name"] == metric)
            .unwrap_or_else(|| panic!("no family {metric}"))["type"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        sample("dmp_ring_published_events_total", ("ring", p)),
        500.0
    );
    assert_eq!(kind("dmp_ring_published_events"), "counter");
    // c-1.a, the producer and idle attached; c-1.a and the producer left.
    assert_eq!(sample("dmp_ring_attaches_total", ("ring", p)), 3.0);
    assert_eq!(sample("dmp_ring_detaches_total", ("ring", p)), 2.0);
    assert_eq!(
        sample("dmp_producer_events_total", ("producer", "0")),
        500.0
    );
    assert_eq!(
        sample("dmp_producer_batches_total", ("producer", "0")),
        100.0
    );
    assert_eq!(
        sample("dmp_consumer_events_total", ("consumer", "c-1.a")),
        500.0
    );
    assert_eq!(
        sample("dmp_consumer_sequence", ("consumer", "c-1.a")),
        499.0
    );
    assert_eq!(sample("dmp_consumer_alive", ("consumer", "c-1.a")), 0.0);
    assert_eq!(sample("dmp_consumer_alive", ("consumer", "idle")), 1.0);
    assert_eq!(sample("dmp_consumer_lag_events", ("consumer", "idle")), 0.0);
    assert_eq!(sample("dmp_consumer_gating", ("consumer", "idle")), 1.0);
    // The states are a state set: for each entry, 1 for its state only;
    // every consumer series carries its role.
    let states = |consumer: &str| -> Vec<(String, f64)> {
        families
            .iter()
            .flat_map(|f| f["samples"].as_array().unwrap())
            .filter(|s| s["name"] == "dmp_consumer_state" && s["labels"]["consumer"] == consumer)
            .map(|s| {
                assert_eq!(s["labels"]["role"], "required", "{s}");
                (
                    s["labels"]["state"].as_str().unwrap().to_string(),
                    s["value"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let one = |consumer: &str| -> Vec<String> {
        let s = states(consumer);
        assert_eq!(s.len(), 5, "{consumer}: {s:?}");
        s.into_iter()
            .filter(|(_, v)| *v == 1.0)
            .map(|(k, _)| k)
            .collect()
    };
    assert_eq!(one("idle"), ["active"]);
    assert_eq!(one("c-1.a"), ["left"]);
    assert_eq!(sample("dmp_ring_up", ("ring", p)), 1.0);
    assert_eq!(sample("dmp_ring_state", ("state", "live")), 1.0);
    assert!(
        !text.contains("last_activity_seconds")
            && text.contains("dmp_consumer_last_activity_timestamp_seconds{"),
        "{text}"
    );
    for gauge in [
        "dmp_consumer_lag_events",
        "dmp_consumer_sequence",
        "dmp_consumer_alive",
        "dmp_producer_alive",
        "dmp_ring_cursor",
    ] {
        assert_eq!(kind(gauge), "gauge", "{gauge}");
    }
    for counter in [
        "dmp_consumer_events",
        "dmp_consumer_batches",
        "dmp_consumer_waits",
        "dmp_producer_waits",
        "dmp_ring_back_pressure_waits",
        "dmp_ring_abandoned_sequences",
        "dmp_ring_wakeups",
    ] {
        assert_eq!(kind(counter), "counter", "{counter}");
    }

    // Every ring of a directory in one exposition (metrics.prom, not a
    // ring, is skipped); each family once, labelled by file name.
    let second = dir.path().join("second");
    create(&["--file", second.to_str().unwrap()], &["--multi"]);
    let mut cmd = dmp();
    cmd.args(["stat", "--all", "--prometheus", "--dir"])
        .arg(dir.path());
    let text = ok(cmd, "dmp stat --all --prometheus");
    let families = parse(&text);
    let info = families
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "dmp_ring_info")
        .unwrap_or_else(|| panic!("no dmp_ring_info in:\n{text}"));
    let rings: Vec<(&str, &str)> = info["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["labels"]["ring"].as_str().unwrap(),
                s["labels"]["producer_mode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(rings, [("ring \"q\" \\x", "single"), ("second", "multi")]);
    drop(idle);
}

#[test]
fn watch_prints_refreshes_with_rates() {
    let _serial = support::serial();
    let name = ShmName::new("obs-watch");
    let target = [name.0.as_str()];
    create(&target, &["--capacity", "1024", "--slot-size", "8"]);
    // A paced producer (no consumer gates it): at most 20,000 events/s, so
    // it flushes its counts (every 1024 batches, docs/OPERATIONS.md) about
    // every 50 ms, well inside each 300 ms refresh.
    let mut p = producer(
        &target,
        &["--count", "1000000000", "--pause-us", "50", "--first", "0"],
    );
    p.wait_line("producing", READY);
    let mut c = dmp();
    c.args([
        "stat",
        &name.0,
        "--watch",
        "--count",
        "2",
        "--interval-ms",
        "300",
    ]);
    let out = ok(c, "dmp stat --watch");
    assert_eq!(out.matches("refresh ").count(), 2, "{out}");
    assert!(
        out.contains("refresh 1 of 2") && out.contains("refresh 2 of 2"),
        "{out}"
    );
    assert_eq!(out.matches("events/s published").count(), 2, "{out}");
    assert!(out.contains("events/s\n"), "no rate column in:\n{out}");

    let mut c = dmp();
    c.args(["stat", &name.0, "--watch", "--json", "--count", "2"])
        .args(["--interval-ms", "300"]);
    let out = ok(c, "dmp stat --watch --json");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    for j in &lines {
        let rate = j["rates"]["published_per_s"].as_f64().unwrap();
        assert!(rate > 0.0, "a running producer, no rate: {j}");
        assert!(j["producers"][0]["events_per_s"].as_f64().unwrap() > 0.0);
    }
    assert!(u(&lines[1]["published"]) > u(&lines[0]["published"]));
    drop(p);
}

fn ring_image() -> Vec<u8> {
    let n = ShmName::new("obs-image");
    Ring::create(&n.location(), &RingOptions::new().capacity(16).slot_size(8)).unwrap();
    std::fs::read(n.path()).unwrap()
}

fn reseal(bytes: &mut [u8]) {
    let sum = layout::checksum(&bytes[..CHECKSUM_OFFSET]);
    bytes[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 8].copy_from_slice(&sum.to_ne_bytes());
}

#[test]
fn stat_inspect_and_rm_explain_files_that_are_not_usable_rings() {
    let dir = tempfile::tempdir().unwrap();
    let good = ring_image();
    let mut checksum = good.clone();
    checksum[field::CAPACITY] ^= 1;
    let mut not_ready = good.clone();
    not_ready[STATE_OFFSET..STATE_OFFSET + 4].copy_from_slice(&0u32.to_ne_bytes());
    let mut version = good.clone();
    version[field::FORMAT_VERSION..field::FORMAT_VERSION + 4].copy_from_slice(&7u32.to_ne_bytes());
    reseal(&mut version);
    // (file, content, is it a damaged ring (magic present), expected words)
    let cases: Vec<(&str, Vec<u8>, bool, &str)> = vec![
        (
            "notes.txt",
            b"just text\n".to_vec(),
            false,
            "not a disruptor-mp segment",
        ),
        ("empty", Vec::new(), false, "empty file"),
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            true,
            "truncated",
        ),
        ("checksum", checksum, true, "checksum"),
        ("not-ready", not_ready, true, "still being initialised"),
        ("version", version, true, "format version 7"),
    ];
    for (file, bytes, damaged, words) in &cases {
        let path = dir.path().join(file);
        std::fs::write(&path, bytes).unwrap();
        let p = path.to_str().unwrap();
        for cmd in [
            vec!["stat", "--file", p],
            vec!["stat", "--file", p, "--json"],
            vec!["stat", "--file", p, "--prometheus"],
            vec!["inspect", "--file", p],
            vec!["rm", "--file", p],
        ] {
            let mut c = dmp();
            c.args(&cmd);
            let out = fails(c, &cmd.join(" "));
            assert!(
                out.contains(p) && out.contains(words),
                "{cmd:?} on {file}: {out}"
            );
        }
        assert!(path.exists(), "rm removed {file}");
        let mut c = dmp();
        c.args(["rm", "--force", "--file", p]);
        if *damaged {
            ok(c, "rm --force");
            assert!(!path.exists(), "rm --force kept damaged ring {file}");
        } else {
            let out = fails(c, "rm --force");
            assert!(out.contains("not a disruptor-mp segment"), "{out}");
            assert!(path.exists(), "rm --force removed {file}, not a ring");
        }
    }
    let mut c = dmp();
    c.args(["stat", "--file", dir.path().to_str().unwrap()]);
    let out = fails(c, "stat on a directory");
    assert!(out.contains("not a regular file"), "{out}");
    let mut c = dmp();
    c.args(["stat", "dmp-test-no-such-ring-at-all"]);
    let out = fails(c, "stat on a missing ring");
    assert!(out.contains("does not exist"), "{out}");
}

/// The `dmp ls` row of `name`, as words.
fn ls_row(out: &str, name: &str) -> Option<Vec<String>> {
    out.lines()
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .find(|w| w.first().map(String::as_str) == Some(name))
}

#[test]
fn ls_and_rm_tell_live_stale_and_initialising_rings_apart() {
    let _serial = support::serial();
    let live = ShmName::new("obs-live");
    let stale = ShmName::new("obs-stale");
    let idle = ShmName::new("obs-idle");
    let init = ShmName::new("obs-init");
    let foreign = ShmName::new("obs-foreign");
    create(&[live.0.as_str()], &["--capacity", "32"]);
    create(
        &[stale.0.as_str()],
        &["--capacity", "64", "--slot-size", "8"],
    );
    create(&[idle.0.as_str()], &[]);
    let mut image = std::fs::read(idle.path()).unwrap();
    image[STATE_OFFSET..STATE_OFFSET + 4].copy_from_slice(&0u32.to_ne_bytes());
    std::fs::write(init.path(), &image).unwrap();
    std::fs::write(foreign.path(), b"some other program's shared memory").unwrap();
    // A live consumer waiting for an event; a consumer killed without
    // leaving (its entry stays, its lease is gone).
    let watcher = consumer(&[live.0.as_str()], "watcher", &["--count", "1"]);
    let mut victim = consumer(&[stale.0.as_str()], "victim", &["--count", "1"]);
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();

    let out = ok(
        {
            let mut c = dmp();
            c.args(["ls", "--wide"]);
            c
        },
        "dmp ls",
    );
    let row = ls_row(&out, &live.0).unwrap_or_else(|| panic!("no live ring in:\n{out}"));
    assert_eq!(&row[1..3], ["live", "32"], "{out}");
    assert_eq!(&row[6..8], ["0/0", "1/1"], "{out}");
    let row = ls_row(&out, &stale.0).unwrap_or_else(|| panic!("no stale ring in:\n{out}"));
    assert_eq!(&row[1..4], ["stale", "64", "8"], "{out}");
    assert_eq!(row[7], "0/1", "{out}");
    // Never used: not stale (what --reclaim-stale and rm --stale go by).
    let row = ls_row(&out, &idle.0).unwrap_or_else(|| panic!("no idle ring in:\n{out}"));
    assert_eq!(row[1], "unused", "{out}");
    let row = ls_row(&out, &init.0).unwrap_or_else(|| panic!("no initialising ring in:\n{out}"));
    assert_eq!(row[1], "initialising", "{out}");
    assert!(ls_row(&out, &foreign.0).is_none(), "{out}");
    let mut c = dmp();
    c.args(["ls", "--all", "--wide"]);
    let out = ok(c, "dmp ls --all");
    let row = ls_row(&out, &foreign.0).unwrap_or_else(|| panic!("no foreign file in:\n{out}"));
    assert_eq!(row[1..4].join(" "), "not a ring", "{out}");

    // rm refuses the live ring, naming who uses it; --force removes it.
    let mut c = dmp();
    c.args(["rm", &live.0]);
    let out = fails(c, "rm of a live ring");
    let pid = watcher.child.id();
    assert!(
        out.contains("refusing to remove")
            && out.contains(&format!("consumer 'watcher' (pid {pid})"))
            && out.contains("--force"),
        "{out}"
    );
    assert!(live.path().exists());
    let mut c = dmp();
    c.args(["rm", "--force", &live.0]);
    let out = ok(c, "rm --force");
    assert!(out.contains("removed") && out.contains("watcher"), "{out}");
    assert!(!live.path().exists());
    // A stale ring goes without --force; the initialising one needs it.
    let mut c = dmp();
    c.args(["rm", &stale.0]);
    ok(c, "rm of a stale ring");
    assert!(!stale.path().exists());
    let mut c = dmp();
    c.args(["rm", &init.0]);
    let out = fails(c, "rm of an initialising ring");
    assert!(out.contains("--force"), "{out}");
    let mut c = dmp();
    c.args(["rm", "--force", &init.0]);
    ok(c, "rm --force of an initialising ring");
    assert!(!init.path().exists());
    drop(watcher);
}

#[test]
fn inspect_shows_header_regions_and_both_tables() {
    let name = ShmName::new("obs-inspect");
    let ring = Ring::create(
        &name.location(),
        &RingOptions::new()
            .capacity(64)
            .slot_size(24)
            .producer_mode(disruptor_mp::ProducerMode::Multi)
            .max_producers(3),
    )
    .unwrap();
    let _a = ring.consumer("alpha", &[], WaitStrategy::Yield).unwrap();
    let _b = ring
        .consumer("beta", &["alpha"], WaitStrategy::Yield)
        .unwrap();
    let _p = ring.producer(WaitStrategy::Yield).unwrap();
    let mut c = dmp();
    c.args(["inspect", &name.0]);
    let out = ok(c, "dmp inspect");
    let version = format!("format version {}", layout::FORMAT_VERSION);
    for needle in [
        version.as_str(),
        "flags          0x1 (wake-ups)",
        "producer mode  Multi",
        "max producers  3",
        "counters",
        "checksum",
        "created",
        "producers      1 of 3",
        "consumers      2 of 16",
        "cursor         -1",
    ] {
        assert!(out.contains(needle), "no {needle:?} in:\n{out}");
    }
    let me = std::process::id().to_string();
    let beta = out
        .lines()
        .find(|l| l.contains(" beta "))
        .unwrap_or_else(|| panic!("no beta row in:\n{out}"));
    let words: Vec<&str> = beta.split_whitespace().collect();
    assert_eq!(
        words,
        ["1", "beta", "active", "-1", "0", "yes", "yes", &me, "alpha", "1"],
        "{out}"
    );
}
