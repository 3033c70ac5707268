//! A segment's wake-up directory over its life (src/sys/wake_dir.rs says
//! what it is): made by the ring's creator, before the segment gets its
//! name, for rings with wake-ups; removed with the segment's name.

use crate::error::{Error, Result};
use crate::sys;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Removes a directory made for a segment that never got its name.
pub struct DirGuard(Option<PathBuf>);

impl DirGuard {
    /// The segment got its name: the directory stays.
    pub fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for DirGuard {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = sys::remove_wake_dir(&dir, true);
        }
    }
}

/// Registers the segment being created at `path` (open as `file`, its
/// group and mode set) and, with `eager`, makes its wake-up directory, so
/// that it belongs to the ring's owner. A directory already there with
/// this token is a dead ring's whose inode number the new file reuses
/// (no live file has it): it is removed first.
pub fn prepare(file: &File, path: &Path, eager: bool) -> Result<(sys::WakeRing, DirGuard)> {
    let meta = file.metadata().map_err(|e| Error::io("stat", path, e))?;
    let ring = sys::WakeRing::register(path, &meta)
        .map_err(|e| Error::io("find the wake-up directory of", path, e))?;
    if !eager {
        return Ok((ring, DirGuard(None)));
    }
    let dir = ring.dir().to_path_buf();
    let fail = |op, e| Error::Io {
        op,
        path: dir.clone(),
        source: e,
    };
    sys::remove_wake_dir(&dir, true).map_err(|e| fail("remove the stale wake-up directory", e))?;
    sys::ensure_wake_dir(&dir, &meta).map_err(|e| fail("make the wake-up directory", e))?;
    Ok((ring, DirGuard(Some(dir))))
}

/// The wake-up directory of the segment named `path` now, if it is one.
pub fn dir_of_name(path: &Path) -> Option<PathBuf> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    sys::wake_dir_of(path, sys::ring_token(&meta)).ok()
}

/// Removes a removed segment's wake-up directory: the sockets no live
/// consumer holds, and the directory once empty (the last live consumer
/// of the removed ring removes it otherwise). Best effort: the segment's
/// name is gone already, and `dmp rm --stale` sweeps what is left.
pub fn remove(dir: Option<PathBuf>) {
    if let Some(dir) = dir {
        let _ = sys::remove_wake_dir(&dir, false);
    }
}
