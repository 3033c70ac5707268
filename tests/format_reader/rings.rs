//! The ring configurations the reader is run against, live and finished.

use super::*;

pub(crate) fn shm(name: &ShmName) -> Vec<String> {
    vec![name.0.clone()]
}

pub(crate) fn file(path: &Path) -> Vec<String> {
    vec!["--file".into(), path.display().to_string()]
}

pub(crate) fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Single producer, stamped, wake-ups and blocking waits; a dependent
/// consumer; both consumers leave. Finished.
pub(crate) fn single_stamped_blocking(tally: &mut Tally) {
    let config = "single producer, stamped, wake-ups, blocking, dependent consumer, consumers left";
    let name = ShmName::new("fr-sp-stamped");
    let t = shm(&name);
    let t = strs(&t);
    create(&t, &["--capacity", "64", "--slot-size", "16"]);
    let a = consumer(&t, "a", &["--count", "500", "--wait", "block"]);
    let b = consumer(
        &t,
        "b",
        &[
            "--count",
            "500",
            "--wait",
            "block",
            "--after",
            "a",
            "--max-batch",
            "7",
        ],
    );
    let p = producer(&t, &["--count", "500", "--batch", "3", "--wait", "block"]);
    p.succeed(T);
    a.succeed(T);
    b.succeed(T);
    let s = sample(&t, false);
    compare(tally, config, &s);
    let mut c = Cmp { config, tally };
    check_events(&mut c, &s, Numbering::BySequence, None);
    tally.configurations.push(config.into());
}

/// Single producer, packed, file-backed, no hot counters, no wake-ups; an
/// optional consumer beside a required one. Finished.
pub(crate) fn single_packed_file(tally: &mut Tally, dir: &Path) {
    let config = "single producer, packed, file, no hot counters, no wake-ups, optional consumer";
    let path = dir.join("packed.ring");
    let t = file(&path);
    let t = strs(&t);
    create(
        &t,
        &[
            "--packed",
            "--no-hot-counters",
            "--no-wakeups",
            "--slot-size",
            "8",
            "--capacity",
            "256",
            "--max-consumers",
            "4",
        ],
    );
    let r = consumer(&t, "req", &["--count", "2000"]);
    let o = consumer(
        &t,
        "opt",
        &["--count", "2000", "--optional", "--max-block-ms", "30000"],
    );
    let p = producer(&t, &["--count", "2000", "--batch", "16"]);
    p.succeed(T);
    r.succeed(T);
    o.succeed(T);
    let s = sample(&t, false);
    compare(tally, config, &s);
    let mut c = Cmp { config, tally };
    check_events(&mut c, &s, Numbering::BySequence, None);
    tally.configurations.push(config.into());
}

/// Single producer, 3-byte slots, `--first`, no consumer (the producer
/// laps freely). Finished.
pub(crate) fn single_short_slots_first(tally: &mut Tally) {
    let config = "single producer, stamped, 3-byte slots, --first, no consumer";
    let name = ShmName::new("fr-sp-short");
    let t = shm(&name);
    let t = strs(&t);
    create(
        &t,
        &[
            "--slot-size",
            "3",
            "--capacity",
            "16",
            "--max-consumers",
            "2",
        ],
    );
    producer(&t, &["--count", "40", "--first", "70000", "--batch", "2"]).succeed(T);
    let s = sample(&t, false);
    compare(tally, config, &s);
    let mut c = Cmp { config, tally };
    check_events(&mut c, &s, Numbering::From(70000), None);
    tally.configurations.push(config.into());
}

/// Single producer, stamped, a slow required consumer and an optional
/// one, all running. Live.
pub(crate) fn single_live(tally: &mut Tally) {
    let config = "single producer, stamped, no wake-ups, live: slow required + optional consumer";
    let name = ShmName::new("fr-sp-live");
    let t = shm(&name);
    let t = strs(&t);
    create(
        &t,
        &["--capacity", "32", "--slot-size", "24", "--no-wakeups"],
    );
    let _slow = consumer(
        &t,
        "slow",
        &[
            "--count",
            "100000000",
            "--wait",
            "sleep",
            "--pause-us",
            "2000",
        ],
    );
    let _opt = consumer(
        &t,
        "opt",
        &[
            "--count",
            "100000000",
            "--wait",
            "sleep",
            "--optional",
            "--max-block-ms",
            "60000",
        ],
    );
    let _p = producer(
        &t,
        &[
            "--count",
            "100000000",
            "--wait",
            "sleep",
            "--pause-us",
            "300",
            "--batch",
            "2",
        ],
    );
    wait_stat(&t, "100 events published", |s| {
        int(&s["published"]).unwrap_or(0) >= 100
    });
    for _ in 0..2 {
        let s = sample(&t, true);
        compare(tally, config, &s);
    }
    tally.configurations.push(config.into());
}

/// Multi-producer, stamped, two producers (one with mixed batches), one
/// consumer that drains. Finished.
pub(crate) fn multi_stamped_two_producers(tally: &mut Tally) {
    let config = "multi producer, stamped, two producers, wake-ups, consumer left";
    let name = ShmName::new("fr-mp-stamped");
    let t = shm(&name);
    let t = strs(&t);
    create(
        &t,
        &[
            "--multi",
            "--capacity",
            "1024",
            "--max-producers",
            "4",
            "--slot-size",
            "32",
        ],
    );
    let m = consumer(&t, "m", &["--drain-ms", "2000", "--count", "100000000"]);
    let p1 = producer(
        &t,
        &[
            "--producer-id",
            "1",
            "--count",
            "300",
            "--batch",
            "5",
            "--mixed-batches",
        ],
    );
    let p2 = producer(
        &t,
        &["--producer-id", "2", "--count", "300", "--batch", "3"],
    );
    p1.succeed(T);
    p2.succeed(T);
    m.succeed(T);
    let s = sample(&t, false);
    compare(tally, config, &s);
    let mut c = Cmp { config, tally };
    check_events(
        &mut c,
        &s,
        Numbering::PerProducer { from_zero: true },
        Some(0),
    );
    tally.configurations.push(config.into());
}

/// Multi-producer, packed (availability flags), a claim abandoned after
/// the unblock timeout while its producer stalls. Finished.
pub(crate) fn multi_packed_abandoned(tally: &mut Tally) {
    let config = "multi producer, packed, abandoned claim, hot counters";
    let name = ShmName::new("fr-mp-abandoned");
    let t = shm(&name);
    let t = strs(&t);
    create(
        &t,
        &[
            "--multi",
            "--packed",
            "--slot-size",
            "8",
            "--capacity",
            "256",
            "--unblock-ms",
            "100",
            "--max-producers",
            "2",
        ],
    );
    let m = consumer(&t, "m", &["--drain-ms", "2000", "--count", "100000000"]);
    let p = producer(
        &t,
        &[
            "--producer-id",
            "3",
            "--count",
            "100",
            "--batch",
            "4",
            "--stall-ms",
            "700",
            "--stall-batch",
            "2",
        ],
    );
    p.succeed(T);
    m.succeed(T);
    let s = sample(&t, false);
    let abandoned = int(&s.before["abandoned"]).unwrap() as u64;
    assert!(
        abandoned >= 4,
        "[{config}] the stalled claim was not abandoned: {}",
        s.before
    );
    compare(tally, config, &s);
    let mut c = Cmp { config, tally };
    check_events(
        &mut c,
        &s,
        Numbering::PerProducer { from_zero: true },
        Some(abandoned),
    );
    tally.configurations.push(config.into());
}

/// Multi-producer, stamped, no hot counters: a producer killed while it
/// holds a claim (no consumer, so nobody abandons it). Finished.
pub(crate) fn multi_dead_producer(tally: &mut Tally) {
    let config = "multi producer, stamped, no hot counters, dead producer holding a claim";
    let name = ShmName::new("fr-mp-dead");
    let t = shm(&name);
    let t = strs(&t);
    create(
        &t,
        &[
            "--multi",
            "--no-hot-counters",
            "--capacity",
            "64",
            "--unblock-ms",
            "60000",
            "--max-producers",
            "3",
        ],
    );
    let mut p = producer(
        &t,
        &[
            "--count",
            "100",
            "--batch",
            "4",
            "--stall-ms",
            "60000",
            "--stall-batch",
            "2",
        ],
    );
    wait_stat(&t, "the producer's pending claim", |s| {
        s["producers"][0]["pending_claim"].is_array()
    });
    p.child.kill().expect("kill the producer");
    let _ = p.child.wait();
    let s = sample(&t, false);
    let want = serde_json::json!([8, 11]);
    let pending = &s.reader["producers"][0]["pending_claim"];
    assert!(
        same(pending, &want) && alive_word(&s.reader["producers"][0]) == "dead",
        "[{config}] expected a dead producer holding [8, 11]: {}",
        s.reader["producers"]
    );
    compare(tally, config, &s);
    let mut c = Cmp { config, tally };
    check_events(
        &mut c,
        &s,
        Numbering::PerProducer { from_zero: true },
        Some(0),
    );
    let states: Vec<&str> = s.reader["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap_or("?"))
        .collect();
    c.tally.fields += 1;
    if states != [vec!["published"; 8], vec!["pending"; 4]].concat() {
        c.mismatch(format!(
            "sequences 0..=11 should be 8 published and 4 pending: {states:?}"
        ));
    }
    tally.configurations.push(config.into());
}

/// Multi-producer, packed, wake-ups: a live producer stalled inside its
/// claim, another filling the ring behind it, a blocking consumer
/// waiting for the stalled sequence. Live.
pub(crate) fn multi_live_stalled(tally: &mut Tally) {
    let config = "multi producer, packed, wake-ups, live: stalled claim, blocking consumer";
    let name = ShmName::new("fr-mp-live");
    let t = shm(&name);
    let t = strs(&t);
    create(
        &t,
        &[
            "--multi",
            "--packed",
            "--slot-size",
            "16",
            "--capacity",
            "128",
            "--unblock-ms",
            "60000",
            "--max-producers",
            "2",
        ],
    );
    let _w = consumer(&t, "w", &["--wait", "block", "--count", "100000000"]);
    let _a = producer(
        &t,
        &[
            "--producer-id",
            "1",
            "--count",
            "12",
            "--batch",
            "4",
            "--stall-ms",
            "30000",
            "--stall-batch",
            "1",
            "--wait",
            "sleep",
        ],
    );
    wait_stat(&t, "producer 1's pending claim", |s| {
        s["producers"][0]["pending_claim"].is_array()
    });
    let _b = producer(
        &t,
        &[
            "--producer-id",
            "2",
            "--count",
            "100000000",
            "--wait",
            "sleep",
            "--pause-us",
            "1000",
        ],
    );
    wait_stat(&t, "producer 2 publishing", |s| {
        int(&s["claimed"]).unwrap_or(0) >= 20
    });
    for _ in 0..2 {
        let s = sample(&t, true);
        compare(tally, config, &s);
    }
    tally.configurations.push(config.into());
}
