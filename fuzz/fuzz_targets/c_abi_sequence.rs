//! Arbitrary programs of `dmp_*` calls.
//! The harness is `tests/fuzz_harness/c_abi_sequence.rs`.
#![no_main]

#[path = "../../tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::c_abi_sequence::run(data));
