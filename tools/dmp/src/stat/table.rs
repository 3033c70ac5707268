//! The text table of `dmp stat`: the ring's parameters and counters, its
//! producers and consumers, and the lines that say who holds the ring
//! back. It fits the width `columns::width` gives (80 unless `$COLUMNS`
//! or the terminal says otherwise; `--wide`: every column): the ring lines
//! are short, and the least important table columns are dropped first.

use super::activity::Looks;
use super::{hot_counters, layout_word, liveness, mode_word, Rates};
use crate::columns::{FitTable, ALWAYS};
use crate::format::{age, rate};
use crate::probe::{self, age_s, alive_word, grouped, mean_batch};
use disruptor_mp::layout::FLAG_WAKEUPS;
use disruptor_mp::{ConsumerStatus, Ring, Snapshot};
use std::fmt::Write as _;
use std::time::Duration;

/// What the ring looked like, once or twice.
pub(super) struct View<'a> {
    pub(super) label: &'a str,
    pub(super) ring: &'a Ring,
    /// The (newer) snapshot.
    pub(super) snap: &'a Snapshot,
    /// With --watch: rates since the refresh before.
    pub(super) rates: Option<&'a Rates>,
    /// What moved since the look before (none with --sample-ms 0).
    pub(super) looks: Option<&'a Looks>,
    pub(super) width: Option<usize>,
}

/// "now" when the entry moved between the looks, else its own stamp's age.
fn last_active(moved: Option<bool>, stamp_ns: u64, now: u64) -> String {
    if moved == Some(true) {
        "now".into()
    } else {
        age(age_s(stamp_ns, now))
    }
}

/// Whether the gating consumer `c` moves, in words.
fn motion(v: &View, c: &ConsumerStatus) -> String {
    let now = v.snap.taken_at_ns;
    let i = v.snap.consumers.iter().position(|d| d.index == c.index);
    match (
        v.looks,
        i.and_then(|i| v.looks.and_then(|l| l.consumers[i])),
    ) {
        (Some(l), Some((advanced, moved))) if moved => format!(
            "moving: +{} events in {:.2} s",
            grouped(advanced.max(0) as u64),
            l.secs
        ),
        (Some(l), Some(_)) => format!(
            "not moving in {:.2} s, last active {}",
            l.secs,
            age(age_s(c.last_activity_ns, now))
        ),
        _ => format!("last active {}", age(age_s(c.last_activity_ns, now))),
    }
}

/// The lines that say who holds the ring back.
fn holding_back(v: &View) -> Vec<String> {
    let (ring, s) = (v.ring, v.snap);
    let capacity = ring.capacity() as i64;
    let mut lines = Vec::new();
    match s.slowest() {
        None => lines.push("held back by: nobody (no consumer gates the producers)".into()),
        Some(c) if c.lag == 0 => {
            lines.push("held back by: nobody (every gating consumer is caught up)".into());
            lines.push(format!(
                "  slowest is '{}' (pid {}, {})",
                c.name,
                c.pid,
                liveness(c.alive, c.state)
            ));
        }
        Some(c) => {
            lines.push(format!(
                "held back by consumer '{}' (index {}, pid {}, {}, {})",
                c.name,
                c.index,
                c.pid,
                liveness(c.alive, c.state),
                if c.optional { "optional" } else { "required" },
            ));
            lines.push(format!(
                "  lag {} of {} slots ({:.0}% full); {}",
                grouped(c.lag as u64),
                grouped(capacity as u64),
                (c.lag as f64 / capacity as f64 * 100.0).min(100.0),
                motion(v, c)
            ));
            let waiting: Vec<String> = s
                .producers
                .iter()
                .filter(|p| p.alive)
                .map(|p| format!("producer {} (pid {})", p.index, p.pid))
                .collect();
            let waited = v.looks.map_or(0, |l| l.back_pressure_waits);
            if c.lag >= capacity && !waiting.is_empty() {
                lines.push(format!(
                    "  the ring is full: {} {} for it",
                    waiting.join(", "),
                    if waiting.len() == 1 { "waits" } else { "wait" }
                ));
            } else if c.lag >= capacity {
                lines.push("  the ring is full; no producer is attached, so none waits".into());
            } else if waited > 0 {
                lines.push(format!(
                    "  producers waited for free slots {} times in {:.2} s",
                    grouped(waited),
                    v.looks.map_or(0.0, |l| l.secs)
                ));
            }
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
                "consumers wait for producer {} (pid {}, {})",
                p.index,
                p.pid,
                liveness(p.alive, p.state),
            ));
            lines.push(format!(
                "  its claim [{lo}, {hi}] is not published yet (abandoned after {:?})",
                Duration::from_nanos(ring.layout().params.unblock_timeout_ns)
            ));
        }
    }
    lines
}

fn opt_f(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.digits$}"))
}

fn rate_col(v: Option<f64>) -> String {
    v.map_or("-".into(), rate)
}

/// The ring's lines: parameters, then counters, each under 80 columns.
fn ring_lines(v: &View, t: &mut String) {
    let (ring, s) = (v.ring, v.snap);
    let l = ring.layout();
    let p = &l.params;
    let _ = writeln!(t, "ring {} ({})", v.label, ring.path().display());
    let _ = writeln!(
        t,
        "  {} slots x {} B (stride {}, {}), {} producer",
        grouped(p.capacity),
        p.slot_size,
        l.stride,
        layout_word(l),
        mode_word(l),
    );
    let _ = writeln!(
        t,
        "  wake-ups {}, hot counters {}",
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
        "  attaches {}  detaches {}  back-pressure waits {}",
        grouped(s.attaches),
        grouped(s.detaches),
        grouped(s.back_pressure_waits),
    );
    let _ = writeln!(
        t,
        "  wake-ups {}  evictions {}  stall alerts {}  retired {}",
        grouped(s.wakeups),
        grouped(s.evictions),
        grouped(s.stall_alerts),
        grouped(s.retired)
    );
    if let Some(r) = v.rates {
        let consumed: f64 = s
            .slowest()
            .and_then(|c| s.consumers.iter().position(|d| d.index == c.index))
            .and_then(|i| r.consumers[i])
            .unwrap_or(0.0);
        let _ = writeln!(
            t,
            "  rate {} events/s published, {} events/s by the slowest gating consumer",
            rate(r.published),
            rate(consumed),
        );
        let _ = writeln!(t, "  (over {:.2} s)", r.secs);
    }
}

fn producers(v: &View, t: &mut String) {
    let s = v.snap;
    let _ = writeln!(
        t,
        "\nproducers ({} of {})",
        s.producers.len(),
        v.ring.layout().params.max_producers
    );
    if s.producers.is_empty() {
        return;
    }
    let mut head = vec![
        (">#", ALWAYS),
        ("state", 6),
        (">pid", 8),
        ("alive", ALWAYS),
        (">events", 7),
        (">batches", 2),
        (">mean batch", 1),
        (">waits", 5),
        (">timeouts", 3),
        ("last active", ALWAYS),
        ("pending claim", 4),
    ];
    if v.rates.is_some() {
        head.push((">events/s", 9));
    }
    let mut tab = FitTable::new(&head);
    for (i, pr) in s.producers.iter().enumerate() {
        let moved = v.looks.and_then(|l| l.producers[i]);
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
            last_active(moved, pr.last_activity_ns, s.taken_at_ns),
            pr.pending_claim
                .map_or("-".into(), |(lo, hi)| format!("[{lo}, {hi}]")),
        ];
        if let Some(r) = v.rates {
            row.push(rate_col(r.producers[i]));
        }
        tab.row(row);
    }
    tab.render("  ", v.width, t);
}

fn consumers(v: &View, t: &mut String) {
    let s = v.snap;
    let _ = writeln!(
        t,
        "\nconsumers ({} of {})",
        s.consumers.len(),
        v.ring.layout().params.max_consumers
    );
    if s.consumers.is_empty() {
        return;
    }
    let mut head = vec![
        (">#", ALWAYS),
        ("name", ALWAYS),
        ("state", 6),
        ("role", 8),
        (">sequence", 5),
        (">lag", ALWAYS),
        ("gating", 4),
        ("alive", ALWAYS),
        (">pid", 7),
        (">events", 5),
        (">batches", 2),
        (">mean batch", 1),
        (">waits", 3),
        (">timeouts", 2),
        ("last active", ALWAYS),
    ];
    if v.rates.is_some() {
        head.push((">events/s", 9));
    }
    let mut tab = FitTable::new(&head);
    for (i, c) in s.consumers.iter().enumerate() {
        let moved = v.looks.and_then(|l| l.consumer_moved(i));
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
            last_active(moved, c.last_activity_ns, s.taken_at_ns),
        ];
        if let Some(r) = v.rates {
            row.push(rate_col(r.consumers[i]));
        }
        tab.row(row);
    }
    tab.render("  ", v.width, t);
}

pub(super) fn table(v: &View) -> String {
    let mut t = String::new();
    ring_lines(v, &mut t);
    producers(v, &mut t);
    consumers(v, &mut t);
    t.push('\n');
    for line in holding_back(v) {
        t.push_str(&line);
        t.push('\n');
    }
    if let Some(l) = v.looks {
        let _ = writeln!(
            t,
            "last active \"now\": moved in the {:.2} s between two looks",
            l.secs
        );
    }
    t
}
