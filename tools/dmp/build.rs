//! Tells the cross-process tests the target triple, for compiling C test
//! programs with the `cc` crate (as the library's build script does for its
//! own tests).

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=DMP_BUILD_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
