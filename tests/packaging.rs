//! The package used the way native users meet it.
//!
//! `scripts/install.sh` installs the library this test run built into a
//! prefix under `target/<profile>/packaging/`; the C and C++ examples are
//! then configured with CMake (`find_package(disruptor_mp)`) and with
//! pkg-config against that prefix, exactly as a user's project would, with
//! `-Wall -Wextra -Werror`, and run without `LD_LIBRARY_PATH`. Around them:
//! the install layout (SONAME, symlinks, `dmp_`-only exports, the version
//! rule of the CMake package), the top-level CMake build installing the same
//! files, the C++ wrapper's own tests, Python's pytest suite in a virtual
//! environment, Rust, C, C++ and Python processes on one ring verifying
//! every payload, the examples under AddressSanitizer and UBSan, and a smoke
//! run of `scripts/bench-ffi.sh`.
//!
//! cmake, pkg-config, make and pytest are installed when missing (apt-get as
//! root, else pip); when that is impossible the test fails and says why.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::{dmp, Proc, ShmName};

/// Bound of a configure, build or install step.
const BUILD: Duration = Duration::from_secs(600);
/// Bound of a program run.
const RUN: Duration = Duration::from_secs(120);
/// Bound of a consumer's "ready" line.
const READY: Duration = Duration::from_secs(30);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Everything this test writes: `target/<profile>/packaging`.
fn work_root() -> PathBuf {
    support::target_dir().join("packaging")
}

// ---------------------------------------------------------------------------
// Running commands: output goes to a log file (a verbose build cannot fill a
// pipe and stall), every run is bounded.
// ---------------------------------------------------------------------------

/// Runs `cmd` to completion within `timeout`: (success, output).
fn run_logged(mut cmd: Command, what: &str, timeout: Duration) -> (bool, String) {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let logs = work_root().join("logs");
    fs::create_dir_all(&logs).unwrap();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let slug: String = what
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(60)
        .collect();
    let log_path = logs.join(format!("{n:03}-{slug}.log"));
    let log = fs::File::create(&log_path).unwrap();
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (false, format!("cannot start {what}: {e}")),
    };
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = fs::read_to_string(&log_path).unwrap_or_default();
    match status {
        Some(s) => (s.success(), out),
        None => (
            false,
            format!("{what}: no result within {timeout:?}\n{out}"),
        ),
    }
}

/// Runs `cmd`; panics with its output unless it succeeds.
fn must(cmd: Command, what: &str, timeout: Duration) -> String {
    let (ok, out) = run_logged(cmd, what, timeout);
    assert!(ok, "{what} failed:\n{out}");
    out
}

fn command(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args);
    c
}

fn works(program: &Path, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------
// Tools, installed when missing
// ---------------------------------------------------------------------------

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Python's script directories (where `pip install` puts executables).
fn python_script_dirs(python: &str) -> Vec<PathBuf> {
    let out = Command::new(python)
        .args([
            "-c",
            "import os, sysconfig; print(sysconfig.get_path('scripts')); \
             print(sysconfig.get_path('scripts', os.name + '_user'))",
        ])
        .output();
    out.map(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(PathBuf::from)
            .collect()
    })
    .unwrap_or_default()
}

/// Finds `tool` on PATH, or installs it: `apt-get install -y APT` as root,
/// then `pip install PIP`. Panics with what was tried when all fail.
fn find_or_install(tool: &str, apt: &str, pip: Option<&str>) -> PathBuf {
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|p| p.into_inner());
    let plain = PathBuf::from(tool);
    if works(&plain, "--version") {
        return plain;
    }
    let mut tried = Vec::new();
    if is_root() {
        for attempt in [
            vec!["apt-get", "install", "-y", "--no-install-recommends", apt],
            vec!["apt-get", "update"],
            vec!["apt-get", "install", "-y", "--no-install-recommends", apt],
        ] {
            let mut c = command(attempt[0], &attempt[1..]);
            c.env("DEBIAN_FRONTEND", "noninteractive");
            let (ok, out) = run_logged(c, &attempt.join(" "), BUILD);
            tried.push(format!(
                "{}: {}",
                attempt.join(" "),
                if ok { "ok" } else { "failed" }
            ));
            if attempt[1] == "install" && ok && works(&plain, "--version") {
                return plain;
            }
            if !ok && attempt[1] == "update" {
                tried.push(out.lines().last().unwrap_or("").to_string());
            }
        }
    } else {
        tried.push("apt-get: not root".into());
    }
    if let Some(pip) = pip {
        let mut c = command("python3", &["-m", "pip", "install", "--quiet", pip]);
        if !is_root() {
            c.arg("--user");
        }
        let (ok, out) = run_logged(c, &format!("pip install {pip}"), BUILD);
        tried.push(format!(
            "pip install {pip}: {}",
            if ok { "ok" } else { "failed" }
        ));
        if !ok {
            tried.push(out.lines().last().unwrap_or("").to_string());
        }
        for dir in python_script_dirs("python3") {
            let candidate = dir.join(tool);
            if works(&candidate, "--version") {
                return candidate;
            }
        }
    }
    panic!(
        "{tool} is needed to test the package the way users build with it, and it is \
         neither installed nor installable here. Install it (Debian: apt-get install {apt}) \
         and rerun. Tried:\n  {}",
        tried.join("\n  ")
    );
}

fn cmake() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| find_or_install("cmake", "cmake", Some("cmake")))
}

fn pkg_config() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| find_or_install("pkg-config", "pkg-config", None))
}

fn make() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| find_or_install("make", "make", None))
}

/// PATH with the directories of the tools found elsewhere in front.
fn tool_path() -> String {
    let mut dirs: Vec<PathBuf> = [cmake(), pkg_config(), make()]
        .iter()
        .filter_map(|p| p.parent().filter(|d| !d.as_os_str().is_empty()))
        .map(Path::to_path_buf)
        .collect();
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// A virtual environment with pytest, kept across runs
/// (`target/<profile>/packaging-venv`); returns its python.
fn venv_python() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let venv = support::target_dir().join("packaging-venv");
        let python = venv.join("bin/python");
        if !works(&python, "--version") {
            let _ = fs::remove_dir_all(&venv);
            must(
                command("python3", &["-m", "venv", venv.to_str().unwrap()]),
                "python3 -m venv (is python3 with venv installed?)",
                BUILD,
            );
        }
        let has = |module: &str| {
            Command::new(&python)
                .args(["-c", &format!("import {module}")])
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        if !(has("pytest") && has("setuptools") && has("wheel")) {
            let (ok, out) = run_logged(
                command(
                    &python,
                    &[
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "pytest",
                        "setuptools>=61",
                        "wheel",
                    ],
                ),
                "pip install pytest setuptools wheel",
                BUILD,
            );
            assert!(
                ok,
                "the Python tests need pytest, and `pip install pytest` failed in {} \
                 (no access to PyPI?):\n{out}",
                venv.display()
            );
        }
        python
    })
}

// ---------------------------------------------------------------------------
// The installed package and the examples built against it, once per run
// ---------------------------------------------------------------------------

struct Package {
    work: PathBuf,
    prefix: PathBuf,
    /// c_examples configured by CMake.
    c: PathBuf,
    /// cpp_examples configured by CMake.
    cpp: PathBuf,
    /// c_examples built by its Makefile through pkg-config.
    pc: PathBuf,
}

const WARNINGS: &str = "-Wall -Wextra -Werror";

/// Configures and builds an example folder against `prefix`.
fn cmake_build(source: &str, build: &Path, prefix: &Path, extra_flags: &str) {
    let lang_flags = format!("{WARNINGS} {extra_flags}");
    let mut c = Command::new(cmake());
    c.arg("-S")
        .arg(repo().join(source))
        .arg("-B")
        .arg(build)
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
        .arg("-DCMAKE_BUILD_TYPE=RelWithDebInfo")
        .arg(format!("-DCMAKE_C_FLAGS={lang_flags}"))
        .arg(format!("-DCMAKE_CXX_FLAGS={lang_flags}"))
        .arg(format!("-DCMAKE_EXE_LINKER_FLAGS={extra_flags}"));
    must(c, &format!("cmake configure {source}"), BUILD);
    let mut b = Command::new(cmake());
    b.arg("--build").arg(build).args(["--parallel", "2"]);
    must(b, &format!("cmake build {source}"), BUILD);
}

fn package() -> &'static Package {
    static P: OnceLock<Package> = OnceLock::new();
    P.get_or_init(|| {
        let work = work_root().join("run");
        let _ = fs::remove_dir_all(&work);
        fs::create_dir_all(&work).unwrap();
        // The artefacts this `cargo test` built (it does not copy them up
        // to target/<profile>: see support::shared_library).
        let artefacts = support::shared_library().parent().unwrap().to_path_buf();
        for f in ["libdisruptor_mp.so", "libdisruptor_mp.a"] {
            assert!(
                artefacts.join(f).exists(),
                "{f} not built in {}",
                artefacts.display()
            );
        }
        let prefix = work.join("prefix");
        let mut install = command("bash", &[]);
        install
            .arg(repo().join("scripts/install.sh"))
            .arg("--prefix")
            .arg(&prefix)
            .arg("--artefacts")
            .arg(&artefacts);
        must(install, "scripts/install.sh --artefacts", BUILD);

        let c = work.join("build-c");
        cmake_build("c_examples", &c, &prefix, "");
        let cpp = work.join("build-cpp");
        cmake_build("cpp_examples", &cpp, &prefix, "");

        let pc = work.join("build-pkg-config");
        fs::create_dir_all(&pc).unwrap();
        let mut m = Command::new(make());
        m.arg("-C")
            .arg(repo().join("c_examples"))
            .arg(format!("OUT={}", pc.display()))
            .arg(format!("CFLAGS=-O2 -g {WARNINGS}"))
            .env("PATH", tool_path())
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"));
        must(m, "make -C c_examples (pkg-config)", BUILD);
        Package {
            work,
            prefix,
            c,
            cpp,
            pc,
        }
    })
}

fn read_elf(path: &Path) -> String {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(path)
        .output()
        .expect("readelf runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Files, directories and link targets under `dir`, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                out.push(format!("{rel} -> {}", fs::read_link(&p).unwrap().display()));
            } else if meta.is_dir() {
                out.push(format!("{rel}/"));
                walk(base, &p, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

// ---------------------------------------------------------------------------
// Install layout
// ---------------------------------------------------------------------------

#[test]
fn install_layout_has_the_soname_chain_headers_and_package_files() {
    let pkg = package();
    let v = env!("CARGO_PKG_VERSION");
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    let expected = [
        "include/".to_string(),
        "include/disruptor_mp.h".into(),
        "include/disruptor_mp.hpp".into(),
        "lib/".into(),
        "lib/cmake/".into(),
        "lib/cmake/disruptor_mp/".into(),
        "lib/cmake/disruptor_mp/disruptor_mpConfig.cmake".into(),
        "lib/cmake/disruptor_mp/disruptor_mpConfigVersion.cmake".into(),
        "lib/libdisruptor_mp.a".into(),
        format!("lib/libdisruptor_mp.so -> libdisruptor_mp.so.{major}"),
        format!("lib/libdisruptor_mp.so.{major} -> libdisruptor_mp.so.{v}"),
        format!("lib/libdisruptor_mp.so.{v}"),
        "lib/pkgconfig/".into(),
        "lib/pkgconfig/disruptor_mp-static.pc".into(),
        "lib/pkgconfig/disruptor_mp.pc".into(),
    ];
    assert_eq!(tree(&pkg.prefix), expected);

    let lib = pkg.prefix.join(format!("lib/libdisruptor_mp.so.{v}"));
    assert!(
        read_elf(&lib).contains(&format!("Library soname: [libdisruptor_mp.so.{major}]")),
        "{}",
        read_elf(&lib)
    );
    let nm = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .expect("nm runs");
    let text = String::from_utf8_lossy(&nm.stdout);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert!(names.contains(&"dmp_claim") && names.len() >= 20, "{text}");
    let foreign: Vec<&&str> = names.iter().filter(|n| !n.starts_with("dmp_")).collect();
    assert!(foreign.is_empty(), "the shared library exports {foreign:?}");
    let nm_a = Command::new("nm")
        .args(["--defined-only", "--print-file-name"])
        .arg(pkg.prefix.join("lib/libdisruptor_mp.a"))
        .output()
        .expect("nm runs");
    assert!(String::from_utf8_lossy(&nm_a.stdout).contains(" T dmp_claim"));

    for h in ["disruptor_mp.h", "disruptor_mp.hpp"] {
        assert_eq!(
            fs::read(pkg.prefix.join("include").join(h)).unwrap(),
            fs::read(repo().join("include").join(h)).unwrap(),
            "{h}"
        );
    }
    let native = fs::read_to_string(repo().join("cmake/native-static-libs.txt")).unwrap();
    let pc = fs::read_to_string(pkg.prefix.join("lib/pkgconfig/disruptor_mp.pc")).unwrap();
    assert!(
        pc.contains(&format!("Libs.private: {}", native.trim())),
        "{pc}"
    );
    assert!(pc.contains(&format!("Version: {v}")), "{pc}");
}

#[test]
fn pkg_config_reports_the_installed_package_and_follows_a_moved_prefix() {
    let pkg = package();
    // A copy of the prefix somewhere else: .pc and CMake files are relocatable.
    let moved = pkg.work.join("moved-prefix");
    let _ = fs::remove_dir_all(&moved);
    let mut cp = command("cp", &["-a"]);
    cp.arg(&pkg.prefix).arg(&moved);
    must(cp, "cp -a prefix", RUN);
    let query = |prefix: &Path, args: &[&str]| {
        let mut c = Command::new(pkg_config());
        c.args(args)
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"));
        must(c, &format!("pkg-config {}", args.join(" ")), RUN)
    };
    assert_eq!(
        query(&moved, &["--modversion", "disruptor_mp"]).trim(),
        env!("CARGO_PKG_VERSION")
    );
    let cflags = query(&moved, &["--cflags", "disruptor_mp"]);
    let include = fs::canonicalize(moved.join("include")).unwrap();
    let shown = cflags.trim().trim_start_matches("-I");
    assert_eq!(fs::canonicalize(shown).unwrap(), include, "{cflags}");
    let statics = query(&moved, &["--libs", "--static", "disruptor_mp"]);
    assert!(
        statics.contains("-ldisruptor_mp") && statics.contains("-lpthread"),
        "{statics}"
    );

    // One program built with nothing but the compiler and pkg-config, from
    // the moved prefix, run without LD_LIBRARY_PATH.
    let libs = query(&moved, &["--libs", "disruptor_mp"]);
    let libdir = query(&moved, &["--variable=libdir", "disruptor_mp"]);
    let exe = pkg.work.join("stat-from-moved-prefix");
    let mut cc = Command::new("cc");
    cc.args(WARNINGS.split(' '))
        .arg("-std=c11")
        .args(cflags.split_whitespace())
        .arg(repo().join("c_examples/stat.c"))
        .arg("-o")
        .arg(&exe)
        .args(libs.split_whitespace())
        .arg(format!("-Wl,-rpath,{}", libdir.trim()));
    must(
        cc,
        "cc stat.c $(pkg-config --cflags --libs disruptor_mp)",
        BUILD,
    );
    let ring = ShmName::new("pc-stat");
    let mut create = dmp();
    create.args(["create", &ring.0, "--capacity", "128", "--slot-size", "24"]);
    must(create, "dmp create", RUN);
    let mut stat = Command::new(&exe);
    stat.arg(&ring.0).env_remove("LD_LIBRARY_PATH");
    let out = must(stat, "stat (pkg-config build)", RUN);
    assert!(
        out.contains("capacity        128 slots") && out.contains("slot size       24 bytes"),
        "{out}"
    );
}

/// A CMake project that only calls find_package(disruptor_mp REQ) and
/// prints what it found.
fn find_package_probe(prefix: &Path, requested: &str) -> String {
    let dir = work_root().join(format!("probe-{requested}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("src")).unwrap();
    fs::write(
        dir.join("src/CMakeLists.txt"),
        "cmake_minimum_required(VERSION 3.14)\nproject(probe LANGUAGES NONE)\n\
         find_package(disruptor_mp ${REQ} QUIET)\n\
         message(STATUS \"found=${disruptor_mp_FOUND} version=${disruptor_mp_VERSION}\")\n\
         if(disruptor_mp_FOUND)\n\
           get_target_property(loc disruptor_mp::disruptor_mp IMPORTED_LOCATION)\n\
           get_target_property(soname disruptor_mp::disruptor_mp IMPORTED_SONAME)\n\
           get_target_property(static disruptor_mp::disruptor_mp_static INTERFACE_LINK_LIBRARIES)\n\
           message(STATUS \"location=${loc} soname=${soname} static-libs=${static}\")\n\
           foreach(t disruptor_mp::static disruptor_mp::cxx)\n\
             if(TARGET ${t})\n\
               message(STATUS \"target ${t}\")\n\
             endif()\n\
           endforeach()\n\
         endif()\n",
    )
    .unwrap();
    let mut c = Command::new(cmake());
    c.arg("-S")
        .arg(dir.join("src"))
        .arg("-B")
        .arg(dir.join("build"))
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
        .arg(format!("-DREQ={requested}"));
    must(c, &format!("find_package probe {requested}"), BUILD)
}

#[test]
fn cmake_package_has_its_targets_and_applies_the_0x_version_rule() {
    let pkg = package();
    let major: u32 = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap();
    let minor: u32 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();
    let v = env!("CARGO_PKG_VERSION");

    let out = find_package_probe(&pkg.prefix, &format!("{major}.{minor}"));
    assert!(out.contains(&format!("found=1 version={v}")), "{out}");
    let lib = pkg.prefix.join(format!("lib/libdisruptor_mp.so.{v}"));
    assert!(
        out.contains(&format!("location={}", lib.display()))
            && out.contains(&format!("soname=libdisruptor_mp.so.{major}")),
        "{out}"
    );
    let native = fs::read_to_string(repo().join("cmake/native-static-libs.txt")).unwrap();
    assert!(
        out.contains(&format!("static-libs={}", native.trim().replace(' ', ";"))),
        "{out}"
    );
    assert!(
        out.contains("target disruptor_mp::static") && out.contains("target disruptor_mp::cxx"),
        "{out}"
    );

    // Same major (and, while it is 0, same minor): accepted. A newer
    // patch, the next major, and at 0.x another minor: refused.
    let patch: u32 = env!("CARGO_PKG_VERSION_PATCH").parse().unwrap();
    let out = find_package_probe(&pkg.prefix, &format!("{major}.{minor}.0"));
    assert!(out.contains("found=1"), "{out}");
    let mut refused = vec![
        format!("{major}.{minor}.{}", patch + 1),
        format!("{}.0", major + 1),
    ];
    if major == 0 {
        refused.push(format!("0.{}", minor + 1));
        if minor > 0 {
            refused.push(format!("0.{}", minor - 1));
        }
    }
    for req in &refused {
        let out = find_package_probe(&pkg.prefix, req);
        assert!(
            out.contains("found=0"),
            "find_package(disruptor_mp {req}) must fail: {out}"
        );
    }
}

#[test]
fn cmake_superbuild_and_install_script_build_install_the_same_package() {
    let pkg = package();
    let root = pkg.work.join("superbuild");
    let _ = fs::remove_dir_all(&root);
    let build = root.join("build");
    let prefix = root.join("prefix");
    // The top-level CMakeLists.txt: cargo in its own target directory (no
    // wait for this test run's cargo lock), then `cmake --install`.
    let mut configure = Command::new(cmake());
    configure
        .arg("-S")
        .arg(repo())
        .arg("-B")
        .arg(&build)
        .arg(format!("-DCMAKE_INSTALL_PREFIX={}", prefix.display()))
        .env_remove("CARGO_TARGET_DIR");
    must(configure, "cmake configure (top level)", BUILD);
    let mut b = Command::new(cmake());
    b.arg("--build").arg(&build).env("PATH", path_with_cargo());
    must(b, "cmake --build (cargo build --release)", BUILD);
    let mut i = Command::new(cmake());
    i.arg("--install").arg(&build);
    must(i, "cmake --install", BUILD);
    assert_eq!(tree(&prefix), tree(&pkg.prefix));
    for f in [
        "lib/cmake/disruptor_mp/disruptor_mpConfig.cmake",
        "lib/cmake/disruptor_mp/disruptor_mpConfigVersion.cmake",
        "lib/pkgconfig/disruptor_mp.pc",
        "lib/pkgconfig/disruptor_mp-static.pc",
        "include/disruptor_mp.h",
        "include/disruptor_mp.hpp",
    ] {
        assert_eq!(
            fs::read_to_string(prefix.join(f)).unwrap(),
            fs::read_to_string(pkg.prefix.join(f)).unwrap(),
            "{f} differs between cmake --install and scripts/install.sh"
        );
    }

    // scripts/install.sh building for itself, in the target directory the
    // superbuild filled: cargo recompiles the library (other arguments),
    // prints the system libraries the static archive needs, and the script
    // fails if they are not the ones recorded in cmake/native-static-libs.txt.
    let script_prefix = root.join("script-prefix");
    let mut script = command("bash", &[]);
    script
        .arg(repo().join("scripts/install.sh"))
        .arg("--prefix")
        .arg(&script_prefix)
        .env("CARGO_TARGET_DIR", build.join("cargo"))
        .env("PATH", path_with_cargo());
    let out = must(script, "scripts/install.sh (its own cargo build)", BUILD);
    assert!(out.contains("native-static-libs:"), "{out}");
    assert_eq!(tree(&script_prefix), tree(&pkg.prefix));

    // Delete the build tree: the installed package stands alone. A user's
    // project finds it and its program runs without LD_LIBRARY_PATH.
    fs::remove_dir_all(&build).unwrap();
    let user = root.join("user-build");
    cmake_build("c_examples", &user, &prefix, "");
    let ring = ShmName::new("superbuild");
    let mut p = Command::new(user.join("producer"));
    p.args([&ring.0, "--create", "--count", "1000", "--capacity", "1024"])
        .env_remove("LD_LIBRARY_PATH");
    must(p, "producer (against the superbuild install)", RUN);
    let mut s = Command::new(user.join("stat"));
    s.arg(&ring.0).env_remove("LD_LIBRARY_PATH");
    let out = must(s, "stat", RUN);
    assert!(out.contains("cursor          999"), "{out}");
}

/// PATH with the directory of the cargo running this test in front (in
/// case it is not on PATH).
fn path_with_cargo() -> std::ffi::OsString {
    let mut paths = Vec::new();
    if let Ok(cargo) = std::env::var("CARGO") {
        paths.push(Path::new(&cargo).parent().unwrap().to_path_buf());
    }
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

// ---------------------------------------------------------------------------
// The examples as built programs
// ---------------------------------------------------------------------------

#[test]
fn examples_link_the_shared_or_static_library_and_run_without_ld_library_path() {
    let pkg = package();
    let needs_so = |exe: &Path| read_elf(exe).contains("[libdisruptor_mp.so.");
    for dir in [&pkg.c, &pkg.pc] {
        for p in ["producer", "consumer", "pipeline", "stat"] {
            assert!(needs_so(&dir.join(p)), "{}/{p}", dir.display());
        }
        assert!(!needs_so(&dir.join("producer_static")), "{}", dir.display());
    }
    for p in ["producer", "consumer", "pipeline", "stat"] {
        assert!(needs_so(&pkg.cpp.join(p)), "cpp {p}");
    }
    assert!(!needs_so(&pkg.cpp.join("consumer_static")));

    let _serial = support::serial();
    // The pkg-config builds: the static producer feeds the shared consumer.
    let ring = ShmName::new("pc-static");
    let mut create = Command::new(pkg.pc.join("producer_static"));
    create.args([
        &ring.0,
        "--create",
        "--count",
        "0",
        "--capacity",
        "64",
        "--slot-size",
        "40",
    ]);
    create.env_remove("LD_LIBRARY_PATH");
    assert!(must(create, "producer_static --create", RUN).contains("created ring"));
    let mut c = Command::new(pkg.pc.join("consumer"));
    c.args([&ring.0, "--name", "pc", "--count", "100000"])
        .env_remove("LD_LIBRARY_PATH");
    let mut consumer = Proc::spawn(c, "pkg-config consumer");
    consumer.wait_line("ready", READY);
    let mut p = Command::new(pkg.pc.join("producer_static"));
    p.args([&ring.0, "--count", "100000", "--batch", "9"])
        .env_remove("LD_LIBRARY_PATH");
    must(p, "producer_static", RUN);
    let out = consumer.succeed(RUN);
    assert!(
        out.contains("consumed 100000 events") && out.contains("last event 99999"),
        "{out}"
    );

    // The in-process pipelines, C and C++: the journal stage never sees an
    // event before the parse stage finished it.
    for dir in [&pkg.c, &pkg.cpp] {
        let ring = ShmName::new("pipeline");
        let mut p = Command::new(dir.join("pipeline"));
        p.args([&ring.0, "--count", "200000"])
            .env_remove("LD_LIBRARY_PATH");
        let out = must(p, "pipeline", RUN);
        assert!(
            out.contains("200000 events through parse then journal, sums agree"),
            "{out}"
        );
        assert!(!ring.path().exists(), "the pipeline removes its ring");
    }

    // stat from C and C++ on a ring after traffic.
    let ring = ShmName::new("stat");
    let mut p = Command::new(pkg.cpp.join("producer"));
    p.args([&ring.0, "--create", "--count", "777", "--capacity", "256"]);
    must(p, "C++ producer", RUN);
    for dir in [&pkg.c, &pkg.cpp] {
        let mut s = Command::new(dir.join("stat"));
        s.args([&ring.0, "--samples", "1", "--interval-ms", "10"]);
        let out = must(s, "stat", RUN);
        for needle in [
            "layout          stamped",
            "capacity        256 slots",
            "slot size       64 bytes",
            "producer mode   single",
            "cursor          776",
            "cursor          776 (0 events/s)",
        ] {
            assert!(
                out.contains(needle),
                "{} stat: missing {needle:?}:\n{out}",
                dir.display()
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Several languages on one ring, every payload verified
// ---------------------------------------------------------------------------

fn consumed(out: &str, count: u64) {
    assert!(
        out.contains(&format!("consumed {count} events"))
            && out.contains(&format!("last event {}", count - 1)),
        "expected {count} verified events (numbered from 0):\n{out}"
    );
}

#[test]
fn rust_producer_feeds_a_cpp_consumer() {
    let pkg = package();
    let _serial = support::serial();
    let ring = ShmName::new("rust2cpp");
    let mut create = dmp();
    create.args(["create", &ring.0, "--capacity", "256", "--slot-size", "64"]);
    must(create, "dmp create", RUN);
    let count = 300_000u64;
    let mut c = Command::new(pkg.cpp.join("consumer"));
    c.args([&ring.0, "--name", "cpp", "--count", &count.to_string()]);
    let mut consumer = Proc::spawn(c, "C++ consumer");
    consumer.wait_line("ready", READY);
    let mut p = dmp();
    p.args([
        "produce",
        &ring.0,
        "--count",
        &count.to_string(),
        "--batch",
        "7",
    ]);
    Proc::spawn(p, "dmp produce").succeed(RUN);
    consumed(&consumer.succeed(RUN), count);
}

#[test]
fn c_producer_feeds_rust_and_python_consumers_at_once() {
    let pkg = package();
    let python = venv_python();
    install_python_package(pkg, python);
    let _serial = support::serial();
    let ring = ShmName::new("c2rustpy");
    // The ring is created by C.
    let mut create = Command::new(pkg.c.join("producer"));
    create.args([
        &ring.0,
        "--create",
        "--count",
        "0",
        "--capacity",
        "512",
        "--slot-size",
        "48",
    ]);
    assert!(must(create, "C producer --create", RUN).contains("created ring"));
    let count = 100_000u64;
    let mut r = dmp();
    r.args([
        "consume",
        &ring.0,
        "--name",
        "rust",
        "--count",
        &count.to_string(),
    ]);
    let mut rust = Proc::spawn(r, "dmp consume");
    rust.wait_line("ready", READY);
    let mut py = Command::new(python);
    py.args([
        "-m",
        "disruptor_mp",
        "consume",
        &ring.0,
        "--name",
        "python",
        "--count",
    ])
    .arg(count.to_string())
    .current_dir(&pkg.work)
    .env("DISRUPTOR_MP_LIB", python_lib(pkg));
    let mut python_consumer = Proc::spawn(py, "Python consumer");
    python_consumer.wait_line("ready", READY);
    let mut p = Command::new(pkg.c.join("producer"));
    p.args([&ring.0, "--count", &count.to_string(), "--batch", "16"]);
    must(p, "C producer", RUN);
    consumed(&rust.succeed(RUN), count);
    consumed(&python_consumer.succeed(RUN), count);
}

#[test]
fn cpp_producer_feeds_a_c_consumer_and_a_dependent_static_cpp_consumer() {
    let pkg = package();
    let _serial = support::serial();
    let ring = ShmName::new("cpp2c");
    let mut create = Command::new(pkg.cpp.join("producer"));
    create.args([&ring.0, "--create", "--count", "0", "--capacity", "128"]);
    assert!(must(create, "C++ producer --create", RUN).contains("created ring"));
    let count = 300_000u64;
    let mut c = Command::new(pkg.c.join("consumer"));
    c.args([&ring.0, "--name", "c-stage", "--count", &count.to_string()]);
    let mut c_consumer = Proc::spawn(c, "C consumer");
    c_consumer.wait_line("ready", READY);
    // A pipeline across languages: the C++ stage reads after the C stage.
    let mut s = Command::new(pkg.cpp.join("consumer_static"));
    s.args([
        &ring.0,
        "--name",
        "cpp-stage",
        "--after",
        "c-stage",
        "--count",
    ])
    .arg(count.to_string());
    let mut cpp_consumer = Proc::spawn(s, "C++ consumer (static)");
    cpp_consumer.wait_line("ready", READY);
    let mut p = Command::new(pkg.cpp.join("producer"));
    p.args([&ring.0, "--count", &count.to_string(), "--batch", "32"]);
    must(p, "C++ producer", RUN);
    consumed(&c_consumer.succeed(RUN), count);
    consumed(&cpp_consumer.succeed(RUN), count);
}

// ---------------------------------------------------------------------------
// Python
// ---------------------------------------------------------------------------

fn python_lib(pkg: &Package) -> PathBuf {
    pkg.prefix.join(format!(
        "lib/libdisruptor_mp.so.{}",
        env!("CARGO_PKG_VERSION_MAJOR")
    ))
}

/// `pip install`s python/ (from a copy, so no build files land in the
/// source tree) into the test's virtual environment, once per run.
fn install_python_package(pkg: &Package, python: &Path) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let src = pkg.work.join("python-src");
        let _ = fs::remove_dir_all(&src);
        fs::create_dir_all(&src).unwrap();
        for f in ["pyproject.toml", "README.md"] {
            fs::copy(repo().join("python").join(f), src.join(f)).unwrap();
        }
        fs::create_dir_all(src.join("disruptor_mp")).unwrap();
        for e in fs::read_dir(repo().join("python/disruptor_mp")).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "py") {
                fs::copy(&p, src.join("disruptor_mp").join(p.file_name().unwrap())).unwrap();
            }
        }
        let mut pip = Command::new(python);
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--force-reinstall",
        ])
        .arg(&src);
        must(pip, "pip install python/", BUILD);
    });
}

#[test]
fn python_package_installs_with_pip_and_its_pytest_suite_passes() {
    let pkg = package();
    let python = venv_python();
    install_python_package(pkg, python);
    // The installed copy is what gets imported, not the source tree.
    let mut which = Command::new(python);
    which
        .args(["-c", "import disruptor_mp; print(disruptor_mp.__file__)"])
        .current_dir(&pkg.work)
        .env("DISRUPTOR_MP_LIB", python_lib(pkg));
    let file = must(which, "import disruptor_mp", RUN);
    assert!(file.contains("site-packages"), "{file}");

    let _serial = support::serial();
    let mut pytest = Command::new(python);
    pytest
        .args(["-m", "pytest", "-p", "no:cacheprovider", "-rs", "-q"])
        .arg(repo().join("python/tests"))
        .current_dir(&pkg.work)
        .env("DISRUPTOR_MP_LIB", python_lib(pkg))
        .env("DMP_TOOL", env!("CARGO_BIN_EXE_dmp"))
        .env("DMP_C_EXAMPLES", &pkg.c)
        .env("DMP_REPO", repo())
        .env("DMP_REQUIRE_ALL", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = must(pytest, "pytest python/tests", BUILD);
    assert!(out.contains(" passed"), "{out}");
    assert!(
        !out.contains("skipped") && !out.contains("failed") && !out.contains("error"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------
// The C++ wrapper's own tests
// ---------------------------------------------------------------------------

fn cxx_compiler() -> cc::Tool {
    let target = env!("DMP_BUILD_TARGET");
    cc::Build::new()
        .cargo_metadata(false)
        .target(target)
        .host(target)
        .opt_level(1)
        .cpp(true)
        .get_compiler()
}

#[test]
fn cpp_wrapper_passes_its_tests_in_two_translation_units() {
    let exe = support::compile_c(
        &[
            &repo().join("tests/cpp/wrapper_test.cpp"),
            &repo().join("tests/cpp/second_tu.cpp"),
        ],
        "wrapper_test",
        true,
    );
    let prefix = WrapperRings(ShmName::new("hpp"));
    let mut c = Command::new(exe);
    c.arg(&prefix.0 .0);
    let out = must(c, "wrapper_test", RUN);
    assert!(out.contains(" passed, 0 failed"), "{out}");
}

/// The rings wrapper_test names after its argument, removed on drop (also
/// when the test fails).
struct WrapperRings(ShmName);

impl Drop for WrapperRings {
    fn drop(&mut self) {
        for suffix in [
            "-basics",
            "-typed",
            "-typed-packed",
            "-typed-typed",
            "-errors",
            "-second",
        ] {
            let _ = fs::remove_file(format!("/dev/shm/{}{suffix}", self.0 .0));
        }
    }
}

#[test]
fn cpp_wrapper_rejects_unsuitable_slot_types_at_compile_time() {
    let dir = work_root().join("compile-fail");
    fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "not_trivially_copyable",
            "(void)sizeof(dmp::Producer<std::string>);",
            "T must be trivially copyable",
        ),
        (
            "over_aligned",
            "struct alignas(128) Big { char c; }; (void)sizeof(dmp::Consumer<Big>);",
            "at most 64-byte aligned",
        ),
        (
            "event_type_checked",
            "dmp::RingOptions o; o.event_type<std::string>(1);",
            "T must be trivially copyable",
        ),
        (
            "claim_is_nodiscard",
            "extern dmp::Producer<int> &p; p.claim(1);",
            "nodiscard",
        ),
        // The control case compiles: the harness itself is sound.
        (
            "control",
            "extern dmp::Producer<int> &p; p.claim(1).publish();",
            "",
        ),
    ];
    let compiler = cxx_compiler();
    for (name, body, message) in cases {
        let src = dir.join(format!("{name}.cpp"));
        fs::write(
            &src,
            format!("#include \"disruptor_mp.hpp\"\n#include <string>\nvoid f() {{ {body} }}\n"),
        )
        .unwrap();
        let mut cmd = compiler.to_command();
        cmd.args(WARNINGS.split(' '))
            .args(["-std=c++17", "-fsyntax-only", "-I"])
            .arg(repo().join("include"))
            .arg(&src);
        let (ok, out) = run_logged(cmd, &format!("compile {name}"), BUILD);
        if message.is_empty() {
            assert!(ok, "{name} must compile:\n{out}");
        } else {
            assert!(
                !ok && out.contains(message),
                "{name}: expected an error with {message:?}:\n{out}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Sanitizers
// ---------------------------------------------------------------------------

const SANITIZE: &str =
    "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer";

fn sanitized(mut cmd: Command, what: &str) -> String {
    cmd.env(
        "ASAN_OPTIONS",
        "halt_on_error=1:detect_leaks=1:abort_on_error=0",
    )
    .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    .env_remove("LD_PRELOAD");
    let (ok, out) = run_logged(cmd, what, RUN);
    assert!(
        ok && !out.contains("Sanitizer") && !out.contains("runtime error"),
        "{what} under ASan/UBSan:\n{out}"
    );
    out
}

/// Starts a sanitized consumer and waits for its "ready" line.
fn sanitized_consumer(exe: &Path, args: &[&str]) -> Proc {
    let mut c = Command::new(exe);
    c.args(args)
        .env(
            "ASAN_OPTIONS",
            "halt_on_error=1:detect_leaks=1:abort_on_error=0",
        )
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
    let mut p = Proc::spawn(c, &format!("{} (sanitized)", exe.display()));
    p.wait_line("ready", READY);
    p
}

#[test]
fn c_and_cpp_examples_and_the_wrapper_tests_are_clean_under_asan_and_ubsan() {
    let pkg = package();
    let asan_c = pkg.work.join("asan-c");
    let asan_cpp = pkg.work.join("asan-cpp");
    cmake_build("c_examples", &asan_c, &pkg.prefix, SANITIZE);
    cmake_build("cpp_examples", &asan_cpp, &pkg.prefix, SANITIZE);
    let wrapper = pkg.work.join("wrapper_test_asan");
    let mut cxx = cxx_compiler().to_command();
    cxx.args(WARNINGS.split(' '))
        .args(SANITIZE.split(' '))
        .args(["-std=c++17", "-g", "-I"])
        .arg(pkg.prefix.join("include"))
        .arg(repo().join("tests/cpp/wrapper_test.cpp"))
        .arg(repo().join("tests/cpp/second_tu.cpp"))
        .arg("-o")
        .arg(&wrapper)
        .arg(format!("-L{}", pkg.prefix.join("lib").display()))
        .arg(format!("-Wl,-rpath,{}", pkg.prefix.join("lib").display()))
        .args(["-ldisruptor_mp", "-lpthread"]);
    must(cxx, "wrapper_test with sanitizers", BUILD);

    let _serial = support::serial();
    for (dir, consumer_static) in [(&asan_c, None), (&asan_cpp, Some("consumer_static"))] {
        let ring = ShmName::new("asan");
        let mut create = Command::new(dir.join("producer"));
        create.args([&ring.0, "--create", "--count", "0", "--capacity", "256"]);
        sanitized(create, "producer --create");
        let mut consumers = vec![sanitized_consumer(
            &dir.join("consumer"),
            &[&ring.0, "--name", "a", "--count", "50000"],
        )];
        if let Some(s) = consumer_static {
            consumers.push(sanitized_consumer(
                &dir.join(s),
                &[&ring.0, "--name", "b", "--after", "a", "--count", "50000"],
            ));
        }
        let mut p = Command::new(dir.join("producer"));
        p.args([&ring.0, "--count", "50000", "--batch", "10"]);
        sanitized(p, "producer");
        for c in consumers {
            let (ok, out) = c.finish(RUN);
            assert!(
                ok && !out.contains("Sanitizer") && !out.contains("runtime error"),
                "{out}"
            );
            consumed(&out, 50000);
        }
        let mut s = Command::new(dir.join("stat"));
        s.arg(&ring.0);
        assert!(sanitized(s, "stat").contains("cursor          49999"));
        let pipe = ShmName::new("asan-pipeline");
        let mut p = Command::new(dir.join("pipeline"));
        p.args([&pipe.0, "--count", "50000"]);
        assert!(sanitized(p, "pipeline").contains("sums agree"));
    }
    let mut static_producer = Command::new(asan_c.join("producer_static"));
    let ring = ShmName::new("asan-static");
    static_producer.args([&ring.0, "--create", "--count", "1000"]);
    sanitized(static_producer, "producer_static");
    let prefix = WrapperRings(ShmName::new("asan-hpp"));
    let mut w = Command::new(&wrapper);
    w.arg(&prefix.0 .0);
    assert!(sanitized(w, "wrapper_test").contains(" passed, 0 failed"));
}

// ---------------------------------------------------------------------------
// The FFI benchmark command
// ---------------------------------------------------------------------------

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
