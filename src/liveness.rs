//! Leases and the registry lock: kernel-backed ownership that dies with its
//! process.
//!
//! Both are OFD byte-range locks on the segment file (`F_OFD_SETLK`): the
//! kernel drops them when the holder's open file description closes, which
//! happens when the process exits or is killed, so a dead process can never
//! look alive, whatever PID reuse happens. The locked bytes are documented
//! in docs/FORMAT.md; the lock does not restrict access to the data.

use crate::error::{Error, Result};
use crate::layout::LOCK_REGISTRY;
use crate::segment::Segment;
use crate::sys::{self, LockKind};
use std::fs::File;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

/// How long registration waits for another process's table change.
pub const REGISTRY_TIMEOUT: Duration = Duration::from_secs(10);

/// A participant's lease on one lock byte, held while the value lives.
#[derive(Debug)]
pub struct Lease {
    file: File,
    byte: u64,
}

impl Lease {
    /// Takes the lease on `byte`, or returns `None` if a live process holds
    /// it. The lease uses its own open file description, so two participants
    /// in one process hold independent leases.
    pub fn try_acquire(segment: &Segment, byte: u64) -> Result<Option<Lease>> {
        let file =
            sys::reopen(segment.file()).map_err(|e| Error::io("reopen", segment.path(), e))?;
        match sys::try_lock(&file, byte, LockKind::Exclusive) {
            Ok(true) => Ok(Some(Lease { file, byte })),
            Ok(false) => Ok(None),
            Err(e) => Err(Error::io("lock", segment.path(), e)),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let _ = sys::unlock(&self.file, self.byte);
    }
}

/// Exclusive right to change the participant tables of a segment, across
/// threads (a process-local mutex) and processes (an OFD lock).
pub struct RegistryGuard<'a> {
    file: File,
    _local: MutexGuard<'a, ()>,
}

impl Drop for RegistryGuard<'_> {
    fn drop(&mut self) {
        let _ = sys::unlock(&self.file, LOCK_REGISTRY);
    }
}

/// Takes the registry lock of `segment`, waiting at most `REGISTRY_TIMEOUT`.
pub fn lock_registry(segment: &Segment) -> Result<RegistryGuard<'_>> {
    let local = segment
        .registry_mutex()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let file = sys::reopen(segment.file()).map_err(|e| Error::io("reopen", segment.path(), e))?;
    let start = Instant::now();
    let mut pause = Duration::from_micros(50);
    loop {
        match sys::try_lock(&file, LOCK_REGISTRY, LockKind::Exclusive) {
            Ok(true) => {
                return Ok(RegistryGuard {
                    file,
                    _local: local,
                })
            }
            Ok(false) if start.elapsed() < REGISTRY_TIMEOUT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(5));
            }
            Ok(false) => {
                return Err(Error::Timeout {
                    what: format!("the registry lock of {}", segment.path().display()).into(),
                    waited: REGISTRY_TIMEOUT,
                })
            }
            Err(e) => return Err(Error::io("lock", segment.path(), e)),
        }
    }
}
