//! Comparing the reader's JSON with `dmp stat --json`, field by field, and tallying what was compared.

use super::*;

/// How a field may differ between two readings of a ring in motion.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// Never changes while the participants run: equal.
    Stable,
    /// Only grows: between the readings before and after the reader's.
    Grows,
    /// Moves both ways: compared on finished rings only.
    Moves,
}

/// One sample of a ring: the reader's JSON between two `dmp stat`s, and
/// `dmp inspect` after them.
pub(crate) struct Sample {
    pub(crate) before: Value,
    pub(crate) reader: Value,
    pub(crate) after: Value,
    pub(crate) inspect: String,
    pub(crate) live: bool,
}

pub(crate) fn sample(target: &[&str], live: bool) -> Sample {
    let before = stat(target);
    let reader = reader(target);
    let after = stat(target);
    let inspect = inspect(target);
    Sample {
        before,
        reader,
        after,
        inspect,
        live,
    }
}

#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) fields: usize,
    pub(crate) stat_fields: usize,
    pub(crate) inspect_fields: usize,
    pub(crate) events: usize,
    pub(crate) configurations: Vec<String>,
    pub(crate) refusals: usize,
    pub(crate) mismatches: Vec<String>,
}

pub(crate) fn int(v: &Value) -> Option<i128> {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
}

/// Two JSON values as the same figure: integers exactly, other numbers to
/// 1e-9 relative, the rest structurally.
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (int(a), int(b)) {
        (Some(x), Some(y)) => x == y,
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            _ => match (a, b) {
                (Value::Array(x), Value::Array(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
                }
                _ => a == b,
            },
        },
    }
}

pub(crate) struct Cmp<'a> {
    pub(crate) config: &'a str,
    pub(crate) tally: &'a mut Tally,
}

impl Cmp<'_> {
    pub(crate) fn mismatch(&mut self, what: String) {
        self.tally
            .mismatches
            .push(format!("[{}] {what}", self.config));
    }

    /// A `dmp stat` field against the reader's figure.
    pub(crate) fn stat(
        &mut self,
        s: &Sample,
        field: &str,
        kind: Kind,
        before: &Value,
        reader: &Value,
        after: &Value,
    ) {
        if s.live && kind == Kind::Moves {
            return;
        }
        let ok = if !s.live || kind == Kind::Stable {
            same(before, reader) && same(after, reader)
        } else {
            match (int(before), int(reader), int(after)) {
                (Some(b), Some(r), Some(a)) => b <= r && r <= a,
                _ => same(before, reader) && same(after, reader),
            }
        };
        self.tally.fields += 1;
        self.tally.stat_fields += 1;
        if !ok {
            self.mismatch(format!(
                "stat field {field}: dmp stat {before} then {after}, reader {reader}"
            ));
        }
    }

    /// A `dmp inspect` field (read after the second `dmp stat`) against
    /// the reader's figure.
    pub(crate) fn inspect(
        &mut self,
        s: &Sample,
        field: &str,
        kind: Kind,
        tool: &str,
        reader: &str,
    ) {
        if s.live && kind == Kind::Moves {
            return;
        }
        let ok = if s.live && kind == Kind::Grows {
            match (tool.parse::<i128>(), reader.parse::<i128>()) {
                (Ok(t), Ok(r)) => r <= t,
                _ => tool == reader,
            }
        } else {
            tool == reader
        };
        self.tally.fields += 1;
        self.tally.inspect_fields += 1;
        if !ok {
            self.mismatch(format!(
                "inspect field {field}: dmp inspect {tool:?}, reader {reader:?}"
            ));
        }
    }
}

pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The entries of a table by index.
pub(crate) fn by_index(list: &Value) -> BTreeMap<i128, &Value> {
    list.as_array()
        .map(|a| a.iter().map(|e| (int(&e["index"]).unwrap(), e)).collect())
        .unwrap_or_default()
}

/// `dmp stat --json` against the reader.
pub(crate) fn compare_stat(c: &mut Cmp, s: &Sample) {
    let r = &s.reader;
    let h = &r["header"];
    let derived = |k: &str| r["derived"][k].clone();
    let ring = |k: &str| r["ring_counters"][k].clone();
    let layout_word = if h["packed"] == Value::Bool(true) {
        "packed"
    } else {
        "stamped"
    };
    let mode_word = if int(&h["producer_mode"]) == Some(1) {
        "multi"
    } else {
        "single"
    };
    let hot = Value::Bool(h["no_hot_counters"] != Value::Bool(true));
    let ring_fields: Vec<(&str, Kind, Value)> = vec![
        ("path", Kind::Stable, r["path"].clone()),
        ("format_version", Kind::Stable, h["format_version"].clone()),
        ("capacity", Kind::Stable, h["capacity"].clone()),
        ("slot_size", Kind::Stable, h["slot_size"].clone()),
        ("stride", Kind::Stable, h["slot_stride"].clone()),
        ("layout", Kind::Stable, Value::from(layout_word)),
        ("producer_mode", Kind::Stable, Value::from(mode_word)),
        ("flags", Kind::Stable, h["flags"].clone()),
        ("wakeups_enabled", Kind::Stable, h["wakeups"].clone()),
        ("hot_counters", Kind::Stable, hot),
        ("max_producers", Kind::Stable, h["max_producers"].clone()),
        ("max_consumers", Kind::Stable, h["max_consumers"].clone()),
        ("cursor", Kind::Grows, derived("cursor")),
        ("claimed", Kind::Grows, derived("claimed")),
        ("published", Kind::Grows, derived("published")),
        ("abandoned", Kind::Grows, ring("abandoned")),
        ("attaches", Kind::Grows, ring("attaches")),
        ("detaches", Kind::Grows, ring("detaches")),
        (
            "back_pressure_waits",
            Kind::Grows,
            ring("back_pressure_waits"),
        ),
        ("wakeups", Kind::Grows, ring("wakeups")),
        ("evictions", Kind::Grows, ring("evictions")),
        ("stall_alerts", Kind::Grows, ring("stall_alerts")),
        ("retired", Kind::Grows, r["control"]["retired"].clone()),
    ];
    for (field, kind, mine) in ring_fields {
        c.stat(s, field, kind, &s.before[field], &mine, &s.after[field]);
    }
    let held = |st: &Value| {
        st["held_back_by"]
            .get("index")
            .cloned()
            .unwrap_or(Value::Null)
    };
    c.stat(
        s,
        "held_back_by",
        Kind::Moves,
        &held(&s.before),
        &derived("held_back_by"),
        &held(&s.after),
    );

    for (table, fields) in [
        (
            "producers",
            &[
                ("state", Kind::Stable),
                ("pid", Kind::Stable),
                ("alive", Kind::Stable),
                ("epoch", Kind::Stable),
                ("pending_claim", Kind::Stable),
                ("events", Kind::Grows),
                ("batches", Kind::Grows),
                ("waits", Kind::Grows),
                ("timeouts", Kind::Grows),
                ("last_activity_ns", Kind::Grows),
                ("mean_batch", Kind::Moves),
            ][..],
        ),
        (
            "consumers",
            &[
                ("name", Kind::Stable),
                ("state", Kind::Stable),
                ("gating", Kind::Stable),
                ("dependencies", Kind::Stable),
                ("alive", Kind::Stable),
                ("pid", Kind::Stable),
                ("generation", Kind::Stable),
                ("optional", Kind::Stable),
                ("sequence", Kind::Grows),
                ("events", Kind::Grows),
                ("batches", Kind::Grows),
                ("waits", Kind::Grows),
                ("timeouts", Kind::Grows),
                ("last_activity_ns", Kind::Grows),
                ("lag", Kind::Moves),
                ("mean_batch", Kind::Moves),
            ][..],
        ),
    ] {
        let mine = by_index(&r[table]);
        let before = by_index(&s.before[table]);
        let after = by_index(&s.after[table]);
        let keys = |m: &BTreeMap<i128, &Value>| m.keys().copied().collect::<Vec<_>>();
        c.stat(
            s,
            &format!("{table} (entries in use)"),
            Kind::Stable,
            &Value::from(format!("{:?}", keys(&before))),
            &Value::from(format!("{:?}", keys(&mine))),
            &Value::from(format!("{:?}", keys(&after))),
        );
        for (index, e) in &mine {
            let (Some(b), Some(a)) = (before.get(index), after.get(index)) else {
                continue;
            };
            for (field, kind) in fields {
                c.stat(
                    s,
                    &format!("{table}[{index}].{field}"),
                    *kind,
                    &b[*field],
                    &e[*field],
                    &a[*field],
                );
            }
        }
    }
}

/// Compares one sample and counts it.
pub(crate) fn compare(tally: &mut Tally, config: &str, s: &Sample) {
    let mut c = Cmp {
        config,
        tally: &mut *tally,
    };
    compare_stat(&mut c, s);
    compare_inspect(&mut c, s);
}
