//! Running commands (bounded, output to a log file) and finding or
//! installing the tools the tests need: cmake, pkg-config, make, and a
//! Python virtual environment with pytest.

use super::*;

// ---------------------------------------------------------------------------
// Running commands: output goes to a log file (a verbose build cannot fill a
// pipe and stall), every run is bounded.
// ---------------------------------------------------------------------------

/// Runs `cmd` to completion within `timeout`: (success, output).
pub(crate) fn run_logged(mut cmd: Command, what: &str, timeout: Duration) -> (bool, String) {
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
pub(crate) fn must(cmd: Command, what: &str, timeout: Duration) -> String {
    let (ok, out) = run_logged(cmd, what, timeout);
    assert!(ok, "{what} failed:\n{out}");
    out
}

pub(crate) fn command(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args);
    c
}

pub(crate) fn works(program: &Path, arg: &str) -> bool {
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

pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Python's script directories (where `pip install` puts executables).
pub(crate) fn python_script_dirs(python: &str) -> Vec<PathBuf> {
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
pub(crate) fn find_or_install(tool: &str, apt: &str, pip: Option<&str>) -> PathBuf {
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

pub(crate) fn cmake() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| find_or_install("cmake", "cmake", Some("cmake")))
}

pub(crate) fn pkg_config() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| find_or_install("pkg-config", "pkg-config", None))
}

pub(crate) fn make() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| find_or_install("make", "make", None))
}

/// PATH with the directories of the tools found elsewhere in front.
pub(crate) fn tool_path() -> String {
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

/// A virtual environment with pytest, setuptools and numpy, kept across runs
/// (`target/<profile>/packaging-venv`); returns its python.
pub(crate) fn venv_python() -> &'static Path {
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
        // setuptools' own bdist_wheel (>= 70.1) builds the wheel; numpy is
        // what python/tests reads a batch buffer with.
        if !(has("pytest") && has("setuptools.command.bdist_wheel") && has("numpy")) {
            let (ok, out) = run_logged(
                command(
                    &python,
                    &[
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "pytest",
                        "setuptools>=70.1",
                        "numpy",
                    ],
                ),
                "pip install pytest setuptools numpy",
                BUILD,
            );
            assert!(
                ok,
                "the Python tests need pytest, setuptools and numpy, and `pip install` failed \
                 in {} (no access to PyPI?):\n{out}",
                venv.display()
            );
        }
        python
    })
}
