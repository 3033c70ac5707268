//! `dmp-bridge bench`: ring to ring through one JetStream server against
//! the plain async-nats client on the same server, in the same run.
//!
//! Throughput: N events of `--event-size` bytes from ring A through `out`,
//! the stream and `in` into ring B (every event checked), against the
//! client publishing the same bytes as plain JetStream messages with async
//! acks (one message per event, and one message per bridge-sized batch).
//! Latency: events at a paced rate, send to receive, through the bridge
//! and through a raw publish/consume round trip of the same payload.

mod bridged;
mod raw;
mod server;

pub use server::Server;

use crate::config::Connection;
use crate::metrics::Metrics;
use bridged::{ring_to_ring, Bridges};
use clap::Args;
use hdrhistogram::Histogram;
use raw::{raw_end_to_end, raw_latency, raw_publish};
use std::time::Duration;

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
    let js = conn.jetstream(client.clone(), 4096);
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
    // Close the connection before the server goes.
    let _ = client.drain().await;
    drop(server);
    Ok(())
}
