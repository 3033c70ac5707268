//! The Prometheus text exposition format of `dmp stat --prometheus` and
//! `--serve`: the metric families of readable rings, the up gauge, down
//! reason and state set of every ring found (readable or not), and the
//! exposition that merges them, each family once (the series of producer
//! and consumer entries: `prometheus_entries.rs`).

use super::{held_back_by, layout_word, mode_word};
use crate::probe::{self, Probe};
use disruptor_mp::{Error, Ring, Snapshot};
use std::fmt::Write as _;

/// The content type of the text format, version 0.0.4.
pub(super) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The states of `dmp_ring_state`: the first three are readable rings
/// (`dmp_ring_up` 1), the others rings that cannot be used.
const RING_STATES: [&str; 7] = [
    "live",
    "stale",
    "unused",
    "initialising",
    "unusable",
    "unreadable",
    "missing",
];

/// A sample's labels, in order.
pub(super) type Labels = Vec<(&'static str, String)>;

/// One metric family: HELP, TYPE, then its samples.
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    samples: Vec<(Labels, String)>,
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
            if labels.is_empty() {
                let _ = writeln!(out, "{} {value}", self.name);
            } else {
                let _ = writeln!(out, "{}{{{}}} {value}", self.name, labels.join(","));
            }
        }
    }
}

/// An exposition being built: families in the order first seen, each
/// with the samples of every ring added.
#[derive(Default)]
pub(super) struct Exposition {
    families: Vec<Family>,
    comments: String,
}

/// What a file or name turned out to be, for the up gauge and the state
/// set: the state and, for a ring that cannot be used, the reason.
pub(super) fn down_state(e: &Error) -> (&'static str, &'static str) {
    match e {
        Error::NotFound { .. } => ("missing", "not_found"),
        Error::PermissionDenied { .. } => ("unreadable", "permission_denied"),
        Error::Io { .. } => ("unreadable", "io_error"),
        Error::Truncated { .. } => ("unusable", "truncated"),
        Error::ChecksumMismatch { .. } => ("unusable", "checksum_mismatch"),
        Error::VersionMismatch { .. } => ("unusable", "version_mismatch"),
        Error::NotASegment { .. } => ("unusable", "not_a_ring"),
        _ => ("unusable", "corrupt"),
    }
}

impl Exposition {
    /// Adds a sample to family `name` (created with `kind` and `help` when
    /// first used).
    pub(super) fn add(
        &mut self,
        name: &'static str,
        kind: &'static str,
        help: &'static str,
        labels: Labels,
        value: impl ToString,
    ) {
        let at = match self.families.iter().position(|f| f.name == name) {
            Some(at) => at,
            None => {
                self.families.push(Family {
                    name,
                    help,
                    kind,
                    samples: Vec::new(),
                });
                self.families.len() - 1
            }
        };
        self.families[at].samples.push((labels, value.to_string()));
    }

    /// A comment line (`# dmp: ...`) at the top of the exposition.
    pub(super) fn comment(&mut self, text: &str) {
        let _ = writeln!(self.comments, "# dmp: {}", text.replace('\n', " "));
    }

    /// The up gauge and the state set of ring `label`.
    fn up_and_state(&mut self, label: &str, state: &str) {
        let up = RING_STATES[..3].contains(&state);
        self.add(
            "dmp_ring_up",
            "gauge",
            "1 if the ring could be opened and read, 0 if not (see dmp_ring_down_info).",
            vec![("ring", label.into())],
            u8::from(up),
        );
        for s in RING_STATES {
            self.add(
                "dmp_ring_state",
                "gauge",
                "Ring state as a state set: 1 for the ring's state, 0 for the others.",
                vec![("ring", label.into()), ("state", s.into())],
                u8::from(s == state),
            );
        }
    }

    /// A ring that was found but cannot be used: up 0, its state, and the
    /// reason on `dmp_ring_down_info`.
    pub(super) fn add_down(&mut self, label: &str, state: &'static str, reason: &'static str) {
        self.up_and_state(label, state);
        self.add(
            "dmp_ring_down_info",
            "gauge",
            "Why a ring that was found cannot be read (dmp_ring_up 0); always 1.",
            vec![("ring", label.into()), ("reason", reason.into())],
            1,
        );
    }

    /// The file behind `label` as probed: a ring's families, or a down
    /// ring. Files that are not rings add nothing and return false.
    pub(super) fn add_probed(&mut self, label: &str, probed: Result<Probe, Error>) -> bool {
        match probed {
            Ok(Probe::Ring(ring)) => self.add_ring(label, &ring, &ring.snapshot()),
            Ok(Probe::NotRing(_)) => return false,
            Ok(Probe::Initialising(st)) => {
                self.comment(&format!("{label}: state word {st}, not ready"));
                self.add_down(label, "initialising", "not_ready");
            }
            Ok(Probe::Unusable(e)) | Err(e) => {
                self.comment(&format!("{label}: {e}"));
                let (state, reason) = down_state(&e);
                self.add_down(label, state, reason);
            }
        }
        true
    }

    /// Every family of a readable ring, labelled `label`.
    pub(super) fn add_ring(&mut self, label: &str, ring: &Ring, s: &Snapshot) {
        let state = if !probe::live_participants(s).is_empty() {
            "live"
        } else if s.attaches > 0 {
            "stale"
        } else {
            "unused"
        };
        self.up_and_state(label, state);
        let l = ring.layout();
        let p = &l.params;
        let rl = || vec![("ring", label.to_string())];
        let mut info = rl();
        info.extend([
            ("layout", layout_word(l).to_string()),
            ("producer_mode", mode_word(l).to_string()),
        ]);
        self.add(
            "dmp_ring_info",
            "gauge",
            "Ring parameters as labels; always 1.",
            info,
            1,
        );
        let lag = held_back_by(s).map_or(0, |c| c.lag);
        let gauges: [(&'static str, &'static str, i128); 5] = [
            (
                "dmp_ring_capacity_slots",
                "Number of slots in the ring.",
                p.capacity.into(),
            ),
            (
                "dmp_ring_slot_size_bytes",
                "Payload bytes per slot.",
                p.slot_size.into(),
            ),
            ("dmp_ring_cursor", "Highest sequence up to which everything is published (or abandoned); -1 before the first.", s.cursor.into()),
            ("dmp_ring_claimed", "Highest claimed sequence; -1 before the first.", s.claimed.into()),
            ("dmp_ring_max_lag_events", "Lag of the slowest gating consumer (events published and not yet consumed).", lag.into()),
        ];
        for (name, help, v) in gauges {
            self.add(name, "gauge", help, rl(), v);
        }
        let counters: [(&'static str, &'static str, u64); 9] = [
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
            (
                "dmp_ring_retired_consumers_total",
                "Dead consumers retired (their entries freed by dmp retire).",
                s.retired,
            ),
        ];
        for (name, help, v) in counters {
            self.add(name, "counter", help, rl(), v);
        }
        for pr in &s.producers {
            self.add_producer(label, pr);
        }
        for c in &s.consumers {
            self.add_consumer(label, c);
        }
    }

    /// What a scrape or a directory listing looked at, and how long it took.
    pub(super) fn add_scrape(&mut self, rings: usize, skipped: usize, secs: f64) {
        self.add(
            "dmp_scrape_rings",
            "gauge",
            "Rings reported by this exposition (readable or not).",
            Vec::new(),
            rings,
        );
        self.add(
            "dmp_scrape_skipped_files",
            "gauge",
            "Files not looked at because the scrape reached its ring or time limit (0: complete).",
            Vec::new(),
            skipped,
        );
        self.add(
            "dmp_scrape_duration_seconds",
            "gauge",
            "Time taken to build this exposition.",
            Vec::new(),
            format!("{secs:.6}"),
        );
    }

    /// The text: comments, then every family with samples.
    pub(super) fn render(&self) -> String {
        let mut out = self.comments.clone();
        for f in &self.families {
            f.render(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn a_down_ring_has_up_0_its_reason_and_one_state() {
        let mut e = Exposition::default();
        e.add_down("r", "unreadable", "permission_denied");
        let t = e.render();
        assert!(t.contains("dmp_ring_up{ring=\"r\"} 0\n"), "{t}");
        assert!(
            t.contains("dmp_ring_down_info{ring=\"r\",reason=\"permission_denied\"} 1\n"),
            "{t}"
        );
        assert!(t.contains("dmp_ring_state{ring=\"r\",state=\"unreadable\"} 1\n"));
        assert_eq!(t.matches("dmp_ring_state{").count(), RING_STATES.len());
        assert_eq!(t.matches("} 1\n").count(), 2, "{t}");
    }

    #[test]
    fn a_sample_without_labels_has_no_braces() {
        let mut e = Exposition::default();
        e.add_scrape(3, 0, 0.5);
        assert!(e.render().contains("\ndmp_scrape_rings 3\n"));
    }
}
