//! Wake-up fds under the ring's permissions, between real processes: the
//! sockets live in a directory beside the segment with the ring's group
//! and a mode derived from the ring's, so a user who may not write the
//! ring cannot wake its consumers (`sendto` fails with `EACCES`) while a
//! member of the ring's group can; a group member's consumer binds in the
//! owner's directory and is woken by the owner's producer; a producer in
//! another network namespace wakes a consumer; a directory squatted by
//! another user, or a stale socket the consumer may not remove, fails
//! naming the directory. (tests/wakefd_files.rs: the files' lifecycle.)
//!
//! The cross-user tests need root, to run processes as other users (as
//! tests/permissions.rs): skipped with the reason printed when not root,
//! failed under CI=true.

mod support;

use disruptor_mp::{Armed, Ring, RingOptions, WaitStrategy};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::wake::{
    as_user, entries, epoll_consumer, public, readable, root, send_as, strangers, wake_dir,
};
use support::{dmp, run, Proc, ShmName};

const T: Duration = Duration::from_secs(60);

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

#[test]
fn a_stale_socket_the_consumer_may_not_remove_fails_naming_the_directory() {
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
    let name = ShmName::new("wake-stuck");
    let mut c = dmp();
    c.args(["create", &name.0, "--capacity", "64", "--slot-size", "64"])
        .args(["--mode", "660", "--group", &member.to_string()]);
    let (ok, out) = run(c, "dmp create", T);
    assert!(ok, "{out}");
    // The owner's consumer dies armed: its socket stays.
    let mut owner = epoll_consumer(&name.0, 1);
    owner.child.kill().unwrap();
    let _ = owner.child.wait();
    let dir = wake_dir(Path::new("/dev/shm"), &name.0);
    assert_eq!(entries(&dir).len(), 1);
    // The directory no longer lets the group write (as if the ring had
    // been narrowed since): the member resuming the name cannot remove
    // the stale socket, and is told where.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o2750)).unwrap();
    let mut c = as_user(&epoll, member);
    c.args([&name.0, "--name", "ep", "--count", "1"])
        .args(["--timeout-ms", "10000"])
        .env("LD_LIBRARY_PATH", bin.path());
    let (ok, out) = run(c, "epoll consumer of a group member", T);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("remove the stale socket in {}", dir.display()))
            && out.contains("ermission denied"),
        "{out}"
    );
    // The owner's next bind brings the directory up to date and binds.
    let again = epoll_consumer(&name.0, 1);
    let m = std::fs::metadata(&dir).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o2770);
    drop(again);
}
