//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the
//! same harnesses the cargo-fuzz targets run (`tests/fuzz_harness/`), with
//! the stable toolchain, on every test run. Crashing inputs found by
//! fuzzing are added to the corpus, so they stay fixed.
//!
//! `cargo test --release --test fuzz_corpus -- --ignored write_seeds`
//! rewrites the seed files this file generates (the `seed-*` names); the
//! fuzzer's own additions are kept.

mod fuzz_harness;

use disruptor_mp::layout::{self, field, CHECKSUM_OFFSET};
use disruptor_mp::{Location, ProducerMode, Ring, RingOptions, WaitStrategy};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// The two replays share the scratch directory, which each removes when
/// it is done: they run one at a time.
static SCRATCH: Mutex<()> = Mutex::new(());

fn replay(target: &str, run: fn(&[u8])) {
    let _one_at_a_time = SCRATCH.lock().unwrap_or_else(|p| p.into_inner());
    let dir = corpus(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        // A failure names the input to reproduce it with.
        eprintln!("replaying {}", f.display());
        run(&bytes);
    }
    eprintln!("{target}: {} inputs replayed", files.len());
    let _ = std::fs::remove_dir(fuzz_harness::scratch_dir());
}

#[test]
fn segment_file_corpus() {
    replay("segment_file", fuzz_harness::segment_file::run);
}

#[test]
fn c_abi_sequence_corpus() {
    replay("c_abi_sequence", fuzz_harness::c_abi_sequence::run);
}

// ---- seed generation -------------------------------------------------

fn reseal(bytes: &mut [u8]) {
    let sum = layout::checksum(&bytes[..CHECKSUM_OFFSET]);
    bytes[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 8].copy_from_slice(&sum.to_ne_bytes());
}

/// A segment file of `opts` as the library writes it, optionally after a
/// consumer and a producer used it (tables, counters and slots filled).
fn segment(opts: &RingOptions, used: bool) -> Vec<u8> {
    let path = fuzz_harness::scratch_dir().join(fuzz_harness::unique("seed"));
    let ring = Ring::create(&Location::file(&path), opts).unwrap();
    if used {
        let mut c = ring.consumer("seed", &[], WaitStrategy::Yield).unwrap();
        let mut d = ring
            .consumer("seed-dep", &["seed"], WaitStrategy::Yield)
            .unwrap();
        let mut p = ring.producer(WaitStrategy::Yield).unwrap();
        let t = Duration::from_millis(100);
        for _ in 0..3 {
            let lo = p.claim(2, t).unwrap();
            p.publish(lo, lo + 1).unwrap();
            let hi = c.wait_for(c.next_sequence(), t).unwrap();
            c.commit(hi).unwrap();
            let hi = d.wait_for(d.next_sequence(), t).unwrap();
            d.commit(hi).unwrap();
        }
        // Claimed and not published: a pending claim in the tables.
        p.claim(1, t).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::mem::forget(p); // keep the claim pending in the image
        drop(ring);
        std::fs::remove_file(&path).unwrap();
        return bytes;
    }
    drop(ring);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

fn write_segment_seeds() {
    let dir = corpus("segment_file");
    std::fs::create_dir_all(&dir).unwrap();
    let base = || RingOptions::new().capacity(4).slot_size(8).max_consumers(2);
    let multi = |o: RingOptions| o.producer_mode(ProducerMode::Multi).max_producers(2);
    let seeds: Vec<(&str, RingOptions, bool)> = vec![
        ("stamped-single", base(), false),
        ("packed-single", base().packed(true), false),
        ("stamped-multi", multi(base()), false),
        ("packed-multi", multi(base()).packed(true), false),
        ("stamped-single-used", base(), true),
        ("packed-multi-used", multi(base()).packed(true), true),
        ("stamped-multi-used", multi(base()), true),
        (
            "cap1-nowake-nocounters",
            RingOptions::new()
                .capacity(1)
                .slot_size(1)
                .max_consumers(1)
                .wakeups(false)
                .hot_counters(false),
            false,
        ),
    ];
    for (name, opts, used) in seeds {
        let bytes = segment(&opts, used);
        std::fs::write(dir.join(format!("seed-{name}")), &bytes).unwrap();
        if name == "stamped-single-used" {
            let variants: Vec<(&str, Vec<u8>)> = vec![
                ("truncated-300", bytes[..300].to_vec()),
                ("truncated-header", bytes[..512].to_vec()),
                ("truncated-body", bytes[..bytes.len() - 4096].to_vec()),
                ("magic-only", bytes[..8].to_vec()),
                ("checksum-flipped", {
                    let mut b = bytes.clone();
                    b[CHECKSUM_OFFSET] ^= 0x80;
                    b
                }),
                ("version-1", {
                    // Format version 1 (8-byte availability stamps).
                    let mut b = bytes.clone();
                    b[field::FORMAT_VERSION..field::FORMAT_VERSION + 4]
                        .copy_from_slice(&1u32.to_ne_bytes());
                    reseal(&mut b);
                    b
                }),
                ("version-2", {
                    // The previous format (sleeper counts in their
                    // sequences' lines).
                    let mut b = bytes.clone();
                    b[field::FORMAT_VERSION..field::FORMAT_VERSION + 4]
                        .copy_from_slice(&2u32.to_ne_bytes());
                    reseal(&mut b);
                    b
                }),
                ("version-9", {
                    let mut b = bytes.clone();
                    b[field::FORMAT_VERSION..field::FORMAT_VERSION + 4]
                        .copy_from_slice(&9u32.to_ne_bytes());
                    reseal(&mut b);
                    b
                }),
                ("state-0", {
                    let mut b = bytes.clone();
                    b[layout::STATE_OFFSET] = 0;
                    b
                }),
                ("capacity-12", {
                    let mut b = bytes.clone();
                    b[field::CAPACITY..field::CAPACITY + 8].copy_from_slice(&12u64.to_ne_bytes());
                    reseal(&mut b);
                    b
                }),
            ];
            for (v, b) in variants {
                std::fs::write(dir.join(format!("seed-{v}")), b).unwrap();
            }
        }
    }
}

/// Call-program seeds, in the harness's encoding (see
/// `tests/fuzz_harness/c_abi_sequence.rs`, `step`): each line is one call.
fn write_call_seeds() {
    let dir = corpus("c_abi_sequence");
    std::fs::create_dir_all(&dir).unwrap();
    // Options struct read by `Buf::with`: 3 = as initialised.
    const AS_IS: u8 = 3;
    let flow: Vec<Vec<u8>> = vec![
        // consumer_open(ring 0, "a", no deps, yield options)
        vec![13, 0, 0, 1, 0, 3, 1, 1, 0, AS_IS, 1],
        // consumer_open(ring 0, "b", depends on "a")
        vec![13, 0, 3, 1, 1, 0, 3, 1, 1, 0, AS_IS, 1],
        // producer_open(ring 0, yield)
        vec![4, 0, 1, 1, 0, AS_IS, 1],
        // try_claim(p0, 3)
        vec![6, 0, 0, 2, 3, 1],
        // producer_span(p0, first, first + 2)
        vec![11, 0, 0, 0, 0, 3, AS_IS, 1],
        // publish(p0, first, first + 2)
        vec![8, 0, 0, 0, 0, 0, 2],
        // wait_for(c0, 0)
        vec![16, 0, 6, 0, 1],
        // consumer_span(c0, 0, 2)
        vec![20, 0, 6, 0, 3, AS_IS, 1],
        // consumer_event(c0, 1), consumer_slot(c0, 2)
        vec![19, 0, 6, 1, 1],
        vec![18, 0, 6, 2],
        // commit(c0, 2); wait_for(c1, 0); commit(c1, 2)
        vec![21, 0, 6, 2],
        vec![16, 1, 6, 0, 1],
        vec![21, 1, 6, 2],
        // claim(p0, 8 - wraps), producer_slot(p0, first), unclaim(p0, first)
        vec![6, 1, 0, 2, 8, 1, 0],
        vec![10, 0, 0, 1, 0],
        vec![12, 0, 0, 1, 0],
        // snapshot_take(ring 0), stats, consumer 1, producer 0, counter 7
        vec![23, 0, 1],
        vec![24, 0, 1, 0, 1, 0, AS_IS],
        vec![24, 0, 1, 1, 1, 1, AS_IS],
        vec![24, 0, 1, 0, 1, 2, AS_IS],
        vec![24, 0, 1, 7, 1, 3, AS_IS],
        // close p0, then use it: claim, publish, close again
        vec![5, 0],
        vec![6, 1, 0, 2, 1, 1, 0],
        vec![8, 0, 6, 0, 0, 0],
        vec![5, 0],
        // close ring 0, then open a producer on it
        vec![3, 0],
        vec![4, 0, 0, 1],
    ];
    let program: Vec<u8> = flow.concat();
    // Layouts and modes: stamped/packed x single/multi, capacity 8.
    for (name, first) in [
        ("stamped-single", 3u8),
        ("packed-single", 3 | 16),
        ("stamped-multi", 3 | 32),
        ("packed-multi", 3 | 16 | 32),
        ("packed-multi-cap1-nowake", 16 | 32 | 64 | 128),
    ] {
        let mut b = vec![first];
        b.extend_from_slice(&program);
        std::fs::write(dir.join(format!("seed-flow-{name}")), b).unwrap();
    }
    // Ring lifecycle: open the ring again (checking its layout), a second
    // producer (refused in a single-producer ring), open-or-create of a
    // second name, create of a taken name, bad names, unlink, closes.
    let lifecycle: Vec<Vec<u8>> = vec![
        // open(ours, options: capacity 8, slot 8)
        vec![1, 1, 0, 1, 0, 3, 1, 1, 0, 0, 0, 0, AS_IS, 1],
        vec![4, 1, 0, 1],
        vec![4, 0, 0, 1],
        // open_or_create(other name, defaults), then create it again
        vec![2, 2, 6, 0, 1],
        vec![0, 0, 6, 0, 1],
        // create("", ...), open("a/b"), open of a file that is not there
        vec![0, 0, 8, 0, 1],
        vec![1, 1, 9, 0, 1],
        vec![1, 1, 7, 0, 1],
        // ring options with struct_size 12 and u32::MAX
        vec![0, 0, 6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4],
        vec![0, 0, 6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9],
        // unlink ours while open, close rings twice
        vec![26, 2, 0],
        vec![3, 0],
        vec![3, 0],
        vec![3, 1],
        vec![26, 1, 0xfd, 0xff, 0xff, 0xff],
        vec![26, 3],
    ];
    let mut b = vec![3u8];
    b.extend_from_slice(&lifecycle.concat());
    std::fs::write(dir.join("seed-lifecycle"), b).unwrap();
    std::fs::write(dir.join("seed-empty"), b"").unwrap();
}

#[test]
#[ignore = "writes the seed files into fuzz/corpus; run by hand"]
fn write_seeds() {
    let _one_at_a_time = SCRATCH.lock().unwrap_or_else(|p| p.into_inner());
    write_segment_seeds();
    write_call_seeds();
    let _ = std::fs::remove_dir(fuzz_harness::scratch_dir());
}
