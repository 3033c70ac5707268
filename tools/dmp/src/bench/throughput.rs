//! Throughput workloads over one producer: what carries the events
//! (dmp ring, stamped or packed; the floor ring; a Unix socket), the rate
//! the consumer measured, and the rows of the main throughput table.

use super::args::{Role, Strategy};
use super::cleanup::{unique, Cleanup};
use super::floor::floor_ring_len;
use super::payload::{supported_size, MAX_EVENT};
use super::worker::{run_pair, Fields};
use super::{BoxResult, Plan};
use disruptor_mp::RingOptions;
use std::path::Path;

/// What carries the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// A dmp ring, busy-spin, created without wake-ups.
    Dmp,
    /// The same with the packed layout (no stamps, 8-byte stride).
    DmpPacked,
    /// The hand-written SPSC ring.
    Floor,
    /// A Unix domain socket.
    Uds,
    /// A dmp ring with default options (wake-ups on), producer and
    /// consumer on the blocking strategy (the wake-fd group).
    DmpBlockingConsumer,
    /// The same ring and producer, the consumer on tokio (`dmp-async`).
    DmpAsyncConsumer,
}

/// A measured event rate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Throughput {
    pub events: u64,
    pub size: usize,
    pub events_per_sec: f64,
    /// Events per batch the consumer received, on average.
    pub avg_batch: f64,
}

impl Throughput {
    pub(crate) fn mb_per_sec(&self) -> f64 {
        self.events_per_sec * self.size as f64 / 1e6
    }
}

/// Moves `events` events of `size` bytes from a producer process to a
/// consumer process, which verifies every one.
pub(crate) fn throughput(
    plan: &Plan,
    transport: Transport,
    size: usize,
    events: u64,
) -> BoxResult<Throughput> {
    if !supported_size(size) {
        return Err(format!("event size {size}: must lie in [8, {MAX_EVENT}] bytes").into());
    }
    let mut cleanup = Cleanup::default();
    let mut strategy = Strategy::Spin;
    let (first, second, name) = match transport {
        Transport::Dmp | Transport::DmpPacked => {
            let name = unique("bench");
            cleanup.ring(
                &name,
                &RingOptions::new()
                    .capacity(plan.capacity)
                    .slot_size(size as u64)
                    .packed(transport == Transport::DmpPacked)
                    .wakeups(false),
            )?;
            (Role::RingConsumer, Role::RingProducer, name)
        }
        Transport::Floor => {
            let path = Path::new("/dev/shm").join(unique("bench-floor"));
            cleanup.shm_file(&path, floor_ring_len(plan.capacity, size)?)?;
            (
                Role::FloorConsumer,
                Role::FloorProducer,
                path.display().to_string(),
            )
        }
        Transport::DmpBlockingConsumer | Transport::DmpAsyncConsumer => {
            let name = unique("bench-wake");
            cleanup.ring(
                &name,
                &RingOptions::new()
                    .capacity(plan.capacity)
                    .slot_size(size as u64),
            )?;
            strategy = Strategy::Block;
            let consumer = if transport == Transport::DmpAsyncConsumer {
                Role::AsyncConsumer
            } else {
                Role::RingConsumer
            };
            (consumer, Role::RingProducer, name)
        }
        Transport::Uds => {
            let path = std::env::temp_dir().join(format!("{}.sock", unique("bench")));
            cleanup.path(&path);
            (
                Role::UdsConsumer,
                Role::UdsProducer,
                path.display().to_string(),
            )
        }
    };
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
        strategy.as_str().into(),
    ];
    let (consumer, producer) = run_pair(plan, first, second, &args)?;
    let sent = producer.get("events")? as u64;
    let received = consumer.get("events")? as u64;
    if sent != events || received != events {
        return Err(format!(
            "{transport:?}: asked for {events} events, producer sent {sent}, consumer verified {received}"
        )
        .into());
    }
    received_rate(&consumer, events, size)
}

/// The rate a throughput consumer measured: from its first batch to the
/// last event, over the events after the first batch.
pub(super) fn received_rate(consumer: &Fields, events: u64, size: usize) -> BoxResult<Throughput> {
    let after_first = events.saturating_sub(consumer.get("first_batch")? as u64);
    let span = consumer.get("span_ns")?;
    let events_per_sec = if after_first == 0 || span <= 0.0 {
        f64::NAN
    } else {
        after_first as f64 * 1e9 / span
    };
    let batches = consumer.get("batches")?;
    Ok(Throughput {
        events,
        size,
        events_per_sec,
        avg_batch: if batches > 0.0 {
            events as f64 / batches
        } else {
            f64::NAN
        },
    })
}

/// A throughput workload of a run.
pub(super) struct TpSpec {
    pub(super) size: usize,
    pub(super) transport: Transport,
    /// The socket variant that writes one event per system call.
    pub(super) one_per_write: bool,
    pub(super) label: &'static str,
    pub(super) key: &'static str,
}

/// A throughput workload and its rounds; the best round counts.
pub(super) struct TpRow {
    pub(super) spec: TpSpec,
    pub(super) rounds: Vec<Throughput>,
}

impl TpRow {
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

pub(super) fn throughput_specs() -> Vec<TpSpec> {
    let mut specs = Vec::new();
    for size in [8usize, 64] {
        for (transport, one_per_write, label, key) in [
            (Transport::Floor, false, "floor SPSC ring", "floor"),
            (Transport::Dmp, false, "dmp ring", "dmp"),
            (
                Transport::DmpPacked,
                false,
                "dmp ring, packed",
                "dmp_packed",
            ),
            (Transport::Uds, false, "unix socket, batched", "uds"),
            (Transport::Uds, true, "unix socket, 1 per write", "uds1"),
        ] {
            specs.push(TpSpec {
                size,
                transport,
                one_per_write,
                label,
                key,
            });
        }
    }
    specs
}
