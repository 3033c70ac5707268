//! Sequencers: how producers claim and publish sequences.
//!
//! `single` is the single-producer sequencer (no read-modify-write on the
//! hot path); `multi` the multi-producer one (a shared claim counter and
//! per-sequence stamps, which consumers read alike in both modes);
//! `recovery` abandons multi-producer claims that will not be published.

pub mod multi;
pub mod recovery;
pub mod single;

use crate::error::{Error, Result};
pub use multi::MultiSequencer;
pub use single::SingleSequencer;

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
