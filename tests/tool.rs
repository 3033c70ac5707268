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
        "64B stamped, multi-producer, 1 producer        busy-spin",
        " 8B packed, single-producer ring               yield",
        " 8B packed, multi-producer, 2 producers        yield     P:0,0 C:1",
        "MP-1/SP throughput 64B stamped (spin)",
        " 8B packed, single-producer ring, no counters  busy-spin",
        "counters on/off throughput 64B stamped",
        "64B stamped, single-producer ring, optional    busy-spin",
        "dmp ring, busy-spin, optional",
        "optional/required tput 8B packed",
        "dmp ring, wake-up fd (poll), paced",
        "fd bound (never armed)",
        "64B dmp ring, tokio consumer (dmp-async)",
        "wake-fd/futex RTT p99 (paced)",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
}

#[test]
fn bench_json_has_the_multi_producer_rows() {
    // Three processes on two cores (two producers under yield): one run at
    // a time. Small counts: this checks the rows, not the figures.
    let _serial = support::serial();
    let mut c = dmp();
    c.args([
        "bench",
        "--quick",
        "--json",
        "--events",
        "200000",
        "--round-trips",
        "1000",
        "--mp2-placement",
        "unpinned",
    ]);
    let (ok, out) = run(c, "dmp bench --quick --json", T);
    assert!(ok, "{out}");
    let json = out
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON object in:\n{out}"));
    let rows = json
        .split_once("\"multi_producer\":[")
        .and_then(|(_, rest)| rest.split_once("],\"ping_pong\""))
        .map(|(rows, _)| rows)
        .unwrap_or_else(|| panic!("no multi_producer array in:\n{json}"));
    for needle in [
        "{\"size\":64,\"layout\":\"stamped\",\"producer_mode\":\"single\",\"producers\":1,\"wait\":\"spin\"",
        "\"same_as\":\"throughput:dmp_packed\"",
        "{\"size\":64,\"layout\":\"stamped\",\"producer_mode\":\"multi\",\"producers\":1,\"wait\":\"yield\"",
        "{\"size\":8,\"layout\":\"packed\",\"producer_mode\":\"multi\",\"producers\":2,\"wait\":\"yield\",\"producer_cpus\":[null,null],\"consumer_cpu\":null",
        "\"hot_counters\":false,",
        "\"rounds_counters_on_off\":[",
    ] {
        assert!(rows.contains(needle), "missing {needle:?} in:\n{rows}");
    }
    assert_eq!(rows.matches("\"events\":200000,").count(), 14, "{rows}");
    assert_eq!(
        rows.matches("\"rounds_vs_single_producer\":[").count(),
        14,
        "{rows}"
    );
    for key in [
        "\"mp1_sp_throughput_64_stamped_spin\"",
        "\"mp1_sp_throughput_8_packed_yield\"",
        "\"counters_on_off_throughput_8_packed\"",
        "\"optional_required_throughput_64_stamped\"",
        "\"required_optional_pingpong_p50\"",
    ] {
        assert!(json.contains(key), "missing target {key} in:\n{json}");
    }
}

#[test]
fn bench_json_has_the_wake_fd_rows() {
    // Two pinned processes at a time: one run at a time. Small counts: this
    // checks the rows (every payload verified by the workers), not the
    // figures.
    let _serial = support::serial();
    let mut c = dmp();
    c.args(["bench", "--quick", "--json", "--only", "wake-fd"])
        .args(["--events", "200000", "--round-trips", "1000"]);
    let (ok, out) = run(c, "dmp bench --quick --json --only wake-fd", T);
    assert!(ok, "{out}");
    let json = out
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON object in:\n{out}"));
    let section = |from: &str, to: &str| {
        json.split_once(from)
            .and_then(|(_, rest)| rest.split_once(to))
            .map(|(rows, _)| rows)
            .unwrap_or_else(|| panic!("no {from} ... {to} in:\n{json}"))
    };
    // The round trip through the fd, with the futex and socket rows it is
    // compared with (the other ping-pongs are not the group's).
    let pp = section("\"ping_pong\":[", "],\"one_event\"");
    for key in ["uds_paced", "dmp_blocking_paced", "dmp_wakefd_paced"] {
        let row = format!("{{\"workload\":\"{key}\",\"round_trips\":50,");
        assert!(pp.contains(&row), "missing {row} in:\n{pp}");
    }
    assert_eq!(pp.matches("\"workload\"").count(), 3, "{pp}");
    assert!(pp.contains("\"p50_vs\":\"dmp_blocking_paced\""), "{pp}");
    // The publisher with an fd bound and never armed, and without.
    let one = section("\"one_event\":[", "],\"wake_fd_consumers\"");
    for size in [8, 64] {
        for key in [
            "dmp_one_rust",
            "dmp_one_rust_fd",
            "dmp_one_rust_one",
            "dmp_one_rust_one_fd",
        ] {
            let row = format!("{{\"size\":{size},\"work\":0,\"workload\":\"{key}\",");
            assert!(one.contains(&row), "missing {row} in:\n{one}");
        }
    }
    assert_eq!(one.matches("\"events\":200000,").count(), 8, "{one}");
    // The tokio consumer and the blocking one.
    let wake = section("\"wake_fd_consumers\":[", "],\"targets\"");
    for size in [8, 64] {
        for key in ["dmp_blocking_consumer", "dmp_tokio_consumer"] {
            let row = format!("{{\"size\":{size},\"consumer\":\"{key}\",\"events\":200000,");
            assert!(wake.contains(&row), "missing {row} in:\n{wake}");
        }
    }
    for key in [
        "\"wakefd_futex_rtt_p50_paced\"",
        "\"wakefd_uds_rtt_p50_paced\"",
        "\"wakefd_futex_rtt_p99_paced\"",
        "\"wakefd_uds_rtt_p99_paced\"",
        "\"one_event_rust_api_fd_vs_rust_api_8\"",
        "\"one_event_rust_one_fd_vs_rust_one_64\"",
        "\"tokio_blocking_consumer_throughput_8\"",
        "\"tokio_blocking_consumer_throughput_64\"",
    ] {
        assert!(json.contains(key), "missing target {key} in:\n{json}");
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
