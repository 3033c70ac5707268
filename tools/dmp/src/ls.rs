//! `dmp ls`: the rings of a directory with their state, as a table that
//! fits the screen or as JSON (`--json`, the fields docs/OPERATIONS.md
//! lists), and the unlinked rings processes still use.

use crate::columns::{self, FitTable, ALWAYS, NOTE};
use crate::probe::{self, grouped, ring_state, Probe};
use crate::stat::{layout_word, liveness, mode_word};
use crate::unlinked;
use crate::CmdResult;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct LsArgs {
    /// Directory to list (file-backed rings live wherever they were
    /// created).
    #[arg(long, default_value = "/dev/shm")]
    dir: PathBuf,
    /// Every file, also those that are not rings or cannot be read (as in
    /// `dmp stat --all`).
    #[arg(long)]
    all: bool,
    /// One JSON array of objects, one per row (fields: docs/OPERATIONS.md).
    #[arg(long)]
    json: bool,
    /// Every table column, however wide.
    #[arg(long)]
    wide: bool,
}

/// A consumer holding a ring back.
#[derive(Serialize)]
struct HeldBack {
    name: String,
    index: u32,
    pid: u32,
    liveness: &'static str,
}

/// A process still using an unlinked ring.
#[derive(Serialize)]
struct Process {
    pid: u32,
    command: String,
}

/// One row of `dmp ls`, in `--json` field order. The fields a row's
/// state has no value for are null.
#[derive(Serialize, Default)]
struct Entry {
    name: String,
    path: String,
    state: &'static str,
    note: Option<String>,
    capacity: Option<u64>,
    slot_size: Option<u64>,
    layout: Option<&'static str>,
    producer_mode: Option<&'static str>,
    producers: Option<usize>,
    producers_alive: Option<usize>,
    consumers: Option<usize>,
    consumers_alive: Option<usize>,
    lag: Option<i64>,
    held_back_by: Option<HeldBack>,
    inode: Option<u64>,
    processes: Vec<Process>,
}

fn entries(a: &LsArgs) -> Result<Vec<Entry>, Box<dyn std::error::Error>> {
    let mut rows = Vec::new();
    for (name, what) in probe::probe_dir(&a.dir)? {
        let path = a.dir.join(&name).display().to_string();
        let plain = |state, note: String| Entry {
            name: name.clone(),
            path: path.clone(),
            state,
            note: Some(note),
            ..Entry::default()
        };
        rows.push(match what {
            Err(e) if a.all => plain("unreadable", e.to_string()),
            Ok(Probe::NotRing(why)) if a.all => plain("not a ring", why),
            Err(_) | Ok(Probe::NotRing(_)) => continue,
            Ok(Probe::Initialising(st)) => plain("initialising", format!("state word {st}")),
            Ok(Probe::Unusable(e)) => plain("unusable", e.to_string()),
            Ok(Probe::Ring(ring)) => {
                let s = ring.snapshot();
                let l = ring.layout();
                let held = s.slowest().filter(|c| c.lag > 0);
                Entry {
                    name: name.clone(),
                    path: path.clone(),
                    state: ring_state(&ring, &s),
                    note: held.map(|c| {
                        format!("held back by '{}' ({})", c.name, liveness(c.alive, c.state))
                    }),
                    capacity: Some(l.params.capacity),
                    slot_size: Some(l.params.slot_size),
                    layout: Some(layout_word(l)),
                    producer_mode: Some(mode_word(l)),
                    producers: Some(s.producers.len()),
                    producers_alive: Some(s.producers.iter().filter(|p| p.alive).count()),
                    consumers: Some(s.consumers.len()),
                    consumers_alive: Some(s.consumers.iter().filter(|c| c.alive).count()),
                    lag: s.slowest().map(|c| c.lag),
                    held_back_by: held.map(|c| HeldBack {
                        name: c.name.clone(),
                        index: c.index,
                        pid: c.pid,
                        liveness: liveness(c.alive, c.state),
                    }),
                    ..Entry::default()
                }
            }
        });
    }
    for u in unlinked::scan(&a.dir) {
        rows.push(Entry {
            name: u
                .path
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
            path: u.path.display().to_string(),
            state: "unlinked",
            note: Some(format!("still used by {}", u.who())),
            inode: Some(u.ino),
            processes: u
                .processes
                .iter()
                .map(|(pid, command)| Process {
                    pid: *pid,
                    command: command.clone(),
                })
                .collect(),
            ..Entry::default()
        });
    }
    Ok(rows)
}

pub fn ls(a: &LsArgs) -> CmdResult {
    let rows = entries(a)?;
    if a.json {
        println!("{}", serde_json::to_string(&rows)?);
        return Ok(());
    }
    let mut tab = FitTable::new(&[
        ("name", ALWAYS),
        ("state", ALWAYS),
        (">capacity", 5),
        (">slot", 3),
        ("layout", 1),
        ("mode", 2),
        (">producers", 7),
        (">consumers", 7),
        (">lag", 6),
        ("note", NOTE),
    ]);
    let dash = || "-".to_string();
    let of = |v: Option<u64>| v.map_or_else(dash, grouped);
    for e in &rows {
        let pair = |alive: Option<usize>, all: Option<usize>| match (alive, all) {
            (Some(a), Some(n)) => format!("{a}/{n}"),
            _ => dash(),
        };
        tab.row(vec![
            e.name.clone(),
            e.state.into(),
            of(e.capacity),
            e.slot_size.map_or_else(dash, |v| v.to_string()),
            e.layout.map_or_else(dash, String::from),
            e.producer_mode.map_or_else(dash, String::from),
            pair(e.producers_alive, e.producers),
            pair(e.consumers_alive, e.consumers),
            e.lag.map_or_else(dash, |v| grouped(v as u64)),
            e.note.clone().unwrap_or_default(),
        ]);
    }
    let mut t = String::new();
    if rows.is_empty() {
        let _ = writeln!(t, "no disruptor-mp rings in {}", a.dir.display());
    } else {
        tab.render("", columns::width(a.wide), &mut t);
        let _ = writeln!(t, "\nproducers/consumers: alive/registered.");
        let _ = writeln!(
            t,
            "live: a lease is held; stale: used once, no lease held; unused: never used"
        );
    }
    print!("{t}");
    Ok(())
}
