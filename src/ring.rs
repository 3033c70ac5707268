//! The safe Rust facade: [`Ring`], [`Producer`], [`Consumer`].

use crate::consumer::ConsumerCore;
use crate::error::{Error, Result};
use crate::layout::{
    counters, state, Layout, Params, ProducerMode, FLAG_NO_HOT_COUNTERS, FLAG_PACKED, FLAG_WAKEUPS,
    LOCK_PRODUCER_LEASE,
};
use crate::liveness::{lock_registry, Lease, Policy, StallAlert, Watch};
use crate::region::Location;
use crate::segment::Segment;
use crate::sequence::Wakeups;
use crate::sequencer::{recovery, MultiSequencer, SingleSequencer, Watcher};
use crate::slots::Slots;
use crate::sys;
use crate::table::{ConsumerRecord, Tables};
use crate::wait::WaitStrategy;
use bytemuck::Pod;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Default number of slots.
pub const DEFAULT_CAPACITY: u64 = 4096;
/// Default payload bytes per slot.
pub const DEFAULT_SLOT_SIZE: u64 = 64;
/// Default consumer-table size.
pub const DEFAULT_MAX_CONSUMERS: u32 = 16;
/// Default permissions of a new segment.
pub const DEFAULT_MODE: u32 = 0o600;
/// Default producer-table size of a multi-producer ring.
pub const DEFAULT_MAX_PRODUCERS: u32 = 8;
/// Default unblock timeout (see [`RingOptions::unblock_timeout`]).
pub const DEFAULT_UNBLOCK_TIMEOUT: Duration = Duration::from_secs(2);

/// How to create a ring, or what to expect of one being opened.
///
/// For `create`, unset fields take their defaults. For `open`, every field
/// that was set is checked against the segment and a difference is an
/// error naming both values.
#[derive(Debug, Clone, Default)]
pub struct RingOptions {
    capacity: Option<u64>,
    slot_size: Option<u64>,
    max_consumers: Option<u32>,
    producer_mode: Option<ProducerMode>,
    max_producers: Option<u32>,
    unblock_timeout: Option<Duration>,
    type_id: Option<u64>,
    wakeups: Option<bool>,
    packed: Option<bool>,
    hot_counters: Option<bool>,
    mode: Option<u32>,
    timeout: Duration,
    reclaim_stale: bool,
}

impl RingOptions {
    /// Options with every field unset.
    pub fn new() -> RingOptions {
        RingOptions::default()
    }

    /// Number of slots (a power of two).
    pub fn capacity(mut self, capacity: u64) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// Payload bytes per slot.
    pub fn slot_size(mut self, slot_size: u64) -> Self {
        self.slot_size = Some(slot_size);
        self
    }

    /// Slot size and type id for the event type `T`.
    pub fn event_type<T: Pod>(self, type_id: u64) -> Self {
        self.slot_size(std::mem::size_of::<T>() as u64)
            .type_id(type_id)
    }

    /// Entries in the consumer table (1 to 64).
    pub fn max_consumers(mut self, n: u32) -> Self {
        self.max_consumers = Some(n);
        self
    }

    /// Single- or multi-producer ring.
    pub fn producer_mode(mut self, mode: ProducerMode) -> Self {
        self.producer_mode = Some(mode);
        self
    }

    /// Multi-producer rings: how many producers may be attached at once
    /// (1 to 64, default 8). Single-producer rings have exactly one.
    pub fn max_producers(mut self, n: u32) -> Self {
        self.max_producers = Some(n);
        self
    }

    /// Multi-producer rings: how long a claimed but unpublished sequence may
    /// hold consumers up (default 2 s, between 1 ms and 1 h). After that the
    /// claim is abandoned: consumers skip its sequences and its producer's
    /// publish fails with `ClaimAbandoned`. Set it well above the longest
    /// time a live producer may spend between claim and publish.
    pub fn unblock_timeout(mut self, timeout: Duration) -> Self {
        self.unblock_timeout = Some(timeout);
        self
    }

    /// Application-chosen event type identifier; a process expecting
    /// another id is refused at open.
    pub fn type_id(mut self, id: u64) -> Self {
        self.type_id = Some(id);
        self
    }

    /// Whether publish and commit wake sleepers of the blocking strategy
    /// (default on). Off saves one serialising instruction per publish and
    /// commit; the blocking strategy is then refused.
    pub fn wakeups(mut self, on: bool) -> Self {
        self.wakeups = Some(on);
        self
    }

    /// Packed slots (default off): the stride is the slot size rounded to 8
    /// bytes and slots carry no publication stamp, which packs small events
    /// densely (eight 8-byte events per cache line) for the highest
    /// throughput; consumers then learn of events from the cursor, which
    /// costs a second cache-line transfer per wake-up. Off: every slot is
    /// 64-byte aligned with its stamp in the payload's line, for the lowest
    /// latency.
    pub fn packed(mut self, on: bool) -> Self {
        self.packed = Some(on);
        self
    }

    /// Whether producers and consumers count their events and batches in
    /// the segment's counters (default on; two single-writer increments per
    /// batch). Off leaves those counters at 0; the cold-path counters
    /// (waits, timeouts, attaches, abandoned sequences, wake-ups) are kept
    /// either way.
    pub fn hot_counters(mut self, on: bool) -> Self {
        self.hot_counters = Some(on);
        self
    }

    /// `open_or_create` only: a ring that exists but is stale (it was used,
    /// and no live process holds any of its leases: every participant
    /// died or left) is unlinked and created anew with these options.
    /// Meant for a supervisor restarting a whole system; a process that
    /// opened the old ring just before it was replaced keeps working on
    /// the old, unlinked segment, alone.
    pub fn reclaim_stale(mut self, on: bool) -> Self {
        self.reclaim_stale = on;
        self
    }

    /// Permissions of a new segment (default 0o600), applied exactly,
    /// whatever the umask.
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }

    /// How long `open` and `open_or_create` wait for the segment to appear
    /// (default: not at all).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn params(&self) -> Params {
        let producer_mode = self.producer_mode.unwrap_or(ProducerMode::Single);
        Params {
            capacity: self.capacity.unwrap_or(DEFAULT_CAPACITY),
            slot_size: self.slot_size.unwrap_or(DEFAULT_SLOT_SIZE),
            max_consumers: self.max_consumers.unwrap_or(DEFAULT_MAX_CONSUMERS),
            max_producers: match producer_mode {
                ProducerMode::Single => self.max_producers.unwrap_or(1),
                ProducerMode::Multi => self.max_producers.unwrap_or(DEFAULT_MAX_PRODUCERS),
            },
            producer_mode,
            unblock_timeout_ns: u64::try_from(
                self.unblock_timeout
                    .unwrap_or(DEFAULT_UNBLOCK_TIMEOUT)
                    .as_nanos(),
            )
            .unwrap_or(u64::MAX),
            type_id: self.type_id.unwrap_or(0),
            flags: if self.wakeups.unwrap_or(true) {
                FLAG_WAKEUPS
            } else {
                0
            } | if self.packed.unwrap_or(false) {
                FLAG_PACKED
            } else {
                0
            } | if self.hot_counters.unwrap_or(true) {
                0
            } else {
                FLAG_NO_HOT_COUNTERS
            },
        }
    }

    fn check(&self, segment: &Segment) -> Result<()> {
        let p = &segment.layout().params;
        let path = segment.path();
        let mismatch = |field, found: u64, requested: u64| {
            if found == requested {
                Ok(())
            } else {
                Err(Error::LayoutMismatch {
                    path: path.into(),
                    field,
                    found,
                    requested,
                })
            }
        };
        if let Some(c) = self.capacity {
            mismatch("capacity", p.capacity, c)?;
        }
        if let Some(s) = self.slot_size {
            mismatch("slot size", p.slot_size, s)?;
        }
        if let Some(m) = self.max_consumers {
            mismatch("consumer table size", p.max_consumers.into(), m.into())?;
        }
        if let Some(m) = self.producer_mode {
            mismatch(
                "producer mode",
                p.producer_mode.code().into(),
                m.code().into(),
            )?;
        }
        if let Some(m) = self.max_producers {
            mismatch("producer table size", p.max_producers.into(), m.into())?;
        }
        if let Some(t) = self.unblock_timeout {
            let ns = u64::try_from(t.as_nanos()).unwrap_or(u64::MAX);
            mismatch("unblock timeout (ns)", p.unblock_timeout_ns, ns)?;
        }
        if let Some(w) = self.wakeups {
            let on = p.flags & FLAG_WAKEUPS != 0;
            mismatch("wake-ups flag", u64::from(on), u64::from(w))?;
        }
        if let Some(k) = self.packed {
            let on = p.flags & FLAG_PACKED != 0;
            mismatch("packed flag", u64::from(on), u64::from(k))?;
        }
        if let Some(k) = self.hot_counters {
            let on = p.flags & FLAG_NO_HOT_COUNTERS == 0;
            mismatch("hot counters flag", u64::from(on), u64::from(k))?;
        }
        if let Some(t) = self.type_id {
            if t != p.type_id {
                return Err(Error::TypeMismatch {
                    path: path.into(),
                    found: p.type_id,
                    requested: t,
                });
            }
        }
        Ok(())
    }
}

/// How a producer attaches and what it does about consumers that hold it
/// back. Everything here is looked at only while the producer waits (or
/// once, at attach), never on its hot path.
#[derive(Debug, Clone, Default)]
pub struct ProducerOptions {
    strategy: WaitStrategy,
    policy: Policy,
    ready: Option<Readiness>,
}

/// The readiness gate: consumers a producer waits for at attach.
#[derive(Debug, Clone)]
struct Readiness {
    count: u32,
    names: Vec<String>,
    timeout: Duration,
}

impl ProducerOptions {
    /// Defaults: the default wait strategy, a dead required consumer may
    /// hold the producer back for 5 s before claims fail, no progress
    /// timeout, no readiness gate.
    pub fn new() -> ProducerOptions {
        ProducerOptions::default()
    }

    /// How the producer waits for free slots.
    pub fn strategy(mut self, strategy: WaitStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// How long a dead required consumer (no live process holds its lease)
    /// may hold the producer back (time for it to come back under its name
    /// and resume) before claims fail with `ConsumerDead` naming it.
    pub fn consumer_dead_timeout(mut self, timeout: Duration) -> Self {
        self.policy.consumer_dead_timeout = timeout;
        self
    }

    /// A live required consumer that makes no progress for `timeout` while
    /// it holds the producer back is reported: the ring's stalled-consumer
    /// alert counter and the [`ProducerOptions::on_stall`] callback. If it
    /// still makes none after `grace` more, claims fail with
    /// `ConsumerStalled` naming it.
    pub fn progress_timeout(mut self, timeout: Duration, grace: Duration) -> Self {
        self.policy.progress_timeout = Some(timeout);
        self.policy.stall_grace = grace;
        self
    }

    /// Called (on the producer's thread, while it waits) once per stall
    /// found by the progress timeout.
    pub fn on_stall(mut self, f: impl Fn(&StallAlert) + Send + Sync + 'static) -> Self {
        self.policy.on_stall = Some(Arc::new(f));
        self
    }

    /// The readiness gate: attaching waits (at most `timeout`) until at
    /// least `count` consumers are active, and every consumer in `names`
    /// is, so that nothing is published before they can see it.
    pub fn wait_for_consumers(mut self, count: u32, names: &[&str], timeout: Duration) -> Self {
        self.ready = Some(Readiness {
            count,
            names: names.iter().map(|n| n.to_string()).collect(),
            timeout,
        });
        self
    }
}

/// How a consumer attaches.
#[derive(Debug, Clone, Default)]
pub struct ConsumerOptions {
    dependencies: Vec<String>,
    strategy: WaitStrategy,
    optional: bool,
    max_block: Duration,
}

impl ConsumerOptions {
    /// A required consumer with no dependencies and the default strategy.
    pub fn new() -> ConsumerOptions {
        ConsumerOptions::default()
    }

    /// Consumers whose commits this one waits for (pipelines, diamonds).
    pub fn dependencies(mut self, names: &[&str]) -> Self {
        self.dependencies = names.iter().map(|n| n.to_string()).collect();
        self
    }

    /// How the consumer waits for events.
    pub fn strategy(mut self, strategy: WaitStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// An optional consumer: producers never wait for it longer than
    /// `max_block` (zero: not at all). When it is dead, or has held a
    /// waiting producer back that long, it is evicted: it stops gating,
    /// its next commit (or a wait that has to wait) fails with `Evicted`
    /// (how many events it lost), and
    /// [`Consumer::rejoin`] starts it again at the current position.
    /// Required consumers (the default) are never evicted: producers wait
    /// for them, within their own policy (see [`ProducerOptions`]).
    pub fn optional(mut self, max_block: Duration) -> Self {
        self.optional = true;
        self.max_block = max_block;
        self
    }
}

/// Everything a participant needs, shared by the ring and its handles.
#[derive(Debug)]
struct Shared {
    segment: Segment,
    tables: Tables,
    slots: Slots,
}

/// An open ring: a mapped, validated segment. Cheap to clone; producers and
/// consumers keep the mapping alive after the ring itself is dropped.
#[derive(Debug, Clone)]
pub struct Ring {
    shared: Arc<Shared>,
}

impl Ring {
    fn from_segment(segment: Segment) -> Ring {
        let region = segment.region();
        let tables = Tables::new(region, segment.layout());
        let slots = Slots::new(&region, segment.layout());
        Ring {
            shared: Arc::new(Shared {
                segment,
                tables,
                slots,
            }),
        }
    }

    /// Creates a new ring; fails with `AlreadyExists` if the name is taken.
    pub fn create(location: &Location, options: &RingOptions) -> Result<Ring> {
        let layout = Self::layout_for(options)?;
        let segment = Segment::create(location, layout, options.mode.unwrap_or(DEFAULT_MODE))?;
        Ok(Ring::from_segment(segment))
    }

    /// Opens an existing ring, waiting up to the options' timeout for it to
    /// appear, and checks every option that was set.
    pub fn open(location: &Location, options: &RingOptions) -> Result<Ring> {
        let segment = Segment::open(location, options.timeout)?;
        options.check(&segment)?;
        Ok(Ring::from_segment(segment))
    }

    /// Opens the ring if it exists (checking the options that were set),
    /// creates it otherwise. Returns whether this call created it.
    pub fn open_or_create(location: &Location, options: &RingOptions) -> Result<(Ring, bool)> {
        let layout = Self::layout_for(options)?;
        let (segment, created) = Segment::open_or_create(
            location,
            layout,
            options.mode.unwrap_or(DEFAULT_MODE),
            options.timeout,
        )?;
        let ring = Ring::from_segment(segment);
        if !created && options.reclaim_stale && ring.unlink_if_stale()? {
            let again = RingOptions {
                reclaim_stale: false,
                ..options.clone()
            };
            return Ring::open_or_create(location, &again);
        }
        if !created {
            options.check(&ring.shared.segment)?;
        }
        Ok((ring, created))
    }

    /// Whether the ring is stale: it was used (something attached once)
    /// and no live process holds any lease of it now.
    pub fn is_stale(&self) -> Result<bool> {
        let s = &self.shared;
        let t = &s.tables;
        if t.counters()
            .ring(counters::ATTACHES)
            .load(Ordering::Relaxed)
            == 0
        {
            return Ok(false);
        }
        let held = |byte: u64| {
            sys::lock_held(s.segment.file(), byte)
                .map_err(|e| Error::io("lock probe", s.segment.path(), e))
        };
        for i in 0..t.max_consumers() {
            if held(crate::layout::LOCK_CONSUMER_LEASE + u64::from(i))? {
                return Ok(false);
            }
        }
        for i in 0..t.max_producers() {
            if held(LOCK_PRODUCER_LEASE + u64::from(i))? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Unlinks the ring's name if it is stale, under the registry lock (so
    /// no participant attaches meanwhile through this segment).
    fn unlink_if_stale(&self) -> Result<bool> {
        let _guard = lock_registry(&self.shared.segment)?;
        if !self.is_stale()? {
            return Ok(false);
        }
        match Segment::unlink(self.location()) {
            Ok(()) | Err(Error::NotFound { .. }) => Ok(true),
            Err(e) => Err(e),
        }
    }

    fn layout_for(options: &RingOptions) -> Result<Layout> {
        Layout::compute(options.params())
    }

    /// Removes a ring's name. Attached processes keep working.
    pub fn unlink(location: &Location) -> Result<()> {
        Segment::unlink(location)
    }

    /// Attaches a producer.
    ///
    /// Single-producer rings: fails with `ProducerExists` while another live
    /// process (or handle) is the producer; a producer whose process died is
    /// replaced, and the new one resumes after the last published sequence.
    ///
    /// Multi-producer rings: takes a free entry of the producer table
    /// (`ProducerTableFull` when every entry has a live producer). An entry
    /// whose producer died is reused after its unpublished claim, if any,
    /// is abandoned.
    pub fn producer(&self, strategy: WaitStrategy) -> Result<Producer> {
        self.producer_with(&ProducerOptions::new().strategy(strategy))
    }

    /// [`Ring::producer`] with options: the policy for consumers that hold
    /// the producer back, and the readiness gate.
    pub fn producer_with(&self, options: &ProducerOptions) -> Result<Producer> {
        let producer = self.attach_producer(options)?;
        if let Some(r) = &options.ready {
            self.wait_ready(r)?;
        }
        Ok(producer)
    }

    /// Waits (cold: polling every millisecond) until the readiness gate's
    /// consumers are active.
    fn wait_ready(&self, r: &Readiness) -> Result<()> {
        let t = &self.shared.tables;
        let start = std::time::Instant::now();
        loop {
            let active: Vec<String> = (0..t.max_consumers())
                .filter(|&i| t.consumer_state(i).load(Ordering::Acquire) == state::ACTIVE)
                .map(|i| t.consumer_name(i))
                .collect();
            let missing: Vec<&String> = r.names.iter().filter(|n| !active.contains(n)).collect();
            if active.len() >= r.count as usize && missing.is_empty() {
                return Ok(());
            }
            if start.elapsed() >= r.timeout {
                let mut what = format!(
                    "consumers to be ready: {} of {} active",
                    active.len(),
                    r.count
                );
                if !missing.is_empty() {
                    what.push_str(&format!(", missing {missing:?}"));
                }
                return Err(Error::Timeout {
                    what: what.into(),
                    waited: r.timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn attach_producer(&self, options: &ProducerOptions) -> Result<Producer> {
        let strategy = options.strategy;
        let seg = &self.shared.segment;
        let t = &self.shared.tables;
        let params = &seg.layout().params;
        let wakeups = Wakeups::for_ring(params.flags & FLAG_WAKEUPS != 0);
        if strategy == WaitStrategy::Blocking && !wakeups.on() {
            return Err(Error::Unsupported(format!(
                "ring {} was created without wake-ups; the blocking strategy needs them",
                seg.path().display()
            )));
        }
        let _guard = lock_registry(seg)?;
        let (entry, lease) = match params.producer_mode {
            ProducerMode::Single => {
                let lease = Lease::try_acquire(seg, LOCK_PRODUCER_LEASE)?.ok_or_else(|| {
                    Error::ProducerExists {
                        path: seg.path().into(),
                        pid: t.producer_pid(0).load(Ordering::Relaxed),
                    }
                })?;
                (0, lease)
            }
            ProducerMode::Multi => self.claim_producer_entry()?,
        };
        // Fault harness: after the lease, before the epoch and state.
        crate::fault::fault_point!("producer.attach");
        let pid = sys::pid();
        t.producer_pid(entry).store(pid, Ordering::Relaxed);
        t.producer_start_time(entry)
            .store(sys::process_start_time(pid), Ordering::Relaxed);
        t.producer_epoch(entry).fetch_add(1, Ordering::AcqRel);
        t.producer_state(entry)
            .store(state::ACTIVE, Ordering::Release);
        t.counters().bump(counters::ATTACHES);
        let counts = t.counters().for_producer(entry);
        // Attaching is activity (as a consumer's join is): an observer
        // sees the new holder at once, not after its first flush.
        counts.touch();
        let counts = if params.flags & FLAG_NO_HOT_COUNTERS != 0 {
            counts.without_hot_counting()
        } else {
            counts
        };
        let sequencer = match params.producer_mode {
            ProducerMode::Single => Sequencer::Single(
                SingleSequencer::new(
                    *t,
                    self.shared.slots,
                    params.capacity,
                    wakeups,
                    strategy,
                    counts,
                )
                .map_err(|e| locate(e, seg.path()))?,
            ),
            ProducerMode::Multi => Sequencer::Multi(MultiSequencer::new(
                *t,
                self.shared.slots,
                entry,
                wakeups,
                strategy,
                Duration::from_nanos(params.unblock_timeout_ns),
                counts,
            )),
        };
        Ok(Producer {
            sequencer,
            slots: self.shared.slots,
            entry,
            policy: options.policy.clone(),
            watch: Watch::default(),
            _lease: lease,
            shared: self.shared.clone(),
        })
    }

    /// Multi-producer rings: a producer-table entry and its lease (registry
    /// lock held). Free entries first, then ones left cleanly, then ones
    /// whose producer died, whose claim is abandoned first.
    fn claim_producer_entry(&self) -> Result<(u32, Lease)> {
        let seg = &self.shared.segment;
        let t = &self.shared.tables;
        let n = t.max_producers();
        let in_state =
            |st: u32| (0..n).filter(move |&i| t.producer_state(i).load(Ordering::Acquire) == st);
        let others = (0..n).filter(|&i| {
            let st = t.producer_state(i).load(Ordering::Acquire);
            st != state::FREE && st != state::LEFT
        });
        for i in in_state(state::FREE)
            .chain(in_state(state::LEFT))
            .chain(others)
        {
            if let Some(lease) = Lease::try_acquire(seg, LOCK_PRODUCER_LEASE + u64::from(i))? {
                recovery::recover_entry(t, &self.shared.slots, i);
                return Ok((i, lease));
            }
        }
        Err(Error::ProducerTableFull {
            path: seg.path().into(),
            max: n,
        })
    }

    /// Registers a consumer under `name`, waiting (in batches) for events
    /// published after it joined. `dependencies` name consumers whose
    /// commits this one waits for (pipelines and diamonds).
    pub fn consumer(
        &self,
        name: &str,
        dependencies: &[&str],
        strategy: WaitStrategy,
    ) -> Result<Consumer> {
        self.consumer_with(
            name,
            &ConsumerOptions::new()
                .dependencies(dependencies)
                .strategy(strategy),
        )
    }

    /// Registers a consumer under `name` with options (dependencies,
    /// strategy, required or optional).
    ///
    /// A name whose previous holder died while still gating the producer
    /// resumes from its last committed sequence: the batch it had not
    /// committed is delivered again (at-least-once). A name that left or
    /// was evicted starts at the current position;
    /// [`Consumer::lost_on_join`] says how many events it missed.
    pub fn consumer_with(&self, name: &str, options: &ConsumerOptions) -> Result<Consumer> {
        let core = ConsumerCore::register(
            &self.shared.segment,
            self.shared.tables,
            self.shared.slots,
            name,
            &options.dependencies,
            options.strategy,
            options.optional.then_some(options.max_block),
        )?;
        Ok(Consumer {
            core,
            left: false,
            shared: self.shared.clone(),
        })
    }

    /// The segment's validated layout.
    pub fn layout(&self) -> &Layout {
        self.shared.segment.layout()
    }

    /// Number of slots.
    pub fn capacity(&self) -> u64 {
        self.layout().params.capacity
    }

    /// Payload bytes per slot.
    pub fn slot_size(&self) -> usize {
        self.layout().params.slot_size as usize
    }

    /// Whether the ring has the packed layout (see [`RingOptions::packed`]).
    pub fn is_packed(&self) -> bool {
        self.layout().params.flags & FLAG_PACKED != 0
    }

    /// Where the ring lives.
    pub fn location(&self) -> &Location {
        self.shared.segment.location()
    }

    /// The segment's file-system path.
    pub fn path(&self) -> &std::path::Path {
        self.shared.segment.path()
    }

    /// The last published sequence (-1 before the first publish).
    ///
    /// Multi-producer rings have no single cursor: this is the highest
    /// sequence up to which everything is published or abandoned, found by
    /// scanning the stamps of the last ring's worth of claims (a cold call,
    /// for inspection).
    pub fn cursor(&self) -> i64 {
        let t = &self.shared.tables;
        if self.layout().params.producer_mode == ProducerMode::Single {
            return t.cursor().get();
        }
        let slots = &self.shared.slots;
        let claimed = t.claim().load(Ordering::Acquire);
        // Everything a gating consumer has passed is resolved: start after
        // the slowest one (a short scan when consumers keep up).
        let (slowest, _) = t.gating_minimum(i64::MIN);
        let from = claimed
            .saturating_sub(slots.capacity() as i64 - 1)
            .max(slowest.saturating_add(1))
            .max(0);
        (from..=claimed)
            .find(|&s| {
                !matches!(
                    slots.state(s),
                    crate::slots::Stamp::Published | crate::slots::Stamp::Abandoned
                )
            })
            .map_or(claimed, |s| s - 1)
    }

    /// Multi-producer rings: the highest claimed sequence (-1: none). In a
    /// single-producer ring, the cursor.
    pub fn claimed(&self) -> i64 {
        let t = &self.shared.tables;
        match self.layout().params.producer_mode {
            ProducerMode::Single => t.cursor().get(),
            ProducerMode::Multi => t.claim().load(Ordering::Acquire),
        }
    }

    /// Multi-producer rings: how many sequences were abandoned so far.
    pub fn abandoned(&self) -> u64 {
        self.shared.tables.abandoned().load(Ordering::Relaxed)
    }

    /// The segment and the raw views the participants use: for tests and
    /// tools that inspect or damage a ring on purpose. Not a stable API.
    #[doc(hidden)]
    pub fn raw_parts(&self) -> (&Segment, Tables, Slots) {
        (&self.shared.segment, self.shared.tables, self.shared.slots)
    }

    /// The counters and the participant tables as an outside observer sees
    /// them, with liveness. Never blocks or slows the ring: any process that
    /// can open the segment may take one without taking part.
    pub fn snapshot(&self) -> crate::snapshot::Snapshot {
        let s = &self.shared;
        crate::snapshot::take(&s.segment, &s.tables, &s.slots, self.cursor())
    }

    /// A snapshot of every used consumer-table entry.
    pub fn consumers(&self) -> Vec<ConsumerRecord> {
        let t = &self.shared.tables;
        (0..t.max_consumers())
            .map(|i| t.consumer_record(i))
            .filter(|r| r.state != state::FREE)
            .collect()
    }
}

/// Multi-producer claim, out of line so the single-producer path stays as
/// small as it was.
#[inline(never)]
fn multi_claim<'w>(
    m: &mut MultiSequencer,
    n: u64,
    timeout: Duration,
    shared: &Shared,
    watcher: impl FnOnce() -> Option<Watcher<'w>>,
) -> Result<i64> {
    m.claim(n, timeout, watcher)
        .map_err(|e| locate(e, shared.segment.path()))
}

/// Multi-producer publish, out of line (see [`multi_claim`]).
#[inline(never)]
fn multi_publish(m: &mut MultiSequencer, lo: i64, hi: i64, shared: &Shared) -> Result<()> {
    m.publish(lo, hi)
        .map_err(|e| locate(e, shared.segment.path()))
}

/// Multi-producer one-event publish, out of line (see [`multi_claim`]):
/// claim one, fill, publish; a claim whose `fill` panicked is abandoned.
#[inline(never)]
fn multi_publish_one<'w>(
    m: &mut MultiSequencer,
    timeout: Duration,
    shared: &Shared,
    watcher: impl FnOnce() -> Option<Watcher<'w>>,
    fill: impl FnOnce(i64),
) -> Result<i64> {
    /// Abandons the claim unless disarmed (`fill` unwinding).
    struct Unclaim<'a> {
        m: &'a mut MultiSequencer,
        seq: i64,
        armed: bool,
    }
    impl Drop for Unclaim<'_> {
        fn drop(&mut self) {
            if self.armed {
                self.m.unclaim(self.seq);
            }
        }
    }
    let seq = multi_claim(m, 1, timeout, shared, watcher)?;
    let mut guard = Unclaim {
        m,
        seq,
        armed: true,
    };
    fill(seq);
    guard.armed = false;
    guard
        .m
        .publish(seq, seq)
        .map_err(|e| locate(e, shared.segment.path()))?;
    Ok(seq)
}

/// The watch a waiting producer keeps over the consumers holding it back.
///
/// Not under `--cfg loom`: the watch runs on wall-clock slices and probes
/// leases with system calls, which a model must not depend on (loom needs
/// every run of a model to be deterministic); the models check the
/// protocols it does not change.
#[cold]
fn watcher<'a>(
    shared: &'a Shared,
    policy: &'a Policy,
    watch: &'a mut Watch,
) -> Option<Watcher<'a>> {
    if cfg!(loom) {
        return None;
    }
    Some(Watcher {
        segment: &shared.segment,
        policy,
        watch,
    })
}

/// Names the segment in a corruption error raised below the segment layer.
#[cold]
fn locate(e: Error, path: &std::path::Path) -> Error {
    match e {
        Error::Corrupt { detail, .. } => Error::Corrupt {
            path: path.into(),
            detail,
        },
        other => other,
    }
}

fn check_type<T: Pod>(slots: &Slots) -> Result<()> {
    let slot_size = slots.slot_size();
    if std::mem::size_of::<T>() > slot_size {
        return Err(Error::InvalidSlotSize {
            slot_size: std::mem::size_of::<T>() as u64,
            reason: format!("the event type does not fit the ring's {slot_size}-byte slots"),
        });
    }
    if std::mem::align_of::<T>() > slots.alignment() {
        return Err(Error::InvalidArgument(format!(
            "the event type needs {}-byte alignment; this ring's slots are {}-byte aligned",
            std::mem::align_of::<T>(),
            slots.alignment()
        )));
    }
    Ok(())
}

fn require_packed(slots: &Slots) -> Result<()> {
    if !slots.packed() {
        return Err(Error::Unsupported(
            "batch slices need a packed ring (RingOptions::packed)".into(),
        ));
    }
    Ok(())
}

/// How a producer claims and publishes: the ring's mode, chosen at attach.
#[derive(Debug)]
enum Sequencer {
    Single(SingleSequencer),
    Multi(MultiSequencer),
}

/// A producer of the ring. One thread at a time (it is `Send`, not `Sync`).
///
/// The same calls work in both producer modes: claim, write the claimed
/// slots, publish. In a multi-producer ring each producer has at most one
/// outstanding claim, and a claim not published within the ring's unblock
/// timeout may be abandoned (`publish` then fails with `ClaimAbandoned`).
#[derive(Debug)]
pub struct Producer {
    sequencer: Sequencer,
    slots: Slots,
    entry: u32,
    policy: Policy,
    watch: Watch,
    _lease: Lease,
    shared: Arc<Shared>,
}

impl Producer {
    /// Claims `n` consecutive slots, waiting at most `timeout` for consumers
    /// to free them; returns the first sequence. Write the slots with
    /// [`Producer::slot_mut`] or [`Producer::write`], then
    /// [`Producer::publish`] the range.
    #[inline]
    pub fn claim(&mut self, n: u64, timeout: Duration) -> Result<i64> {
        let (shared, policy, watch) = (&self.shared, &self.policy, &mut self.watch);
        match &mut self.sequencer {
            Sequencer::Single(s) => s.claim(n, timeout, || watcher(shared, policy, watch)),
            Sequencer::Multi(m) => {
                multi_claim(m, n, timeout, shared, || watcher(shared, policy, watch))
            }
        }
    }

    /// Claims `n` slots without waiting (`WouldBlock` when the ring is full).
    #[inline]
    pub fn try_claim(&mut self, n: u64) -> Result<i64> {
        self.claim(n, Duration::ZERO)
    }

    #[inline]
    fn slots(&self) -> &Slots {
        &self.slots
    }

    /// The payload of claimed, unpublished sequence `seq`.
    #[inline]
    pub fn slot_mut(&mut self, seq: i64) -> Result<&mut [u8]> {
        self.check_claimed(seq, seq)?;
        let slots = self.slots();
        // SAFETY: `seq` is claimed by this producer and unpublished, so no
        // consumer reads its slot (gating), and no other producer writes it
        // (single: the lease; multi: the claim counter hands each sequence
        // to one producer); the slot lies in the mapping, which
        // `self.shared` keeps alive, and the borrow of `self` keeps the
        // sequence claimed while it lives.
        Ok(unsafe { std::slice::from_raw_parts_mut(slots.payload(seq), slots.slot_size()) })
    }

    /// Checks that `[lo, hi]` is claimed by this producer and unpublished.
    #[inline]
    fn check_claimed(&self, lo: i64, hi: i64) -> Result<()> {
        let held = match &self.sequencer {
            Sequencer::Single(s) => lo > s.published() && hi <= s.claimed() && lo <= hi,
            Sequencer::Multi(m) => m.holds(lo, hi),
        };
        if held {
            Ok(())
        } else {
            Err(self.not_claimed(lo, hi))
        }
    }

    #[cold]
    fn not_claimed(&self, lo: i64, hi: i64) -> Error {
        let (first, last) = match &self.sequencer {
            Sequencer::Single(s) => (s.published() + 1, s.claimed()),
            Sequencer::Multi(m) => m.pending().unwrap_or((0, -1)),
        };
        if first > last {
            return Error::SequenceOutOfRange(format!(
                "[{lo}, {hi}] is not claimed: this producer has no unpublished claim"
            ));
        }
        Error::SequenceOutOfRange(format!(
            "[{lo}, {hi}] is not within the claimed range [{first}, {last}]"
        ))
    }

    /// Packed rings: the payloads of claimed, unpublished sequences
    /// `[lo, hi]` as at most two contiguous byte slices (the second is
    /// empty unless the range wraps around the end of the ring). Each event
    /// occupies [`Producer::stride`] bytes. Checked once for the whole
    /// batch, so writing a batch costs what a `memcpy` costs. Stamped rings
    /// refuse this (`Unsupported`): their slots hold stamps between the
    /// payloads.
    pub fn slots_mut(&mut self, lo: i64, hi: i64) -> Result<(&mut [u8], &mut [u8])> {
        require_packed(self.slots())?;
        self.check_claimed(lo, hi)?;
        let [(a, a_len), (b, b_len)] = self.slots().contiguous(lo, hi);
        // SAFETY: the sequences are claimed by this producer and unpublished
        // (checked), so no consumer reads them and no other producer writes
        // them; the two ranges are disjoint parts of the slot array (split
        // at the wrap), inside the mapping that `self.shared` keeps alive;
        // the borrow of `self` keeps them claimed while the slices live.
        unsafe {
            Ok((
                std::slice::from_raw_parts_mut(a, a_len),
                std::slice::from_raw_parts_mut(b, b_len),
            ))
        }
    }

    /// The payloads of claimed, unpublished `[lo, hi]` as (start, bytes) of
    /// at most two runs of [`Producer::stride`]-spaced slots (any layout;
    /// for the C ABI's batch accessor). Checked once for the range.
    #[doc(hidden)]
    pub fn raw_span(&mut self, lo: i64, hi: i64) -> Result<[(*mut u8, usize); 2]> {
        self.check_claimed(lo, hi)?;
        Ok(self.slots().contiguous(lo, hi))
    }

    /// Bytes each event occupies in the slices of [`Producer::slots_mut`].
    pub fn stride(&self) -> usize {
        self.slots().stride()
    }

    /// Copies `event` into claimed sequence `seq`.
    #[inline]
    pub fn write<T: Pod>(&mut self, seq: i64, event: &T) -> Result<()> {
        check_type::<T>(self.slots())?;
        let bytes = bytemuck::bytes_of(event);
        self.slot_mut(seq)?[..bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    /// Publishes `[lo, hi]`: it must start at the first unpublished sequence
    /// of this producer's claim and lie within the claimed range.
    #[inline]
    pub fn publish(&mut self, lo: i64, hi: i64) -> Result<()> {
        match &mut self.sequencer {
            Sequencer::Single(s) => s.publish(lo, hi),
            Sequencer::Multi(m) => multi_publish(m, lo, hi, &self.shared),
        }
    }

    /// Publishes one event: claims the next slot (waiting at most `timeout`
    /// for consumers to free it), lets `write` fill its payload
    /// ([`Producer::slot_size`] bytes, 64-byte aligned; what `write` leaves
    /// alone keeps the bytes of an earlier lap), publishes it and returns
    /// its sequence. The one-event path: no claim to track and nothing to
    /// re-check between the steps. If `write` panics, nothing is published
    /// (a multi-producer ring abandons the sequence).
    ///
    /// ```
    /// # use disruptor_mp::{Location, Ring, RingOptions, WaitStrategy};
    /// # use std::time::Duration;
    /// # let name = Location::shm(&format!("dmp-doc-pw-{}", std::process::id()));
    /// # let ring = Ring::create(&name, &RingOptions::new().capacity(8).slot_size(8))?;
    /// # let mut producer = ring.producer(WaitStrategy::Yield)?;
    /// let seq = producer.publish_with(Duration::from_secs(1), |slot| {
    ///     slot[..8].copy_from_slice(&42u64.to_le_bytes())
    /// })?;
    /// # assert_eq!(seq, 0);
    /// # drop(producer); drop(ring); disruptor_mp::Ring::unlink(&name)?;
    /// # Ok::<(), disruptor_mp::Error>(())
    /// ```
    #[inline]
    pub fn publish_with<F: FnOnce(&mut [u8])>(
        &mut self,
        timeout: Duration,
        write: F,
    ) -> Result<i64> {
        let slots = &self.slots;
        let fill = move |seq: i64| {
            // SAFETY: the sequencer calls this once `seq` is this producer's
            // (single: the lease and the gate check; multi: the claim) and
            // before it is published, so no consumer reads the slot and no
            // other producer writes it; the slot lies in the mapping, which
            // `self.shared` keeps alive for this call.
            write(unsafe { std::slice::from_raw_parts_mut(slots.payload(seq), slots.slot_size()) })
        };
        let (shared, policy, watch) = (&self.shared, &self.policy, &mut self.watch);
        match &mut self.sequencer {
            Sequencer::Single(s) => s.publish_one(timeout, || watcher(shared, policy, watch), fill),
            Sequencer::Multi(m) => {
                multi_publish_one(m, timeout, shared, || watcher(shared, policy, watch), fill)
            }
        }
    }

    /// [`Producer::publish_with`] without waiting (`WouldBlock` when the
    /// ring is full).
    #[inline]
    pub fn try_publish_with<F: FnOnce(&mut [u8])>(&mut self, write: F) -> Result<i64> {
        self.publish_with(Duration::ZERO, write)
    }

    /// Publishes one event holding `event` (see [`Producer::publish_with`]).
    #[inline]
    pub fn send<T: Pod>(&mut self, event: &T, timeout: Duration) -> Result<i64> {
        check_type::<T>(self.slots())?;
        let bytes = bytemuck::bytes_of(event);
        self.publish_with(timeout, |slot| slot[..bytes.len()].copy_from_slice(bytes))
    }

    /// Claims `events.len()` slots at once, writes them, publishes the
    /// batch; returns the last sequence.
    pub fn send_batch<T: Pod>(&mut self, events: &[T], timeout: Duration) -> Result<i64> {
        check_type::<T>(self.slots())?;
        let first = self.claim(events.len() as u64, timeout)?;
        for (i, e) in events.iter().enumerate() {
            self.write(first + i as i64, e)?;
        }
        let last = first + events.len() as i64 - 1;
        self.publish(first, last)?;
        Ok(last)
    }

    /// Gives back claimed, unpublished sequences from `from` on. A
    /// single-producer ring reuses them for the next claim; a multi-producer
    /// ring cannot move its claim counter back, so it abandons them
    /// (consumers skip them).
    pub fn unclaim(&mut self, from: i64) {
        match &mut self.sequencer {
            Sequencer::Single(s) => s.unclaim(from),
            Sequencer::Multi(m) => {
                m.unclaim(from);
            }
        }
    }

    /// The last published sequence: the ring's cursor for a single
    /// producer, this producer's own last publish in a multi-producer ring
    /// (-1: none yet).
    pub fn published(&self) -> i64 {
        match &self.sequencer {
            Sequencer::Single(s) => s.published(),
            Sequencer::Multi(m) => m.published(),
        }
    }

    /// Payload bytes per slot.
    pub fn slot_size(&self) -> usize {
        self.slots().slot_size()
    }

    /// The ring this producer publishes to.
    pub fn capacity(&self) -> u64 {
        self.shared.segment.layout().params.capacity
    }

    /// This producer's entry in the producer table.
    pub fn index(&self) -> u32 {
        self.entry
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        // Exact counts before the entry shows it left.
        match &self.sequencer {
            Sequencer::Single(s) => s.flush_counters(),
            Sequencer::Multi(m) => m.flush_counters(),
        }
        if let Ok(_guard) = lock_registry(&self.shared.segment) {
            if let Sequencer::Multi(m) = &mut self.sequencer {
                if let Some((from, _)) = m.pending() {
                    m.unclaim(from);
                }
            }
            let t = &self.shared.tables;
            t.producer_state(self.entry)
                .store(state::LEFT, Ordering::Release);
            t.counters().bump(counters::DETACHES);
        }
    }
}

/// A registered consumer. One thread at a time (`Send`, not `Sync`).
#[derive(Debug)]
pub struct Consumer {
    core: ConsumerCore,
    left: bool,
    shared: Arc<Shared>,
}

impl Consumer {
    /// Waits until `seq` is available; returns the highest available
    /// sequence (at least `seq`). Read `[seq, returned]`, then commit.
    #[inline]
    pub fn wait_for(&mut self, seq: i64, timeout: Duration) -> Result<i64> {
        self.core.wait_for(|| &self.shared.segment, seq, timeout)
    }

    /// `wait_for` without waiting (`WouldBlock` when nothing is available).
    #[inline]
    pub fn try_wait_for(&mut self, seq: i64) -> Result<i64> {
        self.core
            .wait_for(|| &self.shared.segment, seq, Duration::ZERO)
    }

    /// The next sequence to read (last committed + 1).
    #[inline]
    pub fn next_sequence(&self) -> i64 {
        self.core.committed() + 1
    }

    /// The last committed sequence.
    pub fn committed(&self) -> i64 {
        self.core.committed()
    }

    /// The payload of available, uncommitted sequence `seq`.
    #[inline]
    pub fn slot(&self, seq: i64) -> Result<&[u8]> {
        self.core.check_readable(seq)?;
        let slots = self.core.slots();
        // SAFETY: `seq` is published and not yet committed by this consumer,
        // so the producer will not overwrite it (gating); the mapping lives
        // as long as `self.shared`, and `commit` (which takes `&mut self`)
        // cannot run while the returned borrow lives.
        Ok(unsafe { std::slice::from_raw_parts(slots.payload(seq), slots.slot_size()) })
    }

    /// Packed rings: the payloads of available, uncommitted sequences
    /// `[lo, hi]` as at most two contiguous byte slices (split where the
    /// ring wraps); each event occupies [`Consumer::stride`] bytes. Checked
    /// once for the whole batch. Stamped rings refuse this (`Unsupported`).
    pub fn slots(&self, lo: i64, hi: i64) -> Result<(&[u8], &[u8])> {
        let slots = self.core.slots();
        require_packed(slots)?;
        self.core.check_range(lo, hi)?;
        let [(a, a_len), (b, b_len)] = slots.contiguous(lo, hi);
        // SAFETY: the sequences are published and not committed by this
        // consumer (checked), so the producer does not overwrite them; both
        // ranges lie in the mapping kept alive by `self.shared`, and
        // `commit` (`&mut self`) cannot run while the slices live.
        unsafe {
            Ok((
                std::slice::from_raw_parts(a, a_len),
                std::slice::from_raw_parts(b, b_len),
            ))
        }
    }

    /// The payloads of available, uncommitted `[lo, hi]` as (start, bytes)
    /// of at most two runs of [`Consumer::stride`]-spaced slots (any
    /// layout; for the C ABI's batch accessor). Checked once for the range.
    #[doc(hidden)]
    pub fn raw_span(&self, lo: i64, hi: i64) -> Result<[(*mut u8, usize); 2]> {
        self.core.check_range(lo, hi)?;
        Ok(self.core.slots().contiguous(lo, hi))
    }

    /// Payload bytes per slot.
    pub fn slot_size(&self) -> usize {
        self.core.slots().slot_size()
    }

    /// Bytes each event occupies in the slices of [`Consumer::slots`].
    pub fn stride(&self) -> usize {
        self.core.slots().stride()
    }

    /// A copy of the event at `seq`.
    #[inline]
    pub fn read<T: Pod>(&self, seq: i64) -> Result<T> {
        check_type::<T>(self.core.slots())?;
        let bytes = self.slot(seq)?;
        Ok(bytemuck::pod_read_unaligned(
            &bytes[..std::mem::size_of::<T>()],
        ))
    }

    /// The event at `seq`, in place.
    #[inline]
    pub fn get<T: Pod>(&self, seq: i64) -> Result<&T> {
        check_type::<T>(self.core.slots())?;
        let bytes = self.slot(seq)?;
        Ok(bytemuck::from_bytes(&bytes[..std::mem::size_of::<T>()]))
    }

    /// Marks everything up to `seq` consumed (one release store).
    #[inline]
    pub fn commit(&mut self, seq: i64) -> Result<()> {
        self.core.commit(seq)
    }

    /// Consumes one event: waits at most `timeout` for the next one, hands
    /// its sequence and payload to `read`, commits it, and returns what
    /// `read` returned. Abandoned sequences (multi-producer rings) are
    /// skipped. The one-event path: when the event is already known
    /// available this is a comparison, the call to `read` and the commit.
    /// If `read` panics nothing is committed (the event comes again). An
    /// optional consumer's `Err(Evicted)` means the producer may have
    /// overwritten the event while `read` looked at it: discard what `read`
    /// made of it.
    #[inline]
    pub fn consume_with<R, F: FnOnce(i64, &[u8]) -> R>(
        &mut self,
        timeout: Duration,
        read: F,
    ) -> Result<R> {
        let shared = &self.shared;
        let seq = self.core.next_event(|| &shared.segment, timeout)?;
        let slots = self.core.slots();
        // SAFETY: `seq` is published and not yet committed by this consumer
        // (next_event), so the producer does not overwrite it (gating); the
        // mapping lives as long as `self.shared`, and the slice does not
        // outlive `read`.
        let r = read(seq, unsafe {
            std::slice::from_raw_parts(slots.payload(seq), slots.slot_size())
        });
        self.core.commit_next(seq)?;
        Ok(r)
    }

    /// [`Consumer::consume_with`] without waiting (`WouldBlock` when no
    /// event is available).
    #[inline]
    pub fn try_consume_with<R, F: FnOnce(i64, &[u8]) -> R>(&mut self, read: F) -> Result<R> {
        self.consume_with(Duration::ZERO, read)
    }

    /// Consumes one event and returns a copy of it (see
    /// [`Consumer::consume_with`]).
    #[inline]
    pub fn recv<T: Pod>(&mut self, timeout: Duration) -> Result<T> {
        check_type::<T>(self.core.slots())?;
        self.consume_with(timeout, |_, bytes| {
            bytemuck::pod_read_unaligned(&bytes[..std::mem::size_of::<T>()])
        })
    }

    /// Waits for the next batch (at most `timeout`), hands each event to
    /// `f`, commits the batch, and returns how many events it handled.
    /// Abandoned sequences (multi-producer rings) are skipped and not
    /// counted.
    pub fn poll<F: FnMut(i64, &[u8])>(&mut self, timeout: Duration, mut f: F) -> Result<usize> {
        let next = self.next_sequence();
        let last = self.wait_for(next, timeout)?;
        let mut handled = 0;
        for seq in next..=last {
            match self.slot(seq) {
                Ok(bytes) => {
                    f(seq, bytes);
                    handled += 1;
                }
                Err(Error::Abandoned { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        self.commit(last)?;
        Ok(handled)
    }

    /// Whether available sequence `seq` was abandoned by its producer
    /// (multi-producer rings; never in single-producer ones). Its slot holds
    /// no event; [`Consumer::slot`] refuses it with `Abandoned`.
    pub fn is_abandoned(&self, seq: i64) -> bool {
        self.core.is_abandoned(seq)
    }

    /// Leaves the ring now (also done on drop): the consumer stops gating
    /// the producer; its name and committed sequence stay in the table.
    pub fn close(mut self) -> Result<()> {
        self.leave()
    }

    fn leave(&mut self) -> Result<()> {
        if self.left {
            return Ok(());
        }
        self.left = true;
        self.core.leave(&self.shared.segment)
    }

    /// Entry index in the consumer table.
    pub fn index(&self) -> u32 {
        self.core.index()
    }

    /// Whether this consumer is optional (see [`ConsumerOptions::optional`]).
    pub fn is_optional(&self) -> bool {
        self.core.is_optional()
    }

    /// Events this consumer's name missed when it joined: those published
    /// after the entry's last commit and before this consumer's start (0
    /// for a new name, or one that resumed from its committed sequence).
    pub fn lost_on_join(&self) -> u64 {
        self.core.lost_on_join()
    }

    /// After `Evicted`: joins again at the current position and returns
    /// how many events were lost (published after the last commit and
    /// before the new start). A consumer that was not evicted is left as
    /// it is (`Ok(0)`).
    pub fn rejoin(&mut self) -> Result<u64> {
        self.core.rejoin(&self.shared.segment)
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let _ = self.leave();
    }
}
