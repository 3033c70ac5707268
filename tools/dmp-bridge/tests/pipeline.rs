//! Ring A -> out -> JetStream -> in -> ring B on loopback, with a real
//! nats-server: every event in order, the counters, the participants as
//! `dmp stat` shows them, and docs/BRIDGE.md's Python reader.

mod support;

use std::io::{Read, Write};
use std::time::Duration;
use support::*;

/// Runs the pipeline for `n` events; returns the lab, server and rings
/// for more checks, after everything drained.
struct Run {
    lab: Lab,
    server: Server,
    a: RingName,
    b: RingName,
    out: Proc,
    inb: Proc,
    metrics_port: u16,
}

fn pipeline(n: u64, stream: &str) -> Run {
    let lab = Lab::new();
    let server = lab.server("n1");
    let a = lab.ring("a", 1024, EVENT);
    let b = lab.ring("b", 1024, EVENT);
    let checker = Checker::start(&b, n, Duration::from_secs(90), true);
    let metrics_port = free_port();
    let addr = format!("127.0.0.1:{metrics_port}");
    let out = lab.bridge(
        "out",
        &out_args(
            &server.url(),
            &a.0,
            stream,
            &lab.path().join("out.prom"),
            &["--metrics", &addr],
        ),
        &[],
    );
    let inb = lab.bridge(
        "in",
        &in_args(
            &server.url(),
            &b.0,
            stream,
            &lab.path().join("in.state"),
            &lab.path().join("in.prom"),
            &[],
        ),
        &[],
    );
    wait_until("out joins ring A", Duration::from_secs(20), || {
        committed(&a, "dmp-bridge")
    });
    let ra = a.open();
    produce(&ra, n, Duration::ZERO);
    let got = checker.join();
    assert_eq!(
        got,
        Ok(n),
        "out:\n{}\nin:\n{}",
        out.log_tail(),
        inb.log_tail()
    );
    wait_until("out commits everything", Duration::from_secs(20), || {
        (committed(&a, "dmp-bridge") == Some(n as i64 - 1)).then_some(())
    });
    wait_until(
        "in acknowledges everything",
        Duration::from_secs(20),
        || consumer_idle(&server.url(), stream, "dmp-bridge").then_some(()),
    );
    assert_eq!(
        b.open().cursor(),
        n as i64 - 1,
        "ring B holds more than the source sent"
    );
    Run {
        lab,
        server,
        a,
        b,
        out,
        inb,
        metrics_port,
    }
}

fn http_get(port: u16) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics endpoint");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body
}

#[test]
fn ring_to_ring_through_jetstream_in_order() {
    if !need_nats() {
        return;
    }
    let _g = serial();
    let n = 20_000;
    let mut run = pipeline(n, "PIPE");

    // The participants, as dmp stat reads them from the tables.
    let snap = run.a.open().snapshot();
    let c = snap
        .consumers
        .iter()
        .find(|c| c.name == "dmp-bridge")
        .expect("out's consumer");
    assert_eq!(c.pid, run.out.pid());
    assert!(c.alive && c.gating, "{c:?}");
    let snap = run.b.open().snapshot();
    assert!(
        snap.producers
            .iter()
            .any(|p| p.pid == run.inb.pid() && p.alive),
        "{:?}",
        snap.producers
    );
    let dmp = std::path::Path::new(env!("CARGO_BIN_EXE_dmp-bridge")).with_file_name("dmp");
    if dmp.exists() {
        let out = std::process::Command::new(&dmp)
            .args(["stat", &run.a.0])
            .output()
            .expect("dmp stat");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("dmp-bridge"),
            "dmp stat does not show the bridge:\n{text}"
        );
    }

    // Its own counters, over HTTP and in the textfile.
    let body = http_get(run.metrics_port);
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    let samples = dmp_bridge::metrics::parse_text(body.split("\r\n\r\n").nth(1).unwrap_or(""));
    let get = |name: &str| samples.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    assert_eq!(get("dmp_bridge_events_acked_total"), Some(n as f64));
    assert_eq!(get("dmp_bridge_messages_in_flight"), Some(0.0));
    assert_eq!(get("dmp_bridge_committed_sequence"), Some(n as f64 - 1.0));
    let sent = get("dmp_bridge_messages_sent_total").unwrap();
    assert!(
        sent >= 1.0 && sent < n as f64 / 2.0,
        "batching packed {n} events into {sent} messages"
    );
    let in_prom = run.lab.path().join("in.prom");
    wait_until("in's textfile", Duration::from_secs(5), || {
        (metric(&in_prom, "dmp_bridge_events_applied_total") == Some(n as f64)).then_some(())
    });
    assert_eq!(
        metric(&in_prom, "dmp_bridge_events_duplicate_skipped_total"),
        Some(0.0)
    );

    // Both stop cleanly on SIGTERM.
    for p in [&mut run.out, &mut run.inb] {
        let status = p
            .terminate(Duration::from_secs(15))
            .expect("exits on SIGTERM");
        assert!(
            status.success(),
            "{} exited with {status}: {}",
            p.what,
            p.log_tail()
        );
    }
    let _ = &run.server;
}

#[test]
fn python_reader() {
    if !need_nats() || !need("python3", "python3") {
        return;
    }
    let has_nats_py = std::process::Command::new("python3")
        .args(["-c", "import nats"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !has_nats_py {
        if is_root() {
            let _ = std::process::Command::new("python3")
                .args(["-m", "pip", "install", "-q", "nats-py"])
                .status();
        }
        let ok = std::process::Command::new("python3")
            .args(["-c", "import nats"])
            .status();
        if !ok.map(|s| s.success()).unwrap_or(false) {
            skip_or_fail("nats-py is missing: python3 -m pip install nats-py");
            return;
        }
    }
    let _g = serial();
    let n = 3000;
    let run = pipeline(n, "PY");
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/BRIDGE.md"))
        .unwrap();
    let code = doc
        .split("```python\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("docs/BRIDGE.md has a python block");
    let script = run.lab.path().join("reader.py");
    std::fs::write(&script, code).unwrap();
    let mut cmd = std::process::Command::new("timeout");
    cmd.args(["60", "python3"]).arg(&script).args([
        &run.server.url(),
        "PY",
        "PY.events",
        &n.to_string(),
    ]);
    let out = cmd.output().expect("run the reader");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "reader failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() as u64, n);
    for (i, l) in lines.iter().enumerate() {
        let f: Vec<&str> = l.split(' ').collect();
        assert_eq!(f[1], i.to_string(), "line {l}");
        let mut expect = [0u8; 16];
        fill_event(&mut expect, i as u64);
        let hex: String = expect.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(f[2], hex, "event {i}");
    }
}
