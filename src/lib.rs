//! # disruptor-mp
//!
//! A multi-process ring buffer in the LMAX Disruptor design, over POSIX
//! shared memory or a memory-mapped file. One pre-allocated ring of
//! fixed-size slots; a producer claims and publishes sequences; consumers
//! (broadcast: each sees every event) wait for sequences in batches and
//! commit how far they have read; the slowest consumer holds the producer
//! back. Every participant may be a different process, in Rust, C, C++ or
//! any language that can call the C ABI (`include/disruptor_mp.h`).
//!
//! ```no_run
//! use disruptor_mp::{Location, Ring, RingOptions, WaitStrategy};
//! use std::time::Duration;
//!
//! let loc = Location::shm("quotes");
//! let ring = Ring::create(&loc, &RingOptions::new().capacity(1024).slot_size(8))?;
//! let mut consumer = ring.consumer("audit", &[], WaitStrategy::Yield)?;
//! let mut producer = ring.producer(WaitStrategy::Yield)?;
//! producer.send(&42u64, Duration::from_secs(1))?;
//! consumer.poll(Duration::from_secs(1), |seq, bytes| println!("{seq}: {bytes:?}"))?;
//! Ring::unlink(&loc)?;
//! # Ok::<(), disruptor_mp::Error>(())
//! ```
//!
//! Layers, bottom up (docs/ARCHITECTURE.md has the table):
//! [`error`], `fault`, [`sys`] (the only libc user), [`sync`], [`layout`],
//! [`region`], [`counters`], [`segment`], [`sequence`], [`slots`],
//! [`table`], [`wait`], [`liveness`], [`sequencer`], [`consumer`],
//! [`snapshot`], [`ring`] (the safe facade) and [`ffi`] (the C ABI).

#![warn(unsafe_op_in_unsafe_fn, missing_docs)]
// Every unsafe block says why it is sound, and holds one unsafe operation
// so that the comment covers exactly it.
#![deny(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block
)]

pub mod consumer;
pub mod counters;
pub mod error;
mod fault;
pub mod ffi;
pub mod layout;
pub mod liveness;
pub mod region;
pub mod ring;
pub mod segment;
pub mod sequence;
pub mod sequencer;
pub mod slots;
pub mod snapshot;
pub mod sync;
pub mod sys;
pub mod table;
pub mod wait;

pub use error::{Error, Result, Status};
pub use layout::ProducerMode;
pub use liveness::StallAlert;
pub use region::Location;
pub use ring::{Consumer, ConsumerOptions, Producer, ProducerOptions, Ring, RingOptions};
pub use snapshot::{ConsumerStatus, ProducerStatus, Snapshot};
pub use wait::WaitStrategy;

/// The library version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
