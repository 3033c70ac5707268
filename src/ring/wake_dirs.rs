//! The wake-up directories of a file-system directory, for the operator
//! tools: telling them from rings (`dmp ls`) and sweeping those whose ring
//! is gone (`dmp rm --stale`). See docs/OPERATIONS.md, "Files on disk".

use super::Ring;
use crate::error::{Error, Result};
use crate::sys;
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

impl Ring {
    /// Whether `name` is the name of a ring's wake-up directory
    /// (`.<ring file name>.dmp-wake.<token>`).
    pub fn is_wake_dir(name: &OsStr) -> bool {
        sys::parse_wake_dir_name(name).is_some()
    }

    /// The wake-up directories of `dir` whose ring is gone: no file of
    /// `dir` has their name and token (the ring was removed with a plain
    /// `rm`, or its last consumer crashed after the ring was removed).
    pub fn orphan_wake_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))?;
        let names: Vec<OsString> = entries.flatten().map(|e| e.file_name()).collect();
        let expected: HashSet<OsString> = names
            .iter()
            .filter(|n| !Ring::is_wake_dir(n))
            .filter_map(|n| {
                let meta = std::fs::symlink_metadata(dir.join(n)).ok()?;
                meta.is_file()
                    .then(|| sys::wake_dir_name(n, sys::ring_token(&meta)))
            })
            .collect();
        Ok(names
            .iter()
            .filter(|n| Ring::is_wake_dir(n) && !expected.contains(*n))
            .map(|n| dir.join(n))
            .collect())
    }

    /// Removes the orphaned wake-up directories of `dir`
    /// ([`Ring::orphan_wake_dirs`]). Sockets still held by a live consumer
    /// of a removed ring are kept, and so is their directory. Returns each
    /// orphan and whether it is gone (`Ok(false)`: live sockets kept it),
    /// or why it could not be removed.
    pub fn sweep_wake_dirs(dir: &Path) -> Result<Vec<(PathBuf, Result<bool>)>> {
        Ok(Ring::orphan_wake_dirs(dir)?
            .into_iter()
            .map(|path| {
                let gone = sys::remove_wake_dir(&path, false).map_err(|source| Error::Io {
                    op: "remove the wake-up directory",
                    path: path.clone(),
                    source,
                });
                (path, gone)
            })
            .collect())
    }
}
