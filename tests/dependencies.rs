//! The library depends only on what the ring needs: a Rust user who adds
//! `disruptor-mp` to Cargo.toml compiles none of the tool's crates (the
//! command line, the histograms, JSON, an async runtime).

use std::process::Command;

/// The library's normal dependencies, as `cargo tree` resolves them.
fn normal_dependencies() -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "-p",
            "disruptor-mp",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
            "--offline",
        ])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_library_pulls_in_none_of_the_tools_crates() {
    let deps = normal_dependencies();
    assert!(deps.iter().any(|d| d == "disruptor-mp"), "{deps:?}");
    assert!(deps.iter().any(|d| d == "memmap2"), "{deps:?}");
    for tool_only in [
        "clap",
        "hdrhistogram",
        "serde",
        "serde_json",
        "tiny_http",
        "tokio",
        "async-nats",
        "criterion",
    ] {
        assert!(
            !deps.iter().any(|d| d == tool_only),
            "the library depends on {tool_only}: {deps:?}"
        );
    }
}
