//! [`Producer`]: claiming, writing and publishing in either producer mode,
//! with the multi-producer calls kept out of line, and detaching on drop.

use super::{check_type, require_packed, Shared};
use crate::error::{Error, Result};
use crate::liveness::{Lease, Policy, Watch};
use crate::sequencer::{self, locate, MultiSequencer, Sequencer, Watcher};
use crate::slots::Slots;
use bytemuck::Pod;
use std::sync::Arc;
use std::time::Duration;

/// Multi-producer claim, out of line so the single-producer path stays as
/// small as it was.
#[inline(never)]
fn multi_claim<'w>(
    m: &mut MultiSequencer,
    n: u64,
    timeout: Duration,
    shared: &Shared,
    watcher: impl FnOnce() -> Option<Watcher<'w>>,
) -> Result<i64, Box<Error>> {
    m.claim(n, timeout, watcher)
        .map_err(|e| Box::new(locate(e, shared.segment.path())))
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
    let seq = multi_claim(m, 1, timeout, shared, watcher).map_err(|e| *e)?;
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

/// A producer of the ring. One thread at a time (it is `Send`, not `Sync`).
///
/// The same calls work in both producer modes: claim, write the claimed
/// slots, publish. In a multi-producer ring each producer has at most one
/// outstanding claim, and a claim not published within the ring's unblock
/// timeout may be abandoned (`publish` then fails with `ClaimAbandoned`).
#[derive(Debug)]
pub struct Producer {
    pub(super) sequencer: Sequencer,
    pub(super) slots: Slots,
    pub(super) entry: u32,
    pub(super) policy: Policy,
    pub(super) watch: Watch,
    pub(super) _lease: Lease,
    pub(super) shared: Arc<Shared>,
}

impl Producer {
    /// Claims `n` consecutive slots, waiting at most `timeout` for consumers
    /// to free them; returns the first sequence. Write the slots with
    /// [`Producer::slot_mut`] or [`Producer::write`], then
    /// [`Producer::publish`] the range.
    #[inline(always)]
    pub fn claim(&mut self, n: u64, timeout: Duration) -> Result<i64> {
        let (shared, policy, watch) = (&self.shared, &self.policy, &mut self.watch);
        match &mut self.sequencer {
            Sequencer::Single(s) => s.claim(n, timeout, || watcher(shared, policy, watch)),
            // Boxed out of line: a result in two registers, so the single
            // producer's claim, which it joins here, is not returned
            // through memory (two stores and a load per claim).
            Sequencer::Multi(m) => {
                multi_claim(m, n, timeout, shared, || watcher(shared, policy, watch))
                    .map_err(|e| *e)
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
    #[inline(always)]
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
    #[inline(always)]
    fn check_claimed(&self, lo: i64, hi: i64) -> Result<()> {
        if self.holds(lo, hi) {
            Ok(())
        } else {
            Err(self.not_claimed(lo, hi))
        }
    }

    /// Whether `[lo, hi]` is claimed by this producer and unpublished.
    #[inline(always)]
    pub(super) fn holds(&self, lo: i64, hi: i64) -> bool {
        match &self.sequencer {
            Sequencer::Single(s) => lo > s.published() && hi <= s.claimed() && lo <= hi,
            Sequencer::Multi(m) => m.holds(lo, hi),
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
                "[{lo}, {hi}] is not claimed: this producer has no unpublished claim: claim first, then write the claimed slots"
            ));
        }
        Error::SequenceOutOfRange(format!(
            "[{lo}, {hi}] is not within the claimed range [{first}, {last}]: write only the slots of the unpublished claim"
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
        let first = unsafe { std::slice::from_raw_parts_mut(a, a_len) };
        // SAFETY: as for the first range (the part after the wrap, disjoint
        // from it).
        let second = unsafe { std::slice::from_raw_parts_mut(b, b_len) };
        Ok((first, second))
    }

    /// The payloads of claimed, unpublished `[lo, hi]` as (start, bytes) of
    /// at most two runs of [`Producer::stride`]-spaced slots (any layout;
    /// for the C ABI's batch accessor). Checked once for the range.
    #[doc(hidden)]
    #[inline]
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
    #[inline(always)]
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

    /// The path of the ring's segment (for messages of the C ABI).
    pub(crate) fn ring_path(&self) -> &std::path::Path {
        self.shared.segment.path()
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
        sequencer::detach(
            &mut self.sequencer,
            &self.shared.segment,
            &self.shared.tables,
            self.entry,
        );
    }
}
