//! `dmp stat --watch`: a refresh every interval with rates and what moved
//! since the refresh before, noticing when the name stops naming the
//! segment being watched: removed (the participants still attached keep
//! the old segment, which goes on being shown), or removed and created
//! again (the new ring is opened and shown from then on, and the change
//! is said). A segment is told apart by its inode and device and by the
//! creation time in its header.

use super::activity::Looks;
use super::table::{table, View};
use super::{emit, json::json, rates, StatArgs};
use crate::columns;
use crate::probe::{self, fmt_utc};
use crate::roles::Target;
use crate::CmdResult;
use disruptor_mp::layout::{self, field, HEADER_SIZE};
use disruptor_mp::Ring;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

/// Which segment a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    created_at_ns: u64,
}

/// The identity of the segment at `path` now; None: no such file.
fn identity(path: &Path) -> std::io::Result<Option<Identity>> {
    match probe::read_head(path) {
        Ok((head, meta)) => Ok(Some(Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            created_at_ns: if head.len() >= HEADER_SIZE as usize {
                layout::get_u64(&head, field::CREATED_AT_NS)
            } else {
                0
            },
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) fn run(
    a: &StatArgs,
    label: &str,
    target: &Target,
    mut ring: Ring,
    out: &mut impl std::io::Write,
) -> CmdResult {
    let interval = Duration::from_millis(a.interval_ms.unwrap_or(1000));
    let clear = !a.json && std::io::stdout().is_terminal();
    let path = ring.path().to_path_buf();
    let mut watched = identity(&path)?;
    let mut prev = ring.snapshot();
    let mut n = 0u64;
    while a.count.is_none_or(|c| n < c) {
        std::thread::sleep(interval);
        n += 1;
        // What the name names now.
        let now = identity(&path)?;
        let mut news = None;
        let mut fresh = false;
        if now != watched {
            match now {
                None => {
                    news = Some(format!(
                        "{label}: removed: {} no longer exists; showing the removed segment (still mapped by its participants)",
                        path.display()
                    ));
                }
                Some(id) => {
                    let created = fmt_utc(id.created_at_ns);
                    news = Some(format!(
                        "{label}: removed and created again (inode {} -> {}, created {created}); showing the new ring",
                        watched.map_or("-".into(), |w| w.ino.to_string()),
                        id.ino
                    ));
                    ring = probe::open_ring(&target.location())?;
                    prev = ring.snapshot();
                    fresh = true;
                }
            }
            watched = now;
        }
        let cur = ring.snapshot();
        let r = rates(&prev, &cur);
        let looks = Looks::between(&prev, &cur);
        let (r, looks) = if fresh {
            (None, None)
        } else {
            (Some(&r), Some(&looks))
        };
        let text = if a.json {
            if let Some(m) = &news {
                eprintln!("dmp stat: {m}");
            }
            json(label, &ring, &cur, r)? + "\n"
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
                fmt_utc(cur.taken_at_ns)
            );
            if let Some(m) = &news {
                let _ = writeln!(t, "{m}");
            } else if watched.is_none() {
                let _ = writeln!(t, "{label}: removed; showing the removed segment");
            }
            t + &table(&View {
                label,
                ring: &ring,
                snap: &cur,
                rates: r,
                looks,
                width: columns::width(a.wide),
            })
        };
        emit(out, &text)?;
        prev = cur;
    }
    Ok(())
}
