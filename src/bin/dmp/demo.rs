//! `dmp demo`: the first command a new user runs. It moves verified events
//! between two real processes through a fresh ring in shared memory, then
//! bounces an event back and forth between them, and prints what it saw.

use crate::bench::{self, fmt_ns, fmt_rate, PingPong, Plan, Transport};
use crate::CmdResult;
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
}

/// Groups digits by thousands: 10000000 -> "10,000,000".
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
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
    let tp = bench::throughput(&plan, Transport::Dmp, a.slot_size, a.events)?;
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
    let lat = bench::ping_pong(
        &plan,
        PingPong::DmpSpin,
        a.round_trips,
        warmup,
        Duration::ZERO,
    )?;
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
        fmt_rate(tp.events_per_sec),
        tp.mb_per_sec()
    );
    println!(
        "  round trip        p50 {}   p99 {}   p99.9 {}   max {}",
        fmt_ns(lat.p50),
        fmt_ns(lat.p99),
        fmt_ns(lat.p999),
        fmt_ns(lat.max)
    );
    println!("  one way (p50/2)   {}", fmt_ns(lat.p50 / 2.0));
    println!();
    println!("Both sides busy-spin (lowest latency, one core each); see WaitStrategy for");
    println!("yielding, sleeping and blocking (futex) waits. `dmp bench` compares these");
    println!("figures with a hand-written shared-memory ring and with Unix sockets.");
    Ok(())
}
