//! Which rings an exposition of several rings covers (`dmp stat --all
//! --prometheus`, and every scrape of `--serve`): the files of a directory,
//! found afresh each time, or the rings named on the command line; and the
//! bound on the work of one exposition (a number of files and a time).

use super::prometheus::Exposition;
use crate::probe;
use disruptor_mp::Location;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where the rings are.
pub(super) enum Sources {
    /// Every file of a directory (read again for each exposition), each
    /// labelled by its file name.
    Dir(PathBuf),
    /// These rings, each labelled as given (a missing one is reported as
    /// down, state `missing`).
    Named(Vec<(String, Location)>),
}

/// The bound on one exposition: past either limit the remaining files are
/// not opened, `dmp_scrape_skipped_files` counts them and a comment says
/// which limit was hit.
#[derive(Clone, Copy)]
pub(super) struct Limits {
    pub(super) max_rings: usize,
    pub(super) budget: Duration,
}

/// The default limits: 1000 rings, 5 s (well inside Prometheus's default
/// 10 s scrape timeout; 100 rings take milliseconds, OPERATIONS.md).
pub(super) const DEFAULT_LIMITS: Limits = Limits {
    max_rings: 1000,
    budget: Duration::from_secs(5),
};

/// The exposition of every ring of `sources`, within `limits`, with the
/// scrape's own metrics.
pub(super) fn exposition(sources: &Sources, limits: Limits) -> Result<Exposition, String> {
    let start = Instant::now();
    let mut e = Exposition::default();
    let targets: Vec<(String, Location)> = match sources {
        Sources::Named(n) => n.clone(),
        Sources::Dir(dir) => {
            let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            // As `dmp ls`: the rings' wake-up directories are not files to
            // look at (only orphans are).
            probe::listed(dir, entries)
                .into_iter()
                .map(|n| (n.clone(), Location::file(dir.join(n))))
                .collect()
        }
    };
    let mut rings = 0;
    let mut skipped = 0;
    for (i, (label, loc)) in targets.iter().enumerate() {
        let limit = if rings >= limits.max_rings {
            Some(format!("the limit of {} rings", limits.max_rings))
        } else if start.elapsed() >= limits.budget {
            Some(format!("the time limit of {:?}", limits.budget))
        } else {
            None
        };
        if let Some(limit) = limit {
            skipped = targets.len() - i;
            e.comment(&format!(
                "stopped at {limit}: {skipped} files not looked at, from {label}"
            ));
            break;
        }
        let probed = probe::probe(loc);
        // A file that vanished between the listing and the look is gone,
        // not down; a ring named on the command line that is missing is.
        if matches!(sources, Sources::Dir(_))
            && matches!(probed, Err(disruptor_mp::Error::NotFound { .. }))
        {
            continue;
        }
        if e.add_probed(label, probed) {
            rings += 1;
        }
    }
    e.add_scrape(rings, skipped, start.elapsed().as_secs_f64());
    Ok(e)
}
