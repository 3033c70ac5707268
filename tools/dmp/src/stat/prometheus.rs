//! The Prometheus text exposition format of `dmp stat --prometheus`: one
//! ring's metric families, or every ring of a directory merged into one
//! exposition (`--all`).

use super::{held_back_by, layout_word, mode_word};
use crate::probe::{self, Probe};
use disruptor_mp::{ConsumerStatus, Location, Ring, Snapshot};
use std::fmt::Write as _;
use std::path::Path;

/// One metric family: HELP, TYPE, then its samples.
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    samples: Vec<(Vec<(&'static str, String)>, String)>,
}

fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    fn add(&mut self, labels: Vec<(&'static str, String)>, value: impl ToString) {
        self.samples.push((labels, value.to_string()));
    }

    fn render(&self, out: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        for (labels, value) in &self.samples {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = writeln!(out, "{}{{{}}} {value}", self.name, labels.join(","));
        }
    }
}

fn seconds(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e9)
}

/// Every family once, each with the samples of every ring in `dir`.
/// Files that are not rings are skipped silently; rings that cannot be
/// used are named in a comment.
pub(super) fn prometheus_all(dir: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut merged: Vec<Family> = Vec::new();
    let mut comments = String::new();
    for name in names {
        let path = dir.join(&name);
        match probe::probe(&Location::file(&path)) {
            Ok(Probe::Ring(ring)) => {
                let fams = prometheus(&name, &ring, &ring.snapshot());
                if merged.is_empty() {
                    merged = fams;
                } else {
                    // Every ring yields the same families in the same order.
                    for (m, f) in merged.iter_mut().zip(fams) {
                        debug_assert_eq!(m.name, f.name);
                        m.samples.extend(f.samples);
                    }
                }
            }
            Ok(Probe::NotRing(_)) => {}
            Ok(Probe::Initialising(st)) => {
                let _ = writeln!(
                    comments,
                    "# dmp: skipped {name}: state word {st}, not ready"
                );
            }
            Ok(Probe::Unusable(e)) => {
                let _ = writeln!(
                    comments,
                    "# dmp: skipped {name}: {}",
                    e.to_string().replace('\n', " ")
                );
            }
            Err(e) => {
                let _ = writeln!(
                    comments,
                    "# dmp: skipped {name}: {}",
                    e.to_string().replace('\n', " ")
                );
            }
        }
    }
    Ok(comments + &render_families(&merged))
}

/// The exposition of one ring, labelled `label`.
pub(super) fn prometheus_one(label: &str, ring: &Ring, s: &Snapshot) -> String {
    render_families(&prometheus(label, ring, s))
}

fn render_families(fams: &[Family]) -> String {
    let mut out = String::new();
    for f in fams {
        f.render(&mut out);
    }
    out
}

fn prometheus(label: &str, ring: &Ring, s: &Snapshot) -> Vec<Family> {
    let l = ring.layout();
    let p = &l.params;
    let ring_l = || vec![("ring", label.to_string())];
    let mut fams = Vec::new();
    let ring_family = |name, kind, help, labels: Vec<(&'static str, String)>, value: String| {
        let mut f = Family::new(name, kind, help);
        f.add(labels, value);
        f
    };
    let mut info = ring_l();
    info.extend([
        ("layout", layout_word(l).to_string()),
        ("producer_mode", mode_word(l).to_string()),
    ]);
    fams.push(ring_family(
        "dmp_ring_info",
        "gauge",
        "Ring parameters as labels; always 1.",
        info,
        "1".into(),
    ));
    for (name, help, value) in [
        (
            "dmp_ring_capacity_slots",
            "Number of slots in the ring.",
            p.capacity,
        ),
        (
            "dmp_ring_slot_size_bytes",
            "Payload bytes per slot.",
            p.slot_size,
        ),
    ] {
        fams.push(ring_family(
            name,
            "gauge",
            help,
            ring_l(),
            value.to_string(),
        ));
    }
    for (name, help, value) in [
        (
            "dmp_ring_cursor",
            "Highest sequence up to which everything is published (or abandoned); -1 before the first.",
            s.cursor,
        ),
        (
            "dmp_ring_claimed",
            "Highest claimed sequence; -1 before the first.",
            s.claimed,
        ),
    ] {
        fams.push(ring_family(name, "gauge", help, ring_l(), value.to_string()));
    }
    for (name, help, value) in [
        (
            "dmp_ring_published_events_total",
            "Events published, all producers.",
            s.published,
        ),
        (
            "dmp_ring_abandoned_sequences_total",
            "Sequences abandoned after a producer held its claim past the unblock timeout.",
            s.abandoned,
        ),
        (
            "dmp_ring_attaches_total",
            "Producers and consumers that attached.",
            s.attaches,
        ),
        (
            "dmp_ring_detaches_total",
            "Producers and consumers that detached.",
            s.detaches,
        ),
        (
            "dmp_ring_back_pressure_waits_total",
            "Claims that had to wait for consumers, all producers.",
            s.back_pressure_waits,
        ),
        (
            "dmp_ring_wakeups_total",
            "Futex wake-ups issued.",
            s.wakeups,
        ),
        (
            "dmp_ring_evictions_total",
            "Optional consumers evicted.",
            s.evictions,
        ),
        (
            "dmp_ring_stall_alerts_total",
            "Stalled required consumers reported by producers.",
            s.stall_alerts,
        ),
    ] {
        fams.push(ring_family(
            name,
            "counter",
            help,
            ring_l(),
            value.to_string(),
        ));
    }
    let lag = held_back_by(s).map_or(0, |c| c.lag);
    fams.push(ring_family(
        "dmp_ring_max_lag_events",
        "gauge",
        "Lag of the slowest gating consumer (events published and not yet consumed).",
        ring_l(),
        lag.to_string(),
    ));

    // Producers.
    let pl = |i: u32| vec![("ring", label.to_string()), ("producer", i.to_string())];
    type PField = fn(&disruptor_mp::ProducerStatus) -> String;
    let producer_families: [(&str, &str, &str, PField); 9] = [
        (
            "dmp_producer_events_total",
            "counter",
            "Events published by the producer entry (over every holder).",
            |p| p.events.to_string(),
        ),
        (
            "dmp_producer_batches_total",
            "counter",
            "Publishes by the producer entry.",
            |p| p.batches.to_string(),
        ),
        (
            "dmp_producer_waits_total",
            "counter",
            "Claims that had to wait for consumers.",
            |p| p.waits.to_string(),
        ),
        (
            "dmp_producer_timeouts_total",
            "counter",
            "Claims that timed out.",
            |p| p.timeouts.to_string(),
        ),
        (
            "dmp_producer_alive",
            "gauge",
            "1 if a live process holds the producer entry's lease.",
            |p| u8::from(p.alive).to_string(),
        ),
        (
            "dmp_producer_pid",
            "gauge",
            "PID of the entry's last holder.",
            |p| p.pid.to_string(),
        ),
        (
            "dmp_producer_epoch",
            "gauge",
            "Ownership epoch of the entry (one more per new holder).",
            |p| p.epoch.to_string(),
        ),
        (
            "dmp_producer_last_activity_seconds",
            "gauge",
            "Last activity of the entry, seconds since the Unix epoch (0: never).",
            |p| seconds(p.last_activity_ns),
        ),
        (
            "dmp_producer_pending_claim_events",
            "gauge",
            "Multi-producer rings: sequences the producer claimed and has not published.",
            |p| {
                p.pending_claim
                    .map_or(0, |(lo, hi)| hi - lo + 1)
                    .to_string()
            },
        ),
    ];
    for (name, kind, help, get) in producer_families {
        let mut f = Family::new(name, kind, help);
        for pr in &s.producers {
            f.add(pl(pr.index), get(pr));
        }
        fams.push(f);
    }
    let mut f = Family::new(
        "dmp_producer_info",
        "gauge",
        "Producer entry state as a label; always 1.",
    );
    for pr in &s.producers {
        let mut labels = pl(pr.index);
        labels.push(("state", probe::state_name(pr.state).into()));
        f.add(labels, 1);
    }
    fams.push(f);

    // Consumers.
    let cl = |c: &ConsumerStatus| {
        vec![
            ("ring", label.to_string()),
            ("consumer", c.name.clone()),
            ("index", c.index.to_string()),
        ]
    };
    type CField = fn(&ConsumerStatus) -> String;
    let consumer_families: [(&str, &str, &str, CField); 11] = [
        (
            "dmp_consumer_events_total",
            "counter",
            "Events consumed (committed) by the consumer entry, over every holder.",
            |c| c.events.to_string(),
        ),
        (
            "dmp_consumer_batches_total",
            "counter",
            "Commits that advanced.",
            |c| c.batches.to_string(),
        ),
        (
            "dmp_consumer_waits_total",
            "counter",
            "Waits that found nothing available.",
            |c| c.waits.to_string(),
        ),
        (
            "dmp_consumer_timeouts_total",
            "counter",
            "Waits that timed out.",
            |c| c.timeouts.to_string(),
        ),
        (
            "dmp_consumer_sequence",
            "gauge",
            "Last committed sequence.",
            |c| c.sequence.to_string(),
        ),
        (
            "dmp_consumer_lag_events",
            "gauge",
            "Events published and not yet consumed (cursor minus sequence).",
            |c| c.lag.to_string(),
        ),
        (
            "dmp_consumer_gating",
            "gauge",
            "1 if the consumer holds the producers back (it is in the gating set).",
            |c| u8::from(c.gating).to_string(),
        ),
        (
            "dmp_consumer_alive",
            "gauge",
            "1 if a live process holds the consumer entry's lease.",
            |c| u8::from(c.alive).to_string(),
        ),
        (
            "dmp_consumer_pid",
            "gauge",
            "PID of the entry's last holder.",
            |c| c.pid.to_string(),
        ),
        (
            "dmp_consumer_generation",
            "gauge",
            "Times the entry was joined.",
            |c| c.generation.to_string(),
        ),
        (
            "dmp_consumer_last_activity_seconds",
            "gauge",
            "Last activity of the entry, seconds since the Unix epoch (0: never).",
            |c| seconds(c.last_activity_ns),
        ),
    ];
    for (name, kind, help, get) in consumer_families {
        let mut f = Family::new(name, kind, help);
        for c in &s.consumers {
            f.add(cl(c), get(c));
        }
        fams.push(f);
    }
    let mut f = Family::new(
        "dmp_consumer_info",
        "gauge",
        "Consumer entry state as a label; always 1.",
    );
    for c in &s.consumers {
        let mut labels = cl(c);
        labels.push(("state", probe::state_name(c.state).into()));
        f.add(labels, 1);
    }
    fams.push(f);

    fams
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
