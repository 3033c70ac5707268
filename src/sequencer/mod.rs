//! Sequencers: how producers claim and publish sequences.
//!
//! `single` is the single-producer sequencer (no read-modify-write on the
//! hot path); `multi` the multi-producer one (a shared claim counter and
//! per-sequence stamps, which consumers read alike in both modes);
//! `recovery` abandons multi-producer claims that will not be published;
//! `attach` gives a producer its entry in the producer table (taking over
//! from one that died) and its `Sequencer`, and takes the entry back.

mod attach;
pub mod multi;
pub mod recovery;
pub mod single;

use crate::error::{Error, Result};
pub(crate) use attach::{attach, detach, Attached};
pub use multi::MultiSequencer;
pub use single::SingleSequencer;

/// How a producer claims and publishes: the ring's mode, chosen at attach.
#[derive(Debug)]
pub(crate) enum Sequencer {
    /// A single-producer ring.
    Single(SingleSequencer),
    /// A multi-producer ring.
    Multi(MultiSequencer),
}

/// Names the segment in a corruption error raised below the segment layer.
#[cold]
pub(crate) fn locate(e: Error, path: &std::path::Path) -> Error {
    match e {
        Error::Corrupt { detail, .. } => Error::Corrupt {
            path: path.into(),
            detail,
        },
        other => other,
    }
}

/// Checks a claim of `n` sequences against a ring of `capacity`.
#[inline]
pub(crate) fn check_batch(n: u64, capacity: i64) -> Result<()> {
    if n == 0 || n > capacity as u64 {
        return Err(batch_too_large(n, capacity));
    }
    Ok(())
}

#[cold]
fn batch_too_large(n: u64, capacity: i64) -> Error {
    Error::BatchTooLarge {
        requested: n,
        capacity: capacity as u64,
    }
}

/// What a waiting producer needs to watch the consumers that hold it back:
/// the segment (lease probes, registry lock), its policy and its watch
/// state. Absent when a sequencer runs over a bare region (unit tests).
pub struct Watcher<'a> {
    /// The segment.
    pub segment: &'a crate::segment::Segment,
    /// The producer's policy.
    pub policy: &'a crate::liveness::Policy,
    /// The producer's watch state.
    pub watch: &'a mut crate::liveness::Watch,
}

/// `wait_until` for a producer waiting for free slots, which every
/// [`crate::liveness::WATCH_INTERVAL`] runs `check` (the watch over the
/// consumer holding it back; it may evict that consumer or fail). A
/// non-blocking attempt that finds the ring full runs `check` once and
/// polls again, so an evicted consumer frees the ring for it too.
pub(crate) fn watched_wait<T>(
    strategy: crate::wait::WaitStrategy,
    timeout: std::time::Duration,
    what: &'static str,
    idle: impl FnOnce(),
    mut poll: impl FnMut() -> crate::wait::Poll<T>,
    mut check: impl FnMut() -> Result<()>,
) -> Result<T> {
    use crate::wait::{wait_until, Poll};
    if timeout.is_zero() {
        return match wait_until(strategy, timeout, what, idle, &mut poll) {
            Err(Error::WouldBlock(w)) => {
                check()?;
                match poll() {
                    Poll::Ready(v) => Ok(v),
                    Poll::Pending(_) => Err(Error::WouldBlock(w)),
                }
            }
            other => other,
        };
    }
    // Time is accounted slice by slice (each slice keeps its bound), so a
    // wait that ends in its first slice reads no clock here.
    let mut idle = Some(idle);
    let mut left = timeout;
    loop {
        let slice = left
            .min(crate::liveness::WATCH_INTERVAL)
            .max(std::time::Duration::from_nanos(1));
        let once = idle.take();
        let idle = move || {
            if let Some(f) = once {
                f()
            }
        };
        match wait_until(strategy, slice, what, idle, &mut poll) {
            Ok(v) => return Ok(v),
            Err(Error::Timeout { what, .. }) => {
                check()?;
                left = left.saturating_sub(slice);
                if left.is_zero() {
                    return Err(Error::Timeout {
                        what,
                        waited: timeout,
                    });
                }
            }
            Err(e) => return Err(e),
        }
    }
}
