//! Helpers of the wake-up fd tests (tests/wakefd_permissions.rs,
//! tests/wakefd_files.rs): other users, polling a wake-up fd, sending a
//! datagram as another user, finding a ring's wake-up directory, the C
//! epoll example.

use super::Proc;
use std::os::fd::RawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// `n` unused uids (each with the gid of the same number): none of the
/// passwd entries has them.
pub fn strangers(n: usize) -> Vec<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let used: Vec<u32> = passwd
        .lines()
        .filter_map(|l| l.split(':').nth(2)?.parse().ok())
        .collect();
    (61_000..65_000)
        .filter(|u| !used.contains(u))
        .take(n)
        .collect()
}

pub fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    super::skip_or_fail("not root, so no second user to test with: run the tests as root");
    false
}

/// Whether `fd` becomes readable within `ms` milliseconds.
pub fn readable(fd: RawFd, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `p` is one valid pollfd.
    unsafe { libc::poll(&mut p, 1, ms) == 1 }
}

/// Sends one empty datagram to the socket at `path` from a child process
/// running as `uid`/`gid` (no supplementary groups); returns the child's
/// errno, 0 when the datagram was sent.
pub fn send_as(path: &Path, uid: u32, gid: u32) -> i32 {
    // Everything is built before fork: the child makes system calls only.
    // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_os_str().as_encoded_bytes();
    assert!(bytes.len() < addr.sun_path.len(), "{}", path.display());
    for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    // SAFETY: the child only makes async-signal-safe system calls and
    // leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        // SAFETY: plain system calls on values built before the fork.
        unsafe {
            let code = if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
            {
                200
            } else {
                let s = libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0);
                let rc = libc::sendto(
                    s,
                    std::ptr::null(),
                    0,
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                    &addr as *const libc::sockaddr_un as *const libc::sockaddr,
                    len,
                );
                if rc == 0 {
                    0
                } else {
                    *libc::__errno_location()
                }
            };
            libc::_exit(code);
        }
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked; `status` is a valid pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "sender child: status {status}");
    let code = libc::WEXITSTATUS(status);
    assert_ne!(code, 200, "the sender child could not become uid {uid}");
    code
}

/// The wake-up directory of the ring named `name` in `dir` (exactly one).
pub fn wake_dir(dir: &Path, name: &str) -> PathBuf {
    let prefix = format!(".{name}.dmp-wake.");
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    assert_eq!(found.len(), 1, "wake-up directories of {name}: {found:?}");
    found.into_iter().next().unwrap()
}

pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `exe` (and, for C programs, the shared library) copied where any user
/// may run it.
pub fn public(dir: &tempfile::TempDir, exe: &Path, with_library: bool) -> PathBuf {
    let to = dir.path().join(exe.file_name().unwrap());
    std::fs::copy(exe, &to).unwrap();
    let mut files = vec![to.clone()];
    if with_library {
        let so = dir
            .path()
            .join(format!("libdisruptor_mp.so.{}", super::version().0));
        std::fs::copy(super::shared_library(), &so).unwrap();
        files.push(so);
    }
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for f in files {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    to
}

pub fn as_user(exe: &Path, uid: u32) -> Command {
    let mut c = Command::new(exe);
    c.uid(uid).gid(uid).current_dir("/");
    c
}

pub fn epoll_consumer(ring: &str, count: u64) -> Proc {
    let src = super::repo_root().join("c_examples/epoll.c");
    let mut c = Command::new(super::compile_c(&[&src], "epoll_example", false));
    c.args([ring, "--name", "ep", "--count", &count.to_string()])
        .args(["--timeout-ms", "60000"]);
    let mut p = Proc::spawn(c, "epoll consumer");
    p.wait_line("ready", Duration::from_secs(60));
    p
}
