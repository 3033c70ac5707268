//! `dmp bench`: one event per claim/publish (issue 12): the rows, the
//! workload, and the dispatch to each producer style's loop.
//!
//! The producer claims, writes and publishes every event on its own; the
//! consumer drains whatever is available, as the throughput rows' consumer
//! does, and verifies every payload. Busy-spin, the two sides pinned like
//! the throughput rows, packed rings of `--capacity` slots created with
//! default `RingOptions` otherwise (wake-ups and hot counters on: what a
//! user gets).
//!
//! The baseline is a hand-written SPSC ring in the style of rigtorp's
//! SPSCQueue, in a shared-memory file laid out as the floor ring (each
//! index on its own 128-byte block, then the records): the producer
//! publishes every event with a release store of its write index and
//! reloads the read index only when the ring looks full; the consumer
//! reloads the write index only when the ring looks empty and acknowledges
//! every event with a release store of its read index.
//!
//! Producer styles are [`OneStyle`]: adding one (for example a lean
//! single-event call) is one variant with its [`OneStyle::info`] (label,
//! key, target, consumer API; `style.rs`), plus one producer loop in
//! [`one_producer`] (`rust.rs`, `c_abi.rs`); the rows, the table, the
//! JSON and the targets follow from the variant list. A style whose
//! consumer obtains its wake-up fd (`StyleInfo::wake_fd`) reuses another
//! style's loops and is a row of the wake-fd group (`--only wake-fd`),
//! with the style it is compared with.

mod c_abi;
mod hand_written;
mod rust;
mod style;

pub(crate) use hand_written::{one_floor_consumer, one_floor_producer};
pub(crate) use style::{OneKind, OneSpec, OneStyle};

use super::args::{Role, WorkerArgs};
use super::cleanup::{unique, Cleanup};
use super::floor::floor_ring_len;
use super::payload::{supported_size, Size, MAX_EVENT};
use super::ring::ring_consumer;
use super::throughput::{received_rate, Throughput};
use super::worker::run_pair;
use super::{BoxResult, Plan};
use c_abi::{c_abi_consumer, c_abi_producer, c_one_consumer, c_one_producer};
use disruptor_mp::RingOptions;
use rust::{rust_api_producer, rust_one_consumer, rust_one_producer};
use std::path::Path;
use style::ConsumerApi;

/// The producer's work per event in the rows with work: what a producer
/// that computes its events (decodes a tick, fills an order) spends
/// between publications. Without it, the hand-written ring's producer does
/// nothing but two stores per event; rings whose producer does anything
/// more fall from "the producer runs a ring ahead" into "every event
/// crosses between the cores on its own" (seen here: two rounds of a
/// loop per event cut the hand-written ring's 8-byte rate 4x), so the rows
/// without work compare regimes as much as rings.
pub(crate) const WORK_ROUNDS: u32 = 16;

/// `rounds` dependent xorshift steps from `i`, which the optimiser cannot
/// drop: the producer's own work per event in the rows with work.
#[inline]
pub(crate) fn produce(i: u64, rounds: u32) {
    let mut x = i | 1;
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x);
}

/// A one-event row and its rounds; the best round counts.
pub(crate) struct OneRow {
    pub spec: OneSpec,
    pub rounds: Vec<Throughput>,
}

impl OneRow {
    pub(crate) fn best(&self) -> Option<&Throughput> {
        self.rounds
            .iter()
            .filter(|t| t.events_per_sec.is_finite())
            .max_by(|a, b| a.events_per_sec.total_cmp(&b.events_per_sec))
    }

    pub(crate) fn rate(&self) -> f64 {
        self.best().map_or(f64::NAN, |t| t.events_per_sec)
    }
}

/// The one-event rows of a run. With `one_event`: for 8- and 64-byte
/// events, the hand-written ring first, then every producer style without
/// a wake-up fd; then 8-byte events whose producer works [`WORK_ROUNDS`]
/// per event, on the hand-written ring and with the Rust calls. With
/// `wake_fd`: for both sizes, the styles whose consumer obtains its fd and
/// the styles they are compared with.
pub(crate) fn one_rows(one_event: bool, wake_fd: bool) -> Vec<OneRow> {
    let wanted = move |s: OneStyle| {
        (one_event && !s.wake_fd()) || (wake_fd && (s.wake_fd() || s.is_wake_fd_base()))
    };
    let every = one_event.then_some(OneKind::HandWritten).into_iter().chain(
        OneStyle::all()
            .iter()
            .filter(move |&&s| wanted(s))
            .map(|&s| OneKind::Ring(s)),
    );
    let work = [
        OneKind::HandWritten,
        OneKind::Ring(OneStyle::RustApi),
        OneKind::Ring(OneStyle::RustOne),
    ]
    .into_iter()
    .filter(|_| one_event)
    .map(|kind| (8, WORK_ROUNDS, kind));
    let specs = [8usize, 64]
        .into_iter()
        .flat_map(|size| every.clone().map(move |kind| (size, 0, kind)))
        .chain(work);
    specs
        .map(|(size, work, kind)| OneRow {
            spec: OneSpec { size, work, kind },
            rounds: Vec::new(),
        })
        .collect()
}

/// The rate of the row of `spec`.
pub(crate) fn one_rate(rows: &[OneRow], spec: OneSpec) -> f64 {
    rows.iter()
        .find(|r| r.spec == spec)
        .map_or(f64::NAN, OneRow::rate)
}

/// The rates of the row of `spec`, round by round.
pub(crate) fn one_rounds(rows: &[OneRow], spec: OneSpec) -> Vec<f64> {
    rows.iter()
        .find(|r| r.spec == spec)
        .map(|r| r.rounds.iter().map(|t| t.events_per_sec).collect())
        .unwrap_or_default()
}

/// Moves `events` events of `size` bytes, one per claim/publish, from a
/// producer process to a consumer process, which verifies every one.
pub(crate) fn one_throughput(plan: &Plan, spec: OneSpec, events: u64) -> BoxResult<Throughput> {
    let size = spec.size;
    if !supported_size(size) {
        return Err(format!("event size {size}: must lie in [8, {MAX_EVENT}] bytes").into());
    }
    let mut cleanup = Cleanup::default();
    let mut args: Vec<String> = Vec::new();
    let (first, second) = match spec.kind {
        OneKind::HandWritten => {
            let path = Path::new("/dev/shm").join(unique("bench-one"));
            cleanup.shm_file(&path, floor_ring_len(plan.capacity, size)?)?;
            args.extend(["--name".into(), path.display().to_string()]);
            (Role::OneFloorConsumer, Role::OneFloorProducer)
        }
        OneKind::Ring(style) => {
            let name = unique("bench-one");
            // Default options but for the size and the layout: wake-ups
            // and hot counters on.
            cleanup.ring(
                &name,
                &RingOptions::new()
                    .capacity(plan.capacity)
                    .slot_size(size as u64)
                    .packed(true),
            )?;
            args.extend([
                "--name".into(),
                name,
                "--style".into(),
                style.info().cli.into(),
                "--wake-fd".into(),
                style.info().wake_fd.as_str().into(),
            ]);
            (Role::OneConsumer, Role::OneProducer)
        }
    };
    args.extend([
        "--events".into(),
        events.to_string(),
        "--size".into(),
        size.to_string(),
        "--batch".into(),
        "1".into(),
        "--work".into(),
        spec.work.to_string(),
        "--capacity".into(),
        plan.capacity.to_string(),
    ]);
    let (consumer, producer) = run_pair(plan, first, second, &args)?;
    let sent = producer.get("events")? as u64;
    let received = consumer.get("events")? as u64;
    if sent != events || received != events {
        return Err(format!(
            "{:?}: asked for {events} events, producer sent {sent}, consumer verified {received}",
            spec.kind
        )
        .into());
    }
    received_rate(&consumer, events, size)
}

/// The producer side of a one-event ring row: one loop per style.
pub(crate) fn one_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    match a.style {
        OneStyle::RustApi => rust_api_producer(a, size),
        OneStyle::CAbi => c_abi_producer(a, size),
        OneStyle::RustOne => rust_one_producer(a, size),
        OneStyle::COne => c_one_producer(a, size),
        OneStyle::RustApiFd => rust_api_producer(a, size),
        OneStyle::RustOneFd => rust_one_producer(a, size),
    }
}

/// The consumer side of a one-event ring row.
pub(crate) fn one_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    match a.style.info().consumer {
        ConsumerApi::Rust => ring_consumer(a, size),
        ConsumerApi::C => c_abi_consumer(a, size),
        ConsumerApi::RustOne => rust_one_consumer(a, size),
        ConsumerApi::COne => c_one_consumer(a, size),
    }
}

#[cfg(test)]
mod tests {
    use super::style::Base;
    use super::*;
    use crate::bench::args::Strategy;
    use crate::bench::floor::ShmFile;
    use crate::bench::payload::Fixed;

    #[test]
    fn styles_have_distinct_names_and_targets_with_rows() {
        let rows = one_rows(true, true);
        // The JSON names a row by its size and workload key.
        let mut keys: Vec<(usize, String)> =
            rows.iter().map(|r| (r.spec.size, r.spec.key())).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "two rows share a JSON key");
        for &style in OneStyle::all() {
            // `--style` is spelled as clap parses it.
            let parsed = <OneStyle as clap::ValueEnum>::from_str(style.info().cli, false);
            assert_eq!(parsed, Ok(style));
            assert_ne!(style.info().base, Base::Style(style));
            for size in [8, 64] {
                let spec = OneSpec {
                    size,
                    work: 0,
                    kind: OneKind::Ring(style),
                };
                assert!(rows.iter().any(|r| r.spec == spec), "no row {spec:?}");
            }
        }
        // Every row's base and hand-written rows are measured too.
        for r in &rows {
            let base = r.spec.base().into_iter();
            for other in base.chain([r.spec.hand_written()]) {
                assert!(rows.iter().any(|x| x.spec == other), "no row {other:?}");
            }
        }
        assert!(rows.iter().any(|r| r.spec.work > 0));
        // The wake-fd group alone: its styles and their bases, nothing else.
        let wake = one_rows(false, true);
        assert!(!wake.is_empty());
        for r in &wake {
            let OneKind::Ring(style) = r.spec.kind else {
                panic!("wake-fd group has {:?}", r.spec);
            };
            assert!(style.wake_fd() || style.is_wake_fd_base(), "{style:?}");
            if style.wake_fd() {
                let base = r.spec.base().expect("a wake-fd style has a base");
                assert!(wake.iter().any(|x| x.spec == base), "no row {base:?}");
            }
        }
        assert!(one_rows(true, false)
            .iter()
            .all(|r| !matches!(r.spec.kind, OneKind::Ring(s) if s.wake_fd())));
    }

    fn args(name: &str, style: OneStyle, events: u64, capacity: u64, size: usize) -> WorkerArgs {
        WorkerArgs {
            role: Role::OneProducer,
            name: name.into(),
            back: None,
            events,
            warmup: 0,
            size,
            batch: 1,
            capacity,
            strategy: Strategy::Spin,
            gap_us: 0,
            cpu: None,
            producers: 0,
            producer_id: 0,
            go: false,
            optional: false,
            style,
            work: 0,
            wake_fd: style.info().wake_fd,
        }
    }

    /// Both sides of a one-event workload on two threads: every event
    /// arrives and passes the consumer's check (rings small enough to wrap
    /// and fill many times).
    fn pair<S: Size + Send + 'static>(
        a: WorkerArgs,
        size: S,
        producer: fn(&WorkerArgs, S) -> BoxResult<()>,
        consumer: fn(&WorkerArgs, S) -> BoxResult<()>,
    ) {
        let a = std::sync::Arc::new(a);
        let c = {
            let a = a.clone();
            std::thread::spawn(move || consumer(&a, size).map_err(|e| e.to_string()))
        };
        // The consumer registers before the first event (as the parent
        // waits for its "ready"); a ring consumer joining late would miss
        // events and fail the count.
        std::thread::sleep(std::time::Duration::from_millis(200));
        producer(&a, size).unwrap();
        c.join().unwrap().unwrap();
    }

    #[test]
    fn hand_written_one_event_ring_moves_every_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one");
        ShmFile::create(&path, floor_ring_len(16, 64).unwrap()).unwrap();
        let a = args(path.to_str().unwrap(), OneStyle::RustApi, 100_000, 16, 64);
        pair(a, Fixed::<64>, one_floor_producer, one_floor_consumer);
    }

    #[test]
    fn every_style_moves_every_event() {
        for &style in OneStyle::all() {
            for size in [8usize, 64] {
                let mut cleanup = Cleanup::default();
                let name = unique("bench-one-test");
                cleanup
                    .ring(
                        &name,
                        &RingOptions::new()
                            .capacity(16)
                            .slot_size(size as u64)
                            .packed(true),
                    )
                    .unwrap();
                let a = args(&name, style, 5_000, 16, size);
                if size == 8 {
                    pair(a, Fixed::<8>, one_producer, one_consumer);
                } else {
                    pair(a, Fixed::<64>, one_producer, one_consumer);
                }
            }
        }
    }
}
