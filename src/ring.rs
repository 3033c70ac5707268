//! The safe Rust facade: [`Ring`], [`Producer`], [`Consumer`].

use crate::consumer::ConsumerCore;
use crate::error::{Error, Result};
use crate::layout::{
    state, Layout, Params, ProducerMode, FLAG_PACKED, FLAG_WAKEUPS, LOCK_PRODUCER_LEASE,
};
use crate::liveness::{lock_registry, Lease};
use crate::region::Location;
use crate::segment::Segment;
use crate::sequencer::SingleSequencer;
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
    type_id: Option<u64>,
    wakeups: Option<bool>,
    packed: Option<bool>,
    mode: Option<u32>,
    timeout: Duration,
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
            max_producers: 1,
            producer_mode,
            type_id: self.type_id.unwrap_or(0),
            flags: if self.wakeups.unwrap_or(true) {
                FLAG_WAKEUPS
            } else {
                0
            } | if self.packed.unwrap_or(false) {
                FLAG_PACKED
            } else {
                0
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
        if let Some(w) = self.wakeups {
            let on = p.flags & FLAG_WAKEUPS != 0;
            mismatch("wake-ups flag", u64::from(on), u64::from(w))?;
        }
        if let Some(k) = self.packed {
            let on = p.flags & FLAG_PACKED != 0;
            mismatch("packed flag", u64::from(on), u64::from(k))?;
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
        if !created {
            options.check(&segment)?;
        }
        Ok((Ring::from_segment(segment), created))
    }

    fn layout_for(options: &RingOptions) -> Result<Layout> {
        let params = options.params();
        if params.producer_mode == ProducerMode::Multi {
            return Err(Error::Unsupported(
                "multi-producer rings are not available in this version".into(),
            ));
        }
        Layout::compute(params)
    }

    /// Removes a ring's name. Attached processes keep working.
    pub fn unlink(location: &Location) -> Result<()> {
        Segment::unlink(location)
    }

    /// Attaches the ring's single producer. Fails with `ProducerExists`
    /// while another live process (or handle) is the producer; a producer
    /// whose process died is replaced, and the new one resumes after the
    /// last published sequence.
    pub fn producer(&self, strategy: WaitStrategy) -> Result<Producer> {
        let seg = &self.shared.segment;
        let t = &self.shared.tables;
        let wakeups = seg.layout().params.flags & FLAG_WAKEUPS != 0;
        if strategy == WaitStrategy::Blocking && !wakeups {
            return Err(Error::Unsupported(format!(
                "ring {} was created without wake-ups; the blocking strategy needs them",
                seg.path().display()
            )));
        }
        let _guard = lock_registry(seg)?;
        let lease =
            Lease::try_acquire(seg, LOCK_PRODUCER_LEASE)?.ok_or_else(|| Error::ProducerExists {
                path: seg.path().into(),
                pid: t.producer_pid(0).load(Ordering::Relaxed),
            })?;
        let pid = sys::pid();
        t.producer_pid(0).store(pid, Ordering::Relaxed);
        t.producer_start_time(0)
            .store(sys::process_start_time(pid), Ordering::Relaxed);
        t.producer_epoch(0).fetch_add(1, Ordering::AcqRel);
        t.producer_state(0).store(state::ACTIVE, Ordering::Release);
        let sequencer = SingleSequencer::new(
            *t,
            self.shared.slots,
            seg.layout().params.capacity,
            wakeups,
            strategy,
        )
        .map_err(|e| match e {
            Error::Corrupt { detail, .. } => Error::Corrupt {
                path: seg.path().into(),
                detail,
            },
            other => other,
        })?;
        Ok(Producer {
            sequencer,
            _lease: lease,
            shared: self.shared.clone(),
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
        let deps: Vec<String> = dependencies.iter().map(|d| d.to_string()).collect();
        let core = ConsumerCore::register(
            &self.shared.segment,
            self.shared.tables,
            self.shared.slots,
            name,
            &deps,
            strategy,
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
    pub fn cursor(&self) -> i64 {
        self.shared.tables.cursor().get()
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
    if slots.stamped() {
        return Err(Error::Unsupported(
            "batch slices need a packed ring (RingOptions::packed)".into(),
        ));
    }
    Ok(())
}

/// The ring's single producer. One thread at a time (it is `Send`, not
/// `Sync`).
#[derive(Debug)]
pub struct Producer {
    sequencer: SingleSequencer,
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
        self.sequencer.claim(n, timeout)
    }

    /// Claims `n` slots without waiting (`WouldBlock` when the ring is full).
    #[inline]
    pub fn try_claim(&mut self, n: u64) -> Result<i64> {
        self.sequencer.claim(n, Duration::ZERO)
    }

    /// The payload of claimed, unpublished sequence `seq`.
    #[inline]
    pub fn slot_mut(&mut self, seq: i64) -> Result<&mut [u8]> {
        self.check_claimed(seq, seq)?;
        let slots = self.sequencer.slots();
        // SAFETY: `seq` is claimed and unpublished, so no consumer reads its
        // slot (the gating protocol) and no other producer exists (lease);
        // the slot lies in the mapping, which `self.shared` keeps alive, and
        // the borrow of `self` keeps the sequence claimed while it lives.
        Ok(unsafe { std::slice::from_raw_parts_mut(slots.payload(seq), slots.slot_size()) })
    }

    /// Checks that `[lo, hi]` is claimed and unpublished.
    #[inline]
    fn check_claimed(&self, lo: i64, hi: i64) -> Result<()> {
        let (published, claimed) = (self.sequencer.published(), self.sequencer.claimed());
        if lo > published && hi <= claimed && lo <= hi {
            return Ok(());
        }
        Err(Error::SequenceOutOfRange(format!(
            "[{lo}, {hi}] is not within the claimed range [{}, {claimed}]",
            published + 1
        )))
    }

    /// Packed rings: the payloads of claimed, unpublished sequences
    /// `[lo, hi]` as at most two contiguous byte slices (the second is
    /// empty unless the range wraps around the end of the ring). Each event
    /// occupies [`Producer::stride`] bytes. Checked once for the whole
    /// batch, so writing a batch costs what a `memcpy` costs. Stamped rings
    /// refuse this (`Unsupported`): their slots hold stamps between the
    /// payloads.
    pub fn slots_mut(&mut self, lo: i64, hi: i64) -> Result<(&mut [u8], &mut [u8])> {
        let slots = self.sequencer.slots();
        require_packed(slots)?;
        self.check_claimed(lo, hi)?;
        let [(a, a_len), (b, b_len)] = slots.contiguous(lo, hi);
        // SAFETY: the sequences are claimed and unpublished (checked), so no
        // consumer reads them and no other producer exists; the two ranges
        // are disjoint parts of the slot array (split at the wrap), inside
        // the mapping that `self.shared` keeps alive; the borrow of `self`
        // keeps them claimed while the slices live.
        unsafe {
            Ok((
                std::slice::from_raw_parts_mut(a, a_len),
                std::slice::from_raw_parts_mut(b, b_len),
            ))
        }
    }

    /// Bytes each event occupies in the slices of [`Producer::slots_mut`].
    pub fn stride(&self) -> usize {
        self.sequencer.slots().stride()
    }

    /// Copies `event` into claimed sequence `seq`.
    #[inline]
    pub fn write<T: Pod>(&mut self, seq: i64, event: &T) -> Result<()> {
        check_type::<T>(self.sequencer.slots())?;
        let bytes = bytemuck::bytes_of(event);
        self.slot_mut(seq)?[..bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    /// Publishes `[lo, hi]`: it must start right after the last published
    /// sequence and lie within the claimed range.
    #[inline]
    pub fn publish(&mut self, lo: i64, hi: i64) -> Result<()> {
        self.sequencer.publish(lo, hi)
    }

    /// Claims one slot, writes `event`, publishes it.
    pub fn send<T: Pod>(&mut self, event: &T, timeout: Duration) -> Result<i64> {
        check_type::<T>(self.sequencer.slots())?;
        let seq = self.claim(1, timeout)?;
        self.write(seq, event)?;
        self.publish(seq, seq)?;
        Ok(seq)
    }

    /// Claims `events.len()` slots at once, writes them, publishes the
    /// batch; returns the last sequence.
    pub fn send_batch<T: Pod>(&mut self, events: &[T], timeout: Duration) -> Result<i64> {
        check_type::<T>(self.sequencer.slots())?;
        let first = self.claim(events.len() as u64, timeout)?;
        for (i, e) in events.iter().enumerate() {
            self.write(first + i as i64, e)?;
        }
        let last = first + events.len() as i64 - 1;
        self.publish(first, last)?;
        Ok(last)
    }

    /// Gives back claimed, unpublished sequences from `from` on.
    pub fn unclaim(&mut self, from: i64) {
        self.sequencer.unclaim(from);
    }

    /// The last published sequence.
    pub fn published(&self) -> i64 {
        self.sequencer.published()
    }

    /// Payload bytes per slot.
    pub fn slot_size(&self) -> usize {
        self.sequencer.slots().slot_size()
    }

    /// The ring this producer publishes to.
    pub fn capacity(&self) -> u64 {
        self.shared.segment.layout().params.capacity
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        if let Ok(_guard) = lock_registry(&self.shared.segment) {
            self.shared
                .tables
                .producer_state(0)
                .store(state::LEFT, Ordering::Release);
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
        self.core.wait_for(seq, timeout)
    }

    /// `wait_for` without waiting (`WouldBlock` when nothing is available).
    #[inline]
    pub fn try_wait_for(&mut self, seq: i64) -> Result<i64> {
        self.core.wait_for(seq, Duration::ZERO)
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
        self.core.check_readable(lo)?;
        self.core.check_readable(hi)?;
        if hi < lo {
            return Err(Error::SequenceOutOfRange(format!(
                "empty range [{lo}, {hi}]"
            )));
        }
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

    /// Waits for the next batch (at most `timeout`), hands each event to
    /// `f`, commits the batch, and returns how many events it handled.
    pub fn poll<F: FnMut(i64, &[u8])>(&mut self, timeout: Duration, mut f: F) -> Result<usize> {
        let next = self.next_sequence();
        let last = self.wait_for(next, timeout)?;
        for seq in next..=last {
            f(seq, self.slot(seq)?);
        }
        self.commit(last)?;
        Ok((last - next + 1) as usize)
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
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let _ = self.leave();
    }
}
