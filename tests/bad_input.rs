//! Every kind of bad input gets its own error code and a message naming
//! what is wrong, and leaves nothing behind.

mod support;

use disruptor_mp::layout::{self, field, Layout, CHECKSUM_OFFSET};
use disruptor_mp::{Error, Location, Ring, RingOptions, Status, WaitStrategy};
use std::path::Path;
use std::time::Duration;
use support::ShmName;

fn create_err(name: &ShmName, opts: RingOptions) -> Error {
    let e = Ring::create(&name.location(), &opts).expect_err("create must fail");
    assert!(
        !name.path().exists(),
        "a failed create left {}",
        name.path().display()
    );
    e
}

#[test]
fn bad_ring_parameters() {
    let n = ShmName::new("badparams");
    for (opts, status, text) in [
        (
            RingOptions::new().capacity(0),
            Status::InvalidCapacity,
            "at least 1",
        ),
        (
            RingOptions::new().capacity(1000),
            Status::InvalidCapacity,
            "power of two (nearest: 1024)",
        ),
        (
            RingOptions::new().capacity(1 << 60),
            Status::InvalidCapacity,
            "at most",
        ),
        (
            RingOptions::new().slot_size(0),
            Status::InvalidSlotSize,
            "between 1 and",
        ),
        (
            RingOptions::new().slot_size(1 << 30),
            Status::InvalidSlotSize,
            "between 1 and",
        ),
        (
            RingOptions::new().max_consumers(0),
            Status::InvalidArgument,
            "max_consumers",
        ),
        (
            RingOptions::new().max_consumers(65),
            Status::InvalidArgument,
            "max_consumers",
        ),
        (
            RingOptions::new().mode(0o1777),
            Status::InvalidArgument,
            "mode",
        ),
        (
            RingOptions::new().mode(0o400),
            Status::InvalidArgument,
            "owner read and write",
        ),
    ] {
        let e = create_err(&n, opts);
        assert_eq!(e.status(), status, "{e}");
        assert!(e.to_string().contains(text), "{e}");
    }
}

#[test]
fn bad_names() {
    let long = "x".repeat(201);
    for name in ["", "a/b", "/abs", ".dot", "spa ce", long.as_str()] {
        let e = Ring::create(&Location::shm(name), &RingOptions::new()).unwrap_err();
        assert_eq!(e.status(), Status::InvalidName, "{name:?}: {e}");
    }
    let n = ShmName::new("cname");
    let ring = Ring::create(&n.location(), &RingOptions::new().capacity(8)).unwrap();
    for cname in ["", &"c".repeat(64), "with space", "sl/ash"] {
        let e = ring.consumer(cname, &[], WaitStrategy::Yield).unwrap_err();
        assert_eq!(e.status(), Status::InvalidName, "{cname:?}: {e}");
    }
    let e = ring
        .consumer("b", &["nobody"], WaitStrategy::Yield)
        .unwrap_err();
    assert_eq!(e.status(), Status::DependencyNotFound);
    assert!(e.to_string().contains("nobody"));
    let e = ring
        .consumer("self", &["self"], WaitStrategy::Yield)
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
}

#[test]
fn sequences_outside_the_claimed_or_available_range() {
    let n = ShmName::new("seqs");
    let ring = Ring::create(&n.location(), &RingOptions::new().capacity(8).slot_size(8)).unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    let t = Duration::from_millis(100);
    // Publish of a range that was never claimed.
    let e = p.publish(0, 0).unwrap_err();
    assert_eq!(e.status(), Status::SequenceOutOfRange, "{e}");
    assert_eq!(p.claim(0, t).unwrap_err().status(), Status::BatchTooLarge);
    assert_eq!(p.claim(9, t).unwrap_err().status(), Status::BatchTooLarge);
    let lo = p.claim(2, t).unwrap();
    assert_eq!(
        p.publish(lo + 1, lo + 1).unwrap_err().status(),
        Status::SequenceOutOfRange
    );
    assert_eq!(
        p.publish(lo, lo + 2).unwrap_err().status(),
        Status::SequenceOutOfRange
    );
    assert_eq!(
        p.slot_mut(lo + 2).unwrap_err().status(),
        Status::SequenceOutOfRange
    );
    p.publish(lo, lo).unwrap();
    // Commit beyond what is available, and reads outside the batch.
    assert_eq!(
        c.commit(0).unwrap_err().status(),
        Status::SequenceOutOfRange
    );
    assert_eq!(c.slot(0).unwrap_err().status(), Status::SequenceOutOfRange);
    assert_eq!(c.wait_for(0, t).unwrap(), 0);
    assert_eq!(
        c.commit(1).unwrap_err().status(),
        Status::SequenceOutOfRange
    );
    c.commit(0).unwrap();
    c.commit(0).unwrap(); // the same value again is a no-op
    assert_eq!(
        c.commit(-1).unwrap_err().status(),
        Status::SequenceOutOfRange
    );
    // A sequence beyond a ring's worth past the commit can never come.
    assert_eq!(
        c.wait_for(20, t).unwrap_err().status(),
        Status::SequenceOutOfRange
    );
    // Nothing more is published: a bounded wait times out, a try would block.
    assert_eq!(c.wait_for(1, t).unwrap_err().status(), Status::Timeout);
    assert_eq!(c.try_wait_for(1).unwrap_err().status(), Status::WouldBlock);
    // The ring is full once 8 slots are claimed past the consumer.
    p.publish(lo + 1, lo + 1).unwrap();
    p.claim(7, t).unwrap();
    assert_eq!(p.try_claim(1).unwrap_err().status(), Status::WouldBlock);
    assert_eq!(p.claim(1, t).unwrap_err().status(), Status::Timeout);
}

#[test]
fn a_second_live_producer_is_refused() {
    let n = ShmName::new("twoprod");
    let ring = Ring::create(&n.location(), &RingOptions::new().capacity(8)).unwrap();
    let p = ring.producer(WaitStrategy::Yield).unwrap();
    let e = ring.producer(WaitStrategy::Yield).unwrap_err();
    assert_eq!(e.status(), Status::ProducerExists);
    assert!(
        e.to_string().contains(&std::process::id().to_string()),
        "{e}"
    );
    drop(p);
    ring.producer(WaitStrategy::Yield).unwrap();
}

#[test]
fn consumer_names_are_unique_and_the_table_has_a_size() {
    let n = ShmName::new("table");
    let ring = Ring::create(
        &n.location(),
        &RingOptions::new().capacity(8).max_consumers(2),
    )
    .unwrap();
    let a = ring.consumer("a", &[], WaitStrategy::Yield).unwrap();
    assert_eq!(
        ring.consumer("a", &[], WaitStrategy::Yield)
            .unwrap_err()
            .status(),
        Status::NameInUse
    );
    let _b = ring.consumer("b", &[], WaitStrategy::Yield).unwrap();
    let e = ring.consumer("c", &[], WaitStrategy::Yield).unwrap_err();
    assert_eq!(e.status(), Status::ConsumerTableFull);
    a.close().unwrap();
    // A left entry is reused by a newcomer when no entry is free.
    ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
}

#[test]
fn typed_access_checks_size_and_alignment() {
    #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
    #[repr(C, align(16))]
    struct Wide {
        a: u64,
        b: u64,
    }
    let n = ShmName::new("typed");
    let ring = Ring::create(&n.location(), &RingOptions::new().capacity(8).slot_size(8)).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    let e = p.send(&Wide { a: 1, b: 2 }, Duration::ZERO).unwrap_err();
    assert_eq!(e.status(), Status::InvalidSlotSize, "{e}");
    let n = ShmName::new("typedpacked");
    let opts = RingOptions::new().capacity(8).slot_size(16).packed(true);
    let ring = Ring::create(&n.location(), &opts).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    let e = p.send(&Wide { a: 1, b: 2 }, Duration::ZERO).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert!(e.to_string().contains("8-byte aligned"), "{e}");
    p.send(&[7u64, 9u64], Duration::ZERO).unwrap();
}

#[test]
fn batch_slices_split_at_the_wrap_and_check_their_range() {
    let n = ShmName::new("slices");
    let opts = RingOptions::new().capacity(4).slot_size(8).packed(true);
    let ring = Ring::create(&n.location(), &opts).unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    let t = Duration::from_millis(100);
    for round in 0..3i64 {
        let lo = p.claim(3, t).unwrap();
        assert_eq!(
            p.slots_mut(lo, lo + 3).unwrap_err().status(),
            Status::SequenceOutOfRange
        );
        let (a, b) = p.slots_mut(lo, lo + 2).unwrap();
        assert_eq!(a.len() + b.len(), 3 * 8);
        for (k, e) in a
            .chunks_exact_mut(8)
            .chain(b.chunks_exact_mut(8))
            .enumerate()
        {
            e.copy_from_slice(&(lo + k as i64).to_ne_bytes());
        }
        p.publish(lo, lo + 2).unwrap();
        let last = c.wait_for(lo, t).unwrap();
        assert_eq!(last, lo + 2, "round {round}");
        let (a, b) = c.slots(lo, last).unwrap();
        let seen: Vec<i64> = a
            .chunks_exact(8)
            .chain(b.chunks_exact(8))
            .map(|e| i64::from_ne_bytes(e.try_into().unwrap()))
            .collect();
        assert_eq!(seen, vec![lo, lo + 1, lo + 2]);
        assert_eq!(
            c.slots(lo, last + 1).unwrap_err().status(),
            Status::SequenceOutOfRange
        );
        c.commit(last).unwrap();
    }
    let n = ShmName::new("slicesstamped");
    let ring = Ring::create(&n.location(), &RingOptions::new().capacity(4).slot_size(8)).unwrap();
    let mut p = ring.producer(WaitStrategy::Yield).unwrap();
    let lo = p.claim(1, Duration::ZERO).unwrap();
    assert_eq!(
        p.slots_mut(lo, lo).unwrap_err().status(),
        Status::Unsupported
    );
}

#[test]
fn blocking_strategy_needs_a_ring_with_wakeups() {
    let n = ShmName::new("nowake");
    let ring = Ring::create(&n.location(), &RingOptions::new().wakeups(false)).unwrap();
    assert_eq!(
        ring.producer(WaitStrategy::Blocking).unwrap_err().status(),
        Status::Unsupported
    );
    assert_eq!(
        ring.consumer("c", &[], WaitStrategy::Blocking)
            .unwrap_err()
            .status(),
        Status::Unsupported
    );
}

#[test]
fn open_checks_the_layout_the_caller_asked_for() {
    let n = ShmName::new("expect");
    let opts = RingOptions::new()
        .capacity(64)
        .slot_size(24)
        .type_id(0xfeed);
    Ring::create(&n.location(), &opts).unwrap();
    Ring::open(&n.location(), &opts).unwrap();
    let e = Ring::open(&n.location(), &RingOptions::new().capacity(128)).unwrap_err();
    assert_eq!(e.status(), Status::LayoutMismatch);
    assert!(
        e.to_string().contains("capacity 64") && e.to_string().contains("128"),
        "{e}"
    );
    let e = Ring::open(&n.location(), &RingOptions::new().slot_size(8)).unwrap_err();
    assert_eq!(e.status(), Status::LayoutMismatch);
    let e = Ring::open(&n.location(), &RingOptions::new().packed(true)).unwrap_err();
    assert_eq!(e.status(), Status::LayoutMismatch);
    assert!(e.to_string().contains("packed"), "{e}");
    let e = Ring::open(&n.location(), &RingOptions::new().type_id(0xbeef)).unwrap_err();
    assert_eq!(e.status(), Status::TypeMismatch);
    assert!(
        e.to_string().contains("feed") && e.to_string().contains("beef"),
        "{e}"
    );
    assert_eq!(
        Ring::create(&n.location(), &opts).unwrap_err().status(),
        Status::AlreadyExists
    );
    let missing = ShmName::new("missing");
    assert_eq!(
        Ring::open(&missing.location(), &RingOptions::new())
            .unwrap_err()
            .status(),
        Status::NotFound
    );
}

/// Writes `bytes` as a file and checks that opening it fails with `status`
/// and leaves the file as it was.
fn open_file_fails(bytes: &[u8], status: Status, text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seg");
    std::fs::write(&path, bytes).unwrap();
    let e = Ring::open(&Location::file(&path), &RingOptions::new()).unwrap_err();
    assert_eq!(e.status(), status, "{e}");
    assert!(e.to_string().contains(text), "{e}");
    assert!(e.to_string().contains(path.to_str().unwrap()), "{e}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the failed open changed the file"
    );
}

fn valid_segment() -> Vec<u8> {
    let n = ShmName::new("image");
    Ring::create(&n.location(), &RingOptions::new().capacity(16).slot_size(8)).unwrap();
    std::fs::read(n.path()).unwrap()
}

fn reseal(bytes: &mut [u8]) {
    let sum = layout::checksum(&bytes[..CHECKSUM_OFFSET]);
    bytes[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 8].copy_from_slice(&sum.to_ne_bytes());
}

#[test]
fn corrupt_and_foreign_files_are_refused() {
    let good = valid_segment();
    open_file_fails(
        b"#!/bin/sh\necho not a ring\n",
        Status::NotASegment,
        "not a disruptor-mp segment",
    );
    open_file_fails(&[], Status::NotASegment, "not a disruptor-mp segment");
    let random: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    open_file_fails(&random, Status::NotASegment, "not a disruptor-mp segment");
    open_file_fails(&good[..300], Status::Truncated, "truncated");
    open_file_fails(&good[..good.len() - 4096], Status::Truncated, "truncated");

    let mut flipped = good.clone();
    flipped[field::CAPACITY + 1] ^= 0x01;
    open_file_fails(&flipped, Status::ChecksumMismatch, "checksum");
    let mut flipped = good.clone();
    flipped[CHECKSUM_OFFSET] ^= 0x80;
    open_file_fails(&flipped, Status::ChecksumMismatch, "checksum");

    let mut v9 = good.clone();
    v9[field::FORMAT_VERSION..field::FORMAT_VERSION + 4].copy_from_slice(&9u32.to_ne_bytes());
    reseal(&mut v9);
    open_file_fails(&v9, Status::VersionMismatch, "format version 9");

    let mut far = good.clone();
    let slots = field::REGIONS + 3 * 16;
    far[slots..slots + 8].copy_from_slice(&(1u64 << 45).to_ne_bytes());
    reseal(&mut far);
    open_file_fails(&far, Status::Corrupt, "outside");

    let mut odd = good.clone();
    odd[field::CAPACITY..field::CAPACITY + 8].copy_from_slice(&12u64.to_ne_bytes());
    reseal(&mut odd);
    open_file_fails(&odd, Status::Corrupt, "power of two");

    let mut not_ready = good.clone();
    not_ready[layout::STATE_OFFSET] = 0;
    open_file_fails(&not_ready, Status::Corrupt, "state");

    // The untouched image opens fine.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok");
    std::fs::write(&path, &good).unwrap();
    let ring = Ring::open(&Location::file(&path), &RingOptions::new()).unwrap();
    assert_eq!(ring.capacity(), 16);
    assert!(Layout::decode(Path::new("x"), &good[..512], good.len() as u64).is_ok());
}

#[test]
fn permissions_are_applied_exactly_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    for mode in [0o600, 0o640, 0o666] {
        let n = ShmName::new("mode");
        Ring::create(&n.location(), &RingOptions::new().capacity(8).mode(mode)).unwrap();
        let m = std::fs::metadata(n.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(m, mode);
    }
    let n = ShmName::new("defmode");
    Ring::create(&n.location(), &RingOptions::new().capacity(8)).unwrap();
    assert_eq!(
        std::fs::metadata(n.path()).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn a_ring_larger_than_the_free_space_fails_at_create_naming_the_bytes() {
    // Larger than the whole of /dev/shm, so the reservation fails up front
    // (tmpfs refuses a fallocate beyond its size without touching memory).
    let size = disruptor_mp::internals::fs_size_bytes(Path::new("/dev/shm"));
    let slot = 1u64 << 20;
    let capacity = ((size / slot) + 1).next_power_of_two();
    if capacity > layout::MAX_CAPACITY || capacity * slot > layout::MAX_TOTAL_SIZE {
        eprintln!("skipped: /dev/shm ({size} bytes) is larger than the largest ring");
        return;
    }
    let n = ShmName::new("huge");
    let e = create_err(
        &n,
        RingOptions::new().capacity(capacity).slot_size(slot - 8),
    );
    assert_eq!(e.status(), Status::NoSpace, "{e}");
    assert!(e.to_string().contains("bytes free"), "{e}");
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
        let out = std::process::Command::new("mount")
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

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for SmallTmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_full_file_system_fails_the_create_and_never_raises_sigbus_later() {
    const MIB: u64 = 1 << 20;
    let fs = match SmallTmpfs::mount(4 * MIB) {
        Ok(fs) => fs,
        Err(why) => {
            support::skip_or_fail(&format!("a small tmpfs is needed (mount as root): {why}"));
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
    // Nothing of the failed create is left, named or hidden (the first
    // ring's wake-up directory is that ring's).
    let names: Vec<_> = std::fs::read_dir(fs.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".ring.dmp-wake."))
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
        disruptor_mp::internals::free_bytes(fs.dir.path()) < 4096,
        "the file system should be full"
    );
    // Every page of the ring is written, in other processes: a page that
    // had not been reserved would kill them with SIGBUS now.
    let loc = ring_path.to_str().unwrap();
    let mut cc = support::dmp();
    cc.args([
        "consume", "--file", loc, "--name", "reader", "--count", "2048",
    ])
    .args(["--timeout-ms", "20000"]);
    let mut consumer = support::Proc::spawn(cc, "consumer");
    consumer.wait_line("ready", Duration::from_secs(60));
    let mut pc = support::dmp();
    pc.args(["produce", "--file", loc, "--count", "2048", "--batch", "16"]);
    for (what, p) in [
        ("producer", support::Proc::spawn(pc, "producer")),
        ("consumer", consumer),
    ] {
        let (status, out) = p.finish_status(Duration::from_secs(60));
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            None,
            "{what} killed by a signal:\n{out}"
        );
        assert!(status.success(), "{what}:\n{out}");
    }
}
