//! Producer and consumer roles: publish numbered events whose payload can
//! be verified, and consume them checking order, payload and (for
//! dependent consumers) that every dependency committed first. Scripts use
//! them to drive real rings; the multi-process tests spawn them.

use crate::exit::{Code, Failure};
use crate::CmdResult;
use disruptor_mp::{
    Consumer, ConsumerOptions, Error, Location, ProducerMode, ProducerOptions, Ring, RingOptions,
    WaitStrategy,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Where a ring lives, as command-line options.
#[derive(clap::Args, Debug, Clone)]
pub struct Target {
    /// Ring name (a shm name), or a path with --file.
    pub name: String,
    /// Treat NAME as a file path instead of a shm name.
    #[arg(long)]
    pub file: bool,
}

impl Target {
    /// The library location.
    pub fn location(&self) -> Location {
        Target::location_of(&self.name, self.file)
    }

    /// The location of `name`: a path with `file`, else a shm name.
    pub fn location_of(name: &str, file: bool) -> Location {
        if file {
            Location::file(name)
        } else {
            Location::shm(name)
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    target: Target,
    /// Number of slots (power of two).
    #[arg(long, default_value_t = 4096)]
    capacity: u64,
    /// Payload bytes per slot.
    #[arg(long, default_value_t = 64)]
    slot_size: u64,
    /// Consumer-table entries.
    #[arg(long, default_value_t = 16)]
    max_consumers: u32,
    /// Create without wake-ups (no blocking strategy, cheaper publish).
    #[arg(long)]
    no_wakeups: bool,
    /// Packed slots: densest layout, highest throughput for small events.
    #[arg(long)]
    packed: bool,
    /// Do not count events and batches (the cold-path counters are kept).
    #[arg(long)]
    no_hot_counters: bool,
    /// Multi-producer ring: several producer processes at once.
    #[arg(long)]
    multi: bool,
    /// Multi-producer rings: producer-table entries.
    #[arg(long, default_value_t = 8)]
    max_producers: u32,
    /// Multi-producer rings: how long a claimed, unpublished sequence may
    /// hold consumers up before it is abandoned.
    #[arg(long, default_value_t = 2000)]
    unblock_ms: u64,
    /// Succeed if the ring already exists with this layout.
    #[arg(long)]
    open_existing: bool,
    /// With --open-existing: a stale ring (used once, no live participant
    /// now) is removed and created anew.
    #[arg(long, requires = "open_existing")]
    reclaim_stale: bool,
    /// Permissions, octal. Observers (stat, inspect, ls) need read
    /// permission only (0640: the group watches); producers and consumers
    /// need read and write (0660: the group takes part).
    #[arg(long, default_value = "600")]
    mode: String,
    /// Group of the new segment, by name or gid (default: the creator's);
    /// the creator must be a member of it (or privileged).
    #[arg(long)]
    group: Option<String>,
}

pub fn create(a: &CreateArgs) -> CmdResult {
    let mode = u32::from_str_radix(&a.mode, 8).map_err(|e| format!("--mode {}: {e}", a.mode))?;
    let mut opts = RingOptions::new()
        .capacity(a.capacity)
        .slot_size(a.slot_size)
        .max_consumers(a.max_consumers)
        .wakeups(!a.no_wakeups)
        .packed(a.packed)
        .hot_counters(!a.no_hot_counters)
        .unblock_timeout(Duration::from_millis(a.unblock_ms))
        .reclaim_stale(a.reclaim_stale)
        .mode(mode);
    if let Some(g) = &a.group {
        opts = opts.group(crate::group::gid_of(g)?);
    }
    if a.multi {
        opts = opts
            .producer_mode(ProducerMode::Multi)
            .max_producers(a.max_producers);
    }
    let loc = a.target.location();
    // A refused chgrp names the group, not only the file.
    let named = |e: Error| -> Box<dyn std::error::Error> {
        match (&a.group, &e) {
            (Some(g), Error::Io { op, .. }) if op.contains("chgrp") => format!(
                "--group {g}: {e} (a user may give a file only to a group it is a member of, unless privileged)"
            )
            .into(),
            _ => e.into(),
        }
    };
    if a.open_existing {
        let (ring, created) = Ring::open_or_create(&loc, &opts).map_err(named)?;
        println!(
            "{} {}",
            if created { "created" } else { "opened" },
            ring.path().display()
        );
    } else {
        let ring = Ring::create(&loc, &opts).map_err(named)?;
        println!("created {}", ring.path().display());
    }
    Ok(())
}

/// Bits of an event number below the producer id: event numbers are
/// `producer_id << PRODUCER_SHIFT | n`, so consumers check the order of
/// each producer's events separately.
pub const PRODUCER_SHIFT: u32 = 48;

/// The payload of event number `i`: `i` in the first 8 bytes (native
/// order), then bytes derived from `i`.
pub fn fill_payload(i: u64, slot: &mut [u8]) {
    let n = slot.len().min(8);
    slot[..n].copy_from_slice(&i.to_ne_bytes()[..n]);
    for (k, b) in slot.iter_mut().enumerate().skip(8) {
        *b = (i.wrapping_mul(31) as u8).wrapping_add(k as u8);
    }
}

/// Checks a payload written by [`fill_payload`]; returns the event number.
pub fn check_payload(slot: &[u8]) -> Result<u64, String> {
    let mut head = [0u8; 8];
    let n = slot.len().min(8);
    head[..n].copy_from_slice(&slot[..n]);
    let i = u64::from_ne_bytes(head);
    for (k, b) in slot.iter().enumerate().skip(8) {
        let want = (i.wrapping_mul(31) as u8).wrapping_add(k as u8);
        if *b != want {
            return Err(format!(
                "event {i}: byte {k} is {b:#04x}, expected {want:#04x}"
            ));
        }
    }
    Ok(i)
}

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

/// A consumer's error after `got` events, keeping the error's exit code.
fn after(name: &str, got: u64, e: Error) -> Box<dyn std::error::Error> {
    Failure::context(format_args!("{name}: after {got} events"), e).into()
}

/// After an eviction: rejoins, counts it and what was lost (`evicted`), and
/// starts each producer's numbering over (events were lost).
fn rejoin(
    c: &mut Consumer,
    reported: u64,
    got: u64,
    expected: &mut BTreeMap<u64, u64>,
    evicted: &mut (u64, u64),
) -> CmdResult {
    let lost = c.rejoin()?.max(reported);
    *evicted = (evicted.0 + 1, evicted.1 + lost);
    expected.clear();
    println!("evicted after {got} events, lost {lost}, rejoined");
    Ok(())
}

/// Checks the event at `seq`: intact, and next in its producer's order.
fn check_one(
    seq: i64,
    bytes: &[u8],
    expected: &mut BTreeMap<u64, u64>,
    name: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let i = check_payload(bytes)?;
    let producer = i >> PRODUCER_SHIFT;
    if let Some(e) = expected.get(&producer) {
        if i != *e {
            return Err(format!(
                "{name}: event {i} (producer {producer}, number {}) at sequence {seq}, expected number {}",
                i & ((1 << PRODUCER_SHIFT) - 1),
                e & ((1 << PRODUCER_SHIFT) - 1)
            )
            .into());
        }
    }
    expected.insert(producer, i + 1);
    Ok(())
}

/// Checks the events of `[next, last]`: each producer's numbers in order.
/// Returns how many events (abandoned sequences aside) the batch holds.
fn check_batch(
    c: &Consumer,
    next: i64,
    last: i64,
    expected: &mut BTreeMap<u64, u64>,
    abandoned: &mut u64,
    name: &str,
) -> Result<u64, Box<dyn std::error::Error>> {
    let mut events = 0;
    for seq in next..=last {
        let bytes = match c.slot(seq) {
            Ok(bytes) => bytes,
            Err(Error::Abandoned { .. }) => {
                *abandoned += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        check_one(seq, bytes, expected, name)?;
        events += 1;
    }
    Ok(events)
}

#[derive(clap::Args, Debug)]
pub struct ConsumeArgs {
    #[command(flatten)]
    target: Target,
    /// Consumer name.
    #[arg(long = "name", id = "consumer_name")]
    consumer_name: String,
    /// Consumers this one depends on (comma separated).
    #[arg(long, value_delimiter = ',')]
    after: Vec<String>,
    /// Events to consume before exiting.
    #[arg(long, default_value_t = 1_000_000)]
    count: u64,
    /// Wait strategy: spin, yield, sleep, sleep:<micros>, block.
    #[arg(long, default_value = "yield")]
    wait: String,
    /// Give up when no event arrives for this long.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Verify each batch was committed by every dependency before reading.
    #[arg(long)]
    check_dependencies: bool,
    /// Sleep this long after each batch (a slow consumer).
    #[arg(long, default_value_t = 0)]
    pause_us: u64,
    /// Commit at most this many events at a time.
    #[arg(long)]
    max_batch: Option<u64>,
    /// Multi-producer rings: finish (successfully) once nothing arrived for
    /// this long and every claimed sequence was consumed, instead of after
    /// --count events.
    #[arg(long)]
    drain_ms: Option<u64>,
    /// An optional consumer: a producer evicts it rather than wait for it
    /// longer than --max-block-ms (required consumers are waited for).
    #[arg(long)]
    optional: bool,
    /// Optional consumers: how long it may hold a waiting producer back.
    #[arg(long, default_value_t = 0)]
    max_block_ms: u64,
    /// Optional consumers: after an eviction, rejoin at the current
    /// position and go on (otherwise exit with the error).
    #[arg(long)]
    rejoin: bool,
    /// Consume with the one-event call (`Consumer::consume_with`), one
    /// event per call and commit, instead of wait_for, read and commit.
    #[arg(long, conflicts_with_all = ["max_batch", "drain_ms", "rejoin", "check_dependencies"])]
    one_event: bool,
}

pub fn consume(a: &ConsumeArgs) -> CmdResult {
    let timeout = Duration::from_millis(a.timeout_ms);
    let ring = Ring::open(&a.target.location(), &RingOptions::new().timeout(timeout))?;
    let deps: Vec<&str> = a.after.iter().map(String::as_str).collect();
    let mut options = ConsumerOptions::new()
        .dependencies(&deps)
        .strategy(WaitStrategy::parse(&a.wait)?);
    if a.optional {
        options = options.optional(Duration::from_millis(a.max_block_ms));
    }
    let mut c = ring.consumer_with(&a.consumer_name, &options)?;
    // Tell the spawner we are registered, then consume.
    println!("ready {}", a.consumer_name);
    println!(
        "joined at sequence {} (lost on join {})",
        c.committed(),
        c.lost_on_join()
    );
    // Evictions and the events they lost.
    let mut evicted = (0u64, 0u64);
    // Next expected number per producer id (event numbers carry the id).
    let mut expected: BTreeMap<u64, u64> = BTreeMap::new();
    let (mut got, mut batches, mut abandoned) = (0u64, 0u64, 0u64);
    let t0 = Instant::now();
    let poll = a
        .drain_ms
        .map_or(timeout, |d| Duration::from_millis(d).min(timeout));
    let mut idle_since = Instant::now();
    while a.one_event && got < a.count {
        let checked = c.consume_with(timeout, |seq, bytes| {
            check_one(seq, bytes, &mut expected, &a.consumer_name)
        });
        match checked {
            Ok(Ok(())) => {}
            Ok(Err(bad)) => return Err(bad),
            Err(e) => return Err(after(&a.consumer_name, got, e)),
        }
        got += 1;
        batches += 1;
        if a.pause_us > 0 {
            std::thread::sleep(Duration::from_micros(a.pause_us));
        }
    }
    while got < a.count {
        let next = c.next_sequence();
        let avail = match c.wait_for(next, poll) {
            Ok(avail) => avail,
            Err(Error::Timeout { .. }) if a.drain_ms.is_some() => {
                if next > ring.claimed() {
                    break;
                }
                if idle_since.elapsed() > timeout {
                    return Err(Failure::new(
                        Code::Timeout,
                        format!(
                            "{}: after {got} events: sequence {next} stayed unavailable for {timeout:?} (claimed through {})",
                            a.consumer_name,
                            ring.claimed()
                        ),
                    )
                    .into());
                }
                continue;
            }
            Err(Error::Evicted { lost: l, .. }) if a.rejoin => {
                rejoin(&mut c, l, got, &mut expected, &mut evicted)?;
                continue;
            }
            Err(e) => return Err(after(&a.consumer_name, got, e)),
        };
        idle_since = Instant::now();
        let batch_end = a.max_batch.map_or(i64::MAX, |m| next + m.max(1) as i64 - 1);
        let last = avail.min(batch_end);
        let left = i64::try_from(a.count - got).unwrap_or(i64::MAX);
        let last = last.min(next.saturating_add(left - 1));
        if a.check_dependencies {
            for d in ring
                .consumers()
                .iter()
                .filter(|r| a.after.contains(&r.name))
            {
                if d.sequence < last {
                    return Err(format!(
                        "{}: reading through {last} but dependency {} committed only {}",
                        a.consumer_name, d.name, d.sequence
                    )
                    .into());
                }
            }
        }
        // Check the batch; an optional consumer evicted while reading may
        // find overwritten slots, so a bad batch is blamed on the eviction
        // when its commit reports one.
        let checked = check_batch(
            &c,
            next,
            last,
            &mut expected,
            &mut abandoned,
            &a.consumer_name,
        );
        let committed = match checked {
            Ok(events) => c.commit(last).map(|()| events),
            Err(bad) => match c.commit(last) {
                Err(e @ Error::Evicted { .. }) => Err(e),
                _ => return Err(bad),
            },
        };
        let events = match committed {
            Ok(events) => events,
            Err(Error::Evicted { lost: l, .. }) if a.rejoin => {
                rejoin(&mut c, l, got, &mut expected, &mut evicted)?;
                continue;
            }
            Err(e) => return Err(after(&a.consumer_name, got, e)),
        };
        got += events;
        batches += 1;
        if a.pause_us > 0 {
            std::thread::sleep(Duration::from_micros(a.pause_us));
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let last_event = expected.values().max().map_or(-1, |e| *e as i64 - 1);
    println!(
        "consumed {got} events in {batches} batches ({:.1} per batch), last event {last_event}, {:.2} M events/s, abandoned {abandoned}",
        got as f64 / batches.max(1) as f64,
        got as f64 / secs / 1e6
    );
    if a.optional {
        println!("evicted {} times, lost {} events", evicted.0, evicted.1);
    }
    for (producer, next) in &expected {
        println!(
            "producer {producer}: next {}",
            next & ((1 << PRODUCER_SHIFT) - 1)
        );
    }
    c.close()?;
    Ok(())
}
