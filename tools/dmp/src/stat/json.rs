//! The JSON object of `dmp stat --json` (one per refresh with `--watch`):
//! the ring's parameters and counters, every producer and consumer, who
//! holds the ring back, and the rates.

use super::{held_back_by, hot_counters, layout_word, mode_word, Rates};
use crate::probe::{self, age_s, mean_batch};
use disruptor_mp::layout::FLAG_WAKEUPS;
use disruptor_mp::{ConsumerStatus, Ring, Snapshot};

/// A JSON value, written by hand (the tool has no serde dependency).
pub enum J {
    Null,
    Bool(bool),
    I(i64),
    U(u64),
    F(f64),
    S(String),
    A(Vec<J>),
    O(Vec<(&'static str, J)>),
}

impl J {
    fn opt_f(v: Option<f64>) -> J {
        v.map_or(J::Null, J::F)
    }
}

impl std::fmt::Display for J {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            J::Null => f.write_str("null"),
            J::Bool(b) => write!(f, "{b}"),
            J::I(v) => write!(f, "{v}"),
            J::U(v) => write!(f, "{v}"),
            // JSON has no NaN or infinity.
            J::F(v) if !v.is_finite() => f.write_str("null"),
            J::F(v) => write!(f, "{v}"),
            J::S(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\r' => f.write_str("\\r")?,
                        '\t' => f.write_str("\\t")?,
                        c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
            J::A(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            J::O(fields) => {
                f.write_str("{")?;
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}:{v}", J::S((*k).into()))?;
                }
                f.write_str("}")
            }
        }
    }
}

pub(super) fn json(label: &str, ring: &Ring, s: &Snapshot, r: Option<&Rates>) -> J {
    let l = ring.layout();
    let p = &l.params;
    let now = s.taken_at_ns;
    let producers = s
        .producers
        .iter()
        .enumerate()
        .map(|(i, pr)| {
            let mut o = vec![
                ("index", J::U(pr.index.into())),
                ("state", J::S(probe::state_name(pr.state).into())),
                ("pid", J::U(pr.pid.into())),
                ("alive", J::Bool(pr.alive)),
                ("epoch", J::U(pr.epoch)),
                ("events", J::U(pr.events)),
                ("batches", J::U(pr.batches)),
                ("mean_batch", J::opt_f(mean_batch(pr.events, pr.batches))),
                ("waits", J::U(pr.waits)),
                ("timeouts", J::U(pr.timeouts)),
                ("last_activity_ns", J::U(pr.last_activity_ns)),
                (
                    "last_activity_age_s",
                    J::opt_f(age_s(pr.last_activity_ns, now)),
                ),
                (
                    "pending_claim",
                    pr.pending_claim
                        .map_or(J::Null, |(lo, hi)| J::A(vec![J::I(lo), J::I(hi)])),
                ),
            ];
            if let Some(r) = r {
                o.push(("events_per_s", J::opt_f(r.producers[i])));
            }
            J::O(o)
        })
        .collect();
    let consumer = |i: usize, c: &ConsumerStatus| {
        let mut o = vec![
            ("index", J::U(c.index.into())),
            ("name", J::S(c.name.clone())),
            ("state", J::S(probe::state_name(c.state).into())),
            ("sequence", J::I(c.sequence)),
            ("lag", J::I(c.lag)),
            ("gating", J::Bool(c.gating)),
            ("dependencies", J::U(c.dependencies)),
            ("alive", J::Bool(c.alive)),
            ("pid", J::U(c.pid.into())),
            ("generation", J::U(c.generation)),
            ("optional", J::Bool(c.optional)),
            ("events", J::U(c.events)),
            ("batches", J::U(c.batches)),
            ("mean_batch", J::opt_f(mean_batch(c.events, c.batches))),
            ("waits", J::U(c.waits)),
            ("timeouts", J::U(c.timeouts)),
            ("last_activity_ns", J::U(c.last_activity_ns)),
            (
                "last_activity_age_s",
                J::opt_f(age_s(c.last_activity_ns, now)),
            ),
        ];
        if let Some(r) = r {
            o.push(("events_per_s", J::opt_f(r.consumers[i])));
        }
        J::O(o)
    };
    let consumers = s
        .consumers
        .iter()
        .enumerate()
        .map(|(i, c)| consumer(i, c))
        .collect();
    let held = held_back_by(s).map_or(J::Null, |c| {
        let i = s
            .consumers
            .iter()
            .position(|d| d.index == c.index)
            .expect("from the list");
        consumer(i, c)
    });
    let mut o = vec![
        ("ring", J::S(label.into())),
        ("path", J::S(ring.path().display().to_string())),
        ("taken_at_ns", J::U(now)),
        (
            "format_version",
            J::U(disruptor_mp::layout::FORMAT_VERSION.into()),
        ),
        ("capacity", J::U(p.capacity)),
        ("slot_size", J::U(p.slot_size)),
        ("stride", J::U(l.stride)),
        ("layout", J::S(layout_word(l).into())),
        ("producer_mode", J::S(mode_word(l).into())),
        ("flags", J::U(p.flags.into())),
        ("wakeups_enabled", J::Bool(p.flags & FLAG_WAKEUPS != 0)),
        ("hot_counters", J::Bool(hot_counters(l))),
        ("max_producers", J::U(p.max_producers.into())),
        ("max_consumers", J::U(p.max_consumers.into())),
        ("cursor", J::I(s.cursor)),
        ("claimed", J::I(s.claimed)),
        ("published", J::U(s.published)),
        ("abandoned", J::U(s.abandoned)),
        ("attaches", J::U(s.attaches)),
        ("detaches", J::U(s.detaches)),
        ("back_pressure_waits", J::U(s.back_pressure_waits)),
        ("wakeups", J::U(s.wakeups)),
        ("evictions", J::U(s.evictions)),
        ("stall_alerts", J::U(s.stall_alerts)),
        ("producers", J::A(producers)),
        ("consumers", J::A(consumers)),
        ("held_back_by", held),
    ];
    if let Some(r) = r {
        o.push((
            "rates",
            J::O(vec![
                ("interval_s", J::F(r.secs)),
                ("published_per_s", J::F(r.published)),
            ]),
        ));
    }
    J::O(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let v = J::O(vec![
            ("a", J::S("q\"b\\n\nc\u{1}".into())),
            ("f", J::F(f64::NAN)),
            ("l", J::A(vec![J::I(-1), J::Bool(true), J::Null])),
        ]);
        assert_eq!(
            v.to_string(),
            r#"{"a":"q\"b\\n\nc\u0001","f":null,"l":[-1,true,null]}"#
        );
    }
}
