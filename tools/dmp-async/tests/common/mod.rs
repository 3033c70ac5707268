//! What the tokio consumer's tests share: the C producer example built
//! against the library cargo built beside them, the payload check, and
//! child processes waited for with a bound and killed on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The C producer example (c_examples/producer.c), compiled as `exe_name`
/// (one name per test binary: they build at the same time), linked
/// against the library cargo built beside this test.
pub fn c_producer(exe_name: &str) -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let exe = deps.join(exe_name);
    let so = deps.join("libdisruptor_mp.so");
    assert!(so.exists(), "{} not built", so.display());
    // The loader looks for the SONAME (libdisruptor_mp.so.<major>); one
    // directory per program, so two test binaries never race on the links.
    let lib_dir = deps.join(format!("{exe_name}-lib"));
    std::fs::create_dir_all(&lib_dir).unwrap();
    for link in ["libdisruptor_mp.so", "libdisruptor_mp.so.0"] {
        let _ = std::fs::remove_file(lib_dir.join(link));
        std::os::unix::fs::symlink(&so, lib_dir.join(link)).unwrap();
    }
    let out = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-I"])
        .arg(repo().join("include"))
        .arg(repo().join("c_examples/producer.c"))
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(&lib_dir)
        .arg("-ldisruptor_mp")
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .output()
        .expect("run the C compiler");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs the C producer: `count` events numbered on from the ring's
/// cursor, `batch` per publish (bounded: a minute).
pub fn produce(exe: &Path, ring: &str, count: u64, batch: u64) {
    let mut c = Command::new(exe);
    c.args([ring, "--count", &count.to_string()]).args([
        "--batch",
        &batch.to_string(),
        "--wait",
        "block",
    ]);
    let (status, out) = Proc::spawn(c, "C producer").finish(Duration::from_secs(60));
    assert!(status.success(), "C producer: {out}");
}

/// The event number in a slot, checking the payload pattern (payload.h).
pub fn check(slot: &[u8]) -> u64 {
    let n = u64::from_le_bytes(slot[..8].try_into().unwrap());
    for (k, b) in slot.iter().enumerate().skip(8) {
        assert_eq!(
            *b,
            (n as u8).wrapping_mul(31).wrapping_add(k as u8),
            "event {n} damaged"
        );
    }
    n
}

/// A child process, killed (if still running) when dropped; its stdout
/// read line by line on a thread, so every wait on it is bounded.
pub struct Proc {
    pub child: Child,
    what: String,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Proc {
    pub fn spawn(mut cmd: Command, what: &str) -> Proc {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Proc {
            child,
            what: what.into(),
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits at most `timeout` for a stdout line starting with `prefix`.
    pub fn wait_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "{} printed no {prefix:?} line within {timeout:?}: {:?}",
                    self.what, self.seen
                ),
            }
        }
    }

    /// Waits at most `timeout` for the exit; returns the status and what
    /// it printed (stdout not yet read, then stderr).
    pub fn finish(mut self, timeout: Duration) -> (ExitStatus, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < timeout,
                "{} did not finish within {timeout:?}",
                self.what
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut out: Vec<String> = std::mem::take(&mut self.seen);
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(10)) {
            out.push(line);
        }
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        (status, format!("{}\n{err}", out.join("\n")))
    }

    /// SIGKILL, and reap.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
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
