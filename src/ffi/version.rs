//! The library version: `dmp_version` and `dmp_version_number`.

use std::ffi::c_char;

/// The library version, e.g. `"0.1.0"`. Static storage.
#[no_mangle]
pub extern "C" fn dmp_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// The library version as `major * 10000 + minor * 100 + patch`; compare
/// with `DMP_VERSION_NUMBER` from the header you compiled against.
#[no_mangle]
pub extern "C" fn dmp_version_number() -> u32 {
    let p = |s: &str| s.parse::<u32>().unwrap_or(0);
    p(env!("CARGO_PKG_VERSION_MAJOR")) * 10000
        + p(env!("CARGO_PKG_VERSION_MINOR")) * 100
        + p(env!("CARGO_PKG_VERSION_PATCH"))
}
