//! The files of wake-up fds on disk, between real processes: what a
//! crashed consumer leaves is harmless and cleaned by the next binder and
//! by `dmp rm`; a wake-up directory too deep for `sun_path` still works;
//! an orphaned directory is not listed as a ring and `dmp rm --stale`
//! sweeps it; tools/dmp_format.py derives the directory from
//! docs/FORMAT.md alone. (tests/wakefd_permissions.rs: who may wake.)

mod support;

use disruptor_mp::{Armed, Location, Ring, RingOptions, WaitStrategy};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::wake::{entries, epoll_consumer, readable, wake_dir};
use support::{dmp, run, ShmName};

const T: Duration = Duration::from_secs(60);

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
