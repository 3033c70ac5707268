//! Shared helpers for the integration tests: unique segment names removed
//! on drop, child processes killed on drop and waited for with a bound, and
//! compiling C programs against the freshly built library.
#![allow(dead_code)]

pub mod wake;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The repository's top directory (these tests run as tests of the `dmp`
/// crate, in tools/dmp, and read files of the whole tree).
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The library's version, major, minor, patch (`disruptor_mp::VERSION`,
/// not the tool's).
pub fn version() -> (u32, u32, u32) {
    let mut parts = disruptor_mp::VERSION
        .split('.')
        .map(|p| p.parse::<u32>().expect("numeric version"));
    let mut next = || parts.next().expect("major.minor.patch");
    (next(), next(), next())
}

/// A test that cannot run here for want of a tool or a privilege: under
/// `CI=true` it fails with `why` (which says what to install or grant);
/// on a developer's machine it says loudly that it skipped.
#[track_caller]
pub fn skip_or_fail(why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("cannot run under CI: {why}");
    }
    eprintln!("SKIPPED (set CI=true to make this a failure): {why}");
}

/// Directory holding the built library (`target/<profile>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

/// The shared library built for this test run. `cargo test` builds every
/// crate type of the library into `deps/` (only `cargo build` copies it up).
pub fn shared_library() -> PathBuf {
    target_dir().join("deps").join("libdisruptor_mp.so")
}

/// Tests that run busy processes take this guard, so a test binary never
/// runs two of them at once (the machines have two cores).
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A shm segment name unique to this test process and call; the segment,
/// and its wake-up directory, are removed when the guard drops (also when
/// the test fails).
pub struct ShmName(pub String);

impl ShmName {
    pub fn new(tag: &str) -> ShmName {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        ShmName(format!("dmp-test-{tag}-{}-{n}", std::process::id()))
    }

    pub fn path(&self) -> PathBuf {
        Path::new("/dev/shm").join(&self.0)
    }

    pub fn location(&self) -> disruptor_mp::Location {
        disruptor_mp::Location::shm(&self.0)
    }
}

impl Drop for ShmName {
    fn drop(&mut self) {
        // Any file, ring or not; with it the ring's wake-up directory.
        let _ = disruptor_mp::Ring::unlink(&self.location());
    }
}

/// A child process killed (if still running) when dropped.
pub struct Proc {
    pub child: Child,
    pub what: String,
    lines: Option<BufReader<ChildStdout>>,
}

impl Proc {
    pub fn spawn(mut cmd: Command, what: &str) -> Proc {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        let lines = child.stdout.take().map(BufReader::new);
        Proc {
            child,
            what: what.into(),
            lines,
        }
    }

    /// Writes `line` and a newline to the child's stdin (spawned with a
    /// piped stdin), as the C test programs wait for before they start.
    pub fn send_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().expect("stdin piped");
        writeln!(stdin, "{line}").expect("write to the child's stdin");
    }

    /// Reads stdout lines until one starts with `prefix`, bounded by
    /// `timeout` (a reader thread keeps the bound even if the child hangs).
    pub fn wait_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let mut reader = self.lines.take().expect("stdout available");
        let wanted = prefix.to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(Err(line.clone()));
                        return;
                    }
                    Ok(_) if line.starts_with(&wanted) => {
                        let _ = tx.send(Ok((line.clone(), reader)));
                        return;
                    }
                    Ok(_) => {}
                }
            }
        });
        match rx.recv_timeout(timeout) {
            Ok(Ok((line, reader))) => {
                self.lines = Some(reader);
                line
            }
            Ok(Err(_)) => {
                let _ = self.child.kill();
                let out = self.child.wait_with_output_ref();
                panic!("{} exited before printing {prefix:?}: {out}", self.what)
            }
            Err(_) => panic!("{} did not print {prefix:?} within {timeout:?}", self.what),
        }
    }

    /// Waits for exit within `timeout`; panics (killing it) otherwise.
    /// Returns the remaining stdout and stderr.
    pub fn finish(self, timeout: Duration) -> (bool, String) {
        let (status, out) = self.finish_status(timeout);
        (status.success(), out)
    }

    /// Like [`Proc::finish`], with the exit status itself (to tell an
    /// error exit from death by a signal). The output is drained while the
    /// child runs, so a chatty child never blocks on a full pipe.
    pub fn finish_status(mut self, timeout: Duration) -> (std::process::ExitStatus, String) {
        fn drain(
            r: Option<impl std::io::Read + Send + 'static>,
        ) -> std::sync::mpsc::Receiver<String> {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut r) = r {
                    let _ = r.read_to_end(&mut bytes);
                }
                let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
            });
            rx
        }
        let out = drain(self.lines.take());
        let err = drain(self.child.stderr.take());
        let start = Instant::now();
        loop {
            match self.child.try_wait().expect("try_wait") {
                Some(status) => {
                    // The pipes close with the child (the programs run here
                    // start no children of their own); bounded all the same.
                    let collect = |rx: std::sync::mpsc::Receiver<String>| {
                        rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default()
                    };
                    return (status, format!("{}{}", collect(out), collect(err)));
                }
                None if start.elapsed() > timeout => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    panic!("{} did not finish within {timeout:?}", self.what);
                }
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }

    /// Waits for a successful exit; panics with the output otherwise.
    pub fn succeed(self, timeout: Duration) -> String {
        let what = self.what.clone();
        let (ok, out) = self.finish(timeout);
        assert!(ok, "{what} failed:\n{out}");
        out
    }
}

trait WaitOutputRef {
    fn wait_with_output_ref(&mut self) -> String;
}

impl WaitOutputRef for Child {
    fn wait_with_output_ref(&mut self) -> String {
        let _ = self.wait();
        let mut err = String::new();
        if let Some(mut e) = self.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        err
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A `dmp` command (the binary built for these tests).
pub fn dmp() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dmp"))
}

/// Runs a command to completion with a bound: (success, stdout + stderr).
pub fn run(cmd: Command, what: &str, timeout: Duration) -> (bool, String) {
    Proc::spawn(cmd, what).finish(timeout)
}

/// Compiles C (or C++ with `cxx`) sources into an executable linked against
/// the freshly built `libdisruptor_mp.so`, with `-Wall -Wextra -Werror`.
pub fn compile_c(sources: &[&Path], exe_name: &str, cxx: bool) -> PathBuf {
    compile_c_with(sources, exe_name, cxx, &[])
}

/// [`compile_c`] with extra compiler flags (sanitizers).
#[allow(dead_code)]
pub fn compile_c_with(sources: &[&Path], exe_name: &str, cxx: bool, extra: &[&str]) -> PathBuf {
    let target = env!("DMP_BUILD_TARGET");
    let out_dir = target_dir().join("c-tests");
    std::fs::create_dir_all(&out_dir).unwrap();
    // The library's SONAME is libdisruptor_mp.so.<major>: give the loader
    // that name next to the executable (through the rpath).
    let major = version().0;
    let so = shared_library();
    // Replaced atomically (a new link renamed over the old one): a program
    // of another test may be starting meanwhile.
    for link in [
        format!("libdisruptor_mp.so.{major}"),
        "libdisruptor_mp.so".into(),
    ] {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = out_dir.join(format!(".{link}.{}.{n}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&so, &tmp).expect("symlink the library");
        std::fs::rename(&tmp, out_dir.join(&link)).expect("rename the library link");
    }

    let compiler = cc::Build::new()
        .cargo_metadata(false)
        .target(target)
        .host(target)
        .opt_level(1)
        .cpp(cxx)
        .get_compiler();
    let exe = out_dir.join(exe_name);
    let include = repo_root().join("include");
    let mut cmd = compiler.to_command();
    cmd.args(["-Wall", "-Wextra", "-Werror", "-g"])
        .args(extra)
        .arg(if cxx { "-std=c++17" } else { "-std=c11" })
        .arg("-I")
        .arg(&include);
    if cxx {
        cmd.args(["-x", "c++"]);
    }
    cmd.args(sources)
        .args(["-x", "none"])
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(&out_dir)
        .arg(format!("-Wl,-rpath,{}", out_dir.display()))
        .arg("-ldisruptor_mp")
        .arg("-lpthread");
    let out = cmd.output().expect("run the C compiler");
    assert!(
        out.status.success(),
        "compiling {exe_name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// The tests' one seeded generator: xorshift64*, seeded through
/// splitmix64 so that neighbouring seeds start far apart. The fault
/// harness, the hostile peers and the kill schedules draw every choice
/// from it, so a seed replays a run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // splitmix64 of the seed: neighbouring seeds start far apart.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// In `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// In `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    pub fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// Builds `dmp` with the fault points (the `fault-injection` feature) into
/// target/faults, once per test process (tests/fault_harness.rs, and
/// tests/wakefd/kills.rs for a producer killed mid-notify).
pub fn fault_dmp() -> PathBuf {
    static DMP: OnceLock<PathBuf> = OnceLock::new();
    DMP.get_or_init(|| {
        let root = repo_root();
        let target = root.join("target").join("faults");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let started = Instant::now();
        let status = Command::new(cargo)
            .current_dir(root)
            .args([
                "build",
                "--release",
                "-p",
                "dmp",
                "--features",
                "fault-injection",
                "--bin",
                "dmp",
            ])
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("run cargo build --features fault-injection");
        assert!(status.success(), "building the fault-enabled dmp failed");
        eprintln!(
            "fault harness: fault-enabled dmp built in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        target.join("release").join("dmp")
    })
    .clone()
}
