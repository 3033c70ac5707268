//! Sequencers: how producers claim and publish sequences.
//!
//! `single` is the single-producer sequencer. The multi-producer sequencer
//! (shared claim counter, per-slot stamps as availability flags) will sit
//! beside it and share the slot stamps, so consumers read both modes alike.

pub mod single;

pub use single::SingleSequencer;
