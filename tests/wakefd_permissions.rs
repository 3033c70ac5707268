//! Wake-up fds under the ring's permissions, between real processes: the
//! sockets live in a directory beside the segment with the ring's group
//! and a mode derived from the ring's, so a user who may not write the
//! ring cannot wake its consumers (`sendto` fails with `EACCES`) while a
//! member of the ring's group can, and a group member's consumer binds in
//! the owner's directory and is woken by the owner's producer. What a
//! crashed consumer leaves is harmless and cleaned by the next binder and
//! by `dmp rm`; a directory too deep for `sun_path` still works; an
//! orphaned directory is not listed as a ring and `dmp rm --stale` sweeps
//! it.
//!
//! The cross-user tests need root, to run processes as other users (as
//! tests/permissions.rs): skipped with the reason printed when not root,
//! failed under CI=true.

mod support;

use disruptor_mp::{Armed, Location, Ring, RingOptions, WaitStrategy};
use std::os::fd::RawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{dmp, run, Proc, ShmName};

const T: Duration = Duration::from_secs(60);

/// `n` unused uids (each with the gid of the same number): none of the
/// passwd entries has them.
fn strangers(n: usize) -> Vec<u32> {
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

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    support::skip_or_fail("not root, so no second user to test with: run the tests as root");
    false
}

/// Whether `fd` becomes readable within `ms` milliseconds.
fn readable(fd: RawFd, ms: i32) -> bool {
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
fn send_as(path: &Path, uid: u32, gid: u32) -> i32 {
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
fn wake_dir(dir: &Path, name: &str) -> PathBuf {
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

fn entries(dir: &Path) -> Vec<String> {
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
fn public(dir: &tempfile::TempDir, exe: &Path, with_library: bool) -> PathBuf {
    let to = dir.path().join(exe.file_name().unwrap());
    std::fs::copy(exe, &to).unwrap();
    let mut files = vec![to.clone()];
    if with_library {
        let so = dir
            .path()
            .join(format!("libdisruptor_mp.so.{}", support::version().0));
        std::fs::copy(support::shared_library(), &so).unwrap();
        files.push(so);
    }
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for f in files {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    to
}

fn as_user(exe: &Path, uid: u32) -> Command {
    let mut c = Command::new(exe);
    c.uid(uid).gid(uid).current_dir("/");
    c
}

#[test]
fn only_who_may_write_the_ring_can_wake_its_consumers() {
    if !root() {
        return;
    }
    let _serial = support::serial();
    let users = strangers(2);
    let (member, outsider) = (users[0], users[1]);
    let bin = tempfile::tempdir().unwrap();
    let exe = public(&bin, Path::new(env!("CARGO_BIN_EXE_dmp")), false);
    for (mode, member_may) in [(0o660u32, true), (0o640, false)] {
        let name = ShmName::new("wake-perm");
        let options = RingOptions::new()
            .capacity(64)
            .slot_size(24)
            .mode(mode)
            .group(member);
        let ring = Ring::create(&name.location(), &options).unwrap();
        let mut consumer = ring.consumer("owner", &[], WaitStrategy::Blocking).unwrap();
        let fd = consumer.wait_fd().unwrap();
        assert_eq!(consumer.arm().unwrap(), Armed::Armed);

        // The directory and the socket: the ring's owner and group, and
        // access only for the classes that may write the ring.
        let dir = wake_dir(Path::new("/dev/shm"), &name.0);
        let m = std::fs::metadata(&dir).unwrap();
        let group_bits = if member_may { 0o070 } else { 0 };
        assert_eq!(m.mode() & 0o7777, 0o2700 | group_bits, "{mode:o}");
        assert_eq!((m.uid(), m.gid()), (0, member), "{mode:o}");
        let socket = dir.join(&entries(&dir)[0]);
        let s = std::fs::metadata(&socket).unwrap();
        assert_eq!(s.mode() & 0o777, 0o600 | (group_bits & 0o060), "{mode:o}");
        assert_eq!(s.gid(), member, "the socket has the ring's group");

        assert_eq!(
            send_as(&socket, outsider, outsider),
            libc::EACCES,
            "{mode:o}: a user who may not write the ring"
        );
        assert!(!readable(fd, 0), "{mode:o}: woken by the outsider");
        let by_member = send_as(&socket, member, member);
        if !member_may {
            assert_eq!(
                by_member,
                libc::EACCES,
                "{mode:o}: a group that may only read"
            );
            assert!(!readable(fd, 0));
            eprintln!("mode {mode:o}: neither uid {outsider} nor group {member} can wake");
            continue;
        }
        assert_eq!(by_member, 0, "{mode:o}: a member of the ring's group");
        assert!(readable(fd, 10_000), "not woken by the group member");

        // The real path: the member's producer wakes the owner's consumer.
        assert_eq!(consumer.arm().unwrap(), Armed::Armed);
        let mut p = as_user(&exe, member);
        p.args(["produce", &name.0, "--count", "1"]);
        let (ok, out) = run(p, "dmp produce as a group member", T);
        assert!(ok, "{out}");
        assert!(
            readable(fd, 30_000),
            "the member's publish did not wake: {out}"
        );
        eprintln!("mode {mode:o}: uid {outsider} refused (EACCES), group {member} woke it");
    }
}

#[test]
fn a_group_members_event_loop_consumer_is_woken_by_the_owners_producer() {
    if !root() {
        return;
    }
    let _serial = support::serial();
    let member = strangers(1)[0];
    let bin = tempfile::tempdir().unwrap();
    let src = support::repo_root().join("c_examples/epoll.c");
    let epoll = public(
        &bin,
        &support::compile_c(&[&src], "epoll_perm", false),
        true,
    );
    let name = ShmName::new("wake-member");
    let mut c = dmp();
    c.args(["create", &name.0, "--capacity", "1024", "--slot-size", "64"])
        .args(["--mode", "660", "--group", &member.to_string()]);
    let (ok, out) = run(c, "dmp create", T);
    assert!(ok, "{out}");
    let mut c = as_user(&epoll, member);
    c.args([&name.0, "--name", "member", "--count", "50"])
        .args(["--timeout-ms", "60000"])
        .env("LD_LIBRARY_PATH", bin.path());
    let mut consumer = Proc::spawn(c, "epoll consumer of a group member");
    consumer.wait_line("ready", T);
    // It bound its socket in the owner's directory, for the ring's group.
    let dir = wake_dir(Path::new("/dev/shm"), &name.0);
    let socket = dir.join(&entries(&dir)[0]);
    let s = std::fs::metadata(&socket).unwrap();
    assert_eq!(
        (s.uid(), s.gid(), s.mode() & 0o777),
        (member, member, 0o660)
    );
    let mut p = dmp();
    p.args(["produce", &name.0, "--wait", "block", "--count", "50"])
        .args(["--pause-us", "1000"]);
    let (ok, out) = run(p, "the owner's producer", T);
    assert!(ok, "{out}");
    let out = consumer.succeed(T);
    assert!(out.contains("consumed 50 events"), "{out}");
    // Its socket left with it; `dmp rm` takes the directory.
    assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
    let mut rm = dmp();
    rm.args(["rm", &name.0]);
    let (ok, out) = run(rm, "dmp rm", T);
    assert!(ok && !dir.exists(), "{out}");
}

fn epoll_consumer(ring: &str, count: u64) -> Proc {
    let src = support::repo_root().join("c_examples/epoll.c");
    let mut c = Command::new(support::compile_c(&[&src], "epoll_example", false));
    c.args([ring, "--name", "ep", "--count", &count.to_string()])
        .args(["--timeout-ms", "60000"]);
    let mut p = Proc::spawn(c, "epoll consumer");
    p.wait_line("ready", T);
    p
}

#[test]
fn a_crashed_consumers_socket_is_harmless_and_cleaned_by_the_next_binder_and_rm() {
    let name = ShmName::new("wake-crash");
    let mut c = dmp();
    c.args(["create", &name.0, "--capacity", "1024", "--slot-size", "64"]);
    let (ok, out) = run(c, "dmp create", T);
    assert!(ok, "{out}");
    let dir = wake_dir(Path::new("/dev/shm"), &name.0);
    let mut first = epoll_consumer(&name.0, 20);
    first.child.kill().unwrap();
    let _ = first.child.wait();
    // Its socket stays behind, bound by nobody: a sender is refused.
    let left = entries(&dir);
    assert_eq!(left.len(), 1, "{left:?}");
    let probe = std::os::unix::net::UnixDatagram::unbound().unwrap();
    let e = probe.send_to(&[], dir.join(&left[0])).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ECONNREFUSED), "{e}");
    // The next holder of the entry binds there again and is woken.
    let again = epoll_consumer(&name.0, 20);
    let mut p = dmp();
    p.args(["produce", &name.0, "--wait", "block", "--count", "20"])
        .args(["--pause-us", "1000"]);
    let (ok, out) = run(p, "dmp produce", T);
    assert!(ok, "{out}");
    assert!(again.succeed(T).contains("consumed 20 events"));
    // Killed again, then the ring removed: nothing is left on disk.
    let mut third = epoll_consumer(&name.0, 20);
    third.child.kill().unwrap();
    let _ = third.child.wait();
    assert_eq!(entries(&dir).len(), 1);
    let mut rm = dmp();
    rm.args(["rm", &name.0, "--force"]);
    let (ok, out) = run(rm, "dmp rm", T);
    assert!(ok, "{out}");
    assert!(!dir.exists() && !name.path().exists(), "{out}");
}

#[test]
fn a_directory_too_deep_for_sun_path_still_wakes() {
    let tmp = tempfile::tempdir().unwrap();
    let deep = tmp.path().join("d".repeat(60)).join("e".repeat(60));
    std::fs::create_dir_all(&deep).unwrap();
    let loc = Location::file(deep.join("ring"));
    let ring = Ring::create(&loc, &RingOptions::new().capacity(64).slot_size(24)).unwrap();
    let dir = wake_dir(&deep, "ring");
    assert!(dir.join("0").as_os_str().len() > 108, "{}", dir.display());
    let mut consumer = ring.consumer("c", &[], WaitStrategy::Blocking).unwrap();
    let fd = consumer.wait_fd().unwrap();
    assert_eq!(consumer.arm().unwrap(), Armed::Armed);
    assert_eq!(entries(&dir), ["0"]);
    let mut producer = ring.producer(WaitStrategy::Blocking).unwrap();
    producer.publish_with(T, |slot| slot[0] = 7).unwrap();
    assert!(readable(fd, 30_000), "not woken through the long path");
    drop((consumer, producer, ring));
    Ring::remove(&loc, false).unwrap();
    assert!(!dir.exists());
}

#[test]
fn an_orphaned_directory_is_no_ring_and_rm_stale_sweeps_it() {
    let tmp = tempfile::tempdir().unwrap();
    let loc = Location::file(tmp.path().join("orphan"));
    drop(Ring::create(&loc, &RingOptions::new().capacity(64).slot_size(24)).unwrap());
    let dir = wake_dir(tmp.path(), "orphan");
    // A plain rm leaves the directory behind.
    std::fs::remove_file(tmp.path().join("orphan")).unwrap();
    let dir_arg = tmp.path().to_str().unwrap();
    let mut ls = dmp();
    ls.args(["ls", "--dir", dir_arg, "--json"]);
    let (ok, out) = run(ls, "dmp ls", T);
    assert!(ok && out.trim() == "[]", "{out}");
    let mut ls = dmp();
    ls.args(["ls", "--dir", dir_arg, "--all"]);
    let (ok, out) = run(ls, "dmp ls --all", T);
    assert!(ok && out.contains("a ring's wake-up directory"), "{out}");
    let mut rm = dmp();
    rm.args(["rm", "--stale", "--dir", dir_arg]);
    let (ok, out) = run(rm, "dmp rm --stale", T);
    assert!(
        ok && out.contains("(wake-up directory of no ring)"),
        "{out}"
    );
    assert!(!dir.exists(), "{out}");
}

#[test]
fn a_producer_in_another_network_namespace_wakes_the_consumer() {
    if !root() {
        return;
    }
    // `unshare --net`: a new network namespace, the same file systems.
    let probe = Command::new("unshare").args(["--net", "true"]).output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        support::skip_or_fail(&format!("unshare --net refused: {probe:?}"));
        return;
    }
    let _serial = support::serial();
    let name = ShmName::new("wake-netns");
    let mut c = dmp();
    c.args(["create", &name.0, "--capacity", "1024", "--slot-size", "64"]);
    let (ok, out) = run(c, "dmp create", T);
    assert!(ok, "{out}");
    let consumer = epoll_consumer(&name.0, 30);
    let mut p = Command::new("unshare");
    p.args(["--net", env!("CARGO_BIN_EXE_dmp"), "produce", &name.0])
        .args(["--wait", "block", "--count", "30", "--pause-us", "2000"]);
    let (ok, out) = run(p, "dmp produce in a new network namespace", T);
    assert!(ok, "{out}");
    let out = consumer.succeed(T);
    assert!(out.contains("consumed 30 events"), "{out}");
    // Woken by datagrams, not only by its bounded re-arm.
    let wakeups: u64 = out
        .lines()
        .find(|l| l.starts_with("consumed "))
        .and_then(|l| l.split(", ").find(|w| w.contains("wake")))
        .and_then(|w| w.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no wake-up count in {out}"));
    assert!(wakeups > 0, "{out}");
    eprintln!("across network namespaces: {}", out.trim());
}

#[test]
fn the_format_reader_finds_the_wake_up_directory_from_format_md_alone() {
    if Command::new("python3").arg("--version").output().is_err() {
        support::skip_or_fail("python3 is not installed");
        return;
    }
    let name = ShmName::new("wake-format");
    let ring = Ring::create(&name.location(), &RingOptions::new().capacity(64)).unwrap();
    let dir = wake_dir(Path::new("/dev/shm"), &name.0);
    let mut c = Command::new("python3");
    c.arg(support::repo_root().join("tools/dmp_format.py"))
        .arg(&name.0);
    let (ok, out) = run(c, "tools/dmp_format.py", T);
    assert!(ok, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["wake_dir"].as_str(), dir.to_str(), "{out}");
    drop(ring);
}

#[test]
fn a_directory_squatted_by_another_user_is_refused_naming_it() {
    if !root() {
        return;
    }
    let _serial = support::serial();
    let squatter = strangers(1)[0];
    // A ring without wake-ups has no directory until a consumer binds:
    // another user makes one first under the name it can predict.
    let name = ShmName::new("wake-squat");
    let options = RingOptions::new().capacity(64).wakeups(false);
    let ring = Ring::create(&name.location(), &options).unwrap();
    let token = {
        let m = std::fs::metadata(name.path()).unwrap();
        m.ino() ^ m.dev().rotate_left(40) ^ 1
    };
    let dir = Path::new("/dev/shm").join(format!(".{}.dmp-wake.{token:016x}", name.0));
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::chown(&dir, Some(squatter), Some(squatter)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut consumer = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    let e = consumer.wait_fd().unwrap_err().to_string();
    assert!(
        e.contains(dir.to_str().unwrap()) && e.contains(&format!("belongs to uid {squatter}")),
        "{e}"
    );
    eprintln!("refused: {e}");
    // Removing the ring removes the directory under its name too (as root
    // here; in sticky /dev/shm an owner who is not root could not, and the
    // ring would still be removed).
    drop(consumer);
    drop(ring);
    Ring::remove(&name.location(), false).unwrap();
    assert!(!name.path().exists() && !dir.exists());
}
