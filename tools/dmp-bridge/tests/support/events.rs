//! The test events, a producer, the checking reader of ring B, and what
//! the tests ask of the rings, the server and the bridges' arguments.

use super::RingName;
use disruptor_mp::Ring;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The test events: 64 bytes, the source sequence and a check word.
pub const EVENT: u64 = 64;

pub fn fill_event(slot: &mut [u8], seq: u64) {
    slot[..8].copy_from_slice(&seq.to_le_bytes());
    slot[8..16].copy_from_slice(&(seq ^ 0x5a5a_5a5a_5a5a_5a5a).to_le_bytes());
}

/// The source sequence an event carries (panics on a damaged event).
pub fn event_seq(bytes: &[u8]) -> u64 {
    let seq = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    let check = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    assert_eq!(check, seq ^ 0x5a5a_5a5a_5a5a_5a5a, "damaged event {seq}");
    seq
}

/// Publishes events `from..n` into `ring` as its producer (sequence =
/// value, so a producer that takes over after a kill carries on).
pub fn produce(ring: &Ring, n: u64, pause: Duration) {
    let mut p = ring
        .producer(disruptor_mp::WaitStrategy::Sleep(Duration::from_micros(50)))
        .expect("producer");
    loop {
        let next = p.published() + 1;
        if next as u64 >= n {
            return;
        }
        let seq = p.claim(1, Duration::from_secs(120)).expect("claim");
        fill_event(p.slot_mut(seq).expect("slot"), seq as u64);
        p.publish(seq, seq).expect("publish");
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
}

/// A reader of the destination ring checking that ring sequence k holds
/// source event k: every event exactly once, in order.
pub struct Checker {
    handle: std::thread::JoinHandle<Result<u64, String>>,
    pub seen: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub go: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Checker {
    /// Joins ring B as the required consumer `check` now; reads once `go`
    /// is set (at once when `start`), until `n` events or `within`.
    pub fn start(ring: &RingName, n: u64, within: Duration, start: bool) -> Checker {
        let r = ring.open();
        let mut c = r
            .consumer(
                "check",
                &[],
                disruptor_mp::WaitStrategy::Sleep(Duration::from_micros(100)),
            )
            .expect("checker");
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let go = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(start));
        let (s, g) = (seen.clone(), go.clone());
        let handle = std::thread::spawn(move || {
            let t0 = Instant::now();
            let mut k = 0u64;
            while k < n {
                if t0.elapsed() > within {
                    return Err(format!("ring B holds {k} of {n} events after {within:?}"));
                }
                if !g.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                let mut bad = None;
                let r = c.poll(Duration::from_millis(100), |seq, bytes| {
                    let v = event_seq(bytes);
                    if v != seq as u64 && bad.is_none() {
                        bad = Some(format!("ring B sequence {seq} holds source event {v}"));
                    }
                    k += 1;
                });
                if let Some(b) = bad {
                    return Err(b);
                }
                match r {
                    Ok(_) | Err(disruptor_mp::Error::Timeout { .. }) => {}
                    Err(e) => return Err(e.to_string()),
                }
                s.store(k, Ordering::Relaxed);
            }
            drop(r);
            Ok(k)
        });
        Checker { handle, seen, go }
    }

    pub fn join(self) -> Result<u64, String> {
        self.handle
            .join()
            .map_err(|_| "checker panicked".to_string())?
    }
}

/// The committed sequence of consumer `name` in `ring` (None: absent).
pub fn committed(ring: &RingName, name: &str) -> Option<i64> {
    ring.open()
        .snapshot()
        .consumers
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.sequence)
}

/// Whether durable `durable` of `stream` has nothing pending and nothing
/// unacknowledged (asked of the server at `url`).
pub fn consumer_idle(url: &str, stream: &str, durable: &str) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let go = async {
            let client = async_nats::connect(url).await.ok()?;
            let js = async_nats::jetstream::new(client);
            let mut c: async_nats::jetstream::consumer::PullConsumer =
                js.get_consumer_from_stream(durable, stream).await.ok()?;
            let info = c.info().await.ok()?;
            Some(info.num_pending == 0 && info.num_ack_pending == 0)
        };
        tokio::time::timeout(Duration::from_secs(5), go)
            .await
            .ok()
            .flatten()
            .unwrap_or(false)
    })
}

/// `dmp-bridge out` arguments.
pub fn out_args(
    servers: &str,
    ring: &str,
    stream: &str,
    metrics: &Path,
    extra: &[&str],
) -> Vec<String> {
    let mut v: Vec<String> = [
        "out",
        "--server",
        servers,
        "--ring",
        ring,
        "--stream",
        stream,
        "--subject",
        &format!("{stream}.events"),
        "--request-timeout",
        "2s",
        "--metrics-file",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(metrics.display().to_string());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// `dmp-bridge in` arguments (ack_wait 2 s, so a killed bridge's
/// unacknowledged messages come again soon).
pub fn in_args(
    servers: &str,
    ring: &str,
    stream: &str,
    state: &Path,
    metrics: &Path,
    extra: &[&str],
) -> Vec<String> {
    let mut v: Vec<String> = [
        "in",
        "--server",
        servers,
        "--ring",
        ring,
        "--stream",
        stream,
        "--subject",
        &format!("{stream}.events"),
        "--request-timeout",
        "2s",
        "--ack-wait",
        "2s",
        "--state",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(state.display().to_string());
    v.push("--metrics-file".into());
    v.push(metrics.display().to_string());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}
