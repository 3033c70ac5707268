//! What the in bridge refuses, loudly and without losing anything: a
//! multi-producer destination ring (its cursor cannot tell what the bridge
//! published), and events of another slot size (left in the stream).

mod support;

use disruptor_mp::{Location, ProducerMode, Ring, RingOptions};
use std::time::Duration;
use support::*;

#[test]
fn a_multi_producer_ring_is_refused() {
    let lab = Lab::new();
    let name = format!("dmp-bridge-test-multi-{}", std::process::id());
    let loc = Location::shm(&name);
    let _ = Ring::unlink(&loc);
    Ring::create(
        &loc,
        &RingOptions::new()
            .capacity(64)
            .slot_size(64)
            .producer_mode(ProducerMode::Multi)
            .max_producers(2),
    )
    .expect("create");
    let _guard = RingName(name.clone());
    let mut p = lab.bridge(
        "in",
        &in_args(
            "nats://127.0.0.1:1",
            &name,
            "X",
            &lab.path().join("s"),
            &lab.path().join("m"),
            &[],
        ),
        &[],
    );
    let status = wait_until("in exits", Duration::from_secs(20), || {
        p.child.try_wait().ok().flatten()
    });
    assert!(!status.success());
    assert!(
        p.log_tail().contains("multi-producer ring"),
        "{}",
        p.log_tail()
    );
    let _ = p.running();
}

#[test]
fn events_of_another_slot_size_stop_the_bridge_and_stay_in_the_stream() {
    if !need_nats() {
        return;
    }
    let _g = serial();
    let lab = Lab::new();
    let server = lab.server("n1");
    let a = lab.ring("a", 256, EVENT);
    let b = lab.ring("b", 256, 2 * EVENT);
    let url = server.url();
    let _out = lab.bridge(
        "out",
        &out_args(&url, &a.0, "SZ", &lab.path().join("o"), &[]),
        &[],
    );
    wait_until("out joins ring A", Duration::from_secs(20), || {
        committed(&a, "dmp-bridge")
    });
    produce(&a.open(), 10, Duration::ZERO);
    wait_until("out commits", Duration::from_secs(20), || {
        (committed(&a, "dmp-bridge") == Some(9)).then_some(())
    });
    let mut inb = lab.bridge(
        "in",
        &in_args(
            &url,
            &b.0,
            "SZ",
            &lab.path().join("s"),
            &lab.path().join("m"),
            &[],
        ),
        &[],
    );
    let status = wait_until("in exits", Duration::from_secs(30), || {
        inb.child.try_wait().ok().flatten()
    });
    assert!(!status.success());
    assert!(inb.log_tail().contains("do not fit"), "{}", inb.log_tail());
    assert_eq!(b.open().cursor(), -1, "something was published");
    assert!(
        !consumer_idle(&url, "SZ", "dmp-bridge"),
        "the message was acknowledged"
    );
}
