//! The plain async-nats client's side of the bench.

use super::BenchArgs;
use async_nats::jetstream::consumer::{pull, AckPolicy};
use disruptor_mp::internals::unix_time_ns;
use futures::StreamExt;
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// The plain client: `n` messages of `size` bytes published with async
/// acks (at most 4096 outstanding), until the last is acknowledged.
pub(super) async fn raw_publish(
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
pub(super) async fn raw_end_to_end(
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
pub(super) async fn raw_latency(
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
