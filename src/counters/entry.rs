//! [`EntryCounters`]: one producer's or consumer's counters as its holder
//! keeps them: events and batches in process memory (or derived from the
//! holder's own sequence), flushed to the segment at a bounded interval;
//! waits, timeouts and wake-ups stored as they happen.

use super::{c, Counters};
use crate::sync::{AtomicI64, AtomicU64};
use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

/// How often (in batches) a busy participant flushes its events and
/// batches counts to the segment and refreshes its last-activity time;
/// a wait that lasts past its first spin, and leaving, flush too. A power of two. docs/OPERATIONS.md
/// states the bound this gives readers.
pub const FLUSH_EVERY: u64 = 1024;

/// Low bits of the unflushed word that count batches: room for
/// [`FLUSH_EVERY`] itself (the flush comes when that bit is set), so the
/// batches never carry into the events above them.
const BATCH_BITS: u32 = FLUSH_EVERY.trailing_zeros() + 1;
const _: () = assert!(FLUSH_EVERY.is_power_of_two());

/// The counters of one producer or consumer entry, as its holder updates
/// them. Only the holder writes them.
#[derive(Debug)]
pub struct EntryCounters {
    events: NonNull<AtomicU64>,
    batches: NonNull<AtomicU64>,
    waits: NonNull<AtomicU64>,
    timeouts: NonNull<AtomicU64>,
    activity: NonNull<AtomicU64>,
    ring_waits: NonNull<AtomicU64>,
    ring_wakeups: NonNull<AtomicU64>,
    /// This holder's events and batches counts as of its last flush (the
    /// holder is their only writer, so it never reads the segment's back)...
    events_flushed: Cell<u64>,
    batches_flushed: Cell<u64>,
    /// ... and what it counted since: events in the high bits, batches in
    /// the low [`BATCH_BITS`], so that counting a batch is one addition
    /// to one word of process memory.
    unflushed: Cell<u64>,
    /// The holder's own shared sequence when its events are derived from
    /// it (a single producer's cursor, a consumer's committed sequence):
    /// the one-event paths then count nothing at all, and a flush counts
    /// what the sequence advanced over ([`EntryCounters::derived_from`]).
    position: Option<NonNull<AtomicI64>>,
    /// Its value at the last flush.
    flushed_at: Cell<i64>,
    /// Back-pressure waits not yet added to the ring-wide count (a shared
    /// word every producer adds to: one locked addition per flush, not per
    /// wait).
    unflushed_back_pressure: Cell<u64>,
    /// Whether events and batches are counted (the ring's choice).
    hot: bool,
}

// SAFETY: the pointers refer to atomics in the shared mapping, which the
// holder of this value keeps alive (it holds the segment); atomics may be
// used from any thread.
unsafe impl Send for EntryCounters {}

impl EntryCounters {
    pub(super) fn new<'a>(
        counters: &'a Counters,
        slot: impl Fn(usize) -> &'a AtomicU64,
    ) -> EntryCounters {
        let events = slot(c::EVENTS);
        let batches = slot(c::BATCHES);
        EntryCounters {
            events_flushed: Cell::new(events.load(Ordering::Relaxed)),
            batches_flushed: Cell::new(batches.load(Ordering::Relaxed)),
            unflushed: Cell::new(0),
            unflushed_back_pressure: Cell::new(0),
            position: None,
            flushed_at: Cell::new(0),
            events: NonNull::from(events),
            batches: NonNull::from(batches),
            waits: NonNull::from(slot(c::WAITS)),
            timeouts: NonNull::from(slot(c::TIMEOUTS)),
            activity: NonNull::from(slot(c::ACTIVITY)),
            ring_waits: NonNull::from(counters.ring(c::BACK_PRESSURE_WAITS)),
            ring_wakeups: NonNull::from(counters.ring(c::WAKEUPS)),
            hot: true,
        }
    }

    /// Turns the per-batch counting off (rings created without it).
    pub fn without_hot_counting(mut self) -> EntryCounters {
        self.hot = false;
        self
    }

    /// Derives the events count from `position`, the holder's own shared
    /// sequence, which only the holder stores and which advances by exactly
    /// the events it publishes or consumes: each flush counts what it
    /// advanced over since the last one. What [`EntryCounters::batch`]
    /// counted is part of that advance; the rest came through the one-event
    /// paths, which count nothing, one batch each.
    pub fn derived_from(mut self, position: &AtomicI64) -> EntryCounters {
        self.flushed_at.set(position.load(Ordering::Relaxed));
        self.position = Some(NonNull::from(position));
        self
    }

    /// The position moved without events (a consumer rejoining after an
    /// eviction): what came before was flushed; count from here on.
    pub fn restart_at(&self, position: i64) {
        self.flushed_at.set(position);
    }

    /// A one-event publish or commit of `seq` (hot path: nothing counted,
    /// the count is derived from the position; a flush every
    /// [`FLUSH_EVERY`] sequences).
    #[inline(always)]
    pub fn one_event(&self, seq: i64) {
        debug_assert!(self.position.is_some());
        // After sequences FLUSH_EVERY - 1, 2 * FLUSH_EVERY - 1, ...: a ring's
        // first FLUSH_EVERY events, one by one, flush once, at the last.
        if Self::one_event_flushes(seq) {
            self.flush();
        }
    }

    /// Whether [`EntryCounters::one_event`] of `seq` flushes.
    #[inline(always)]
    fn one_event_flushes(seq: i64) -> bool {
        (seq + 1) & (FLUSH_EVERY as i64 - 1) == 0
    }

    /// Whether counting a publish or commit that moves the holder's
    /// sequence by `events` to `seq` (one event: [`EntryCounters::one_event`];
    /// more: [`EntryCounters::batch`]) flushes: the C ABI's fast paths,
    /// which make no call, leave those to the full call (a flush reads the
    /// clock).
    #[inline(always)]
    pub fn flushes(&self, events: i64, seq: i64) -> bool {
        if events == 1 {
            Self::one_event_flushes(seq)
        } else {
            Self::batch_flushes(self.unflushed.get().wrapping_add(1))
        }
    }

    /// Whether the accumulator `acc` of a counted batch calls for a flush
    /// (the batch bits count up to [`FLUSH_EVERY`]; an event count added
    /// above them leaves them alone).
    #[inline(always)]
    fn batch_flushes(acc: u64) -> bool {
        acc & FLUSH_EVERY != 0
    }

    #[inline]
    fn get(&self, p: NonNull<AtomicU64>) -> &AtomicU64 {
        // SAFETY: built from bounds-checked, aligned region accessors; the
        // mapping outlives this value (see the Send impl).
        unsafe { p.as_ref() }
    }

    /// Single-writer increment: a relaxed load and store, no locked
    /// instruction.
    #[inline]
    fn add(&self, p: NonNull<AtomicU64>, n: u64) {
        let a = self.get(p);
        a.store(a.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }

    /// Counts a batch of `n` events (hot path: one addition to a word of
    /// process memory; every [`FLUSH_EVERY`] batches a flush to the
    /// segment, which stores the counts only if the ring counts them).
    #[inline(always)]
    pub fn batch(&mut self, n: u64) {
        let acc = self.unflushed.get_mut();
        *acc = acc.wrapping_add((n << BATCH_BITS) | 1);
        if Self::batch_flushes(*acc) {
            self.flush();
        }
    }

    /// Stores the events and batches counts to the segment, adds the
    /// back-pressure waits to the ring's count and refreshes the
    /// last-activity time (cold: every [`FLUSH_EVERY`] batches, when a wait
    /// lasts past its first spin (`crate::wait::wait_until`'s `idle`), and
    /// when the holder leaves).
    #[cold]
    #[inline(never)]
    pub fn flush(&self) {
        self.flush_counts();
        self.touch();
    }

    /// [`EntryCounters::flush`] without the last-activity time, which
    /// costs a clock read: for a non-blocking attempt that found nothing (a
    /// `try_*` call polled in a loop reads no clock per empty poll).
    #[cold]
    #[inline(never)]
    pub fn flush_counts(&self) {
        let acc = self.unflushed.replace(0);
        let (mut events, mut batches) = (acc >> BATCH_BITS, acc & ((1 << BATCH_BITS) - 1));
        if let Some(p) = self.position {
            // SAFETY: as for `get`: the holder's own sequence, in the
            // mapping this value's holder keeps alive.
            let now = unsafe { p.as_ref() }.load(Ordering::Relaxed);
            let moved = u64::try_from(now - self.flushed_at.replace(now)).unwrap_or(0);
            batches += moved.saturating_sub(events);
            events = moved;
        }
        let events = self.events_flushed.get().wrapping_add(events);
        let batches = self.batches_flushed.get().wrapping_add(batches);
        self.events_flushed.set(events);
        self.batches_flushed.set(batches);
        let back_pressure = self.unflushed_back_pressure.replace(0);
        if back_pressure != 0 {
            self.get(self.ring_waits)
                .fetch_add(back_pressure, Ordering::Relaxed);
        }
        if self.hot {
            self.get(self.events).store(events, Ordering::Relaxed);
            self.get(self.batches).store(batches, Ordering::Relaxed);
        }
    }

    /// A single producer attaching to its ring: the entry's events count
    /// becomes `total` (the cursor + 1, every event the ring's producers
    /// published) when it holds fewer. A predecessor killed before its
    /// flush left the rest uncounted, and the sequences it stamped and the
    /// new holder adopted were never counted (cold, at attach). Batches
    /// stay as counted: nobody knows how those events were batched.
    #[cold]
    pub fn adopt_events(&self, total: u64) {
        if total > self.events_flushed.get() {
            self.events_flushed.set(total);
            if self.hot {
                self.get(self.events).store(total, Ordering::Relaxed);
            }
        }
    }

    /// Records the current time as the last activity (cold).
    #[cold]
    pub fn touch(&self) {
        self.get(self.activity)
            .store(crate::sys::unix_time_ns(), Ordering::Relaxed);
    }

    /// Counts a wait (cold): one store to the entry's own count;
    /// `back_pressure` also counts it ring-wide, at the next flush. Nothing
    /// is flushed here: a participant that keeps up waits for a few polls
    /// at a time, and its wait flushes only if it lasts
    /// (`crate::wait::wait_until`'s `idle`).
    #[cold]
    pub fn wait(&self, back_pressure: bool) {
        self.add(self.waits, 1);
        if back_pressure {
            self.unflushed_back_pressure
                .set(self.unflushed_back_pressure.get() + 1);
        }
    }

    /// Counts a wait that timed out (cold).
    #[cold]
    pub fn timeout(&self) {
        self.add(self.timeouts, 1);
    }

    /// Counts a futex wake-up this participant issued (cold: it follows a
    /// system call).
    #[cold]
    pub fn wakeup(&self) {
        self.get(self.ring_wakeups).fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for EntryCounters {
    /// The last flush: counts are exact once the holder is gone (unless it
    /// was killed, which loses what it had not flushed).
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::counters;
    use super::*;

    fn events_and_batches(counters: &Counters, i: u32) -> (u64, u64) {
        let read = |k| counters.producer(i, k).load(Ordering::Relaxed);
        (read(c::EVENTS), read(c::BATCHES))
    }

    #[test]
    fn batches_stay_in_process_memory_until_a_flush() {
        let (_heap, counters) = counters();
        let mut entry = counters.for_producer(1);
        entry.batch(3);
        entry.batch(4);
        assert_eq!(events_and_batches(&counters, 1), (0, 0));
        entry.flush();
        assert_eq!(events_and_batches(&counters, 1), (7, 2));
        assert_ne!(counters.producer(1, c::ACTIVITY).load(Ordering::Relaxed), 0);
        // The other entry's counters are its own.
        assert_eq!(events_and_batches(&counters, 0), (0, 0));
    }

    #[test]
    fn every_flush_every_batches_reach_the_segment_and_a_drop_flushes_the_rest() {
        let (_heap, counters) = counters();
        let mut entry = counters.for_producer(0);
        for _ in 0..FLUSH_EVERY - 1 {
            entry.batch(2);
        }
        assert_eq!(events_and_batches(&counters, 0), (0, 0));
        entry.batch(2);
        assert_eq!(
            events_and_batches(&counters, 0),
            (2 * FLUSH_EVERY, FLUSH_EVERY)
        );
        entry.batch(5);
        drop(entry);
        assert_eq!(
            events_and_batches(&counters, 0),
            (2 * FLUSH_EVERY + 5, FLUSH_EVERY + 1)
        );
        // A successor starts from what the segment holds.
        let mut next = counters.for_producer(0);
        next.batch(1);
        drop(next);
        assert_eq!(
            events_and_batches(&counters, 0),
            (2 * FLUSH_EVERY + 6, FLUSH_EVERY + 2)
        );
    }

    #[test]
    fn a_takeover_adopts_uncounted_events_but_never_lowers_the_count() {
        let (_heap, counters) = counters();
        let entry = counters.for_producer(0);
        entry.adopt_events(10);
        assert_eq!(events_and_batches(&counters, 0), (10, 0));
        entry.adopt_events(4);
        assert_eq!(events_and_batches(&counters, 0), (10, 0));
    }

    #[test]
    fn without_hot_counting_events_are_not_stored_but_waits_are() {
        let (_heap, counters) = counters();
        let mut entry = counters.for_consumer(1).without_hot_counting();
        entry.batch(3);
        entry.wait(false);
        entry.timeout();
        drop(entry);
        let read = |k| counters.consumer(1, k).load(Ordering::Relaxed);
        assert_eq!((read(c::EVENTS), read(c::BATCHES)), (0, 0));
        assert_eq!((read(c::WAITS), read(c::TIMEOUTS)), (1, 1));
        assert_eq!(
            counters
                .ring(c::BACK_PRESSURE_WAITS)
                .load(Ordering::Relaxed),
            0
        );
        // A producer's wait on consumers is back-pressure, counted ring-wide
        // at its next flush (here, the drop).
        let bp = || {
            counters
                .ring(c::BACK_PRESSURE_WAITS)
                .load(Ordering::Relaxed)
        };
        let producer = counters.for_producer(0);
        producer.wait(true);
        producer.wait(true);
        assert_eq!(
            (bp(), counters.producer(0, c::WAITS).load(Ordering::Relaxed)),
            (0, 2)
        );
        drop(producer);
        assert_eq!(bp(), 2);
    }

    /// Derived from a position: a flush counts its advance, `batch` calls
    /// within it as counted, the rest one batch per event; a restart skips
    /// a jump.
    #[test]
    fn derived_counts_follow_the_position() {
        let (_heap, counters) = counters();
        let position = AtomicI64::new(9);
        let mut entry = counters.for_producer(1).derived_from(&position);
        position.store(12, Ordering::Relaxed);
        entry.batch(3);
        position.store(15, Ordering::Relaxed);
        entry.one_event(15);
        entry.flush();
        assert_eq!(events_and_batches(&counters, 1), (6, 4));
        position.store(100, Ordering::Relaxed);
        entry.restart_at(100);
        position.store(101, Ordering::Relaxed);
        drop(entry);
        assert_eq!(events_and_batches(&counters, 1), (7, 5));
    }

    /// A wait neither flushes the events and batches counts nor reads the
    /// clock; the flush does both (wait_until runs it for a wait that
    /// lasts).
    #[test]
    fn a_wait_stores_only_its_count() {
        let (_heap, counters) = counters();
        let mut entry = counters.for_producer(1);
        entry.batch(5);
        entry.wait(false);
        assert_eq!(events_and_batches(&counters, 1), (0, 0));
        assert_eq!(counters.producer(1, c::ACTIVITY).load(Ordering::Relaxed), 0);
        entry.flush();
        assert_eq!(events_and_batches(&counters, 1), (5, 1));
        assert_ne!(counters.producer(1, c::ACTIVITY).load(Ordering::Relaxed), 0);
    }
}
