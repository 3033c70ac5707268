//! The JSON object of `dmp stat --json` (one per refresh with `--watch`):
//! the ring's parameters and counters, every producer and consumer, who
//! holds the ring back, and the rates. Each object is a struct, its
//! fields in the order they are printed.

use super::{held_back_by, hot_counters, layout_word, mode_word, Rates};
use crate::probe::{self, age_s, mean_batch};
use disruptor_mp::layout::{FLAG_WAKEUPS, FORMAT_VERSION};
use disruptor_mp::{ConsumerStatus, ProducerStatus, Ring, Snapshot};
use serde::Serialize;

/// The whole object.
#[derive(Serialize)]
struct RingJson<'a> {
    ring: &'a str,
    path: String,
    taken_at_ns: u64,
    format_version: u32,
    capacity: u64,
    slot_size: u64,
    stride: u64,
    layout: &'static str,
    producer_mode: &'static str,
    flags: u32,
    wakeups_enabled: bool,
    hot_counters: bool,
    max_producers: u32,
    max_consumers: u32,
    cursor: i64,
    claimed: i64,
    published: u64,
    abandoned: u64,
    attaches: u64,
    detaches: u64,
    back_pressure_waits: u64,
    wakeups: u64,
    evictions: u64,
    stall_alerts: u64,
    retired: u64,
    producers: Vec<ProducerJson>,
    consumers: Vec<ConsumerJson<'a>>,
    /// The lagging slowest gating consumer, or null.
    held_back_by: Option<ConsumerJson<'a>>,
    /// With --watch only.
    #[serde(skip_serializing_if = "Option::is_none")]
    rates: Option<RatesJson>,
}

#[derive(Serialize)]
struct ProducerJson {
    index: u32,
    state: &'static str,
    pid: u32,
    alive: bool,
    epoch: u64,
    events: u64,
    batches: u64,
    mean_batch: Option<f64>,
    waits: u64,
    timeouts: u64,
    last_activity_ns: u64,
    last_activity_age_s: Option<f64>,
    pending_claim: Option<[i64; 2]>,
    /// With --watch only: present, and null when the entry changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    events_per_s: Option<Option<f64>>,
}

#[derive(Serialize)]
struct ConsumerJson<'a> {
    index: u32,
    name: &'a str,
    state: &'static str,
    sequence: i64,
    lag: i64,
    gating: bool,
    dependencies: u64,
    alive: bool,
    pid: u32,
    generation: u64,
    optional: bool,
    events: u64,
    batches: u64,
    mean_batch: Option<f64>,
    waits: u64,
    timeouts: u64,
    last_activity_ns: u64,
    last_activity_age_s: Option<f64>,
    /// With --watch only: present, and null when the entry changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    events_per_s: Option<Option<f64>>,
}

#[derive(Serialize)]
struct RatesJson {
    interval_s: f64,
    published_per_s: f64,
}

fn producer(p: &ProducerStatus, now: u64, events_per_s: Option<Option<f64>>) -> ProducerJson {
    ProducerJson {
        index: p.index,
        state: probe::state_name(p.state),
        pid: p.pid,
        alive: p.alive,
        epoch: p.epoch,
        events: p.events,
        batches: p.batches,
        mean_batch: mean_batch(p.events, p.batches),
        waits: p.waits,
        timeouts: p.timeouts,
        last_activity_ns: p.last_activity_ns,
        last_activity_age_s: age_s(p.last_activity_ns, now),
        pending_claim: p.pending_claim.map(|(lo, hi)| [lo, hi]),
        events_per_s,
    }
}

fn consumer(c: &ConsumerStatus, now: u64, events_per_s: Option<Option<f64>>) -> ConsumerJson<'_> {
    ConsumerJson {
        index: c.index,
        name: &c.name,
        state: probe::state_name(c.state),
        sequence: c.sequence,
        lag: c.lag,
        gating: c.gating,
        dependencies: c.dependencies,
        alive: c.alive,
        pid: c.pid,
        generation: c.generation,
        optional: c.optional,
        events: c.events,
        batches: c.batches,
        mean_batch: mean_batch(c.events, c.batches),
        waits: c.waits,
        timeouts: c.timeouts,
        last_activity_ns: c.last_activity_ns,
        last_activity_age_s: age_s(c.last_activity_ns, now),
        events_per_s,
    }
}

/// The object on one line (without the newline). JSON has no NaN or
/// infinity: serde_json writes a non-finite number as null.
pub(super) fn json(
    label: &str,
    ring: &Ring,
    s: &Snapshot,
    r: Option<&Rates>,
) -> serde_json::Result<String> {
    let l = ring.layout();
    let p = &l.params;
    let now = s.taken_at_ns;
    let producers = s
        .producers
        .iter()
        .enumerate()
        .map(|(i, pr)| producer(pr, now, r.map(|r| r.producers[i])))
        .collect();
    let consumer_at = |i: usize, c| consumer(c, now, r.map(|r| r.consumers[i]));
    let consumers = s
        .consumers
        .iter()
        .enumerate()
        .map(|(i, c)| consumer_at(i, c))
        .collect();
    let held_back_by = held_back_by(s).map(|c| {
        let i = s
            .consumers
            .iter()
            .position(|d| d.index == c.index)
            .expect("from the list");
        consumer_at(i, c)
    });
    serde_json::to_string(&RingJson {
        ring: label,
        path: ring.path().display().to_string(),
        taken_at_ns: now,
        format_version: FORMAT_VERSION,
        capacity: p.capacity,
        slot_size: p.slot_size,
        stride: l.stride,
        layout: layout_word(l),
        producer_mode: mode_word(l),
        flags: p.flags,
        wakeups_enabled: p.flags & FLAG_WAKEUPS != 0,
        hot_counters: hot_counters(l),
        max_producers: p.max_producers,
        max_consumers: p.max_consumers,
        cursor: s.cursor,
        claimed: s.claimed,
        published: s.published,
        abandoned: s.abandoned,
        attaches: s.attaches,
        detaches: s.detaches,
        back_pressure_waits: s.back_pressure_waits,
        wakeups: s.wakeups,
        evictions: s.evictions,
        stall_alerts: s.stall_alerts,
        retired: s.retired,
        producers,
        consumers,
        held_back_by,
        rates: r.map(|r| RatesJson {
            interval_s: r.secs,
            published_per_s: r.published,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn producer_status() -> ProducerStatus {
        ProducerStatus {
            index: 3,
            state: 0,
            pid: 77,
            alive: true,
            epoch: 9,
            pending_claim: Some((5, 9)),
            events: 0,
            batches: 0,
            waits: 0,
            timeouts: 0,
            last_activity_ns: 0,
        }
    }

    #[test]
    fn watch_only_fields_are_left_out_else_present_and_maybe_null() {
        let p = producer_status();
        let once = serde_json::to_string(&producer(&p, 5, None)).unwrap();
        assert!(!once.contains("events_per_s"), "{once}");
        // No batch yet, never active, and a claim as [lo, hi].
        assert!(once.contains(r#""mean_batch":null,"#), "{once}");
        assert!(once.contains(r#""last_activity_age_s":null,"#), "{once}");
        assert!(once.ends_with(r#""pending_claim":[5,9]}"#), "{once}");
        let changed = serde_json::to_string(&producer(&p, 5, Some(None))).unwrap();
        assert!(changed.ends_with(r#""events_per_s":null}"#), "{changed}");
        // JSON has no NaN: a non-finite number is null, as it always was.
        let nan = serde_json::to_string(&producer(&p, 5, Some(Some(f64::NAN)))).unwrap();
        assert!(nan.ends_with(r#""events_per_s":null}"#), "{nan}");
        let rate = serde_json::to_string(&producer(&p, 5, Some(Some(2.5)))).unwrap();
        assert!(rate.ends_with(r#""events_per_s":2.5}"#), "{rate}");
    }

    #[test]
    fn strings_are_escaped() {
        let c = ConsumerStatus {
            index: 0,
            name: "q\"b\\n\nc\u{1}".into(),
            state: 0,
            sequence: -1,
            lag: 0,
            gating: true,
            dependencies: 0,
            pid: 1,
            alive: true,
            generation: 1,
            optional: false,
            events: 0,
            batches: 0,
            waits: 0,
            timeouts: 0,
            last_activity_ns: 0,
        };
        let j = serde_json::to_string(&consumer(&c, 0, None)).unwrap();
        assert!(
            j.starts_with(r#"{"index":0,"name":"q\"b\\n\nc\u0001","state":"#),
            "{j}"
        );
    }
}
