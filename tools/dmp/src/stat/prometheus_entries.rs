//! The Prometheus series of a ring's producer and consumer entries:
//! producers labelled by their table index (they have no names),
//! consumers by name, index and role, each entry's state as a state set.

use super::prometheus::{Exposition, Labels};
use crate::probe;
use disruptor_mp::{ConsumerStatus, ProducerStatus};

/// The states of `dmp_producer_state` and `dmp_consumer_state`.
const ENTRY_STATES: [&str; 5] = ["joining", "active", "left", "evicted", "invalid"];

/// Nanoseconds since the Unix epoch as seconds.
fn seconds(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e9)
}

impl Exposition {
    fn entry_state(&mut self, name: &'static str, help: &'static str, labels: &Labels, st: u32) {
        let current = probe::state_name(st);
        for s in ENTRY_STATES {
            let mut l = labels.clone();
            l.push(("state", s.into()));
            self.add(name, "gauge", help, l, u8::from(s == current));
        }
    }

    /// A producer entry's series, labelled by its entry index (producers
    /// have no names).
    pub(super) fn add_producer(&mut self, label: &str, p: &ProducerStatus) {
        let pl = vec![
            ("ring", label.to_string()),
            ("producer", p.index.to_string()),
        ];
        let pending = p.pending_claim.map_or(0, |(lo, hi)| hi - lo + 1);
        let rows: [(&'static str, &'static str, &'static str, String); 9] = [
            (
                "dmp_producer_events_total",
                "counter",
                "Events published by the producer entry (over every holder).",
                p.events.to_string(),
            ),
            (
                "dmp_producer_batches_total",
                "counter",
                "Publishes by the producer entry.",
                p.batches.to_string(),
            ),
            (
                "dmp_producer_waits_total",
                "counter",
                "Claims that had to wait for consumers.",
                p.waits.to_string(),
            ),
            (
                "dmp_producer_timeouts_total",
                "counter",
                "Claims that timed out.",
                p.timeouts.to_string(),
            ),
            (
                "dmp_producer_alive",
                "gauge",
                "1 if a live process holds the producer entry's lease.",
                u8::from(p.alive).to_string(),
            ),
            (
                "dmp_producer_pid",
                "gauge",
                "PID of the entry's last holder.",
                p.pid.to_string(),
            ),
            (
                "dmp_producer_epoch",
                "gauge",
                "Ownership epoch of the entry (one more per new holder).",
                p.epoch.to_string(),
            ),
            (
                "dmp_producer_last_activity_timestamp_seconds",
                "gauge",
                "Last activity of the entry, seconds since the Unix epoch (0: never).",
                seconds(p.last_activity_ns),
            ),
            (
                "dmp_producer_pending_claim_events",
                "gauge",
                "Multi-producer rings: sequences the producer claimed and has not published.",
                pending.to_string(),
            ),
        ];
        for (name, kind, help, v) in rows {
            self.add(name, kind, help, pl.clone(), v);
        }
        self.entry_state(
            "dmp_producer_state",
            "Producer entry state as a state set: 1 for its state, 0 for the others.",
            &pl,
            p.state,
        );
    }

    /// A consumer entry's series, labelled by name, index and role.
    pub(super) fn add_consumer(&mut self, label: &str, c: &ConsumerStatus) {
        let cl = vec![
            ("ring", label.to_string()),
            ("consumer", c.name.clone()),
            ("index", c.index.to_string()),
            (
                "role",
                if c.optional { "optional" } else { "required" }.into(),
            ),
        ];
        let rows: [(&'static str, &'static str, &'static str, String); 11] = [
            (
                "dmp_consumer_events_total",
                "counter",
                "Events consumed (committed) by the consumer entry, over every holder.",
                c.events.to_string(),
            ),
            (
                "dmp_consumer_batches_total",
                "counter",
                "Commits that advanced.",
                c.batches.to_string(),
            ),
            (
                "dmp_consumer_waits_total",
                "counter",
                "Waits that found nothing available.",
                c.waits.to_string(),
            ),
            (
                "dmp_consumer_timeouts_total",
                "counter",
                "Waits that timed out.",
                c.timeouts.to_string(),
            ),
            (
                "dmp_consumer_sequence",
                "gauge",
                "Last committed sequence.",
                c.sequence.to_string(),
            ),
            (
                "dmp_consumer_lag_events",
                "gauge",
                "Events published and not yet consumed (cursor minus sequence).",
                c.lag.to_string(),
            ),
            (
                "dmp_consumer_gating",
                "gauge",
                "1 if the consumer holds the producers back (it is in the gating set).",
                u8::from(c.gating).to_string(),
            ),
            (
                "dmp_consumer_alive",
                "gauge",
                "1 if a live process holds the consumer entry's lease.",
                u8::from(c.alive).to_string(),
            ),
            (
                "dmp_consumer_pid",
                "gauge",
                "PID of the entry's last holder.",
                c.pid.to_string(),
            ),
            (
                "dmp_consumer_generation",
                "gauge",
                "Times the entry was joined.",
                c.generation.to_string(),
            ),
            (
                "dmp_consumer_last_activity_timestamp_seconds",
                "gauge",
                "Last activity of the entry, seconds since the Unix epoch (0: never).",
                seconds(c.last_activity_ns),
            ),
        ];
        for (name, kind, help, v) in rows {
            self.add(name, kind, help, cl.clone(), v);
        }
        self.entry_state(
            "dmp_consumer_state",
            "Consumer entry state as a state set: 1 for its state, 0 for the others.",
            &cl,
            c.state,
        );
    }
}
