//! `dmp stat`: the table fits the screen, says who waits and who moves,
//! `--watch` notices a recreated ring, and OPERATIONS.md's example is what
//! the tool prints.

use crate::support::{self, dmp, repo_root, Proc, ShmName};
use crate::*;
use disruptor_mp::{Ring, RingOptions, WaitStrategy};
use serde_json::Value;

#[test]
fn stat_fits_80_columns_unless_told_and_says_who_waits() {
    let _serial = support::serial();
    let f = full_ring("ops-fit");
    let out = ok(&["stat", &f.name.0]);
    for l in out.lines() {
        assert!(l.chars().count() <= 80, "{} columns: {l:?}", l.len());
    }
    assert!(!out.contains("mean batch"), "{out}");
    let pid = f.producer.child.id();
    assert!(
        out.contains(&format!(
            "  the ring is full: producer 0 (pid {pid}) waits for it\n"
        )),
        "{out}"
    );
    // 'slow' reads nothing: not "now", and the held-back line says so.
    assert_ne!(consumer_row(&out, "slow").last().unwrap(), "now", "{out}");
    assert!(out.contains("(100% full); not moving in 0.20 s"), "{out}");
    // Every column: --wide, or a $COLUMNS wide enough.
    let wide = ok(&["stat", &f.name.0, "--wide"]);
    let (_, roomy) = dmp_code(&["stat", &f.name.0], &[("COLUMNS", "250")]);
    for text in [&wide, &roomy] {
        for col in [
            "mean batch",
            "timeouts",
            "gating",
            "batches",
            "pending claim",
        ] {
            assert!(text.contains(col), "no {col:?} in:\n{text}");
        }
    }
    let (_, narrow) = dmp_code(&["stat", &f.name.0], &[("COLUMNS", "50")]);
    let head = |t: &str| {
        t.lines()
            .find(|l| l.trim_start().starts_with("#  name"))
            .map(|l| l.split_whitespace().count())
            .unwrap_or_else(|| panic!("no consumer header in:\n{t}"))
    };
    assert!(head(&narrow) < head(&out) && head(&out) < head(&wide));
}

#[test]
fn a_full_ring_without_a_producer_waits_for_nobody() {
    let _serial = support::serial();
    let name = ShmName::new("ops-nobody");
    ok(&["create", &name.0, "--capacity", "16", "--slot-size", "8"]);
    let ring = Ring::open(&name.location(), &RingOptions::new()).unwrap();
    let _stuck = ring.consumer("stuck", &[], WaitStrategy::Yield).unwrap();
    producer(&[&name.0], &["--count", "16"]).succeed(T);
    let out = ok(&["stat", &name.0]);
    assert!(
        out.contains("lag 16 of 16 slots (100% full)")
            && out.contains("the ring is full; no producer is attached, so none waits")
            && !out.contains("waits for it"),
        "{out}"
    );
    let ls = ok(&["ls", "--json"]);
    let rows: Value = serde_json::from_str(ls.trim()).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name.0.as_str())
        .unwrap_or_else(|| panic!("{ls}"));
    assert_eq!(row["note"], "held back by 'stuck' (alive)", "{row}");
    assert_eq!(row["held_back_by"]["liveness"], "alive", "{row}");
}

#[test]
fn last_active_is_now_for_a_consumer_that_moves_between_two_looks() {
    let _serial = support::serial();
    let name = ShmName::new("ops-moving");
    let target = [name.0.as_str()];
    ok(&["create", &name.0, "--capacity", "64", "--slot-size", "8"]);
    // One event per commit, never waiting (the producer keeps the ring
    // full): it stamps its activity only every FLUSH_EVERY commits.
    let _slow = consumer(
        &target,
        "slow",
        &[
            "--count",
            "1000000000",
            "--pause-us",
            "2500",
            "--max-batch",
            "1",
        ],
    );
    let ring = Ring::open(&name.location(), &RingOptions::new()).unwrap();
    let _stuck = ring.consumer("stuck", &[], WaitStrategy::Yield).unwrap();
    let _p = producer(&target, &["--count", "1000000000"]);
    until("the ring fills", || ring.snapshot().back_pressure_waits > 0);
    drop(_stuck);
    // 'slow' moves by one commit in every 2.5 ms it is scheduled: within
    // a few one-second samples it has moved (bounded tries).
    let mut seen = String::new();
    for _ in 0..20 {
        seen = ok(&["stat", &name.0, "--sample-ms", "1000"]);
        if consumer_row(&seen, "slow").last().map(String::as_str) == Some("now") {
            break;
        }
    }
    assert_eq!(consumer_row(&seen, "slow").last().unwrap(), "now", "{seen}");
    assert!(seen.contains("; moving: +"), "{seen}");
    assert!(
        seen.contains("last active \"now\": moved in the 1.00 s between two looks"),
        "{seen}"
    );
    // One look: the participants' own stamps only, no footnote.
    let once = ok(&["stat", &name.0, "--sample-ms", "0"]);
    assert!(!once.contains("between two looks"), "{once}");
    assert!(
        !once.contains("; moving") && !once.contains("not moving"),
        "{once}"
    );
}

#[test]
fn watch_notices_a_ring_removed_and_created_again() {
    let name = ShmName::new("ops-recreate");
    ok(&["create", &name.0, "--capacity", "16"]);
    let mut c = dmp();
    c.args(["stat", &name.0, "--watch", "--interval-ms", "50"])
        .args(["--count", "100000"]);
    let mut watch = Proc::spawn(c, "dmp stat --watch");
    watch.wait_line("dmp stat ", READY);
    ok(&["rm", &name.0]);
    watch.wait_line(&format!("{}: removed: ", name.0), READY);
    ok(&["create", &name.0, "--capacity", "32"]);
    let line = watch.wait_line(&format!("{}: removed and created again", name.0), READY);
    assert!(line.contains("showing the new ring"), "{line}");
    watch.wait_line("  32 slots x 64 B", READY);
}

/// `dmp stat` output with numbers, ages and the ring's name made
/// comparable: the shape of the output, not its values.
fn shape(text: &str, ring: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for l in text.lines() {
        let l = l.replace(ring, "quotes");
        let mut out = String::new();
        let mut number = false;
        for ch in l.chars() {
            let digit = ch.is_ascii_digit() || (number && (ch == ',' || ch == '.'));
            if digit && !number {
                out.push('N');
            } else if !digit {
                out.push(ch);
            }
            number = digit;
        }
        let mut words: Vec<&str> = out.split_whitespace().collect();
        let mut i = 0;
        while i < words.len() {
            let age = words.get(i + 2) == Some(&"ago")
                && words[i] == "N"
                && ["ms", "s", "min", "h", "days"].contains(&words[i + 1]);
            if age {
                words.splice(i..i + 3, ["AGE"]);
            } else if words[i] == "now" || words[i] == "never" {
                words[i] = "AGE";
            }
            i += 1;
        }
        lines.push(words.join(" "));
    }
    lines
}

#[test]
fn the_stat_example_in_operations_md_is_what_dmp_stat_prints() {
    let _serial = support::serial();
    let f = full_ring("ops-doc");
    let (_, out) = dmp_code(&["stat", &f.name.0], &[("COLUMNS", "80")]);
    let doc = std::fs::read_to_string(repo_root().join("docs/OPERATIONS.md")).unwrap();
    let example = doc
        .split_once("```text\n$ dmp stat quotes\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .expect("the dmp stat example in OPERATIONS.md");
    assert_eq!(
        shape(example, "quotes"),
        shape(&out, &f.name.0),
        "OPERATIONS.md's `dmp stat` example is not what the tool prints now:\n{out}"
    );
}
