//! The fuzz harnesses, shared by the cargo-fuzz targets in `fuzz/` (which
//! include this file with `#[path]`) and by `tests/fuzz_corpus.rs`, which
//! replays the committed corpus with the stable toolchain on every test
//! run. Each `run` takes arbitrary bytes and panics only on a finding: a
//! panic escaping the library, `DMP_STATUS_PANIC`, an invalid status code,
//! or a broken invariant the harness checks. Hangs and crashes are findings
//! too (libFuzzer reports them; the replay test would hang or die).
//!
//! Only `std` and `disruptor_mp` are used, so both crates can build it.
#![allow(dead_code)]

pub mod c_abi_sequence;
pub mod segment_file;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// A directory for this process's scratch files (segment files). Every
/// input removes what it wrote; the replay test removes the empty
/// directory when it is done, so it is (re)created on each call (one
/// `mkdir` per input, cheap next to writing and mapping a segment).
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let d =
        DIR.get_or_init(|| std::env::temp_dir().join(format!("dmp-fuzz-{}", std::process::id())));
    std::fs::create_dir_all(d).expect("create the fuzz scratch directory");
    d
}

/// A name unique to this process and call (for shm names and file names).
pub fn unique(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "dmp-fuzz-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Reads the input front to back; past the end every read is 0, so any
/// input is a complete program.
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        for x in &mut b {
            *x = self.u8();
        }
        b
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes())
    }

    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.bytes())
    }

    pub fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.bytes())
    }

    /// One of `items`, chosen by the next byte.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.u8() as usize % items.len()]
    }
}
