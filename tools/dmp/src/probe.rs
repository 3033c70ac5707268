//! What the observing commands (`stat`, `inspect`, `ls`, `rm`) share:
//! telling a ring from any other file without trusting it, naming the live
//! participants of a ring, and formatting times and counts (rates and
//! ages: `format.rs`).

use crate::exit::{Code, Failure};
use disruptor_mp::layout::{self, state, HEADER_SIZE, MAGIC, STATE_OFFSET, STATE_READY};
use disruptor_mp::{Error, Location, Ring, RingOptions, Snapshot};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// What a file turned out to be.
pub enum Probe {
    /// A ring that opened and validated.
    Ring(Box<Ring>),
    /// Not a disruptor-mp segment at all (no magic, or not a regular file).
    NotRing(String),
    /// Starts with the magic but its state word is not "ready": a creator
    /// still building it (not under its final name, normally) or one that
    /// died doing so, or a segment from something else that looks alike.
    Initialising(u32),
    /// Starts with the magic but cannot be used (corrupt, truncated, another
    /// format version).
    Unusable(Error),
}

/// The first bytes of a file (at most the header), read without following
/// a symbolic link.
pub fn read_head(path: &Path) -> std::io::Result<(Vec<u8>, std::fs::Metadata)> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    let mut head = Vec::with_capacity(HEADER_SIZE as usize);
    if meta.is_file() {
        file.take(HEADER_SIZE).read_to_end(&mut head)?;
    }
    Ok((head, meta))
}

/// Looks at the file behind `loc`. Errors only when the file cannot be
/// looked at (missing, permissions); every kind of content is a `Probe`.
pub fn probe(loc: &Location) -> Result<Probe, Error> {
    let path = loc.path()?;
    let (head, meta) = read_head(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound { path: path.clone() },
        std::io::ErrorKind::PermissionDenied => Error::PermissionDenied { path: path.clone() },
        _ => Error::Io {
            op: "open",
            path: path.clone(),
            source: e,
        },
    })?;
    if meta.is_dir() && path.file_name().is_some_and(Ring::is_wake_dir) {
        return Ok(Probe::NotRing(
            "a ring's wake-up directory (docs/OPERATIONS.md, \"Files on disk\")".into(),
        ));
    }
    if !meta.is_file() {
        return Ok(Probe::NotRing("not a regular file".into()));
    }
    if head.len() < MAGIC.len() || head[..MAGIC.len()] != MAGIC {
        return Ok(Probe::NotRing(if head.is_empty() {
            "empty file".into()
        } else {
            "no ring magic".into()
        }));
    }
    if head.len() >= STATE_OFFSET + 4 {
        let st = layout::get_u32(&head, STATE_OFFSET);
        if st != STATE_READY {
            return Ok(Probe::Initialising(st));
        }
    }
    // An observer's open: O_RDONLY, mapped PROT_READ, so looking at a ring
    // needs only read permission and can never change it.
    match Ring::open(loc, &RingOptions::new().read_only(true)) {
        Ok(ring) => Ok(Probe::Ring(Box::new(ring))),
        Err(e @ (Error::NotFound { .. } | Error::PermissionDenied { .. } | Error::Io { .. })) => {
            Err(e)
        }
        Err(Error::NotASegment { .. }) => Ok(Probe::NotRing("no ring magic".into())),
        Err(e) => Ok(Probe::Unusable(e)),
    }
}

/// The names of `dir`'s entries that may be rings, sorted: a ring's
/// wake-up directory is part of the ring, so only orphans (whose ring is
/// gone) are listed.
pub fn listed(dir: &Path, entries: std::fs::ReadDir) -> Vec<String> {
    let orphans = Ring::orphan_wake_dirs(dir).unwrap_or_default();
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| !Ring::is_wake_dir(&e.file_name()) || orphans.contains(&e.path()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A file of a directory by name, and what it turned out to be.
pub type Probed = (String, Result<Probe, Error>);

/// Every file of `dir`, sorted by name, with what it turned out to be.
pub fn probe_dir(dir: &Path) -> Result<Vec<Probed>, Failure> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        let code = match e.kind() {
            std::io::ErrorKind::NotFound => Code::NotFound,
            std::io::ErrorKind::PermissionDenied => Code::Refused,
            _ => Code::Other,
        };
        Failure::new(code, format!("{}: {e}", dir.display()))
    })?;
    Ok(listed(dir, entries)
        .into_iter()
        .map(|name| {
            let what = probe(&Location::file(dir.join(&name)));
            (name, what)
        })
        .collect())
}

/// Opens the ring behind `loc`, or fails with a message naming the file
/// and what is wrong with it.
pub fn open_ring(loc: &Location) -> Result<Ring, Box<dyn std::error::Error>> {
    let path = loc.path()?;
    let not_a_ring = |m: String| Err(Failure::new(Code::NotARing, m).into());
    match probe(loc)? {
        Probe::Ring(ring) => Ok(*ring),
        Probe::NotRing(why) => not_a_ring(format!(
            "{} is not a disruptor-mp segment ({why})",
            path.display()
        )),
        Probe::Initialising(st) => not_a_ring(not_ready(&path, st)),
        Probe::Unusable(e) => {
            not_a_ring(format!("{} cannot be used as a ring: {e}", path.display()))
        }
    }
}

/// The message for a segment whose state word is not "ready".
pub fn not_ready(path: &Path, st: u32) -> String {
    format!(
        "{} is not a usable ring: its state word is {st}, not {STATE_READY} (ready): it is still being initialised, or its creator died doing so",
        path.display()
    )
}

/// One live participant of a ring.
pub fn live_participants(s: &Snapshot) -> Vec<String> {
    s.live_participants()
}

/// A ring's state as `dmp ls` names it: "live" (some participant's lease
/// is held), "stale" (`Ring::is_stale`: used once, no lease held; what
/// `rm --stale` and `--reclaim-stale` remove) or "unused" (nothing ever
/// attached, no lease held).
pub fn ring_state(ring: &Ring, s: &Snapshot) -> &'static str {
    if s.producers.iter().any(|p| p.alive) || s.consumers.iter().any(|c| c.alive) {
        "live"
    } else if ring.is_stale().unwrap_or(false) {
        "stale"
    } else if s.attaches == 0 {
        "unused"
    } else {
        // Not stale, though nobody was alive a moment ago: someone
        // attached since (or the lease could not be queried).
        "live"
    }
}

/// The display name of an entry state.
pub fn state_name(s: u32) -> &'static str {
    match s {
        state::FREE => "free",
        state::JOINING => "joining",
        state::ACTIVE => "active",
        state::LEFT => "left",
        state::EVICTED => "evicted",
        _ => "invalid",
    }
}

/// Liveness as a word: "yes", "dead" (holds an entry it never left), or
/// "no" (left).
pub fn alive_word(alive: bool, st: u32) -> &'static str {
    match (alive, st) {
        (true, _) => "yes",
        (false, state::ACTIVE | state::JOINING) => "dead",
        (false, _) => "no",
    }
}

/// Seconds since `ns` (Unix epoch ns) at `now_ns`; `None` for "never".
pub fn age_s(ns: u64, now_ns: u64) -> Option<f64> {
    (ns != 0).then(|| now_ns.saturating_sub(ns) as f64 / 1e9)
}

/// Digits grouped by thousands: 10000000 -> "10,000,000".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A Unix time in ns as "YYYY-MM-DD HH:MM:SS UTC".
pub fn fmt_utc(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let (days, rem) = (secs / 86400, secs % 86400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Mean events per batch, if any batch was counted.
pub fn mean_batch(events: u64, batches: u64) -> Option<f64> {
    (batches > 0).then(|| events as f64 / batches as f64)
}

/// A plain-text table: columns sized to their widest cell, numbers
/// right-aligned.
pub struct Table {
    head: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers; a header starting with `>` is
    /// right-aligned (the `>` is not printed).
    pub fn new(head: &[&'static str]) -> Table {
        Table {
            head: head.iter().map(|h| h.trim_start_matches('>')).collect(),
            right: head.iter().map(|h| h.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (as many cells as headers).
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.head.len());
        self.rows.push(cells);
    }

    /// Renders the table, each line indented by `indent`.
    pub fn render(&self, indent: &str, out: &mut String) {
        let widths: Vec<usize> = (0..self.head.len())
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain([self.head[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<&str>, out: &mut String| {
            let mut l = String::from(indent);
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    l.push_str("  ");
                }
                let pad = widths[i].saturating_sub(c.chars().count());
                if self.right[i] {
                    l.extend(std::iter::repeat_n(' ', pad));
                    l.push_str(c);
                } else {
                    l.push_str(c);
                    l.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(l.trim_end());
            out.push('\n');
        };
        line(self.head.clone(), out);
        for r in &self.rows {
            line(r.iter().map(String::as_str).collect(), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(fmt_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(
            fmt_utc(951_782_400 * 1_000_000_000),
            "2000-02-29 00:00:00 UTC"
        );
        assert_eq!(
            fmt_utc(1_795_000_000 * 1_000_000_000 + 5),
            "2026-11-18 11:06:40 UTC"
        );
    }

    #[test]
    fn counts() {
        assert_eq!(grouped(10_000_000), "10,000,000");
        assert_eq!(grouped(999), "999");
    }
}
