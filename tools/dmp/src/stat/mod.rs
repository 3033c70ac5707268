//! `dmp stat`: a ring's counters and participants as a table (once, or
//! refreshed with per-second rates), as one JSON object, or in the
//! Prometheus text exposition format (also served over HTTP with
//! `--serve`); this file holds the command, the rates between two
//! snapshots and the words the outputs share.
//!
//! Everything comes from `Ring::snapshot()`, which reads shared memory and
//! queries lease locks without taking any: observing never slows the ring.

mod activity;
mod discover;
mod json;
mod prometheus;
mod prometheus_entries;
mod serve;
mod table;
mod watch;

use crate::columns;
use crate::probe::{self, Probe};
use crate::roles::Target;
use crate::CmdResult;
use activity::Looks;
use discover::{Limits, Sources, DEFAULT_LIMITS};
use disruptor_mp::layout::{Layout, FLAG_NO_HOT_COUNTERS, FLAG_PACKED};
use disruptor_mp::{ConsumerStatus, ProducerMode, Ring, Snapshot};
use json::json;
use prometheus::Exposition;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;
use table::{table, View};

#[derive(clap::Args, Debug)]
pub struct StatArgs {
    /// Ring name (a shm name), or a path with --file.
    #[arg(required_unless_present_any = ["all", "serve"])]
    name: Option<String>,
    /// With --serve: more rings to serve (by default every ring in
    /// /dev/shm or --dir, found afresh on each scrape).
    #[arg(requires = "serve")]
    more: Vec<String>,
    /// Treat NAME as a file path instead of a shm name.
    #[arg(long, requires = "name")]
    file: bool,
    /// Serve the Prometheus text format over HTTP at ADDR (host:port; port
    /// 0 picks one) on /metrics, until stopped; prints `serving
    /// http://ADDR/metrics` first.
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["watch", "json", "prometheus", "all"])]
    serve: Option<String>,
    /// With --serve or --all: stop an exposition after this many rings
    /// (the rest are counted in dmp_scrape_skipped_files).
    #[arg(long, default_value_t = DEFAULT_LIMITS.max_rings)]
    max_rings: usize,
    /// With --serve or --all: stop an exposition after this long.
    #[arg(long, default_value_t = DEFAULT_LIMITS.budget.as_millis() as u64)]
    max_scrape_ms: u64,
    /// Every file in /dev/shm (or --dir), as in `dmp ls --all`: each ring,
    /// and a line for each file that is not one (--json: rings only;
    /// --prometheus: one exposition, labelled by file name).
    #[arg(long, conflicts_with_all = ["name", "file", "watch"])]
    all: bool,
    /// With --all or --serve: the directory to look in.
    #[arg(long, conflicts_with = "name")]
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
    /// The table: milliseconds between the two looks that tell who moved
    /// ("last active: now"); 0: one look, ages from the participants'
    /// own stamps only. --watch compares each refresh with the one before.
    #[arg(long, default_value_t = DEFAULT_SAMPLE_MS, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    sample_ms: u64,
    /// Every table column, however wide (otherwise the table fits
    /// $COLUMNS, the terminal, or 80 columns, dropping the least important
    /// columns first).
    #[arg(long)]
    wide: bool,
    /// One JSON object (with --watch: one per refresh, one per line).
    #[arg(long, conflicts_with = "prometheus")]
    json: bool,
    /// The Prometheus text exposition format (for node-exporter's textfile
    /// collector).
    #[arg(long, conflicts_with = "watch")]
    prometheus: bool,
}

/// Milliseconds between the two looks of a one-shot `dmp stat` table.
pub const DEFAULT_SAMPLE_MS: u64 = 200;

/// Per-second rates between two snapshots of the same ring.
pub(super) struct Rates {
    pub(super) secs: f64,
    pub(super) published: f64,
    /// One per producer of the newer snapshot (None: entry changed).
    pub(super) producers: Vec<Option<f64>>,
    /// One per consumer of the newer snapshot (None: entry changed).
    pub(super) consumers: Vec<Option<f64>>,
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
    let limits = Limits {
        max_rings: a.max_rings,
        budget: Duration::from_millis(a.max_scrape_ms),
    };
    let dir = || a.dir.clone().unwrap_or_else(|| PathBuf::from("/dev/shm"));
    if let Some(addr) = &a.serve {
        let sources = match &a.name {
            None => Sources::Dir(dir()),
            Some(first) => Sources::Named(
                std::iter::once(first)
                    .chain(&a.more)
                    .map(|n| (n.clone(), Target::location_of(n, a.file)))
                    .collect(),
            ),
        };
        return serve::serve(addr, &sources, limits);
    }
    if a.dir.is_some() && !a.all {
        return Err("--dir needs --all or --serve".into());
    }
    let mut out = std::io::stdout().lock();
    let Some(name) = &a.name else {
        if a.prometheus {
            let e = discover::exposition(&Sources::Dir(dir()), limits)?;
            return emit(&mut out, &e.render());
        }
        return every_file(a, &dir(), &mut out);
    };
    let target = Target {
        name: name.clone(),
        file: a.file,
    };
    let ring = probe::open_ring(&target.location())?;
    if a.watch {
        return watch::run(a, name, &target, ring, &mut out);
    }
    // The output names the ring by its shm name, or its file path.
    let text = if a.prometheus {
        let mut e = Exposition::default();
        e.add_ring(name, &ring, &ring.snapshot());
        e.render()
    } else if a.json {
        json(name, &ring, &ring.snapshot(), None)? + "\n"
    } else {
        let (looks, snaps) = two_looks(a, &[&ring]);
        one_table(a, name, &ring, &snaps[0], looks.first())
    };
    emit(&mut out, &text)
}

/// The newest snapshot of each ring and, with a sample interval, what
/// moved since one `--sample-ms` earlier (one sleep for all the rings).
fn two_looks(a: &StatArgs, rings: &[&Ring]) -> (Vec<Looks>, Vec<Snapshot>) {
    if a.sample_ms == 0 {
        return (Vec::new(), rings.iter().map(|r| r.snapshot()).collect());
    }
    let first: Vec<Snapshot> = rings.iter().map(|r| r.snapshot()).collect();
    std::thread::sleep(Duration::from_millis(a.sample_ms));
    let second: Vec<Snapshot> = rings.iter().map(|r| r.snapshot()).collect();
    let looks = first
        .iter()
        .zip(&second)
        .map(|(p, c)| Looks::between(p, c))
        .collect();
    (looks, second)
}

fn one_table(a: &StatArgs, label: &str, ring: &Ring, s: &Snapshot, l: Option<&Looks>) -> String {
    table(&View {
        label,
        ring,
        snap: s,
        rates: None,
        looks: l,
        width: columns::width(a.wide),
    })
}

/// `--all` without `--prometheus`: every ring of `dir` (one JSON object
/// per line with --json), and with the table a line for each other file.
fn every_file(a: &StatArgs, dir: &Path, out: &mut impl std::io::Write) -> CmdResult {
    let mut rings = Vec::new();
    let mut others = Vec::new();
    for (name, what) in probe::probe_dir(dir)? {
        match what {
            Ok(Probe::Ring(ring)) => rings.push((name, *ring)),
            Ok(Probe::NotRing(why)) => others.push(format!("{name}: not a ring ({why})")),
            Ok(Probe::Initialising(st)) => {
                others.push(format!("{name}: initialising (state word {st})"))
            }
            Ok(Probe::Unusable(e)) => others.push(format!("{name}: unusable ({e})")),
            Err(e) => others.push(format!("{name}: unreadable ({e})")),
        }
    }
    let mut text = String::new();
    if a.json {
        for (name, ring) in &rings {
            text += &(json(name, ring, &ring.snapshot(), None)? + "\n");
        }
        return emit(out, &text);
    }
    let refs: Vec<&Ring> = rings.iter().map(|(_, r)| r).collect();
    let (looks, snaps) = two_looks(a, &refs);
    for (i, (name, ring)) in rings.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text += &one_table(a, name, ring, &snaps[i], looks.get(i));
    }
    if !others.is_empty() {
        let _ = writeln!(
            text,
            "{}other files in {}:",
            if rings.is_empty() { "" } else { "\n" },
            dir.display()
        );
        for o in others {
            let _ = writeln!(text, "  {o}");
        }
    } else if rings.is_empty() {
        let _ = writeln!(text, "no files in {}", dir.display());
    }
    emit(out, &text)
}

/// Writes and flushes; a closed pipe (`dmp stat --watch | head`) ends the
/// command quietly.
pub(super) fn emit(out: &mut impl std::io::Write, text: &str) -> CmdResult {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}

pub fn layout_word(l: &Layout) -> &'static str {
    if l.params.flags & FLAG_PACKED != 0 {
        "packed"
    } else {
        "stamped"
    }
}

pub fn mode_word(l: &Layout) -> &'static str {
    match l.params.producer_mode {
        ProducerMode::Single => "single",
        ProducerMode::Multi => "multi",
    }
}

pub(super) fn hot_counters(l: &Layout) -> bool {
    l.params.flags & FLAG_NO_HOT_COUNTERS == 0
}

/// Liveness of an entry in a sentence: "alive", "dead" (holds an entry it
/// never left) or "left".
pub fn liveness(alive: bool, st: u32) -> &'static str {
    match probe::alive_word(alive, st) {
        "yes" => "alive",
        "dead" => "dead",
        _ => "left",
    }
}

/// The gating consumer holding the producers back, if it lags at all.
pub(super) fn held_back_by(s: &Snapshot) -> Option<&ConsumerStatus> {
    s.slowest().filter(|c| c.lag > 0)
}
