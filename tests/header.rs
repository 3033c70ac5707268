//! The checked-in C header is exactly what cbindgen generates from the
//! source, and the shared library exports only `dmp_*` symbols.
//! `DMP_UPDATE_HEADER=1 cargo test --test header` rewrites the header.

use std::path::Path;

/// `DMP_MUST_USE`: a warning when a status is dropped, which a `(void)`
/// cast silences.
const MUST_USE: &str = r#"/* A status the caller must look at: a warning when it is dropped, which a
 * (void) cast silences: [[nodiscard]] in C++17 and C23, clang's
 * warn_unused_result in older C (the cast silences it too); nothing under
 * GCC before C23, whose warn_unused_result no cast silences. */
#if (defined(__cplusplus) && __cplusplus >= 201703L) || \
    (!defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ > 201710L)
#define DMP_MUST_USE [[nodiscard]]
#elif defined(__clang__)
#define DMP_MUST_USE __attribute__((warn_unused_result))
#else
#define DMP_MUST_USE
#endif
"#;

fn generate() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let mut config = cbindgen::Config::from_file(Path::new(dir).join("cbindgen.toml"))
        .expect("cbindgen.toml parses");
    config.after_includes = Some(format!(
        "\n#define DMP_VERSION_MAJOR {major}\n#define DMP_VERSION_MINOR {minor}\n#define DMP_VERSION_PATCH {patch}\n\
         #define DMP_VERSION_STRING \"{version}\"\n\
         /** major * 10000 + minor * 100 + patch, as dmp_version_number() returns. */\n\
         #define DMP_VERSION_NUMBER ({major} * 10000 + {minor} * 100 + {patch})\n\n\
         {must_use}",
        must_use = MUST_USE,
        major = env!("CARGO_PKG_VERSION_MAJOR"),
        minor = env!("CARGO_PKG_VERSION_MINOR"),
        patch = env!("CARGO_PKG_VERSION_PATCH"),
        version = env!("CARGO_PKG_VERSION"),
    ));
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(Path::new(dir).join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    String::from_utf8(out).expect("utf-8 header")
}

#[test]
fn checked_in_header_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/disruptor_mp.h");
    let fresh = generate();
    if std::env::var_os("DMP_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == fresh,
        "include/disruptor_mp.h is stale: run `DMP_UPDATE_HEADER=1 cargo test --test header`"
    );
}

#[test]
fn shared_library_exports_only_dmp_symbols_and_has_a_soname() {
    // `cargo test` builds every crate type of the library into
    // `target/<profile>/deps`, beside this test's executable.
    let exe = std::env::current_exe().expect("test exe path");
    let lib = exe.with_file_name("libdisruptor_mp.so");
    assert!(lib.exists(), "{} not built", lib.display());
    let nm = std::process::Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .expect("nm runs");
    let text = String::from_utf8_lossy(&nm.stdout);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert!(names.contains(&"dmp_claim"), "{text}");
    let foreign: Vec<&&str> = names.iter().filter(|n| !n.starts_with("dmp_")).collect();
    assert!(foreign.is_empty(), "non-dmp_ exports: {foreign:?}");
    let readelf = std::process::Command::new("readelf")
        .arg("-d")
        .arg(&lib)
        .output()
        .expect("readelf runs");
    let text = String::from_utf8_lossy(&readelf.stdout);
    let soname = format!("libdisruptor_mp.so.{}", env!("CARGO_PKG_VERSION_MAJOR"));
    assert!(
        text.contains(&format!("[{soname}]")),
        "no SONAME {soname}: {text}"
    );
}
