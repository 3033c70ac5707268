//! The pollable wake-up of a consumer: a Unix datagram socket per armed
//! consumer, bound in the abstract namespace under a name derived from the
//! ring's segment file and the consumer's entry. A publisher that takes an
//! arming sends it one empty datagram (see docs/ARCHITECTURE.md,
//! "Wake-ups for event loops").

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;

/// The ring's part of the socket names: the segment file's device and
/// inode, so a ring unlinked and created again under its name gets new
/// names (a consumer of the old ring is never woken by the new one).
pub fn ring_token(file: &std::fs::File) -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let m = file.metadata()?;
    Ok(m.ino() ^ m.dev().rotate_left(40) ^ 1)
}

/// `sockaddr_un` for the abstract name of entry `index` of ring `token`,
/// and its length.
fn address(token: u64, index: u32) -> (libc::sockaddr_un, libc::socklen_t) {
    // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let name = format!("dmp-wake/{token:016x}/{index}");
    // sun_path[0] stays NUL: the abstract namespace.
    for (dst, src) in addr.sun_path[1..].iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + 1 + name.len();
    (addr, len as libc::socklen_t)
}

/// A bound, non-blocking, close-on-exec datagram socket: the consumer's
/// wake-up fd.
#[derive(Debug)]
pub struct WakeSocket {
    fd: OwnedFd,
}

impl WakeSocket {
    /// Binds the socket of entry `index` of ring `token`. `AddrInUse` when
    /// another live handle holds that entry's name.
    pub fn bind(token: u64, index: u32) -> io::Result<WakeSocket> {
        let fd = datagram_socket()?;
        let (addr, len) = address(token, index);
        // SAFETY: `addr` is a valid sockaddr_un of `len` bytes; `fd` is open.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &addr as *const libc::sockaddr_un as *const libc::sockaddr,
                len,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(WakeSocket { fd })
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

/// Sends one empty datagram to each entry in `mask` of ring `token`. Never
/// blocks and never raises SIGPIPE; a consumer that is gone (no socket
/// bound: `ECONNREFUSED`) or whose queue is full (it is readable already)
/// is skipped.
pub fn wake_datagrams(token: u64, mut mask: u64) {
    let Some(sender) = SENDER.get_or_init(|| datagram_socket().ok()) else {
        return;
    };
    while mask != 0 {
        let index = mask.trailing_zeros();
        mask &= mask - 1;
        let (addr, len) = address(token, index);
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
