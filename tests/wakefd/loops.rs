//! The event-loop consumers under test, as programs: the C epoll example
//! (c_examples/epoll.c), the C++ one (cpp_examples/epoll.cpp, the
//! wrapper's `wait_fd()`/`arm()`) and the Python asyncio one
//! (python/examples/asyncio_consumer.py); and what the tests around them
//! share: creating the ring, `dmp produce`, an outside observer of the
//! consumer's committed sequence, CPU ticks from /proc, the summary line.

use crate::support::{self, dmp, run, Proc, ShmName};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const T: Duration = Duration::from_secs(120);

/// One event-loop consumer program.
#[derive(Clone, Copy, Debug)]
pub enum Loop {
    /// c_examples/epoll.c
    C,
    /// cpp_examples/epoll.cpp
    Cpp,
    /// python/examples/asyncio_consumer.py
    Python,
}

fn c_program() -> &'static PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let src = support::repo_root().join("c_examples/epoll.c");
        support::compile_c(&[&src], "epoll_example", false)
    })
}

fn cpp_program() -> &'static PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let src = support::repo_root().join("cpp_examples/epoll.cpp");
        support::compile_c(&[&src], "epoll_cpp_example", true)
    })
}

impl Loop {
    /// Whether the program can run here (python3 installed); under CI a
    /// missing python3 fails the test.
    pub fn available(self) -> bool {
        if let Loop::Python = self {
            if Command::new("python3").arg("--version").output().is_err() {
                support::skip_or_fail("python3 is not installed");
                return false;
            }
        }
        true
    }

    /// Starts the consumer `name` reading `count` events from `ring`, once
    /// it printed "ready" (it registered and, for C and C++, added its fd
    /// to the epoll set).
    pub fn spawn(self, ring: &ShmName, name: &str, count: u64) -> Proc {
        let count = count.to_string();
        let c = match self {
            Loop::C | Loop::Cpp => {
                let exe = if let Loop::C = self {
                    c_program()
                } else {
                    cpp_program()
                };
                let mut c = Command::new(exe);
                c.args([&ring.0, "--name", name, "--count", &count])
                    .args(["--timeout-ms", "60000"]);
                c
            }
            Loop::Python => {
                let mut c = Command::new("python3");
                c.arg(support::repo_root().join("python/examples/asyncio_consumer.py"))
                    .args([&ring.0, "--name", name, "--count", &count])
                    .env("PYTHONPATH", support::repo_root().join("python"))
                    .env("DISRUPTOR_MP_LIB", support::shared_library());
                c
            }
        };
        let mut p = Proc::spawn(c, &format!("{self:?} consumer {name}"));
        p.wait_line("ready", T);
        p
    }
}

pub fn create(ring: &ShmName) {
    let mut c = dmp();
    c.args(["create", &ring.0, "--capacity", "1024", "--slot-size", "64"]);
    let (ok, out) = run(c, "dmp create", T);
    assert!(ok, "{out}");
}

/// `dmp produce`: `count` events numbered on from the ring's cursor, in
/// publishes of `batch`, sleeping `pause_us` after each.
pub fn produce(ring: &ShmName, count: u64, batch: u64, pause_us: u64) -> Command {
    let mut p = dmp();
    p.args(["produce", &ring.0, "--wait", "block"])
        .args(["--count", &count.to_string(), "--batch", &batch.to_string()])
        .args(["--pause-us", &pause_us.to_string()]);
    p
}

/// Runs `dmp produce` to completion (bounded), asserting success.
pub fn publish(ring: &ShmName, count: u64, batch: u64, pause_us: u64) -> String {
    let (ok, out) = run(produce(ring, count, batch, pause_us), "dmp produce", T);
    assert!(ok, "dmp produce failed: {out}");
    out
}

/// Waits (bounded, polling every 5 ms) until the ring's cursor is `cursor`
/// and the consumer `name` committed it: the consumer is caught up, so it
/// armed its fd or is about to.
pub fn wait_caught_up(ring: &ShmName, name: &str, cursor: i64) {
    let observer = disruptor_mp::Ring::open(&ring.location(), &disruptor_mp::RingOptions::new())
        .expect("open the ring");
    let start = Instant::now();
    loop {
        let committed = observer
            .consumers()
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.sequence);
        if observer.cursor() == cursor && committed == Some(cursor) {
            return;
        }
        assert!(
            start.elapsed() < T,
            "cursor {} and {name}'s commit {committed:?} never both reached {cursor}",
            observer.cursor()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// User plus system CPU time of `pid`, in clock ticks (/proc/PID/stat).
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// The summary a consumer prints at the end ("consumed N events in B
/// batches, [A armings, ]W wake-ups, [E empty, ]last event L").
pub struct Summary {
    pub events: u64,
    pub batches: u64,
    /// Times arm() armed the fd (C++ only).
    pub armings: Option<u64>,
    /// Times the fd was readable.
    pub wakeups: u64,
    pub last: i64,
}

impl Summary {
    pub fn parse(out: &str) -> Summary {
        let line = out
            .lines()
            .find(|l| l.starts_with("consumed "))
            .unwrap_or_else(|| panic!("no summary in {out}"));
        let words: Vec<&str> = line.split([' ', ',']).filter(|w| !w.is_empty()).collect();
        let before = |word: &str| {
            let i = words.iter().position(|w| *w == word)?;
            words.get(i.checked_sub(1)?)?.parse::<u64>().ok()
        };
        let after = |word: &str| {
            let i = words.iter().rposition(|w| *w == word)?;
            words.get(i + 1)?.parse::<i64>().ok()
        };
        Summary {
            events: before("events").unwrap_or_else(|| panic!("{line}")),
            batches: before("batches").unwrap_or_else(|| panic!("{line}")),
            armings: before("armings"),
            wakeups: before("wake-ups").unwrap_or_else(|| panic!("{line}")),
            last: after("event").unwrap_or_else(|| panic!("{line}")),
        }
    }
}
