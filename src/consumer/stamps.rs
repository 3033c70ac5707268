//! Multi-producer rings: a first-stage consumer learns of events from the
//! stamps alone (the run of resolved sequences), notes the abandoned ones
//! it passes, and unblocks a claim left pending past the unblock timeout.

use super::{Barrier, ConsumerCore};
use crate::error::{Error, Result};
use crate::segment::Segment;
use crate::slots::Stamp;
use crate::wait::{wait_until, Poll};
use std::time::{Duration, Instant};

impl ConsumerCore {
    /// Multi-producer rings: the run of resolved (published or abandoned)
    /// sequences from `seq`, or a wait for `seq`. Out of line, so the
    /// single-producer path stays as small as it was. Stamps of later
    /// sequences sit in the lines the caller reads next.
    #[inline(never)]
    pub(super) fn wait_for_stamps(
        &mut self,
        segment: &Segment,
        seq: i64,
        timeout: Duration,
    ) -> Result<i64> {
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
    pub(super) fn wait_stamps(
        &mut self,
        segment: &Segment,
        seq: i64,
        timeout: Duration,
    ) -> Result<i64> {
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
        let ready = |hi: i64| hi >= seq;
        // A short wait reads no clock: the stamps are polled for a spin
        // first (the clock, the timeout and the unblock deadline run from
        // the first read after it). A zero timeout polls once, below.
        if !timeout.is_zero() {
            let spun = crate::wait::spin_briefly(|| {
                let (hi, abandoned) = slots.resolved_run(from, limit);
                ready(hi).then_some((hi, abandoned))
            });
            if let Some((available, abandoned)) = spun {
                self.stuck = None;
                self.note_abandoned(abandoned);
                self.available = self.clamp(available);
                return Ok(self.available);
            }
        }
        let start = Instant::now();
        let deadline = start.checked_add(timeout);
        let mut first = Some(start);
        loop {
            let now = first.take().unwrap_or_else(Instant::now);
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
            let counters = &self.counters;
            let idle = || counters.flush();
            let polled = wait_until(self.strategy, left, "events", idle, || {
                match slots.resolved_run(from, limit) {
                    (hi, abandoned) if ready(hi) => Poll::Ready((hi, abandoned)),
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

    /// Records the lowest abandoned sequence a stamp scan found.
    #[inline]
    fn note_abandoned(&self, abandoned: Option<i64>) {
        if let Some(a) = abandoned {
            self.abandoned_at.set(self.abandoned_at.get().min(a));
        }
    }
}

#[inline]
fn resolved(stamp: Stamp) -> bool {
    matches!(stamp, Stamp::Published | Stamp::Abandoned)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{consumer, ring};
    use crate::{Error, ProducerMode, RingOptions, WaitStrategy};
    use std::time::Duration;

    const T: Duration = Duration::from_secs(5);

    fn multi(capacity: u64) -> RingOptions {
        RingOptions::new()
            .capacity(capacity)
            .slot_size(8)
            .producer_mode(ProducerMode::Multi)
    }

    /// The scan reads past an abandoned sequence; readers are refused it,
    /// and the one-event path commits past it.
    #[test]
    fn an_abandoned_sequence_is_passed_and_never_read() {
        let r = ring("stamps-abandoned", &multi(8));
        let (segment, ..) = r.raw_parts();
        let mut c = consumer(&r, "c", &[], None).unwrap();
        let mut p = r.producer(WaitStrategy::Yield).unwrap();
        assert_eq!(p.claim(1, T).unwrap(), 0);
        p.unclaim(0);
        assert_eq!(p.send(&1u64, T).unwrap(), 1);
        assert_eq!(c.wait_for(|| segment, 0, T).unwrap(), 1);
        assert!(c.is_abandoned(0) && !c.is_abandoned(1));
        let e = c.check_readable(0).unwrap_err();
        assert!(matches!(e, Error::Abandoned { seq: 0 }), "{e:?}");
        let e = c.check_range(0, 1).unwrap_err();
        assert!(matches!(e, Error::Abandoned { seq: 0 }), "{e:?}");
        c.check_readable(1).unwrap();
        assert_eq!(c.next_event(|| segment, T).unwrap(), 1);
        assert_eq!(c.committed(), 0);
        c.commit_next(1).unwrap();
    }

    /// A batch of a multi-producer ring ends where the resolved stamps do,
    /// even with later sequences published (by another claim) beyond a gap.
    #[test]
    fn a_batch_ends_at_the_first_pending_stamp() {
        let r = ring("stamps-gap", &multi(8));
        let (segment, ..) = r.raw_parts();
        let mut c = consumer(&r, "c", &[], None).unwrap();
        let mut a = r.producer(WaitStrategy::Yield).unwrap();
        let mut b = r.producer(WaitStrategy::Yield).unwrap();
        assert_eq!(a.send(&0u64, T).unwrap(), 0);
        assert_eq!(a.claim(1, T).unwrap(), 1);
        assert_eq!(b.send(&2u64, T).unwrap(), 2);
        assert_eq!(c.wait_for(|| segment, 0, T).unwrap(), 0);
        let e = c.wait_for(|| segment, 1, Duration::ZERO).unwrap_err();
        assert!(matches!(e, Error::WouldBlock(_)), "{e:?}");
        a.publish(1, 1).unwrap();
        assert_eq!(c.wait_for(|| segment, 1, T).unwrap(), 2);
    }
}
