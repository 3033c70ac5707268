//! Permissions across users: a ring is created 0600 by default, and a
//! process of another user attaches only as far as the mode allows: 0644
//! lets it open the ring read-only, as an observer, and refuses it as a
//! participant (it needs write permission), 0666 lets it in. With
//! `--group` and 0640 a group observes a ring it cannot change (with the
//! `dmp` observers and with a C program over the C ABI).
//!
//! Needs root, to run `dmp` as another user (the child drops to an unused
//! uid/gid, and its supplementary groups, before exec). Skipped, with the
//! reason printed, when not root or when the other user cannot run the
//! binary.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use support::{dmp, Proc, ShmName};

const T: Duration = Duration::from_secs(60);

/// An unused uid/gid: none of the passwd entries has it.
fn stranger() -> u32 {
    support::wake::strangers(1)
        .pop()
        .expect("a free uid in 61000..65000")
}

/// `dmp` copied where any user may run it (the build directory may not be
/// reachable by others).
fn public_dmp(dir: &tempfile::TempDir) -> PathBuf {
    let exe = dir.path().join("dmp");
    std::fs::copy(env!("CARGO_BIN_EXE_dmp"), &exe).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    exe
}

fn as_stranger(exe: &PathBuf, uid: u32) -> Command {
    let mut c = Command::new(exe);
    c.uid(uid).gid(uid).current_dir("/");
    c
}

#[test]
fn another_user_attaches_only_as_far_as_the_mode_allows() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        support::skip_or_fail("not root, so no second user to test with: run the tests as root");
        return;
    }
    let _serial = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let exe = public_dmp(&dir);
    let uid = stranger();
    // Can the stranger run anything at all (a hardened system may forbid)?
    let mut probe = as_stranger(&exe, uid);
    probe.arg("--version");
    match probe.output() {
        Ok(o) if o.status.success() => {}
        other => {
            support::skip_or_fail(&format!("cannot run dmp as uid {uid}: {other:?}"));
            return;
        }
    }

    for (mode, allowed) in [
        (None, false),
        (Some("600"), false),
        (Some("644"), false),
        (Some("666"), true),
    ] {
        let what = mode.unwrap_or("default");
        let name = ShmName::new("perm");
        let mut c = dmp();
        c.args(["create", &name.0, "--capacity", "8", "--slot-size", "24"]);
        if let Some(m) = mode {
            c.args(["--mode", m]);
        }
        let (ok, out) = support::run(c, "create", T);
        assert!(ok, "{out}");
        let bits = std::fs::metadata(name.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(bits, u32::from_str_radix(mode.unwrap_or("600"), 8).unwrap());

        let mut cc = as_stranger(&exe, uid);
        cc.args(["consume", &name.0, "--name", "stranger", "--count", "1"])
            .args(["--timeout-ms", "10000"]);
        if allowed {
            let mut consumer = Proc::spawn(cc, "consumer as another user");
            consumer.wait_line("ready", T);
            let mut p = dmp();
            p.args(["produce", &name.0, "--count", "1"]);
            Proc::spawn(p, "producer").succeed(T);
            let out = consumer.succeed(T);
            assert!(out.contains("consumed 1 events"), "{what}: {out}");
            eprintln!("mode {what}: uid {uid} attached and consumed");
        } else {
            let (ok, out) = support::run(cc, "consumer as another user", T);
            assert!(!ok, "mode {what}: uid {uid} attached:\n{out}");
            // 0644: readable, so opened read-only, and refused as a
            // participant, saying why.
            let refusal = if what == "644" {
                "attaching a consumer needs write permission"
            } else {
                "permission denied"
            };
            assert!(out.contains(refusal), "mode {what}: {out}");
            eprintln!("mode {what}: uid {uid} refused: {}", out.trim());
            // Nor can it take the name away (/dev/shm is sticky).
            let mut rm = as_stranger(&exe, uid);
            rm.args(["rm", &name.0, "--force"]);
            let (ok, out) = support::run(rm, "rm as another user", T);
            assert!(!ok && name.path().exists(), "mode {what}: {out}");
        }
    }
}

/// Whether `user` may run `exe` at all (a hardened system may forbid it).
fn stranger_runs(exe: &PathBuf, uid: u32) -> bool {
    let mut probe = as_stranger(exe, uid);
    probe.arg("--version");
    match probe.output() {
        Ok(o) if o.status.success() => true,
        other => {
            support::skip_or_fail(&format!("cannot run dmp as uid {uid}: {other:?}"));
            false
        }
    }
}

/// tests/c/ring_stat.c (a C snapshot reader) and the library, copied
/// beside `dmp` where any user may run them (run with LD_LIBRARY_PATH set
/// to the directory).
fn public_c_observer(dir: &tempfile::TempDir) -> PathBuf {
    let src = support::repo_root().join("tests/c/ring_stat.c");
    let built = support::compile_c(&[&src], "ring_stat_perm", false);
    let exe = dir.path().join("ring_stat");
    std::fs::copy(built, &exe).unwrap();
    let so = dir
        .path()
        .join(format!("libdisruptor_mp.so.{}", support::version().0));
    std::fs::copy(support::shared_library(), &so).unwrap();
    for f in [&exe, &so] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    exe
}

/// The permissions of `path`'s mapping in process `pid` ("r--s", "rw-s").
fn mapping_perms(pid: u32, path: &std::path::Path) -> Option<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    let path = path.to_string_lossy();
    maps.lines()
        .find(|l| l.ends_with(path.as_ref()))
        .and_then(|l| l.split_whitespace().nth(1))
        .map(str::to_string)
}

#[test]
fn a_group_observes_a_0640_ring_it_cannot_change() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        support::skip_or_fail("not root, so no second user to test with: run the tests as root");
        return;
    }
    let _serial = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let exe = public_dmp(&dir);
    let uid = stranger();
    if !stranger_runs(&exe, uid) {
        return;
    }
    // The stranger's gid is `uid` (as_stranger): the ring's group.
    let name = ShmName::new("perm-group");
    let mut c = dmp();
    c.args(["create", &name.0, "--capacity", "64", "--slot-size", "24"])
        .args(["--mode", "640", "--group", &uid.to_string()]);
    let (ok, out) = support::run(c, "create --group", T);
    assert!(ok, "{out}");
    let meta = std::fs::metadata(name.path()).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    assert_eq!(std::os::unix::fs::MetadataExt::gid(&meta), uid);

    // A consumer and a producer of the owner's, running.
    let mut cc = dmp();
    cc.args(["consume", &name.0, "--name", "owner", "--count", "1000000"])
        .args(["--timeout-ms", "60000"]);
    let mut consumer = Proc::spawn(cc, "owner's consumer");
    consumer.wait_line("ready", T);
    let mut p = dmp();
    p.args(["produce", &name.0, "--count", "1000000", "--pause-us", "50"]);
    let mut producer = Proc::spawn(p, "owner's producer");
    producer.wait_line("producing", T);

    // The group sees everything: stat (each output), inspect, ls.
    for args in [
        vec!["stat", name.0.as_str(), "--json"],
        vec!["stat", name.0.as_str(), "--prometheus"],
        vec!["stat", name.0.as_str()],
        vec!["inspect", name.0.as_str()],
        vec!["ls"],
    ] {
        let mut o = as_stranger(&exe, uid);
        o.args(&args);
        let (ok, out) = support::run(o, "observer as another user", T);
        assert!(ok, "{args:?} as uid {uid}:\n{out}");
        assert!(out.contains("owner") || args[0] == "ls", "{args:?}: {out}");
        if args[0] == "ls" {
            let row = out.lines().find(|l| l.starts_with(&name.0));
            assert!(row.is_some_and(|r| r.contains("live")), "{out}");
        }
    }
    // So does a C observer (dmp_ring_open falls back to read-only).
    let c_stat = public_c_observer(&dir);
    let mut o = as_stranger(&c_stat, uid);
    o.arg(&name.0).env("LD_LIBRARY_PATH", dir.path());
    let (ok, out) = support::run(o, "C ring_stat as another user", T);
    assert!(
        ok && out.contains("consumer owner ") && out.ends_with("ok\n"),
        "{out}"
    );

    let mut o = as_stranger(&exe, uid);
    o.args(["stat", &name.0, "--json"]);
    let (_, json) = support::run(o, "stat --json as another user", T);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["consumers"][0]["name"], "owner");
    assert_eq!(v["producers"][0]["alive"], true);
    let attaches = v["attaches"].as_u64().unwrap();

    // It cannot take part, and is told why.
    for (role, args) in [
        (
            "consumer",
            vec![
                "consume",
                name.0.as_str(),
                "--name",
                "intruder",
                "--count",
                "1",
            ],
        ),
        ("producer", vec!["produce", name.0.as_str(), "--count", "1"]),
    ] {
        let mut o = as_stranger(&exe, uid);
        o.args(&args).args(["--timeout-ms", "1000"]);
        let (ok, out) = support::run(o, "participant as another user", T);
        assert!(!ok, "{role} attached as uid {uid}:\n{out}");
        assert!(
            out.contains(&format!("attaching a {role} needs write permission")),
            "{role}: {out}"
        );
    }
    // Nothing changed: no attach was counted.
    let mut o = dmp();
    o.args(["stat", &name.0, "--json"]);
    let (_, json) = support::run(o, "stat --json", T);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["attaches"].as_u64().unwrap(), attaches, "{json}");

    // Even the owner's observer maps the ring read-only.
    let mut w = dmp();
    w.args([
        "stat",
        &name.0,
        "--watch",
        "--interval-ms",
        "50",
        "--count",
        "400",
    ]);
    let mut watch = Proc::spawn(w, "stat --watch");
    watch.wait_line("dmp stat", T);
    let perms = mapping_perms(watch.child.id(), &name.path());
    assert_eq!(perms.as_deref(), Some("r--s"), "the observer's mapping");
    let perms = mapping_perms(producer.child.id(), &name.path());
    assert_eq!(perms.as_deref(), Some("rw-s"), "the producer's mapping");
    drop(watch);
    drop(producer);
    drop(consumer);

    // Without the group's read permission the stranger sees nothing.
    std::fs::set_permissions(name.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut o = as_stranger(&exe, uid);
    o.args(["stat", &name.0]);
    let (ok, out) = support::run(o, "stat as another user, 0600", T);
    assert!(!ok && out.contains("permission denied"), "{out}");
}

#[test]
fn create_group_errors_name_the_group() {
    let name = ShmName::new("perm-nogroup");
    let mut c = dmp();
    c.args(["create", &name.0, "--group", "no-such-group-dmp-test"]);
    let (ok, out) = support::run(c, "create --group missing", T);
    assert!(!ok && !name.path().exists(), "{out}");
    assert!(
        out.contains("--group no-such-group-dmp-test: no such group"),
        "{out}"
    );

    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        support::skip_or_fail("not root, so no second user to refuse a chgrp to");
        return;
    }
    let _serial = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let exe = public_dmp(&dir);
    let uid = stranger();
    if !stranger_runs(&exe, uid) {
        return;
    }
    // The stranger is no member of root's group: chgrp is refused, the
    // error names the group, and no ring is left behind.
    let name = ShmName::new("perm-refused");
    let mut c = as_stranger(&exe, uid);
    c.args(["create", &name.0, "--group", "root", "--mode", "640"]);
    let (ok, out) = support::run(c, "create --group root as another user", T);
    assert!(!ok, "{out}");
    assert!(
        out.contains("--group root:") && out.contains("chgrp"),
        "{out}"
    );
    assert!(!name.path().exists());
}
