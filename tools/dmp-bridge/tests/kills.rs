//! SIGKILL of the out bridge, the in bridge and the producer at seeded
//! random points, many times, each restarted: ring B ends with every event
//! exactly once, in order. DMP_SEED replays a schedule.

mod support;

use disruptor_mp::{Location, Ring, RingOptions};
use std::time::Duration;
use support::*;

const PRODUCER_RING: &str = "DMP_BRIDGE_TEST_PRODUCER_RING";
const PRODUCER_N: &str = "DMP_BRIDGE_TEST_PRODUCER_N";

/// Not a test by itself: the producer process the kill test starts (this
/// binary again, with the ring in the environment).
#[test]
fn producer_child() {
    let (Ok(ring), Ok(n)) = (std::env::var(PRODUCER_RING), std::env::var(PRODUCER_N)) else {
        return;
    };
    let ring = Ring::open(&Location::shm(ring), &RingOptions::new()).expect("open ring A");
    produce(&ring, n.parse().expect("N"), Duration::from_micros(100));
}

fn spawn_producer(lab: &Lab, ring: &str, n: u64) -> Proc {
    let mut cmd = std::process::Command::new(std::env::current_exe().expect("test exe"));
    cmd.args([
        "--exact",
        "producer_child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(PRODUCER_RING, ring)
    .env(PRODUCER_N, n.to_string());
    Proc::spawn(cmd, "producer", lab.path().join("producer.log"))
}

#[test]
fn kills_at_random_points_lose_and_repeat_nothing() {
    if !need_nats() {
        return;
    }
    let _g = serial();
    let seed: u64 = std::env::var("DMP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(18);
    let mut rng = Rng::new(seed);
    let n = 30_000;
    let lab = Lab::new();
    let server = lab.server("n1");
    let a = lab.ring("a", 4096, EVENT);
    let b = lab.ring("b", 4096, EVENT);
    let checker = Checker::start(&b, n, Duration::from_secs(150), true);
    let (url, stream) = (server.url(), "KILLS");
    let out_cmd = out_args(
        &url,
        &a.0,
        stream,
        &lab.path().join("out.prom"),
        &["--max-events", "256"],
    );
    let in_cmd = in_args(
        &url,
        &b.0,
        stream,
        &lab.path().join("in.state"),
        &lab.path().join("in.prom"),
        &[],
    );
    let mut out = lab.bridge("out", &out_cmd, &[]);
    let mut inb = lab.bridge("in", &in_cmd, &[]);
    wait_until("out joins ring A", Duration::from_secs(20), || {
        committed(&a, "dmp-bridge")
    });
    let mut producer = spawn_producer(&lab, &a.0, n);
    let mut kills = [0u32; 3];
    for round in 0..15 {
        std::thread::sleep(Duration::from_millis(rng.range(100, 500)));
        let victim = rng.range(0, 2) as usize;
        kills[victim] += 1;
        match victim {
            0 => {
                out.kill9();
                out = lab.bridge("out", &out_cmd, &[]);
            }
            1 => {
                inb.kill9();
                inb = lab.bridge("in", &in_cmd, &[]);
            }
            _ => {
                producer.kill9();
                producer = spawn_producer(&lab, &a.0, n);
            }
        }
        eprintln!(
            "seed {seed} round {round}: killed {victim}; ring B has {}",
            checker.seen.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
    let got = checker.join();
    assert_eq!(
        got,
        Ok(n),
        "seed {seed}, kills (out, in, producer) {kills:?}\nout:\n{}\nin:\n{}",
        out.log_tail(),
        inb.log_tail()
    );
    wait_until("out commits everything", Duration::from_secs(30), || {
        (committed(&a, "dmp-bridge") == Some(n as i64 - 1)).then_some(())
    });
    wait_until(
        "in acknowledges everything",
        Duration::from_secs(30),
        || consumer_idle(&url, stream, "dmp-bridge").then_some(()),
    );
    assert_eq!(
        b.open().cursor(),
        n as i64 - 1,
        "seed {seed}: ring B holds an event twice"
    );
    assert!(
        out.running() && inb.running(),
        "a bridge died:\n{}\n{}",
        out.log_tail(),
        inb.log_tail()
    );
    eprintln!("seed {seed}: kills (out, in, producer) {kills:?}");
}
