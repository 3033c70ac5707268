//! `dmp demo`: the first command a new user runs. It moves verified events
//! between two real processes through a fresh ring in shared memory, then
//! bounces an event back and forth between them, and prints what it saw.

use crate::bench::{self, PingPong, Plan, Transport};
use crate::format;
use crate::probe;
use crate::CmdResult;
use disruptor_mp::layout::{self, field, MAGIC};
use disruptor_mp::{Location, Ring, RingOptions};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Events to move from the producer process to the consumer process.
    #[arg(long, default_value_t = 100_000_000)]
    events: u64,
    /// Payload bytes per event (at least 8: the event number).
    #[arg(long, default_value_t = 64)]
    slot_size: usize,
    /// Round trips of the ping-pong between the two processes.
    #[arg(long, default_value_t = 1_000_000)]
    round_trips: u64,
    /// Milliseconds between progress lines.
    #[arg(long, default_value_t = 1000, hide = true, value_parser = clap::value_parser!(u64).range(10..))]
    progress_ms: u64,
}

use probe::grouped;

/// Prints a progress line every second while a phase of the demo runs:
/// how far the slowest consumer of the rings this process created for the
/// phase has got, read from the rings themselves (as `dmp stat` would).
struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts reporting `total` `unit` (e.g. "events") for a phase that
    /// starts now.
    fn start(every: Duration, total: u64, unit: &'static str) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (start, since_ns) = (Instant::now(), disruptor_mp::internals::unix_time_ns());
        let thread = std::thread::spawn(move || {
            let mut rings: BTreeMap<String, Ring> = BTreeMap::new();
            let mut last = (Instant::now(), 0u64);
            let mut next = every;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10).min(every));
                if start.elapsed() < next || flag.load(Ordering::Relaxed) {
                    continue;
                }
                next += every;
                find_own_rings(since_ns, &mut rings);
                let secs = start.elapsed().as_secs_f64();
                let line = match own_progress(&rings) {
                    Some(done) => {
                        let rate = (done - last.1.min(done)) as f64
                            / last.0.elapsed().as_secs_f64().max(1e-3);
                        last = (Instant::now(), done);
                        format!(
                            "      ... {secs:.1} s: {} of {} {unit} ({:.0}%), {}",
                            grouped(done),
                            grouped(total),
                            done as f64 / total.max(1) as f64 * 100.0,
                            format::rate(rate)
                        ) + "/s"
                    }
                    None => format!("      ... {secs:.1} s"),
                };
                println!("{line}");
            }
        });
        Progress {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Opens the rings in /dev/shm that this process created since `since_ns`
/// (by the creator pid and time in their headers) and that are not open
/// yet.
fn find_own_rings(since_ns: u64, rings: &mut BTreeMap<String, Ring>) {
    let Ok(dir) = std::fs::read_dir("/dev/shm") else {
        return;
    };
    let me = u64::from(std::process::id());
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if rings.contains_key(&name) {
            continue;
        }
        let path = Path::new("/dev/shm").join(&name);
        let Ok((head, _)) = probe::read_head(&path) else {
            continue;
        };
        if head.len() < layout::HEADER_SIZE as usize
            || head[..MAGIC.len()] != MAGIC
            || layout::get_u64(&head, field::CREATOR_PID) != me
            || layout::get_u64(&head, field::CREATED_AT_NS) < since_ns
        {
            continue;
        }
        if let Ok(ring) = Ring::open(&Location::file(path), &RingOptions::new().read_only(true)) {
            rings.insert(name, ring);
        }
    }
}

/// Events the slowest consumer of `rings` has consumed (its committed
/// sequence + 1: counted whether or not the rings count events), or None
/// before any consumer registered.
fn own_progress(rings: &BTreeMap<String, Ring>) -> Option<u64> {
    rings
        .values()
        .map(|r| {
            r.snapshot()
                .consumers
                .iter()
                .map(|c| (c.sequence + 1).max(0) as u64)
                .min()
        })
        .collect::<Option<Vec<u64>>>()
        .and_then(|v| v.into_iter().min())
}

pub fn run(a: &DemoArgs) -> CmdResult {
    if a.events == 0 || a.round_trips == 0 {
        return Err("--events and --round-trips must be at least 1".into());
    }
    if !bench::supported_size(a.slot_size) {
        return Err(format!("--slot-size {} must lie in [8, 1048576] bytes", a.slot_size).into());
    }
    let plan = Plan {
        batch: 256,
        capacity: 4096,
        pingpong_capacity: 64,
        producer_cpu: 0,
        consumer_cpu: 1,
    };
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("dmp demo: a producer and a consumer, each its own OS process, share a ring");
    println!("of fixed-size slots in POSIX shared memory (/dev/shm). The ring is created");
    println!("under a unique name for this run and removed at the end.");
    if cpus < 2 {
        println!(
            "warning: only {cpus} CPU available; both processes busy-spin on it, so the figures will be poor"
        );
    }
    println!();

    println!(
        "[1/2] creating a ring of {} slots x {} B; starting a consumer process (CPU {}),",
        plan.capacity, a.slot_size, plan.consumer_cpu
    );
    println!(
        "      then a producer process (CPU {}) that publishes {} numbered events",
        plan.producer_cpu,
        grouped(a.events)
    );
    println!(
        "      in batches of {}; the consumer checks every one ...",
        plan.batch
    );
    let start = Instant::now();
    let progress = Progress::start(Duration::from_millis(a.progress_ms), a.events, "events");
    let tp = bench::throughput(&plan, Transport::Dmp, a.slot_size, a.events);
    drop(progress);
    let tp = tp?;
    println!(
        "      done in {:.2} s: {} events arrived once each, in order, payloads intact",
        start.elapsed().as_secs_f64(),
        grouped(tp.events)
    );
    println!();

    println!("[2/2] ping-pong: process A publishes an 8-byte event on one ring, process B");
    println!(
        "      consumes it and publishes it back on a second ring; {} round trips ...",
        grouped(a.round_trips)
    );
    let start = Instant::now();
    let warmup = (a.round_trips / 10).min(10_000);
    let progress = Progress::start(
        Duration::from_millis(a.progress_ms),
        warmup + a.round_trips,
        "round trips (warm-up included)",
    );
    let lat = bench::ping_pong(
        &plan,
        PingPong::DmpSpin,
        a.round_trips,
        warmup,
        Duration::ZERO,
    );
    drop(progress);
    let lat = lat?;
    println!("      done in {:.2} s", start.elapsed().as_secs_f64());
    println!();

    println!("result");
    println!(
        "  events moved      {} x {} B, all verified",
        grouped(tp.events),
        a.slot_size
    );
    println!(
        "  throughput        {}   {:.0} MB/s",
        format::events_per_sec(tp.events_per_sec),
        tp.mb_per_sec()
    );
    println!(
        "  round trip        p50 {}   p99 {}   p99.9 {}   max {}",
        format::nanos(lat.p50),
        format::nanos(lat.p99),
        format::nanos(lat.p999),
        format::nanos(lat.max)
    );
    println!("  one way (p50/2)   {}", format::nanos(lat.p50 / 2.0));
    println!();
    println!("Both sides busy-spin (lowest latency, one core each); see WaitStrategy for");
    println!("yielding, sleeping and blocking (futex) waits. `dmp bench` compares these");
    println!("figures with a hand-written shared-memory ring and with Unix sockets.");
    Ok(())
}
