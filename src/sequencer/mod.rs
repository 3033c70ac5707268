//! Sequencers: how producers claim and publish sequences.
//!
//! `single` is the single-producer sequencer (no read-modify-write on the
//! hot path); `multi` the multi-producer one (a shared claim counter and
//! per-sequence stamps, which consumers read alike in both modes);
//! `recovery` abandons multi-producer claims that will not be published.

pub mod multi;
pub mod recovery;
pub mod single;

pub use multi::MultiSequencer;
pub use single::SingleSequencer;
