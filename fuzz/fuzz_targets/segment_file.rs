//! Arbitrary bytes as a segment file: decode, open, inspect, use.
//! The harness is `tests/fuzz_harness/segment_file.rs`.
#![no_main]

#[path = "../../tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::segment_file::run(data));
