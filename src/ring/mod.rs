//! The safe Rust facade: [`Ring`], [`Producer`], [`Consumer`].
//!
//! This file holds the ring itself (creating, opening, inspecting it) and
//! what its handles share; `options` the builders, `attach` how the ring
//! attaches a producer (the protocol itself is the sequencer layer's),
//! `lifecycle` removing a ring and retiring a dead consumer, `producer`
//! and `consumer` the handles (`producer_fast`: the C ABI's checks
//! without an `Error`).

mod attach;
mod consumer;
mod lifecycle;
mod options;
mod producer;
mod producer_fast;
mod wake_dirs;

pub use consumer::Consumer;
pub use options::{
    ConsumerOptions, ProducerOptions, RingOptions, DEFAULT_CAPACITY, DEFAULT_MAX_CONSUMERS,
    DEFAULT_MAX_PRODUCERS, DEFAULT_MODE, DEFAULT_SLOT_SIZE, DEFAULT_UNBLOCK_TIMEOUT,
};
pub use producer::Producer;

use crate::error::{Error, Result};
use crate::layout::{counters, state, Layout, ProducerMode, LOCK_PRODUCER_LEASE};
use crate::liveness::lock_registry;
use crate::region::Location;
use crate::segment::{Access, Segment};
use crate::slots::Slots;
use crate::sys;
use crate::table::{ConsumerRecord, Tables};
use bytemuck::Pod;
use std::sync::atomic::Ordering;
use std::sync::Arc;

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
        let segment = Segment::create(
            location,
            layout,
            options.mode.unwrap_or(DEFAULT_MODE),
            options.group,
        )?;
        Ok(Ring::from_segment(segment))
    }

    /// Opens an existing ring, waiting up to the options' timeout for it to
    /// appear, and checks every option that was set. Opens it read-only
    /// with [`RingOptions::read_only`], or when this process may read the
    /// segment but not write it ([`Ring::is_read_only`]).
    pub fn open(location: &Location, options: &RingOptions) -> Result<Ring> {
        let access = if options.read_only {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        };
        let segment = Segment::open(location, options.timeout, access)?;
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
            options.group,
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

    /// Unlinks the ring's name if it is stale ([`Ring::is_stale`]: used
    /// once, no lease held now; a never-used ring is not stale), under the
    /// registry lock, so no participant attaches meanwhile through this
    /// segment. Returns whether it did. `dmp rm --stale` and
    /// [`RingOptions::reclaim_stale`] go by this one rule.
    pub fn unlink_if_stale(&self) -> Result<bool> {
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

    /// Removes a ring's name whatever uses it; attached processes keep
    /// working on the removed segment. [`Ring::remove`] refuses a live ring.
    pub fn unlink(location: &Location) -> Result<()> {
        Segment::unlink(location)
    }

    /// The segment's validated layout.
    pub fn layout(&self) -> &Layout {
        self.shared.segment.layout()
    }

    /// Whether the ring was opened read-only (an observer: snapshots only;
    /// attaching a producer or consumer fails with `Error::ReadOnly`).
    pub fn is_read_only(&self) -> bool {
        self.shared.segment.is_read_only()
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
        self.layout().params.packed()
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
