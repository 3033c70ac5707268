//! The commands README gives work end to end: `dmp demo` (the main job) and
//! `dmp bench --quick` move verified events between real processes and
//! print their figures (and progress while they run); `dmp inspect` and
//! `dmp rm` refuse files that are not rings. Output is checked, timings
//! never are.

mod support;

use std::time::Duration;
use support::{dmp, run};

const T: Duration = Duration::from_secs(300);

#[test]
fn demo_moves_events_between_processes_and_reports_figures() {
    // Two busy-spinning processes pinned to CPUs 0 and 1: one run at a time.
    let _serial = support::serial();
    let mut c = dmp();
    c.args(["demo", "--events", "20000000", "--round-trips", "20000"])
        .args(["--progress-ms", "50"]);
    let (ok, out) = run(c, "dmp demo", T);
    assert!(ok, "{out}");
    // Progress lines while it runs, read from the ring's consumer.
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("... ") && l.contains(" of 20,000,000 events (")),
        "no progress line in:\n{out}"
    );
    for needle in [
        "events moved",
        "all verified",
        "throughput",
        "round trip",
        "p99.9",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
}

#[test]
fn bench_quick_runs_every_workload_and_prints_ratios() {
    // Two busy-spinning processes pinned to CPUs 0 and 1: one run at a time.
    let _serial = support::serial();
    let mut c = dmp();
    c.args(["bench", "--quick"]);
    let (ok, out) = run(c, "dmp bench --quick", T);
    assert!(ok, "{out}");
    for needle in [
        "floor SPSC ring",
        "dmp ring, packed",
        "unix socket",
        "floor atomic ping-pong",
        "dmp ring, blocking, paced",
        "dmp/floor ping-pong p50",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
}

#[test]
fn inspect_and_rm_refuse_a_file_that_is_not_a_ring() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "just text\n").unwrap();
    for cmd in ["inspect", "rm"] {
        let mut c = dmp();
        c.args([cmd, "--file", path.to_str().unwrap()]);
        let (ok, out) = run(c, cmd, T);
        assert!(
            !ok && out.contains("is not a disruptor-mp segment"),
            "{cmd}: {out}"
        );
    }
    assert!(path.exists(), "dmp rm removed a file that is not a ring");
}
