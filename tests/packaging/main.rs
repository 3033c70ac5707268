//! The package used the way native users meet it.
//!
//! `scripts/install.sh` installs the library this test run built into a
//! prefix under `target/<profile>/packaging/`; the C and C++ examples are
//! then configured with CMake (`find_package(disruptor_mp)`) and with
//! pkg-config against that prefix, exactly as a user's project would, with
//! `-Wall -Wextra -Werror`, and run without `LD_LIBRARY_PATH`. Around them:
//! the install layout (SONAME, symlinks, `dmp_`-only exports, the version
//! rule of the CMake package), the top-level CMake build installing the same
//! files, `bin/dmp`, its man pages and the stripped binaries' debug links,
//! the C++ wrapper's own tests, `pip install ./python` (the wheel bundling
//! the library) in a fresh virtual environment and Python's pytest suite,
//! Rust, C, C++ and Python processes on one ring verifying every payload,
//! the liveness examples against Rust processes, the examples under
//! AddressSanitizer and UBSan, and a smoke run of `scripts/bench-ffi.sh`.
//!
//! cmake, pkg-config, make and pytest are installed when missing (apt-get as
//! root, else pip); when that is impossible the test fails and says why.

#[path = "../support/mod.rs"]
mod support;

mod bench;
mod cpp_wrapper;
mod cross_language;
mod examples;
mod install;
mod installed_files;
mod liveness;
mod package;
mod python;
mod sanitizers;
mod tools;

use cpp_wrapper::*;
use cross_language::*;
use package::*;
use python::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::{dmp, Proc, ShmName};
use tools::*;

/// Bound of a configure, build or install step.
const BUILD: Duration = Duration::from_secs(600);
/// Bound of a program run.
const RUN: Duration = Duration::from_secs(120);
/// Bound of a consumer's "ready" line.
const READY: Duration = Duration::from_secs(30);

fn repo() -> &'static Path {
    support::repo_root()
}

/// Everything this test writes: `target/<profile>/packaging`.
fn work_root() -> PathBuf {
    support::target_dir().join("packaging")
}
