//! Where the wake-up sockets live: one directory per ring beside its
//! segment file, `.<file name, first 40 bytes>.dmp-wake.<token>`, with the
//! segment's group and a mode derived from the segment's (a class that may
//! write the ring gets `rwx`, any other class nothing; set-group-ID, so the
//! sockets bound inside get the ring's group). Pathname sockets obey file
//! permissions: `connect`/`sendto` need search permission on the directory
//! and write permission on the socket, so only who may write the ring can
//! wake its consumers (docs/FORMAT.md, "Wake-up fds").

use std::ffi::{CString, OsStr, OsString};
use std::fs::Metadata;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Bytes of the segment's file name kept in the directory's name (the
/// token makes it unique; the name part is for people).
const NAME_PART: usize = 40;
/// What follows the name part.
const MARK: &[u8] = b".dmp-wake.";

/// The ring's token: the segment file's device and inode, so a ring
/// unlinked and created again under its name gets a new directory.
pub fn ring_token(meta: &Metadata) -> u64 {
    meta.ino() ^ meta.dev().rotate_left(40) ^ 1
}

/// The directory's name for a segment file named `file_name`.
pub fn dir_name(file_name: &OsStr, token: u64) -> OsString {
    let b = file_name.as_bytes();
    let mut v = Vec::with_capacity(1 + NAME_PART + MARK.len() + 16);
    v.push(b'.');
    v.extend_from_slice(&b[..b.len().min(NAME_PART)]);
    v.extend_from_slice(MARK);
    v.extend_from_slice(format!("{token:016x}").as_bytes());
    OsString::from_vec(v)
}

/// The token of a wake-up directory's name, or `None` if `name` is not one.
pub fn parse_dir_name(name: &OsStr) -> Option<u64> {
    let b = name.as_bytes();
    let hex = b.get(b.len().checked_sub(16)?..)?;
    let rest = &b[..b.len() - 16];
    if b.first() != Some(&b'.') || !rest.ends_with(MARK) || rest.len() <= MARK.len() + 1 {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

/// The absolute path of the wake-up directory of the segment at `segment`.
pub fn dir_of(segment: &Path, token: u64) -> io::Result<PathBuf> {
    let parent = segment
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Absolute, so that a later chdir changes nothing (as given if the
    // working directory is gone).
    let parent = match std::env::current_dir() {
        Ok(cwd) if !parent.is_absolute() => cwd.join(parent),
        _ => parent.to_path_buf(),
    };
    let name = segment
        .file_name()
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EISDIR))?;
    Ok(parent.join(dir_name(name, token)))
}

/// `perm` in each class of `ring_mode` that may write the ring.
fn per_writer(ring_mode: u32, perm: u32) -> u32 {
    [6, 3, 0]
        .iter()
        .filter(|&&shift| (ring_mode >> shift) & 0o2 != 0)
        .map(|&shift| perm << shift)
        .sum()
}

/// The directory's mode for a ring of mode `ring_mode`.
pub fn dir_mode(ring_mode: u32) -> u32 {
    libc::S_ISGID | per_writer(ring_mode, 0o7)
}

/// A socket's mode for a ring of mode `ring_mode`.
pub fn socket_mode(ring_mode: u32) -> u32 {
    per_writer(ring_mode, 0o6)
}

fn cstr(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Opens the directory itself (never a symbolic link to one).
pub fn open_dir(dir: &Path) -> io::Result<OwnedFd> {
    let c = cstr(dir)?;
    // SAFETY: `c` is NUL-terminated; plain open.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by open() and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Gives the directory the ring's group and the derived mode. A creator
/// that may not give it the ring's group (it writes the ring through the
/// "other" class) gives the group class only what others have.
fn own_like(fd: &OwnedFd, ring: &Metadata) -> io::Result<()> {
    let mut mode = dir_mode(ring.mode());
    // SAFETY: plain system call on an open descriptor.
    if unsafe { libc::fchown(fd.as_raw_fd(), u32::MAX, ring.gid()) } != 0 {
        let others = mode & 0o7;
        mode = (mode & !0o070 & !libc::S_ISGID) | (others << 3);
    }
    // SAFETY: plain system call on an open descriptor.
    if unsafe { libc::fchmod(fd.as_raw_fd(), mode) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes the wake-up directory `dir` of the ring whose segment file has
/// metadata `ring`, or checks the one there: a real directory made by the
/// ring's owner, root or this user (anyone else could delete the sockets
/// inside). Its owner brings its group and mode up to date with the
/// ring's. Returns the open directory.
pub fn ensure(dir: &Path, ring: &Metadata) -> io::Result<OwnedFd> {
    let c = cstr(dir)?;
    // SAFETY: `c` is NUL-terminated; plain mkdir.
    let made = unsafe { libc::mkdir(c.as_ptr(), 0o700) } == 0;
    if !made {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EEXIST) {
            return Err(e);
        }
    }
    let fd = open_dir(dir)?;
    // SAFETY: libc::stat is plain data; all zeroes is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out-pointer; the fd is open.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if st.st_uid != ring.uid() && st.st_uid != 0 && st.st_uid != me {
        return Err(io::Error::other(format!(
            "it belongs to uid {}, neither the ring's owner (uid {}) nor root: remove it (as its owner or root)",
            st.st_uid,
            ring.uid()
        )));
    }
    if made || st.st_uid == me {
        own_like(&fd, ring)?;
    }
    Ok(fd)
}

/// Whether a process holds the socket bound at `name` in `dir` (a
/// datagram `connect` succeeds; `ECONNREFUSED` when its holder died).
/// Unknown (`EACCES`, say) counts as held.
fn held(dir: &OwnedFd, name: &OsStr) -> bool {
    let path = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name);
    let Ok(probe) = std::os::unix::net::UnixDatagram::unbound() else {
        return true;
    };
    match probe.connect(&path) {
        Ok(()) => true,
        Err(e) => e.raw_os_error() != Some(libc::ECONNREFUSED),
    }
}

/// Removes the wake-up directory `dir`: every socket no live process
/// holds (all of them with `all`), then the directory if that left it
/// empty. Returns whether the directory is gone (`false`: live consumers
/// of a removed ring still hold sockets; the last of them removes it).
pub fn remove(dir: &Path, all: bool) -> io::Result<bool> {
    let fd = match open_dir(dir) {
        Ok(fd) => fd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(e),
    };
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        if !all && held(&fd, &name) {
            continue;
        }
        let c = CString::new(name.as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: `c` is NUL-terminated and `fd` is an open directory.
        if unsafe { libc::unlinkat(fd.as_raw_fd(), c.as_ptr(), 0) } != 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::NotFound {
                return Err(e);
            }
        }
    }
    match std::fs::remove_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOTEMPTY) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_token_and_at_most_40_bytes_of_the_file_name() {
        let n = dir_name(OsStr::new("orders"), 0xab);
        assert_eq!(n, OsStr::new(".orders.dmp-wake.00000000000000ab"));
        assert_eq!(parse_dir_name(&n), Some(0xab));
        let long = "x".repeat(200);
        let n = dir_name(OsStr::new(&long), 7);
        assert_eq!(n.len(), 1 + 40 + MARK.len() + 16);
        assert_eq!(parse_dir_name(&n), Some(7));
        for not in [".dmp-wake.00000000000000ab", "orders", ".a.dmp-wake.zz"] {
            assert_eq!(parse_dir_name(OsStr::new(not)), None, "{not}");
        }
    }

    #[test]
    fn modes_give_each_class_that_may_write_the_ring_and_no_other() {
        assert_eq!(dir_mode(0o600), libc::S_ISGID | 0o700);
        assert_eq!(dir_mode(0o640), libc::S_ISGID | 0o700);
        assert_eq!(dir_mode(0o660), libc::S_ISGID | 0o770);
        assert_eq!(dir_mode(0o666), libc::S_ISGID | 0o777);
        assert_eq!(socket_mode(0o664), 0o660);
        assert_eq!(socket_mode(0o606), 0o606);
    }
}
