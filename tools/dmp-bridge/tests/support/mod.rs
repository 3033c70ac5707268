//! Helpers for the bridge's tests: real nats-servers on free loopback
//! ports with their own store directories (killed on drop), bridge
//! processes killed on drop with their stderr kept for the failure
//! message, unique ring names removed on drop, a seeded generator.
//! skip_or_fail and Rng behave as tests/support's (which this crate cannot
//! include: it names the `dmp` binary, which only the tool's tests have).
#![allow(dead_code)]

mod events;
#[allow(unused_imports)]
pub use events::*;

use disruptor_mp::{Location, Ring, RingOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Fails under `CI=true`, says SKIPPED loudly elsewhere.
#[track_caller]
pub fn skip_or_fail(why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("cannot run under CI: {why}");
    }
    eprintln!("SKIPPED (set CI=true to make this a failure): {why}");
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn on_path(bin: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Whether `bin` is there, installing Debian package `pkg` when running as
/// root; `skip_or_fail` otherwise.
pub fn need(bin: &str, pkg: &str) -> bool {
    static APT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = APT.lock().unwrap_or_else(|p| p.into_inner());
    if on_path(bin) {
        return true;
    }
    if is_root() {
        let _ = Command::new("sh")
            .args([
                "-c",
                &format!("apt-get update -qq && apt-get install -y -qq {pkg}"),
            ])
            .stdout(Stdio::null())
            .status();
        if on_path(bin) {
            return true;
        }
    }
    skip_or_fail(&format!("{bin} is missing: apt-get install {pkg}"));
    false
}

/// nats-server (Debian's package).
pub fn need_nats() -> bool {
    need("nats-server", "nats-server")
}

/// Tests that run servers and bridges take this guard: one at a time in a
/// test binary (the machines have two cores).
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Polls `f` every 20 ms until it returns `Some`, at most `within`.
#[track_caller]
pub fn wait_until<T>(what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn signal(pid: u32, sig: i32) {
    // SAFETY: kill has no memory preconditions; `pid` is a child of this
    // test that has not been reaped (its Child is alive in a Proc).
    let _ = unsafe { libc::kill(pid as i32, sig) };
}

/// A child process killed when dropped, its stderr in a file.
pub struct Proc {
    pub child: Child,
    pub what: String,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(mut cmd: Command, what: &str, log: PathBuf) -> Proc {
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        cmd.stdout(Stdio::null()).stderr(err).stdin(Stdio::null());
        let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        Proc {
            child,
            what: what.into(),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then a bounded wait for the exit status.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        signal(self.pid(), libc::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill9();
        None
    }

    pub fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
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

/// One nats-server with JetStream (optionally a cluster member).
pub struct Server {
    pub proc: Option<Proc>,
    pub port: u16,
    pub host: String,
    pub store: PathBuf,
    pub config: PathBuf,
    /// Prefix for running it elsewhere (`ip netns exec NS`).
    pub prefix: Vec<String>,
}

impl Server {
    /// A server on `host:port` writing its store under `dir`, with extra
    /// configuration text (a cluster block).
    pub fn new(
        dir: &Path,
        name: &str,
        host: &str,
        port: u16,
        extra: &str,
        prefix: &[&str],
    ) -> Server {
        let store = dir.join(format!("{name}-store"));
        let config = dir.join(format!("{name}.conf"));
        std::fs::write(
            &config,
            format!(
                "server_name: {name}\nhost: {host}\nport: {port}\njetstream {{ store_dir: \"{}\" }}\n{extra}\n",
                store.display()
            ),
        )
        .expect("server config");
        let mut s = Server {
            proc: None,
            port,
            host: host.into(),
            store,
            config,
            prefix: prefix.iter().map(|s| s.to_string()).collect(),
        };
        s.start(dir, name);
        s
    }

    pub fn start(&mut self, dir: &Path, name: &str) {
        let mut cmd = if self.prefix.is_empty() {
            Command::new("nats-server")
        } else {
            let mut c = Command::new(&self.prefix[0]);
            c.args(&self.prefix[1..]).arg("nats-server");
            c
        };
        cmd.arg("-c").arg(&self.config);
        self.proc = Some(Proc::spawn(cmd, name, dir.join(format!("{name}.log"))));
    }

    pub fn url(&self) -> String {
        format!("nats://{}:{}", self.host, self.port)
    }

    pub fn pid(&self) -> u32 {
        self.proc.as_ref().expect("running").pid()
    }

    /// Waits until the port accepts connections (not for netns servers,
    /// which the test reaches from inside their namespace).
    pub fn wait_listening(&self, within: Duration) {
        let addr = format!("{}:{}", self.host, self.port);
        wait_until(&format!("nats-server on {addr}"), within, || {
            std::net::TcpStream::connect(&addr).ok()
        });
    }
}

/// A temp directory, a server, unique names: what every test starts with.
pub struct Lab {
    pub dir: tempfile::TempDir,
    n: AtomicU32,
}

impl Lab {
    pub fn new() -> Lab {
        Lab {
            dir: tempfile::tempdir().expect("temp dir"),
            n: AtomicU32::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A server on loopback with its own store.
    pub fn server(&self, name: &str) -> Server {
        let s = Server::new(self.path(), name, "127.0.0.1", free_port(), "", &[]);
        s.wait_listening(Duration::from_secs(15));
        s
    }

    /// A ring name unique to this process and call, removed on drop.
    pub fn ring(&self, tag: &str, capacity: u64, slot_size: u64) -> RingName {
        let n = self.n.fetch_add(1, Ordering::Relaxed);
        let name = format!("dmp-bridge-test-{tag}-{}-{n}", std::process::id());
        let loc = Location::shm(&name);
        let _ = Ring::unlink(&loc);
        Ring::create(
            &loc,
            &RingOptions::new().capacity(capacity).slot_size(slot_size),
        )
        .expect("create ring");
        RingName(name)
    }

    /// A bridge process (`dmp-bridge ARGS`).
    pub fn bridge(&self, what: &str, args: &[String], prefix: &[&str]) -> Proc {
        let mut cmd = if prefix.is_empty() {
            Command::new(env!("CARGO_BIN_EXE_dmp-bridge"))
        } else {
            let mut c = Command::new(prefix[0]);
            c.args(&prefix[1..]).arg(env!("CARGO_BIN_EXE_dmp-bridge"));
            c
        };
        cmd.args(args);
        Proc::spawn(cmd, what, self.path().join(format!("{what}.log")))
    }
}

pub struct RingName(pub String);

impl RingName {
    pub fn open(&self) -> Ring {
        Ring::open(&Location::shm(&self.0), &RingOptions::new()).expect("open ring")
    }
}

impl Drop for RingName {
    fn drop(&mut self) {
        let _ = Ring::unlink(&Location::shm(&self.0));
    }
}

/// The sample values of a Prometheus textfile (labels dropped).
pub fn metric(path: &Path, name: &str) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    dmp_bridge::metrics::parse_text(&text)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// xorshift64* seeded through splitmix64, as tests/support's Rng.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
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
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}
