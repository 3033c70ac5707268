//! Consumers: registration in the segment's consumer table, the barrier a
//! consumer waits on (the producer's cursor, or the committed sequences of
//! the consumers it depends on), `wait_for` and `commit`.

use crate::error::{Error, Result};
use crate::layout::{state, LOCK_CONSUMER_LEASE};
use crate::liveness::{lock_registry, Lease};
use crate::segment::Segment;
use crate::sequence::{minimum_of, SharedSequence, Wakeups};
use crate::slots::{Slots, Stamp};
use crate::sys;
use crate::table::Tables;
use crate::wait::{wait_until, Poll, WaitStrategy};
use std::sync::atomic::Ordering;

/// Stamps a first-stage consumer of a single producer's stamped ring reads
/// past an available sequence before it asks the cursor for the rest of
/// the batch (see `ConsumerCore::published_from`).
const STAMP_RUN: i64 = 16;
use std::time::{Duration, Instant};

/// Longest consumer name, in bytes.
pub const MAX_CONSUMER_NAME: usize = 63;

/// Checks a consumer name: 1 to 63 bytes of ASCII letters, digits, `_`, `-`,
/// `.`.
pub fn validate_name(name: &str) -> Result<()> {
    let bad = |reason| {
        Err(Error::InvalidName {
            name: name.into(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("consumer name is empty");
    }
    if name.len() > MAX_CONSUMER_NAME {
        return bad("consumer name is longer than 63 bytes");
    }
    if !crate::region::is_portable_name(name) {
        return bad("consumer name may only contain ASCII letters, digits, '_', '-' and '.'");
    }
    Ok(())
}

/// What a consumer waits on before reading a sequence.
#[derive(Debug)]
enum Barrier {
    /// A first-stage consumer of a single-producer ring: the producer's
    /// cursor and the slot stamps.
    Cursor(SharedSequence),
    /// A first-stage consumer of a multi-producer ring: the stamps alone
    /// (published or abandoned, in order); blocking waiters sleep on the
    /// ring's publication notice.
    Stamps(SharedSequence),
    /// A dependent consumer: the committed sequences of the entries in the
    /// mask (pipelines and diamonds).
    Dependencies(u64),
}

/// A registered consumer (process-local state plus its table entry).
#[derive(Debug)]
pub struct ConsumerCore {
    tables: Tables,
    slots: Slots,
    index: u32,
    sequence: SharedSequence,
    barrier: Barrier,
    strategy: WaitStrategy,
    /// How `commit` wakes sleepers.
    wakeups: Wakeups,
    /// Last committed sequence.
    committed: i64,
    /// Highest sequence known to be available.
    available: i64,
    /// Multi-producer rings: sequences may be abandoned.
    multi: bool,
    /// Multi-producer rings: the unblock timeout.
    unblock: Duration,
    /// The pending sequence this consumer waits for, and since when.
    stuck: Option<(i64, Instant)>,
    /// An optional consumer, which a producer may evict.
    evictable: bool,
    /// Multi-producer rings: the lowest abandoned sequence the stamp scans
    /// found in the available window (`i64::MAX`: none), so that reading a
    /// batch does not scan its stamps a second time.
    abandoned_at: std::cell::Cell<i64>,
    /// Events its name missed when it joined.
    lost_on_join: u64,
    counters: crate::counters::EntryCounters,
    _lease: Lease,
}

impl ConsumerCore {
    /// Registers consumer `name` depending on `dependencies` (by name).
    /// It starts at the producer's current cursor: it sees every event
    /// published after it joined.
    pub fn register(
        segment: &Segment,
        tables: Tables,
        slots: Slots,
        name: &str,
        dependencies: &[String],
        strategy: WaitStrategy,
        optional: Option<Duration>,
    ) -> Result<ConsumerCore> {
        validate_name(name)?;
        let params = &segment.layout().params;
        let wakeups = params.flags & crate::layout::FLAG_WAKEUPS != 0;
        let multi = params.producer_mode == crate::layout::ProducerMode::Multi;
        let unblock = Duration::from_nanos(params.unblock_timeout_ns);
        let hot_counters = params.flags & crate::layout::FLAG_NO_HOT_COUNTERS == 0;
        if strategy == WaitStrategy::Blocking && !wakeups {
            return Err(Error::Unsupported(format!(
                "ring {} was created without wake-ups; the blocking strategy needs them (use spin, yield or sleep, or recreate the ring with wake-ups)",
                segment.path().display()
            )));
        }
        // Fault harness: a dropped attach fails here, before any change.
        crate::fault::fault_point!("consumer.attach");
        let _guard = lock_registry(segment)?;
        let n = tables.max_consumers();

        let mut deps = 0u64;
        for dep in dependencies {
            if dep == name {
                return Err(Error::InvalidArgument(format!(
                    "consumer {name:?} cannot depend on itself"
                )));
            }
            let found = (0..n).find(|&i| {
                tables.consumer_state(i).load(Ordering::Acquire) == state::ACTIVE
                    && tables.consumer_name(i) == *dep
            });
            match found {
                Some(i) => deps |= 1 << i,
                None => return Err(Error::DependencyNotFound { name: dep.clone() }),
            }
        }

        let (index, lease) = Self::claim_entry(segment, &tables, name)?;
        // The entry was this name's (not a free one, nor another name's).
        let own = tables.consumer_state(index).load(Ordering::Acquire) != state::FREE
            && tables.consumer_name(index) == name;
        // A name whose holder died while it still gated the producer finds
        // its events still in the ring (the producer waited for it): it
        // resumes from its committed sequence.
        let resume = tables.consumer_state(index).load(Ordering::Acquire) == state::ACTIVE
            && tables.gating_mask().load(Ordering::SeqCst) & (1 << index) != 0;
        let previous = tables.consumer_sequence(index).get();
        let pid = sys::pid();
        tables.set_consumer_name(index, name);
        tables
            .consumer_dependencies(index)
            .store(deps, Ordering::Relaxed);
        tables.consumer_flags(index).store(
            if optional.is_some() {
                crate::layout::consumer_entry::OPTIONAL
            } else {
                0
            },
            Ordering::Relaxed,
        );
        tables.consumer_max_block_ns(index).store(
            optional.map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
            Ordering::Relaxed,
        );
        tables.consumer_pid(index).store(pid, Ordering::Relaxed);
        tables
            .consumer_start_time(index)
            .store(sys::process_start_time(pid), Ordering::Relaxed);
        tables
            .consumer_generation(index)
            .fetch_add(1, Ordering::Relaxed);
        tables
            .consumer_state(index)
            .store(state::JOINING, Ordering::Release);

        let start = if resume {
            previous
        } else {
            join(&tables, index, multi)
        };
        // Fault harness: in the gating mask, not yet ACTIVE.
        crate::fault::fault_point!("consumer.join");
        let lost_on_join = if own && !resume {
            u64::try_from(start.saturating_sub(previous)).unwrap_or(0)
        } else {
            0
        };
        if !(-1..=i64::MAX / 2).contains(&start) {
            // A value no producer writes (a peer scribbled on the cursor,
            // the claim counter or this entry): leave instead of starting
            // where every later sequence would overflow.
            tables
                .gating_mask()
                .fetch_and(!(1 << index), Ordering::SeqCst);
            tables
                .consumer_state(index)
                .store(state::LEFT, Ordering::Release);
            return Err(Error::Corrupt {
                path: segment.path().into(),
                detail: format!(
                    "consumer {name:?} would start at sequence {start}, which no producer publishes"
                ),
            });
        }
        tables
            .consumer_state(index)
            .store(state::ACTIVE, Ordering::Release);
        tables.table_generation().fetch_add(1, Ordering::Release);
        tables.counters().bump(crate::layout::counters::ATTACHES);
        let cursor = tables.cursor();
        let sequence = tables.consumer_sequence(index);

        let barrier = match (deps, multi) {
            (0, false) => Barrier::Cursor(cursor),
            (0, true) => Barrier::Stamps(tables.notice()),
            _ => Barrier::Dependencies(deps),
        };
        Ok(ConsumerCore {
            tables,
            slots,
            index,
            sequence,
            barrier,
            strategy,
            wakeups: Wakeups::for_ring(wakeups),
            committed: start,
            available: start,
            multi,
            unblock,
            stuck: None,
            evictable: optional.is_some(),
            abandoned_at: std::cell::Cell::new(i64::MAX),
            lost_on_join,
            counters: {
                let c = tables.counters().for_consumer(index);
                c.touch();
                if hot_counters {
                    c
                } else {
                    c.without_hot_counting()
                }
            },
            _lease: lease,
        })
    }

    /// Finds the entry for `name`: its own entry if it held one before (and
    /// its holder is gone), else a free one, else the oldest left one.
    fn claim_entry(segment: &Segment, tables: &Tables, name: &str) -> Result<(u32, Lease)> {
        let n = tables.max_consumers();
        let own = (0..n).find(|&i| {
            tables.consumer_state(i).load(Ordering::Acquire) != state::FREE
                && tables.consumer_name(i) == name
        });
        let candidates: Vec<u32> =
            match own {
                Some(i) => vec![i],
                None => (0..n)
                    .filter(|&i| tables.consumer_state(i).load(Ordering::Acquire) == state::FREE)
                    .chain((0..n).filter(|&i| {
                        tables.consumer_state(i).load(Ordering::Acquire) == state::LEFT
                    }))
                    .collect(),
            };
        for i in candidates {
            match Lease::try_acquire(segment, LOCK_CONSUMER_LEASE + u64::from(i))? {
                Some(lease) => return Ok((i, lease)),
                None if own.is_some() => {
                    return Err(Error::NameInUse {
                        name: name.into(),
                        pid: tables.consumer_pid(i).load(Ordering::Relaxed),
                    })
                }
                None => continue,
            }
        }
        Err(Error::ConsumerTableFull {
            path: segment.path().into(),
            max: n,
        })
    }

    /// Entry index in the consumer table.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Last committed sequence.
    pub fn committed(&self) -> i64 {
        self.committed
    }

    /// Highest sequence known available (no shared read).
    pub fn known_available(&self) -> i64 {
        self.available
    }

    /// The slot array.
    pub fn slots(&self) -> &Slots {
        &self.slots
    }

    /// Waits until `seq` is available and returns the highest available
    /// sequence (at least `seq`), so the caller can process a whole batch.
    /// A zero timeout never waits (`WouldBlock`).
    #[inline]
    ///
    /// `segment` is asked for only on the slow paths, so the fast path does
    /// not even load its address.
    pub fn wait_for<'s>(
        &mut self,
        segment: impl FnOnce() -> &'s Segment,
        seq: i64,
        timeout: Duration,
    ) -> Result<i64> {
        if seq <= self.available {
            return Ok(self.available);
        }
        if seq > self.committed.saturating_add(self.slots.capacity() as i64) {
            return Err(self.never_available(seq));
        }
        let available = match &self.barrier {
            // Look at the slot's own stamp first: its line holds the payload
            // too, so this read is never wasted.
            Barrier::Cursor(cursor) if self.slots.is_published(seq) => {
                self.published_from(*cursor, seq)
            }
            Barrier::Cursor(_) if self.slots.stamped() => {
                return self.wait_slow(segment(), seq, timeout)
            }
            Barrier::Cursor(cursor) => cursor.get(),
            Barrier::Dependencies(mask) => self.dependencies_minimum(*mask).0,
            Barrier::Stamps(_) => return self.wait_for_stamps(segment(), seq, timeout),
        };
        if available >= seq {
            self.available = self.clamp(available);
            return Ok(self.available);
        }
        self.wait_slow(segment(), seq, timeout)
    }

    /// A single producer's stamped ring, `seq` published: the end of the
    /// run of published stamps after it, read in the lines this consumer
    /// reads next anyway. Only a run of [`STAMP_RUN`] sends it to the
    /// cursor for the rest of the batch: a consumer that keeps up with the
    /// producer leaves the cursor line, which the producer writes for every
    /// event, alone (a cache-line transfer per event saved, and the
    /// producer's stores not held up).
    #[inline]
    fn published_from(&self, cursor: SharedSequence, seq: i64) -> i64 {
        let end = seq + STAMP_RUN;
        let (run, _) = self.slots.resolved_run(seq + 1, end);
        if run < end {
            return run;
        }
        cursor.get().max(run)
    }

    /// Multi-producer rings: the run of resolved (published or abandoned)
    /// sequences from `seq`, or a wait for `seq`. Out of line, so the
    /// single-producer path stays as small as it was. Stamps of later
    /// sequences sit in the lines the caller reads next.
    #[inline(never)]
    fn wait_for_stamps(&mut self, segment: &Segment, seq: i64, timeout: Duration) -> Result<i64> {
        let limit = self.committed.saturating_add(self.slots.capacity() as i64);
        // From the first sequence not yet scanned (`seq` itself unless the
        // caller skips ahead), so that everything up to `available` was
        // seen resolved and the abandoned ones noted.
        let from = self.available.saturating_add(1).min(seq);
        let (hi, abandoned) = self.slots.resolved_run(from, limit);
        if hi >= seq {
            self.note_abandoned(abandoned);
            self.available = hi;
            return Ok(self.available);
        }
        self.wait_slow(segment, seq, timeout)
    }

    /// Multi-producer rings: waits for `seq`'s stamp. A sequence that stays
    /// pending for the ring's unblock timeout (measured across calls, so a
    /// consumer polling with short timeouts unblocks too) has its claim
    /// abandoned, and the wait goes on past it.
    #[cold]
    fn wait_stamps(&mut self, segment: &Segment, seq: i64, timeout: Duration) -> Result<i64> {
        let notice = match self.barrier {
            Barrier::Stamps(notice) => notice,
            _ => self.tables.notice(),
        };
        let (slots, limit) = (
            self.slots,
            self.committed.saturating_add(self.slots.capacity() as i64),
        );
        // As in `wait_for_stamps`: scan from the first sequence not scanned.
        let from = self.available.saturating_add(1).min(seq);
        let start = Instant::now();
        let deadline = start.checked_add(timeout);
        loop {
            let now = Instant::now();
            let since = match self.stuck {
                Some((s, t)) if s == seq => t,
                _ => {
                    self.stuck = Some((seq, now));
                    now
                }
            };
            let due = since + self.unblock;
            let until = deadline.map_or(due, |d| d.min(due));
            // A zero timeout polls once; otherwise never pass zero on.
            let left = if timeout.is_zero() {
                Duration::ZERO
            } else {
                until
                    .saturating_duration_since(now)
                    .max(Duration::from_nanos(1))
            };
            let polled = wait_until(self.strategy, left, "events", || {
                match slots.resolved_run(from, limit) {
                    (hi, abandoned) if hi >= seq => Poll::Ready((hi, abandoned)),
                    _ => Poll::Pending(Some(notice)),
                }
            });
            match polled {
                Ok((available, abandoned)) => {
                    self.stuck = None;
                    self.note_abandoned(abandoned);
                    self.available = self.clamp(available);
                    return Ok(self.available);
                }
                Err(e @ (Error::Timeout { .. } | Error::WouldBlock(_))) => {
                    if Instant::now() >= due {
                        crate::sequencer::recovery::unblock(
                            segment,
                            &self.tables,
                            &self.slots,
                            seq,
                            limit,
                        )?;
                        self.stuck = None;
                        if resolved(self.slots.state(seq)) {
                            continue;
                        }
                    }
                    if deadline.is_some_and(|d| Instant::now() < d) {
                        continue;
                    }
                    return Err(match e {
                        Error::Timeout { what, .. } => Error::Timeout {
                            what,
                            waited: timeout,
                        },
                        other => other,
                    });
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// Nothing beyond a ring's worth past the committed sequence can be
    /// published (this consumer gates the producer), so a larger value read
    /// from shared memory is corrupt; never hand it to the caller.
    #[inline]
    fn clamp(&self, available: i64) -> i64 {
        available.min(self.committed.saturating_add(self.slots.capacity() as i64))
    }

    fn dependencies_minimum(&self, mask: u64) -> (i64, Option<u32>) {
        let t = &self.tables;
        minimum_of(
            &t.region(),
            mask,
            |i| t.consumer_sequence_offset(i),
            i64::MAX,
        )
    }

    #[cold]
    fn wait_slow(&mut self, segment: &Segment, seq: i64, timeout: Duration) -> Result<i64> {
        self.counters.wait(false);
        let result = if self.evictable {
            self.wait_evictable(segment, seq, timeout)
        } else {
            self.wait_slow_inner(segment, seq, timeout)
        };
        if let Err(Error::Timeout { .. }) = result {
            self.counters.timeout();
        }
        result
    }

    /// An optional consumer's wait, in slices: between them it looks at its
    /// own state, so an eviction ends the wait (a lapped consumer would
    /// otherwise wait for a stamp that a later lap overwrote).
    fn wait_evictable(&mut self, segment: &Segment, seq: i64, timeout: Duration) -> Result<i64> {
        // Time is accounted slice by slice (each wait keeps its bound), so
        // a wait that succeeds in its first slice reads no clock here.
        let mut slice = timeout.min(crate::liveness::WATCH_INTERVAL);
        let mut left = timeout.saturating_sub(slice);
        loop {
            match self.wait_slow_inner(segment, seq, slice) {
                Err(e @ (Error::Timeout { .. } | Error::WouldBlock(_))) => {
                    self.check_evicted()?;
                    if left.is_zero() {
                        return Err(match e {
                            Error::Timeout { what, .. } => Error::Timeout {
                                what,
                                waited: timeout,
                            },
                            other => other,
                        });
                    }
                    slice = left.min(crate::liveness::WATCH_INTERVAL);
                    left = left.saturating_sub(slice);
                }
                other => return other,
            }
        }
    }

    fn wait_slow_inner(&mut self, segment: &Segment, seq: i64, timeout: Duration) -> Result<i64> {
        let available = match &self.barrier {
            Barrier::Stamps(_) => return self.wait_stamps(segment, seq, timeout),
            // The stamp of `seq` sits in the slot's own cache line: seeing
            // it costs one line transfer, where the cursor would cost a
            // second. The single producer stamps in order, so a stamped
            // `seq` means everything before it is published too.
            Barrier::Cursor(cursor) => {
                let (slots, cursor) = (self.slots, *cursor);
                let ready = wait_until(self.strategy, timeout, "events", || {
                    if slots.is_published(seq) {
                        return Poll::Ready(seq);
                    }
                    // Packed rings have no stamps: the cursor tells. Stamped
                    // rings never read the cursor line while they wait.
                    if !slots.stamped() {
                        let c = cursor.get();
                        if c >= seq {
                            return Poll::Ready(c);
                        }
                    }
                    Poll::Pending(Some(cursor))
                })?;
                if ready == seq && slots.stamped() {
                    self.published_from(cursor, seq)
                } else {
                    ready
                }
            }
            Barrier::Dependencies(mask) => {
                let mask = *mask;
                wait_until(
                    self.strategy,
                    timeout,
                    "dependencies to commit",
                    || match self.dependencies_minimum(mask) {
                        (min, _) if min >= seq => Poll::Ready(min),
                        (_, at) => Poll::Pending(at.map(|i| self.tables.consumer_sequence(i))),
                    },
                )?
            }
        };
        self.available = self.clamp(available);
        Ok(self.available)
    }

    /// Checks that `seq` may be read now (committed < seq <= available)
    /// and holds an event (multi-producer rings: not abandoned).
    #[inline]
    pub fn check_readable(&self, seq: i64) -> Result<()> {
        if seq <= self.committed || seq > self.available {
            return Err(self.unreadable(seq));
        }
        // A first-stage consumer's stamp scans found no abandoned sequence
        // below `abandoned_at`: one comparison instead of a stamp load.
        let scanned = matches!(self.barrier, Barrier::Stamps(_));
        if self.multi
            && (seq >= self.abandoned_at.get() || !scanned)
            && self.slots.state(seq) == Stamp::Abandoned
        {
            return Err(Error::Abandoned { seq });
        }
        Ok(())
    }

    /// Checks that every sequence of `[lo, hi]` may be read now (see
    /// [`ConsumerCore::check_readable`]).
    pub fn check_range(&self, lo: i64, hi: i64) -> Result<()> {
        if hi < lo || lo <= self.committed || hi > self.available {
            return Err(Error::SequenceOutOfRange(format!(
                "[{lo}, {hi}] is not readable: committed through {}, available through {}",
                self.committed, self.available
            )));
        }
        // Only a first-stage consumer's own stamp scans record abandoned
        // sequences; a dependent one looks at the stamps here.
        let scanned = matches!(self.barrier, Barrier::Stamps(_));
        if self.multi && (self.abandoned_at.get() <= hi || !scanned) {
            return self.check_abandoned(lo, hi);
        }
        Ok(())
    }

    /// Records the lowest abandoned sequence a stamp scan found.
    #[inline]
    fn note_abandoned(&self, abandoned: Option<i64>) {
        if let Some(a) = abandoned {
            self.abandoned_at.set(self.abandoned_at.get().min(a));
        }
    }

    /// `[lo, hi]` may hold an abandoned sequence: look (rare, cold).
    #[cold]
    fn check_abandoned(&self, lo: i64, hi: i64) -> Result<()> {
        let abandoned = |s: &i64| self.slots.state(*s) == Stamp::Abandoned;
        if let Some(seq) = (lo..=hi).find(abandoned) {
            return Err(Error::Abandoned { seq });
        }
        // None in the range: the lowest abandoned sequence not yet
        // committed, if any (one before `lo` stays recorded, so that
        // `check_readable` of it still looks at its stamp).
        let next = (self.committed + 1..=self.available).find(abandoned);
        self.abandoned_at.set(next.unwrap_or(i64::MAX));
        Ok(())
    }

    /// Whether `seq` (available) was abandoned by its producer.
    #[inline]
    pub fn is_abandoned(&self, seq: i64) -> bool {
        self.multi && self.slots.state(seq) == Stamp::Abandoned
    }

    #[cold]
    fn never_available(&self, seq: i64) -> Error {
        Error::SequenceOutOfRange(format!(
            "sequence {seq} cannot be published before this consumer commits past {}: it holds the producer back",
            seq - self.slots.capacity() as i64
        ))
    }

    #[cold]
    fn unreadable(&self, seq: i64) -> Error {
        Error::SequenceOutOfRange(format!(
            "sequence {seq} is not readable: committed through {}, available through {}",
            self.committed, self.available
        ))
    }

    /// Marks every sequence up to `seq` consumed. `seq` must not exceed what
    /// `wait_for` returned; committing the current value again is a no-op.
    #[inline]
    pub fn commit(&mut self, seq: i64) -> Result<()> {
        if seq == self.committed {
            return Ok(());
        }
        if seq < self.committed || seq > self.available {
            return Err(self.uncommittable(seq));
        }
        self.store_commit(seq)
    }

    /// The commit itself, of a `seq` in `(committed, available]`.
    #[inline(always)]
    fn store_commit(&mut self, seq: i64) -> Result<()> {
        // Fault harness: the batch was read, its commit not yet stored.
        crate::fault::fault_point!("consumer.commit");
        if self.evictable {
            self.store_evictable(seq)?;
        } else if self.sequence.publish(seq, self.wakeups) {
            self.counters.wakeup();
        }
        self.counters.batch((seq - self.committed) as u64);
        self.committed = seq;
        Ok(())
    }

    /// The next event to read, for the one-event calls: `committed + 1`
    /// once it is available (waiting at most `timeout`), after committing
    /// past abandoned sequences (multi-producer rings). When it is already
    /// known available, this is a comparison.
    #[inline(always)]
    pub fn next_event<'s>(
        &mut self,
        segment: impl Fn() -> &'s Segment,
        timeout: Duration,
    ) -> Result<i64> {
        let seq = self.committed + 1;
        if seq <= self.available && !(self.multi && self.may_be_abandoned(seq)) {
            return Ok(seq);
        }
        // Caught up with a single producer: one load tells whether `seq`
        // is there (its stamp, or the cursor in packed rings), before any
        // call. A stamped ring returns `seq` alone and leaves the cursor
        // line to the producer.
        if let Barrier::Cursor(cursor) = &self.barrier {
            if self.slots.stamped() {
                if self.slots.is_published(seq) {
                    self.available = seq;
                    return Ok(seq);
                }
            } else {
                let available = cursor.get();
                if available >= seq {
                    self.available = self.clamp(available);
                    return Ok(seq);
                }
            }
        }
        self.next_event_slow(segment, timeout)
    }

    /// Whether available `seq` could be abandoned: a first-stage consumer's
    /// stamp scans recorded the lowest abandoned sequence; others look.
    #[inline]
    fn may_be_abandoned(&self, seq: i64) -> bool {
        !matches!(self.barrier, Barrier::Stamps(_)) || self.abandoned_at.get() <= seq
    }

    #[inline(never)]
    fn next_event_slow<'s>(
        &mut self,
        segment: impl Fn() -> &'s Segment,
        timeout: Duration,
    ) -> Result<i64> {
        loop {
            let seq = self.committed + 1;
            if seq > self.available {
                self.wait_for(&segment, seq, timeout)?;
            }
            if !(self.multi && self.slots.state(seq) == Stamp::Abandoned) {
                return Ok(seq);
            }
            self.store_commit(seq)?;
        }
    }

    /// Commits `seq`, which [`ConsumerCore::next_event`] returned (the
    /// one-event calls: nothing left to check).
    #[inline(always)]
    pub fn commit_next(&mut self, seq: i64) -> Result<()> {
        debug_assert!(seq == self.committed + 1 && seq <= self.available);
        self.store_commit(seq)
    }

    #[cold]
    fn uncommittable(&self, seq: i64) -> Error {
        Error::SequenceOutOfRange(format!(
            "commit {seq}: must lie in [{}, {}] (committed .. available)",
            self.committed, self.available
        ))
    }

    /// Fails with `Evicted` once a producer has evicted this (optional)
    /// consumer: one load of its own entry's state, a line only the
    /// consumer reads until an eviction writes it.
    #[inline]
    fn check_evicted(&self) -> Result<()> {
        if self
            .tables
            .consumer_state(self.index)
            .load(Ordering::Acquire)
            == state::ACTIVE
        {
            return Ok(());
        }
        Err(self.evicted())
    }

    /// An optional consumer's commit store: first [`ConsumerCore::check_evicted`],
    /// after the batch's reads, so that a commit that does not see the
    /// eviction read slots the producer had not yet overwritten. Out of
    /// line, so that required consumers' `commit` stays as small as it was.
    #[inline(never)]
    fn store_evictable(&mut self, seq: i64) -> Result<()> {
        crate::sync::fence(Ordering::Acquire);
        self.check_evicted()?;
        if self.sequence.publish(seq, self.wakeups) {
            self.counters.wakeup();
        }
        Ok(())
    }

    #[cold]
    fn evicted(&self) -> Error {
        let t = &self.tables;
        let st = t.consumer_state(self.index).load(Ordering::Acquire);
        if st != state::EVICTED {
            return Error::Corrupt {
                path: Default::default(),
                detail: format!(
                    "consumer entry {} holds state {st} while its consumer is attached",
                    self.index
                ),
            };
        }
        let committed = t.consumer_evicted_at(self.index).load(Ordering::Relaxed);
        let head = t.head(self.multi);
        Error::Evicted {
            name: t.consumer_name(self.index),
            committed,
            lost: u64::try_from(head.saturating_sub(self.committed)).unwrap_or(0),
        }
    }

    /// Whether this consumer is optional (evictable).
    pub fn is_optional(&self) -> bool {
        self.evictable
    }

    /// Events its name missed when it joined.
    pub fn lost_on_join(&self) -> u64 {
        self.lost_on_join
    }

    /// After an eviction: joins again at the current position and returns
    /// the events lost since the last commit. `Ok(0)` when not evicted.
    pub fn rejoin(&mut self, segment: &Segment) -> Result<u64> {
        let _guard = lock_registry(segment)?;
        let t = &self.tables;
        if t.consumer_state(self.index).load(Ordering::Acquire) != state::EVICTED {
            return Ok(0);
        }
        t.consumer_generation(self.index)
            .fetch_add(1, Ordering::Relaxed);
        t.consumer_state(self.index)
            .store(state::JOINING, Ordering::Release);
        let start = join(t, self.index, self.multi);
        t.consumer_state(self.index)
            .store(state::ACTIVE, Ordering::Release);
        t.table_generation().fetch_add(1, Ordering::Release);
        let lost = u64::try_from(start.saturating_sub(self.committed)).unwrap_or(0);
        self.committed = start;
        self.available = start;
        self.stuck = None;
        self.abandoned_at.set(i64::MAX);
        Ok(lost)
    }

    /// Leaves the ring: stops gating the producer. The entry keeps its name
    /// and committed sequence.
    pub fn leave(&mut self, segment: &Segment) -> Result<()> {
        // Exact counts before the entry shows it left.
        self.counters.flush();
        let _guard = lock_registry(segment)?;
        let t = &self.tables;
        t.gating_mask()
            .fetch_and(!(1 << self.index), Ordering::SeqCst);
        t.consumer_state(self.index)
            .store(state::LEFT, Ordering::Release);
        t.table_generation().fetch_add(1, Ordering::Release);
        t.counters().bump(crate::layout::counters::DETACHES);
        Ok(())
    }
}

/// Joins entry `index` to the gating set at the current head (registry
/// lock held) and returns its start. Publishes the start, joins the gating
/// mask, then re-reads the head: see `Tables::gating_minimum` for the
/// pairing that keeps producers from lapping a consumer that is joining.
fn join(tables: &Tables, index: u32, multi: bool) -> i64 {
    let sequence = tables.consumer_sequence(index);
    let start = tables.head(multi).max(sequence.get());
    sequence.set(start);
    tables.gating_mask().fetch_or(1 << index, Ordering::SeqCst);
    let start = tables.head(multi).max(start);
    sequence.value().store(start, Ordering::SeqCst);
    start
}

#[inline]
fn resolved(stamp: Stamp) -> bool {
    matches!(stamp, Stamp::Published | Stamp::Abandoned)
}
