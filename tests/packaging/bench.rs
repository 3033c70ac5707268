//! The FFI benchmark command runs (no timing is asserted).

use super::*;

#[test]
fn bench_ffi_script_compares_c_and_rust_and_prints_the_ratio() {
    let _serial = support::serial();
    let lib_dir = support::shared_library().parent().unwrap().to_path_buf();
    let mut c = command("bash", &[]);
    c.arg(repo().join("scripts/bench-ffi.sh"))
        .args([
            "--quick",
            "--events",
            "300000",
            "--dmp",
            env!("CARGO_BIN_EXE_dmp"),
            "--lib",
        ])
        .arg(&lib_dir);
    let out = must(c, "scripts/bench-ffi.sh --quick", BUILD);
    for needle in [
        "Rust producer + Rust consumer (safe API)",
        "C producer + C consumer (C ABI)",
        "ratio C / Rust",
    ] {
        assert!(out.contains(needle), "missing {needle:?}:\n{out}");
    }
}
