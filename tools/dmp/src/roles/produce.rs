//! `dmp produce`: publishes numbered, verifiable events.

use super::payload::{fill_payload, PRODUCER_SHIFT};
use super::Target;
use crate::CmdResult;
use disruptor_mp::{Error, ProducerOptions, Ring, RingOptions, WaitStrategy};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct ProduceArgs {
    #[command(flatten)]
    target: Target,
    /// Events to publish.
    #[arg(long, default_value_t = 1_000_000)]
    count: u64,
    /// Events per claim/publish.
    #[arg(long, default_value_t = 1)]
    batch: u64,
    /// Wait strategy: spin, yield, sleep, sleep:<micros>, block.
    #[arg(long, default_value = "yield")]
    wait: String,
    /// Wait (bounded by --timeout-ms) until this many consumers are
    /// active before publishing.
    #[arg(long, default_value_t = 0)]
    expect_consumers: usize,
    /// Wait this long for the ring to appear.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Number the events from this value (default: continue after the
    /// ring's cursor).
    #[arg(long)]
    first: Option<u64>,
    /// Sleep this long after each batch (bursts with idle gaps).
    #[arg(long, default_value_t = 0)]
    pause_us: u64,
    /// Producer id stamped into event numbers (multi-producer rings:
    /// consumers check each producer's order).
    #[arg(long, default_value_t = 0)]
    producer_id: u64,
    /// Vary the batch size between 1 and --batch (seeded by the producer
    /// id), to mix batch sizes.
    #[arg(long)]
    mixed_batches: bool,
    /// Sleep this long between claiming and publishing each batch.
    #[arg(long, default_value_t = 0)]
    hold_us: u64,
    /// Stall this long between claim and publish of batch number
    /// --stall-batch (a slow but live producer).
    #[arg(long, default_value_t = 0)]
    stall_ms: u64,
    /// Which batch stalls (0-based).
    #[arg(long, default_value_t = 0)]
    stall_batch: u64,
    /// Consumers (comma separated) that must be active before the first
    /// publish (with --expect-consumers: the readiness gate).
    #[arg(long, value_delimiter = ',')]
    expect_names: Vec<String>,
    /// How long a dead required consumer may hold the producer back before
    /// claims fail naming it.
    #[arg(long, default_value_t = 5_000)]
    consumer_dead_ms: u64,
    /// Report a live required consumer that makes no progress for this
    /// long while it holds the producer back (0: never) ...
    #[arg(long, default_value_t = 0)]
    progress_ms: u64,
    /// ... and fail claims after this much longer.
    #[arg(long, default_value_t = 5_000)]
    grace_ms: u64,
    /// Publish with the one-event call (`Producer::publish_with`), one
    /// event per call, instead of claim, write and publish.
    #[arg(long, conflicts_with_all = ["mixed_batches", "hold_us", "stall_ms"])]
    one_event: bool,
}

pub fn produce(a: &ProduceArgs) -> CmdResult {
    let timeout = Duration::from_millis(a.timeout_ms);
    let ring = Ring::open(&a.target.location(), &RingOptions::new().timeout(timeout))?;
    let mut options = ProducerOptions::new()
        .strategy(WaitStrategy::parse(&a.wait)?)
        .consumer_dead_timeout(Duration::from_millis(a.consumer_dead_ms))
        .on_stall(|s| {
            eprintln!(
                "alert: consumer '{}' (pid {}) made no progress for {} ms at sequence {}",
                s.name,
                s.pid,
                s.stalled.as_millis(),
                s.sequence
            )
        });
    if a.progress_ms > 0 {
        options = options.progress_timeout(
            Duration::from_millis(a.progress_ms),
            Duration::from_millis(a.grace_ms),
        );
    }
    if a.expect_consumers > 0 || !a.expect_names.is_empty() {
        let names: Vec<&str> = a.expect_names.iter().map(String::as_str).collect();
        options = options.wait_for_consumers(
            u32::try_from(a.expect_consumers).unwrap_or(u32::MAX),
            &names,
            timeout,
        );
    }
    let mut p = ring.producer_with(&options)?;
    println!("producing as entry {}", p.index());
    let first_number =
        a.first.unwrap_or((p.published() + 1) as u64) | (a.producer_id << PRODUCER_SHIFT);
    if a.one_event && a.batch != 1 {
        return Err("--one-event publishes one event per call: leave --batch at 1".into());
    }
    let batch = a.batch.clamp(1, ring.capacity());
    // A small xorshift, seeded by the producer id: the same mix each run.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ a.producer_id.wrapping_mul(0x2545_f491_4f6c_dd1d);
    let mut next_batch = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        1 + rng % batch
    };
    let (mut sent, mut batches, mut abandoned) = (0u64, 0u64, 0u64);
    let t0 = Instant::now();
    while a.one_event && sent < a.count {
        p.publish_with(timeout, |slot| fill_payload(first_number + sent, slot))?;
        sent += 1;
        if a.pause_us > 0 {
            std::thread::sleep(Duration::from_micros(a.pause_us));
        }
    }
    while sent < a.count {
        let size = if a.mixed_batches { next_batch() } else { batch };
        let n = size.min(a.count - sent);
        let lo = p.claim(n, timeout)?;
        for k in 0..n as i64 {
            fill_payload(first_number + sent + k as u64, p.slot_mut(lo + k)?);
        }
        if a.hold_us > 0 {
            std::thread::sleep(Duration::from_micros(a.hold_us));
        }
        if a.stall_ms > 0 && batches == a.stall_batch {
            std::thread::sleep(Duration::from_millis(a.stall_ms));
        }
        batches += 1;
        match p.publish(lo, lo + n as i64 - 1) {
            Ok(()) => sent += n,
            // Abandoned after the ring's unblock timeout: the same events
            // go again in a new claim, so each producer's numbers stay
            // gapless.
            Err(e @ (Error::ClaimAbandoned { .. } | Error::ClaimLapped { .. })) => {
                abandoned += 1;
                eprintln!("producer {}: {e}", a.producer_id);
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        if a.pause_us > 0 {
            std::thread::sleep(Duration::from_micros(a.pause_us));
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "produced {sent} events in {secs:.3}s ({:.2} M events/s), last sequence {}, abandoned claims {abandoned}",
        sent as f64 / secs / 1e6,
        p.published()
    );
    Ok(())
}
