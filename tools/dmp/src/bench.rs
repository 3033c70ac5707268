//! `dmp bench`: the cross-process benchmark (DESIGN.md §6).
//!
//! Every workload runs between two worker processes (this executable,
//! re-run with the hidden `bench-worker` subcommand), the producer side
//! pinned to one CPU and the consumer side to another, while the parent
//! only waits. Each workload is measured three ways in the same run:
//!
//! * over a dmp ring (the library's safe API);
//! * over the floor: a minimal hand-written SPSC ring, or an atomic
//!   ping-pong, in a shared-memory file (the best this hardware does);
//! * over a Unix domain socket (what people use otherwise);
//!
//! and reported as figures plus ratios, because the machines are noisy.
//! Timing is reported, never asserted; payloads are verified.
//!
//! Multi-producer rings are compared with the single-producer ring of the
//! same run (same event size, layout, batch and capacity): one producer
//! under busy-spin and under yield, and two producers under yield (three
//! processes on what may be two cores; `--mp2-placement` says where).
//! Their events carry the producer id and its own counter, and the
//! consumer checks every producer's events arrive complete and in order.
//!
//! One event per claim/publish (`bench_one.rs`): the Rust API and the C ABI
//! against a hand-written ring that publishes and acknowledges every event
//! (rigtorp SPSCQueue style), packed rings with default options.

#[path = "bench_one.rs"]
mod one;

use crate::CmdResult;
use disruptor_mp::sys::pin_to_cpu;
use disruptor_mp::{
    Consumer, ConsumerOptions, Location, ProducerMode, Ring, RingOptions, WaitStrategy,
};
use hdrhistogram::Histogram;
use memmap2::MmapRaw;
use one::{one_consumer, one_floor_consumer, one_floor_producer, one_producer, OneRow, OneStyle};
use std::error::Error;
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub(crate) type BoxResult<T> = Result<T, Box<dyn Error>>;

/// A worker gives up when a single wait makes no progress for this long.
const STALL: Duration = Duration::from_secs(10);
/// Name the ring consumers register under.
const CONSUMER_NAME: &str = "bench";

// ---------------------------------------------------------------------------
// Command-line arguments
// ---------------------------------------------------------------------------

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Small workloads, one round: finishes in a few seconds (a smoke test).
    #[arg(long)]
    quick: bool,
    /// Events per throughput workload and round; the one-event-per-write
    /// socket moves a hundredth [default: 50000000, --quick: 2000000].
    #[arg(long)]
    events: Option<u64>,
    /// Round trips per busy-spin ping-pong and round; the socket
    /// ping-pong does a fifth, the paced ones a twentieth
    /// [default: 100000, --quick: 10000].
    #[arg(long)]
    round_trips: Option<u64>,
    /// Times the whole set of workloads runs, interleaved; each figure is
    /// the best of its rounds (noise only ever slows a run down)
    /// [default: 3, --quick: 1].
    #[arg(long)]
    rounds: Option<u32>,
    /// Events claimed and published (or written to the socket) at once.
    #[arg(long, default_value_t = 256)]
    batch: u64,
    /// Slots of the throughput rings (a power of two), records of the
    /// floor ring.
    #[arg(long, default_value_t = 4096)]
    capacity: u64,
    /// Slots of each ping-pong ring. Small, so that both rings' slots stay
    /// in L1: with 256 or more 8-byte slots per ring the round trip here
    /// grew by about 40 %.
    #[arg(long, default_value_t = 64)]
    pingpong_capacity: u64,
    /// Idle time between the round trips of the paced ping-pongs, which
    /// let both sides fall asleep and so measure wake-up latency.
    #[arg(long, default_value_t = 100)]
    gap_us: u64,
    /// CPU of the producer (and pinging) side.
    #[arg(long, default_value_t = 0)]
    producer_cpu: usize,
    /// CPU of the consumer (and echoing) side.
    #[arg(long, default_value_t = 1)]
    consumer_cpu: usize,
    /// Where the three processes of the 2-producer workloads run (two
    /// producers and a consumer on what may be two cores).
    #[arg(long, value_enum, default_value_t = Mp2Placement::Paired)]
    mp2_placement: Mp2Placement,
    /// Print the results as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Run only these groups of rows (comma-separated; default: all).
    /// Targets whose rows did not run are left out.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Group>,
}

/// A group of `dmp bench` rows, for `--only`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    /// The main throughput table (floor, dmp rings, sockets).
    Throughput,
    /// The multi-producer comparison (with the single-producer rings it
    /// compares with).
    MultiProducer,
    /// The ping-pong round trips.
    PingPong,
    /// One event per claim/publish: Rust API, C ABI, hand-written ring.
    OneEvent,
}

/// Placement of the 2-producer workloads.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mp2Placement {
    /// Both producers on the producer CPU, the consumer alone on the
    /// consumer CPU: the producers together get the one core the single
    /// producer gets, the consumer keeps its own.
    Paired,
    /// Producer 0 on the producer CPU, producer 1 on the consumer CPU with
    /// the consumer.
    Spread,
    /// Nothing pinned: the scheduler places all three.
    Unpinned,
}

/// One side of a benchmark workload.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    RingProducer,
    RingConsumer,
    FloorProducer,
    FloorConsumer,
    UdsProducer,
    UdsConsumer,
    RingPing,
    RingEcho,
    FloorPing,
    FloorEcho,
    UdsPing,
    UdsEcho,
    OneProducer,
    OneConsumer,
    OneFloorProducer,
    OneFloorConsumer,
}

impl Role {
    /// The command-line spelling (clap's kebab-case of the variant).
    fn as_str(self) -> &'static str {
        match self {
            Role::RingProducer => "ring-producer",
            Role::RingConsumer => "ring-consumer",
            Role::FloorProducer => "floor-producer",
            Role::FloorConsumer => "floor-consumer",
            Role::UdsProducer => "uds-producer",
            Role::UdsConsumer => "uds-consumer",
            Role::RingPing => "ring-ping",
            Role::RingEcho => "ring-echo",
            Role::FloorPing => "floor-ping",
            Role::FloorEcho => "floor-echo",
            Role::UdsPing => "uds-ping",
            Role::UdsEcho => "uds-echo",
            Role::OneProducer => "one-producer",
            Role::OneConsumer => "one-consumer",
            Role::OneFloorProducer => "one-floor-producer",
            Role::OneFloorConsumer => "one-floor-consumer",
        }
    }
}

/// Wait strategy of the ring workers.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strategy {
    Spin,
    Yield,
    Block,
}

impl Strategy {
    fn wait(self) -> WaitStrategy {
        match self {
            Strategy::Spin => WaitStrategy::BusySpin,
            Strategy::Yield => WaitStrategy::Yield,
            Strategy::Block => WaitStrategy::Blocking,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Strategy::Spin => "spin",
            Strategy::Yield => "yield",
            Strategy::Block => "block",
        }
    }

    /// How the tables name it.
    fn label(self) -> &'static str {
        match self {
            Strategy::Spin => "busy-spin",
            Strategy::Yield => "yield",
            Strategy::Block => "blocking",
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// Which side of which workload.
    #[arg(long, value_enum)]
    role: Role,
    /// Ring shm name (ring roles), shared-memory file or socket path.
    #[arg(long)]
    name: String,
    /// The return ring of a ring ping-pong.
    #[arg(long)]
    back: Option<String>,
    /// Events to move, or measured round trips.
    #[arg(long, default_value_t = 0)]
    events: u64,
    /// Unmeasured round trips before the measured ones.
    #[arg(long, default_value_t = 0)]
    warmup: u64,
    /// Event size in bytes.
    #[arg(long, default_value_t = 8)]
    size: usize,
    /// Events per claim / write.
    #[arg(long, default_value_t = 256)]
    batch: u64,
    /// Records in the floor ring.
    #[arg(long, default_value_t = 4096)]
    capacity: u64,
    /// Ring wait strategy.
    #[arg(long, value_enum, default_value_t = Strategy::Spin)]
    strategy: Strategy,
    /// Pause before each round trip, in microseconds.
    #[arg(long, default_value_t = 0)]
    gap_us: u64,
    /// CPU to pin this process to.
    #[arg(long)]
    cpu: Option<usize>,
    /// Ring roles: 0 for a single-producer ring; otherwise the ring is a
    /// multi-producer one fed by this many producers, each sending its
    /// share of `--events` tagged with its id, and the consumer checks
    /// every producer's events arrive in order.
    #[arg(long, default_value_t = 0)]
    producers: u32,
    /// Multi-producer ring producers: this producer's id, below
    /// `--producers`.
    #[arg(long, default_value_t = 0)]
    producer_id: u32,
    /// After reporting ready, wait for a line on stdin before starting
    /// (so that several producers start together).
    #[arg(long)]
    go: bool,
    /// Ring roles: attach the consumer as an optional one (eviction
    /// checks on its commit and wait paths), never evicted here.
    #[arg(long)]
    optional: bool,
    /// One-event ring roles: how the producer claims, writes and publishes
    /// (and which API the consumer reads through).
    #[arg(long, value_enum, default_value_t = OneStyle::RustApi)]
    style: OneStyle,
    /// One-event producers: rounds of work computed before each event.
    #[arg(long, default_value_t = 0)]
    work: u32,
}

// ---------------------------------------------------------------------------
// Events: the u64 number in the first 8 bytes, its complement in the last 8
// ---------------------------------------------------------------------------

/// An event size: fixed at compile time for the common sizes, so the copy
/// and the check are fixed-size as in a real application, or any other
/// size of at least 8 bytes at run time.
trait Size: Copy {
    fn get(self) -> usize;
    /// Writes event number `i` into `e`, which is exactly `get()` bytes.
    fn fill(self, e: &mut [u8], i: u64);
}

#[derive(Clone, Copy)]
struct Fixed<const N: usize>;

impl<const N: usize> Size for Fixed<N> {
    #[inline(always)]
    fn get(self) -> usize {
        N
    }

    #[inline(always)]
    fn fill(self, e: &mut [u8], i: u64) {
        // Built in registers and stored whole: a fixed-size copy, not a
        // memset call.
        let mut event = [0xa5u8; N];
        event[..8].copy_from_slice(&i.to_le_bytes());
        if N >= 16 {
            event[N - 8..].copy_from_slice(&(!i).to_le_bytes());
        }
        e.copy_from_slice(&event);
    }
}

#[derive(Clone, Copy)]
struct Dynamic(usize);

impl Size for Dynamic {
    #[inline(always)]
    fn get(self) -> usize {
        self.0
    }

    #[inline(always)]
    fn fill(self, e: &mut [u8], i: u64) {
        let n = e.len();
        e.fill(0xa5);
        e[..8].copy_from_slice(&i.to_le_bytes());
        if n >= 16 {
            e[n - 8..].copy_from_slice(&(!i).to_le_bytes());
        }
    }
}

/// Calls `$f(args.., size)` with the event size as a [`Size`].
macro_rules! with_event_size {
    ($size:expr, $f:ident($($arg:expr),*)) => {
        match $size {
            8 => $f($($arg,)* Fixed::<8>),
            16 => $f($($arg,)* Fixed::<16>),
            32 => $f($($arg,)* Fixed::<32>),
            64 => $f($($arg,)* Fixed::<64>),
            128 => $f($($arg,)* Fixed::<128>),
            256 => $f($($arg,)* Fixed::<256>),
            n if supported_size(n) => $f($($arg,)* Dynamic(n)),
            n => Err(format!(
                "event size {n}: must be at least 8 bytes (the event number) and at most {MAX_EVENT} bytes"
            )
            .into()),
        }
    };
}

/// Largest event size the benchmark moves (the ring's slot-size limit).
const MAX_EVENT: usize = 1 << 20;

/// Whether the benchmark can move events of `size` bytes.
pub(crate) fn supported_size(size: usize) -> bool {
    (8..=MAX_EVENT).contains(&size)
}

/// Writes event number `i` into the first `size` bytes of `dst`.
#[inline(always)]
fn write_event<S: Size>(dst: &mut [u8], size: S, i: u64) -> BoxResult<()> {
    let n = size.get();
    let len = dst.len();
    let Some(e) = dst.get_mut(..n) else {
        return Err(too_small(len, n));
    };
    size.fill(e, i);
    Ok(())
}

#[cold]
fn too_small(slot: usize, event: usize) -> Box<dyn Error> {
    format!("a {slot}-byte slot cannot hold a {event}-byte event").into()
}

#[inline(always)]
fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let mut w = [0u8; 8];
    w.copy_from_slice(bytes.get(at..at + 8)?);
    Some(u64::from_le_bytes(w))
}

/// Whether `bytes` hold event number `i` (first and last 8 bytes).
#[inline(always)]
fn holds<S: Size>(bytes: &[u8], size: S, i: u64) -> bool {
    let n = size.get();
    u64_at(bytes, 0) == Some(i) && (n < 16 || u64_at(bytes, n - 8) == Some(!i))
}

/// Checks that `bytes` hold event number `i` (first and last 8 bytes).
#[inline(always)]
fn check<S: Size>(bytes: &[u8], size: S, i: u64) -> BoxResult<()> {
    if holds(bytes, size, i) {
        Ok(())
    } else {
        Err(bad_event(bytes, i))
    }
}

#[cold]
fn bad_event(bytes: &[u8], i: u64) -> Box<dyn Error> {
    format!(
        "payload check failed at event {i}: found number {:?} (and trailer {:?})",
        u64_at(bytes, 0),
        bytes
            .len()
            .checked_sub(8)
            .and_then(|at| u64_at(bytes, at))
            .map(|t| !t)
    )
    .into()
}

// ---------------------------------------------------------------------------
// Multi-producer events: the producer id in the top byte of the number,
// that producer's own counter below it
// ---------------------------------------------------------------------------

/// Bit position of the producer id in a multi-producer event number.
const ID_SHIFT: u32 = 56;

/// The events producer `id` of `producers` sends out of `events` in all
/// (the first ones take the remainder).
fn share(events: u64, producers: u32, id: u32) -> u64 {
    let p = u64::from(producers.max(1));
    events / p + u64::from(u64::from(id) < events % p)
}

/// The consumer's check of a multi-producer ring: every event comes from a
/// known producer and carries that producer's next counter value. A claim
/// is a run of consecutive sequences, so events mostly arrive in runs from
/// one producer: each event is compared with the successor of the one
/// before (as in the single-producer check), and only a change of producer
/// looks the producer up.
struct PerProducer {
    /// Next event number expected from each producer.
    next: Vec<u64>,
    /// The producer of the previous event and its next event number.
    id: usize,
    cur: u64,
}

impl PerProducer {
    fn new(producers: u32) -> PerProducer {
        PerProducer {
            next: (0..u64::from(producers)).map(|i| i << ID_SHIFT).collect(),
            id: 0,
            cur: 0,
        }
    }

    /// Checks a batch of events, in sequence order. The expected number
    /// stays in a register for the whole batch.
    #[inline(always)]
    fn check<'a, S: Size>(
        &mut self,
        events: impl Iterator<Item = BoxResult<&'a [u8]>>,
        size: S,
    ) -> BoxResult<()> {
        let mut cur = self.cur;
        for bytes in events {
            let bytes = bytes?;
            if !holds(bytes, size, cur) {
                self.cur = cur;
                self.switch(bytes, size)?;
                cur = self.cur;
            }
            cur += 1;
        }
        self.cur = cur;
        Ok(())
    }

    /// The event is not the successor of the previous one: it must be the
    /// next one of another producer.
    #[cold]
    #[inline(never)]
    fn switch<S: Size>(&mut self, bytes: &[u8], size: S) -> BoxResult<()> {
        let found = u64_at(bytes, 0).ok_or("event shorter than 8 bytes")?;
        let id = (found >> ID_SHIFT) as usize;
        if id >= self.next.len() || id == self.id {
            let who = if id == self.id {
                format!("producer {id}: out of order")
            } else {
                format!("unknown producer {id}")
            };
            return Err(format!(
                "{who}: found event {}, expected {} from producer {}",
                found & ((1 << ID_SHIFT) - 1),
                self.cur & ((1 << ID_SHIFT) - 1),
                self.id
            )
            .into());
        }
        self.next[self.id] = self.cur;
        self.id = id;
        self.cur = self.next[id];
        if holds(bytes, size, self.cur) {
            return Ok(());
        }
        let e = bad_event(bytes, self.cur & ((1 << ID_SHIFT) - 1));
        Err(format!("producer {id}: {e}").into())
    }

    /// Checks that every producer's events all arrived.
    fn finish(mut self, events: u64) -> BoxResult<()> {
        self.next[self.id] = self.cur;
        let producers = self.next.len() as u32;
        for (id, next) in self.next.iter().enumerate() {
            let got = next & ((1 << ID_SHIFT) - 1);
            let want = share(events, producers, id as u32);
            if got != want {
                return Err(format!("producer {id}: received {got} of its {want} events").into());
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Worker plumbing
// ---------------------------------------------------------------------------

/// Tells the parent this worker is attached and waiting.
fn ready() -> BoxResult<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    Ok(())
}

/// With `--go`: waits for the parent's go line (sent once every worker of
/// the workload is ready).
fn await_go(a: &WorkerArgs) -> BoxResult<()> {
    if a.go {
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            return Err("the parent closed stdin before saying go".into());
        }
    }
    Ok(())
}

/// Reports the worker's figures to the parent: `result k=v k=v ...`.
fn report(fields: &[(&str, f64)]) -> BoxResult<()> {
    let mut line = String::from("result");
    for (k, v) in fields {
        line.push_str(&format!(" {k}={v}"));
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

/// Spins (`pause`) until `ready` yields a value, for at most [`STALL`]
/// without one. The clock is read only every 1024 polls, so a short wait
/// costs no clock read.
#[inline(always)]
fn spin_until<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> BoxResult<T> {
    let mut polls: u32 = 0;
    let mut since: Option<Instant> = None;
    loop {
        if let Some(v) = ready() {
            return Ok(v);
        }
        std::hint::spin_loop();
        polls = polls.wrapping_add(1);
        if polls % 1024 == 0 {
            let now = Instant::now();
            if now.duration_since(*since.get_or_insert(now)) > STALL {
                return Err(stalled(what));
            }
        }
    }
}

#[cold]
fn stalled(what: &str) -> Box<dyn Error> {
    format!("no progress for {} s waiting for {what}", STALL.as_secs()).into()
}

/// Wraps a library wait error with the worker's context.
fn waiting(what: &'static str) -> impl Fn(disruptor_mp::Error) -> Box<dyn Error> {
    move |e| format!("waiting for {what}: {e}").into()
}

fn nanos(d: Duration) -> f64 {
    d.as_nanos() as f64
}

/// Runs one side of a workload (the hidden `bench-worker` subcommand).
pub fn worker(a: &WorkerArgs) -> CmdResult {
    if let Some(cpu) = a.cpu {
        if let Err(e) = pin_to_cpu(cpu) {
            eprintln!(
                "bench-worker {}: cannot pin to CPU {cpu} ({e}); running unpinned",
                a.role.as_str()
            );
        }
    }
    if a.events == 0 {
        return Err(format!("{}: --events must be at least 1", a.role.as_str()).into());
    }
    let r = match a.role {
        Role::RingProducer => with_event_size!(a.size, ring_producer(a)),
        Role::RingConsumer => with_event_size!(a.size, ring_consumer(a)),
        Role::FloorProducer => with_event_size!(a.size, floor_producer(a)),
        Role::FloorConsumer => with_event_size!(a.size, floor_consumer(a)),
        Role::UdsProducer => with_event_size!(a.size, uds_producer(a)),
        Role::UdsConsumer => with_event_size!(a.size, uds_consumer(a)),
        Role::RingPing => ring_ping(a),
        Role::RingEcho => ring_echo(a),
        Role::FloorPing => floor_ping(a),
        Role::FloorEcho => floor_echo(a),
        Role::UdsPing => uds_ping(a),
        Role::UdsEcho => uds_echo(a),
        Role::OneProducer => with_event_size!(a.size, one_producer(a)),
        Role::OneConsumer => with_event_size!(a.size, one_consumer(a)),
        Role::OneFloorProducer => with_event_size!(a.size, one_floor_producer(a)),
        Role::OneFloorConsumer => with_event_size!(a.size, one_floor_consumer(a)),
    };
    r.map_err(|e| format!("bench-worker {}: {e}", a.role.as_str()).into())
}

/// Consumer-side bookkeeping of a throughput run: the rate is measured from
/// the first batch received to the last event, over the events after the
/// first batch, so process start-up is not counted.
struct Receipt {
    first_batch: u64,
    first_at: Option<Instant>,
    batches: u64,
}

impl Receipt {
    fn new() -> Receipt {
        Receipt {
            first_batch: 0,
            first_at: None,
            batches: 0,
        }
    }

    #[inline(always)]
    fn batch(&mut self, n: u64) {
        self.batches += 1;
        if self.first_at.is_none() {
            self.first_at = Some(Instant::now());
            self.first_batch = n;
        }
    }

    fn report(&self, events: u64) -> BoxResult<()> {
        let span = self.first_at.map(|t| t.elapsed()).unwrap_or_default();
        report(&[
            ("events", events as f64),
            ("first_batch", self.first_batch as f64),
            ("span_ns", nanos(span)),
            ("batches", self.batches as f64),
        ])
    }
}

// ---------------------------------------------------------------------------
// Workers: dmp ring
// ---------------------------------------------------------------------------

/// The worker's consumer: required, or optional with `--optional` (a
/// policy so long that the run never evicts it; what is measured is the
/// cost of the checks).
fn bench_consumer(ring: &Ring, a: &WorkerArgs) -> BoxResult<Consumer> {
    let mut o = ConsumerOptions::new().strategy(a.strategy.wait());
    if a.optional {
        o = o.optional(Duration::from_secs(3600));
    }
    Ok(ring.consumer_with(CONSUMER_NAME, &o)?)
}

fn open_ring(name: &str, size: usize) -> BoxResult<Ring> {
    Ok(Ring::open(
        &Location::shm(name),
        &RingOptions::new().slot_size(size as u64),
    )?)
}

/// The throughput ring of a worker: single-producer unless `--producers`
/// says otherwise (checked against the segment).
fn open_throughput_ring(a: &WorkerArgs, size: usize) -> BoxResult<Ring> {
    let mode = if a.producers == 0 {
        ProducerMode::Single
    } else {
        ProducerMode::Multi
    };
    Ok(Ring::open(
        &Location::shm(&a.name),
        &RingOptions::new()
            .slot_size(size as u64)
            .producer_mode(mode),
    )?)
}

fn ring_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let ring = open_throughput_ring(a, size.get())?;
    let mut p = ring.producer(a.strategy.wait())?;
    let packed = ring.is_packed();
    // Single-producer rings: event numbers 0, 1, ...; multi-producer ones:
    // the producer id on top of its own counter.
    let (tag, events) = if a.producers == 0 {
        (0, a.events)
    } else if a.producer_id < a.producers {
        (
            u64::from(a.producer_id) << ID_SHIFT,
            share(a.events, a.producers, a.producer_id),
        )
    } else {
        return Err(format!(
            "--producer-id {} must be below --producers {}",
            a.producer_id, a.producers
        )
        .into());
    };
    if events >= 1 << ID_SHIFT {
        return Err(format!("{events} events do not fit the event numbering").into());
    }
    ready()?;
    await_go(a)?;
    let batch = a.batch.clamp(1, ring.capacity());
    let start = Instant::now();
    let mut i = 0u64;
    while i < events {
        let n = batch.min(events - i);
        let first = p.claim(n, STALL).map_err(waiting("free slots"))?;
        let last = first + n as i64 - 1;
        let number = tag | i;
        if packed {
            // One range check per batch: the slots as contiguous slices.
            let stride = p.stride();
            let (a, b) = p.slots_mut(first, last)?;
            let events = a.chunks_exact_mut(stride).chain(b.chunks_exact_mut(stride));
            for (k, slot) in events.enumerate() {
                write_event(slot, size, number + k as u64)?;
            }
        } else {
            for k in 0..n {
                write_event(p.slot_mut(first + k as i64)?, size, number + k)?;
            }
        }
        p.publish(first, last)?;
        i += n;
    }
    report(&[
        ("events", events as f64),
        ("span_ns", nanos(start.elapsed())),
    ])
}

fn ring_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    if a.producers > 0 {
        return ring_mp_consumer(a, size);
    }
    let ring = open_throughput_ring(a, size.get())?;
    let mut c = bench_consumer(&ring, a)?;
    let packed = ring.is_packed();
    ready()?;
    let base = c.next_sequence();
    let last = base + a.events as i64 - 1;
    let mut next = base;
    let mut receipt = Receipt::new();
    while next <= last {
        let available = c.wait_for(next, STALL).map_err(waiting("events"))?;
        if available > last {
            return Err(format!(
                "received more than the {} events published (sequence {available})",
                a.events
            )
            .into());
        }
        receipt.batch((available - next + 1) as u64);
        if packed {
            // One range check per batch: the slots as contiguous slices.
            let stride = c.stride();
            let (a, b) = c.slots(next, available)?;
            let events = a.chunks_exact(stride).chain(b.chunks_exact(stride));
            for (k, slot) in events.enumerate() {
                check(slot, size, (next - base) as u64 + k as u64)?;
            }
        } else {
            for seq in next..=available {
                check(c.slot(seq)?, size, (seq - base) as u64)?;
            }
        }
        c.commit(available)?;
        next = available + 1;
    }
    receipt.report(a.events)
}

/// The consumer of a multi-producer ring: as `ring_consumer`, checking
/// every event against its producer's counter instead of its sequence.
fn ring_mp_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let ring = open_throughput_ring(a, size.get())?;
    let mut c = bench_consumer(&ring, a)?;
    let packed = ring.is_packed();
    let mut verify = PerProducer::new(a.producers);
    ready()?;
    let base = c.next_sequence();
    let last = base + a.events as i64 - 1;
    let mut next = base;
    let mut receipt = Receipt::new();
    while next <= last {
        let available = c.wait_for(next, STALL).map_err(waiting("events"))?;
        if available > last {
            return Err(format!(
                "received more than the {} events published (sequence {available})",
                a.events
            )
            .into());
        }
        receipt.batch((available - next + 1) as u64);
        if packed {
            let stride = c.stride();
            let (a, b) = c.slots(next, available)?;
            let events = a.chunks_exact(stride).chain(b.chunks_exact(stride));
            verify.check(events.map(Ok), size)?;
        } else {
            let events = (next..=available).map(|seq| Ok(c.slot(seq)?));
            verify.check(events, size)?;
        }
        c.commit(available)?;
        next = available + 1;
    }
    verify.finish(a.events)?;
    receipt.report(a.events)
}

fn ring_ping(a: &WorkerArgs) -> BoxResult<()> {
    let back = a
        .back
        .as_deref()
        .ok_or("--back (the return ring) is missing")?;
    let to_echo = open_ring(&a.name, 8)?;
    let from_echo = open_ring(back, 8)?;
    let mut c = bench_consumer(&from_echo, a)?;
    let mut p = to_echo.producer(a.strategy.wait())?;
    ready()?;
    let gap = Duration::from_micros(a.gap_us);
    let mut hist = histogram()?;
    for i in 0..a.warmup + a.events {
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
        let t = Instant::now();
        p.send(&i, STALL).map_err(waiting("a free slot"))?;
        let seq = c.next_sequence();
        c.wait_for(seq, STALL).map_err(waiting("the echo"))?;
        let got: u64 = c.read(seq)?;
        c.commit(seq)?;
        let rtt = t.elapsed();
        if got != i {
            return Err(format!("round trip {i}: echo carried {got}").into());
        }
        if i >= a.warmup {
            hist.saturating_record(rtt.as_nanos() as u64);
        }
    }
    report_latency(&hist)
}

fn ring_echo(a: &WorkerArgs) -> BoxResult<()> {
    let back = a
        .back
        .as_deref()
        .ok_or("--back (the return ring) is missing")?;
    let from_ping = open_ring(&a.name, 8)?;
    let to_ping = open_ring(back, 8)?;
    let mut c = bench_consumer(&from_ping, a)?;
    let mut p = to_ping.producer(a.strategy.wait())?;
    ready()?;
    for i in 0..a.warmup + a.events {
        let seq = c.next_sequence();
        c.wait_for(seq, STALL).map_err(waiting("a ping"))?;
        let got: u64 = c.read(seq)?;
        p.send(&got, STALL).map_err(waiting("a free slot"))?;
        c.commit(seq)?;
        if got != i {
            return Err(format!("round trip {i}: ping carried {got}").into());
        }
    }
    report(&[("events", (a.warmup + a.events) as f64)])
}

fn histogram() -> BoxResult<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000_000, 3)?)
}

fn report_latency(h: &Histogram<u64>) -> BoxResult<()> {
    report(&[
        ("count", h.len() as f64),
        ("p50", h.value_at_quantile(0.5) as f64),
        ("p99", h.value_at_quantile(0.99) as f64),
        ("p999", h.value_at_quantile(0.999) as f64),
        ("max", h.max() as f64),
        ("mean", h.mean()),
    ])
}

// ---------------------------------------------------------------------------
// Workers: the floor (raw shared memory)
// ---------------------------------------------------------------------------

/// Offset of the floor ring's producer index (its own 128-byte block).
const FLOOR_HEAD: usize = 0;
/// Offset of the floor ring's consumer index (its own 128-byte block).
const FLOOR_TAIL: usize = 128;
/// Offset of the floor ring's records.
const FLOOR_DATA: usize = 256;
/// Offsets of the ping-pong counters, each on its own 128-byte block.
const PING: usize = 0;
const PONG: usize = 128;
const PING_PONG_LEN: usize = 256;

fn floor_ring_len(capacity: u64, size: usize) -> BoxResult<usize> {
    usize::try_from(capacity)
        .ok()
        .and_then(|c| c.checked_mul(size))
        .and_then(|d| d.checked_add(FLOOR_DATA))
        .ok_or_else(|| "floor ring too large".into())
}

/// A shared-memory file mapped read-write by a floor worker.
struct ShmFile {
    map: MmapRaw,
}

impl ShmFile {
    /// Creates the file (exclusively, mode 0600) with `len` zero bytes.
    fn create(path: &Path, len: usize) -> BoxResult<()> {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("creating {}: {e}", path.display()))?;
        // Write (rather than truncate to) the length, so the pages exist
        // before the workers touch them, as the ring's do.
        f.write_all(&vec![0u8; len])?;
        Ok(())
    }

    fn open(path: &Path, len: usize) -> BoxResult<ShmFile> {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| format!("opening {}: {e}", path.display()))?;
        let found = f.metadata()?.len();
        if found != len as u64 {
            return Err(format!("{}: {found} bytes, expected {len}", path.display()).into());
        }
        let map = MmapRaw::map_raw(&f)?;
        Ok(ShmFile { map })
    }

    /// The 8-byte atomic at `offset`.
    fn atomic(&self, offset: usize) -> BoxResult<&AtomicU64> {
        if offset % 8 != 0 || offset + 8 > self.map.len() {
            return Err(format!("offset {offset} is outside the mapping").into());
        }
        // SAFETY: the word lies inside the live mapping (checked above),
        // which `self` keeps mapped for the returned lifetime; it is 8-byte
        // aligned (page-aligned base, offset a multiple of 8); every process
        // accesses it only atomically.
        Ok(unsafe { &*self.map.as_mut_ptr().add(offset).cast::<AtomicU64>() })
    }

    /// The record array of a floor ring of `capacity` records of `size`
    /// bytes.
    fn records<S: Size>(&self, capacity: u64, size: S) -> BoxResult<Records<'_, S>> {
        if !capacity.is_power_of_two() || floor_ring_len(capacity, size.get())? != self.map.len() {
            return Err("floor ring layout mismatch".into());
        }
        Ok(Records {
            // SAFETY: FLOOR_DATA < len (checked above): in bounds.
            base: unsafe { self.map.as_mut_ptr().add(FLOOR_DATA) },
            mask: capacity - 1,
            size,
            _map: std::marker::PhantomData,
        })
    }
}

/// The records of a floor ring: `mask + 1` records of `size` bytes.
struct Records<'a, S: Size> {
    base: *mut u8,
    mask: u64,
    size: S,
    _map: std::marker::PhantomData<&'a MmapRaw>,
}

impl<S: Size> Records<'_, S> {
    /// Record `i`, for writing. The producer owns it: `i` is below
    /// `tail + capacity` and at or above the published head.
    #[inline(always)]
    fn record_mut(&mut self, i: u64) -> &mut [u8] {
        let n = self.size.get();
        let at = (i & self.mask) as usize * n;
        // SAFETY: `at + n` lies inside the record array (index masked to the
        // capacity, array checked against the mapping in `records`); the
        // SPSC protocol gives the producer exclusive use of unpublished
        // records, and `&mut self` ends the borrow before the head moves.
        unsafe { std::slice::from_raw_parts_mut(self.base.add(at), n) }
    }

    /// Record `i`, which is published and not yet released by the consumer.
    #[inline(always)]
    fn record(&self, i: u64) -> &[u8] {
        let n = self.size.get();
        let at = (i & self.mask) as usize * n;
        // SAFETY: in bounds as in `record_mut`; the producer does not write
        // a published record until the consumer's tail passes it, and the
        // borrow ends before the tail is stored.
        unsafe { std::slice::from_raw_parts(self.base.add(at), n) }
    }
}

fn floor_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let shm = ShmFile::open(Path::new(&a.name), floor_ring_len(a.capacity, size.get())?)?;
    let (head, tail) = (shm.atomic(FLOOR_HEAD)?, shm.atomic(FLOOR_TAIL)?);
    let mut records = shm.records(a.capacity, size)?;
    ready()?;
    let batch = a.batch.clamp(1, a.capacity);
    let start = Instant::now();
    let mut i = 0u64;
    let mut cached_tail = 0u64;
    while i < a.events {
        let n = batch.min(a.events - i);
        if i + n - cached_tail > a.capacity {
            cached_tail = spin_until("free records", || {
                let t = tail.load(Ordering::Acquire);
                (i + n - t <= a.capacity).then_some(t)
            })?;
        }
        for k in i..i + n {
            write_event(records.record_mut(k), size, k)?;
        }
        i += n;
        head.store(i, Ordering::Release);
    }
    report(&[
        ("events", a.events as f64),
        ("span_ns", nanos(start.elapsed())),
    ])
}

fn floor_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let shm = ShmFile::open(Path::new(&a.name), floor_ring_len(a.capacity, size.get())?)?;
    let (head, tail) = (shm.atomic(FLOOR_HEAD)?, shm.atomic(FLOOR_TAIL)?);
    let records = shm.records(a.capacity, size)?;
    ready()?;
    let mut i = 0u64;
    let mut receipt = Receipt::new();
    while i < a.events {
        let available = spin_until("records", || {
            let h = head.load(Ordering::Acquire);
            (h > i).then_some(h)
        })?;
        if available > a.events {
            return Err(format!("received more than the {} events published", a.events).into());
        }
        receipt.batch(available - i);
        for k in i..available {
            check(records.record(k), size, k)?;
        }
        i = available;
        tail.store(i, Ordering::Release);
    }
    receipt.report(a.events)
}

fn floor_ping(a: &WorkerArgs) -> BoxResult<()> {
    let shm = ShmFile::open(Path::new(&a.name), PING_PONG_LEN)?;
    let (ping, pong) = (shm.atomic(PING)?, shm.atomic(PONG)?);
    ready()?;
    let gap = Duration::from_micros(a.gap_us);
    let mut hist = histogram()?;
    for i in 1..=a.warmup + a.events {
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
        let t = Instant::now();
        ping.store(i, Ordering::Release);
        spin_until("the echo", || {
            (pong.load(Ordering::Acquire) == i).then_some(())
        })?;
        let rtt = t.elapsed();
        if i > a.warmup {
            hist.saturating_record(rtt.as_nanos() as u64);
        }
    }
    report_latency(&hist)
}

fn floor_echo(a: &WorkerArgs) -> BoxResult<()> {
    let shm = ShmFile::open(Path::new(&a.name), PING_PONG_LEN)?;
    let (ping, pong) = (shm.atomic(PING)?, shm.atomic(PONG)?);
    ready()?;
    for i in 1..=a.warmup + a.events {
        spin_until("a ping", || {
            (ping.load(Ordering::Acquire) == i).then_some(())
        })?;
        pong.store(i, Ordering::Release);
    }
    report(&[("events", (a.warmup + a.events) as f64)])
}

// ---------------------------------------------------------------------------
// Workers: Unix domain socket
// ---------------------------------------------------------------------------

/// Binds the socket, reports ready, accepts one connection (bounded wait)
/// and removes the socket's name, which is no longer needed.
fn uds_accept(path: &str) -> BoxResult<UnixStream> {
    let listener = UnixListener::bind(path).map_err(|e| format!("binding {path}: {e}"))?;
    listener.set_nonblocking(true)?;
    ready()?;
    let start = Instant::now();
    let stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if start.elapsed() > STALL {
                    return Err(stalled("a connection"));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e.into()),
        }
    };
    let _ = std::fs::remove_file(path);
    uds_configure(stream)
}

fn uds_connect(path: &str) -> BoxResult<UnixStream> {
    let stream = UnixStream::connect(path).map_err(|e| format!("connecting to {path}: {e}"))?;
    ready()?;
    uds_configure(stream)
}

fn uds_configure(stream: UnixStream) -> BoxResult<UnixStream> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(STALL))?;
    stream.set_write_timeout(Some(STALL))?;
    Ok(stream)
}

fn io_context(what: &'static str) -> impl Fn(std::io::Error) -> Box<dyn Error> {
    move |e| {
        if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
            stalled(what)
        } else {
            format!("{what}: {e}").into()
        }
    }
}

fn uds_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let n_bytes = size.get();
    let mut s = uds_connect(&a.name)?;
    let batch = a.batch.max(1);
    let mut buf = vec![0u8; batch as usize * n_bytes];
    let start = Instant::now();
    let mut i = 0u64;
    while i < a.events {
        let n = batch.min(a.events - i);
        for (k, chunk) in buf.chunks_exact_mut(n_bytes).take(n as usize).enumerate() {
            write_event(chunk, size, i + k as u64)?;
        }
        s.write_all(&buf[..n as usize * n_bytes])
            .map_err(io_context("writing"))?;
        i += n;
    }
    s.shutdown(std::net::Shutdown::Write)?;
    report(&[
        ("events", a.events as f64),
        ("span_ns", nanos(start.elapsed())),
    ])
}

fn uds_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let n_bytes = size.get();
    let mut s = uds_accept(&a.name)?;
    let mut buf = vec![0u8; (256 * 1024 / n_bytes).max(1) * n_bytes];
    let mut filled = 0usize;
    let mut i = 0u64;
    let mut receipt = Receipt::new();
    while i < a.events {
        let got = s.read(&mut buf[filled..]).map_err(io_context("reading"))?;
        if got == 0 {
            return Err(format!("connection closed after {i} of {} events", a.events).into());
        }
        filled += got;
        let whole = filled / n_bytes;
        if whole == 0 {
            continue;
        }
        if i + whole as u64 > a.events {
            return Err(format!("received more than the {} events sent", a.events).into());
        }
        receipt.batch(whole as u64);
        for rec in buf[..whole * n_bytes].chunks_exact(n_bytes) {
            check(rec, size, i)?;
            i += 1;
        }
        buf.copy_within(whole * n_bytes..filled, 0);
        filled -= whole * n_bytes;
    }
    if filled != 0 || s.read(&mut buf).map_err(io_context("reading"))? != 0 {
        return Err(format!("received more than the {} events sent", a.events).into());
    }
    receipt.report(a.events)
}

fn uds_ping(a: &WorkerArgs) -> BoxResult<()> {
    let mut s = uds_connect(&a.name)?;
    let gap = Duration::from_micros(a.gap_us);
    let mut hist = histogram()?;
    let mut back = [0u8; 8];
    for i in 0..a.warmup + a.events {
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
        let t = Instant::now();
        s.write_all(&i.to_le_bytes())
            .map_err(io_context("writing"))?;
        s.read_exact(&mut back).map_err(io_context("the echo"))?;
        let rtt = t.elapsed();
        if u64::from_le_bytes(back) != i {
            return Err(
                format!("round trip {i}: echo carried {}", u64::from_le_bytes(back)).into(),
            );
        }
        if i >= a.warmup {
            hist.saturating_record(rtt.as_nanos() as u64);
        }
    }
    report_latency(&hist)
}

fn uds_echo(a: &WorkerArgs) -> BoxResult<()> {
    let mut s = uds_accept(&a.name)?;
    let mut msg = [0u8; 8];
    for i in 0..a.warmup + a.events {
        s.read_exact(&mut msg).map_err(io_context("a ping"))?;
        s.write_all(&msg).map_err(io_context("writing"))?;
        if u64::from_le_bytes(msg) != i {
            return Err(format!("round trip {i}: ping carried {}", u64::from_le_bytes(msg)).into());
        }
    }
    report(&[("events", (a.warmup + a.events) as f64)])
}

// ---------------------------------------------------------------------------
// Parent: spawning workers, cleaning up
// ---------------------------------------------------------------------------

/// Names this process creates: unique per process and per workload.
fn unique(kind: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "dmp-{kind}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Removes every ring, file and socket it was given when dropped, also
/// when the workload failed.
#[derive(Default)]
pub(crate) struct Cleanup {
    rings: Vec<Location>,
    files: Vec<PathBuf>,
}

impl Cleanup {
    /// Creates a ring and takes charge of removing it.
    pub(crate) fn ring(&mut self, name: &str, options: &RingOptions) -> BoxResult<()> {
        let loc = Location::shm(name);
        Ring::create(&loc, options)?;
        self.rings.push(loc);
        Ok(())
    }

    /// Creates a zeroed shared-memory file and takes charge of removing it.
    fn shm_file(&mut self, path: &Path, len: usize) -> BoxResult<()> {
        ShmFile::create(path, len)?;
        self.files.push(path.into());
        Ok(())
    }

    /// Takes charge of removing `path` (a socket a worker will bind).
    fn path(&mut self, path: &Path) {
        self.files.push(path.into());
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for loc in &self.rings {
            if let Err(e) = Ring::unlink(loc) {
                eprintln!("bench: could not remove ring {loc}: {e}");
            }
        }
        for path in &self.files {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => eprintln!("bench: could not remove {}: {e}", path.display()),
            }
        }
    }
}

/// A running worker process. Dropping it before `finish` kills it.
struct Worker {
    role: Role,
    child: Child,
    out: BufReader<ChildStdout>,
    /// The worker's stdin, when it waits for a go line (`--go`).
    go: Option<ChildStdin>,
    finished: bool,
}

/// What a worker reported.
pub(crate) struct Fields(Vec<(String, f64)>);

impl Fields {
    fn get(&self, key: &str) -> BoxResult<f64> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("worker did not report {key}").into())
    }
}

impl Worker {
    fn spawn(role: Role, cpu: usize, args: &[String]) -> BoxResult<Worker> {
        Worker::start(role, Some(cpu), false, args)
    }

    /// Starts a worker pinned to `cpu` (or left to the scheduler); with
    /// `go`, it waits for [`Worker::go`] after reporting ready.
    fn start(role: Role, cpu: Option<usize>, go: bool, args: &[String]) -> BoxResult<Worker> {
        let exe = std::env::current_exe()?;
        let mut cmd = Command::new(exe);
        cmd.arg("bench-worker").args(["--role", role.as_str()]);
        if let Some(cpu) = cpu {
            cmd.args(["--cpu", &cpu.to_string()]);
        }
        if go {
            cmd.arg("--go");
        }
        let mut child = cmd
            .args(args)
            .stdin(if go { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {} worker: {e}", role.as_str()))?;
        let go = child.stdin.take();
        let Some(out) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("worker stdout not captured".into());
        };
        Ok(Worker {
            role,
            child,
            out: BufReader::new(out),
            go,
            finished: false,
        })
    }

    /// Tells a worker started with `go` to start.
    fn go(&mut self) -> BoxResult<()> {
        let Some(mut stdin) = self.go.take() else {
            return Err(format!("{} worker does not wait for go", self.role.as_str()).into());
        };
        writeln!(stdin, "go").map_err(|e| format!("{} worker: {e}", self.role.as_str()))?;
        Ok(())
    }

    fn read_line(&mut self) -> BoxResult<Option<String>> {
        let mut line = String::new();
        if self.out.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(line.trim_end().to_string()))
    }

    /// Blocks until the worker reports that it is attached.
    fn ready(&mut self) -> BoxResult<()> {
        match self.read_line()? {
            Some(l) if l == "ready" => Ok(()),
            Some(l) => Err(format!("{} worker said {l:?}", self.role.as_str()).into()),
            None => Err(self.failed()),
        }
    }

    #[cold]
    fn failed(&mut self) -> Box<dyn Error> {
        self.finished = true;
        match self.child.wait() {
            Ok(s) => format!("{} worker failed ({s})", self.role.as_str()).into(),
            Err(e) => format!("{} worker: {e}", self.role.as_str()).into(),
        }
    }

    /// Waits for the worker to exit and returns its result line.
    fn finish(mut self) -> BoxResult<Fields> {
        let mut result = None;
        while let Some(line) = self.read_line()? {
            if let Some(rest) = line.strip_prefix("result") {
                let mut fields = Vec::new();
                for kv in rest.split_whitespace() {
                    let (k, v) = kv.split_once('=').ok_or("malformed worker result")?;
                    fields.push((k.to_string(), v.parse::<f64>()?));
                }
                result = Some(Fields(fields));
            }
        }
        self.finished = true;
        let status = self.child.wait()?;
        if !status.success() {
            return Err(format!("{} worker failed ({status})", self.role.as_str()).into());
        }
        result.ok_or_else(|| format!("{} worker reported nothing", self.role.as_str()).into())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs a workload: `first` (the consumer or echo side) is started and
/// attached before `second` (the producer or pinging side). The parent
/// only blocks on the workers' pipes and exits.
fn run_pair(
    plan: &Plan,
    first: Role,
    second: Role,
    args: &[String],
) -> BoxResult<(Fields, Fields)> {
    let mut a = Worker::spawn(first, plan.consumer_cpu, args)?;
    a.ready()?;
    let b = Worker::spawn(second, plan.producer_cpu, args)?;
    // If the second side fails, dropping `a` kills the first.
    let fb = b.finish()?;
    let fa = a.finish()?;
    Ok((fa, fb))
}

/// Runs a throughput workload with several producers: the consumer is
/// started and attached first, then every producer; once all are attached
/// they are told to start together. Returns the consumer's and each
/// producer's report.
fn run_group(
    placement: &Placement,
    consumer: Role,
    producer: Role,
    args: &[String],
) -> BoxResult<(Fields, Vec<Fields>)> {
    let mut c = Worker::start(consumer, placement.consumer, false, args)?;
    c.ready()?;
    let mut producers = Vec::new();
    for (id, cpu) in placement.producers.iter().enumerate() {
        let mut args = args.to_vec();
        args.extend(["--producer-id".into(), id.to_string()]);
        let mut p = Worker::start(producer, *cpu, true, &args)?;
        p.ready()?;
        producers.push(p);
    }
    // Dropping the workers on an error kills every one still running.
    for p in &mut producers {
        p.go()?;
    }
    let mut reports = Vec::new();
    for p in producers {
        reports.push(p.finish()?);
    }
    Ok((c.finish()?, reports))
}

// ---------------------------------------------------------------------------
// Parent: workloads
// ---------------------------------------------------------------------------

/// Parameters shared by every workload of a run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub batch: u64,
    pub capacity: u64,
    pub pingpong_capacity: u64,
    pub producer_cpu: usize,
    pub consumer_cpu: usize,
}

/// What carries the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// A dmp ring, busy-spin, created without wake-ups.
    Dmp,
    /// The same with the packed layout (no stamps, 8-byte stride).
    DmpPacked,
    /// The hand-written SPSC ring.
    Floor,
    /// A Unix domain socket.
    Uds,
}

/// A measured event rate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Throughput {
    pub events: u64,
    pub size: usize,
    pub events_per_sec: f64,
    /// Events per batch the consumer received, on average.
    pub avg_batch: f64,
}

impl Throughput {
    pub(crate) fn mb_per_sec(&self) -> f64 {
        self.events_per_sec * self.size as f64 / 1e6
    }
}

/// Moves `events` events of `size` bytes from a producer process to a
/// consumer process, which verifies every one.
pub(crate) fn throughput(
    plan: &Plan,
    transport: Transport,
    size: usize,
    events: u64,
) -> BoxResult<Throughput> {
    if !supported_size(size) {
        return Err(format!("event size {size}: must lie in [8, {MAX_EVENT}] bytes").into());
    }
    let mut cleanup = Cleanup::default();
    let (first, second, name) = match transport {
        Transport::Dmp | Transport::DmpPacked => {
            let name = unique("bench");
            cleanup.ring(
                &name,
                &RingOptions::new()
                    .capacity(plan.capacity)
                    .slot_size(size as u64)
                    .packed(transport == Transport::DmpPacked)
                    .wakeups(false),
            )?;
            (Role::RingConsumer, Role::RingProducer, name)
        }
        Transport::Floor => {
            let path = Path::new("/dev/shm").join(unique("bench-floor"));
            cleanup.shm_file(&path, floor_ring_len(plan.capacity, size)?)?;
            (
                Role::FloorConsumer,
                Role::FloorProducer,
                path.display().to_string(),
            )
        }
        Transport::Uds => {
            let path = std::env::temp_dir().join(format!("{}.sock", unique("bench")));
            cleanup.path(&path);
            (
                Role::UdsConsumer,
                Role::UdsProducer,
                path.display().to_string(),
            )
        }
    };
    let args = vec![
        "--name".into(),
        name,
        "--events".into(),
        events.to_string(),
        "--size".into(),
        size.to_string(),
        "--batch".into(),
        plan.batch.to_string(),
        "--capacity".into(),
        plan.capacity.to_string(),
    ];
    let (consumer, producer) = run_pair(plan, first, second, &args)?;
    let sent = producer.get("events")? as u64;
    let received = consumer.get("events")? as u64;
    if sent != events || received != events {
        return Err(format!(
            "{transport:?}: asked for {events} events, producer sent {sent}, consumer verified {received}"
        )
        .into());
    }
    received_rate(&consumer, events, size)
}

/// The rate a throughput consumer measured: from its first batch to the
/// last event, over the events after the first batch.
fn received_rate(consumer: &Fields, events: u64, size: usize) -> BoxResult<Throughput> {
    let after_first = events.saturating_sub(consumer.get("first_batch")? as u64);
    let span = consumer.get("span_ns")?;
    let events_per_sec = if after_first == 0 || span <= 0.0 {
        f64::NAN
    } else {
        after_first as f64 * 1e9 / span
    };
    let batches = consumer.get("batches")?;
    Ok(Throughput {
        events,
        size,
        events_per_sec,
        avg_batch: if batches > 0.0 {
            events as f64 / batches
        } else {
            f64::NAN
        },
    })
}

/// Where the processes of a ring throughput workload run (`None`:
/// wherever the scheduler puts them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placement {
    pub producers: Vec<Option<usize>>,
    pub consumer: Option<usize>,
}

impl Placement {
    /// `P:0,0 C:1`: the producers' CPUs, then the consumer's; `*` is
    /// unpinned.
    fn label(&self) -> String {
        let cpu = |c: &Option<usize>| c.map_or_else(|| "*".to_string(), |c| c.to_string());
        let producers: Vec<String> = self.producers.iter().map(cpu).collect();
        format!("P:{} C:{}", producers.join(","), cpu(&self.consumer))
    }

    fn json(&self) -> String {
        let cpu = |c: &Option<usize>| c.map_or_else(|| "null".to_string(), |c| c.to_string());
        let producers: Vec<String> = self.producers.iter().map(cpu).collect();
        format!(
            "\"producer_cpus\":[{}],\"consumer_cpu\":{}",
            producers.join(","),
            cpu(&self.consumer)
        )
    }
}

/// Moves `events` events of `size` bytes through a ring (stamped or
/// packed, without wake-ups) from `producers` producer processes (0: one
/// producer of a single-producer ring) to one consumer process, which
/// verifies every event: in sequence order for a single producer, in each
/// producer's own order for a multi-producer ring.
pub(crate) fn ring_throughput(
    plan: &Plan,
    spec: &MpSpec,
    placement: &Placement,
    events: u64,
) -> BoxResult<Throughput> {
    let size = spec.size;
    if !supported_size(size) {
        return Err(format!("event size {size}: must lie in [8, {MAX_EVENT}] bytes").into());
    }
    if placement.producers.len() != spec.producers.max(1) as usize {
        return Err("placement does not match the producer count".into());
    }
    let mut cleanup = Cleanup::default();
    let name = unique("bench-mp");
    let mut options = RingOptions::new()
        .capacity(plan.capacity)
        .slot_size(size as u64)
        .packed(spec.packed)
        .wakeups(false);
    if spec.producers > 0 {
        // A live producer never holds a claim this long; a worker gives
        // up after the same time without progress anyway.
        options = options
            .producer_mode(ProducerMode::Multi)
            .max_producers(spec.producers)
            .unblock_timeout(STALL);
    }
    options = options.hot_counters(spec.counters);
    cleanup.ring(&name, &options)?;
    let args = vec![
        "--name".into(),
        name,
        "--events".into(),
        events.to_string(),
        "--size".into(),
        size.to_string(),
        "--batch".into(),
        plan.batch.to_string(),
        "--capacity".into(),
        plan.capacity.to_string(),
        "--strategy".into(),
        spec.strategy.as_str().into(),
        "--producers".into(),
        spec.producers.to_string(),
    ];
    let mut args = args;
    if spec.optional {
        args.push("--optional".into());
    }
    let (consumer, producers) =
        run_group(placement, Role::RingConsumer, Role::RingProducer, &args)?;
    let mut sent = 0u64;
    for p in &producers {
        sent += p.get("events")? as u64;
    }
    let received = consumer.get("events")? as u64;
    if sent != events || received != events {
        return Err(format!(
            "asked for {events} events, producers sent {sent}, consumer verified {received}"
        )
        .into());
    }
    received_rate(&consumer, events, size)
}

/// Which ping-pong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PingPong {
    /// Two dmp rings, busy-spin, without wake-ups.
    DmpSpin,
    /// The same with optional consumers (liveness checks on).
    DmpSpinOptional,
    /// The same with the packed layout.
    DmpPackedSpin,
    /// Two dmp rings, blocking strategy (futex), with wake-ups.
    DmpBlocking,
    /// Two atomic counters in shared memory.
    Floor,
    /// 8-byte messages over a Unix stream socket.
    Uds,
}

/// Round-trip latency percentiles, in nanoseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Latency {
    pub count: u64,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

/// Measures `round_trips` round trips of an 8-byte event between two
/// processes, after `warmup` unmeasured ones, pausing `gap` before each.
pub(crate) fn ping_pong(
    plan: &Plan,
    kind: PingPong,
    round_trips: u64,
    warmup: u64,
    gap: Duration,
) -> BoxResult<Latency> {
    let mut cleanup = Cleanup::default();
    let mut args: Vec<String> = Vec::new();
    let (first, second) = match kind {
        PingPong::DmpSpin
        | PingPong::DmpSpinOptional
        | PingPong::DmpPackedSpin
        | PingPong::DmpBlocking => {
            let blocking = kind == PingPong::DmpBlocking;
            let options = RingOptions::new()
                .capacity(plan.pingpong_capacity)
                .slot_size(8)
                .packed(kind == PingPong::DmpPackedSpin)
                .wakeups(blocking);
            let (to_echo, to_ping) = (unique("bench-ping"), unique("bench-pong"));
            cleanup.ring(&to_echo, &options)?;
            cleanup.ring(&to_ping, &options)?;
            let strategy = if blocking {
                Strategy::Block
            } else {
                Strategy::Spin
            };
            args.extend([
                "--name".into(),
                to_echo,
                "--back".into(),
                to_ping,
                "--strategy".into(),
                strategy.as_str().into(),
            ]);
            if kind == PingPong::DmpSpinOptional {
                args.push("--optional".into());
            }
            (Role::RingEcho, Role::RingPing)
        }
        PingPong::Floor => {
            let path = Path::new("/dev/shm").join(unique("bench-pingpong"));
            cleanup.shm_file(&path, PING_PONG_LEN)?;
            args.extend(["--name".into(), path.display().to_string()]);
            (Role::FloorEcho, Role::FloorPing)
        }
        PingPong::Uds => {
            let path = std::env::temp_dir().join(format!("{}.sock", unique("bench")));
            cleanup.path(&path);
            args.extend(["--name".into(), path.display().to_string()]);
            (Role::UdsEcho, Role::UdsPing)
        }
    };
    args.extend([
        "--events".into(),
        round_trips.to_string(),
        "--warmup".into(),
        warmup.to_string(),
        "--gap-us".into(),
        gap.as_micros().to_string(),
    ]);
    let (_, ping) = run_pair(plan, first, second, &args)?;
    let count = ping.get("count")? as u64;
    if count != round_trips {
        return Err(format!("{kind:?}: measured {count} of {round_trips} round trips").into());
    }
    Ok(Latency {
        count,
        p50: ping.get("p50")?,
        p99: ping.get("p99")?,
        p999: ping.get("p999")?,
        max: ping.get("max")?,
        mean: ping.get("mean")?,
    })
}

// ---------------------------------------------------------------------------
// Parent: the `dmp bench` command
// ---------------------------------------------------------------------------

/// Prints a progress line to stderr around a workload.
pub(crate) fn step<T>(
    prefix: &str,
    what: &str,
    f: impl FnOnce() -> BoxResult<T>,
    summary: impl Fn(&T) -> String,
) -> BoxResult<T> {
    eprintln!("{prefix}: {what} ...");
    let start = Instant::now();
    let r = f().map_err(|e| format!("{what}: {e}"))?;
    eprintln!(
        "{prefix}: {what} ... done in {:.1} s ({})",
        start.elapsed().as_secs_f64(),
        summary(&r)
    );
    Ok(r)
}

pub(crate) fn fmt_rate(events_per_sec: f64) -> String {
    if !events_per_sec.is_finite() {
        "n/a".into()
    } else if events_per_sec >= 1e6 {
        format!("{:.1} M ev/s", events_per_sec / 1e6)
    } else {
        format!("{:.1} k ev/s", events_per_sec / 1e3)
    }
}

pub(crate) fn fmt_ns(ns: f64) -> String {
    if !ns.is_finite() {
        "n/a".into()
    } else if ns < 10_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 10_000_000.0 {
        format!("{:.1} us", ns / 1e3)
    } else {
        format!("{:.1} ms", ns / 1e6)
    }
}

fn fmt_ratio(r: f64) -> String {
    if !r.is_finite() {
        "n/a".into()
    } else if r < 0.095 {
        format!("{r:.3}x")
    } else if r < 100.0 {
        format!("{r:.2}x")
    } else {
        format!("{r:.0}x")
    }
}

fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "null".into()
    }
}

/// A throughput workload of a run.
struct TpSpec {
    size: usize,
    transport: Transport,
    /// The socket variant that writes one event per system call.
    one_per_write: bool,
    label: &'static str,
    key: &'static str,
}

/// A throughput workload and its rounds; the best round counts.
struct TpRow {
    spec: TpSpec,
    rounds: Vec<Throughput>,
}

impl TpRow {
    fn best(&self) -> Option<&Throughput> {
        self.rounds
            .iter()
            .filter(|t| t.events_per_sec.is_finite())
            .max_by(|a, b| a.events_per_sec.total_cmp(&b.events_per_sec))
    }

    fn rate(&self) -> f64 {
        self.best().map_or(f64::NAN, |t| t.events_per_sec)
    }
}

/// A ring throughput workload of the multi-producer comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MpSpec {
    pub size: usize,
    pub packed: bool,
    /// Producer processes of a multi-producer ring; 0: the single producer
    /// of a single-producer ring.
    pub producers: u32,
    pub strategy: Strategy,
    /// Per-participant hot-path counters (events, batches, waits) on; off
    /// measures what they cost.
    pub counters: bool,
    /// An optional consumer (liveness: eviction checks on its paths)
    /// instead of a required one.
    pub optional: bool,
}

impl MpSpec {
    fn layout(&self) -> &'static str {
        if self.packed {
            "packed"
        } else {
            "stamped"
        }
    }

    fn label(&self) -> String {
        let ring = match self.producers {
            0 => "single-producer ring".to_string(),
            1 => "multi-producer, 1 producer".to_string(),
            n => format!("multi-producer, {n} producers"),
        };
        let off = if self.counters { "" } else { ", no counters" };
        let opt = if self.optional { ", optional" } else { "" };
        format!("{:>2}B {}, {ring}{off}{opt}", self.size, self.layout())
    }

    /// The single-producer workload this one is compared with.
    fn single(&self) -> MpSpec {
        MpSpec {
            producers: 0,
            ..*self
        }
    }

    /// The same workload with the hot-path counters on.
    fn counted(&self) -> MpSpec {
        MpSpec {
            counters: true,
            ..*self
        }
    }

    /// The same workload with a required consumer.
    fn required(&self) -> MpSpec {
        MpSpec {
            optional: false,
            ..*self
        }
    }

    /// The row of the main throughput table that measures this workload
    /// already (the busy-spin single-producer rings).
    fn measured_as(&self) -> Option<&'static str> {
        match (self.producers, self.strategy) {
            _ if !self.counters || self.optional => None,
            (0, Strategy::Spin) if self.packed => Some("dmp_packed"),
            (0, Strategy::Spin) => Some("dmp"),
            _ => None,
        }
    }
}

/// A multi-producer comparison row, where it ran, and its rounds.
struct MpRow {
    spec: MpSpec,
    placement: Placement,
    rounds: Vec<Throughput>,
}

impl MpRow {
    fn best(&self) -> Option<&Throughput> {
        self.rounds
            .iter()
            .filter(|t| t.events_per_sec.is_finite())
            .max_by(|a, b| a.events_per_sec.total_cmp(&b.events_per_sec))
    }

    fn rate(&self) -> f64 {
        self.best().map_or(f64::NAN, |t| t.events_per_sec)
    }
}

/// The multi-producer comparison: for 64-byte stamped and 8-byte packed
/// events, the single-producer ring and a multi-producer ring with one
/// producer under busy-spin (the single-producer figure is the main
/// table's), the same two under yield, and a multi-producer ring with two
/// producers under yield: three busy processes on two cores would spin
/// against each other, yield lets the one that cannot proceed give its
/// core away. Last, the busy-spin single-producer rings once more with the
/// hot-path counters off, which the main table's (counters on) are
/// compared with.
fn mp_rows(plan: &Plan, two: Mp2Placement) -> Vec<MpRow> {
    let pair = Placement {
        producers: vec![Some(plan.producer_cpu)],
        consumer: Some(plan.consumer_cpu),
    };
    let three = match two {
        Mp2Placement::Paired => Placement {
            producers: vec![Some(plan.producer_cpu), Some(plan.producer_cpu)],
            consumer: Some(plan.consumer_cpu),
        },
        Mp2Placement::Spread => Placement {
            producers: vec![Some(plan.producer_cpu), Some(plan.consumer_cpu)],
            consumer: Some(plan.consumer_cpu),
        },
        Mp2Placement::Unpinned => Placement {
            producers: vec![None, None],
            consumer: None,
        },
    };
    let mut rows = Vec::new();
    for (size, packed) in [(64usize, false), (8, true)] {
        for (producers, strategy, counters, optional) in [
            (0, Strategy::Spin, true, false),
            (1, Strategy::Spin, true, false),
            (0, Strategy::Yield, true, false),
            (1, Strategy::Yield, true, false),
            (2, Strategy::Yield, true, false),
            (0, Strategy::Spin, false, false),
            (0, Strategy::Spin, true, true),
        ] {
            rows.push(MpRow {
                spec: MpSpec {
                    size,
                    packed,
                    producers,
                    strategy,
                    counters,
                    optional,
                },
                placement: if producers == 2 {
                    three.clone()
                } else {
                    pair.clone()
                },
                rounds: Vec::new(),
            });
        }
    }
    rows
}

/// A ping-pong workload of a run; `base` keys the row its p50 is compared
/// with.
struct PpSpec {
    kind: PingPong,
    paced: bool,
    label: &'static str,
    key: &'static str,
    base: &'static str,
}

/// A ping-pong workload and its rounds; the round with the lowest p50
/// counts.
struct PpRow {
    spec: PpSpec,
    rounds: Vec<Latency>,
}

impl PpRow {
    fn best(&self) -> Option<&Latency> {
        self.rounds.iter().min_by(|a, b| a.p50.total_cmp(&b.p50))
    }

    fn p50(&self) -> f64 {
        self.best().map_or(f64::NAN, |l| l.p50)
    }
}

/// A ratio the project targets.
struct Target {
    label: String,
    key: String,
    value: f64,
    goal: &'static str,
    met: bool,
}

/// Everything one `dmp bench` run measured.
struct Results {
    plan: Plan,
    events: u64,
    round_trips: u64,
    rounds: u32,
    gap_us: u64,
    elapsed: Duration,
    tp: Vec<TpRow>,
    mp: Vec<MpRow>,
    pp: Vec<PpRow>,
    /// One event per claim/publish (`bench_one.rs`).
    one: Vec<OneRow>,
    targets: Vec<Target>,
}

impl Results {
    fn rate(&self, size: usize, key: &str) -> f64 {
        self.tp
            .iter()
            .find(|r| r.spec.size == size && r.spec.key == key)
            .map_or(f64::NAN, TpRow::rate)
    }

    fn mp_rate(&self, spec: &MpSpec) -> f64 {
        self.mp
            .iter()
            .find(|r| r.spec == *spec)
            .map_or(f64::NAN, MpRow::rate)
    }

    /// A multi-producer comparison row's rate over its single-producer
    /// counterpart's (same size, layout, wait strategy and counters).
    fn vs_single(&self, spec: &MpSpec) -> f64 {
        self.mp_rate(spec) / self.mp_rate(&spec.single())
    }

    /// The rate with the hot-path counters on over the rate without them
    /// (same workload otherwise).
    fn counters_on_off(&self, spec: &MpSpec) -> f64 {
        self.mp_rate(&spec.counted()) / self.mp_rate(spec)
    }

    /// The rate with an optional consumer (liveness checks on) over the
    /// rate with a required one.
    fn optional_vs_required(&self, spec: &MpSpec) -> f64 {
        self.mp_rate(spec) / self.mp_rate(&spec.required())
    }

    /// The same ratio round by round.
    fn rounds_counters_on_off(&self, spec: &MpSpec) -> Vec<f64> {
        let on = self.rounds_of(&spec.counted());
        on.iter()
            .zip(self.rounds_of(spec))
            .map(|(on, off)| on / off)
            .collect()
    }

    fn rounds_of(&self, spec: &MpSpec) -> Vec<f64> {
        self.mp
            .iter()
            .find(|r| r.spec == *spec)
            .map(|r| r.rounds.iter().map(|t| t.events_per_sec).collect())
            .unwrap_or_default()
    }

    /// The same ratio round by round (each round against the single-producer
    /// figure of the same round), which shows when the machine changed
    /// speed between rounds.
    fn rounds_vs_single(&self, spec: &MpSpec) -> Vec<f64> {
        let single = self.rounds_of(&spec.single());
        self.rounds_of(spec)
            .iter()
            .zip(single)
            .map(|(mp, sp)| mp / sp)
            .collect()
    }

    /// A one-event row's rate.
    fn one_rate(&self, spec: one::OneSpec) -> f64 {
        one::one_rate(&self.one, spec)
    }

    /// A one-event row's rate over the hand-written one-event ring's.
    fn one_vs_hand_written(&self, spec: one::OneSpec) -> f64 {
        self.one_rate(spec) / self.one_rate(spec.hand_written())
    }

    /// The same, round by round.
    fn one_rounds_vs_hand_written(&self, spec: one::OneSpec) -> Vec<f64> {
        let base = one::one_rounds(&self.one, spec.hand_written());
        one::one_rounds(&self.one, spec)
            .iter()
            .zip(base)
            .map(|(v, b)| v / b)
            .collect()
    }

    fn p50(&self, key: &str) -> f64 {
        self.pp
            .iter()
            .find(|r| r.spec.key == key)
            .map_or(f64::NAN, PpRow::p50)
    }
}

fn throughput_specs() -> Vec<TpSpec> {
    let mut specs = Vec::new();
    for size in [8usize, 64] {
        for (transport, one_per_write, label, key) in [
            (Transport::Floor, false, "floor SPSC ring", "floor"),
            (Transport::Dmp, false, "dmp ring", "dmp"),
            (
                Transport::DmpPacked,
                false,
                "dmp ring, packed",
                "dmp_packed",
            ),
            (Transport::Uds, false, "unix socket, batched", "uds"),
            (Transport::Uds, true, "unix socket, 1 per write", "uds1"),
        ] {
            specs.push(TpSpec {
                size,
                transport,
                one_per_write,
                label,
                key,
            });
        }
    }
    specs
}

fn ping_pong_specs() -> Vec<PpSpec> {
    let spec = |kind, paced, label, key, base| PpSpec {
        kind,
        paced,
        label,
        key,
        base,
    };
    vec![
        spec(
            PingPong::Floor,
            false,
            "floor atomic ping-pong",
            "floor",
            "floor",
        ),
        spec(
            PingPong::DmpSpin,
            false,
            "dmp ring, busy-spin",
            "dmp_spin",
            "floor",
        ),
        spec(
            PingPong::DmpSpinOptional,
            false,
            "dmp ring, busy-spin, optional",
            "dmp_spin_optional",
            "floor",
        ),
        spec(
            PingPong::DmpPackedSpin,
            false,
            "dmp ring, packed, busy-spin",
            "dmp_packed_spin",
            "floor",
        ),
        spec(PingPong::Uds, false, "unix socket", "uds", "floor"),
        spec(
            PingPong::DmpBlocking,
            false,
            "dmp ring, blocking, back-to-back",
            "dmp_blocking",
            "uds",
        ),
        spec(
            PingPong::Uds,
            true,
            "unix socket, paced",
            "uds_paced",
            "floor",
        ),
        spec(
            PingPong::DmpBlocking,
            true,
            "dmp ring, blocking, paced",
            "dmp_blocking_paced",
            "uds_paced",
        ),
    ]
}

pub fn run(a: &BenchArgs) -> CmdResult {
    let events = a
        .events
        .unwrap_or(if a.quick { 2_000_000 } else { 50_000_000 });
    let round_trips = a
        .round_trips
        .unwrap_or(if a.quick { 10_000 } else { 100_000 });
    let rounds = a.rounds.unwrap_or(if a.quick { 1 } else { 3 });
    if events == 0 || round_trips == 0 || rounds == 0 {
        return Err("--events, --round-trips and --rounds must be at least 1".into());
    }
    if !a.capacity.is_power_of_two() || a.capacity < 2 {
        return Err(format!("--capacity {} must be a power of two >= 2", a.capacity).into());
    }
    if a.batch == 0 || a.batch > a.capacity {
        return Err(format!("--batch {} must lie in [1, capacity]", a.batch).into());
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus < 2 || a.producer_cpu == a.consumer_cpu {
        eprintln!(
            "bench: warning: producer and consumer share a CPU ({cpus} available); busy-spin figures will be meaningless"
        );
    }
    if !a.pingpong_capacity.is_power_of_two() {
        return Err(format!(
            "--pingpong-capacity {} must be a power of two",
            a.pingpong_capacity
        )
        .into());
    }
    let plan = Plan {
        batch: a.batch,
        capacity: a.capacity,
        pingpong_capacity: a.pingpong_capacity,
        producer_cpu: a.producer_cpu,
        consumer_cpu: a.consumer_cpu,
    };
    let one_per_write = Plan {
        batch: 1,
        ..plan.clone()
    };
    let gap = Duration::from_micros(a.gap_us);
    let runs = |g: Group| a.only.is_empty() || a.only.contains(&g);
    let started = Instant::now();

    let mut tp: Vec<TpRow> = throughput_specs()
        .into_iter()
        .filter(|_| runs(Group::Throughput))
        .map(|spec| TpRow {
            spec,
            rounds: Vec::new(),
        })
        .collect();
    let mut mp = if runs(Group::MultiProducer) {
        mp_rows(&plan, a.mp2_placement)
    } else {
        Vec::new()
    };
    // Without the main table, the multi-producer comparison measures its
    // single-producer busy-spin rings itself.
    let tp_ran = runs(Group::Throughput);
    let mut pp: Vec<PpRow> = ping_pong_specs()
        .into_iter()
        .filter(|_| runs(Group::PingPong))
        .map(|spec| PpRow {
            spec,
            rounds: Vec::new(),
        })
        .collect();
    let mut one_rows = if runs(Group::OneEvent) {
        one::one_rows()
    } else {
        Vec::new()
    };

    // Every round runs every workload, so drift of the machine (other
    // load, vCPUs moving on the host) hits all of them alike.
    for round in 1..=rounds {
        let tag = if rounds > 1 {
            format!("[{round}/{rounds}] ")
        } else {
            String::new()
        };
        for row in &mut tp {
            let s = &row.spec;
            let (p, n) = if s.one_per_write {
                (&one_per_write, (events / 100).max(1000))
            } else {
                (&plan, events)
            };
            let what = format!("{tag}throughput {}B {}, {n} events", s.size, s.label);
            let r = step(
                "bench",
                &what,
                || throughput(p, s.transport, s.size, n),
                |r| fmt_rate(r.events_per_sec),
            )?;
            row.rounds.push(r);
        }
        for row in &mut one_rows {
            let s = row.spec;
            let what = format!(
                "{tag}one per claim/publish {}B {}, {events} events",
                s.size,
                s.label()
            );
            let r = step(
                "bench",
                &what,
                || one::one_throughput(&plan, s, events),
                |r| fmt_rate(r.events_per_sec),
            )?;
            row.rounds.push(r);
        }
        for row in &mut mp {
            if tp_ran && row.spec.measured_as().is_some() {
                continue;
            }
            let s = &row.spec;
            let what = format!(
                "{tag}throughput {}, {}, {}, {events} events",
                s.label(),
                s.strategy.label(),
                row.placement.label()
            );
            let r = step(
                "bench",
                &what,
                || ring_throughput(&plan, s, &row.placement, events),
                |r| fmt_rate(r.events_per_sec),
            )?;
            row.rounds.push(r);
        }
        for row in &mut pp {
            let s = &row.spec;
            let (n, g) = match (s.kind, s.paced) {
                (_, true) => ((round_trips / 20).max(10), gap),
                (PingPong::Uds, false) => ((round_trips / 5).max(10), Duration::ZERO),
                _ => (round_trips, Duration::ZERO),
            };
            let warmup = if s.paced {
                (n / 10).min(100)
            } else {
                (n / 10).min(10_000)
            };
            let what = format!("{tag}ping-pong {}, {n} round trips", s.label);
            let r = step(
                "bench",
                &what,
                || ping_pong(&plan, s.kind, n, warmup, g),
                |r| format!("p50 {}", fmt_ns(r.p50)),
            )?;
            row.rounds.push(r);
        }
    }

    // The busy-spin single-producer rings are the main table's rows: the
    // same figure, printed again beside the multi-producer ones.
    for row in mp.iter_mut().filter(|_| tp_ran) {
        if let Some(key) = row.spec.measured_as() {
            let size = row.spec.size;
            if let Some(t) = tp.iter().find(|t| t.spec.size == size && t.spec.key == key) {
                row.rounds = t.rounds.clone();
            }
        }
    }

    let mut results = Results {
        plan,
        events,
        round_trips,
        rounds,
        gap_us: a.gap_us,
        elapsed: started.elapsed(),
        tp,
        mp,
        pp,
        one: one_rows,
        targets: Vec::new(),
    };
    results.targets = targets(&results);
    if !a.only.is_empty() {
        results.targets.retain(|t| t.value.is_finite());
    }
    if a.json {
        println!("{}", json(&results));
    } else {
        print_table(&results);
    }
    Ok(())
}

fn targets(r: &Results) -> Vec<Target> {
    let mut t = Vec::new();
    let mut add = |label: String, key: String, value: f64, goal: &'static str, met: bool| {
        t.push(Target {
            label,
            key,
            value,
            goal,
            met: value.is_finite() && met,
        })
    };
    for size in [8usize, 64] {
        for (key, layout) in [("dmp", "stamped"), ("dmp_packed", "packed")] {
            let v = r.rate(size, key) / r.rate(size, "floor");
            add(
                format!("dmp/floor throughput {size}B ({layout})"),
                format!("{key}_floor_throughput_{size}"),
                v,
                ">= 0.9",
                v >= 0.9,
            );
        }
    }
    for size in [8usize, 64] {
        // The better dmp layout for this size against either socket use.
        let dmp = r.rate(size, "dmp").max(r.rate(size, "dmp_packed"));
        let v = dmp / r.rate(size, "uds");
        add(
            format!("dmp/UDS throughput {size}B (batched)"),
            format!("dmp_uds_throughput_{size}"),
            v,
            ">= 20",
            v >= 20.0,
        );
        let v = dmp / r.rate(size, "uds1");
        add(
            format!("dmp/UDS throughput {size}B (1/write)"),
            format!("dmp_uds1_throughput_{size}"),
            v,
            ">= 20",
            v >= 20.0,
        );
    }
    for row in r.mp.iter().filter(|m| m.spec.producers == 1) {
        let s = &row.spec;
        let v = r.vs_single(s);
        add(
            format!(
                "MP-1/SP throughput {}B {} ({})",
                s.size,
                s.layout(),
                s.strategy.as_str()
            ),
            format!(
                "mp1_sp_throughput_{}_{}_{}",
                s.size,
                s.layout(),
                s.strategy.as_str()
            ),
            v,
            ">= 0.7",
            v >= 0.7,
        );
    }
    for row in r.mp.iter().filter(|m| m.spec.optional) {
        let s = &row.spec;
        let v = r.optional_vs_required(s);
        add(
            format!("optional/required tput {}B {}", s.size, s.layout()),
            format!("optional_required_throughput_{}_{}", s.size, s.layout()),
            v,
            ">= 0.97",
            v >= 0.97,
        );
    }
    let v = r.p50("dmp_spin") / r.p50("dmp_spin_optional");
    add(
        "required/optional ping-pong p50".into(),
        "required_optional_pingpong_p50".into(),
        v,
        ">= 0.97",
        v >= 0.97,
    );
    for row in r.mp.iter().filter(|m| !m.spec.counters) {
        let s = &row.spec;
        let v = r.counters_on_off(s);
        add(
            format!("counters on/off throughput {}B {}", s.size, s.layout()),
            format!("counters_on_off_throughput_{}_{}", s.size, s.layout()),
            v,
            ">= 0.97",
            v >= 0.97,
        );
    }
    for (key, layout) in [("dmp_spin", "stamped"), ("dmp_packed_spin", "packed")] {
        let v = r.p50(key) / r.p50("floor");
        add(
            format!("dmp/floor ping-pong p50 ({layout})"),
            format!("{key}_floor_pingpong_p50"),
            v,
            "<= 1.2",
            v <= 1.2,
        );
    }
    for row in &r.one {
        let (s, Some(base)) = (row.spec, row.spec.base()) else {
            continue;
        };
        let one::OneKind::Ring(style) = s.kind else {
            continue;
        };
        let (i, size) = (style.info(), s.size);
        let (work, work_key) = match s.work {
            0 => (String::new(), String::new()),
            w => (format!(", work {w}"), format!("_work_{w}")),
        };
        let v = r.one_rate(s) / r.one_rate(base);
        add(
            format!("one-event {}/{} {size}B{work}", i.short, i.base.short()),
            format!(
                "one_event_{}_vs_{}_{size}{work_key}",
                i.snake,
                i.base.snake()
            ),
            v,
            i.goal,
            v >= i.at_least,
        );
    }
    let v = r.p50("dmp_blocking_paced") / r.p50("uds_paced");
    add(
        "blocking/UDS RTT p50 (paced)".into(),
        "blocking_uds_rtt_p50_paced".into(),
        v,
        "<= 1.0",
        v <= 1.0,
    );
    let v = r.p50("dmp_blocking") / r.p50("uds");
    add(
        "blocking/UDS RTT p50 (b2b)".into(),
        "blocking_uds_rtt_p50".into(),
        v,
        "<= 1.0",
        v <= 1.0,
    );
    t
}

fn print_table(r: &Results) {
    let p = &r.plan;
    println!(
        "disruptor-mp cross-process benchmark: producer/ping side on CPU {}, consumer/echo side on CPU {}",
        p.producer_cpu, p.consumer_cpu
    );
    println!(
        "throughput: {} events per workload (UDS 1/write: {}), batches of {}, capacity {}, busy-spin, payloads verified",
        r.events,
        (r.events / 100).max(1000),
        p.batch,
        p.capacity
    );
    println!(
        "ping-pong: {} round trips (UDS {}, paced {} at {} us intervals), rings of {} slots; best of {} round(s); {:.1} s in all",
        r.round_trips,
        (r.round_trips / 5).max(10),
        (r.round_trips / 20).max(10),
        r.gap_us,
        p.pingpong_capacity,
        r.rounds,
        r.elapsed.as_secs_f64()
    );
    if r.tp.iter().any(|x| !x.rounds.is_empty()) {
        println!();
        println!(
            "{:<38} {:>14} {:>8} {:>9} {:>9} {:>9}",
            "workload", "result", "MB/s", "vs floor", "vs UDS", "ev/batch"
        );
        for row in &r.tp {
            let s = &row.spec;
            let rate = row.rate();
            println!(
                "{:<38} {:>14} {:>8} {:>9} {:>9} {:>9}",
                format!("throughput {:>2}B {}", s.size, s.label),
                fmt_rate(rate),
                row.best()
                    .map(Throughput::mb_per_sec)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "n/a".to_string(), |v| format!("{v:.0}")),
                fmt_ratio(rate / r.rate(s.size, "floor")),
                fmt_ratio(rate / r.rate(s.size, "uds")),
                row.best()
                    .map(|t| t.avg_batch)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}")),
            );
        }
    }
    if r.mp.iter().any(|x| !x.rounds.is_empty()) {
        println!();
        println!(
        "multi-producer throughput: 1 consumer, {} events per workload (in all, split evenly between the producers), batches of {}, capacity {};",
        r.events, p.batch, p.capacity
    );
        println!(
        "each event carries its producer's id and counter, checked in order per producer; \"vs SP\" is against the single-producer ring"
    );
        println!(
        "with the same event size, layout and wait strategy (the busy-spin ones are the table above). Placement: CPUs of the"
    );
        println!(
        "producer(s) (P) and the consumer (C). Three processes on two cores use yield: busy-spin would hold a core that another needs."
    );
        println!(
        "The \"no counters\" rows turn the per-participant hot-path counters off (RingOptions::hot_counters(false)); the targets"
    );
        println!("compare the main table's rings (counters on) with them. The \"optional\" rows attach an optional consumer (its commit");
        println!(
            "and wait paths check for eviction), compared with the main table's required one."
        );
        println!();
        println!(
            "{:<46} {:<9} {:<10} {:>14} {:>8} {:>7} {:>9}",
            "workload", "wait", "placement", "result", "MB/s", "vs SP", "ev/batch"
        );
        for row in &r.mp {
            let s = &row.spec;
            println!(
                "{:<46} {:<9} {:<10} {:>14} {:>8} {:>7} {:>9}",
                s.label(),
                s.strategy.label(),
                row.placement.label(),
                fmt_rate(row.rate()),
                row.best()
                    .map(Throughput::mb_per_sec)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "n/a".to_string(), |v| format!("{v:.0}")),
                if s.counters && !s.optional {
                    fmt_ratio(r.vs_single(s))
                } else {
                    "-".to_string()
                },
                row.best()
                    .map(|t| t.avg_batch)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}")),
            );
        }
    }
    if r.pp.iter().any(|x| !x.rounds.is_empty()) {
        println!();
        println!(
            "{:<38} {:>9} {:>9} {:>9} {:>9} {:>9}  p50 vs",
            "ping-pong round trip, 8B", "p50", "p99", "p99.9", "max", "mean"
        );
        for row in &r.pp {
            let Some(l) = row.best() else { continue };
            let base = if row.spec.base == "floor" {
                "floor"
            } else {
                "UDS"
            };
            println!(
                "{:<38} {:>9} {:>9} {:>9} {:>9} {:>9}  {} {base}",
                row.spec.label,
                fmt_ns(l.p50),
                fmt_ns(l.p99),
                fmt_ns(l.p999),
                fmt_ns(l.max),
                fmt_ns(l.mean),
                fmt_ratio(l.p50 / r.p50(row.spec.base)),
            );
        }
    }
    if r.one.iter().any(|x| !x.rounds.is_empty()) {
        println!();
        println!(
        "one event per claim/publish: {} events per workload, packed rings of {} slots with default RingOptions (wake-ups and",
        r.events, p.capacity
    );
        println!(
        "hot counters on), busy-spin, P:{} C:{}, payloads verified; \"vs hand-written\" is against a hand-written SPSC ring",
        p.producer_cpu, p.consumer_cpu
    );
        println!(
        "(rigtorp SPSCQueue style) that publishes and acknowledges every event, same size, same run. The C ABI row calls the"
    );
        println!(
        "exported dmp_* functions from the Rust worker: it measures their own work (handle and null checks, panic boundary)."
    );
        println!(
        "ev/batch: events per wait of the consumer (hand-written ring: per reload of the write index). Near 1, the consumer keeps"
    );
        println!(
        "up and every event crosses between the cores on its own; in the thousands, the producer runs about a ring ahead. Rates"
    );
        println!("of either ring swing between the two regimes from run to run: look at every round (--json) before trusting one figure.");
        println!(
            "\"work {}/event\": the producer computes {} rounds of xorshift before each event, as a producer that decodes or builds",
            one::WORK_ROUNDS,
            one::WORK_ROUNDS
        );
        println!(
            "its events does; without it the hand-written producer does nothing but two stores per event, which holds it a ring ahead."
        );
        println!();
        println!(
            "{:<68} {:>14} {:>8} {:>15} {:>9}",
            "workload", "result", "MB/s", "vs hand-written", "ev/batch"
        );
        for row in &r.one {
            let s = &row.spec;
            println!(
                "{:<68} {:>14} {:>8} {:>15} {:>9}",
                format!("{:>2}B {}", s.size, s.label()),
                fmt_rate(row.rate()),
                row.best()
                    .map(Throughput::mb_per_sec)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "n/a".to_string(), |v| format!("{v:.0}")),
                fmt_ratio(r.one_vs_hand_written(*s)),
                row.best()
                    .map(|t| t.avg_batch)
                    .filter(|v| v.is_finite())
                    .map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}")),
            );
        }
    }
    println!();
    println!("{:<38} {:>9} {:>9}", "targeted ratio", "measured", "target");
    for t in &r.targets {
        println!(
            "{:<38} {:>9} {:>9}  {}",
            t.label,
            fmt_ratio(t.value),
            t.goal,
            if !t.value.is_finite() {
                "n/a"
            } else if t.met {
                "met"
            } else {
                "not met"
            }
        );
    }
    println!();
    println!("Notes: \"back-to-back\" blocking round trips arrive within the strategy's spin");
    println!("phase, so they measure spinning; the paced ones sleep between round trips so");
    println!("both sides block in the kernel (futex, socket read): that is wake-up latency.");
    println!("Timings are reported, never asserted; ratios come from this one run.");
}

fn json(r: &Results) -> String {
    let p = &r.plan;
    let list = |v: Vec<String>| v.join(",");
    let tp: Vec<String> = r
        .tp
        .iter()
        .map(|row| {
            let s = &row.spec;
            let rate = row.rate();
            format!(
                "{{\"size\":{},\"transport\":\"{}\",\"events\":{},\"events_per_sec\":{},\"mb_per_sec\":{},\
                 \"vs_floor\":{},\"vs_uds\":{},\"consumer_avg_batch\":{},\"rounds_events_per_sec\":[{}]}}",
                s.size,
                s.key,
                row.best().map_or(0, |t| t.events),
                json_num(rate),
                json_num(row.best().map_or(f64::NAN, Throughput::mb_per_sec)),
                json_num(rate / r.rate(s.size, "floor")),
                json_num(rate / r.rate(s.size, "uds")),
                json_num(row.best().map_or(f64::NAN, |t| t.avg_batch)),
                list(row.rounds.iter().map(|t| json_num(t.events_per_sec)).collect()),
            )
        })
        .collect();
    let mp: Vec<String> = r
        .mp
        .iter()
        .map(|row| {
            let s = &row.spec;
            format!(
                "{{\"size\":{},\"layout\":\"{}\",\"producer_mode\":\"{}\",\"producers\":{},\"wait\":\"{}\",{},\
                 \"hot_counters\":{},\"optional_consumer\":{},\"events\":{},\"events_per_sec\":{},\"mb_per_sec\":{},\
                 \"vs_single_producer\":{},\"counters_on_off\":{},\"consumer_avg_batch\":{},\
                 \"rounds_events_per_sec\":[{}],\"rounds_vs_single_producer\":[{}],\
                 \"rounds_counters_on_off\":[{}],\"same_as\":{}}}",
                s.size,
                s.layout(),
                if s.producers == 0 { "single" } else { "multi" },
                s.producers.max(1),
                s.strategy.as_str(),
                row.placement.json(),
                s.counters,
                s.optional,
                row.best().map_or(0, |t| t.events),
                json_num(row.rate()),
                json_num(row.best().map_or(f64::NAN, Throughput::mb_per_sec)),
                json_num(r.vs_single(s)),
                if s.counters {
                    "null".to_string()
                } else {
                    json_num(r.counters_on_off(s))
                },
                json_num(row.best().map_or(f64::NAN, |t| t.avg_batch)),
                list(row.rounds.iter().map(|t| json_num(t.events_per_sec)).collect()),
                list(r.rounds_vs_single(s).into_iter().map(json_num).collect()),
                if s.counters {
                    String::new()
                } else {
                    list(r.rounds_counters_on_off(s).into_iter().map(json_num).collect())
                },
                s.measured_as()
                    .filter(|_| !r.tp.is_empty())
                    .map_or_else(|| "null".to_string(), |k| format!("\"throughput:{k}\"")),
            )
        })
        .collect();
    let pp: Vec<String> = r
        .pp
        .iter()
        .filter_map(|row| {
            let l = row.best()?;
            Some(format!(
                "{{\"workload\":\"{}\",\"round_trips\":{},\"p50_ns\":{},\"p99_ns\":{},\"p999_ns\":{},\
                 \"max_ns\":{},\"mean_ns\":{},\"p50_vs\":\"{}\",\"p50_ratio\":{},\"rounds_p50_ns\":[{}]}}",
                row.spec.key,
                l.count,
                json_num(l.p50),
                json_num(l.p99),
                json_num(l.p999),
                json_num(l.max),
                json_num(l.mean),
                row.spec.base,
                json_num(l.p50 / r.p50(row.spec.base)),
                list(row.rounds.iter().map(|l| json_num(l.p50)).collect()),
            ))
        })
        .collect();
    let one: Vec<String> = r
        .one
        .iter()
        .map(|row| {
            let s = &row.spec;
            let key = s.key();
            format!(
                "{{\"size\":{},\"work\":{},\"workload\":\"{}\",\"label\":\"{}\",\"events\":{},\"events_per_sec\":{},\
                 \"mb_per_sec\":{},\"vs_hand_written\":{},\"consumer_avg_batch\":{},\
                 \"rounds_events_per_sec\":[{}],\"rounds_vs_hand_written\":[{}]}}",
                s.size,
                s.work,
                key,
                s.label(),
                row.best().map_or(0, |t| t.events),
                json_num(row.rate()),
                json_num(row.best().map_or(f64::NAN, Throughput::mb_per_sec)),
                json_num(r.one_vs_hand_written(*s)),
                json_num(row.best().map_or(f64::NAN, |t| t.avg_batch)),
                list(row.rounds.iter().map(|t| json_num(t.events_per_sec)).collect()),
                list(
                    r.one_rounds_vs_hand_written(*s)
                        .into_iter()
                        .map(json_num)
                        .collect()
                ),
            )
        })
        .collect();
    let targets: Vec<String> = r
        .targets
        .iter()
        .map(|t| {
            format!(
                "\"{}\":{{\"value\":{},\"target\":\"{}\",\"met\":{}}}",
                t.key,
                json_num(t.value),
                t.goal,
                t.met
            )
        })
        .collect();
    format!(
        "{{\"config\":{{\"events\":{},\"round_trips\":{},\"rounds\":{},\"gap_us\":{},\"batch\":{},\
         \"capacity\":{},\"pingpong_capacity\":{},\"producer_cpu\":{},\"consumer_cpu\":{},\"elapsed_s\":{}}},\
         \"throughput\":[{}],\"multi_producer\":[{}],\"ping_pong\":[{}],\"one_event\":[{}],\"targets\":{{{}}}}}",
        r.events,
        r.round_trips,
        r.rounds,
        r.gap_us,
        p.batch,
        p.capacity,
        p.pingpong_capacity,
        p.producer_cpu,
        p.consumer_cpu,
        json_num(r.elapsed.as_secs_f64()),
        list(tp),
        list(mp),
        list(pp),
        list(one),
        list(targets),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 8-byte events (number only) and 64-byte ones (number and trailer).
    fn event<S: Size>(size: S, number: u64) -> Vec<u8> {
        let mut e = vec![0u8; size.get()];
        write_event(&mut e, size, number).unwrap();
        e
    }

    fn of(id: u64, n: u64) -> u64 {
        id << ID_SHIFT | n
    }

    /// Feeds `numbers` to a fresh check of `producers` in batches of
    /// `batch`, then checks that `events` arrived in all.
    fn verify<S: Size>(size: S, producers: u32, events: u64, numbers: &[u64]) -> BoxResult<()> {
        let mut v = PerProducer::new(producers);
        let all: Vec<Vec<u8>> = numbers.iter().map(|&n| event(size, n)).collect();
        for batch in all.chunks(3) {
            v.check(batch.iter().map(|e| Ok(e.as_slice())), size)?;
        }
        v.finish(events)
    }

    #[test]
    fn shares_add_up() {
        for (events, producers) in [(10, 1), (10, 2), (11, 2), (7, 3), (1, 2)] {
            let sum: u64 = (0..producers).map(|id| share(events, producers, id)).sum();
            assert_eq!(sum, events, "{events} over {producers}");
        }
        assert_eq!((share(11, 2, 0), share(11, 2, 1)), (6, 5));
    }

    #[test]
    fn interleaved_producers_in_their_own_order_pass() {
        let numbers = [of(1, 0), of(1, 1), of(0, 0), of(0, 1), of(0, 2), of(1, 2)];
        verify(Fixed::<8>, 2, 6, &numbers).unwrap();
        verify(Fixed::<64>, 2, 6, &numbers).unwrap();
        verify(Dynamic(24), 2, 6, &numbers).unwrap();
        let one: Vec<u64> = (0..10).collect();
        verify(Fixed::<8>, 1, 10, &one).unwrap();
    }

    #[test]
    fn out_of_order_duplicate_unknown_and_missing_events_fail() {
        let bad: [(&[u64], &str); 5] = [
            (
                &[of(0, 0), of(0, 2), of(1, 0), of(0, 1), of(1, 1)],
                "out of order",
            ),
            (
                &[of(0, 0), of(1, 0), of(0, 0), of(0, 1), of(1, 1)],
                "payload check",
            ),
            (&[of(0, 0), of(2, 0), of(0, 1)], "unknown producer 2"),
            (&[of(0, 0), of(1, 1), of(0, 1)], "payload check"),
            (&[of(0, 0), of(1, 0), of(0, 1)], "received 1 of its 2"),
        ];
        for (numbers, want) in bad {
            let e = verify(Fixed::<8>, 2, 4, numbers).unwrap_err().to_string();
            assert!(e.contains(want), "{numbers:?}: {e}");
        }
        // A damaged trailer is caught at a change of producer too.
        let mut v = PerProducer::new(2);
        let mut e = event(Fixed::<64>, of(1, 0));
        e[63] ^= 1;
        let err = v
            .check([Ok(e.as_slice())].into_iter(), Fixed::<64>)
            .unwrap_err();
        assert!(err.to_string().contains("producer 1"), "{err}");
    }
}
