//! The JSON report of `dmp bench --json`: the run's configuration, every
//! row with its rounds, and the targets, as one object on one line.

use super::results::Results;
use super::throughput::Throughput;

fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "null".into()
    }
}

pub(super) fn json(r: &Results) -> String {
    let p = &r.plan;
    let list = |v: Vec<String>| v.join(",");
    let tp: Vec<String> = r
        .tp
        .iter()
        .map(|row| {
            let s = &row.spec;
            let rate = row.rate();
            format!(
                "{{\"size\":{},\"transport\":\"{}\",\"events\":{},\"events_per_sec\":{},\"mb_per_sec\":{},\
                 \"vs_floor\":{},\"vs_uds\":{},\"consumer_avg_batch\":{},\"rounds_events_per_sec\":[{}]}}",
                s.size,
                s.key,
                row.best().map_or(0, |t| t.events),
                json_num(rate),
                json_num(row.best().map_or(f64::NAN, Throughput::mb_per_sec)),
                json_num(rate / r.rate(s.size, "floor")),
                json_num(rate / r.rate(s.size, "uds")),
                json_num(row.best().map_or(f64::NAN, |t| t.avg_batch)),
                list(row.rounds.iter().map(|t| json_num(t.events_per_sec)).collect()),
            )
        })
        .collect();
    let mp: Vec<String> = r
        .mp
        .iter()
        .map(|row| {
            let s = &row.spec;
            format!(
                "{{\"size\":{},\"layout\":\"{}\",\"producer_mode\":\"{}\",\"producers\":{},\"wait\":\"{}\",{},\
                 \"hot_counters\":{},\"optional_consumer\":{},\"events\":{},\"events_per_sec\":{},\"mb_per_sec\":{},\
                 \"vs_single_producer\":{},\"counters_on_off\":{},\"consumer_avg_batch\":{},\
                 \"rounds_events_per_sec\":[{}],\"rounds_vs_single_producer\":[{}],\
                 \"rounds_counters_on_off\":[{}],\"same_as\":{}}}",
                s.size,
                s.layout(),
                if s.producers == 0 { "single" } else { "multi" },
                s.producers.max(1),
                s.strategy.as_str(),
                row.placement.json(),
                s.counters,
                s.optional,
                row.best().map_or(0, |t| t.events),
                json_num(row.rate()),
                json_num(row.best().map_or(f64::NAN, Throughput::mb_per_sec)),
                json_num(r.vs_single(s)),
                if s.counters {
                    "null".to_string()
                } else {
                    json_num(r.counters_on_off(s))
                },
                json_num(row.best().map_or(f64::NAN, |t| t.avg_batch)),
                list(row.rounds.iter().map(|t| json_num(t.events_per_sec)).collect()),
                list(r.rounds_vs_single(s).into_iter().map(json_num).collect()),
                if s.counters {
                    String::new()
                } else {
                    list(r.rounds_counters_on_off(s).into_iter().map(json_num).collect())
                },
                s.measured_as()
                    .filter(|_| !r.tp.is_empty())
                    .map_or_else(|| "null".to_string(), |k| format!("\"throughput:{k}\"")),
            )
        })
        .collect();
    let pp: Vec<String> = r
        .pp
        .iter()
        .filter_map(|row| {
            let l = row.best()?;
            Some(format!(
                "{{\"workload\":\"{}\",\"round_trips\":{},\"p50_ns\":{},\"p99_ns\":{},\"p999_ns\":{},\
                 \"max_ns\":{},\"mean_ns\":{},\"p50_vs\":\"{}\",\"p50_ratio\":{},\"rounds_p50_ns\":[{}]}}",
                row.spec.key,
                l.count,
                json_num(l.p50),
                json_num(l.p99),
                json_num(l.p999),
                json_num(l.max),
                json_num(l.mean),
                row.spec.base,
                json_num(l.p50 / r.p50(row.spec.base)),
                list(row.rounds.iter().map(|l| json_num(l.p50)).collect()),
            ))
        })
        .collect();
    let one: Vec<String> = r
        .one
        .iter()
        .map(|row| {
            let s = &row.spec;
            let key = s.key();
            format!(
                "{{\"size\":{},\"work\":{},\"workload\":\"{}\",\"label\":\"{}\",\"events\":{},\"events_per_sec\":{},\
                 \"mb_per_sec\":{},\"vs_hand_written\":{},\"consumer_avg_batch\":{},\
                 \"rounds_events_per_sec\":[{}],\"rounds_vs_hand_written\":[{}]}}",
                s.size,
                s.work,
                key,
                s.label(),
                row.best().map_or(0, |t| t.events),
                json_num(row.rate()),
                json_num(row.best().map_or(f64::NAN, Throughput::mb_per_sec)),
                json_num(r.one_vs_hand_written(*s)),
                json_num(row.best().map_or(f64::NAN, |t| t.avg_batch)),
                list(row.rounds.iter().map(|t| json_num(t.events_per_sec)).collect()),
                list(
                    r.one_rounds_vs_hand_written(*s)
                        .into_iter()
                        .map(json_num)
                        .collect()
                ),
            )
        })
        .collect();
    let targets: Vec<String> = r
        .targets
        .iter()
        .map(|t| {
            format!(
                "\"{}\":{{\"value\":{},\"target\":\"{}\",\"met\":{}}}",
                t.key,
                json_num(t.value),
                t.goal,
                t.met
            )
        })
        .collect();
    format!(
        "{{\"config\":{{\"events\":{},\"round_trips\":{},\"rounds\":{},\"gap_us\":{},\"batch\":{},\
         \"capacity\":{},\"pingpong_capacity\":{},\"producer_cpu\":{},\"consumer_cpu\":{},\"elapsed_s\":{}}},\
         \"throughput\":[{}],\"multi_producer\":[{}],\"ping_pong\":[{}],\"one_event\":[{}],\"targets\":{{{}}}}}",
        r.events,
        r.round_trips,
        r.rounds,
        r.gap_us,
        p.batch,
        p.capacity,
        p.pingpong_capacity,
        p.producer_cpu,
        p.consumer_cpu,
        json_num(r.elapsed.as_secs_f64()),
        list(tp),
        list(mp),
        list(pp),
        list(one),
        list(targets),
    )
}
