//! `dmp consume`: consumes events checking order, payload and (for
//! dependent consumers) that every dependency committed first.

use super::payload::{check_payload, PRODUCER_SHIFT};
use super::Target;
use crate::exit::{Code, Failure};
use crate::CmdResult;
use disruptor_mp::{Consumer, ConsumerOptions, Error, Ring, RingOptions, WaitStrategy};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

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
