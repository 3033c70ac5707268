//! Permissions across users: a ring is created 0600 by default, and a
//! process of another user attaches only as far as the mode allows. The
//! library opens segments read-write, so 0644 refuses the other user too
//! (PERMISSION_DENIED) and 0666 lets it in.
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
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let used: Vec<u32> = passwd
        .lines()
        .filter_map(|l| l.split(':').nth(2)?.parse().ok())
        .collect();
    (61_000..65_000)
        .find(|u| !used.contains(u))
        .expect("a free uid")
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
            assert!(out.contains("permission denied"), "mode {what}: {out}");
            eprintln!("mode {what}: uid {uid} refused: {}", out.trim());
            // Nor can it take the name away (/dev/shm is sticky).
            let mut rm = as_stranger(&exe, uid);
            rm.args(["rm", &name.0, "--force"]);
            let (ok, out) = support::run(rm, "rm as another user", T);
            assert!(!ok && name.path().exists(), "mode {what}: {out}");
        }
    }
}
