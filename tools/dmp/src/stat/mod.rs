//! `dmp stat`: a ring's counters and participants as a table (once, or
//! refreshed with per-second rates), as one JSON object, or in the
//! Prometheus text exposition format (also served over HTTP with
//! `--serve`); this file holds the command, the rates between two
//! snapshots and the words the outputs share.
//!
//! Everything comes from `Ring::snapshot()`, which reads shared memory and
//! queries lease locks without taking any: observing never slows the ring.

mod discover;
mod json;
mod prometheus;
mod prometheus_entries;
mod serve;
mod table;

use crate::probe;
use crate::roles::Target;
use crate::CmdResult;
use discover::{Limits, Sources, DEFAULT_LIMITS};
use disruptor_mp::layout::{Layout, FLAG_NO_HOT_COUNTERS, FLAG_PACKED};
use disruptor_mp::{ConsumerStatus, ProducerMode, Snapshot};
use json::json;
use prometheus::Exposition;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;
use table::table;

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
    /// With --prometheus: every ring in /dev/shm (or --dir) in one
    /// exposition, labelled by file name.
    #[arg(long, requires = "prometheus", conflicts_with_all = ["name", "file"])]
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
    /// One JSON object (with --watch: one per refresh, one per line).
    #[arg(long, conflicts_with = "prometheus")]
    json: bool,
    /// The Prometheus text exposition format (for node-exporter's textfile
    /// collector).
    #[arg(long, conflicts_with = "watch")]
    prometheus: bool,
}

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
        let e = discover::exposition(&Sources::Dir(dir()), limits)?;
        return emit(&mut out, &e.render());
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
            let mut e = Exposition::default();
            e.add_ring(&label, &ring, &snap);
            e.render()
        } else if a.json {
            json(&label, &ring, &snap, None)? + "\n"
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
            json(&label, &ring, &cur, Some(&r))? + "\n"
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

pub(super) fn layout_word(l: &Layout) -> &'static str {
    if l.params.flags & FLAG_PACKED != 0 {
        "packed"
    } else {
        "stamped"
    }
}

pub(super) fn mode_word(l: &Layout) -> &'static str {
    match l.params.producer_mode {
        ProducerMode::Single => "single",
        ProducerMode::Multi => "multi",
    }
}

pub(super) fn hot_counters(l: &Layout) -> bool {
    l.params.flags & FLAG_NO_HOT_COUNTERS == 0
}

/// The gating consumer holding the producers back, if it lags at all.
pub(super) fn held_back_by(s: &Snapshot) -> Option<&ConsumerStatus> {
    s.slowest().filter(|c| c.lag > 0)
}
