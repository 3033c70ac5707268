//! [`Consumer`]: the safe handle over a registered consumer (waiting,
//! reading, committing, leaving), and how a ring hands one out.

mod fast;
mod wake;

use super::{check_type, require_packed, ConsumerOptions, Ring, Shared};
use crate::consumer::ConsumerCore;
use crate::error::{Error, Result};
use crate::wait::WaitStrategy;
use bytemuck::Pod;
use std::sync::Arc;
use std::time::Duration;

impl Ring {
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
        self.shared.segment.require_writable("consumer")?;
        let core = ConsumerCore::register(
            &self.shared.segment,
            self.shared.tables,
            self.shared.slots,
            name,
            &options.dependencies,
            options.strategy,
            crate::consumer::Join {
                optional: options.optional.then_some(options.max_block),
                oldest: options.oldest,
            },
        )?;
        Ok(Consumer {
            core,
            left: false,
            shared: self.shared.clone(),
        })
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
    #[inline]
    pub fn slots(&self, lo: i64, hi: i64) -> Result<(&[u8], &[u8])> {
        // The common case inline: a packed ring and a range the last wait
        // made readable with no stamp to look at.
        let slots = self.core.slots();
        match self.core.readable_span(lo, hi) {
            Some([(a, a_count), (b, b_count)]) if slots.packed() => {
                let stride = slots.stride();
                Ok(self.batch_slices([
                    (a, a_count as usize * stride),
                    (b, b_count as usize * stride),
                ]))
            }
            _ => self.slots_checked(lo, hi),
        }
    }

    /// [`Consumer::slots`] with every check, and the error that names what
    /// is wrong.
    #[inline(never)]
    fn slots_checked(&self, lo: i64, hi: i64) -> Result<(&[u8], &[u8])> {
        let slots = self.core.slots();
        require_packed(slots)?;
        self.core.check_range(lo, hi)?;
        Ok(self.batch_slices(slots.contiguous(lo, hi)))
    }

    /// The slices of [`Consumer::slots`] over the (start, bytes) parts of
    /// a checked range.
    #[inline(always)]
    fn batch_slices(&self, parts: [(*mut u8, usize); 2]) -> (&[u8], &[u8]) {
        let [(a, a_len), (b, b_len)] = parts;
        // SAFETY: the sequences are published and not committed by this
        // consumer (checked by the caller), so the producer does not
        // overwrite them; both ranges lie in the mapping kept alive by
        // `self.shared`, and `commit` (`&mut self`) cannot run while the
        // slices live.
        let first = unsafe { std::slice::from_raw_parts(a, a_len) };
        // SAFETY: as for the first range (the part after the wrap).
        let second = unsafe { std::slice::from_raw_parts(b, b_len) };
        (first, second)
    }

    /// The payloads of available, uncommitted `[lo, hi]` as (start, bytes)
    /// of at most two runs of [`Consumer::stride`]-spaced slots (any
    /// layout; for the C ABI's batch accessor). Checked once for the range.
    #[doc(hidden)]
    #[inline]
    pub fn raw_span(&self, lo: i64, hi: i64) -> Result<[(*mut u8, usize); 2]> {
        self.core.check_range(lo, hi)?;
        Ok(self.core.slots().contiguous(lo, hi))
    }

    /// The path of the ring's segment (for messages of the C ABI).
    pub(crate) fn ring_path(&self) -> &std::path::Path {
        self.shared.segment.path()
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
    /// With [`ConsumerOptions::join_at_oldest`], a new name counts every
    /// event published before the first one it reads.
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
