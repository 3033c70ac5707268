//! The ratios the project targets (dmp against the floor and the
//! sockets, multi- against single-producer, counters and optional
//! consumers on against off, one-event styles against their bases, the
//! wake-up fd against the futex, a socket and a blocking consumer), each
//! with its goal and whether this run met it.

use super::one;
use super::results::Results;
use super::wake_fd;

/// A ratio the project targets.
pub(super) struct Target {
    pub(super) label: String,
    pub(super) key: String,
    pub(super) value: f64,
    pub(super) goal: &'static str,
    pub(super) met: bool,
}

pub(super) fn targets(r: &Results) -> Vec<Target> {
    let mut t = Vec::new();
    let mut add = |label: String, key: String, value: f64, goal: &'static str, met: bool| {
        t.push(Target {
            label,
            key,
            value,
            goal,
            met: value.is_finite() && met,
        })
    };
    for size in [8usize, 64] {
        for (key, layout) in [("dmp", "stamped"), ("dmp_packed", "packed")] {
            let v = r.rate(size, key) / r.rate(size, "floor");
            add(
                format!("dmp/floor throughput {size}B ({layout})"),
                format!("{key}_floor_throughput_{size}"),
                v,
                ">= 0.9",
                v >= 0.9,
            );
        }
    }
    for size in [8usize, 64] {
        // The better dmp layout for this size against either socket use.
        let dmp = r.rate(size, "dmp").max(r.rate(size, "dmp_packed"));
        let v = dmp / r.rate(size, "uds");
        add(
            format!("dmp/UDS throughput {size}B (batched)"),
            format!("dmp_uds_throughput_{size}"),
            v,
            ">= 20",
            v >= 20.0,
        );
        let v = dmp / r.rate(size, "uds1");
        add(
            format!("dmp/UDS throughput {size}B (1/write)"),
            format!("dmp_uds1_throughput_{size}"),
            v,
            ">= 20",
            v >= 20.0,
        );
    }
    for row in r.mp.iter().filter(|m| m.spec.producers == 1) {
        let s = &row.spec;
        let v = r.vs_single(s);
        // Issue 12's targets: packed events carry no availability word of
        // their own in a single-producer ring, so a multi-producer ring's
        // flags cost more there.
        let (goal, floor) = if s.layout() == "packed" {
            (">= 0.8", 0.8)
        } else {
            (">= 0.95", 0.95)
        };
        add(
            format!(
                "MP-1/SP throughput {}B {} ({})",
                s.size,
                s.layout(),
                s.strategy.as_str()
            ),
            format!(
                "mp1_sp_throughput_{}_{}_{}",
                s.size,
                s.layout(),
                s.strategy.as_str()
            ),
            v,
            goal,
            v >= floor,
        );
    }
    for row in r.mp.iter().filter(|m| m.spec.optional) {
        let s = &row.spec;
        let v = r.optional_vs_required(s);
        add(
            format!("optional/required tput {}B {}", s.size, s.layout()),
            format!("optional_required_throughput_{}_{}", s.size, s.layout()),
            v,
            ">= 0.97",
            v >= 0.97,
        );
    }
    let v = r.p50("dmp_spin") / r.p50("dmp_spin_optional");
    add(
        "required/optional ping-pong p50".into(),
        "required_optional_pingpong_p50".into(),
        v,
        ">= 0.97",
        v >= 0.97,
    );
    for row in r.mp.iter().filter(|m| !m.spec.counters) {
        let s = &row.spec;
        let v = r.counters_on_off(s);
        add(
            format!("counters on/off throughput {}B {}", s.size, s.layout()),
            format!("counters_on_off_throughput_{}_{}", s.size, s.layout()),
            v,
            ">= 0.97",
            v >= 0.97,
        );
    }
    for (key, layout) in [("dmp_spin", "stamped"), ("dmp_packed_spin", "packed")] {
        let v = r.p50(key) / r.p50("floor");
        add(
            format!("dmp/floor ping-pong p50 ({layout})"),
            format!("{key}_floor_pingpong_p50"),
            v,
            "<= 1.15",
            v <= 1.15,
        );
    }
    for row in &r.one {
        let (s, Some(base)) = (row.spec, row.spec.base()) else {
            continue;
        };
        let one::OneKind::Ring(style) = s.kind else {
            continue;
        };
        let (i, size) = (style.info(), s.size);
        let (work, work_key) = match s.work {
            0 => (String::new(), String::new()),
            w => (format!(", work {w}"), format!("_work_{w}")),
        };
        let v = r.one_rate(s) / r.one_rate(base);
        add(
            format!("one-event {}/{} {size}B{work}", i.short, i.base.short()),
            format!(
                "one_event_{}_vs_{}_{size}{work_key}",
                i.snake,
                i.base.snake()
            ),
            v,
            i.goal,
            v >= i.at_least,
        );
    }
    let v = r.p50("dmp_blocking_paced") / r.p50("uds_paced");
    add(
        "blocking/UDS RTT p50 (paced)".into(),
        "blocking_uds_rtt_p50_paced".into(),
        v,
        "<= 1.0",
        v <= 1.0,
    );
    let v = r.p50("dmp_blocking") / r.p50("uds");
    add(
        "blocking/UDS RTT p50 (b2b)".into(),
        "blocking_uds_rtt_p50".into(),
        v,
        "<= 1.0",
        v <= 1.0,
    );
    // The wake-up fd: its paced round trip against the futex and a
    // socket, at the median and the tail.
    for (pct, at) in [
        ("p50", Results::p50 as fn(&Results, &str) -> f64),
        ("p99", Results::p99),
    ] {
        let fd = at(r, "dmp_wakefd_paced");
        let v = fd / at(r, "dmp_blocking_paced");
        add(
            format!("wake-fd/futex RTT {pct} (paced)"),
            format!("wakefd_futex_rtt_{pct}_paced"),
            v,
            "<= 1.5",
            v <= 1.5,
        );
        let v = fd / at(r, "uds_paced");
        add(
            format!("wake-fd/UDS RTT {pct} (paced)"),
            format!("wakefd_uds_rtt_{pct}_paced"),
            v,
            "<= 0.5",
            v <= 0.5,
        );
    }
    for size in [8usize, 64] {
        let v = r.wake_rate(size, wake_fd::ASYNC_KEY) / r.wake_rate(size, wake_fd::BLOCKING_KEY);
        add(
            format!("tokio/blocking consumer tput {size}B"),
            format!("tokio_blocking_consumer_throughput_{size}"),
            v,
            ">= 0.8",
            v >= 0.8,
        );
    }
    t
}
