//! Segment lifecycle: exclusive create, open, open-or-create, unlink.
//!
//! Creation builds the whole segment in an unnamed file (`O_TMPFILE`, or a
//! hidden temporary name where the file system lacks it), reserves its
//! memory, writes the header and stores `state = READY`, and only then gives
//! it its name with `linkat`, which fails if the name exists. So exactly one
//! creator wins a race, and no process can ever open a half-initialised
//! segment: a name either does not exist or names a complete segment.

use crate::error::{Error, Result};
use crate::layout::{self, control, Layout, HEADER_SIZE, STATE_OFFSET, STATE_READY};
use crate::region::{Location, Mapping, Region};
use crate::sys;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often open-or-create retries after losing a creation race, whatever
/// its timeout.
const OPEN_OR_CREATE_RETRIES: u32 = 100;

#[cfg(test)]
pub(crate) mod scratch;
#[cfg(not(loom))]
mod wake;

/// A mapped, validated segment. Shared (`Arc`) by the ring, its producers
/// and consumers, so the mapping outlives every view into it.
#[derive(Debug)]
pub struct Segment {
    mapping: Mapping,
    layout: Layout,
    location: Location,
    registry: Mutex<()>,
    /// Where its wake-up sockets live (src/segment/wake.rs).
    #[cfg(not(loom))]
    wake: sys::WakeRing,
}

impl Segment {
    /// Creates a segment with permissions `mode` and, if given, owned by
    /// group `group` (set before the segment gets its name, so no one
    /// else's group ever sees it); fails with `AlreadyExists` if the name
    /// is taken.
    pub fn create(
        location: &Location,
        layout: Layout,
        mode: u32,
        group: Option<u32>,
    ) -> Result<Segment> {
        let path = location.path()?;
        if mode & !0o777 != 0 {
            return Err(Error::InvalidArgument(format!(
                "mode {mode:#o} has bits outside 0o777"
            )));
        }
        if mode & 0o600 != 0o600 {
            return Err(Error::InvalidArgument(format!(
                "mode {mode:#o} must let the owner read and write (0o600)"
            )));
        }
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let (file, temp_name) = open_unnamed(&dir, &path, mode)?;
        let cleanup = TempGuard(temp_name);
        if let Some(gid) = group {
            // Not through Error::io: "permission denied" alone would not
            // say that it is the group that was refused.
            std::os::unix::fs::fchown(&file, None, Some(gid)).map_err(|source| Error::Io {
                op: "give group ownership (chgrp) of",
                path: path.clone(),
                source,
            })?;
        }
        // Exact mode, whatever the umask.
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io("chmod", &path, e))?;
        if let Err(e) = sys::allocate(&file, layout.total_size) {
            return Err(match e.raw_os_error() {
                Some(libc::ENOSPC) | Some(libc::EFBIG) => Error::NoSpace {
                    path,
                    needed: layout.total_size,
                    free: sys::free_bytes(&dir),
                },
                _ => Error::io("reserve memory for", &path, e),
            });
        }
        #[cfg(not(loom))]
        let wake = wake::prepare(&file, &path, layout.params.wakeups())?;
        let mapping = Mapping::new(file, path.clone(), layout.total_size, true)?;
        let region = mapping.region();
        let pid = sys::pid();
        region.copy_in(
            0,
            &layout.encode_header(pid, sys::process_start_time(pid), sys::unix_time_ns()),
        );
        let ctl = layout.region(layout::RegionKind::Control).0;
        region
            .i64(ctl + control::CURSOR)
            .store(-1, Ordering::Relaxed);
        region
            .i64(ctl + control::CLAIM)
            .store(-1, Ordering::Relaxed);
        let (cons, _) = layout.region(layout::RegionKind::Consumers);
        for i in 0..u64::from(layout.params.max_consumers) {
            region
                .i64(cons + i * layout::CONSUMER_ENTRY_SIZE + layout::consumer_entry::SEQUENCE)
                .store(-1, Ordering::Relaxed);
        }
        crate::counters::Counters::new(region, &layout).describe();
        // Fault harness: the header is written, the segment not yet ready
        // nor linked under its name.
        crate::fault::fault_point!("segment.create");
        region
            .u32(STATE_OFFSET as u64)
            .store(STATE_READY, Ordering::Release);
        sys::link_open_file(mapping.file(), &path).map_err(|e| Error::io("create", &path, e))?;
        drop(cleanup);
        #[cfg(not(loom))]
        if layout.params.wakeups() {
            wake::make(mapping.file(), &wake);
        }
        Ok(Segment {
            mapping,
            layout,
            location: location.clone(),
            registry: Mutex::new(()),
            #[cfg(not(loom))]
            wake,
        })
    }

    /// Opens an existing segment, waiting up to `timeout` for it to appear.
    /// `Access::ReadWrite` falls back to read-only when this process may
    /// read the file but not write it (mode 0640 to its group, say), so an
    /// observer in any language can open it; attaching a participant to
    /// such a segment then fails with `Error::ReadOnly`.
    pub fn open(location: &Location, timeout: Duration, access: Access) -> Result<Segment> {
        let path = location.path()?;
        let start = Instant::now();
        let mut pause = Duration::from_micros(100);
        loop {
            let opened = match Segment::open_now(location, &path, access) {
                Err(e) if access == Access::ReadWrite && write_refused(&e) => {
                    Segment::open_now(location, &path, Access::ReadOnly)
                }
                other => other,
            };
            match opened {
                Err(Error::NotFound { .. }) if start.elapsed() < timeout => {
                    std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                Err(Error::NotFound { path }) if !timeout.is_zero() => {
                    return Err(Error::Timeout {
                        what: format!("segment {} to appear", path.display()).into(),
                        waited: timeout,
                    })
                }
                other => return other,
            }
        }
    }

    /// Opens the segment if it exists, creates it otherwise; waits at most
    /// `timeout` for a concurrent creator that won the race.
    pub fn open_or_create(
        location: &Location,
        layout: Layout,
        mode: u32,
        group: Option<u32>,
        timeout: Duration,
    ) -> Result<(Segment, bool)> {
        let path = location.path()?;
        let start = Instant::now();
        let mut lost_races = 0;
        loop {
            match Segment::open_now(location, &path, Access::ReadWrite) {
                Err(Error::NotFound { .. }) => {}
                other => return other.map(|s| (s, false)),
            }
            match Segment::create(location, layout.clone(), mode, group) {
                // Someone else created it between our open and our link:
                // open theirs (complete, by construction). Only a name that
                // is created and removed again and again makes us give up.
                Err(Error::AlreadyExists { .. })
                    if lost_races < OPEN_OR_CREATE_RETRIES || start.elapsed() <= timeout =>
                {
                    lost_races += 1;
                }
                other => return other.map(|s| (s, true)),
            }
        }
    }

    fn open_now(location: &Location, path: &Path, access: Access) -> Result<Segment> {
        let writable = access == Access::ReadWrite;
        let mut file = OpenOptions::new()
            .read(true)
            .write(writable)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| Error::io("open", path, e))?;
        let meta = file.metadata().map_err(|e| Error::io("stat", path, e))?;
        if !meta.is_file() {
            return Err(Error::NotASegment {
                path: path.into(),
                found: Vec::new(),
            });
        }
        let file_len = meta.len();
        let mut head = Vec::with_capacity(HEADER_SIZE as usize);
        (&mut file)
            .take(HEADER_SIZE)
            .read_to_end(&mut head)
            .map_err(|e| Error::io("read header of", path, e))?;
        let layout = Layout::decode(path, &head, file_len)?;
        #[cfg(not(loom))]
        let wake = sys::WakeRing::register(path, &meta)
            .map_err(|e| Error::io("find the wake-up directory of", path, e))?;
        let mapping = Mapping::new(file, path.into(), layout.total_size, writable)?;
        // Validate the mapped header too: it must be the one we decoded.
        let region = mapping.region();
        if region.copy_out(0, HEADER_SIZE as usize)[..layout::CHECKSUM_OFFSET + 8]
            != head[..layout::CHECKSUM_OFFSET + 8]
        {
            return Err(Error::Corrupt {
                path: path.into(),
                detail: "header changed while it was being opened".into(),
            });
        }
        let state = region.u32(STATE_OFFSET as u64).load(Ordering::Acquire);
        if state != STATE_READY {
            return Err(Error::Corrupt {
                path: path.into(),
                detail: format!("state word is {state}, expected {STATE_READY} (ready)"),
            });
        }
        Ok(Segment {
            mapping,
            layout,
            location: location.clone(),
            registry: Mutex::new(()),
            #[cfg(not(loom))]
            wake,
        })
    }

    /// Whether the segment was opened read-only (an observer's open).
    pub fn is_read_only(&self) -> bool {
        !self.mapping.writable()
    }

    /// Fails with `Error::ReadOnly` when the segment was opened read-only:
    /// called before anything that writes it (attaching `role`).
    pub fn require_writable(&self, role: &'static str) -> Result<()> {
        if self.is_read_only() {
            return Err(Error::ReadOnly {
                path: self.path().into(),
                role,
            });
        }
        Ok(())
    }

    /// Removes the segment's name, and its wake-up directory (the sockets
    /// no live consumer holds; see `wake::remove`). Processes that have it
    /// mapped keep working; new opens fail with `NotFound`.
    pub fn unlink(location: &Location) -> Result<()> {
        let path = location.path()?;
        #[cfg(not(loom))]
        let wake_dir = wake::dir_of_name(&path);
        std::fs::remove_file(&path).map_err(|e| Error::io("unlink", &path, e))?;
        #[cfg(not(loom))]
        wake::remove(wake_dir);
        Ok(())
    }

    /// Where its consumers' wake-up sockets live.
    #[cfg(not(loom))]
    pub fn wake(&self) -> &sys::WakeRing {
        &self.wake
    }

    /// The validated layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The raw view of the mapping.
    pub fn region(&self) -> Region {
        self.mapping.region()
    }

    /// The segment's location.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The segment's path.
    pub fn path(&self) -> &Path {
        self.mapping.path()
    }

    /// The open file (for OFD locks).
    pub fn file(&self) -> &File {
        self.mapping.file()
    }

    /// Serialises table changes between threads of this process (the OFD
    /// registry lock serialises processes).
    pub fn registry_mutex(&self) -> &Mutex<()> {
        &self.registry
    }
}

/// Whether opening for writing failed because writing is not permitted
/// (the file's mode, or a read-only file system).
fn write_refused(e: &Error) -> bool {
    match e {
        Error::PermissionDenied { .. } => true,
        Error::Io { source, .. } => source.raw_os_error() == Some(libc::EROFS),
        _ => false,
    }
}

/// How a segment is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read and write: a participant (falls back to read-only in
    /// [`Segment::open`] when writing is not permitted).
    ReadWrite,
    /// `O_RDONLY`, mapped `PROT_READ`: an observer, which can change
    /// nothing.
    ReadOnly,
}

/// Opens an unnamed file in `dir` (`O_TMPFILE`), or a hidden temporary name
/// when the file system does not support it. Returns the temporary name to
/// remove afterwards in the fallback case.
fn open_unnamed(dir: &Path, target: &Path, mode: u32) -> Result<(File, Option<PathBuf>)> {
    let tmp = OpenOptions::new()
        .read(true)
        .write(true)
        .mode(mode)
        .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
        .open(dir);
    match tmp {
        Ok(f) => return Ok((f, None)),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EOPNOTSUPP) | Some(libc::EISDIR) | Some(libc::EINVAL)
            ) => {}
        Err(e) => return Err(Error::io("create in", dir, e)),
    }
    let base = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = dir.join(format!(
        ".{base}.dmp-creating.{}.{}",
        sys::pid(),
        sys::unix_time_ns()
    ));
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_CLOEXEC)
        .open(&name)
        .map_err(|e| Error::io("create", &name, e))?;
    Ok((f, Some(name)))
}

/// Removes the fallback temporary name on every exit path.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::ProducerMode;

    /// A unique shm location for `tag`, unlinked on drop (also on failure).
    struct Name(Location);

    impl Name {
        fn new(tag: &str) -> Name {
            Name(Location::shm(format!(
                "dmp-unit-seg-{tag}-{}",
                std::process::id()
            )))
        }
    }

    impl Drop for Name {
        fn drop(&mut self) {
            let _ = Segment::unlink(&self.0);
        }
    }

    fn layout() -> Layout {
        Layout::compute(scratch::params(8, ProducerMode::Single, 0)).unwrap()
    }

    #[test]
    fn one_creator_wins_and_every_opener_sees_its_layout() {
        let name = Name::new("create");
        let created = Segment::create(&name.0, layout(), 0o600, None).unwrap();
        let e = Segment::create(&name.0, layout(), 0o600, None).unwrap_err();
        assert!(matches!(e, Error::AlreadyExists { .. }), "{e:?}");
        let opened = Segment::open(&name.0, Duration::ZERO, Access::ReadWrite).unwrap();
        assert_eq!(opened.layout(), created.layout());
        assert!(!opened.is_read_only());
        let (again, made) =
            Segment::open_or_create(&name.0, layout(), 0o600, None, Duration::ZERO).unwrap();
        assert!(!made);
        assert_eq!(again.layout(), created.layout());
        // Initialised as the algorithms expect.
        let (region, layout) = (opened.region(), opened.layout());
        let ctl = layout.region(layout::RegionKind::Control).0;
        assert_eq!(
            region.i64(ctl + control::CURSOR).load(Ordering::Relaxed),
            -1
        );
        assert_eq!(region.i64(ctl + control::CLAIM).load(Ordering::Relaxed), -1);
        let (consumers, _) = layout.region(layout::RegionKind::Consumers);
        let second = consumers + layout::CONSUMER_ENTRY_SIZE + layout::consumer_entry::SEQUENCE;
        assert_eq!(region.i64(second).load(Ordering::Relaxed), -1);
    }

    #[test]
    fn a_missing_name_is_not_found_at_once_and_a_timeout_after_waiting() {
        let name = Name::new("missing");
        let e = Segment::open(&name.0, Duration::ZERO, Access::ReadWrite).unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
        let e = Segment::open(&name.0, Duration::from_millis(20), Access::ReadWrite).unwrap_err();
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
        let (_, made) =
            Segment::open_or_create(&name.0, layout(), 0o600, None, Duration::ZERO).unwrap();
        assert!(made);
    }

    #[test]
    fn a_read_only_open_refuses_participants() {
        let name = Name::new("read-only");
        let _created = Segment::create(&name.0, layout(), 0o600, None).unwrap();
        let observer = Segment::open(&name.0, Duration::ZERO, Access::ReadOnly).unwrap();
        assert!(observer.is_read_only());
        let e = observer.require_writable("consumer").unwrap_err();
        assert!(matches!(e, Error::ReadOnly { .. }), "{e:?}");
    }

    #[test]
    fn files_that_are_not_complete_segments_are_refused() {
        let name = Name::new("damaged");
        let path = name.0.path().unwrap();
        // Not a segment at all.
        std::fs::write(&path, b"hello, not a ring").unwrap();
        let e = Segment::open(&name.0, Duration::ZERO, Access::ReadWrite).unwrap_err();
        assert!(matches!(e, Error::NotASegment { .. }), "{e:?}");
        // A real segment whose state word says it is not ready.
        std::fs::remove_file(&path).unwrap();
        drop(Segment::create(&name.0, layout(), 0o600, None).unwrap());
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[STATE_OFFSET..STATE_OFFSET + 4].copy_from_slice(&0u32.to_ne_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let e = Segment::open(&name.0, Duration::ZERO, Access::ReadWrite).unwrap_err();
        assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
        // Truncated: shorter than its header says.
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let e = Segment::open(&name.0, Duration::ZERO, Access::ReadWrite).unwrap_err();
        assert!(matches!(e, Error::Truncated { .. }), "{e:?}");
    }
}
