//! `dmp-bridge out`: ring to JetStream.
//!
//! A ring thread attaches to the ring as a named consumer, packs
//! consecutive events into batches (bounded by events, bytes and a linger
//! time) and hands them to the runtime through a small bounded channel;
//! the runtime publishes them in order with a bounded number in flight and
//! awaits their acknowledgements in order. The highest sequence whose
//! message and every earlier one JetStream acknowledged is what the ring
//! thread commits: a bridge killed at any point resumes from it and sends
//! the rest again, and JetStream drops the copies it already stored
//! (`Nats-Msg-Id`, within its duplicate window).
//!
//! Back-pressure: a slow or absent server fills the in-flight window, the
//! channel fills, the ring thread stops reading, its commits stop, and a
//! required consumer holds the ring's producer back. Nothing is dropped.

use crate::config::{parse_duration, Connection, StreamArgs};
use crate::format::{Meta, RingId};
use crate::metrics::Metrics;
use crate::{location, RingArgs};
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use clap::Args;
use disruptor_mp::{Consumer, ConsumerOptions, Error, Ring, RingOptions};
use std::collections::VecDeque;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// Options of `dmp-bridge out`.
#[derive(Args, Clone, Debug)]
pub struct OutArgs {
    #[command(flatten)]
    pub ring: RingArgs,
    /// The consumer name the bridge holds in the ring.
    #[arg(long, default_value = "dmp-bridge")]
    pub name: String,
    /// Join as an optional consumer, evicted (events lost, counted and
    /// marked in the next message) when it holds the producer back longer
    /// than this; by default the bridge is a required consumer.
    #[arg(long, value_parser = parse_duration)]
    pub optional: Option<Duration>,
    /// Most events in one message.
    #[arg(long, default_value_t = 1024)]
    pub max_events: u64,
    /// Most payload bytes in one message (keep under the server's
    /// max_payload, 1 MiB by default).
    #[arg(long, default_value_t = 512 * 1024)]
    pub max_bytes: u64,
    /// How long a message waits for more events before it is sent short.
    #[arg(long, default_value = "1ms", value_parser = parse_duration)]
    pub linger: Duration,
    /// Most messages published and not yet acknowledged.
    #[arg(long, default_value_t = 64)]
    pub max_in_flight: usize,
    /// Leave the ring on exit (it stops holding the producer back; the
    /// next run starts at the cursor, and what it missed is counted).
    /// By default a stopped bridge keeps its place and resumes from it.
    #[arg(long)]
    pub leave: bool,
}

/// How long a stopping bridge waits for the acknowledgements of what it
/// sent (what stays unacknowledged is sent again by the next run).
const DRAIN: Duration = Duration::from_secs(5);

/// A batch of events on its way to JetStream.
#[derive(Debug, Clone)]
struct Batch {
    meta: Meta,
    payload: Bytes,
}

type AckFuture = Pin<
    Box<
        dyn Future<
                Output = Result<
                    async_nats::jetstream::publish::PublishAck,
                    async_nats::jetstream::context::PublishError,
                >,
            > + Send,
    >,
>;

/// Runs the out bridge until `stop` is set or something fails for good.
pub async fn run(
    conn: &Connection,
    stream: &StreamArgs,
    args: &OutArgs,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> Result<(), String> {
    let client = conn.connect(metrics.clone()).await?;
    let js = conn.jetstream(client, args.max_in_flight);
    stream.ensure(&js, Duration::from_secs(60)).await?;
    let (tx, mut rx) = mpsc::channel::<Batch>(2);
    let acked = Arc::new(AtomicI64::new(i64::MIN));
    let reader = {
        let (args, acked, stop, metrics) =
            (args.clone(), acked.clone(), stop.clone(), metrics.clone());
        std::thread::Builder::new()
            .name("dmp-bridge-ring".into())
            .spawn(move || read_ring(&args, tx, &acked, &stop, &metrics))
            .map_err(|e| format!("cannot start the ring thread: {e}"))?
    };
    let subject = stream.subject.clone();
    let mut inflight: VecDeque<(Batch, AckFuture)> = VecDeque::new();
    let mut window_full = false;
    let mut open = true;
    let mut drain_since: Option<Instant> = None;
    while open || !inflight.is_empty() {
        if !open && drain_since.get_or_insert_with(Instant::now).elapsed() > DRAIN {
            eprintln!("dmp-bridge out: {} messages unacknowledged at exit; they are sent again on restart", inflight.len());
            break;
        }
        let room = inflight.len() < args.max_in_flight;
        if !room && !window_full {
            metrics.in_flight_full_waits.add(1);
        }
        window_full = !room;
        tokio::select! {
            got = rx.recv(), if open && room => match got {
                Some(batch) => {
                    let fut = send(&js, &subject, &batch, &metrics).await;
                    metrics.messages_sent.add(1);
                    metrics.events_sent.add(batch.meta.count);
                    inflight.push_back((batch, fut));
                }
                None => open = false,
            },
            res = async { inflight.front_mut().expect("guarded").1.as_mut().await }, if !inflight.is_empty() => {
                match res {
                    Ok(ack) => {
                        let (batch, _) = inflight.pop_front().expect("a head");
                        metrics.messages_acked.add(1);
                        metrics.events_acked.add(batch.meta.count);
                        if ack.duplicate {
                            metrics.messages_duplicate_acks.add(1);
                        }
                        acked.fetch_max(batch.meta.last(), Ordering::Release);
                    }
                    Err(e) => {
                        // The head was not acknowledged (timed out, no
                        // responders, connection lost): send it again, after
                        // a pause so an absent server is not hammered. Its
                        // successors stay in flight; whatever JetStream
                        // already stored of them it keeps, and the in bridge
                        // puts the stream's order right.
                        metrics.errors.add(1);
                        eprintln!("dmp-bridge out: message {} not acknowledged: {e}; sending it again", inflight[0].0.meta.msg_id());
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        let batch = inflight[0].0.clone();
                        inflight[0].1 = send(&js, &subject, &batch, &metrics).await;
                        metrics.messages_resent.add(1);
                    }
                }
            },
        }
        metrics.messages_in_flight.set(inflight.len() as i64);
    }
    stop.store(true, Ordering::Relaxed);
    reader
        .join()
        .map_err(|_| "the ring thread panicked".to_string())?
}

/// Publishes one batch; a failure to hand it to the client becomes an
/// acknowledgement future that fails at once (and so is sent again).
async fn send(
    js: &async_nats::jetstream::Context,
    subject: &str,
    batch: &Batch,
    metrics: &Metrics,
) -> AckFuture {
    let publish = PublishMessage::build()
        .payload(batch.payload.clone())
        .headers(batch.meta.headers());
    match js.send_publish(subject.to_string(), publish).await {
        Ok(fut) => Box::pin(PublishAckFuture::into_future(fut)),
        Err(e) => {
            metrics.errors.add(1);
            Box::pin(async move { Err(e) })
        }
    }
}

/// The ring thread: reads, packs, hands over, and commits what was
/// acknowledged.
fn read_ring(
    args: &OutArgs,
    tx: mpsc::Sender<Batch>,
    acked: &AtomicI64,
    stop: &AtomicBool,
    metrics: &Metrics,
) -> Result<(), String> {
    let loc = location(&args.ring.ring);
    let ring = Ring::open(&loc, &RingOptions::new().timeout(args.ring.open_timeout))
        .map_err(|e| format!("open {}: {e}", args.ring.ring))?;
    let id = RingId::of(&ring).map_err(|e| format!("read {}: {e}", ring.path().display()))?;
    let resumable = ring
        .snapshot()
        .consumers
        .iter()
        .any(|c| c.name == args.name && c.state == disruptor_mp::layout::state::ACTIVE);
    let mut options = ConsumerOptions::new().strategy(args.ring.wait_strategy()?);
    if let Some(max_block) = args.optional {
        options = options.optional(max_block);
    }
    let mut consumer = ring
        .consumer_with(&args.name, &options)
        .map_err(|e| format!("join {} as {}: {e}", args.ring.ring, args.name))?;
    // A name that did not resume its committed sequence starts a gap the
    // in bridge must accept: the first message says so.
    let mut gap = (!resumable || consumer.lost_on_join() > 0).then(|| consumer.lost_on_join());
    metrics.events_lost_on_join.add(consumer.lost_on_join());
    let params = ring.layout().params.clone();
    let slot_size = params.slot_size;
    let per_message = args
        .max_events
        .min(args.max_bytes / slot_size.max(1))
        .clamp(1, ring.capacity());
    let mut next = consumer.next_sequence();
    let poll = Duration::from_millis(20);
    eprintln!(
        "dmp-bridge out: {} ({id}) as {} from sequence {next}",
        args.ring.ring, args.name
    );
    while !stop.load(Ordering::Relaxed) {
        let a = acked.load(Ordering::Acquire);
        if a > consumer.committed() && a < next {
            match consumer.commit(a) {
                Ok(()) => metrics.committed_sequence.set(a),
                Err(Error::Evicted { .. }) => {
                    next = rejoin(&mut consumer, &mut gap, metrics)?;
                    continue;
                }
                Err(e) => return Err(format!("commit {a}: {e}")),
            }
        }
        // Never read further than the ring protects (a lap past the commit).
        let limit = consumer.committed() + ring.capacity() as i64;
        if next > limit {
            std::thread::sleep(Duration::from_micros(200));
            continue;
        }
        let avail = match consumer.wait_for(next, poll) {
            Ok(a) => a,
            Err(Error::Timeout { .. } | Error::WouldBlock(_)) => continue,
            Err(Error::Evicted { .. }) => {
                next = rejoin(&mut consumer, &mut gap, metrics)?;
                continue;
            }
            Err(e) => return Err(format!("wait: {e}")),
        };
        let want = (next + per_message as i64 - 1).min(limit);
        let mut hi = avail.min(want);
        if hi < want && !args.linger.is_zero() {
            hi = match consumer.wait_for(want, args.linger) {
                Ok(a) => a.min(want),
                Err(_) => consumer.try_wait_for(next).unwrap_or(hi).min(want),
            };
        }
        let mut payload = Vec::with_capacity(((hi - next + 1) as u64 * slot_size) as usize);
        let mut last = next - 1;
        for seq in next..=hi {
            match consumer.slot(seq) {
                Ok(bytes) => {
                    payload.extend_from_slice(bytes);
                    last = seq;
                }
                // An abandoned sequence (multi-producer rings) holds no
                // event: the message ends before it and the next one
                // starts after it, marked as following a gap.
                Err(Error::Abandoned { .. }) => break,
                Err(e) => return Err(format!("read {seq}: {e}")),
            }
        }
        // An optional consumer may have been evicted while it copied: the
        // producer may have overwritten what it read. Discard the copy.
        if args.optional.is_some() && evicted(&ring, consumer.index()) {
            next = rejoin(&mut consumer, &mut gap, metrics)?;
            continue;
        }
        if last < next {
            // `next` itself is abandoned: skip it.
            gap = Some(gap.unwrap_or(0) + 1);
            if acked.load(Ordering::Acquire) >= next - 1 {
                acked.fetch_max(next, Ordering::Release);
            }
            next += 1;
            continue;
        }
        let meta = Meta {
            ring: args.ring.ring.clone(),
            ring_id: id,
            first: next,
            count: (last - next + 1) as u64,
            slot_size,
            type_id: params.type_id,
            join: gap.take(),
        };
        if tx
            .blocking_send(Batch {
                meta,
                payload: Bytes::from(payload),
            })
            .is_err()
        {
            break;
        }
        next = last + 1;
    }
    let a = acked.load(Ordering::Acquire);
    if a > consumer.committed() && a < next {
        let _ = consumer.commit(a);
    }
    if args.leave {
        drop(consumer);
    } else {
        // Keep the place: the entry stays as a killed holder leaves it, so
        // the next run resumes from the commit and the ring's producer is
        // held back meanwhile (a consumer that left would stop gating, and
        // its next holder would start at the cursor, past what this one
        // had not sent). The process exits next, releasing the lease.
        std::mem::forget(consumer);
    }
    Ok(())
}

/// Whether consumer entry `index` was evicted (no longer active).
fn evicted(ring: &Ring, index: u32) -> bool {
    ring.consumers()
        .iter()
        .find(|r| r.index == index)
        .is_none_or(|r| r.state != disruptor_mp::layout::state::ACTIVE)
}

/// After an eviction: joins again at the cursor, counts what the name
/// missed, marks the next message as following a gap, and returns where
/// reading goes on.
fn rejoin(
    consumer: &mut Consumer,
    gap: &mut Option<u64>,
    metrics: &Metrics,
) -> Result<i64, String> {
    let lost = consumer.rejoin().map_err(|e| format!("rejoin: {e}"))?;
    metrics.events_lost_on_join.add(lost);
    eprintln!("dmp-bridge out: evicted; joined again, {lost} events lost");
    *gap = Some(gap.unwrap_or(0) + lost);
    Ok(consumer.next_sequence())
}
