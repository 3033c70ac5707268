//! The multi-producer comparison: ring throughput with one or two
//! producer processes (and the single-producer ring of the same run it is
//! compared with), where those processes run, and its rows.

use super::args::{Mp2Placement, Role, Strategy};
use super::cleanup::{unique, Cleanup};
use super::payload::{supported_size, MAX_EVENT};
use super::throughput::{received_rate, Throughput};
use super::worker::run_group;
use super::{BoxResult, Plan, STALL};
use disruptor_mp::{ProducerMode, RingOptions};

/// Where the processes of a ring throughput workload run (`None`:
/// wherever the scheduler puts them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placement {
    pub producers: Vec<Option<usize>>,
    pub consumer: Option<usize>,
}

impl Placement {
    /// `P:0,0 C:1`: the producers' CPUs, then the consumer's; `*` is
    /// unpinned.
    pub(super) fn label(&self) -> String {
        let cpu = |c: &Option<usize>| c.map_or_else(|| "*".to_string(), |c| c.to_string());
        let producers: Vec<String> = self.producers.iter().map(cpu).collect();
        format!("P:{} C:{}", producers.join(","), cpu(&self.consumer))
    }
}

/// Moves `events` events of `size` bytes through a ring (stamped or
/// packed, without wake-ups) from `producers` producer processes (0: one
/// producer of a single-producer ring) to one consumer process, which
/// verifies every event: in sequence order for a single producer, in each
/// producer's own order for a multi-producer ring.
pub(crate) fn ring_throughput(
    plan: &Plan,
    spec: &MpSpec,
    placement: &Placement,
    events: u64,
) -> BoxResult<Throughput> {
    let size = spec.size;
    if !supported_size(size) {
        return Err(format!("event size {size}: must lie in [8, {MAX_EVENT}] bytes").into());
    }
    if placement.producers.len() != spec.producers.max(1) as usize {
        return Err("placement does not match the producer count".into());
    }
    let mut cleanup = Cleanup::default();
    let name = unique("bench-mp");
    let mut options = RingOptions::new()
        .capacity(plan.capacity)
        .slot_size(size as u64)
        .packed(spec.packed)
        .wakeups(false);
    if spec.producers > 0 {
        // A live producer never holds a claim this long; a worker gives
        // up after the same time without progress anyway.
        options = options
            .producer_mode(ProducerMode::Multi)
            .max_producers(spec.producers)
            .unblock_timeout(STALL);
    }
    options = options.hot_counters(spec.counters);
    cleanup.ring(&name, &options)?;
    let args = vec![
        "--name".into(),
        name,
        "--events".into(),
        events.to_string(),
        "--size".into(),
        size.to_string(),
        "--batch".into(),
        plan.batch.to_string(),
        "--capacity".into(),
        plan.capacity.to_string(),
        "--strategy".into(),
        spec.strategy.as_str().into(),
        "--producers".into(),
        spec.producers.to_string(),
    ];
    let mut args = args;
    if spec.optional {
        args.push("--optional".into());
    }
    let (consumer, producers) =
        run_group(placement, Role::RingConsumer, Role::RingProducer, &args)?;
    let mut sent = 0u64;
    for p in &producers {
        sent += p.get("events")? as u64;
    }
    let received = consumer.get("events")? as u64;
    if sent != events || received != events {
        return Err(format!(
            "asked for {events} events, producers sent {sent}, consumer verified {received}"
        )
        .into());
    }
    received_rate(&consumer, events, size)
}

/// A ring throughput workload of the multi-producer comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MpSpec {
    pub size: usize,
    pub packed: bool,
    /// Producer processes of a multi-producer ring; 0: the single producer
    /// of a single-producer ring.
    pub producers: u32,
    pub strategy: Strategy,
    /// Per-participant hot-path counters (events, batches, waits) on; off
    /// measures what they cost.
    pub counters: bool,
    /// An optional consumer (liveness: eviction checks on its paths)
    /// instead of a required one.
    pub optional: bool,
}

impl MpSpec {
    pub(super) fn layout(&self) -> &'static str {
        if self.packed {
            "packed"
        } else {
            "stamped"
        }
    }

    pub(super) fn label(&self) -> String {
        let ring = match self.producers {
            0 => "single-producer ring".to_string(),
            1 => "multi-producer, 1 producer".to_string(),
            n => format!("multi-producer, {n} producers"),
        };
        let off = if self.counters { "" } else { ", no counters" };
        let opt = if self.optional { ", optional" } else { "" };
        format!("{:>2}B {}, {ring}{off}{opt}", self.size, self.layout())
    }

    /// The single-producer workload this one is compared with.
    pub(super) fn single(&self) -> MpSpec {
        MpSpec {
            producers: 0,
            ..*self
        }
    }

    /// The same workload with the hot-path counters on.
    pub(super) fn counted(&self) -> MpSpec {
        MpSpec {
            counters: true,
            ..*self
        }
    }

    /// The same workload with a required consumer.
    pub(super) fn required(&self) -> MpSpec {
        MpSpec {
            optional: false,
            ..*self
        }
    }

    /// The row of the main throughput table that measures this workload
    /// already (the busy-spin single-producer rings).
    pub(super) fn measured_as(&self) -> Option<&'static str> {
        match (self.producers, self.strategy) {
            _ if !self.counters || self.optional => None,
            (0, Strategy::Spin) if self.packed => Some("dmp_packed"),
            (0, Strategy::Spin) => Some("dmp"),
            _ => None,
        }
    }
}

/// A multi-producer comparison row, where it ran, and its rounds.
pub(super) struct MpRow {
    pub(super) spec: MpSpec,
    pub(super) placement: Placement,
    pub(super) rounds: Vec<Throughput>,
}

impl MpRow {
    pub(super) fn best(&self) -> Option<&Throughput> {
        self.rounds
            .iter()
            .filter(|t| t.events_per_sec.is_finite())
            .max_by(|a, b| a.events_per_sec.total_cmp(&b.events_per_sec))
    }

    pub(super) fn rate(&self) -> f64 {
        self.best().map_or(f64::NAN, |t| t.events_per_sec)
    }
}

/// The multi-producer comparison: for 64-byte stamped and 8-byte packed
/// events, the single-producer ring and a multi-producer ring with one
/// producer under busy-spin (the single-producer figure is the main
/// table's), the same two under yield, and a multi-producer ring with two
/// producers under yield: three busy processes on two cores would spin
/// against each other, yield lets the one that cannot proceed give its
/// core away. Last, the busy-spin single-producer rings once more with the
/// hot-path counters off, which the main table's (counters on) are
/// compared with.
pub(super) fn mp_rows(plan: &Plan, two: Mp2Placement) -> Vec<MpRow> {
    let pair = Placement {
        producers: vec![Some(plan.producer_cpu)],
        consumer: Some(plan.consumer_cpu),
    };
    let three = match two {
        Mp2Placement::Paired => Placement {
            producers: vec![Some(plan.producer_cpu), Some(plan.producer_cpu)],
            consumer: Some(plan.consumer_cpu),
        },
        Mp2Placement::Spread => Placement {
            producers: vec![Some(plan.producer_cpu), Some(plan.consumer_cpu)],
            consumer: Some(plan.consumer_cpu),
        },
        Mp2Placement::Unpinned => Placement {
            producers: vec![None, None],
            consumer: None,
        },
    };
    let mut rows = Vec::new();
    for (size, packed) in [(64usize, false), (8, true)] {
        for (producers, strategy, counters, optional) in [
            (0, Strategy::Spin, true, false),
            (1, Strategy::Spin, true, false),
            (0, Strategy::Yield, true, false),
            (1, Strategy::Yield, true, false),
            (2, Strategy::Yield, true, false),
            (0, Strategy::Spin, false, false),
            (0, Strategy::Spin, true, true),
        ] {
            rows.push(MpRow {
                spec: MpSpec {
                    size,
                    packed,
                    producers,
                    strategy,
                    counters,
                    optional,
                },
                placement: if producers == 2 {
                    three.clone()
                } else {
                    pair.clone()
                },
                rounds: Vec::new(),
            });
        }
    }
    rows
}
