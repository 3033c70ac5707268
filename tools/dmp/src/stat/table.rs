//! The text table of `dmp stat`: the ring's parameters and counters, its
//! producers and consumers, and the sentence that says who holds the
//! ring back.

use super::{hot_counters, layout_word, mode_word, Rates};
use crate::format::{age, rate};
use crate::probe::{self, age_s, alive_word, grouped, mean_batch, Table};
use disruptor_mp::layout::FLAG_WAKEUPS;
use disruptor_mp::{Ring, Snapshot};
use std::fmt::Write as _;
use std::time::Duration;

/// The sentence that says who holds the ring back.
fn holding_back(ring: &Ring, s: &Snapshot) -> Vec<String> {
    let capacity = ring.capacity() as i64;
    let mut lines = Vec::new();
    match s.slowest() {
        None => lines.push("held back by: nobody (no consumer gates the producers)".into()),
        Some(c) if c.lag == 0 => lines.push(format!(
            "held back by: nobody (every gating consumer is caught up; slowest is '{}', pid {}, {})",
            c.name,
            c.pid,
            if c.alive { "alive" } else { "dead" }
        )),
        Some(c) => {
            let full = if c.lag >= capacity {
                "; the ring is full: producers wait for it"
            } else {
                ""
            };
            lines.push(format!(
                "held back by consumer '{}' (index {}, pid {}, {}): lag {} of {} slots ({:.0}% full), last active {}{full}",
                c.name,
                c.index,
                c.pid,
                if c.alive { "alive" } else { "dead" },
                grouped(c.lag as u64),
                grouped(capacity as u64),
                (c.lag as f64 / capacity as f64 * 100.0).min(100.0),
                age(age_s(c.last_activity_ns, s.taken_at_ns)),
            ));
        }
    }
    // Multi-producer rings: an unpublished claim holds the consumers up.
    if s.claimed > s.cursor {
        let next = s.cursor + 1;
        if let Some(p) = s.producers.iter().find(|p| {
            p.pending_claim
                .is_some_and(|(lo, hi)| lo <= next && next <= hi)
        }) {
            let (lo, hi) = p.pending_claim.expect("found by its claim");
            lines.push(format!(
                "consumers wait for producer {} (pid {}, {}): its claim [{lo}, {hi}] is not published yet (abandoned after {:?})",
                p.index,
                p.pid,
                if p.alive { "alive" } else { "dead" },
                Duration::from_nanos(ring.layout().params.unblock_timeout_ns)
            ));
        }
    }
    lines
}

fn opt_f(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.digits$}"))
}

pub(super) fn table(label: &str, ring: &Ring, s: &Snapshot, r: Option<&Rates>) -> String {
    let l = ring.layout();
    let p = &l.params;
    let mut t = String::new();
    let _ = writeln!(t, "ring {label} ({})", ring.path().display());
    let _ = writeln!(
        t,
        "  {} slots x {} B (stride {}, {}), {} producer, wake-ups {}, hot counters {}",
        grouped(p.capacity),
        p.slot_size,
        l.stride,
        layout_word(l),
        mode_word(l),
        if p.flags & FLAG_WAKEUPS != 0 {
            "on"
        } else {
            "off"
        },
        if hot_counters(l) {
            "on"
        } else {
            "off (events and batches are not counted)"
        },
    );
    let _ = writeln!(
        t,
        "  cursor {}  claimed {}  published {}  abandoned {}",
        s.cursor,
        s.claimed,
        grouped(s.published),
        grouped(s.abandoned)
    );
    let _ = writeln!(
        t,
        "  attaches {}  detaches {}  back-pressure waits {}  wake-ups {}  evictions {}  stall alerts {}",
        grouped(s.attaches),
        grouped(s.detaches),
        grouped(s.back_pressure_waits),
        grouped(s.wakeups),
        grouped(s.evictions),
        grouped(s.stall_alerts)
    );
    if let Some(r) = r {
        let consumed: f64 = s
            .slowest()
            .and_then(|c| s.consumers.iter().position(|d| d.index == c.index))
            .and_then(|i| r.consumers[i])
            .unwrap_or(0.0);
        let _ = writeln!(
            t,
            "  rate {} events/s published, {} events/s by the slowest gating consumer (over {:.2} s)",
            rate(r.published),
            rate(consumed),
            r.secs
        );
    }
    let rate_col = |v: Option<Option<f64>>| match v {
        Some(Some(v)) => rate(v),
        Some(None) => "-".into(),
        None => String::new(),
    };

    let _ = writeln!(
        t,
        "\nproducers ({} of {})",
        s.producers.len(),
        p.max_producers
    );
    if !s.producers.is_empty() {
        let mut head = vec![
            ">#",
            "state",
            ">pid",
            "alive",
            ">events",
            ">batches",
            ">mean batch",
            ">waits",
            ">timeouts",
            "last active",
            "pending claim",
        ];
        if r.is_some() {
            head.push(">events/s");
        }
        let mut tab = Table::new(&head);
        for (i, pr) in s.producers.iter().enumerate() {
            let mut row = vec![
                pr.index.to_string(),
                probe::state_name(pr.state).into(),
                pr.pid.to_string(),
                alive_word(pr.alive, pr.state).into(),
                grouped(pr.events),
                grouped(pr.batches),
                opt_f(mean_batch(pr.events, pr.batches), 1),
                grouped(pr.waits),
                grouped(pr.timeouts),
                age(age_s(pr.last_activity_ns, s.taken_at_ns)),
                pr.pending_claim
                    .map_or("-".into(), |(lo, hi)| format!("[{lo}, {hi}]")),
            ];
            if let Some(r) = r {
                row.push(rate_col(Some(r.producers[i])));
            }
            tab.row(row);
        }
        tab.render("  ", &mut t);
    }

    let _ = writeln!(
        t,
        "\nconsumers ({} of {})",
        s.consumers.len(),
        p.max_consumers
    );
    if !s.consumers.is_empty() {
        let mut head = vec![
            ">#",
            "name",
            "state",
            "role",
            ">sequence",
            ">lag",
            "gating",
            "alive",
            ">pid",
            ">events",
            ">batches",
            ">mean batch",
            ">waits",
            ">timeouts",
            "last active",
        ];
        if r.is_some() {
            head.push(">events/s");
        }
        let mut tab = Table::new(&head);
        for (i, c) in s.consumers.iter().enumerate() {
            let mut row = vec![
                c.index.to_string(),
                c.name.clone(),
                probe::state_name(c.state).into(),
                if c.optional { "optional" } else { "required" }.into(),
                c.sequence.to_string(),
                grouped(c.lag as u64),
                if c.gating { "yes" } else { "no" }.into(),
                alive_word(c.alive, c.state).into(),
                c.pid.to_string(),
                grouped(c.events),
                grouped(c.batches),
                opt_f(mean_batch(c.events, c.batches), 1),
                grouped(c.waits),
                grouped(c.timeouts),
                age(age_s(c.last_activity_ns, s.taken_at_ns)),
            ];
            if let Some(r) = r {
                row.push(rate_col(Some(r.consumers[i])));
            }
            tab.row(row);
        }
        tab.render("  ", &mut t);
    }
    t.push('\n');
    for line in holding_back(ring, s) {
        t.push_str(&line);
        t.push('\n');
    }
    t
}
