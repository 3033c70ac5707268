//! The `dmp` tool as an operator uses it, against real processes: a
//! `stat` table that fits 80 columns (`--wide`, `$COLUMNS`), "last active"
//! from what moved between two looks, held-back lines that say "waits"
//! only when a producer does, `ls --json` with the fields OPERATIONS.md
//! lists, `rm --stale`, `--all` alike in `ls` and `stat`, `--watch`
//! noticing a recreated ring, one exit code per kind of failure, the
//! unlinked rings processes still use, and the docs (the `dmp stat`
//! example, README's command table) checked against the tool's output.

mod support;

use disruptor_mp::{Ring, RingOptions, WaitStrategy};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::{dmp, repo_root, Proc, ShmName};

const T: Duration = Duration::from_secs(120);
const READY: Duration = Duration::from_secs(20);

/// Runs `dmp ARGS` to the end: (exit code, stdout + stderr).
fn dmp_code(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut c = dmp();
    c.args(args).env_remove("COLUMNS");
    for (k, v) in env {
        c.env(k, v);
    }
    let (status, out) = Proc::spawn(c, &args.join(" ")).finish_status(T);
    (status.code().unwrap_or(-1), out)
}

fn ok(args: &[&str]) -> String {
    let (code, out) = dmp_code(args, &[]);
    assert_eq!(code, 0, "dmp {} failed:\n{out}", args.join(" "));
    out
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

/// Waits (bounded) until `f` holds.
fn until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < READY, "never: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The table line of consumer `name` in `dmp stat` output, as words.
fn consumer_row(out: &str, name: &str) -> Vec<String> {
    out.lines()
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .find(|w| w.get(1).map(String::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no consumer {name} in:\n{out}"))
}

/// A ring in which consumer 'slow' (this process) holds 64 slots full,
/// 'fast' (this process) is caught up and a live producer waits.
struct FullRing {
    name: ShmName,
    _ring: Ring,
    producer: Proc,
}

fn full_ring(tag: &str) -> FullRing {
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

/// The fields OPERATIONS.md lists under `heading`, in order: the first
/// backticked word of each "- `field`" line up to the next heading.
fn documented_fields(heading: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(repo_root().join("docs/OPERATIONS.md")).unwrap();
    let at = doc
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in OPERATIONS.md"));
    doc[at + heading.len()..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("- `"))
        .map(|l| l.split('`').next().unwrap().to_string())
        .collect()
}

/// The states of the `dmp ls` table in OPERATIONS.md.
fn documented_states() -> Vec<String> {
    let doc = std::fs::read_to_string(repo_root().join("docs/OPERATIONS.md")).unwrap();
    let at = doc.find("| state | meaning |").expect("the ls state table");
    doc[at..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split('|').nth(1).unwrap().trim().to_string())
        .collect()
}

#[test]
fn ls_json_has_the_documented_fields_and_states() {
    let _serial = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    for n in ["live", "stale", "unused"] {
        ok(&["create", "--file", &file(n), "--capacity", "16"]);
    }
    consumer(&["--file", &file("stale")], "gone", &["--count", "0"]).succeed(T);
    let live = consumer(&["--file", &file("live")], "watcher", &["--count", "1"]);
    std::fs::write(dir.path().join("notes.txt"), "text").unwrap();
    std::os::unix::fs::symlink("/nowhere", dir.path().join("link")).unwrap();
    let mut image = std::fs::read(file("unused")).unwrap();
    let st = disruptor_mp::layout::STATE_OFFSET;
    image[st..st + 4].copy_from_slice(&0u32.to_ne_bytes());
    std::fs::write(file("init"), &image).unwrap();
    std::fs::write(file("short"), &image[..100]).unwrap();
    // A ring removed while 'watcher' uses it.
    ok(&["create", "--file", &file("gone"), "--capacity", "16"]);
    let user = consumer(&["--file", &file("gone")], "user", &["--count", "1"]);
    ok(&["rm", "--force", "--file", &file("gone")]);

    let out = ok(&["ls", "--all", "--json", "--dir", d]);
    let rows: Value = serde_json::from_str(out.trim()).unwrap();
    let rows = rows.as_array().unwrap();
    let fields = documented_fields("### `dmp ls --json`");
    assert!(fields.len() > 10, "{fields:?}");
    let mut sorted = fields.clone();
    sorted.sort();
    // In the documented order (serde_json's map sorts, so the text says).
    let first = out.split("},{").next().unwrap();
    let at: Vec<usize> = fields
        .iter()
        .map(|f| {
            first
                .find(&format!("\"{f}\":"))
                .unwrap_or_else(|| panic!("{f}: {first}"))
        })
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{fields:?} in {first}");
    let mut states = Vec::new();
    for r in rows {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(keys, sorted.iter().collect::<Vec<_>>(), "{r}");
        states.push((r["name"].as_str().unwrap(), r["state"].as_str().unwrap()));
    }
    states.sort();
    assert_eq!(
        states,
        [
            ("gone", "unlinked"),
            ("init", "initialising"),
            ("link", "unreadable"),
            ("live", "live"),
            ("notes.txt", "not a ring"),
            ("short", "unusable"),
            ("stale", "stale"),
            ("unused", "unused"),
        ]
    );
    let mut documented = documented_states();
    documented.sort();
    let mut emitted: Vec<&str> = states.iter().map(|s| s.1).collect();
    emitted.sort();
    assert_eq!(
        documented, emitted,
        "the states of OPERATIONS.md's ls table"
    );
    let gone = rows.iter().find(|r| r["name"] == "gone").unwrap();
    assert_eq!(gone["processes"][0]["pid"], user.child.id(), "{gone}");
    assert_eq!(gone["processes"][0]["command"], "dmp", "{gone}");
    let l = rows.iter().find(|r| r["name"] == "live").unwrap();
    assert_eq!(
        (&l["consumers_alive"], &l["capacity"]),
        (&1.into(), &16.into())
    );
    // Without --all: the rings only (unlinked included).
    let out = ok(&["ls", "--json", "--dir", d]);
    let names: Vec<String> = serde_json::from_str::<Value>(out.trim())
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["init", "live", "short", "stale", "unused", "gone"]);
    drop((live, user));
}

#[test]
fn rm_stale_removes_only_stale_rings_and_reclaim_agrees() {
    let _serial = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    for n in ["live", "stale1", "stale2", "unused"] {
        ok(&["create", "--file", &file(n), "--capacity", "16"]);
    }
    let _live = consumer(&["--file", &file("live")], "w", &["--count", "1"]);
    consumer(&["--file", &file("stale1")], "gone", &["--count", "0"]).succeed(T);
    let mut killed = consumer(&["--file", &file("stale2")], "killed", &["--count", "1"]);
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "text").unwrap();
    // --reclaim-stale goes by the states `ls` shows: an unused ring is
    // opened as it is, a stale one created anew.
    let reclaim = |n: &str| {
        ok(&[
            "create",
            "--file",
            &file(n),
            "--capacity",
            "16",
            "--open-existing",
            "--reclaim-stale",
        ])
    };
    assert!(reclaim("unused").starts_with("opened "));
    let out = ok(&["rm", "--stale", "--dir", d]);
    let removed: Vec<&str> = out.lines().filter(|l| l.starts_with("removed ")).collect();
    assert_eq!(
        removed,
        [
            format!("removed {} (stale)", file("stale1")),
            format!("removed {} (stale)", file("stale2"))
        ],
        "{out}"
    );
    assert!(out.contains("2 stale rings removed"), "{out}");
    assert!(
        out.contains("live (live)") && out.contains("unused (unused)"),
        "{out}"
    );
    for n in ["live", "unused", "notes.txt"] {
        assert!(dir.path().join(n).exists(), "{n} removed:\n{out}");
    }
    for n in ["stale1", "stale2"] {
        assert!(!dir.path().join(n).exists(), "{n} kept:\n{out}");
    }
    consumer(&["--file", &file("unused")], "once", &["--count", "0"]).succeed(T);
    assert!(reclaim("unused").starts_with("created "));
}

#[test]
fn all_means_every_file_in_ls_and_stat() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for n in ["a", "b"] {
        let f = dir.path().join(n);
        ok(&["create", "--file", f.to_str().unwrap(), "--capacity", "16"]);
    }
    std::fs::write(dir.path().join("notes.txt"), "text").unwrap();
    let ls = ok(&["ls", "--all", "--dir", d]);
    let stat = ok(&["stat", "--all", "--dir", d, "--sample-ms", "0"]);
    for (n, what) in [
        ("a", "unused"),
        ("b", "unused"),
        ("notes.txt", "not a ring"),
    ] {
        assert!(
            ls.lines().any(|l| l.starts_with(n) && l.contains(what)),
            "{ls}"
        );
    }
    for line in [
        "ring a (",
        "ring b (",
        "  notes.txt: not a ring (no ring magic)",
    ] {
        assert!(stat.contains(line), "no {line:?} in:\n{stat}");
    }
    let json = ok(&["stat", "--all", "--json", "--dir", d]);
    let rings: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rings.len(), 2, "{json}");
    assert_eq!(
        (&rings[0]["ring"], &rings[1]["ring"]),
        (&"a".into(), &"b".into())
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

#[test]
fn each_kind_of_failure_has_its_exit_code() {
    let _serial = support::serial();
    let name = ShmName::new("ops-codes");
    ok(&["create", &name.0, "--capacity", "16"]);
    let text = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(text.path(), "text").unwrap();
    let txt = text.path().to_str().unwrap();
    let _live = consumer(&[&name.0], "w", &["--count", "1"]);
    let missing = "dmp-test-ops-no-such-ring";
    let cases: Vec<(i32, Vec<&str>)> = vec![
        (
            1,
            vec!["create", &name.0, "--capacity", "32", "--open-existing"],
        ),
        (2, vec!["stat", &name.0, "--no-such-option"]),
        (2, vec!["create", missing, "--capacity", "3"]),
        (3, vec!["stat", missing]),
        (3, vec!["rm", missing]),
        (4, vec!["stat", "--file", txt]),
        (4, vec!["rm", "--force", "--file", txt]),
        (5, vec!["rm", &name.0]),
        (5, vec!["create", &name.0]),
        (
            6,
            vec!["produce", missing, "--timeout-ms", "50", "--count", "1"],
        ),
    ];
    for (want, args) in &cases {
        let (code, out) = dmp_code(args, &[]);
        assert_eq!(code, *want, "dmp {}:\n{out}", args.join(" "));
    }
    // The codes are documented where operators look.
    let help = ok(&["--help"]);
    let doc = std::fs::read_to_string(repo_root().join("docs/OPERATIONS.md")).unwrap();
    for (code, word) in [
        (1, "other"),
        (2, "usage"),
        (3, "not found"),
        (4, "not a (usable) ring"),
        (5, "refused"),
        (6, "timeout"),
    ] {
        assert!(help.contains(&format!("{code} {word}")), "{help}");
        assert!(
            doc.contains(&format!("| {code} | {word}")),
            "OPERATIONS.md: {code}"
        );
    }
}

#[test]
fn processes_still_using_a_removed_ring_are_listed() {
    let name = ShmName::new("ops-unlinked");
    ok(&["create", &name.0, "--capacity", "16"]);
    let mut user = consumer(&[&name.0], "user", &["--count", "1"]);
    let pid = user.child.id();
    let out = ok(&["rm", "--force", &name.0]);
    assert!(
        out.contains(&format!("still used by pid {pid} (dmp)")),
        "{out}"
    );
    let ls = ok(&["ls", "--wide"]);
    let row = ls
        .lines()
        .find(|l| l.starts_with(&format!("{} ", name.0)))
        .unwrap_or_else(|| panic!("no row for the unlinked ring in:\n{ls}"));
    assert!(
        row.contains("unlinked") && row.contains(&format!("still used by pid {pid} (dmp)")),
        "{row}"
    );
    user.child.kill().unwrap();
    user.child.wait().unwrap();
    let ls = ok(&["ls", "--json"]);
    assert!(!ls.contains(&format!("\"{}\"", name.0)), "{ls}");
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

/// The rows of README's command table: (subcommand, row text).
fn readme_rows() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let at = readme
        .find("| command | what it does |")
        .expect("the command table");
    readme[at..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cmd = l
                .trim_start_matches("| `dmp ")
                .split([' ', '`'])
                .next()
                .unwrap();
            (cmd.to_string(), l.to_string())
        })
        .collect()
}

/// The long options of `dmp SUB --help`.
fn long_options(sub: &str) -> Vec<String> {
    let help = ok(&[sub, "--help"]);
    help.lines()
        .filter_map(|l| l.trim_start().split_once("--"))
        .filter(|(before, _)| before.is_empty() || before.ends_with(", "))
        .map(|(_, rest)| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            format!("--{name}")
        })
        .filter(|o| o != "--help" && o != "--version")
        .collect()
}

#[test]
fn readme_lists_every_command_and_the_observing_commands_options() {
    let help = ok(&["--help"]);
    let commands: Vec<String> = help
        .split_once("Commands:\n")
        .unwrap()
        .1
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.contains(&"ls".to_string()), "{help}");
    let rows = readme_rows();
    for c in &commands {
        let row = rows
            .iter()
            .find(|(r, _)| r == c)
            .unwrap_or_else(|| panic!("README's command table has no `dmp {c}` row"));
        let options = long_options(c);
        // Every option the row names exists.
        for word in row
            .1
            .split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-'))
        {
            if word.starts_with("--") {
                assert!(
                    options.contains(&word.to_string()),
                    "{c}: no {word} in {options:?}"
                );
            }
        }
        // The observing and creating commands: every option is named.
        if ["create", "stat", "inspect", "ls", "rm"].contains(&c.as_str()) {
            for o in &options {
                assert!(
                    row.1.contains(o.as_str()),
                    "README's `dmp {c}` row lacks {o}"
                );
            }
        }
    }
    for (r, _) in &rows {
        assert!(
            commands.contains(r),
            "README lists `dmp {r}`, which is not a command"
        );
    }
}
