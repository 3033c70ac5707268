//! `segment_file`: arbitrary bytes as a segment file. Decoding the header
//! and opening the file must give a ring or a clean error; an opened ring
//! must survive inspection, a consumer and a producer on whatever its
//! tables and slots hold, with zero timeouts (nothing may wait or hang).
//!
//! The bytes are tried twice: as they are, and (when they are long enough
//! to hold one) with the header checksum recomputed, so that mutations
//! reach the parameter checks and the tables behind the checksum.

use super::{scratch_dir, unique};
use disruptor_mp::layout::{self, Layout, CHECKSUM_OFFSET, HEADER_SIZE};
use disruptor_mp::{Error, Location, Ring, RingOptions, Status, WaitStrategy};
use std::path::Path;

pub fn run(data: &[u8]) {
    let head = &data[..data.len().min(HEADER_SIZE as usize)];
    let decoded = Layout::decode(Path::new("fuzz"), head, data.len() as u64);
    if let Err(e) = &decoded {
        clean(e);
    }
    let opened = open_and_use(data);
    // Decoding is the whole validation up to the state word: whatever it
    // refuses, open refuses with the same status.
    if let (Err(d), Err(o)) = (&decoded, &opened) {
        assert_eq!(d.status(), o.status(), "decode: {d}; open: {o}");
    }
    if decoded.is_err() {
        assert!(opened.is_err(), "open accepted what decode refused");
    }
    if data.len() >= CHECKSUM_OFFSET + 8 {
        let mut sealed = data.to_vec();
        let sum = layout::checksum(&sealed[..CHECKSUM_OFFSET]);
        sealed[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 8].copy_from_slice(&sum.to_ne_bytes());
        if sealed != data {
            let head = &sealed[..sealed.len().min(HEADER_SIZE as usize)];
            if let Err(e) = Layout::decode(Path::new("fuzz"), head, sealed.len() as u64) {
                clean(&e);
            }
            let _ = open_and_use(&sealed);
        }
    }
}

/// An error must carry a real status, never a panic.
fn clean(e: &Error) {
    let s = e.status();
    assert_ne!(s, Status::Panic, "{e}");
    assert!(Status::from_code(s as i32).is_some(), "{e}");
    let _ = e.to_string();
}

/// Writes `bytes` as a segment file, opens it and, if it opens, uses it.
fn open_and_use(bytes: &[u8]) -> Result<(), Error> {
    let path = scratch_dir().join(unique("seg"));
    std::fs::write(&path, bytes).expect("write the segment file");
    let result = Ring::open(&Location::file(&path), &RingOptions::new());
    if let Ok(ring) = &result {
        use_ring(ring);
    }
    let _ = std::fs::remove_file(&path);
    if let Err(e) = &result {
        clean(e);
    }
    result.map(|_| ())
}

/// What `dmp inspect` / `dmp stat` read: the snapshot, every field of it.
fn inspect(ring: &Ring) {
    let s = ring.snapshot();
    std::hint::black_box((format!("{s:?}"), s.slowest().map(|c| c.lag)));
}

fn use_ring(ring: &Ring) {
    inspect(ring);
    let _ = (ring.cursor(), ring.claimed(), ring.abandoned());
    let existing = ring.consumers();
    let mut consumers = Vec::new();
    for (name, deps) in [
        ("fuzz", Vec::new()),
        // Depend on whatever the table holds (any bytes for a name).
        (
            "fuzz-dep",
            existing.iter().take(2).map(|r| r.name.clone()).collect(),
        ),
    ] {
        let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
        match ring.consumer(name, &deps, WaitStrategy::BusySpin) {
            Ok(c) => consumers.push(c),
            Err(e) => clean(&e),
        }
    }
    for c in &mut consumers {
        consume(c);
    }
    match ring.producer(WaitStrategy::BusySpin) {
        Ok(mut p) => {
            for n in [1, 2, ring.capacity()] {
                match p.try_claim(n) {
                    Ok(lo) => {
                        let hi = lo + n as i64 - 1;
                        for s in lo..=hi {
                            match p.slot_mut(s) {
                                Ok(slot) => slot.fill(0xa5),
                                Err(e) => clean(&e),
                            }
                        }
                        if let Err(e) = p.publish(lo, hi) {
                            clean(&e);
                        }
                    }
                    Err(e) => clean(&e),
                }
            }
            for c in &mut consumers {
                consume(c);
            }
            let _ = p.published();
        }
        Err(e) => clean(&e),
    }
    inspect(ring);
    let _ = ring.cursor();
    for c in consumers {
        if let Err(e) = c.close() {
            clean(&e);
        }
    }
}

fn consume(c: &mut disruptor_mp::Consumer) {
    let next = c.next_sequence();
    match c.try_wait_for(next) {
        Ok(hi) => {
            assert!(hi >= next, "wait_for({next}) answered {hi}");
            // Read at most a ring's worth (the rest is out of range anyway).
            for s in next..=hi.min(next.saturating_add(64)) {
                if c.is_abandoned(s) {
                    continue;
                }
                match c.slot(s) {
                    Ok(b) => {
                        std::hint::black_box(b.iter().fold(0u8, |a, x| a ^ x));
                    }
                    Err(e) => clean(&e),
                }
            }
            if let Err(e) = c.commit(hi) {
                clean(&e);
            }
        }
        Err(e) => clean(&e),
    }
}
