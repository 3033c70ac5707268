//! The text report of `dmp bench`: a header, one table per group of rows
//! that ran, the targeted ratios, and notes.

use super::one;
use super::results::Results;
use super::throughput::Throughput;
use super::wake_fd;
use crate::format::{events_per_sec, nanos};

fn fmt_ratio(r: f64) -> String {
    if !r.is_finite() {
        "n/a".into()
    } else if r < 0.095 {
        format!("{r:.3}x")
    } else if r < 100.0 {
        format!("{r:.2}x")
    } else {
        format!("{r:.0}x")
    }
}

pub(super) fn print_table(r: &Results) {
    let p = &r.plan;
    println!(
        "disruptor-mp cross-process benchmark: producer/ping side on CPU {}, consumer/echo side on CPU {}",
        p.producer_cpu, p.consumer_cpu
    );
    println!(
        "throughput: {} events per workload (UDS 1/write: {}), batches of {}, capacity {}, busy-spin, payloads verified",
        r.events,
        (r.events / 100).max(1000),
        p.batch,
        p.capacity
    );
    println!(
        "ping-pong: {} round trips (UDS {}, paced {} at {} us intervals), rings of {} slots; best of {} round(s); {:.1} s in all",
        r.round_trips,
        (r.round_trips / 5).max(10),
        (r.round_trips / 20).max(10),
        r.gap_us,
        p.pingpong_capacity,
        r.rounds,
        r.elapsed.as_secs_f64()
    );
    if r.tp.iter().any(|x| !x.rounds.is_empty()) {
        println!();
        println!(
            "{:<38} {:>14} {:>8} {:>9} {:>9} {:>9}",
            "workload", "result", "MB/s", "vs floor", "vs UDS", "ev/batch"
        );
        for row in &r.tp {
            let s = &row.spec;
            let rate = row.rate();
            println!(
                "{:<38} {:>14} {:>8} {:>9} {:>9} {:>9}",
                format!("throughput {:>2}B {}", s.size, s.label),
                events_per_sec(rate),
                row.best()
                    .map(Throughput::mb_per_sec)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "n/a".to_string(), |v| format!("{v:.0}")),
                fmt_ratio(rate / r.rate(s.size, "floor")),
                fmt_ratio(rate / r.rate(s.size, "uds")),
                row.best()
                    .map(|t| t.avg_batch)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}")),
            );
        }
    }
    if r.mp.iter().any(|x| !x.rounds.is_empty()) {
        println!();
        println!(
        "multi-producer throughput: 1 consumer, {} events per workload (in all, split evenly between the producers), batches of {}, capacity {};",
        r.events, p.batch, p.capacity
    );
        println!(
        "each event carries its producer's id and counter, checked in order per producer; \"vs SP\" is against the single-producer ring"
    );
        println!(
        "with the same event size, layout and wait strategy (the busy-spin ones are the table above). Placement: CPUs of the"
    );
        println!(
        "producer(s) (P) and the consumer (C). Three processes on two cores use yield: busy-spin would hold a core that another needs."
    );
        println!(
        "The \"no counters\" rows turn the per-participant hot-path counters off (RingOptions::hot_counters(false)); the targets"
    );
        println!("compare the main table's rings (counters on) with them. The \"optional\" rows attach an optional consumer (its commit");
        println!(
            "and wait paths check for eviction), compared with the main table's required one."
        );
        println!();
        println!(
            "{:<46} {:<9} {:<10} {:>14} {:>8} {:>7} {:>9}",
            "workload", "wait", "placement", "result", "MB/s", "vs SP", "ev/batch"
        );
        for row in &r.mp {
            let s = &row.spec;
            println!(
                "{:<46} {:<9} {:<10} {:>14} {:>8} {:>7} {:>9}",
                s.label(),
                s.strategy.label(),
                row.placement.label(),
                events_per_sec(row.rate()),
                row.best()
                    .map(Throughput::mb_per_sec)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "n/a".to_string(), |v| format!("{v:.0}")),
                if s.counters && !s.optional {
                    fmt_ratio(r.vs_single(s))
                } else {
                    "-".to_string()
                },
                row.best()
                    .map(|t| t.avg_batch)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}")),
            );
        }
    }
    if r.pp.iter().any(|x| !x.rounds.is_empty()) {
        println!();
        println!(
            "{:<38} {:>9} {:>9} {:>9} {:>9} {:>9}  p50 vs",
            "ping-pong round trip, 8B", "p50", "p99", "p99.9", "max", "mean"
        );
        for row in &r.pp {
            let Some(l) = row.best() else { continue };
            let base = row.spec.base_name();
            println!(
                "{:<38} {:>9} {:>9} {:>9} {:>9} {:>9}  {} {base}",
                row.spec.label,
                nanos(l.p50),
                nanos(l.p99),
                nanos(l.p999),
                nanos(l.max),
                nanos(l.mean),
                fmt_ratio(l.p50 / r.p50(row.spec.base)),
            );
        }
    }
    if r.one.iter().any(|x| !x.rounds.is_empty()) {
        println!();
        println!(
        "one event per claim/publish: {} events per workload, packed rings of {} slots with default RingOptions (wake-ups and",
        r.events, p.capacity
    );
        println!(
        "hot counters on), busy-spin, P:{} C:{}, payloads verified; \"vs hand-written\" is against a hand-written SPSC ring",
        p.producer_cpu, p.consumer_cpu
    );
        println!(
        "(rigtorp SPSCQueue style) that publishes and acknowledges every event, same size, same run. The C ABI row calls the"
    );
        println!(
        "exported dmp_* functions from the Rust worker: it measures their own work (handle and null checks, panic boundary)."
    );
        println!(
        "ev/batch: events per wait of the consumer (hand-written ring: per reload of the write index). Near 1, the consumer keeps"
    );
        println!(
        "up and every event crosses between the cores on its own; in the thousands, the producer runs about a ring ahead. Rates"
    );
        println!("of either ring swing between the two regimes from run to run: look at every round (--json) before trusting one figure.");
        println!(
            "\"work {}/event\": the producer computes {} rounds of xorshift before each event, as a producer that decodes or builds",
            one::WORK_ROUNDS,
            one::WORK_ROUNDS
        );
        println!(
            "its events does; without it the hand-written producer does nothing but two stores per event, which holds it a ring ahead."
        );
        if r.one.iter().any(|x| match x.spec.kind {
            one::OneKind::Ring(s) => s.wake_fd(),
            one::OneKind::HandWritten => false,
        }) {
            println!(
                "\"fd bound (never armed)\": the consumer called Consumer::wait_fd (its wake-up socket bound) and never arms it; the"
            );
            println!(
                "targets compare each with the same ring and loops without an fd: what the fd costs a publisher while nobody waits on it."
            );
        }
        println!();
        println!(
            "{:<68} {:>14} {:>8} {:>15} {:>9}",
            "workload", "result", "MB/s", "vs hand-written", "ev/batch"
        );
        for row in &r.one {
            let s = &row.spec;
            println!(
                "{:<68} {:>14} {:>8} {:>15} {:>9}",
                format!("{:>2}B {}", s.size, s.label()),
                events_per_sec(row.rate()),
                row.best()
                    .map(Throughput::mb_per_sec)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "n/a".to_string(), |v| format!("{v:.0}")),
                fmt_ratio(r.one_vs_hand_written(*s)),
                row.best()
                    .map(|t| t.avg_batch)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}")),
            );
        }
    }
    print_wake(r);
    println!();
    println!("{:<38} {:>9} {:>9}", "targeted ratio", "measured", "target");
    for t in &r.targets {
        println!(
            "{:<38} {:>9} {:>9}  {}",
            t.label,
            fmt_ratio(t.value),
            t.goal,
            if !t.value.is_finite() {
                "n/a"
            } else if t.met {
                "met"
            } else {
                "not met"
            }
        );
    }
    println!();
    println!("Notes: \"back-to-back\" blocking round trips arrive within the strategy's spin");
    println!("phase, so they measure spinning; the paced ones sleep between round trips so");
    println!("both sides block in the kernel (futex, socket read, poll on the wake-up fd):");
    println!("that is wake-up latency.");
    println!("Timings are reported, never asserted; ratios come from this one run.");
}

/// The wake-fd group's consumer rows, when they ran. (Its round trip is a
/// ping-pong row and its publisher-cost rows are one-event rows.)
fn print_wake(r: &Results) {
    if r.wake.iter().all(|x| x.rounds.is_empty()) {
        return;
    }
    let p = &r.plan;
    println!();
    println!(
        "wake-up fd consumers: {} events per workload, batches of {}, rings of {} slots with default RingOptions (stamped,",
        r.events, p.batch, p.capacity
    );
    println!(
        "wake-ups on), a blocking-strategy producer publishing as fast as it can, P:{} C:{}, payloads verified. The tokio",
        p.producer_cpu, p.consumer_cpu
    );
    println!(
        "consumer awaits dmp_async::AsyncConsumer::next_batch() on a current-thread runtime (arm, then AsyncFd on the wake-up fd);"
    );
    println!("\"vs blocking\" is against the blocking-strategy consumer of the same ring kind, same run.");
    println!();
    println!(
        "{:<46} {:>14} {:>8} {:>12} {:>9}",
        "workload", "result", "MB/s", "vs blocking", "ev/batch"
    );
    for row in &r.wake {
        let s = &row.spec;
        let rate = row.rate();
        println!(
            "{:<46} {:>14} {:>8} {:>12} {:>9}",
            format!("{:>2}B {}", s.size, s.label),
            events_per_sec(rate),
            row.best()
                .map(Throughput::mb_per_sec)
                .filter(|v| v.is_finite())
                .map_or_else(|| "n/a".to_string(), |v| format!("{v:.0}")),
            fmt_ratio(rate / r.wake_rate(s.size, wake_fd::BLOCKING_KEY)),
            row.best()
                .map(|t| t.avg_batch)
                .filter(|v| v.is_finite())
                .map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}")),
        );
    }
}
