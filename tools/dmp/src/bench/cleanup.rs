//! The rings, shared-memory files and sockets a run creates: unique
//! names, and their removal when the workload ends, failed or not.

use super::floor::ShmFile;
use super::BoxResult;
use disruptor_mp::{Location, Ring, RingOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Names this process creates: unique per process and per workload.
pub(super) fn unique(kind: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "dmp-{kind}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Removes every ring, file and socket it was given when dropped, also
/// when the workload failed.
#[derive(Default)]
pub(crate) struct Cleanup {
    rings: Vec<Location>,
    files: Vec<PathBuf>,
}

impl Cleanup {
    /// Creates a ring and takes charge of removing it.
    pub(crate) fn ring(&mut self, name: &str, options: &RingOptions) -> BoxResult<()> {
        let loc = Location::shm(name);
        Ring::create(&loc, options)?;
        self.rings.push(loc);
        Ok(())
    }

    /// Creates a zeroed shared-memory file and takes charge of removing it.
    pub(super) fn shm_file(&mut self, path: &Path, len: usize) -> BoxResult<()> {
        ShmFile::create(path, len)?;
        self.files.push(path.into());
        Ok(())
    }

    /// Takes charge of removing `path` (a socket a worker will bind).
    pub(super) fn path(&mut self, path: &Path) {
        self.files.push(path.into());
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for loc in &self.rings {
            if let Err(e) = Ring::unlink(loc) {
                eprintln!("bench: could not remove ring {loc}: {e}");
            }
        }
        for path in &self.files {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => eprintln!("bench: could not remove {}: {e}", path.display()),
            }
        }
    }
}
