//! `dmp-bridge bench` runs end to end (a short round against its own
//! nats-server) and reports every figure and ratio it promises. No
//! threshold: the figures depend on the machine.

mod support;

use support::*;

#[test]
fn bench_reports_its_ratios() {
    if !need_nats() {
        return;
    }
    let _g = serial();
    let lab = Lab::new();
    let mut cmd = std::process::Command::new("timeout");
    cmd.args([
        "120",
        env!("CARGO_BIN_EXE_dmp-bridge"),
        "bench",
        "--spawn-server",
    ])
    .args([
        "--events",
        "5000",
        "--latency-events",
        "200",
        "--rounds",
        "1",
        "--rate",
        "1000",
    ])
    .current_dir(lab.path());
    let out = cmd.output().expect("run the bench");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "bridge, ring A to ring B",
        "raw publish, one message per event",
        "raw publish+consume, bridge-sized",
        "events/s bridge / raw one per event",
        "bytes/s  bridge / raw one per event",
        "bridge ring->ring  p50",
        "raw round trip     p50",
        "ratio bridge / raw p50",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
}
