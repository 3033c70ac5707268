//! A segment's wake-up directory over its life (src/sys/wake_dir.rs says
//! what it is): made by the ring's creator right after the segment gets
//! its name, for rings with wake-ups (so a creator that dies earlier
//! leaves nothing); removed with the segment's name.

use crate::error::{Error, Result};
use crate::sys;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Registers the segment being created at `path` (open as `file`, its
/// group and mode set, not yet named) and, with `eager`, removes a
/// directory already there with its token: a dead ring's whose inode
/// number the new file reuses (no live file has it, and nobody can know
/// the token before the segment is named, short of guessing the inode
/// number). Best effort: one that cannot be removed (another user's, in
/// sticky `/dev/shm`) does not stop the creation; consumers then refuse
/// it, naming it (`sys::ensure_wake_dir`).
pub fn prepare(file: &File, path: &Path, eager: bool) -> Result<sys::WakeRing> {
    let meta = file.metadata().map_err(|e| Error::io("stat", path, e))?;
    let ring = sys::WakeRing::register(path, &meta)
        .map_err(|e| Error::io("find the wake-up directory of", path, e))?;
    if eager {
        let _ = sys::remove_wake_dir(ring.dir(), true);
    }
    Ok(ring)
}

/// Makes the wake-up directory of a ring just named, so that it belongs
/// to the ring's owner. Best effort: a creator killed before this, or a
/// failure here, leaves the first consumer to bind to make it (and a
/// consumer that bound in between has made it already).
pub fn make(file: &File, ring: &sys::WakeRing) {
    if let Ok(meta) = file.metadata() {
        let _ = sys::ensure_wake_dir(ring.dir(), &meta);
    }
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
