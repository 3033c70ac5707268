//! The pollable wake-up of a consumer: a Unix datagram socket per armed
//! consumer, bound at `<entry index>` in its ring's wake-up directory
//! (src/sys/wake_dir.rs). A publisher that takes an arming sends it one
//! empty datagram (see docs/ARCHITECTURE.md, "Wake-ups for event loops").

use super::wake_dir;
use std::ffi::CString;
use std::fs::Metadata;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The wake-up directory of a ring this process has open, registered so
/// that a writer's slow path, which knows only the token stored beside a
/// sequence, finds where to send. Unregistered on drop.
#[derive(Debug)]
pub struct WakeRing {
    token: u64,
    dir: PathBuf,
    segment: PathBuf,
}

/// Rings open in this process: token, wake-up directory, handles open.
static RINGS: Mutex<Vec<(u64, PathBuf, usize)>> = Mutex::new(Vec::new());

impl WakeRing {
    /// Registers the segment at `segment`, whose file has metadata `meta`.
    pub fn register(segment: &Path, meta: &Metadata) -> io::Result<WakeRing> {
        let token = wake_dir::ring_token(meta);
        let dir = wake_dir::dir_of(segment, token)?;
        let mut rings = RINGS.lock().unwrap_or_else(|p| p.into_inner());
        match rings.iter_mut().find(|r| r.0 == token && r.1 == dir) {
            Some(r) => r.2 += 1,
            None => rings.push((token, dir.clone(), 1)),
        }
        let segment = match (dir.parent(), segment.file_name()) {
            (Some(parent), Some(name)) => parent.join(name),
            _ => segment.to_path_buf(),
        };
        Ok(WakeRing {
            token,
            dir,
            segment,
        })
    }

    /// The ring's token (stored beside the sequences it arms on).
    pub fn token(&self) -> u64 {
        self.token
    }

    /// The absolute path of the ring's wake-up directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for WakeRing {
    fn drop(&mut self) {
        let mut rings = RINGS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = rings
            .iter()
            .position(|r| r.0 == self.token && r.1 == self.dir)
        {
            rings[i].2 -= 1;
            if rings[i].2 == 0 {
                rings.swap_remove(i);
            }
        }
    }
}

/// `sockaddr_un` for `path`, and its length; `None` when it does not fit
/// `sun_path` (108 bytes with its NUL).
fn address(path: &Path) -> Option<(libc::sockaddr_un, libc::socklen_t)> {
    // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let bytes = path.as_os_str().as_bytes();
    if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return None;
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (dst, src) in addr.sun_path.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1;
    Some((addr, len as libc::socklen_t))
}

/// The address of entry `index` in the directory open as `dir`, through
/// `/proc/self/fd`: short whatever the directory's path.
fn address_in(dir: &OwnedFd, index: u32) -> (libc::sockaddr_un, libc::socklen_t) {
    let path = PathBuf::from(format!("/proc/self/fd/{}/{index}", dir.as_raw_fd()));
    address(&path).expect("a /proc/self/fd path fits sun_path")
}

/// A bound, non-blocking, close-on-exec datagram socket: the consumer's
/// wake-up fd. Dropping it removes its name (before the consumer's entry
/// lease is released, so never a successor's).
#[derive(Debug)]
pub struct WakeSocket {
    fd: OwnedFd,
    dir: OwnedFd,
    index: u32,
    ring: (PathBuf, PathBuf, u64),
}

impl WakeSocket {
    /// Binds the socket of entry `index` in the wake-up directory of
    /// `ring`, whose segment file has metadata `meta`, making the
    /// directory if it is missing. A stale socket there (its consumer
    /// died) is removed first: the caller holds the entry's lease, so no
    /// live process holds that name. Errors say which step failed.
    pub fn bind(
        ring: &WakeRing,
        meta: &Metadata,
        index: u32,
    ) -> Result<WakeSocket, (&'static str, io::Error)> {
        let dir =
            wake_dir::ensure(&ring.dir, meta).map_err(|e| ("use the wake-up directory", e))?;
        let name = CString::new(index.to_string()).expect("digits");
        // SAFETY: `name` is NUL-terminated and `dir` is an open directory.
        if unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) } != 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::NotFound {
                return Err(("remove the stale socket in", e));
            }
        }
        let fd = datagram_socket().map_err(|e| ("make a socket for", e))?;
        let (addr, len) = address_in(&dir, index);
        // SAFETY: `addr` is a valid sockaddr_un of `len` bytes; `fd` is open.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &addr as *const libc::sockaddr_un as *const libc::sockaddr,
                len,
            )
        };
        if rc != 0 {
            return Err(("bind a socket in", io::Error::last_os_error()));
        }
        let sock = WakeSocket {
            fd,
            dir,
            index,
            ring: (ring.segment.clone(), ring.dir.clone(), ring.token),
        };
        use std::os::unix::fs::MetadataExt;
        let mode = wake_dir::socket_mode(meta.mode()) as libc::mode_t;
        // SAFETY: `name` is NUL-terminated and the directory is open.
        if unsafe { libc::fchmodat(sock.dir.as_raw_fd(), name.as_ptr(), mode, 0) } != 0 {
            return Err(("chmod the socket in", io::Error::last_os_error()));
        }
        Ok(sock)
    }

    /// The descriptor, for poll/epoll.
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Reads every queued datagram (never blocks); returns how many.
    pub fn drain(&self) -> u64 {
        let mut n = 0;
        let mut byte = [0u8; 1];
        loop {
            // SAFETY: the buffer is valid for its length; the fd is open.
            let rc = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    byte.as_mut_ptr() as *mut libc::c_void,
                    byte.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if rc < 0 {
                return n;
            }
            n += 1;
        }
    }
}

impl Drop for WakeSocket {
    /// Removes the socket's name; and the directory, once empty, if the
    /// ring's name is gone or names another ring (the ring was removed
    /// while this consumer ran).
    fn drop(&mut self) {
        let name = CString::new(self.index.to_string()).expect("digits");
        // SAFETY: `name` is NUL-terminated and the directory is open.
        unsafe { libc::unlinkat(self.dir.as_raw_fd(), name.as_ptr(), 0) };
        let (segment, dir, token) = &self.ring;
        let current = std::fs::symlink_metadata(segment).map(|m| wake_dir::ring_token(&m));
        if current.ok() != Some(*token) {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn datagram_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain system call with constant arguments.
    let fd = unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket() and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The process's unbound sending socket, made on first use (a publisher's
/// slow path only).
static SENDER: OnceLock<Option<OwnedFd>> = OnceLock::new();

/// Sends one empty datagram to each entry in `mask` of ring `token`, if
/// this process has that ring open (a token no ring of this process has is
/// ignored: a writer never sends outside its own rings). Never blocks and
/// never raises SIGPIPE; a consumer that is gone (`ECONNREFUSED`,
/// `ENOENT`), whose queue is full (it is readable already) or that this
/// process may not wake (`EACCES`) is skipped.
pub fn wake_datagrams(token: u64, mask: u64) {
    let Some(sender) = SENDER.get_or_init(|| datagram_socket().ok()) else {
        return;
    };
    // Normally one directory; more if this process opened the ring under
    // names in several directories (hard links).
    let dirs: Vec<PathBuf> = {
        let rings = RINGS.lock().unwrap_or_else(|p| p.into_inner());
        rings
            .iter()
            .filter(|r| r.0 == token)
            .map(|r| r.1.clone())
            .collect()
    };
    for dir in dirs {
        send_each(sender, &dir, mask);
    }
}

/// Sends one empty datagram to each entry in `mask` of the wake-up
/// directory `dir`.
fn send_each(sender: &OwnedFd, dir: &Path, mut mask: u64) {
    // A directory too deep for sun_path is reached through its open fd.
    let long = address(&dir.join("63")).is_none();
    let open = if long {
        wake_dir::open_dir(dir).ok()
    } else {
        None
    };
    if long && open.is_none() {
        return;
    }
    while mask != 0 {
        let index = mask.trailing_zeros();
        mask &= mask - 1;
        let (addr, len) = match &open {
            Some(d) => address_in(d, index),
            None => address(&dir.join(index.to_string())).expect("fits: checked above"),
        };
        // SAFETY: `addr` is a valid sockaddr_un of `len` bytes; a zero-length
        // send reads no buffer; the fd is open for the process's lifetime.
        unsafe {
            libc::sendto(
                sender.as_raw_fd(),
                std::ptr::null(),
                0,
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                &addr as *const libc::sockaddr_un as *const libc::sockaddr,
                len,
            );
        }
    }
}
