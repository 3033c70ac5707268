//! Sets the SONAME of the shared library (rustc sets none for a cdylib).

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libdisruptor_mp.so.{major}");
    println!("cargo:rerun-if-changed=build.rs");
}
