//! The two ends on two "hosts": network namespaces joined by a veth pair
//! (as root, which CI is): ring A and the out bridge in one, the server,
//! the in bridge and ring B's side in the other; every event in order.
//! (Shared memory is not namespaced: both rings stay visible to the test.)

mod support;

use std::process::Command;
use std::time::Duration;
use support::*;

/// Two namespaces and the veth pair between them, deleted on drop.
struct Hosts {
    a: String,
    b: String,
    ip_b: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Hosts {
    fn new() -> Hosts {
        let id = std::process::id() % 100_000;
        let (a, b) = (format!("dmpa{id}"), format!("dmpb{id}"));
        let (va, vb) = (format!("dva{id}"), format!("dvb{id}"));
        // A /30 of the test's own, inside its namespaces only.
        let net = format!("10.213.{}", id % 250);
        let hosts = Hosts {
            a: a.clone(),
            b: b.clone(),
            ip_b: format!("{net}.2"),
        };
        ip(&["netns", "add", &a]);
        ip(&["netns", "add", &b]);
        ip(&["link", "add", &va, "type", "veth", "peer", "name", &vb]);
        ip(&["link", "set", &va, "netns", &a]);
        ip(&["link", "set", &vb, "netns", &b]);
        ip(&["-n", &a, "addr", "add", &format!("{net}.1/30"), "dev", &va]);
        ip(&["-n", &b, "addr", "add", &format!("{net}.2/30"), "dev", &vb]);
        for (ns, dev) in [(&a, &va), (&b, &vb)] {
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        hosts
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the pair, and so the pair.
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

#[test]
fn ring_to_ring_across_network_namespaces() {
    if !is_root() {
        skip_or_fail("network namespaces need root (ip netns)");
        return;
    }
    if !need_nats() || !need("ip", "iproute2") {
        return;
    }
    let _g = serial();
    let n = 20_000;
    let lab = Lab::new();
    // Dropped last: the processes inside go first.
    let hosts = Hosts::new();
    let in_a = ["ip", "netns", "exec", hosts.a.as_str()];
    let in_b = ["ip", "netns", "exec", hosts.b.as_str()];
    let server = Server::new(lab.path(), "nb", &hosts.ip_b, 4222, "", &in_b);
    let url = server.url();
    let a = lab.ring("a", 1024, EVENT);
    let b = lab.ring("b", 1024, EVENT);
    let checker = Checker::start(&b, n, Duration::from_secs(90), true);
    let (out_prom, in_prom) = (lab.path().join("out.prom"), lab.path().join("in.prom"));
    let out = lab.bridge("out", &out_args(&url, &a.0, "NS", &out_prom, &[]), &in_a);
    let inb = lab.bridge(
        "in",
        &in_args(
            &url,
            &b.0,
            "NS",
            &lab.path().join("in.state"),
            &in_prom,
            &[],
        ),
        &in_b,
    );
    wait_until("out joins ring A", Duration::from_secs(20), || {
        committed(&a, "dmp-bridge")
    });
    wait_until(
        "out reaches the server across the veth pair",
        Duration::from_secs(30),
        || (metric(&out_prom, "dmp_bridge_connected") == Some(1.0)).then_some(()),
    );
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
    wait_until("in's counters", Duration::from_secs(10), || {
        (metric(&in_prom, "dmp_bridge_events_applied_total") == Some(n as f64)).then_some(())
    });
    assert_eq!(b.open().cursor(), n as i64 - 1);
    drop((out, inb, server));
}
