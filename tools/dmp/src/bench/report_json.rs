//! The JSON report of `dmp bench --json`: the run's configuration, every
//! row with its rounds, and the targets, as one object on one line. Each
//! object is a struct, its fields in the order they are printed.

use super::multi::MpRow;
use super::one::OneRow;
use super::pingpong::PpRow;
use super::results::Results;
use super::targets::Target;
use super::throughput::{Throughput, TpRow};
use super::wake_fd;
use serde::{Serialize, Serializer};

/// A figure as the report gives it: rounded to 4 decimals, and null when
/// there is none (NaN: a workload that did not run, a ratio to one).
type Num = Option<f64>;

fn num(v: f64) -> Num {
    // Through the decimal text, so the value is the 4-decimal one that
    // `{:.4}` prints (serde_json then writes it in as few digits as it
    // takes: 2.5, not 2.5000).
    v.is_finite()
        .then(|| format!("{v:.4}").parse().expect("a formatted f64"))
}

fn nums(v: impl IntoIterator<Item = f64>) -> Vec<Num> {
    v.into_iter().map(num).collect()
}

#[derive(Serialize)]
struct Report<'a> {
    config: Config,
    throughput: Vec<TpJson<'a>>,
    multi_producer: Vec<MpJson>,
    ping_pong: Vec<PpJson<'a>>,
    one_event: Vec<OneJson>,
    wake_fd_consumers: Vec<WakeJson<'a>>,
    targets: Targets<'a>,
}

#[derive(Serialize)]
struct Config {
    events: u64,
    round_trips: u64,
    rounds: u32,
    gap_us: u64,
    batch: u64,
    capacity: u64,
    pingpong_capacity: u64,
    producer_cpu: usize,
    consumer_cpu: usize,
    elapsed_s: Num,
}

#[derive(Serialize)]
struct TpJson<'a> {
    size: usize,
    transport: &'a str,
    events: u64,
    events_per_sec: Num,
    mb_per_sec: Num,
    vs_floor: Num,
    vs_uds: Num,
    consumer_avg_batch: Num,
    rounds_events_per_sec: Vec<Num>,
}

#[derive(Serialize)]
struct MpJson {
    size: usize,
    layout: &'static str,
    producer_mode: &'static str,
    producers: u32,
    wait: &'static str,
    producer_cpus: Vec<Option<usize>>,
    consumer_cpu: Option<usize>,
    hot_counters: bool,
    optional_consumer: bool,
    events: u64,
    events_per_sec: Num,
    mb_per_sec: Num,
    vs_single_producer: Num,
    /// Null for the rows with the counters on (they are what the rows
    /// without are compared with).
    counters_on_off: Num,
    consumer_avg_batch: Num,
    rounds_events_per_sec: Vec<Num>,
    rounds_vs_single_producer: Vec<Num>,
    /// Empty for the rows with the counters on.
    rounds_counters_on_off: Vec<Num>,
    /// `throughput:KEY` when the row is a main-table row printed again.
    same_as: Option<String>,
}

#[derive(Serialize)]
struct PpJson<'a> {
    workload: &'a str,
    round_trips: u64,
    p50_ns: Num,
    p99_ns: Num,
    p999_ns: Num,
    max_ns: Num,
    mean_ns: Num,
    p50_vs: &'a str,
    p50_ratio: Num,
    rounds_p50_ns: Vec<Num>,
}

#[derive(Serialize)]
struct OneJson {
    size: usize,
    work: u32,
    workload: String,
    label: String,
    events: u64,
    events_per_sec: Num,
    mb_per_sec: Num,
    vs_hand_written: Num,
    consumer_avg_batch: Num,
    rounds_events_per_sec: Vec<Num>,
    rounds_vs_hand_written: Vec<Num>,
}

#[derive(Serialize)]
struct WakeJson<'a> {
    size: usize,
    consumer: &'a str,
    events: u64,
    events_per_sec: Num,
    mb_per_sec: Num,
    vs_blocking: Num,
    consumer_avg_batch: Num,
    rounds_events_per_sec: Vec<Num>,
    /// Empty for the blocking consumer's rows.
    rounds_vs_blocking: Vec<Num>,
}

/// The targets as one object keyed by target, in the targets' order.
struct Targets<'a>(&'a [Target]);

#[derive(Serialize)]
struct TargetJson {
    value: Num,
    target: &'static str,
    met: bool,
}

impl Serialize for Targets<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|t| {
            let v = TargetJson {
                value: num(t.value),
                target: t.goal,
                met: t.met,
            };
            (t.key.as_str(), v)
        }))
    }
}

/// The events, the rate, the MB/s and the consumer's batch of a row's
/// best round (0 events and null figures when none ran).
fn best(t: Option<&Throughput>) -> (u64, Num, Num) {
    (
        t.map_or(0, |t| t.events),
        num(t.map_or(f64::NAN, Throughput::mb_per_sec)),
        num(t.map_or(f64::NAN, |t| t.avg_batch)),
    )
}

fn rounds(rounds: &[Throughput]) -> Vec<Num> {
    nums(rounds.iter().map(|t| t.events_per_sec))
}

fn tp_row<'a>(r: &Results, row: &'a TpRow) -> TpJson<'a> {
    let s = &row.spec;
    let rate = row.rate();
    let (events, mb_per_sec, consumer_avg_batch) = best(row.best());
    TpJson {
        size: s.size,
        transport: s.key,
        events,
        events_per_sec: num(rate),
        mb_per_sec,
        vs_floor: num(rate / r.rate(s.size, "floor")),
        vs_uds: num(rate / r.rate(s.size, "uds")),
        consumer_avg_batch,
        rounds_events_per_sec: rounds(&row.rounds),
    }
}

fn mp_row(r: &Results, row: &MpRow) -> MpJson {
    let s = &row.spec;
    let (events, mb_per_sec, consumer_avg_batch) = best(row.best());
    MpJson {
        size: s.size,
        layout: s.layout(),
        producer_mode: if s.producers == 0 { "single" } else { "multi" },
        producers: s.producers.max(1),
        wait: s.strategy.as_str(),
        producer_cpus: row.placement.producers.clone(),
        consumer_cpu: row.placement.consumer,
        hot_counters: s.counters,
        optional_consumer: s.optional,
        events,
        events_per_sec: num(row.rate()),
        mb_per_sec,
        vs_single_producer: num(r.vs_single(s)),
        counters_on_off: if s.counters {
            None
        } else {
            num(r.counters_on_off(s))
        },
        consumer_avg_batch,
        rounds_events_per_sec: rounds(&row.rounds),
        rounds_vs_single_producer: nums(r.rounds_vs_single(s)),
        rounds_counters_on_off: if s.counters {
            Vec::new()
        } else {
            nums(r.rounds_counters_on_off(s))
        },
        same_as: s
            .measured_as()
            .filter(|_| !r.tp.is_empty())
            .map(|k| format!("throughput:{k}")),
    }
}

/// A ping-pong row, if any round ran.
fn pp_row<'a>(r: &Results, row: &'a PpRow) -> Option<PpJson<'a>> {
    let l = row.best()?;
    Some(PpJson {
        workload: row.spec.key,
        round_trips: l.count,
        p50_ns: num(l.p50),
        p99_ns: num(l.p99),
        p999_ns: num(l.p999),
        max_ns: num(l.max),
        mean_ns: num(l.mean),
        p50_vs: row.spec.base,
        p50_ratio: num(l.p50 / r.p50(row.spec.base)),
        rounds_p50_ns: nums(row.rounds.iter().map(|l| l.p50)),
    })
}

fn one_row(r: &Results, row: &OneRow) -> OneJson {
    let s = &row.spec;
    let (events, mb_per_sec, consumer_avg_batch) = best(row.best());
    OneJson {
        size: s.size,
        work: s.work,
        workload: s.key(),
        label: s.label(),
        events,
        events_per_sec: num(row.rate()),
        mb_per_sec,
        vs_hand_written: num(r.one_vs_hand_written(*s)),
        consumer_avg_batch,
        rounds_events_per_sec: rounds(&row.rounds),
        rounds_vs_hand_written: nums(r.one_rounds_vs_hand_written(*s)),
    }
}

fn wake_row<'a>(r: &Results, row: &'a TpRow) -> WakeJson<'a> {
    let s = &row.spec;
    let rate = row.rate();
    let (events, mb_per_sec, consumer_avg_batch) = best(row.best());
    WakeJson {
        size: s.size,
        consumer: s.key,
        events,
        events_per_sec: num(rate),
        mb_per_sec,
        vs_blocking: num(rate / r.wake_rate(s.size, wake_fd::BLOCKING_KEY)),
        consumer_avg_batch,
        rounds_events_per_sec: rounds(&row.rounds),
        rounds_vs_blocking: if s.key == wake_fd::ASYNC_KEY {
            nums(r.wake_rounds_vs_blocking(s.size))
        } else {
            Vec::new()
        },
    }
}

/// The report on one line (without the newline).
pub(super) fn json(r: &Results) -> serde_json::Result<String> {
    let p = &r.plan;
    serde_json::to_string(&Report {
        config: Config {
            events: r.events,
            round_trips: r.round_trips,
            rounds: r.rounds,
            gap_us: r.gap_us,
            batch: p.batch,
            capacity: p.capacity,
            pingpong_capacity: p.pingpong_capacity,
            producer_cpu: p.producer_cpu,
            consumer_cpu: p.consumer_cpu,
            elapsed_s: num(r.elapsed.as_secs_f64()),
        },
        throughput: r.tp.iter().map(|row| tp_row(r, row)).collect(),
        multi_producer: r.mp.iter().map(|row| mp_row(r, row)).collect(),
        ping_pong: r.pp.iter().filter_map(|row| pp_row(r, row)).collect(),
        one_event: r.one.iter().map(|row| one_row(r, row)).collect(),
        wake_fd_consumers: r.wake.iter().map(|row| wake_row(r, row)).collect(),
        targets: Targets(&r.targets),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_keep_four_decimals_and_no_figure_is_null() {
        assert_eq!(num(12_953_170.220_249), Some(12_953_170.220_2));
        assert_eq!(num(2.0), Some(2.0));
        assert_eq!(num(f64::NAN), None);
        assert_eq!(num(f64::INFINITY), None);
        let text = serde_json::to_string(&nums([0.123_456, f64::NAN, 1.0])).unwrap();
        assert_eq!(text, "[0.1235,null,1.0]");
    }
}
