//! The one thin module that talks to libc. Everything here is a small,
//! documented wrapper; the ring algorithms never call libc directly.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

mod wake_dir;
mod wake_socket;
// Under loom the doorbell emulation of `sync` replaces the sockets.
#[cfg_attr(loom, allow(unused_imports))]
pub use wake_dir::{
    dir_name as wake_dir_name, dir_of as wake_dir_of, ensure as ensure_wake_dir,
    parse_dir_name as parse_wake_dir_name, remove as remove_wake_dir, ring_token,
};
#[cfg_attr(loom, allow(unused_imports))]
pub use wake_socket::{wake_datagrams, WakeRing, WakeSocket};

/// Address of the low 32 bits of a 64-bit word: the futex word of a
/// sequence. Only the kernel reads it as a 32-bit value; user space always
/// accesses the whole 64-bit atomic.
fn low_half(word: &AtomicI64) -> *const u32 {
    let p = word.as_ptr() as *const u32;
    if cfg!(target_endian = "little") {
        p
    } else {
        p.wrapping_add(1)
    }
}

/// Sleeps while the low 32 bits of `word` equal `expected`, for at most
/// `timeout`.
///
/// Uses the shared (not `FUTEX_PRIVATE`) futex so that waiters and wakers
/// may live in different processes mapping the same file. Spurious returns
/// are allowed; callers re-check their condition.
pub fn futex_wait(word: &AtomicI64, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: the futex address lies inside the live, aligned 64-bit word;
    // FUTEX_WAIT only reads it, and the timespec pointer is valid.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            low_half(word),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

/// Wakes every process sleeping on the futex word of `word`.
pub fn futex_wake_all(word: &AtomicI64) {
    // SAFETY: the address lies inside a live word; FUTEX_WAKE uses it only
    // as a key.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            low_half(word),
            libc::FUTEX_WAKE,
            i32::MAX,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

/// `membarrier(2)` commands used by the wake-up handshake (Linux 4.16+).
const MEMBARRIER_CMD_GLOBAL_EXPEDITED: libc::c_int = 1 << 1;
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: libc::c_int = 1 << 2;

fn membarrier(cmd: libc::c_int) -> bool {
    // SAFETY: membarrier takes two integers and touches no user memory.
    unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0u32, 0i32) == 0 }
}

/// Whether this process is registered for expedited global memory barriers
/// (`MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED`): registers on the first
/// call and again after a `fork` (registration belongs to the address
/// space), then answers from a cache. A registered process's threads
/// execute a full barrier whenever any process calls
/// [`barrier_all_registered`]; the wake-up handshake of
/// [`crate::sequence`] relies on it. `false` where the kernel or a seccomp
/// filter refuses.
pub fn membarrier_registered() -> bool {
    use std::sync::atomic::{AtomicU64, Ordering};
    /// PID that registered, shifted left by one, plus the outcome bit;
    /// 0: nobody asked yet.
    static REGISTERED: AtomicU64 = AtomicU64::new(0);
    let me = u64::from(pid()) << 1;
    let seen = REGISTERED.load(Ordering::Relaxed);
    if seen != 0 && seen & !1 == me {
        return seen & 1 == 1;
    }
    let ok = !refused_by_fault() && membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED);
    REGISTERED.store(me | u64::from(ok), Ordering::Relaxed);
    ok
}

/// Fault harness: `DMP_FAULTS=membarrier.register=drop` makes this process
/// one where the kernel refuses membarrier (the fenced fallback).
fn refused_by_fault() -> bool {
    #[cfg(feature = "fault-injection")]
    {
        crate::fault::hit("membarrier.register").is_err()
    }
    #[cfg(not(feature = "fault-injection"))]
    {
        false
    }
}

/// Executes a full memory barrier on every CPU running a thread of a
/// registered process (`MEMBARRIER_CMD_GLOBAL_EXPEDITED`, about a
/// microsecond). Returns `false` if the kernel refused, and without trying
/// in a process whose registration was refused (a seccomp filter refuses
/// both).
pub fn barrier_all_registered() -> bool {
    membarrier_registered() && membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)
}

/// Reserves `len` bytes of backing store for `file` so that later page
/// faults cannot fail with SIGBUS. Returns the OS error on failure
/// (`ENOSPC` when the file system is full).
pub fn allocate(file: &File, len: u64) -> io::Result<()> {
    let len = libc::off_t::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
    // SAFETY: plain syscall on a file descriptor we own.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// Bytes available to an unprivileged user on the file system of `path`.
pub fn free_bytes(path: &Path) -> u64 {
    statvfs(path).map_or(0, |st| st.f_bavail.saturating_mul(st.f_frsize))
}

/// Total size in bytes of the file system of `path`.
pub fn fs_size_bytes(path: &Path) -> u64 {
    statvfs(path).map_or(0, |st| st.f_blocks.saturating_mul(st.f_frsize))
}

fn statvfs(path: &Path) -> Option<libc::statvfs> {
    let c = CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs is plain data, so all-zero is a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is NUL-terminated and `st` is a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st)
}

/// Kind of an open-file-description lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// Shared (read) lock: no participant takes one (leases and the
    /// registry are exclusive); the unit tests use it to probe.
    #[cfg_attr(not(test), allow(dead_code))]
    Shared,
    /// Exclusive (write) lock.
    Exclusive,
}

/// Tries to take an OFD byte-range lock on `[start, start + 1)` without
/// blocking. Returns `Ok(false)` when another open file description holds a
/// conflicting lock. The kernel drops the lock when the last descriptor of
/// the open file description closes, including when the process dies.
pub fn try_lock(file: &File, start: u64, kind: LockKind) -> io::Result<bool> {
    let ty = match kind {
        LockKind::Shared => libc::F_RDLCK,
        LockKind::Exclusive => libc::F_WRLCK,
    };
    ofd_setlk(file, start, ty as libc::c_short)
}

/// Whether some open file description other than `file`'s holds a lock on
/// byte `start` (`F_OFD_GETLK`: a query that takes nothing, so it never
/// disturbs the holder).
pub fn lock_held(file: &File, start: u64) -> io::Result<bool> {
    // SAFETY: flock is plain data, so all-zero is a valid value.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = start as libc::off_t;
    fl.l_len = 1;
    // SAFETY: `fl` is a valid flock for the duration of the call.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_GETLK, &mut fl) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fl.l_type != libc::F_UNLCK as libc::c_short)
}

/// Releases an OFD lock taken with [`try_lock`].
pub fn unlock(file: &File, start: u64) -> io::Result<()> {
    ofd_setlk(file, start, libc::F_UNLCK as libc::c_short).map(|_| ())
}

fn ofd_setlk(file: &File, start: u64, ty: libc::c_short) -> io::Result<bool> {
    // SAFETY: flock is plain data, so all-zero is a valid value.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = ty;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = start as libc::off_t;
    fl.l_len = 1;
    fl.l_pid = 0; // required to be 0 for OFD locks
                  // SAFETY: `fl` is a valid flock for the duration of the call.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &mut fl) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EAGAIN) | Some(libc::EACCES) => Ok(false),
        _ => Err(err),
    }
}

/// Opens a new, independent open file description of `file` (not a `dup`):
/// OFD locks taken through it conflict with locks taken through `file`.
pub fn reopen(file: &File) -> io::Result<File> {
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(proc_path)
}

/// Gives the unnamed file `file` (from `O_TMPFILE`) or any open file the
/// name `dest`, failing with `AlreadyExists` if the name is taken. This is
/// the atomic publication step of segment creation.
pub fn link_open_file(file: &File, dest: &Path) -> io::Result<()> {
    let src = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    let dst = CString::new(dest.as_os_str().as_bytes())?;
    // SAFETY: both paths are NUL-terminated and live across the call.
    let rc = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            src.as_ptr(),
            libc::AT_FDCWD,
            dst.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// This process's ID.
pub fn pid() -> u32 {
    std::process::id()
}

/// Start time of process `pid` in clock ticks since boot (field 22 of
/// `/proc/PID/stat`), or 0 when unknown. Together with the PID it names a
/// process uniquely for diagnostics, whatever PID reuse happens.
pub fn process_start_time(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name (field 2) is in parentheses and may contain spaces.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return 0;
    };
    // After ")" come fields 3.. ; the start time is field 22, index 19 here.
    rest.split_whitespace()
        .nth(19)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Nanoseconds since the Unix epoch (wall clock), for diagnostics only.
pub fn unix_time_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Pins the calling thread to `cpu`. Used by the benchmark.
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: CPU_SET writes inside `set`, as cpu < CPU_SETSIZE (checked).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_of_self_is_known_and_stable() {
        let a = process_start_time(pid());
        assert!(a > 0);
        assert_eq!(a, process_start_time(pid()));
        assert_eq!(process_start_time(u32::MAX), 0);
    }

    #[test]
    fn ofd_locks_conflict_between_open_file_descriptions() {
        let f = tempfile::tempfile().unwrap();
        let g = reopen(&f).unwrap();
        assert!(try_lock(&f, 7, LockKind::Exclusive).unwrap());
        assert!(!try_lock(&g, 7, LockKind::Shared).unwrap());
        assert!(try_lock(&g, 8, LockKind::Exclusive).unwrap());
        unlock(&f, 7).unwrap();
        assert!(try_lock(&g, 7, LockKind::Shared).unwrap());
    }

    #[test]
    fn membarrier_registers_once_and_the_barrier_runs() {
        // Every supported kernel (4.16+) without a seccomp filter has it.
        if membarrier_registered() {
            assert!(membarrier_registered(), "cached answer");
            assert!(barrier_all_registered());
        } else {
            assert!(std::env::var_os("CI").is_none(), "membarrier refused in CI");
            eprintln!("membarrier refused here: the SeqCst fallback is used");
        }
    }

    #[test]
    fn futex_wait_returns_after_timeout_or_mismatch() {
        let w = AtomicI64::new(5);
        let t = std::time::Instant::now();
        futex_wait(&w, 4, Duration::from_secs(5)); // value differs: returns at once
        assert!(t.elapsed() < Duration::from_secs(5));
        futex_wait(&w, 5, Duration::from_millis(1));
        futex_wake_all(&w);
    }
}
