//! `dmp-bridge in`: JetStream to ring.
//!
//! A durable pull consumer with explicit acks fetches messages in batches
//! and hands them, through a bounded channel, to a ring thread that is
//! the destination ring's (single) producer. The ring thread applies each
//! message's events that come after the last source sequence it applied,
//! records the new position in its state file (`crate::applied`) and
//! publishes; only then is the message acknowledged. Redelivered messages
//! and re-sent overlaps are skipped event by event; a message that arrives
//! before an earlier one (JetStream stores a re-sent message after its
//! successors) is held, unacknowledged, until the gap is filled.
//!
//! Back-pressure: a full ring blocks the claim, the channel fills, the
//! fetches stop, and the messages wait in the stream (counted as
//! `ring_full_waits`). Nothing is dropped.

use crate::applied::{Applied, Position};
use crate::config::{parse_duration, Connection, StreamArgs};
use crate::format::{Meta, RingId};
use crate::metrics::Metrics;
use crate::{location, RingArgs};
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{AckKind, Message};
use clap::Args;
use disruptor_mp::{Error, ProducerMode, Ring, RingOptions};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Options of `dmp-bridge in`.
#[derive(Args, Clone, Debug)]
pub struct InArgs {
    #[command(flatten)]
    pub ring: RingArgs,
    /// The durable consumer's name on the stream.
    #[arg(long, default_value = "dmp-bridge")]
    pub durable: String,
    /// The state file holding the last applied position (see
    /// docs/BRIDGE.md); default /var/tmp/dmp-bridge/<ring>.<durable>.state.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Messages asked for per pull request.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// The consumer's max_ack_pending (messages delivered and not acked).
    #[arg(long, default_value_t = 2048)]
    pub max_ack_pending: i64,
    /// The consumer's ack_wait: a message not acknowledged within it is
    /// delivered again (and skipped as a duplicate if it was applied).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub ack_wait: Duration,
    /// Most messages held back waiting for an earlier one (must exceed the
    /// out bridge's --max-in-flight); beyond it they are put back (nak).
    #[arg(long, default_value_t = 1024)]
    pub max_held: usize,
    /// Create the destination ring when missing, with this capacity (and
    /// --slot-size).
    #[arg(long, requires = "slot_size")]
    pub capacity: Option<u64>,
    /// Slot size of a ring this bridge creates.
    #[arg(long, requires = "capacity")]
    pub slot_size: Option<u64>,
}

impl InArgs {
    fn state_path(&self) -> PathBuf {
        self.state.clone().unwrap_or_else(|| {
            let ring = self.ring.ring.replace('/', "_");
            PathBuf::from(format!("/var/tmp/dmp-bridge/{ring}.{}.state", self.durable))
        })
    }
}

/// Deliveries of a message of a new source, with no message starting
/// that source in sight, before the lowest held one starts it.
const ADOPT_AFTER: i64 = 3;

/// What the ring thread tells the runtime to do with a message.
enum Verdict {
    Ack(Message),
    Nak(Message),
}

/// Runs the in bridge until `stop` is set or something fails for good.
pub async fn run(
    conn: &Connection,
    stream: &StreamArgs,
    args: &InArgs,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> Result<(), String> {
    // Attach to the ring first: a bridge that cannot publish fetches nothing.
    let (msg_tx, msg_rx) = mpsc::channel::<Message>(args.batch.max(1));
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<Verdict>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
    let ring_thread = {
        let (args, metrics, stop) = (args.clone(), metrics.clone(), stop.clone());
        std::thread::Builder::new()
            .name("dmp-bridge-ring".into())
            .spawn(move || apply_loop(&args, msg_rx, ack_tx, ready_tx, &metrics, &stop))
            .map_err(|e| format!("cannot start the ring thread: {e}"))?
    };
    match ready_rx.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return Err(ring_thread.join().map_or_else(
                |_| "the ring thread panicked".into(),
                |r| r.err().unwrap_or_default(),
            ))
        }
    }
    let client = conn.connect(metrics.clone()).await?;
    let js = conn.jetstream(client, 1);
    let st = stream.ensure(&js, Duration::from_secs(60)).await?;
    let config = pull::Config {
        durable_name: Some(args.durable.clone()),
        ack_policy: AckPolicy::Explicit,
        deliver_policy: DeliverPolicy::All,
        ack_wait: args.ack_wait,
        max_ack_pending: args.max_ack_pending,
        ..Default::default()
    };
    let consumer = loop {
        match st
            .get_or_create_consumer(&args.durable, config.clone())
            .await
        {
            Ok(c) => break c,
            Err(e) if !stop.load(Ordering::Relaxed) => {
                metrics.errors.add(1);
                eprintln!("dmp-bridge in: consumer {}: {e}; retrying", args.durable);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return Err(e.to_string()),
        }
    };
    let acker = {
        let metrics = metrics.clone();
        tokio::spawn(async move {
            while let Some(v) = ack_rx.recv().await {
                let r = match &v {
                    Verdict::Ack(m) => m.ack().await,
                    Verdict::Nak(m) => {
                        m.ack_with(AckKind::Nak(Some(Duration::from_millis(200))))
                            .await
                    }
                };
                match r {
                    Ok(()) if matches!(v, Verdict::Ack(_)) => metrics.messages_acknowledged.add(1),
                    Ok(()) => {}
                    // A lost ack is a redelivery later, skipped then.
                    Err(_) => metrics.errors.add(1),
                }
            }
        })
    };
    'pull: while !stop.load(Ordering::Relaxed) {
        let mut batch = match consumer
            .batch()
            .max_messages(args.batch)
            .expires(Duration::from_secs(1))
            .messages()
            .await
        {
            Ok(b) => b,
            Err(e) => {
                metrics.errors.add(1);
                eprintln!("dmp-bridge in: pull: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        while let Some(m) = batch.next().await {
            match m {
                Ok(m) => {
                    metrics.messages_received.add(1);
                    if msg_tx.send(m).await.is_err() {
                        break 'pull;
                    }
                }
                Err(e) => {
                    metrics.errors.add(1);
                    eprintln!("dmp-bridge in: fetch: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    break;
                }
            }
        }
    }
    drop(msg_tx);
    let result = tokio::task::spawn_blocking(move || ring_thread.join())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|_| "the ring thread panicked".to_string())?;
    // Let the last acknowledgements go out.
    let _ = tokio::time::timeout(Duration::from_secs(2), acker).await;
    result
}

/// The ring side: the producer, the state file, the held messages.
struct Applier {
    producer: disruptor_mp::Producer,
    applied: Applied,
    position: Position,
    slot_size: u64,
    type_id: u64,
    held: BTreeMap<(u64, i64), Message>,
}

fn apply_loop(
    args: &InArgs,
    mut rx: mpsc::Receiver<Message>,
    acks: mpsc::UnboundedSender<Verdict>,
    ready: tokio::sync::oneshot::Sender<Result<(), String>>,
    metrics: &Metrics,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut applier = match Applier::attach(args, metrics) {
        Ok(a) => {
            let _ = ready.send(Ok(()));
            a
        }
        Err(e) => {
            let _ = ready.send(Err(e.clone()));
            return Err(e);
        }
    };
    while let Some(msg) = rx.blocking_recv() {
        applier.take(msg, args, &acks, metrics, stop)?;
    }
    Ok(())
}

impl Applier {
    fn attach(args: &InArgs, metrics: &Metrics) -> Result<Applier, String> {
        let loc = location(&args.ring.ring);
        let ring = match (args.capacity, args.slot_size) {
            (Some(c), Some(s)) => {
                Ring::open_or_create(&loc, &RingOptions::new().capacity(c).slot_size(s))
                    .map(|r| r.0)
            }
            _ => Ring::open(&loc, &RingOptions::new().timeout(args.ring.open_timeout)),
        }
        .map_err(|e| format!("open {}: {e}", args.ring.ring))?;
        let params = ring.layout().params.clone();
        if params.producer_mode != ProducerMode::Single {
            return Err(format!(
                "{} is a multi-producer ring: the in bridge needs a single-producer ring, whose cursor tells what it published last",
                args.ring.ring
            ));
        }
        let producer = ring
            .producer(args.ring.wait_strategy()?)
            .map_err(|e| format!("attach to {} as its producer: {e}", args.ring.ring))?;
        let dest = RingId::of(&ring).map_err(|e| e.to_string())?;
        let path = args.state_path();
        let (applied, position) = Applied::open(&path, dest.key(), producer.published())
            .map_err(|e| format!("state file {}: {e}", path.display()))?;
        metrics.committed_sequence.set(producer.published());
        eprintln!(
            "dmp-bridge in: {} ({dest}) as its producer at {}, applied through source sequence {}",
            args.ring.ring,
            producer.published(),
            position.last
        );
        Ok(Applier {
            producer,
            applied,
            position,
            slot_size: params.slot_size,
            type_id: params.type_id,
            held: BTreeMap::new(),
        })
    }

    /// Takes one message: applies it (and the held ones it unblocks),
    /// skips it, or holds it.
    fn take(
        &mut self,
        msg: Message,
        args: &InArgs,
        acks: &mpsc::UnboundedSender<Verdict>,
        metrics: &Metrics,
        stop: &AtomicBool,
    ) -> Result<(), String> {
        let meta = Meta::parse(msg.headers.as_ref(), msg.payload.len()).map_err(|e| {
            format!("a message not in the bridge's format ({e}); left unacknowledged in the stream")
        })?;
        if meta.slot_size != self.slot_size {
            return Err(format!(
                "events of {} bytes do not fit this ring's {}-byte slots",
                meta.slot_size, self.slot_size
            ));
        }
        if self.type_id != 0 && meta.type_id != self.type_id {
            return Err(format!(
                "event type {} is not this ring's type {}",
                meta.type_id, self.type_id
            ));
        }
        let key = meta.ring_id.key();
        if key != self.position.source {
            if meta.ring_id.created_at_ns < self.position.source_created_at_ns {
                // An older instance of the source ring: its events came before.
                metrics.messages_duplicate_skipped.add(1);
                metrics.events_duplicate_skipped.add(meta.count);
                let _ = acks.send(Verdict::Ack(msg));
                return Ok(());
            }
            // A new source ring (or the first one) is followed from a
            // message that starts it: one announcing a join, or holding its
            // sequence 0. Any other may have overtaken an earlier one (a
            // re-send stored after its successors): it waits, held, and
            // only once it has come ADOPT_AFTER times with no start in
            // sight (the stream's beginning was discarded) does the lowest
            // held message start the source.
            let delivered = msg.info().map_or(1, |i| i.delivered);
            let starts = meta.join.is_some() || meta.first == 0;
            if !starts && delivered < ADOPT_AFTER {
                self.hold(key, &meta, msg, args, acks, metrics);
                return Ok(());
            }
            let from = match self.held.range((key, i64::MIN)..=(key, i64::MAX)).next() {
                Some((&(_, first), _)) if !starts => first.min(meta.first),
                _ => meta.first,
            };
            if !starts {
                eprintln!(
                    "dmp-bridge in: no start of source {} came; following it from sequence {from}",
                    meta.ring_id
                );
            }
            self.position = Position {
                source: key,
                source_created_at_ns: meta.ring_id.created_at_ns,
                last: from - 1,
            };
            // Messages held for another source come again after ack_wait.
            self.held.retain(|&(k, _), _| k == key);
        }
        let expected = self.position.last + 1;
        if meta.first > expected && meta.join.is_none() {
            // An earlier message has not come yet: hold this one.
            self.hold(key, &meta, msg, args, acks, metrics);
            return Ok(());
        }
        self.apply(&meta, &msg.payload, metrics, stop)?;
        let _ = acks.send(Verdict::Ack(msg));
        // Whatever was held and now follows on.
        let src = self.position.source;
        while let Some((&(k, first), _)) = self.held.range((src, i64::MIN)..=(src, i64::MAX)).next()
        {
            if first > self.position.last + 1 {
                break;
            }
            let m = self.held.remove(&(k, first)).expect("present");
            let meta = Meta::parse(m.headers.as_ref(), m.payload.len()).expect("parsed before");
            self.apply(&meta, &m.payload, metrics, stop)?;
            let _ = acks.send(Verdict::Ack(m));
        }
        Ok(())
    }

    /// Holds a message that came before an earlier one (unacknowledged);
    /// past `--max-held`, puts it back.
    fn hold(
        &mut self,
        key: u64,
        meta: &Meta,
        msg: Message,
        args: &InArgs,
        acks: &mpsc::UnboundedSender<Verdict>,
        metrics: &Metrics,
    ) {
        metrics.messages_out_of_order.add(1);
        if self.held.len() >= args.max_held {
            let _ = acks.send(Verdict::Nak(msg));
        } else {
            // The same message delivered again replaces its older delivery,
            // which is dropped unanswered (acknowledging it would tell the
            // server it was applied).
            self.held.insert((key, meta.first), msg);
        }
    }

    /// Publishes the events of `meta` after the position (all of them after
    /// a gap the message announces), in claims of at most the capacity.
    fn apply(
        &mut self,
        meta: &Meta,
        payload: &[u8],
        metrics: &Metrics,
        stop: &AtomicBool,
    ) -> Result<(), String> {
        let from = meta.first.max(self.position.last + 1);
        if from > meta.last() {
            metrics.messages_duplicate_skipped.add(1);
            metrics.events_duplicate_skipped.add(meta.count);
            return Ok(());
        }
        metrics
            .events_duplicate_skipped
            .add((from - meta.first) as u64);
        let size = self.slot_size as usize;
        let chunk = self.producer.capacity() as i64;
        let mut at = from;
        while at <= meta.last() {
            let n = (meta.last() - at + 1).min(chunk);
            let lo = self.claim(n as u64, metrics, stop)?;
            for k in 0..n {
                let src = ((at - meta.first + k) as usize) * size;
                self.producer.slot_mut(lo + k).map_err(|e| e.to_string())?[..size]
                    .copy_from_slice(&payload[src..src + size]);
            }
            let hi = lo + n - 1;
            let position = Position {
                last: at + n - 1,
                ..self.position
            };
            self.applied
                .record(position, hi)
                .map_err(|e| format!("state file: {e}"))?;
            self.producer
                .publish(lo, hi)
                .map_err(|e| format!("publish: {e}"))?;
            self.position = position;
            metrics.events_applied.add(n as u64);
            metrics.committed_sequence.set(hi);
            at += n;
        }
        Ok(())
    }

    fn claim(&mut self, n: u64, metrics: &Metrics, stop: &AtomicBool) -> Result<i64, String> {
        match self.producer.try_claim(n) {
            Ok(lo) => return Ok(lo),
            Err(Error::WouldBlock(_) | Error::Timeout { .. }) => metrics.ring_full_waits.add(1),
            Err(e) => return Err(format!("claim: {e}")),
        }
        loop {
            match self.producer.claim(n, Duration::from_millis(100)) {
                Ok(lo) => return Ok(lo),
                Err(Error::Timeout { .. } | Error::WouldBlock(_))
                    if !stop.load(Ordering::Relaxed) => {}
                Err(e) => return Err(format!("claim: {e}")),
            }
        }
    }
}
