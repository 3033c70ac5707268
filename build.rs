//! Sets the SONAME of the shared library (rustc sets none for a cdylib) and
//! tells tests the target triple, for compiling C test programs.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libdisruptor_mp.so.{major}");
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=DMP_BUILD_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
