//! Resource limits. Failed opens and creates leak nothing: after 10,000
//! rounds of every kind of failure, this process has as many file
//! descriptors and mappings as before. (Its own test binary, whose tests
//! take the serial lock, so that no other test's pipes or mappings come and
//! go meanwhile.) A full file system fails a create with a clear error, and
//! a ring created before it filled up never raises SIGBUS: its pages were
//! reserved at creation.

mod support;

use disruptor_mp::layout::{self, CHECKSUM_OFFSET};
use disruptor_mp::{Location, Ring, RingOptions, Status};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{dmp, Proc, ShmName};

const ROUNDS: usize = 10_000;

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn maps() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}

fn expect(r: Result<Ring, disruptor_mp::Error>, status: Status, what: &str) {
    match r {
        Ok(_) => panic!("{what}: succeeded"),
        Err(e) => assert_eq!(e.status(), status, "{what}: {e}"),
    }
}

#[test]
fn ten_thousand_failed_opens_and_creates_leak_no_descriptor_or_mapping() {
    let _serial = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let good_name = ShmName::new("limits");
    let opts = RingOptions::new().capacity(16).slot_size(8);
    let ring = Ring::create(&good_name.location(), &opts).unwrap();
    drop(ring);
    let good = std::fs::read(good_name.path()).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        Location::file(p)
    };
    let foreign = write("foreign", b"#!/bin/sh\necho not a ring\n");
    let short = write("short", &good[..300]);
    let truncated = write("truncated", &good[..good.len() - 4096]);
    let mut bad = good.clone();
    bad[CHECKSUM_OFFSET] ^= 0x80;
    let corrupt = write("corrupt", &bad);
    let mut unready = good.clone();
    unready[layout::STATE_OFFSET] = 0;
    let unready = write("unready", &unready);
    let missing = ShmName::new("limits-missing");
    let nowhere = Location::file(dir.path().join("no/such/dir/ring"));
    let any = RingOptions::new();
    let other_layout = RingOptions::new().capacity(32);
    let other_type = RingOptions::new().type_id(7);

    // One round of everything first: lazily initialised state (the error
    // message buffers, std's caches) is not a leak.
    let round = || {
        expect(
            Ring::open(&missing.location(), &any),
            Status::NotFound,
            "missing",
        );
        expect(Ring::open(&foreign, &any), Status::NotASegment, "foreign");
        expect(Ring::open(&short, &any), Status::Truncated, "short");
        expect(Ring::open(&truncated, &any), Status::Truncated, "truncated");
        expect(
            Ring::open(&corrupt, &any),
            Status::ChecksumMismatch,
            "corrupt",
        );
        expect(Ring::open(&unready, &any), Status::Corrupt, "unready");
        expect(
            Ring::open(&good_name.location(), &other_layout),
            Status::LayoutMismatch,
            "layout",
        );
        expect(
            Ring::open(&good_name.location(), &other_type),
            Status::TypeMismatch,
            "type",
        );
        expect(Ring::open(&nowhere, &any), Status::NotFound, "no directory");
        // Creates: the name exists (the whole segment is built, then the
        // link fails), bad parameters, a directory that does not exist.
        expect(
            Ring::create(&good_name.location(), &opts),
            Status::AlreadyExists,
            "exists",
        );
        expect(
            Ring::create(&missing.location(), &RingOptions::new().capacity(3)),
            Status::InvalidCapacity,
            "capacity",
        );
        expect(
            Ring::create(&missing.location(), &RingOptions::new().mode(0o400)),
            Status::InvalidArgument,
            "mode",
        );
        assert!(Ring::create(&nowhere, &opts).is_err(), "create nowhere");
        assert!(!missing.path().exists());
    };
    round();
    let (fd0, map0) = (fds(), maps());
    for _ in 0..ROUNDS {
        round();
    }
    let (fd1, map1) = (fds(), maps());
    eprintln!(
        "after {ROUNDS} rounds of 13 failures: {fd0} -> {fd1} descriptors, {map0} -> {map1} mappings"
    );
    assert_eq!(fd1, fd0, "file descriptors leaked");
    assert_eq!(map1, map0, "mappings leaked");
    // Nothing left behind by the failed creates either.
    let leftovers: Vec<_> = std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(&format!("limits-missing-{}", std::process::id())))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(Path::new(&good_name.path()).exists());
}

/// A small tmpfs mounted for one test, unmounted on drop (also when the
/// test fails).
struct SmallTmpfs {
    dir: tempfile::TempDir,
}

impl SmallTmpfs {
    /// Mounts `size` bytes of tmpfs, or says why it cannot.
    fn mount(size: u64) -> Result<SmallTmpfs, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root, so no tmpfs of our own to fill".into());
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(SmallTmpfs { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for SmallTmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_full_file_system_fails_the_create_and_never_raises_sigbus_later() {
    let _serial = support::serial();
    const MIB: u64 = 1 << 20;
    let fs = match SmallTmpfs::mount(4 * MIB) {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    // A ring of about 2 MiB fits; a second one does not.
    let opts = RingOptions::new().capacity(512).slot_size(4096);
    let ring_path = fs.path("ring");
    let ring = Ring::create(&Location::file(&ring_path), &opts).expect("the first ring fits");
    let size = ring.layout().total_size;
    drop(ring);
    assert!(size < 4 * MIB && 2 * size > 4 * MIB, "{size}");
    let e = Ring::create(&Location::file(fs.path("second")), &opts).unwrap_err();
    assert_eq!(e.status(), Status::NoSpace, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(&size.to_string()) && msg.contains("bytes free"),
        "{msg}"
    );
    // Nothing of the failed create is left, named or hidden.
    let names: Vec<_> = std::fs::read_dir(fs.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["ring"]);

    // Fill what is left, to the last page.
    {
        use std::io::Write;
        let mut filler = std::fs::File::create(fs.path("filler")).unwrap();
        let page = vec![0x5au8; 4096];
        while filler.write_all(&page).is_ok() {}
    }
    assert!(
        disruptor_mp::sys::free_bytes(fs.dir.path()) < 4096,
        "the file system should be full"
    );
    // Every page of the ring is written, in other processes: a page that
    // had not been reserved would kill them with SIGBUS now.
    let loc = ring_path.to_str().unwrap();
    let mut cc = dmp();
    cc.args([
        "consume", "--file", loc, "--name", "reader", "--count", "2048",
    ])
    .args(["--timeout-ms", "20000"]);
    let mut consumer = Proc::spawn(cc, "consumer");
    consumer.wait_line("ready", Duration::from_secs(60));
    let mut pc = dmp();
    pc.args(["produce", "--file", loc, "--count", "2048", "--batch", "16"]);
    for (what, p) in [
        ("producer", Proc::spawn(pc, "producer")),
        ("consumer", consumer),
    ] {
        let (status, out) = p.finish_status(Duration::from_secs(60));
        assert_eq!(status.signal(), None, "{what} killed by a signal:\n{out}");
        assert!(status.success(), "{what}:\n{out}");
    }
}
