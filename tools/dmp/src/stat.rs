//! `dmp stat`: a ring's counters and participants as a table (once, or
//! refreshed with per-second rates), as one JSON object, or in the
//! Prometheus text exposition format.
//!
//! Everything comes from `Ring::snapshot()`, which reads shared memory and
//! queries lease locks without taking any: observing never slows the ring.

use crate::probe::{self, age_s, alive_word, fmt_age, fmt_rate, grouped, mean_batch, Probe, Table};
use crate::roles::Target;
use crate::CmdResult;
use disruptor_mp::layout::{Layout, FLAG_NO_HOT_COUNTERS, FLAG_PACKED, FLAG_WAKEUPS};
use disruptor_mp::{ConsumerStatus, Location, ProducerMode, Ring, Snapshot};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct StatArgs {
    /// Ring name (a shm name), or a path with --file.
    #[arg(required_unless_present = "all")]
    name: Option<String>,
    /// Treat NAME as a file path instead of a shm name.
    #[arg(long, requires = "name")]
    file: bool,
    /// With --prometheus: every ring in /dev/shm (or --dir) in one
    /// exposition, labelled by file name.
    #[arg(long, requires = "prometheus", conflicts_with_all = ["name", "file"])]
    all: bool,
    /// With --all: the directory to look in.
    #[arg(long, requires = "all")]
    dir: Option<PathBuf>,
    /// Refresh every second (see --interval-ms), with per-second rates.
    #[arg(long)]
    watch: bool,
    /// With --watch: milliseconds between refreshes.
    #[arg(long, requires = "watch", value_parser = clap::value_parser!(u64).range(10..))]
    interval_ms: Option<u64>,
    /// With --watch: stop after this many refreshes.
    #[arg(long, requires = "watch")]
    count: Option<u64>,
    /// One JSON object (with --watch: one per refresh, one per line).
    #[arg(long, conflicts_with = "prometheus")]
    json: bool,
    /// The Prometheus text exposition format (for node-exporter's textfile
    /// collector).
    #[arg(long, conflicts_with = "watch")]
    prometheus: bool,
}

/// Per-second rates between two snapshots of the same ring.
struct Rates {
    secs: f64,
    published: f64,
    /// One per producer of the newer snapshot (None: entry changed).
    producers: Vec<Option<f64>>,
    /// One per consumer of the newer snapshot (None: entry changed).
    consumers: Vec<Option<f64>>,
}

fn per_s(before: u64, after: u64, secs: f64) -> f64 {
    after.saturating_sub(before) as f64 / secs
}

fn rates(prev: &Snapshot, cur: &Snapshot) -> Rates {
    let secs = (cur.taken_at_ns.saturating_sub(prev.taken_at_ns) as f64 / 1e9).max(1e-6);
    Rates {
        secs,
        published: per_s(prev.published, cur.published, secs),
        producers: cur
            .producers
            .iter()
            .map(|p| {
                prev.producers
                    .iter()
                    .find(|q| q.index == p.index)
                    .map(|q| per_s(q.events, p.events, secs))
            })
            .collect(),
        consumers: cur
            .consumers
            .iter()
            .map(|c| {
                prev.consumers
                    .iter()
                    .find(|d| d.index == c.index && d.name == c.name)
                    .map(|d| per_s(d.events, c.events, secs))
            })
            .collect(),
    }
}

pub fn run(a: &StatArgs) -> CmdResult {
    let mut out = std::io::stdout().lock();
    let Some(name) = &a.name else {
        let dir = a.dir.clone().unwrap_or_else(|| PathBuf::from("/dev/shm"));
        return emit(&mut out, &prometheus_all(&dir)?);
    };
    // The output names the ring by its shm name, or its file path.
    let label = name.clone();
    let target = Target {
        name: name.clone(),
        file: a.file,
    };
    let ring = probe::open_ring(&target.location())?;
    if !a.watch {
        let snap = ring.snapshot();
        let text = if a.prometheus {
            render_families(&prometheus(&label, &ring, &snap))
        } else if a.json {
            json(&label, &ring, &snap, None).to_string() + "\n"
        } else {
            table(&label, &ring, &snap, None)
        };
        return emit(&mut out, &text);
    }
    let interval = Duration::from_millis(a.interval_ms.unwrap_or(1000));
    let clear = !a.json && std::io::stdout().is_terminal();
    let mut prev = ring.snapshot();
    let mut n = 0u64;
    while a.count.is_none_or(|c| n < c) {
        std::thread::sleep(interval);
        let cur = ring.snapshot();
        n += 1;
        let r = rates(&prev, &cur);
        let text = if a.json {
            json(&label, &ring, &cur, Some(&r)).to_string() + "\n"
        } else {
            let mut t = String::new();
            if clear {
                t.push_str("\x1b[H\x1b[2J");
            } else if n > 1 {
                t.push('\n');
            }
            let _ = writeln!(
                t,
                "dmp stat {label}: refresh {n}{}, every {:.2} s, at {}",
                a.count.map_or(String::new(), |c| format!(" of {c}")),
                interval.as_secs_f64(),
                probe::fmt_utc(cur.taken_at_ns)
            );
            t + &table(&label, &ring, &cur, Some(&r))
        };
        emit(&mut out, &text)?;
        prev = cur;
    }
    Ok(())
}

/// Writes and flushes; a closed pipe (`dmp stat --watch | head`) ends the
/// command quietly.
fn emit(out: &mut impl std::io::Write, text: &str) -> CmdResult {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}

fn layout_word(l: &Layout) -> &'static str {
    if l.params.flags & FLAG_PACKED != 0 {
        "packed"
    } else {
        "stamped"
    }
}

fn mode_word(l: &Layout) -> &'static str {
    match l.params.producer_mode {
        ProducerMode::Single => "single",
        ProducerMode::Multi => "multi",
    }
}

fn hot_counters(l: &Layout) -> bool {
    l.params.flags & FLAG_NO_HOT_COUNTERS == 0
}

/// The gating consumer holding the producers back, if it lags at all.
fn held_back_by(s: &Snapshot) -> Option<&ConsumerStatus> {
    s.slowest().filter(|c| c.lag > 0)
}

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
                fmt_age(age_s(c.last_activity_ns, s.taken_at_ns)),
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

fn table(label: &str, ring: &Ring, s: &Snapshot, r: Option<&Rates>) -> String {
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
            fmt_rate(r.published),
            fmt_rate(consumed),
            r.secs
        );
    }
    let rate_col = |v: Option<Option<f64>>| match v {
        Some(Some(v)) => fmt_rate(v),
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
                fmt_age(age_s(pr.last_activity_ns, s.taken_at_ns)),
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
                fmt_age(age_s(c.last_activity_ns, s.taken_at_ns)),
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

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

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

fn json(label: &str, ring: &Ring, s: &Snapshot, r: Option<&Rates>) -> J {
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

// ---------------------------------------------------------------------------
// Prometheus text exposition format
// ---------------------------------------------------------------------------

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
fn prometheus_all(dir: &Path) -> Result<String, Box<dyn std::error::Error>> {
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

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
