//! `dmp rm`: remove one ring's name (refusing a live ring without
//! `--force`, and every file that is not a ring), or every stale ring of a
//! directory (`--stale`), saying which processes still use a ring removed
//! while live.

use crate::exit::{Code, Failure};
use crate::probe::{self, ring_state, Probe};
use crate::roles::Target;
use crate::unlinked;
use crate::CmdResult;
use disruptor_mp::{Location, Ring, RingOptions};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct RmArgs {
    /// Ring name (a shm name), or a path with --file.
    #[arg(required_unless_present = "stale")]
    name: Option<String>,
    /// Treat NAME as a file path instead of a shm name.
    #[arg(long, requires = "name")]
    file: bool,
    /// Remove the ring even if live processes use it (they keep their
    /// mapping until they exit), or if it is damaged but carries the ring
    /// magic. A file that is not a ring is never removed.
    #[arg(long, conflicts_with = "stale")]
    force: bool,
    /// Every stale ring of /dev/shm (or --dir): used once, no live lease
    /// now; each is checked and removed under its registry lock, so a
    /// participant attaching meanwhile keeps it. Never-used rings stay.
    #[arg(long, conflicts_with = "name")]
    stale: bool,
    /// With --stale: the directory to clean.
    #[arg(long, requires = "stale")]
    dir: Option<PathBuf>,
}

pub fn rm(a: &RmArgs) -> CmdResult {
    let Some(name) = &a.name else {
        return rm_stale(&a.dir.clone().unwrap_or_else(|| PathBuf::from("/dev/shm")));
    };
    let target = Target {
        name: name.clone(),
        file: a.file,
    };
    let loc = target.location();
    let path = loc.path()?;
    let refused = |m: String| Err(Failure::new(Code::Refused, m).into());
    match probe::probe(&loc)? {
        Probe::NotRing(why) => {
            return Err(Failure::new(
                Code::NotARing,
                format!(
                    "{} is not a disruptor-mp segment ({why}); not removing it",
                    path.display()
                ),
            )
            .into())
        }
        Probe::Initialising(st) if !a.force => {
            return refused(format!(
                "{}; not removing it without --force",
                probe::not_ready(&path, st)
            ))
        }
        Probe::Unusable(e) if !a.force => {
            return refused(format!(
                "{} cannot be used as a ring: {e}; not removing it without --force",
                path.display()
            ))
        }
        Probe::Initialising(_) | Probe::Unusable(_) => {}
        Probe::Ring(ring) => {
            // This process lets go of it before the library looks who
            // still uses it (and refuses a live ring without --force).
            drop(ring);
            let ino = std::fs::metadata(&path)?.ino();
            let live = match Ring::remove(&loc, a.force) {
                Ok(live) => live,
                Err(e @ disruptor_mp::Error::RingInUse { .. }) => return refused(e.to_string()),
                Err(e) => return Err(e.into()),
            };
            if live.is_empty() {
                println!("removed {}", path.display());
            } else {
                println!(
                    "removed {} (live participants keep it until they exit: {})",
                    path.display(),
                    live.join(", ")
                );
                still_used(&path, ino);
            }
            return Ok(());
        }
    }
    Ring::unlink(&loc)?;
    println!("removed {}", path.display());
    Ok(())
}

/// After removing a live ring: the processes that still use it, as
/// `dmp ls` lists them (state "unlinked").
fn still_used(path: &Path, ino: u64) {
    let Some(dir) = path.parent() else { return };
    for u in unlinked::scan(dir) {
        if u.ino == ino && u.path.file_name() == path.file_name() {
            println!(
                "still used by {} (`dmp ls` lists it as unlinked until they exit)",
                u.who()
            );
        }
    }
}

/// `--stale`: removes each stale ring of `dir`, printing it; counts what
/// it kept.
fn rm_stale(dir: &Path) -> CmdResult {
    let mut removed = 0;
    let mut kept = Vec::new();
    for (name, what) in probe::probe_dir(dir)? {
        let Ok(Probe::Ring(ring)) = what else {
            continue;
        };
        match ring_state(&ring, &ring.snapshot()) {
            "stale" => {}
            state => {
                kept.push(format!("{name} ({state})"));
                continue;
            }
        }
        drop(ring);
        // Checked again and removed under the registry lock: a participant
        // attaching after the look above keeps the ring.
        let loc = Location::file(dir.join(&name));
        let gone = Ring::open(&loc, &RingOptions::new()).and_then(|r| r.unlink_if_stale());
        match gone {
            Ok(true) => {
                removed += 1;
                println!("removed {} (stale)", dir.join(&name).display());
            }
            Ok(false) => kept.push(format!("{name} (live now)")),
            Err(e) => return Err(Failure::context(dir.join(&name).display(), e).into()),
        }
    }
    // Wake-up directories whose ring is gone (removed with a plain rm).
    for (path, gone) in Ring::sweep_wake_dirs(dir)? {
        match gone {
            Ok(true) => println!("removed {} (wake-up directory of no ring)", path.display()),
            Ok(false) => kept.push(format!(
                "{} (sockets of live consumers of a removed ring)",
                path.display()
            )),
            Err(e) => return Err(Failure::context(path.display(), e).into()),
        }
    }
    println!(
        "{removed} stale ring{} removed from {}{}",
        if removed == 1 { "" } else { "s" },
        dir.display(),
        if kept.is_empty() {
            String::new()
        } else {
            format!("; kept {}", kept.join(", "))
        }
    );
    Ok(())
}
