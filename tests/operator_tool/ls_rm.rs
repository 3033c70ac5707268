//! `dmp ls` (`--json` fields and states as OPERATIONS.md lists them,
//! unlinked rings still in use), `dmp rm --stale` and `--reclaim-stale`
//! agreeing, and `--all` alike in `ls` and `stat`.

use crate::support::{self, repo_root, ShmName};
use crate::*;
use serde_json::Value;

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
