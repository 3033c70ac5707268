//! The bridge's side of the bench: two rings, an out and an in bridge on
//! this runtime, and a producer and a checking reader on threads.

use super::BenchArgs;
use crate::config::{Connection, StreamArgs};
use crate::inbound::{self, InArgs};
use crate::metrics::Metrics;
use crate::out::{self, OutArgs};
use crate::RingArgs;
use disruptor_mp::{internals::unix_time_ns, Location, Ring, RingOptions, WaitStrategy};
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) struct Bridges {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Result<(), String>>>,
    pub(super) a: String,
    pub(super) b: String,
}

impl Bridges {
    pub(super) async fn start(
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

    pub(super) async fn stop(self) {
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
pub(super) fn ring_to_ring(
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
