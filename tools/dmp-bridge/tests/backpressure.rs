//! A stopped server (SIGSTOP) and a full destination ring: back-pressure
//! reaches the source ring's producer, nothing is dropped, and the
//! counters show each stage.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;

#[test]
fn a_stopped_server_and_a_full_ring_hold_the_producer_back() {
    if !need_nats() {
        return;
    }
    let _g = serial();
    let n = 3000;
    let lab = Lab::new();
    let server = lab.server("n1");
    let a = lab.ring("a", 256, EVENT);
    let b = lab.ring("b", 64, EVENT);
    // Ring B's reader joins now (so it gates in's producer) and reads
    // only when told.
    let checker = Checker::start(&b, n, Duration::from_secs(120), false);
    let (url, stream) = (server.url(), "BP");
    let (out_prom, in_prom) = (lab.path().join("out.prom"), lab.path().join("in.prom"));
    let out = lab.bridge(
        "out",
        &out_args(
            &url,
            &a.0,
            stream,
            &out_prom,
            &[
                "--max-in-flight",
                "4",
                "--max-events",
                "16",
                "--linger",
                "0s",
            ],
        ),
        &[],
    );
    let inb = lab.bridge(
        "in",
        &in_args(
            &url,
            &b.0,
            stream,
            &lab.path().join("in.state"),
            &in_prom,
            &[],
        ),
        &[],
    );
    wait_until("out joins ring A", Duration::from_secs(20), || {
        committed(&a, "dmp-bridge")
    });
    wait_until("in attaches to ring B", Duration::from_secs(20), || {
        b.open()
            .snapshot()
            .producers
            .iter()
            .any(|p| p.pid == inb.pid())
            .then_some(())
    });

    // 1. The server stops: acknowledgements stop, the window fills, out
    //    stops committing, ring A fills, its producer waits.
    signal(server.pid(), libc::SIGSTOP);
    let ra = a.open();
    let producer = std::thread::spawn(move || produce(&ra, n, Duration::ZERO));
    let m = |p: &std::path::Path, k: &str| metric(p, k).unwrap_or(0.0);
    wait_until(
        "ring A's producer held back",
        Duration::from_secs(30),
        || (a.open().snapshot().back_pressure_waits > 0).then_some(()),
    );
    wait_until(
        "out's window full and its publishes failing",
        Duration::from_secs(30),
        || {
            (m(&out_prom, "dmp_bridge_in_flight_full_waits_total") > 0.0
                && m(&out_prom, "dmp_bridge_errors_total") > 0.0)
                .then_some(())
        },
    );
    let ring_a = a.open();
    let committed_a = committed(&a, "dmp-bridge").unwrap();
    assert!(
        ring_a.cursor() - committed_a <= 256,
        "the producer overran the bridge's commit"
    );
    assert!(
        !producer.is_finished(),
        "the producer finished while the server was stopped"
    );

    // 2. The server goes on; ring B fills (its reader waits), in's claims
    //    wait, fetching stops, and the source stays held back.
    signal(server.pid(), libc::SIGCONT);
    wait_until("in finds ring B full", Duration::from_secs(30), || {
        (m(&in_prom, "dmp_bridge_ring_full_waits_total") > 0.0).then_some(())
    });
    assert_eq!(
        b.open().cursor(),
        63,
        "in published past ring B's free slots"
    );

    // 3. Ring B is read: everything arrives, once, in order.
    checker.go.store(true, Ordering::Relaxed);
    let got = checker.join();
    assert_eq!(
        got,
        Ok(n),
        "out:\n{}\nin:\n{}",
        out.log_tail(),
        inb.log_tail()
    );
    producer.join().expect("producer");
    wait_until("out commits everything", Duration::from_secs(30), || {
        (committed(&a, "dmp-bridge") == Some(n as i64 - 1)).then_some(())
    });
    wait_until(
        "in acknowledges everything",
        Duration::from_secs(30),
        || consumer_idle(&url, stream, "dmp-bridge").then_some(()),
    );
    assert_eq!(b.open().cursor(), n as i64 - 1);
    wait_until("the counters settle", Duration::from_secs(10), || {
        (m(&out_prom, "dmp_bridge_events_acked_total") >= n as f64
            && m(&in_prom, "dmp_bridge_events_applied_total") == n as f64)
            .then_some(())
    });
    assert!(
        m(&out_prom, "dmp_bridge_messages_resent_total") > 0.0,
        "no re-send counted"
    );
}

/// An optional out bridge is evicted instead of holding the producer
/// back: the producer never waits long, the events the bridge's name
/// missed are counted, the next message announces the gap, and ring B
/// holds the rest once each, in order.
#[test]
fn an_optional_bridge_is_evicted_and_says_what_it_lost() {
    if !need_nats() {
        return;
    }
    let _g = serial();
    let n = 3000u64;
    let lab = Lab::new();
    let server = lab.server("n1");
    let a = lab.ring("a", 256, EVENT);
    let b = lab.ring("b", 4096, EVENT);
    let rb = b.open();
    let mut check = rb
        .consumer("check", &[], disruptor_mp::WaitStrategy::Yield)
        .expect("checker");
    let (url, stream) = (server.url(), "OPT");
    let (out_prom, in_prom) = (lab.path().join("out.prom"), lab.path().join("in.prom"));
    let out = lab.bridge(
        "out",
        &out_args(
            &url,
            &a.0,
            stream,
            &out_prom,
            &[
                "--optional",
                "100ms",
                "--max-in-flight",
                "4",
                "--max-events",
                "16",
            ],
        ),
        &[],
    );
    let inb = lab.bridge(
        "in",
        &in_args(
            &url,
            &b.0,
            stream,
            &lab.path().join("in.state"),
            &in_prom,
            &[],
        ),
        &[],
    );
    wait_until("out joins ring A", Duration::from_secs(20), || {
        committed(&a, "dmp-bridge")
    });
    signal(server.pid(), libc::SIGSTOP);
    // The producer finishes although the server is stopped: the bridge is
    // evicted whenever it holds it back for 100 ms.
    produce(&a.open(), n, Duration::ZERO);
    assert!(
        a.open().snapshot().evictions > 0,
        "no eviction counted in ring A"
    );
    signal(server.pid(), libc::SIGCONT);
    // More events once the server is back: they follow the gap, which the
    // first message after the rejoin announces, and all arrive.
    let total = n + 500;
    produce(&a.open(), total, Duration::from_micros(20));
    wait_until(
        "out commits the last event",
        Duration::from_secs(60),
        || (committed(&a, "dmp-bridge") == Some(total as i64 - 1)).then_some(()),
    );
    wait_until(
        "in acknowledges everything",
        Duration::from_secs(30),
        || consumer_idle(&url, stream, "dmp-bridge").then_some(()),
    );
    let m = |p: &std::path::Path, k: &str| metric(p, k).unwrap_or(0.0);
    let lost = wait_until("out's counters", Duration::from_secs(10), || {
        let l = m(&out_prom, "dmp_bridge_events_lost_on_join_total");
        (l > 0.0).then_some(l as u64)
    });
    // Ring B: strictly increasing source events, ending with the last.
    let mut values = Vec::new();
    let last = rb.cursor();
    while (values.len() as i64) <= last {
        check
            .poll(Duration::from_secs(5), |_, bytes| {
                values.push(event_seq(bytes))
            })
            .expect("read ring B");
    }
    assert!(
        values.windows(2).all(|w| w[0] < w[1]),
        "ring B out of order or repeated"
    );
    assert_eq!(
        values.last(),
        Some(&(total - 1)),
        "the last event is missing\n{}\n{}\n{}\n{}",
        std::fs::read_to_string(&out_prom).unwrap_or_default(),
        std::fs::read_to_string(&in_prom).unwrap_or_default(),
        out.log_tail(),
        inb.log_tail()
    );
    assert!(
        values.len() as u64 + lost >= total,
        "{} events arrived and {lost} were counted lost, of {total}:\nout:\n{}\nin:\n{}",
        values.len(),
        out.log_tail(),
        inb.log_tail()
    );
}
