//! `dmp-bridge bench`: ring to ring through one JetStream server against
//! the plain async-nats client on the same server, in the same run.
//!
//! Throughput: N events of `--event-size` bytes from ring A through `out`,
//! the stream and `in` into ring B (every event checked), against the
//! client publishing the same bytes as plain JetStream messages with async
//! acks (one message per event, and one message per bridge-sized batch).
//! Latency: events at a paced rate, send to receive, through the bridge
//! and through a raw publish/consume round trip of the same payload.

use crate::config::{Connection, StreamArgs};
use crate::inbound::{self, InArgs};
use crate::metrics::Metrics;
use crate::out::{self, OutArgs};
use crate::RingArgs;
use async_nats::jetstream::consumer::{pull, AckPolicy};
use clap::Args;
use disruptor_mp::{internals::unix_time_ns, Location, Ring, RingOptions, WaitStrategy};
use futures::StreamExt;
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `dmp-bridge bench`.
#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// Events in the throughput runs.
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    /// Bytes per event.
    #[arg(long, default_value_t = 64)]
    pub event_size: u64,
    /// Events per bridge message.
    #[arg(long, default_value_t = 1024)]
    pub max_events: u64,
    /// Slots of the bench's rings.
    #[arg(long, default_value_t = 1 << 16)]
    pub capacity: u64,
    /// Rounds of the throughput runs (the best of each is reported).
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// The out bridge's window of unacknowledged messages.
    #[arg(long, default_value_t = 64)]
    pub max_in_flight: usize,
    /// Events per second in the latency runs.
    #[arg(long, default_value_t = 2000)]
    pub rate: u64,
    /// Events in each latency run.
    #[arg(long, default_value_t = 4000)]
    pub latency_events: u64,
    /// The out bridge's linger in the latency run (the throughput run
    /// lingers 1 ms).
    #[arg(long, default_value = "0s", value_parser = crate::config::parse_duration)]
    pub latency_linger: Duration,
    /// Start a nats-server (from PATH) on a free loopback port with a
    /// temporary store, instead of using --server.
    #[arg(long)]
    pub spawn_server: bool,
}

/// A nats-server child with JetStream, on loopback, killed on drop.
pub struct Server {
    child: std::process::Child,
    /// Its URL.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `nats-server -js` on a free port and waits (at most 10 s)
    /// until it accepts connections.
    pub fn spawn() -> Result<Server, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let child = std::process::Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start nats-server: {e}"))?;
        let server = Server {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            _dir: dir,
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if start.elapsed() > Duration::from_secs(10) {
                return Err("nats-server did not listen within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Bridges {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Result<(), String>>>,
    a: String,
    b: String,
}

impl Bridges {
    async fn start(
        conn: &Connection,
        tag: &str,
        args: &BenchArgs,
        linger: Duration,
    ) -> Result<Bridges, String> {
        let pid = std::process::id();
        let (a, b) = (
            format!("dmp-bench-{tag}-a-{pid}"),
            format!("dmp-bench-{tag}-b-{pid}"),
        );
        let opts = RingOptions::new()
            .capacity(1 << 16)
            .slot_size(args.event_size);
        for name in [&a, &b] {
            let _ = Ring::unlink(&Location::shm(name.as_str()));
            Ring::create(&Location::shm(name.as_str()), &opts).map_err(|e| e.to_string())?;
        }
        let stream = StreamArgs {
            stream: format!("BENCH_{}", tag.to_uppercase()),
            subject: format!("bench.{tag}"),
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            memory: false,
        };
        let ring = |r: &str| RingArgs {
            ring: r.to_string(),
            wait: "sleep:20".into(),
            open_timeout: Duration::from_secs(5),
        };
        let out_args = OutArgs {
            ring: ring(&a),
            name: "bridge".into(),
            optional: None,
            max_events: args.max_events,
            max_bytes: 1 << 20,
            linger,
            max_in_flight: args.max_in_flight,
            leave: true,
        };
        let in_args = InArgs {
            ring: ring(&b),
            durable: format!("bench-{tag}"),
            state: Some(std::env::temp_dir().join(format!("dmp-bench-{tag}-{pid}.state"))),
            batch: 256,
            max_ack_pending: 4096,
            ack_wait: Duration::from_secs(30),
            max_held: 1024,
            capacity: None,
            slot_size: None,
        };
        let _ = std::fs::remove_file(in_args.state.as_ref().expect("set"));
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        {
            let (c, s, st) = (conn.clone(), stream.clone(), stop.clone());
            let m = Metrics::new("out", &a);
            tasks.push(tokio::spawn(async move {
                out::run(&c, &s, &out_args, m, st).await
            }));
        }
        // The in bridge needs the stream the out bridge creates.
        tokio::time::sleep(Duration::from_millis(300)).await;
        {
            let (c, s, st) = (conn.clone(), stream.clone(), stop.clone());
            let m = Metrics::new("in", &b);
            tasks.push(tokio::spawn(async move {
                inbound::run(&c, &s, &in_args, m, st).await
            }));
        }
        Ok(Bridges { stop, tasks, a, b })
    }

    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
        for name in [&self.a, &self.b] {
            let _ = Ring::unlink(&Location::shm(name.as_str()));
        }
    }
}

/// Events sent through before a run's clock starts.
const WARM: u64 = 64;

/// Produces `n` events into ring `a` (the sequence, then `ts` when paced)
/// and reads them from ring `b`, checking each; returns the elapsed time
/// and the latency histogram (paced runs).
fn ring_to_ring(
    a: &str,
    b: &str,
    n: u64,
    rate: Option<u64>,
) -> Result<(Duration, Histogram<u64>), String> {
    let ra = Ring::open(&Location::shm(a), &RingOptions::new()).map_err(|e| e.to_string())?;
    let rb = Ring::open(&Location::shm(b), &RingOptions::new()).map_err(|e| e.to_string())?;
    let mut consumer = rb
        .consumer("bench", &[], WaitStrategy::Sleep(Duration::from_micros(20)))
        .map_err(|e| e.to_string())?;
    // Wait for the out bridge's consumer, so nothing is missed.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ra.snapshot().consumers.iter().any(|c| c.name == "bridge") {
        if Instant::now() > deadline {
            return Err("the out bridge did not join ring A".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Warm-up: the first WARM events go through before the clock starts
    // (the in bridge's pull consumer may still be starting).
    let mut p = ra
        .producer(WaitStrategy::Sleep(Duration::from_micros(20)))
        .map_err(|e| e.to_string())?;
    let send = |p: &mut disruptor_mp::Producer, i: u64| {
        p.publish_with(Duration::from_secs(30), |slot| {
            slot[..8].copy_from_slice(&i.to_le_bytes());
            slot[8..16].copy_from_slice(&unix_time_ns().to_le_bytes());
        })
        .map(|_| ())
        .map_err(|e| e.to_string())
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = 0u64;
    for i in 0..WARM {
        send(&mut p, i)?;
    }
    while seen < WARM {
        if Instant::now() > deadline {
            return Err("the warm-up events did not arrive in ring B within 30 s".into());
        }
        if let Ok(k) = consumer.poll(Duration::from_millis(100), |_, _| {}) {
            seen += k as u64;
        }
    }
    let start = Instant::now();
    let producer = std::thread::spawn(move || -> Result<(), String> {
        for i in 0..n {
            if let Some(r) = rate {
                let due = start + Duration::from_secs_f64(i as f64 / r as f64);
                while Instant::now() < due {
                    std::thread::sleep(Duration::from_micros(50));
                }
            }
            send(&mut p, WARM + i)?;
        }
        Ok(())
    });
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    let mut seen = 0u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen < n {
        if Instant::now() > deadline {
            return Err(format!("only {seen} of {n} events arrived in ring B"));
        }
        let r = consumer.poll(Duration::from_millis(100), |_, bytes| {
            let i = u64::from_le_bytes(bytes[..8].try_into().expect("8"));
            let ts = u64::from_le_bytes(bytes[8..16].try_into().expect("8"));
            assert_eq!(i, WARM + seen, "event out of order");
            let _ = hist.record(unix_time_ns().saturating_sub(ts));
            seen += 1;
        });
        match r {
            Ok(_) | Err(disruptor_mp::Error::Timeout { .. }) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let elapsed = start.elapsed();
    producer.join().map_err(|_| "producer panicked")??;
    Ok((elapsed, hist))
}

/// The plain client: `n` messages of `size` bytes published with async
/// acks (at most 4096 outstanding), until the last is acknowledged.
async fn raw_publish(
    js: &async_nats::jetstream::Context,
    subject: &str,
    n: u64,
    size: usize,
) -> Result<Duration, String> {
    let payload = bytes::Bytes::from(vec![7u8; size]);
    let start = Instant::now();
    let mut acks = futures::stream::FuturesOrdered::new();
    for _ in 0..n {
        let ack = js
            .publish(subject.to_string(), payload.clone())
            .await
            .map_err(|e| e.to_string())?;
        acks.push_back(std::future::IntoFuture::into_future(ack));
        while acks.len() >= 4096 {
            acks.next()
                .await
                .expect("some")
                .map_err(|e| e.to_string())?;
        }
    }
    while let Some(a) = acks.next().await {
        a.map_err(|e| e.to_string())?;
    }
    Ok(start.elapsed())
}

/// The plain client end to end: `n` messages of `size` bytes published
/// with async acks while a pull consumer in the same process takes and
/// acknowledges them, until the last one arrived.
async fn raw_end_to_end(
    js: &async_nats::jetstream::Context,
    n: u64,
    size: usize,
) -> Result<Duration, String> {
    let stream = js
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: "BENCH_RAWE2E".into(),
            subjects: vec!["bench.rawe2e".into()],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let consumer = stream
        .get_or_create_consumer(
            "e2e",
            pull::Config {
                durable_name: Some("e2e".into()),
                ack_policy: AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
    let start = Instant::now();
    let js2 = js.clone();
    let publisher = tokio::spawn(async move { raw_publish(&js2, "bench.rawe2e", n, size).await });
    for _ in 0..n {
        let m = tokio::time::timeout(Duration::from_secs(60), messages.next())
            .await
            .map_err(|_| "raw end-to-end run: a message did not arrive within 60 s")?
            .ok_or("the raw consumer ended")?
            .map_err(|e| e.to_string())?;
        let _ = m.ack().await;
    }
    let elapsed = start.elapsed();
    publisher.await.map_err(|e| e.to_string())??;
    Ok(elapsed)
}

/// The raw round trip at a paced rate: publish a timestamp, a pull
/// consumer receives it.
async fn raw_latency(
    js: &async_nats::jetstream::Context,
    args: &BenchArgs,
) -> Result<Histogram<u64>, String> {
    let stream = js
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: "BENCH_RAWLAT".into(),
            subjects: vec!["bench.rawlat".into()],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let consumer = stream
        .get_or_create_consumer(
            "lat",
            pull::Config {
                durable_name: Some("lat".into()),
                ack_policy: AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let n = args.latency_events;
    let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
    let (js2, rate, size) = (js.clone(), args.rate, args.event_size as usize);
    let publisher = tokio::spawn(async move {
        let start = Instant::now();
        for i in 0..n {
            tokio::time::sleep_until(
                (start + Duration::from_secs_f64(i as f64 / rate as f64)).into(),
            )
            .await;
            let mut p = vec![0u8; size];
            p[8..16].copy_from_slice(&unix_time_ns().to_le_bytes());
            let _ = js2.publish("bench.rawlat", p.into()).await;
        }
    });
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    for _ in 0..n {
        let m = tokio::time::timeout(Duration::from_secs(30), messages.next())
            .await
            .map_err(|_| "raw latency run: a message did not arrive within 30 s")?
            .ok_or("the raw consumer ended")?
            .map_err(|e| e.to_string())?;
        let ts = u64::from_le_bytes(m.payload[8..16].try_into().expect("8"));
        let _ = hist.record(unix_time_ns().saturating_sub(ts));
        let _ = m.ack().await;
    }
    let _ = publisher.await;
    Ok(hist)
}

/// Runs the whole bench and prints its report.
pub async fn run(conn: &Connection, args: &BenchArgs) -> Result<(), String> {
    let server = if args.spawn_server {
        Some(Server::spawn()?)
    } else {
        None
    };
    let mut conn = conn.clone();
    if let Some(s) = &server {
        conn.servers = vec![s.url.clone()];
    }
    if args.event_size < 16 {
        return Err("--event-size must be at least 16 (sequence and timestamp)".into());
    }
    let size = args.event_size as usize;
    let n = args.events;
    let client = conn.connect(Metrics::new("bench", "-")).await?;
    let js = conn.jetstream(client, 4096);
    for (name, subject) in [("BENCH_RAW", "bench.raw"), ("BENCH_RAWB", "bench.rawb")] {
        js.get_or_create_stream(async_nats::jetstream::stream::Config {
            name: name.into(),
            subjects: vec![subject.into()],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    }
    // The same bytes in bridge-sized messages, at least a thousand of
    // them so that the run is long enough to time.
    let batches = n.div_ceil(args.max_events).max(1000);
    let batch_bytes = size * args.max_events as usize;
    let batched_events = batches * args.max_events;
    // Best of --rounds for each, interleaved, so that a burst of other
    // load on the machine hits every contender alike.
    let (mut raw, mut raw_batched, mut raw_e2e, mut bridge) =
        (Duration::MAX, Duration::MAX, Duration::MAX, Duration::MAX);
    for round in 0..args.rounds.max(1) {
        raw = raw.min(raw_publish(&js, "bench.raw", n, size).await?);
        raw_batched = raw_batched.min(raw_publish(&js, "bench.rawb", batches, batch_bytes).await?);
        raw_e2e = raw_e2e.min(raw_end_to_end(&js, batches, batch_bytes).await?);
        let bridges = Bridges::start(
            &conn,
            &format!("tput{round}"),
            args,
            Duration::from_millis(1),
        )
        .await?;
        let (a, b) = (bridges.a.clone(), bridges.b.clone());
        let through = tokio::task::spawn_blocking(move || ring_to_ring(&a, &b, n, None))
            .await
            .map_err(|e| e.to_string())?;
        bridges.stop().await;
        bridge = bridge.min(through?.0);
    }

    let bridges = Bridges::start(&conn, "lat", args, args.latency_linger).await?;
    let (a, b, ln, rate) = (
        bridges.a.clone(),
        bridges.b.clone(),
        args.latency_events,
        args.rate,
    );
    let lat = tokio::task::spawn_blocking(move || ring_to_ring(&a, &b, ln, Some(rate)))
        .await
        .map_err(|e| e.to_string())?;
    bridges.stop().await;
    let (_, bridge_lat) = lat?;
    let raw_lat = raw_latency(&js, args).await?;

    let eps = |d: Duration, events: u64| events as f64 / d.as_secs_f64();
    let (b_eps, r_eps) = (eps(bridge, n), eps(raw, n));
    let (rb_eps, re_eps) = (
        eps(raw_batched, batched_events),
        eps(raw_e2e, batched_events),
    );
    let mb = |e: f64| e * size as f64 / 1e6;
    println!(
        "dmp-bridge bench: {n} events of {size} bytes, {} per bridge message, one server, best of {}",
        args.max_events,
        args.rounds.max(1)
    );
    let row = |what: &str, e: f64| println!("  {what:<34} {e:>12.0} events/s {:>9.1} MB/s", mb(e));
    row("bridge, ring A to ring B", b_eps);
    row("raw publish, one message per event", r_eps);
    row("raw publish, bridge-sized messages", rb_eps);
    row("raw publish+consume, bridge-sized", re_eps);
    let ratio = |what: &str, x: f64, target: &str| println!("  {what:<48} {x:>7.2}x {target}");
    ratio(
        "events/s bridge / raw one per event",
        b_eps / r_eps,
        "(target >= 5x)",
    );
    ratio(
        "bytes/s  bridge / raw one per event",
        b_eps / r_eps,
        "(target >= 0.8x)",
    );
    ratio(
        "bytes/s  bridge / raw publish, same sizes",
        b_eps / rb_eps,
        "",
    );
    ratio(
        "bytes/s  bridge / raw publish+consume, same sizes",
        b_eps / re_eps,
        "",
    );
    let us = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1e3;
    println!(
        "  latency at {} events/s ({} events, linger {:?}), microseconds:",
        args.rate, args.latency_events, args.latency_linger
    );
    println!(
        "    bridge ring->ring  p50 {:>9.0}  p99 {:>9.0}",
        us(&bridge_lat, 0.5),
        us(&bridge_lat, 0.99)
    );
    println!(
        "    raw round trip     p50 {:>9.0}  p99 {:>9.0}",
        us(&raw_lat, 0.5),
        us(&raw_lat, 0.99)
    );
    println!(
        "    ratio bridge / raw p50 {:.2}x  p99 {:.2}x",
        us(&bridge_lat, 0.5) / us(&raw_lat, 0.5),
        us(&bridge_lat, 0.99) / us(&raw_lat, 0.99)
    );
    drop(server);
    Ok(())
}
