//! `dmp stat --serve`: the HTTP endpoint scraped with a real client (curl)
//! while a producer and consumers run, its body parsed by a real
//! Prometheus parser (prometheus_client) and checked by `promtool check
//! metrics`; rings found afresh on each scrape, down rings reported as
//! series, other paths 404; and the scrape time of 100 rings, measured and
//! printed (no threshold: see the test's output, `--nocapture`).

#[path = "support/prometheus.rs"]
mod prometheus_check;
mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{dmp, Proc};

const T: Duration = Duration::from_secs(60);

/// curl, installed with apt-get when missing and running as root.
fn curl() -> bool {
    let found = || Command::new("curl").arg("--version").output().is_ok();
    // SAFETY: geteuid has no preconditions.
    if !found() && unsafe { libc::geteuid() } == 0 {
        let _ = Command::new("sh")
            .args([
                "-c",
                "apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq curl >/dev/null 2>&1",
            ])
            .status();
    }
    if found() {
        return true;
    }
    support::skip_or_fail("curl is missing and cannot be installed");
    false
}

/// One HTTP request with curl: (status, content type, body, seconds).
fn get(url: &str, method: &str) -> (u16, String, String, f64) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "30", "-X", method, "-o", "-"])
        .args(["-w", "\n%{http_code} %{time_total} %{content_type}"])
        .arg(url)
        .output()
        .expect("run curl");
    assert!(out.status.success(), "curl {url}: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, meta) = text.rsplit_once('\n').unwrap();
    let mut w = meta.splitn(3, ' ');
    let code = w.next().unwrap().parse().unwrap();
    let secs = w.next().unwrap().parse().unwrap();
    (code, w.next().unwrap_or("").into(), body.into(), secs)
}

/// `dmp stat --serve 127.0.0.1:0` with `args`, and the URL it printed.
fn serve(args: &[&str]) -> (Proc, String) {
    let mut c = dmp();
    c.args(["stat", "--serve", "127.0.0.1:0"]).args(args);
    let mut p = Proc::spawn(c, "dmp stat --serve");
    let line = p.wait_line("serving ", T);
    let url = line.trim().strip_prefix("serving ").unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/metrics"));
    (p, url)
}

fn samples<'a>(families: &'a Value, metric: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    families
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["samples"].as_array().unwrap())
        .filter(move |s| s["name"] == metric)
}

/// The value of `metric` with every label of `labels`.
fn value(families: &Value, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples(families, metric)
        .find(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .map(|s| s["value"].as_f64().unwrap())
}

fn file_ring(path: &Path, extra: &[&str]) {
    let mut c = dmp();
    c.args(["create", "--file"]).arg(path).args(extra);
    let (ok, out) = support::run(c, "dmp create", T);
    assert!(ok, "{out}");
}

#[test]
fn metrics_are_served_while_a_producer_runs_and_rings_are_found_afresh() {
    if !curl() {
        return;
    }
    let parser = prometheus_check::Parser::new();
    let promtool = prometheus_check::promtool();
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let lp = live.to_str().unwrap();
    file_ring(&live, &["--capacity", "1024", "--slot-size", "16"]);
    let consumer = |name: &str, extra: &[&str]| {
        let mut c = dmp();
        c.args(["consume", "--file", lp, "--name", name])
            .args(["--count", "1000000000", "--timeout-ms", "60000"])
            .args(extra);
        let mut p = Proc::spawn(c, name);
        p.wait_line("ready", T);
        p
    };
    let _audit = consumer("audit", &[]);
    let _tap = consumer("tap", &["--optional", "--max-block-ms", "1000"]);
    let mut p = dmp();
    p.args([
        "produce",
        "--file",
        lp,
        "--count",
        "1000000000",
        "--pause-us",
        "100",
    ]);
    let mut producer = Proc::spawn(p, "producer");
    producer.wait_line("producing", T);
    // A ring cut short, and a file that is not a ring.
    let head = std::fs::read(&live).unwrap();
    std::fs::write(dir.path().join("cut"), &head[..200]).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a ring\n").unwrap();

    let (_server, url) = serve(&["--dir", dir.path().to_str().unwrap()]);
    let (code, ctype, body, _) = get(&url, "GET");
    assert_eq!(code, 200, "{body}");
    assert_eq!(ctype, "text/plain; version=0.0.4; charset=utf-8");
    let f = parser.parse(&body);
    if let Some(pt) = &promtool {
        prometheus_check::promtool_check(pt, &body)
            .unwrap_or_else(|e| panic!("promtool check metrics: {e}\n{body}"));
    }
    assert_eq!(value(&f, "dmp_ring_up", &[("ring", "live")]), Some(1.0));
    assert_eq!(value(&f, "dmp_ring_up", &[("ring", "cut")]), Some(0.0));
    assert_eq!(value(&f, "dmp_ring_up", &[("ring", "notes.txt")]), None);
    let reason = &[("ring", "cut"), ("reason", "truncated")];
    assert_eq!(value(&f, "dmp_ring_down_info", reason), Some(1.0));
    let state = |f: &Value, ring: &str| -> Vec<String> {
        samples(f, "dmp_ring_state")
            .filter(|s| s["labels"]["ring"] == ring && s["value"] == 1.0)
            .map(|s| s["labels"]["state"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(state(&f, "live"), ["live"]);
    assert_eq!(state(&f, "cut"), ["unusable"]);
    assert_eq!(value(&f, "dmp_scrape_rings", &[]), Some(2.0));
    assert_eq!(value(&f, "dmp_scrape_skipped_files", &[]), Some(0.0));
    for (name, role) in [("audit", "required"), ("tap", "optional")] {
        let l = &[("consumer", name), ("role", role)];
        assert_eq!(value(&f, "dmp_consumer_alive", l), Some(1.0), "{body}");
        assert_eq!(
            value(&f, "dmp_consumer_state", &[l[0], l[1], ("state", "active")]),
            Some(1.0)
        );
    }
    let published =
        |f: &Value| value(f, "dmp_ring_published_events_total", &[("ring", "live")]).unwrap();
    let first = published(&f);

    // A later scrape sees the producer's progress, a new ring, and no
    // longer the one removed.
    file_ring(&dir.path().join("new"), &["--multi"]);
    std::fs::remove_file(dir.path().join("cut")).unwrap();
    let start = Instant::now();
    let f = loop {
        let (code, _, body, _) = get(&url, "GET");
        assert_eq!(code, 200);
        let f = parser.parse(&body);
        if published(&f) > first || start.elapsed() > T {
            break f;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        published(&f) > first,
        "the producer runs, the count did not move"
    );
    assert_eq!(value(&f, "dmp_ring_up", &[("ring", "new")]), Some(1.0));
    assert_eq!(state(&f, "new"), ["unused"]);
    assert_eq!(value(&f, "dmp_ring_up", &[("ring", "cut")]), None);

    // Other paths and methods.
    let base = url.trim_end_matches("/metrics");
    for path in ["/", "/metric", "/metrics/x", "/favicon.ico"] {
        assert_eq!(get(&format!("{base}{path}"), "GET").0, 404, "{path}");
    }
    assert_eq!(get(&url, "POST").0, 405);
    assert_eq!(get(&format!("{url}?x=1"), "GET").0, 200);

    // Named rings: only those, and a missing one is down, not an error.
    drop(producer);
    let (_named, url) = serve(&["--file", lp, "/nonexistent/ring"]);
    let (code, _, body, _) = get(&url, "GET");
    assert_eq!(code, 200, "{body}");
    let f = parser.parse(&body);
    assert_eq!(value(&f, "dmp_ring_up", &[("ring", lp)]), Some(1.0));
    let missing = &[("ring", "/nonexistent/ring"), ("reason", "not_found")];
    assert_eq!(value(&f, "dmp_ring_down_info", missing), Some(1.0));
    assert_eq!(state(&f, "/nonexistent/ring"), ["missing"]);
    assert_eq!(value(&f, "dmp_scrape_rings", &[]), Some(2.0));
}

/// Scrapes `url` `n` times: the median wall time (curl's) and exposition
/// time (dmp_scrape_duration_seconds), and the body size, of the last.
fn measure(parser: &prometheus_check::Parser, url: &str, n: usize) -> (f64, f64, usize, Value) {
    let mut wall = Vec::new();
    let mut inner = Vec::new();
    let mut last = (0, Value::Null);
    for _ in 0..n {
        let (code, _, body, secs) = get(url, "GET");
        assert_eq!(code, 200);
        let f = parser.parse(&body);
        wall.push(secs);
        inner.push(value(&f, "dmp_scrape_duration_seconds", &[]).unwrap());
        last = (body.len(), f);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut wall), median(&mut inner), last.0, last.1)
}

#[test]
fn a_scrape_of_100_rings_is_measured_and_every_scrape_is_bounded() {
    if !curl() {
        return;
    }
    let parser = prometheus_check::Parser::new();
    let one = tempfile::tempdir().unwrap();
    let many = tempfile::tempdir().unwrap();
    let create = |path: &Path| {
        let opts = disruptor_mp::RingOptions::new()
            .capacity(1024)
            .slot_size(64);
        let ring = disruptor_mp::Ring::create(&disruptor_mp::Location::file(path), &opts).unwrap();
        // A consumer and a producer entry, left: every family has samples.
        let c = ring
            .consumer("c", &[], disruptor_mp::WaitStrategy::Yield)
            .unwrap();
        let mut p = ring.producer(disruptor_mp::WaitStrategy::Yield).unwrap();
        p.send(&7u64, Duration::from_secs(5)).unwrap();
        drop((c, p));
    };
    create(&one.path().join("ring-000"));
    for i in 0..100 {
        create(&many.path().join(format!("ring-{i:03}")));
    }
    let (_s1, url1) = serve(&["--dir", one.path().to_str().unwrap()]);
    let (_s100, url100) = serve(&["--dir", many.path().to_str().unwrap()]);
    let (w1, e1, b1, _) = measure(&parser, &url1, 15);
    let (w100, e100, b100, f) = measure(&parser, &url100, 15);
    assert_eq!(value(&f, "dmp_scrape_rings", &[]), Some(100.0));
    assert_eq!(samples(&f, "dmp_ring_up").count(), 100);
    println!(
        "scrape of 1 ring: {:.2} ms wall ({:.2} ms exposition, {b1} bytes); \
         of 100 rings: {:.2} ms wall ({:.2} ms exposition, {b100} bytes): {:.0}x the 1-ring scrape",
        w1 * 1e3,
        e1 * 1e3,
        w100 * 1e3,
        e100 * 1e3,
        w100 / w1
    );

    // Past the ring limit the rest is counted, named in a comment, and not
    // looked at.
    let (_s10, url10) = serve(&["--dir", many.path().to_str().unwrap(), "--max-rings", "10"]);
    let (code, _, body, _) = get(&url10, "GET");
    assert_eq!(code, 200);
    let f = parser.parse(&body);
    assert_eq!(value(&f, "dmp_scrape_rings", &[]), Some(10.0));
    assert_eq!(value(&f, "dmp_scrape_skipped_files", &[]), Some(90.0));
    assert_eq!(samples(&f, "dmp_ring_up").count(), 10);
    assert!(
        body.contains(
            "# dmp: stopped at the limit of 10 rings: 90 files not looked at, from ring-010"
        ),
        "{body}"
    );
    // A time limit of 0 looks at nothing.
    let (_s0, url0) = serve(&[
        "--dir",
        many.path().to_str().unwrap(),
        "--max-scrape-ms",
        "0",
    ]);
    let (_, _, body, _) = get(&url0, "GET");
    let f = parser.parse(&body);
    assert_eq!(
        value(&f, "dmp_scrape_skipped_files", &[]),
        Some(100.0),
        "{body}"
    );
    assert!(body.contains("the time limit of 0ns"), "{body}");
}
