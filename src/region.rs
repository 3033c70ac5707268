//! Where a segment lives and how it is mapped: a POSIX shm name (a file
//! under `/dev/shm`, exactly where glibc's `shm_open` puts it) or a regular
//! file, mapped shared with memmap2. [`Region`] is the raw view (pointer and
//! length) that the ring algorithms work on, so they run unchanged over a
//! heap buffer in tests.

use crate::error::{Error, Result};
use crate::sync::{AtomicI64, AtomicU32, AtomicU64, Word};
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

#[cfg(test)]
pub(crate) mod heap;

/// Directory that backs POSIX shared memory on Linux.
pub const SHM_DIR: &str = "/dev/shm";
/// Longest shm name accepted.
pub const MAX_SHM_NAME: usize = 200;

/// Where a segment lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A POSIX shared-memory object, by name without the leading `/`.
    Shm(String),
    /// A regular file (survives reboots on a disk file system).
    File(PathBuf),
}

impl Location {
    /// A shared-memory location.
    pub fn shm(name: impl Into<String>) -> Location {
        Location::Shm(name.into())
    }

    /// A file location.
    pub fn file(path: impl Into<PathBuf>) -> Location {
        Location::File(path.into())
    }

    /// Checks the name and returns the file-system path of the segment.
    pub fn path(&self) -> Result<PathBuf> {
        match self {
            Location::Shm(name) => {
                validate_shm_name(name)?;
                Ok(Path::new(SHM_DIR).join(name))
            }
            Location::File(p) => {
                if p.as_os_str().is_empty() {
                    return Err(Error::InvalidName {
                        name: String::new(),
                        reason: "file path is empty",
                    });
                }
                if p.file_name().is_none() {
                    return Err(Error::InvalidName {
                        name: p.display().to_string(),
                        reason: "file path has no file name",
                    });
                }
                Ok(p.clone())
            }
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Shm(n) => write!(f, "shm:{n}"),
            Location::File(p) => write!(f, "file:{}", p.display()),
        }
    }
}

fn validate_shm_name(name: &str) -> Result<()> {
    let bad = |reason| {
        Err(Error::InvalidName {
            name: name.into(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("shm name is empty");
    }
    if name.len() > MAX_SHM_NAME {
        return bad("shm name is longer than 200 bytes");
    }
    if name.contains('/') {
        return bad("shm name contains '/' (give the name without a leading slash; use a file location for paths)");
    }
    if name.starts_with('.') {
        return bad("shm name starts with '.'");
    }
    if !is_portable_name(name) {
        return bad("shm name may only contain ASCII letters, digits, '_', '-' and '.'");
    }
    Ok(())
}

/// Whether `name` uses only ASCII letters, digits, `_`, `-` and `.`: the
/// characters allowed in segment and consumer names, safe in file names,
/// shell commands and metric labels.
pub(crate) fn is_portable_name(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// A raw view of mapped memory: base pointer and length.
///
/// Accessors check bounds and alignment and panic on violation; callers pass
/// offsets derived from a validated [`Layout`](crate::layout::Layout), so a
/// panic here is a bug in this crate, never a consequence of segment
/// contents.
#[derive(Debug, Clone, Copy)]
pub struct Region {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: a Region is a pointer to memory shared between processes, which is
// accessed only through atomics or through the ring protocol's exclusive
// slot ownership; moving the view between threads changes nothing.
unsafe impl Send for Region {}
// SAFETY: as above; all shared mutation goes through atomics.
unsafe impl Sync for Region {}

impl Region {
    /// A view of `len` bytes at `base`.
    ///
    /// # Safety
    /// `base` must be valid for reads and writes of `len` bytes, aligned to
    /// at least 128 bytes, for as long as the region or any copy of it is
    /// used; or valid for reads only, when no write is ever made through
    /// the region (a read-only observer's mapping).
    pub unsafe fn from_raw(base: NonNull<u8>, len: usize) -> Region {
        Region { base, len }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the region is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pointer to byte `offset`, checked to leave `size` bytes in bounds.
    #[inline]
    pub fn ptr(&self, offset: u64, size: usize) -> *mut u8 {
        let end = (offset as usize).checked_add(size);
        assert!(
            end.is_some_and(|e| e <= self.len),
            "region access [{offset}, +{size}) outside {} bytes",
            self.len
        );
        // SAFETY: offset + size <= len, checked above.
        unsafe { self.base.as_ptr().add(offset as usize) }
    }

    fn atomic<T: Word>(&self, offset: u64) -> &T {
        let p = self.ptr(offset, T::BYTES);
        assert_eq!(p as usize % T::BYTES, 0, "misaligned atomic");
        // SAFETY: in bounds and aligned (checked); the memory is valid for
        // the region's lifetime (from_raw contract) and is only ever accessed
        // atomically at this offset, so a shared reference to an atomic is
        // sound.
        unsafe { crate::sync::atomic_at(p) }
    }

    /// The `AtomicU32` at `offset`.
    #[inline]
    pub fn u32(&self, offset: u64) -> &AtomicU32 {
        self.atomic(offset)
    }

    /// The `AtomicU64` at `offset`.
    #[inline]
    pub fn u64(&self, offset: u64) -> &AtomicU64 {
        self.atomic(offset)
    }

    /// The `AtomicI64` at `offset`.
    #[inline]
    pub fn i64(&self, offset: u64) -> &AtomicI64 {
        self.atomic(offset)
    }

    /// A private copy of `len` bytes at `offset`.
    pub fn copy_out(&self, offset: u64, len: usize) -> Vec<u8> {
        let p = self.ptr(offset, len);
        let mut v = vec![0u8; len];
        // SAFETY: source in bounds (checked by ptr); destination is a fresh
        // buffer of `len` bytes; they cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(p, v.as_mut_ptr(), len) };
        v
    }

    /// Copies `bytes` to `offset`.
    pub fn copy_in(&self, offset: u64, bytes: &[u8]) {
        let p = self.ptr(offset, bytes.len());
        // SAFETY: destination in bounds (checked by ptr); source is a slice
        // outside the region.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
    }
}

/// A shared mapping of a segment file, kept open for OFD locks.
#[derive(Debug)]
pub struct Mapping {
    map: MmapRaw,
    file: File,
    path: PathBuf,
    writable: bool,
}

impl Mapping {
    /// Maps the first `len` bytes of `file` shared: read-write, or with
    /// `writable` false read-only (`PROT_READ`, for a file opened
    /// `O_RDONLY`: any write through the mapping faults).
    pub fn new(file: File, path: PathBuf, len: u64, writable: bool) -> Result<Mapping> {
        let len_usize = usize::try_from(len).map_err(|_| Error::Corrupt {
            path: path.clone(),
            detail: format!("size {len} does not fit the address space"),
        })?;
        let mut options = MmapOptions::new();
        options.len(len_usize);
        let map = if writable {
            options.map_raw(&file)
        } else {
            options.map_raw_read_only(&file)
        }
        .map_err(|e| Error::io("mmap", &path, e))?;
        Ok(Mapping {
            map,
            file,
            path,
            writable,
        })
    }

    /// The raw view of the whole mapping.
    pub fn region(&self) -> Region {
        let base = NonNull::new(self.map.as_mut_ptr()).expect("mmap never returns null");
        // SAFETY: the mapping is valid for `len` bytes, page-aligned, and
        // lives as long as `self`; every user of the region holds an
        // `Arc<Segment>` that owns this mapping. A read-only mapping is
        // valid for reads only: the layers above never write through it
        // (only participants write, and attaching one refuses a read-only
        // segment: `Segment::require_writable`).
        unsafe { Region::from_raw(base, self.map.len()) }
    }

    /// The open file (for locks and leases).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The segment's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the mapping may be written (false: mapped `PROT_READ`).
    pub fn writable(&self) -> bool {
        self.writable
    }
}

/// Model checking: the loom shadows of the mapping's atomics go with it
/// (see [`crate::sync`]).
#[cfg(loom)]
impl Drop for Mapping {
    fn drop(&mut self) {
        crate::sync::release(self.map.as_ptr(), self.map.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;

    #[test]
    fn shm_names_are_checked() {
        assert_eq!(
            Location::shm("ok.name-1_x").path().unwrap(),
            Path::new("/dev/shm/ok.name-1_x")
        );
        for bad in ["", "a/b", "/lead", ".hidden", "sp ace", &"x".repeat(201)] {
            let e = Location::shm(bad).path().unwrap_err();
            assert_eq!(e.status(), Status::InvalidName, "{bad:?}");
        }
        assert_eq!(
            Location::file("").path().unwrap_err().status(),
            Status::InvalidName
        );
    }

    #[test]
    fn region_accessors_check_bounds() {
        let mut buf = vec![0u64; 32];
        let base = NonNull::new(buf.as_mut_ptr() as *mut u8).unwrap();
        // SAFETY: buf outlives the region and is 256 bytes long (alignment 8
        // suffices for the accesses below).
        let r = unsafe { Region::from_raw(base, 256) };
        r.u64(248).store(7, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(buf[31], 7);
        assert!(
            std::panic::catch_unwind(|| r.u64(256).load(std::sync::atomic::Ordering::Relaxed))
                .is_err()
        );
    }
}
