//! The docs in step with the tool: the metric table of OPERATIONS.md's
//! `--prometheus` section lists exactly the families `dmp stat --all
//! --prometheus` emits, with their types and label names, and the field
//! table of the `--json` section exactly the fields `dmp stat --json`
//! emits, object by object; and every option README's command table shows
//! is one the command has.

#[path = "support/prometheus.rs"]
mod prometheus_check;
mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use support::{dmp, Proc};

const T: Duration = Duration::from_secs(60);

fn operations() -> String {
    std::fs::read_to_string(support::repo_root().join("docs/OPERATIONS.md")).unwrap()
}

/// The rows of the first table after `heading`, as cells.
fn table_after(doc: &str, heading: &str) -> Vec<Vec<String>> {
    let at = doc
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in OPERATIONS.md"));
    doc[at..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // the header and the rule
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// The `backticked` words of a cell that look like names.
fn names(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(str::to_string)
        .collect()
}

type Families = BTreeMap<String, (String, BTreeSet<String>)>;

/// name -> (type, label names) of an exposition.
fn emitted(text: &str) -> Families {
    prometheus_check::assert_exposition_structure(text);
    let mut out = Families::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            out.insert(name.into(), (kind.into(), BTreeSet::new()));
        } else if !line.starts_with('#') {
            let (name, labels) = match line.split_once('{') {
                Some((n, rest)) => (n, rest.rsplit_once("} ").unwrap().0),
                None => (line.split_once(' ').unwrap().0, ""),
            };
            let set = &mut out.get_mut(name).expect("TYPE first").1;
            for pair in labels.split("\",").filter(|p| !p.is_empty()) {
                set.insert(pair.split_once('=').unwrap().0.to_string());
            }
        }
    }
    out
}

fn documented() -> Families {
    let mut out = Families::new();
    for row in table_after(&operations(), "### `--prometheus`") {
        let labels: BTreeSet<String> = row[2]
            .split(',')
            .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
            .filter(|l| !l.is_empty() && l != "none")
            .collect();
        for name in names(&row[0]).into_iter().filter(|n| n.starts_with("dmp_")) {
            let old = out.insert(name.clone(), (row[1].clone(), labels.clone()));
            assert!(old.is_none(), "{name} listed twice");
        }
    }
    out
}

#[test]
fn the_metric_table_lists_what_the_tool_emits() {
    let _serial = support::serial();
    let dir = tempfile::tempdir().unwrap();
    // A ring with a producer and both roles of consumer, and a ring cut
    // short: every family has samples.
    let ring = dir.path().join("ring");
    let rp = ring.to_str().unwrap();
    let mut c = dmp();
    c.args(["create", "--file", rp, "--capacity", "64", "--multi"]);
    assert!(support::run(c, "create", T).0);
    let mut procs = Vec::new();
    for (name, extra) in [("req", &[][..]), ("opt", &["--optional"][..])] {
        let mut c = dmp();
        c.args([
            "consume", "--file", rp, "--name", name, "--count", "1000000",
        ])
        .args(["--timeout-ms", "60000"])
        .args(extra);
        let mut p = Proc::spawn(c, name);
        p.wait_line("ready", T);
        procs.push(p);
    }
    let mut p = dmp();
    p.args(["produce", "--file", rp, "--count", "10", "--first", "0"]);
    assert!(support::run(p, "producer", T).0);
    let head = std::fs::read(&ring).unwrap();
    std::fs::write(dir.path().join("cut"), &head[..100]).unwrap();

    let mut c = dmp();
    c.args(["stat", "--all", "--prometheus", "--dir"])
        .arg(dir.path());
    let (ok, text) = support::run(c, "stat --all --prometheus", T);
    assert!(ok, "{text}");
    let text: String = text.lines().map(|l| format!("{l}\n")).collect();
    let (emitted, documented) = (emitted(&text), documented());
    let missing: Vec<_> = emitted
        .keys()
        .filter(|k| !documented.contains_key(*k))
        .collect();
    let stale: Vec<_> = documented
        .keys()
        .filter(|k| !emitted.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "OPERATIONS.md lacks {missing:?} and lists {stale:?}, which the tool does not emit"
    );
    for (name, (kind, labels)) in &emitted {
        let (dkind, dlabels) = &documented[name];
        assert_eq!(kind, dkind, "{name}: type");
        assert_eq!(labels, dlabels, "{name}: labels");
    }
    drop(procs);
}

/// The field names of an object (sorted: serde_json's map sorts them).
fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn the_json_field_table_lists_what_the_tool_emits() {
    let _serial = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring");
    let rp = ring.to_str().unwrap();
    let mut c = dmp();
    c.args(["create", "--file", rp, "--capacity", "64"]);
    assert!(support::run(c, "create", T).0);
    // A consumer that stays attached, and a producer that left.
    let mut c = dmp();
    c.args(["consume", "--file", rp, "--name", "slow", "--count", "1000"])
        .args(["--timeout-ms", "60000"]);
    let mut consumer = Proc::spawn(c, "consumer");
    consumer.wait_line("ready", T);
    let mut p = dmp();
    p.args(["produce", "--file", rp, "--count", "5", "--first", "0"]);
    assert!(support::run(p, "producer", T).0);
    let mut c = dmp();
    c.args(["stat", "--file", rp, "--json", "--watch", "--count", "1"])
        .args(["--interval-ms", "10"]);
    let (ok, out) = support::run(c, "stat --json --watch", T);
    assert!(ok, "{out}");
    let j: Value = serde_json::from_str(out.trim()).unwrap();

    let rows = table_after(&operations(), "### `--json`");
    let row = |first: &str| -> BTreeSet<String> {
        let r = rows
            .iter()
            .find(|r| r[0].starts_with(first))
            .unwrap_or_else(|| panic!("no row {first:?} in the --json table"));
        names(&r[1]).into_iter().collect()
    };
    assert_eq!(keys(&j), row("the ring"), "the ring's fields");
    assert_eq!(keys(&j["producers"][0]), row("each of `producers`"));
    assert_eq!(keys(&j["consumers"][0]), row("each of `consumers`"));
    if !j["held_back_by"].is_null() {
        assert_eq!(keys(&j["held_back_by"]), row("each of `consumers`"));
    }
    assert_eq!(keys(&j["rates"]), row("`rates`"));
    drop(consumer);
}

/// Every option README's command table shows exists in that command's
/// `--help`.
#[test]
fn the_readme_command_table_shows_real_options() {
    let readme = std::fs::read_to_string(support::repo_root().join("README.md")).unwrap();
    let rows = table_after(&readme, "| command | what it does |");
    assert!(rows.len() >= 8, "{rows:?}");
    for row in rows {
        for usage in row[0].split('`').skip(1).step_by(2) {
            let sub = usage.split_whitespace().nth(1).expect("dmp SUB");
            let mut c = dmp();
            c.args([sub, "--help"]);
            let (ok, help) = support::run(c, "dmp SUB --help", T);
            assert!(ok, "{sub}: {help}");
            let options = usage
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .filter(|w| w.starts_with("--") && w.len() > 2);
            for o in options {
                assert!(
                    help.contains(o),
                    "README shows `dmp {sub} {o}`; its --help has no {o}"
                );
            }
        }
    }
}
