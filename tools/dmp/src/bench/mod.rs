//! `dmp bench`: the cross-process benchmark (DESIGN.md §6), and the run
//! that measures every workload round by round.
//!
//! Every workload runs between two worker processes (this executable,
//! re-run with the hidden `bench-worker` subcommand), the producer side
//! pinned to one CPU and the consumer side to another, while the parent
//! only waits. Each workload is measured three ways in the same run:
//!
//! * over a dmp ring (the library's safe API);
//! * over the floor: a minimal hand-written SPSC ring, or an atomic
//!   ping-pong, in a shared-memory file (the best this hardware does);
//! * over a Unix domain socket (what people use otherwise);
//!
//! and reported as figures plus ratios, because the machines are noisy.
//! Timing is reported, never asserted; payloads are verified.
//!
//! Multi-producer rings are compared with the single-producer ring of the
//! same run (same event size, layout, batch and capacity): one producer
//! under busy-spin and under yield, and two producers under yield (three
//! processes on what may be two cores; `--mp2-placement` says where).
//! Their events carry the producer id and its own counter, and the
//! consumer checks every producer's events arrive complete and in order.
//!
//! One event per claim/publish (`one/`): the Rust API and the C ABI
//! against a hand-written ring that publishes and acknowledges every event
//! (rigtorp SPSCQueue style), packed rings with default options.
//!
//! The wake-up fd (`wake_fd`, `--only wake-fd`): a paced ring ping-pong
//! whose consumers arm their fds and poll them, against the paced futex
//! and socket round trips; the one-event Rust rows with a consumer that
//! obtained its fd and never arms it, against the same rows without; a
//! tokio consumer (`dmp-async`) against a blocking one, batched.
//!
//! The modules, by what they hold:
//!
//! * `args`: the command line of `dmp bench` and of `bench-worker`;
//! * `payload`: what an event carries and how a consumer checks it;
//! * `worker`: both ends of the `bench-worker` protocol (spawning,
//!   ready/go/result lines); `cleanup`: the names a run creates;
//! * `ring`, `floor`, `uds`: the worker loops of each transport;
//! * `throughput`, `multi`, `pingpong`, `one`: the workloads and rows;
//! * `wake_fd`: the wake-up fd's waits, its tokio consumer and rows;
//! * `results`, `targets`, `report_table`, `report_json`: what a run
//!   measured, the targeted ratios, and the two ways of printing them.

mod args;
mod cleanup;
mod floor;
mod multi;
mod one;
mod payload;
mod pingpong;
mod report_json;
mod report_table;
mod results;
mod ring;
mod targets;
mod throughput;
mod uds;
mod wake_fd;
mod worker;

pub use args::{BenchArgs, WorkerArgs};
pub(crate) use payload::supported_size;
pub(crate) use pingpong::{ping_pong, PingPong};
pub(crate) use throughput::{throughput, Transport};
pub use worker::worker;

use crate::format::{events_per_sec, nanos};
use crate::CmdResult;
use args::Group;
use multi::{mp_rows, ring_throughput};
use pingpong::{ping_pong_specs, PpRow};
use report_json::json;
use report_table::print_table;
use results::Results;
use std::error::Error;
use std::time::{Duration, Instant};
use targets::targets;
use throughput::{throughput_specs, TpRow};

pub(crate) type BoxResult<T> = Result<T, Box<dyn Error>>;

/// A worker gives up when a single wait makes no progress for this long.
const STALL: Duration = Duration::from_secs(10);
/// Name the ring consumers register under.
const CONSUMER_NAME: &str = "bench";

/// Parameters shared by every workload of a run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub batch: u64,
    pub capacity: u64,
    pub pingpong_capacity: u64,
    pub producer_cpu: usize,
    pub consumer_cpu: usize,
}

/// Prints a progress line to stderr around a workload.
pub(crate) fn step<T>(
    prefix: &str,
    what: &str,
    f: impl FnOnce() -> BoxResult<T>,
    summary: impl Fn(&T) -> String,
) -> BoxResult<T> {
    eprintln!("{prefix}: {what} ...");
    let start = Instant::now();
    let r = f().map_err(|e| format!("{what}: {e}"))?;
    eprintln!(
        "{prefix}: {what} ... done in {:.1} s ({})",
        start.elapsed().as_secs_f64(),
        summary(&r)
    );
    Ok(r)
}

pub fn run(a: &BenchArgs) -> CmdResult {
    let events = a
        .events
        .unwrap_or(if a.quick { 2_000_000 } else { 50_000_000 });
    let round_trips = a
        .round_trips
        .unwrap_or(if a.quick { 10_000 } else { 100_000 });
    let rounds = a.rounds.unwrap_or(if a.quick { 1 } else { 3 });
    if events == 0 || round_trips == 0 || rounds == 0 {
        return Err("--events, --round-trips and --rounds must be at least 1".into());
    }
    if !a.capacity.is_power_of_two() || a.capacity < 2 {
        return Err(format!("--capacity {} must be a power of two >= 2", a.capacity).into());
    }
    if a.batch == 0 || a.batch > a.capacity {
        return Err(format!("--batch {} must lie in [1, capacity]", a.batch).into());
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus < 2 || a.producer_cpu == a.consumer_cpu {
        eprintln!(
            "bench: warning: producer and consumer share a CPU ({cpus} available); busy-spin figures will be meaningless"
        );
    }
    if !a.pingpong_capacity.is_power_of_two() {
        return Err(format!(
            "--pingpong-capacity {} must be a power of two",
            a.pingpong_capacity
        )
        .into());
    }
    let plan = Plan {
        batch: a.batch,
        capacity: a.capacity,
        pingpong_capacity: a.pingpong_capacity,
        producer_cpu: a.producer_cpu,
        consumer_cpu: a.consumer_cpu,
    };
    let one_per_write = Plan {
        batch: 1,
        ..plan.clone()
    };
    let gap = Duration::from_micros(a.gap_us);
    let runs = |g: Group| a.only.is_empty() || a.only.contains(&g);
    let started = Instant::now();

    let mut tp: Vec<TpRow> = throughput_specs()
        .into_iter()
        .filter(|_| runs(Group::Throughput))
        .map(|spec| TpRow {
            spec,
            rounds: Vec::new(),
        })
        .collect();
    let mut mp = if runs(Group::MultiProducer) {
        mp_rows(&plan, a.mp2_placement)
    } else {
        Vec::new()
    };
    // Without the main table, the multi-producer comparison measures its
    // single-producer busy-spin rings itself.
    let tp_ran = runs(Group::Throughput);
    let mut pp: Vec<PpRow> = ping_pong_specs()
        .into_iter()
        .filter(|spec| spec.groups.iter().any(|&g| runs(g)))
        .map(|spec| PpRow {
            spec,
            rounds: Vec::new(),
        })
        .collect();
    let mut one_rows = one::one_rows(runs(Group::OneEvent), runs(Group::WakeFd));
    let mut wake: Vec<TpRow> = wake_fd::wake_tp_specs()
        .into_iter()
        .filter(|_| runs(Group::WakeFd))
        .map(|spec| TpRow {
            spec,
            rounds: Vec::new(),
        })
        .collect();

    // Every round runs every workload, so drift of the machine (other
    // load, vCPUs moving on the host) hits all of them alike.
    for round in 1..=rounds {
        let tag = if rounds > 1 {
            format!("[{round}/{rounds}] ")
        } else {
            String::new()
        };
        for row in &mut tp {
            let s = &row.spec;
            let (p, n) = if s.one_per_write {
                (&one_per_write, (events / 100).max(1000))
            } else {
                (&plan, events)
            };
            let what = format!("{tag}throughput {}B {}, {n} events", s.size, s.label);
            let r = step(
                "bench",
                &what,
                || throughput(p, s.transport, s.size, n),
                |r| events_per_sec(r.events_per_sec),
            )?;
            row.rounds.push(r);
        }
        for row in &mut one_rows {
            let s = row.spec;
            let what = format!(
                "{tag}one per claim/publish {}B {}, {events} events",
                s.size,
                s.label()
            );
            let r = step(
                "bench",
                &what,
                || one::one_throughput(&plan, s, events),
                |r| events_per_sec(r.events_per_sec),
            )?;
            row.rounds.push(r);
        }
        for row in &mut wake {
            let s = &row.spec;
            let what = format!("{tag}throughput {}B {}, {events} events", s.size, s.label);
            let r = step(
                "bench",
                &what,
                || throughput(&plan, s.transport, s.size, events),
                |r| events_per_sec(r.events_per_sec),
            )?;
            row.rounds.push(r);
        }
        for row in &mut mp {
            if tp_ran && row.spec.measured_as().is_some() {
                continue;
            }
            let s = &row.spec;
            let what = format!(
                "{tag}throughput {}, {}, {}, {events} events",
                s.label(),
                s.strategy.label(),
                row.placement.label()
            );
            let r = step(
                "bench",
                &what,
                || ring_throughput(&plan, s, &row.placement, events),
                |r| events_per_sec(r.events_per_sec),
            )?;
            row.rounds.push(r);
        }
        for row in &mut pp {
            let s = &row.spec;
            let (n, g) = match (s.kind, s.paced) {
                (_, true) => ((round_trips / 20).max(10), gap),
                (PingPong::Uds, false) => ((round_trips / 5).max(10), Duration::ZERO),
                _ => (round_trips, Duration::ZERO),
            };
            let warmup = if s.paced {
                (n / 10).min(100)
            } else {
                (n / 10).min(10_000)
            };
            let what = format!("{tag}ping-pong {}, {n} round trips", s.label);
            let r = step(
                "bench",
                &what,
                || ping_pong(&plan, s.kind, n, warmup, g),
                |r| format!("p50 {}", nanos(r.p50)),
            )?;
            row.rounds.push(r);
        }
    }

    // The busy-spin single-producer rings are the main table's rows: the
    // same figure, printed again beside the multi-producer ones.
    for row in mp.iter_mut().filter(|_| tp_ran) {
        if let Some(key) = row.spec.measured_as() {
            let size = row.spec.size;
            if let Some(t) = tp.iter().find(|t| t.spec.size == size && t.spec.key == key) {
                row.rounds = t.rounds.clone();
            }
        }
    }

    let mut results = Results {
        plan,
        events,
        round_trips,
        rounds,
        gap_us: a.gap_us,
        elapsed: started.elapsed(),
        tp,
        mp,
        pp,
        one: one_rows,
        wake,
        targets: Vec::new(),
    };
    results.targets = targets(&results);
    if !a.only.is_empty() {
        results.targets.retain(|t| t.value.is_finite());
    }
    if a.json {
        println!("{}", json(&results)?);
    } else {
        print_table(&results);
    }
    Ok(())
}
