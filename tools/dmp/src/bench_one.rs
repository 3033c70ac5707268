//! `dmp bench`: one event per claim/publish (issue 12).
//!
//! The producer claims, writes and publishes every event on its own; the
//! consumer drains whatever is available, as the throughput rows' consumer
//! does, and verifies every payload. Busy-spin, the two sides pinned like
//! the throughput rows, packed rings of `--capacity` slots created with
//! default `RingOptions` otherwise (wake-ups and hot counters on: what a
//! user gets).
//!
//! The baseline is a hand-written SPSC ring in the style of rigtorp's
//! SPSCQueue, in a shared-memory file laid out as the floor ring (each
//! index on its own 128-byte block, then the records): the producer
//! publishes every event with a release store of its write index and
//! reloads the read index only when the ring looks full; the consumer
//! reloads the write index only when the ring looks empty and acknowledges
//! every event with a release store of its read index.
//!
//! Producer styles are [`OneStyle`]: adding one (for example a lean
//! single-event call) is one variant with its [`OneStyle::info`] (label,
//! key, target, consumer API), plus one producer loop in [`one_producer`];
//! the rows, the table, the JSON and the targets follow from the variant
//! list.

use super::{
    check, floor_ring_len, ready, received_rate, report, run_pair, spin_until, unique, waiting,
    write_event, BoxResult, Cleanup, Plan, Receipt, Role, ShmFile, Size, Throughput, WorkerArgs,
    CONSUMER_NAME, FLOOR_HEAD, FLOOR_TAIL, MAX_EVENT, STALL,
};
use super::{open_throughput_ring, ring_consumer, supported_size};
use disruptor_mp::ffi::{
    self, dmp_consumer, dmp_consumer_options, dmp_producer, dmp_producer_options, dmp_ring,
    dmp_ring_options, dmp_span, DMP_LAYOUT_PACKED, DMP_PRODUCER_SINGLE, DMP_STATUS_OK,
    DMP_WAIT_BUSY_SPIN,
};
use disruptor_mp::RingOptions;
use std::error::Error;
use std::ffi::{CStr, CString};
use std::mem::MaybeUninit;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// How the one-event producer claims, writes and publishes each event.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OneStyle {
    /// `Producer::claim(1)`, `slot_mut`, write, `publish(seq, seq)`; the
    /// consumer is the throughput rows' one (`wait_for`, `slots`, check,
    /// `commit`).
    RustApi,
    /// The same loops through the exported C functions (`dmp_claim`,
    /// `dmp_producer_slot`, `dmp_publish`; `dmp_wait_for`,
    /// `dmp_consumer_span`, `dmp_commit`), called from the Rust worker.
    CAbi,
    /// The one-event calls: `Producer::publish_with` per event, and a
    /// consumer on `Consumer::consume_with`, one event per call and commit.
    RustOne,
    /// The same through `dmp_publish_one` and `dmp_consume_one`, called
    /// from the Rust worker.
    COne,
}

/// What a style's figure is compared with in the targets table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    /// The hand-written one-event ring of the same size and run.
    HandWritten,
    /// Another style of the same size and run.
    Style(OneStyle),
}

/// Which API a style's consumer reads through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConsumerApi {
    /// The throughput rows' consumer: `wait_for`, `slots`, check, `commit`.
    Rust,
    /// `dmp_wait_for`, `dmp_consumer_span`, check, `dmp_commit`.
    C,
    /// `Consumer::consume_with`: one event per call, each committed.
    RustOne,
    /// `dmp_consume_one`: one event per call, copied out and committed.
    COne,
}

/// Everything the table, the JSON output, the targets and the workers need
/// to know about a style, but its producer loop.
pub(crate) struct StyleInfo {
    /// The command-line spelling (`--style`, clap's kebab-case).
    pub cli: &'static str,
    /// The table's row name.
    pub label: &'static str,
    /// The JSON row key.
    pub key: &'static str,
    /// The targets' names of the style (table, JSON).
    pub short: &'static str,
    pub snake: &'static str,
    /// The targeted ratio: this style's rate over `base`'s is at least
    /// `at_least` (printed as `goal`).
    pub base: Base,
    pub goal: &'static str,
    pub at_least: f64,
    pub consumer: ConsumerApi,
}

impl OneStyle {
    /// Every style, in table order.
    pub(crate) fn all() -> &'static [OneStyle] {
        <OneStyle as clap::ValueEnum>::value_variants()
    }

    /// The style's names, target and consumer: a new style's one arm.
    pub(crate) fn info(self) -> StyleInfo {
        match self {
            OneStyle::RustApi => StyleInfo {
                cli: "rust-api",
                label: "ring, Rust API, one per claim",
                key: "dmp_one_rust",
                short: "Rust API",
                snake: "rust_api",
                base: Base::HandWritten,
                goal: ">= 0.9",
                at_least: 0.9,
                consumer: ConsumerApi::Rust,
            },
            OneStyle::CAbi => StyleInfo {
                cli: "c-abi",
                label: "ring, C ABI, one per claim (exported fns' own work, in-process)",
                key: "dmp_one_c_abi",
                short: "C ABI",
                snake: "c_abi",
                base: Base::Style(OneStyle::RustApi),
                goal: ">= 0.8",
                at_least: 0.8,
                consumer: ConsumerApi::C,
            },
            OneStyle::RustOne => StyleInfo {
                cli: "rust-one",
                label: "ring, publish_with / consume_with, one per call",
                key: "dmp_one_rust_one",
                short: "Rust one-event calls",
                snake: "rust_one",
                base: Base::HandWritten,
                goal: ">= 0.9",
                at_least: 0.9,
                consumer: ConsumerApi::RustOne,
            },
            OneStyle::COne => StyleInfo {
                cli: "c-one",
                label: "ring, dmp_publish_one / dmp_consume_one (in-process calls)",
                key: "dmp_one_c_one",
                short: "C one-event calls",
                snake: "c_one",
                base: Base::Style(OneStyle::RustOne),
                goal: ">= 0.8",
                at_least: 0.8,
                consumer: ConsumerApi::COne,
            },
        }
    }

    pub(crate) fn key(self) -> &'static str {
        self.info().key
    }
}

impl Base {
    /// The targets table's name of the row.
    pub(crate) fn short(self) -> &'static str {
        match self {
            Base::HandWritten => "hand-written",
            Base::Style(s) => s.info().short,
        }
    }

    /// The targets' JSON name of the row.
    pub(crate) fn snake(self) -> &'static str {
        match self {
            Base::HandWritten => "hand_written",
            Base::Style(s) => s.info().snake,
        }
    }
}

/// What carries the events of a one-event row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OneKind {
    /// The hand-written one-event ring (the baseline).
    HandWritten,
    /// A dmp ring, producer of the given style.
    Ring(OneStyle),
}

/// The JSON key and label of the hand-written one-event ring.
pub(crate) const HAND_WRITTEN_KEY: &str = "hand_written_one";
pub(crate) const HAND_WRITTEN_LABEL: &str = "hand-written one-event ring";

impl OneKind {
    pub(crate) fn key(self) -> &'static str {
        match self {
            OneKind::HandWritten => HAND_WRITTEN_KEY,
            OneKind::Ring(s) => s.key(),
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            OneKind::HandWritten => HAND_WRITTEN_LABEL,
            OneKind::Ring(s) => s.info().label,
        }
    }
}

/// A one-event row: event size, the producer's own work per event and
/// transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OneSpec {
    pub size: usize,
    /// Rounds of [`produce`] the producer computes before each event (0:
    /// none, the producer loop does nothing but publish).
    pub work: u32,
    pub kind: OneKind,
}

impl OneSpec {
    /// The table's name of the row, after its size.
    pub(crate) fn label(&self) -> String {
        match self.work {
            0 => self.kind.label().to_string(),
            w => format!("{}, work {w}/event", self.kind.label()),
        }
    }

    /// The JSON name of the row's workload.
    pub(crate) fn key(&self) -> String {
        match self.work {
            0 => self.kind.key().to_string(),
            w => format!("{}_work_{w}", self.kind.key()),
        }
    }

    /// The row of the same size and work this one is compared with.
    pub(crate) fn base(&self) -> Option<OneSpec> {
        let kind = match self.kind {
            OneKind::HandWritten => return None,
            OneKind::Ring(style) => match style.info().base {
                Base::HandWritten => OneKind::HandWritten,
                Base::Style(s) => OneKind::Ring(s),
            },
        };
        Some(OneSpec { kind, ..*self })
    }

    /// The row of the same size and work on the hand-written ring.
    pub(crate) fn hand_written(&self) -> OneSpec {
        OneSpec {
            kind: OneKind::HandWritten,
            ..*self
        }
    }
}

/// The producer's work per event in the rows with work: what a producer
/// that computes its events (decodes a tick, fills an order) spends
/// between publications. Without it, the hand-written ring's producer does
/// nothing but two stores per event; rings whose producer does anything
/// more fall from "the producer runs a ring ahead" into "every event
/// crosses between the cores on its own" (seen here: two rounds of a
/// loop per event cut the hand-written ring's 8-byte rate 4x), so the rows
/// without work compare regimes as much as rings.
pub(crate) const WORK_ROUNDS: u32 = 16;

/// `rounds` dependent xorshift steps from `i`, which the optimiser cannot
/// drop: the producer's own work per event in the rows with work.
#[inline]
pub(crate) fn produce(i: u64, rounds: u32) {
    let mut x = i | 1;
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x);
}

/// A one-event row and its rounds; the best round counts.
pub(crate) struct OneRow {
    pub spec: OneSpec,
    pub rounds: Vec<Throughput>,
}

impl OneRow {
    pub(crate) fn best(&self) -> Option<&Throughput> {
        self.rounds
            .iter()
            .filter(|t| t.events_per_sec.is_finite())
            .max_by(|a, b| a.events_per_sec.total_cmp(&b.events_per_sec))
    }

    pub(crate) fn rate(&self) -> f64 {
        self.best().map_or(f64::NAN, |t| t.events_per_sec)
    }
}

/// The one-event rows of a run: for 8- and 64-byte events, the
/// hand-written ring first, then every producer style; then 8-byte events
/// whose producer works [`WORK_ROUNDS`] per event, on the hand-written
/// ring and with the Rust calls.
pub(crate) fn one_rows() -> Vec<OneRow> {
    let every = std::iter::once(OneKind::HandWritten)
        .chain(OneStyle::all().iter().map(|&s| OneKind::Ring(s)));
    let specs = [8usize, 64]
        .into_iter()
        .flat_map(|size| every.clone().map(move |kind| (size, 0, kind)))
        .chain(
            [
                OneKind::HandWritten,
                OneKind::Ring(OneStyle::RustApi),
                OneKind::Ring(OneStyle::RustOne),
            ]
            .map(|kind| (8, WORK_ROUNDS, kind)),
        );
    specs
        .map(|(size, work, kind)| OneRow {
            spec: OneSpec { size, work, kind },
            rounds: Vec::new(),
        })
        .collect()
}

/// The rate of the row of `spec`.
pub(crate) fn one_rate(rows: &[OneRow], spec: OneSpec) -> f64 {
    rows.iter()
        .find(|r| r.spec == spec)
        .map_or(f64::NAN, OneRow::rate)
}

/// The rates of the row of `spec`, round by round.
pub(crate) fn one_rounds(rows: &[OneRow], spec: OneSpec) -> Vec<f64> {
    rows.iter()
        .find(|r| r.spec == spec)
        .map(|r| r.rounds.iter().map(|t| t.events_per_sec).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------

/// Moves `events` events of `size` bytes, one per claim/publish, from a
/// producer process to a consumer process, which verifies every one.
pub(crate) fn one_throughput(plan: &Plan, spec: OneSpec, events: u64) -> BoxResult<Throughput> {
    let size = spec.size;
    if !supported_size(size) {
        return Err(format!("event size {size}: must lie in [8, {MAX_EVENT}] bytes").into());
    }
    let mut cleanup = Cleanup::default();
    let mut args: Vec<String> = Vec::new();
    let (first, second) = match spec.kind {
        OneKind::HandWritten => {
            let path = Path::new("/dev/shm").join(unique("bench-one"));
            cleanup.shm_file(&path, floor_ring_len(plan.capacity, size)?)?;
            args.extend(["--name".into(), path.display().to_string()]);
            (Role::OneFloorConsumer, Role::OneFloorProducer)
        }
        OneKind::Ring(style) => {
            let name = unique("bench-one");
            // Default options but for the size and the layout: wake-ups
            // and hot counters on.
            cleanup.ring(
                &name,
                &RingOptions::new()
                    .capacity(plan.capacity)
                    .slot_size(size as u64)
                    .packed(true),
            )?;
            args.extend([
                "--name".into(),
                name,
                "--style".into(),
                style.info().cli.into(),
            ]);
            (Role::OneConsumer, Role::OneProducer)
        }
    };
    args.extend([
        "--events".into(),
        events.to_string(),
        "--size".into(),
        size.to_string(),
        "--batch".into(),
        "1".into(),
        "--work".into(),
        spec.work.to_string(),
        "--capacity".into(),
        plan.capacity.to_string(),
    ]);
    let (consumer, producer) = run_pair(plan, first, second, &args)?;
    let sent = producer.get("events")? as u64;
    let received = consumer.get("events")? as u64;
    if sent != events || received != events {
        return Err(format!(
            "{:?}: asked for {events} events, producer sent {sent}, consumer verified {received}",
            spec.kind
        )
        .into());
    }
    received_rate(&consumer, events, size)
}

// ---------------------------------------------------------------------------
// Workers: dmp ring, one event per claim/publish
// ---------------------------------------------------------------------------

/// The producer side of a one-event ring row: one loop per style.
pub(crate) fn one_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    match a.style {
        OneStyle::RustApi => rust_api_producer(a, size),
        OneStyle::CAbi => c_abi_producer(a, size),
        OneStyle::RustOne => rust_one_producer(a, size),
        OneStyle::COne => c_one_producer(a, size),
    }
}

/// The consumer side of a one-event ring row.
pub(crate) fn one_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    match a.style.info().consumer {
        ConsumerApi::Rust => ring_consumer(a, size),
        ConsumerApi::C => c_abi_consumer(a, size),
        ConsumerApi::RustOne => rust_one_consumer(a, size),
        ConsumerApi::COne => c_one_consumer(a, size),
    }
}

/// `publish_with` per event.
fn rust_one_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let ring = open_throughput_ring(a, size.get())?;
    let mut p = ring.producer(a.strategy.wait())?;
    ready()?;
    let start = Instant::now();
    for i in 0..a.events {
        produce(i, a.work);
        let mut written = Ok(());
        p.publish_with(STALL, |slot| written = write_event(slot, size, i))
            .map_err(waiting("a free slot"))?;
        written?;
    }
    report(&[
        ("events", a.events as f64),
        ("span_ns", super::nanos(start.elapsed())),
    ])
}

/// `consume_with` per event, checking each; every call counts as a batch.
fn rust_one_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let ring = open_throughput_ring(a, size.get())?;
    let mut c = ring.consumer(CONSUMER_NAME, &[], a.strategy.wait())?;
    ready()?;
    let base = c.next_sequence();
    let mut receipt = Receipt::new();
    for i in 0..a.events {
        let checked = c
            .consume_with(STALL, |seq, slot| {
                if seq - base != i as i64 {
                    return Err(format!("event {i} arrived at sequence {seq}").into());
                }
                check(slot, size, i)
            })
            .map_err(waiting("events"))?;
        checked?;
        receipt.batch(1);
    }
    receipt.report(a.events)
}

/// `claim(1)`, write the slot, `publish(seq, seq)`, per event.
fn rust_api_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let ring = open_throughput_ring(a, size.get())?;
    let mut p = ring.producer(a.strategy.wait())?;
    ready()?;
    let start = Instant::now();
    for i in 0..a.events {
        produce(i, a.work);
        let seq = p.claim(1, STALL).map_err(waiting("a free slot"))?;
        write_event(p.slot_mut(seq)?, size, i)?;
        p.publish(seq, seq)?;
    }
    report(&[
        ("events", a.events as f64),
        ("span_ns", super::nanos(start.elapsed())),
    ])
}

/// The C ABI loops call the exported `dmp_*` functions from this (Rust)
/// worker: what they measure is those functions' own work (handle and null
/// checks, the panic boundary, the out-pointers) around the Rust API, in
/// process; no C compiler and no dynamic linking are involved (the release
/// profile has no LTO, so the calls are not inlined into the loop).
const STALL_NS: u64 = STALL.as_nanos() as u64;

/// Turns a C ABI status into an error carrying the library's message.
fn c_status(what: &str, status: i32) -> BoxResult<()> {
    if status == DMP_STATUS_OK {
        Ok(())
    } else {
        Err(c_error(what, status))
    }
}

#[cold]
fn c_error(what: &str, status: i32) -> Box<dyn Error> {
    // SAFETY: both return NUL-terminated strings that stay valid until the
    // next call of the same function on this thread.
    let (name, msg) = unsafe {
        (
            CStr::from_ptr(ffi::dmp_status_str(status)),
            CStr::from_ptr(ffi::dmp_last_error_message()),
        )
    };
    format!(
        "{what}: {} ({status}): {}",
        name.to_string_lossy(),
        msg.to_string_lossy()
    )
    .into()
}

/// A NULL from a C ABI accessor, with the library's message.
#[cold]
fn c_null(what: &str) -> Box<dyn Error> {
    // SAFETY: as in `c_error`.
    let msg = unsafe { CStr::from_ptr(ffi::dmp_last_error_message()) };
    format!("{what} returned NULL: {}", msg.to_string_lossy()).into()
}

/// A C ABI ring handle, closed on drop (after the producer or consumer
/// opened from it, which own their own references).
struct CRing(*mut dmp_ring);

impl CRing {
    /// Opens the worker's ring through `dmp_ring_open`, checking the
    /// layout the parent created.
    fn open(a: &WorkerArgs, size: usize) -> BoxResult<CRing> {
        let name = CString::new(a.name.as_str())?;
        let mut o = MaybeUninit::<dmp_ring_options>::uninit();
        ffi::dmp_ring_options_init(o.as_mut_ptr());
        // SAFETY: dmp_ring_options_init initialises every field.
        let mut o = unsafe { o.assume_init() };
        o.slot_size = u32::try_from(size)?;
        o.layout = DMP_LAYOUT_PACKED;
        o.producer_mode = DMP_PRODUCER_SINGLE;
        let mut ring: *mut dmp_ring = std::ptr::null_mut();
        c_status(
            "dmp_ring_open",
            ffi::dmp_ring_open(name.as_ptr(), &o, &mut ring),
        )?;
        Ok(CRing(ring))
    }
}

impl Drop for CRing {
    fn drop(&mut self) {
        let _ = ffi::dmp_ring_close(self.0);
    }
}

struct CProducer(*mut dmp_producer);

impl CProducer {
    /// A busy-spinning producer of `ring`, through `dmp_producer_open`.
    fn open(ring: &CRing) -> BoxResult<CProducer> {
        let mut o = MaybeUninit::<dmp_producer_options>::uninit();
        ffi::dmp_producer_options_init(o.as_mut_ptr());
        // SAFETY: dmp_producer_options_init initialises every field.
        let mut o = unsafe { o.assume_init() };
        o.wait_strategy = DMP_WAIT_BUSY_SPIN;
        let mut p: *mut dmp_producer = std::ptr::null_mut();
        c_status(
            "dmp_producer_open",
            ffi::dmp_producer_open(ring.0, &o, &mut p),
        )?;
        Ok(CProducer(p))
    }
}

impl Drop for CProducer {
    fn drop(&mut self) {
        let _ = ffi::dmp_producer_close(self.0);
    }
}

struct CConsumer(*mut dmp_consumer);

impl CConsumer {
    /// The bench's busy-spinning consumer of `ring`, through
    /// `dmp_consumer_open`.
    fn open(ring: &CRing) -> BoxResult<CConsumer> {
        let mut o = MaybeUninit::<dmp_consumer_options>::uninit();
        ffi::dmp_consumer_options_init(o.as_mut_ptr());
        // SAFETY: dmp_consumer_options_init initialises every field.
        let mut o = unsafe { o.assume_init() };
        o.wait_strategy = DMP_WAIT_BUSY_SPIN;
        let name = CString::new(CONSUMER_NAME)?;
        let mut c: *mut dmp_consumer = std::ptr::null_mut();
        c_status(
            "dmp_consumer_open",
            ffi::dmp_consumer_open(ring.0, name.as_ptr(), &o, &mut c),
        )?;
        Ok(CConsumer(c))
    }
}

impl Drop for CConsumer {
    fn drop(&mut self) {
        let _ = ffi::dmp_consumer_close(self.0);
    }
}

/// `dmp_claim(1)`, write `dmp_producer_slot`, `dmp_publish(seq, seq)`, per
/// event.
fn c_abi_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let n = size.get();
    let ring = CRing::open(a, n)?;
    let p = CProducer::open(&ring)?;
    ready()?;
    let start = Instant::now();
    for i in 0..a.events {
        produce(i, a.work);
        let mut seq = 0i64;
        let st = ffi::dmp_claim(p.0, 1, STALL_NS, &mut seq);
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_claim (a free slot)", st));
        }
        let slot = ffi::dmp_producer_slot(p.0, seq).cast::<u8>();
        if slot.is_null() {
            return Err(c_null("dmp_producer_slot"));
        }
        // SAFETY: a non-null dmp_producer_slot is the claimed sequence's
        // payload of slot_size (= the event size, checked at open) bytes,
        // the producer's alone until it is published below.
        write_event(unsafe { std::slice::from_raw_parts_mut(slot, n) }, size, i)?;
        let st = ffi::dmp_publish(p.0, seq, seq);
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_publish", st));
        }
    }
    let span = start.elapsed();
    drop(p);
    drop(ring);
    report(&[("events", a.events as f64), ("span_ns", super::nanos(span))])
}

/// `dmp_publish_one` per event, from an event built in a local buffer.
fn c_one_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let n = size.get();
    let ring = CRing::open(a, n)?;
    let p = CProducer::open(&ring)?;
    ready()?;
    let mut event = vec![0u8; n];
    let start = Instant::now();
    for i in 0..a.events {
        produce(i, a.work);
        write_event(&mut event[..n], size, i)?;
        let st = ffi::dmp_publish_one(
            p.0,
            event.as_ptr().cast(),
            n,
            STALL_NS,
            std::ptr::null_mut(),
        );
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_publish_one (a free slot)", st));
        }
    }
    let span = start.elapsed();
    drop(p);
    drop(ring);
    report(&[("events", a.events as f64), ("span_ns", super::nanos(span))])
}

/// `dmp_consume_one` per event into a local buffer, checking each.
fn c_one_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let n = size.get();
    let ring = CRing::open(a, n)?;
    let c = CConsumer::open(&ring)?;
    ready()?;
    let mut base = 0i64;
    c_status("dmp_consumer_next", ffi::dmp_consumer_next(c.0, &mut base))?;
    let mut event = vec![0u8; n];
    let mut receipt = Receipt::new();
    for i in 0..a.events {
        let mut seq = 0i64;
        let st = ffi::dmp_consume_one(c.0, event.as_mut_ptr().cast(), n, STALL_NS, &mut seq);
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_consume_one (events)", st));
        }
        if seq - base != i as i64 {
            return Err(format!("event {i} arrived at sequence {seq}").into());
        }
        check(&event[..n], size, i)?;
        receipt.batch(1);
    }
    drop(c);
    drop(ring);
    receipt.report(a.events)
}

/// `dmp_wait_for`, `dmp_consumer_span` (the C counterpart of
/// `Consumer::slots`, as benches/ffi/bench_worker.c reads), check every
/// event, `dmp_commit(available)`.
fn c_abi_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let n = size.get();
    let ring = CRing::open(a, n)?;
    let c = CConsumer::open(&ring)?;
    ready()?;
    let mut base = 0i64;
    c_status("dmp_consumer_next", ffi::dmp_consumer_next(c.0, &mut base))?;
    let last = base + a.events as i64 - 1;
    let mut next = base;
    let mut receipt = Receipt::new();
    while next <= last {
        let mut available = 0i64;
        let st = ffi::dmp_wait_for(c.0, next, STALL_NS, &mut available);
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_wait_for (events)", st));
        }
        if available > last {
            return Err(format!(
                "received more than the {} events published (sequence {available})",
                a.events
            )
            .into());
        }
        receipt.batch((available - next + 1) as u64);
        let mut span = dmp_span {
            struct_size: std::mem::size_of::<dmp_span>() as u32,
            reserved: 0,
            first: std::ptr::null_mut(),
            first_count: 0,
            second: std::ptr::null_mut(),
            second_count: 0,
            stride: 0,
        };
        let st = ffi::dmp_consumer_span(c.0, next, available, &mut span);
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_consumer_span", st));
        }
        let stride = span.stride as usize;
        if stride < n || span.first_count + span.second_count != (available - next + 1) as u64 {
            return Err("dmp_consumer_span: span does not match the range".into());
        }
        let mut number = (next - base) as u64;
        for (ptr, count) in [
            (span.first, span.first_count),
            (span.second, span.second_count),
        ] {
            if count == 0 {
                continue;
            }
            // SAFETY: dmp_consumer_span describes `count` available,
            // uncommitted payloads `stride` bytes apart from `ptr`, which the
            // producer does not overwrite before the commit below.
            let bytes =
                unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), count as usize * stride) };
            for slot in bytes.chunks_exact(stride) {
                check(&slot[..n], size, number)?;
                number += 1;
            }
        }
        let st = ffi::dmp_commit(c.0, available);
        if st != DMP_STATUS_OK {
            return Err(c_error("dmp_commit", st));
        }
        next = available + 1;
    }
    drop(c);
    drop(ring);
    receipt.report(a.events)
}

// ---------------------------------------------------------------------------
// Workers: the hand-written one-event ring (rigtorp SPSCQueue style)
// ---------------------------------------------------------------------------

/// Publishes every event with a release store of the write index; the read
/// index is reloaded (acquire) only when the ring looks full.
pub(crate) fn one_floor_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let shm = ShmFile::open(Path::new(&a.name), floor_ring_len(a.capacity, size.get())?)?;
    let (head, tail) = (shm.atomic(FLOOR_HEAD)?, shm.atomic(FLOOR_TAIL)?);
    let mut records = shm.records(a.capacity, size)?;
    ready()?;
    let start = Instant::now();
    let mut cached_tail = 0u64;
    for i in 0..a.events {
        produce(i, a.work);
        if i - cached_tail >= a.capacity {
            cached_tail = spin_until("a free record", || {
                let t = tail.load(Ordering::Acquire);
                (i - t < a.capacity).then_some(t)
            })?;
        }
        write_event(records.record_mut(i), size, i)?;
        head.store(i + 1, Ordering::Release);
    }
    report(&[
        ("events", a.events as f64),
        ("span_ns", super::nanos(start.elapsed())),
    ])
}

/// Reloads the write index (acquire) only when the ring looks empty, and
/// acknowledges every event with a release store of the read index.
pub(crate) fn one_floor_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let shm = ShmFile::open(Path::new(&a.name), floor_ring_len(a.capacity, size.get())?)?;
    let (head, tail) = (shm.atomic(FLOOR_HEAD)?, shm.atomic(FLOOR_TAIL)?);
    let records = shm.records(a.capacity, size)?;
    ready()?;
    let mut cached_head = 0u64;
    let mut receipt = Receipt::new();
    for i in 0..a.events {
        if i == cached_head {
            cached_head = spin_until("an event", || {
                let h = head.load(Ordering::Acquire);
                (h > i).then_some(h)
            })?;
            if cached_head > a.events {
                return Err(format!("received more than the {} events published", a.events).into());
            }
            // A "batch": the events one reload of the write index showed.
            receipt.batch(cached_head - i);
        }
        check(records.record(i), size, i)?;
        tail.store(i + 1, Ordering::Release);
    }
    receipt.report(a.events)
}

#[cfg(test)]
mod tests {
    use super::super::{Fixed, Strategy};
    use super::*;

    #[test]
    fn styles_have_distinct_names_and_targets_with_rows() {
        let rows = one_rows();
        // The JSON names a row by its size and workload key.
        let mut keys: Vec<(usize, String)> =
            rows.iter().map(|r| (r.spec.size, r.spec.key())).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "two rows share a JSON key");
        for &style in OneStyle::all() {
            // `--style` is spelled as clap parses it.
            let parsed = <OneStyle as clap::ValueEnum>::from_str(style.info().cli, false);
            assert_eq!(parsed, Ok(style));
            assert_ne!(style.info().base, Base::Style(style));
            for size in [8, 64] {
                let spec = OneSpec {
                    size,
                    work: 0,
                    kind: OneKind::Ring(style),
                };
                assert!(rows.iter().any(|r| r.spec == spec), "no row {spec:?}");
            }
        }
        // Every row's base and hand-written rows are measured too.
        for r in &rows {
            let base = r.spec.base().into_iter();
            for other in base.chain([r.spec.hand_written()]) {
                assert!(rows.iter().any(|x| x.spec == other), "no row {other:?}");
            }
        }
        assert!(rows.iter().any(|r| r.spec.work > 0));
    }

    fn args(name: &str, style: OneStyle, events: u64, capacity: u64, size: usize) -> WorkerArgs {
        WorkerArgs {
            role: Role::OneProducer,
            name: name.into(),
            back: None,
            events,
            warmup: 0,
            size,
            batch: 1,
            capacity,
            strategy: Strategy::Spin,
            gap_us: 0,
            cpu: None,
            producers: 0,
            producer_id: 0,
            go: false,
            optional: false,
            style,
            work: 0,
        }
    }

    /// Both sides of a one-event workload on two threads: every event
    /// arrives and passes the consumer's check (rings small enough to wrap
    /// and fill many times).
    fn pair<S: Size + Send + 'static>(
        a: WorkerArgs,
        size: S,
        producer: fn(&WorkerArgs, S) -> BoxResult<()>,
        consumer: fn(&WorkerArgs, S) -> BoxResult<()>,
    ) {
        let a = std::sync::Arc::new(a);
        let c = {
            let a = a.clone();
            std::thread::spawn(move || consumer(&a, size).map_err(|e| e.to_string()))
        };
        // The consumer registers before the first event (as the parent
        // waits for its "ready"); a ring consumer joining late would miss
        // events and fail the count.
        std::thread::sleep(std::time::Duration::from_millis(200));
        producer(&a, size).unwrap();
        c.join().unwrap().unwrap();
    }

    #[test]
    fn hand_written_one_event_ring_moves_every_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one");
        ShmFile::create(&path, floor_ring_len(16, 64).unwrap()).unwrap();
        let a = args(path.to_str().unwrap(), OneStyle::RustApi, 100_000, 16, 64);
        pair(a, Fixed::<64>, one_floor_producer, one_floor_consumer);
    }

    #[test]
    fn every_style_moves_every_event() {
        for &style in OneStyle::all() {
            for size in [8usize, 64] {
                let mut cleanup = Cleanup::default();
                let name = unique("bench-one-test");
                cleanup
                    .ring(
                        &name,
                        &RingOptions::new()
                            .capacity(16)
                            .slot_size(size as u64)
                            .packed(true),
                    )
                    .unwrap();
                let a = args(&name, style, 5_000, 16, size);
                if size == 8 {
                    pair(a, Fixed::<8>, one_producer, one_consumer);
                } else {
                    pair(a, Fixed::<64>, one_producer, one_consumer);
                }
            }
        }
    }
}
