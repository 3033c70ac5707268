//! Producer and consumer roles: publish numbered events whose payload can
//! be verified, and consume them checking order, payload and (for
//! dependent consumers) that every dependency committed first. Scripts use
//! them to drive real rings; the multi-process tests spawn them.

use crate::CmdResult;
use disruptor_mp::{Location, Ring, RingOptions, WaitStrategy};
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
        if self.file {
            Location::file(&self.name)
        } else {
            Location::shm(&self.name)
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
    /// Succeed if the ring already exists with this layout.
    #[arg(long)]
    open_existing: bool,
    /// Permissions, octal.
    #[arg(long, default_value = "600")]
    mode: String,
}

pub fn create(a: &CreateArgs) -> CmdResult {
    let mode = u32::from_str_radix(&a.mode, 8).map_err(|e| format!("--mode {}: {e}", a.mode))?;
    let opts = RingOptions::new()
        .capacity(a.capacity)
        .slot_size(a.slot_size)
        .max_consumers(a.max_consumers)
        .wakeups(!a.no_wakeups)
        .packed(a.packed)
        .mode(mode);
    let loc = a.target.location();
    if a.open_existing {
        let (ring, created) = Ring::open_or_create(&loc, &opts)?;
        println!(
            "{} {}",
            if created { "created" } else { "opened" },
            ring.path().display()
        );
    } else {
        let ring = Ring::create(&loc, &opts)?;
        println!("created {}", ring.path().display());
    }
    Ok(())
}

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
}

pub fn produce(a: &ProduceArgs) -> CmdResult {
    let timeout = Duration::from_millis(a.timeout_ms);
    let ring = Ring::open(&a.target.location(), &RingOptions::new().timeout(timeout))?;
    let start = Instant::now();
    while active_consumers(&ring) < a.expect_consumers {
        if start.elapsed() > timeout {
            return Err(format!(
                "only {} of {} consumers joined within {timeout:?}",
                active_consumers(&ring),
                a.expect_consumers
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut p = ring.producer(WaitStrategy::parse(&a.wait)?)?;
    let first_number = a.first.unwrap_or((p.published() + 1) as u64);
    let batch = a.batch.clamp(1, ring.capacity());
    let mut sent = 0u64;
    let t0 = Instant::now();
    while sent < a.count {
        let n = batch.min(a.count - sent);
        let lo = p.claim(n, timeout)?;
        for k in 0..n as i64 {
            fill_payload(first_number + sent + k as u64, p.slot_mut(lo + k)?);
        }
        p.publish(lo, lo + n as i64 - 1)?;
        sent += n;
        if a.pause_us > 0 {
            std::thread::sleep(Duration::from_micros(a.pause_us));
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "produced {sent} events in {secs:.3}s ({:.2} M events/s), last sequence {}",
        sent as f64 / secs / 1e6,
        p.published()
    );
    Ok(())
}

fn active_consumers(ring: &Ring) -> usize {
    ring.consumers()
        .iter()
        .filter(|c| c.state == disruptor_mp::layout::state::ACTIVE)
        .count()
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
}

pub fn consume(a: &ConsumeArgs) -> CmdResult {
    let timeout = Duration::from_millis(a.timeout_ms);
    let ring = Ring::open(&a.target.location(), &RingOptions::new().timeout(timeout))?;
    let deps: Vec<&str> = a.after.iter().map(String::as_str).collect();
    let mut c = ring.consumer(&a.consumer_name, &deps, WaitStrategy::parse(&a.wait)?)?;
    // Tell the spawner we are registered, then consume.
    println!("ready {}", a.consumer_name);
    let mut expected: Option<u64> = None;
    let mut got = 0u64;
    let mut batches = 0u64;
    let t0 = Instant::now();
    while got < a.count {
        let next = c.next_sequence();
        let avail = c
            .wait_for(next, timeout)
            .map_err(|e| format!("{}: after {got} events: {e}", a.consumer_name))?;
        let batch_end = a.max_batch.map_or(i64::MAX, |m| next + m.max(1) as i64 - 1);
        let last = avail.min(batch_end);
        let last = last.min(next + (a.count - got) as i64 - 1);
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
        for seq in next..=last {
            let i = check_payload(c.slot(seq)?)?;
            if let Some(e) = expected {
                if i != e {
                    return Err(format!(
                        "{}: event {i} at sequence {seq}, expected {e}",
                        a.consumer_name
                    )
                    .into());
                }
            }
            expected = Some(i + 1);
        }
        c.commit(last)?;
        got += (last - next + 1) as u64;
        batches += 1;
        if a.pause_us > 0 {
            std::thread::sleep(Duration::from_micros(a.pause_us));
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "consumed {got} events in {batches} batches ({:.1} per batch), last event {}, {:.2} M events/s",
        got as f64 / batches.max(1) as f64,
        expected.map(|e| e as i64 - 1).unwrap_or(-1),
        got as f64 / secs / 1e6
    );
    c.close()?;
    Ok(())
}
