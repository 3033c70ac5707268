//! Wake-up fds between real processes: the C epoll example
//! (c_examples/epoll.c) against `dmp produce` (a Rust producer), paced and
//! bursty, every event checked by the consumer, wake-ups counted, the
//! consumer's CPU time while idle; a producer killed while the consumer is
//! armed; an armed consumer killed and restarted under its name.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use support::{dmp, run, Proc, ShmName};

const T: Duration = Duration::from_secs(120);

fn epoll_program() -> &'static PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let src = support::repo_root().join("c_examples/epoll.c");
        support::compile_c(&[&src], "epoll_example", false)
    })
}

fn create(ring: &ShmName) {
    let mut c = dmp();
    c.args(["create", &ring.0, "--capacity", "1024", "--slot-size", "64"]);
    let (ok, out) = run(c, "dmp create", T);
    assert!(ok, "{out}");
}

fn epoll_consumer(ring: &ShmName, name: &str, count: u64) -> Proc {
    let mut c = Command::new(epoll_program());
    c.args([&ring.0, "--name", name, "--count", &count.to_string()])
        .args(["--timeout-ms", "60000"]);
    let mut p = Proc::spawn(c, &format!("epoll consumer {name}"));
    p.wait_line("ready", T);
    p
}

fn produce(ring: &ShmName, count: u64, batch: u64, pause_us: u64) -> Command {
    let mut p = dmp();
    p.args(["produce", &ring.0, "--wait", "block"])
        .args(["--count", &count.to_string(), "--batch", &batch.to_string()])
        .args(["--pause-us", &pause_us.to_string()]);
    p
}

/// User plus system CPU time of `pid`, in clock ticks (/proc/PID/stat).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// The counts the example prints at the end.
fn counts(out: &str) -> (u64, u64, u64) {
    let line = out
        .lines()
        .find(|l| l.starts_with("consumed "))
        .unwrap_or_else(|| panic!("no summary in {out}"));
    let n: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

#[test]
fn an_epoll_consumer_gets_every_event_paced_and_bursty_with_one_wakeup_per_arming() {
    // (events, batch, pause after each batch): paced single events, and
    // bursts of 100 events published at once with idle gaps between.
    for (tag, count, batch, pause_us) in [
        ("paced", 200u64, 1u64, 2000u64),
        ("bursty", 2000, 100, 20_000),
    ] {
        let ring = ShmName::new(&format!("wakefd-{tag}"));
        create(&ring);
        let c = epoll_consumer(&ring, "ep", count);
        // Idle and armed: no CPU used over a second (a bounded 50 ms
        // epoll_wait and a new arm 20 times a second, nothing else).
        let pid = c.child.id();
        let before = cpu_ticks(pid);
        std::thread::sleep(Duration::from_secs(1));
        let idle = cpu_ticks(pid) - before;
        let (ok, out) = run(produce(&ring, count, batch, pause_us), "dmp produce", T);
        assert!(ok, "{out}");
        let out = c.succeed(T);
        let (events, batches, wakeups) = counts(&out);
        eprintln!("{tag}: {out} idle CPU {idle} ticks");
        assert_eq!(events, count, "{tag}: {out}");
        // One datagram per arming, and a publish call takes each arming
        // once: never more wake-ups than publishes, whatever the events.
        let publishes = count / batch;
        assert!(
            wakeups <= publishes,
            "{tag}: {wakeups} wake-ups for {publishes} publishes: {out}"
        );
        assert!(batches <= count, "{tag}: {out}");
        assert!(idle <= 5, "{tag}: {idle} clock ticks of CPU over 1 s idle");
    }
}

#[test]
fn a_producer_killed_while_the_consumer_is_armed_leaves_it_to_the_next_producer() {
    let ring = ShmName::new("wakefd-kill-producer");
    create(&ring);
    let c = epoll_consumer(&ring, "ep", 300);
    // Publishes 100 events 5 ms apart and is killed in the middle.
    let mut first = Proc::spawn(produce(&ring, 100, 1, 5000), "first producer");
    std::thread::sleep(Duration::from_millis(150));
    first.child.kill().unwrap();
    let _ = first.child.wait();
    // The next producer continues after the cursor: the consumer checks
    // that the numbers follow each other across the two.
    let observer = disruptor_mp::Ring::open(&ring.location(), &disruptor_mp::RingOptions::new())
        .expect("open the ring");
    let published = (observer.cursor() + 1) as u64;
    assert!(
        published < 100,
        "the first producer finished before it was killed"
    );
    let (ok, out) = run(
        produce(&ring, 300 - published, 1, 100),
        "second producer",
        T,
    );
    assert!(ok, "{out}");
    let out = c.succeed(T);
    assert_eq!(counts(&out).0, 300, "{out}");
}

#[test]
fn an_armed_consumer_killed_and_restarted_under_its_name_is_woken() {
    let ring = ShmName::new("wakefd-kill-consumer");
    create(&ring);
    let mut c = epoll_consumer(&ring, "ep", 100);
    // Armed (nothing published yet), then killed: its arming stays behind.
    std::thread::sleep(Duration::from_millis(100));
    c.child.kill().unwrap();
    let _ = c.child.wait();
    let again = epoll_consumer(&ring, "ep", 100);
    let (ok, out) = run(produce(&ring, 100, 1, 1000), "dmp produce", T);
    assert!(ok, "{out}");
    let out = again.succeed(T);
    assert_eq!(counts(&out).0, 100, "{out}");
}

#[test]
fn an_asyncio_consumer_gets_every_event_from_a_rust_producer_paced_and_bursty() {
    if Command::new("python3").arg("--version").output().is_err() {
        support::skip_or_fail("python3 is not installed");
        return;
    }
    for (tag, count, batch, pause_us) in [
        ("paced", 100u64, 1u64, 2000u64),
        ("bursty", 1000, 100, 20_000),
    ] {
        let ring = ShmName::new(&format!("wakefd-py-{tag}"));
        create(&ring);
        let mut c = Command::new("python3");
        c.arg(support::repo_root().join("python/examples/asyncio_consumer.py"))
            .args([&ring.0, "--name", "py", "--count", &count.to_string()])
            .env("PYTHONPATH", support::repo_root().join("python"))
            .env("DISRUPTOR_MP_LIB", support::shared_library());
        let mut c = Proc::spawn(c, "asyncio consumer");
        c.wait_line("ready", T);
        let pid = c.child.id();
        let before = cpu_ticks(pid);
        std::thread::sleep(Duration::from_secs(1));
        let idle = cpu_ticks(pid) - before;
        let (ok, out) = run(produce(&ring, count, batch, pause_us), "dmp produce", T);
        assert!(ok, "{out}");
        let out = c.succeed(T);
        eprintln!("python {tag}: {out} idle CPU {idle} ticks");
        assert!(
            out.contains(&format!("consumed {count} events")),
            "{tag}: {out}"
        );
        // The heartbeat (every 0.1 s) and the bounded re-arm (every 50 ms)
        // are all the loop does while idle.
        assert!(idle <= 10, "{tag}: {idle} clock ticks over 1 s idle");
    }
}
