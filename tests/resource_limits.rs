//! Failed opens and creates leak nothing: after 10,000 rounds of every kind
//! of failure, this process has as many file descriptors and mappings as
//! before. (Its own test binary with one test, so that no other test's
//! threads, pipes or mappings come and go meanwhile. A full file system is
//! in bad_input.rs.)

mod support;

use disruptor_mp::layout::{self, CHECKSUM_OFFSET};
use disruptor_mp::{Location, Ring, RingOptions, Status};
use std::path::Path;
use support::ShmName;

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
