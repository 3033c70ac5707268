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
//! `error`, `fault`, `sys` (the only libc user), `sync`, `layout`,
//! `region`, `counters`, `segment`, `sequence`, `slots`,
//! `table`, `wait`, `liveness`, `sequencer`, `consumer`,
//! `snapshot`, `ring` (the safe facade) and [`ffi`] (the C ABI); of these only
//! [`layout`] (the segment format) and [`ffi`] are public modules; the
//! public types of the others are re-exported at the crate root.

#![warn(unsafe_op_in_unsafe_fn, missing_docs)]
// Every unsafe block says why it is sound, and holds one unsafe operation
// so that the comment covers exactly it.
#![deny(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block
)]

pub(crate) mod consumer;
pub(crate) mod counters;
pub(crate) mod error;
mod fault;
pub mod ffi;
pub mod layout;
pub(crate) mod liveness;
pub(crate) mod region;
pub(crate) mod ring;
pub(crate) mod segment;
pub(crate) mod sequence;
pub(crate) mod sequencer;
pub(crate) mod slots;
pub(crate) mod snapshot;
pub(crate) mod sync;
pub(crate) mod sys;
pub(crate) mod table;
pub(crate) mod wait;

pub use consumer::Armed;
pub use counters::{CounterValue, Owner};
pub use error::{Error, Result, Status};
pub use layout::ProducerMode;
pub use liveness::StallAlert;
pub use region::Location;
pub use ring::{
    Consumer, ConsumerOptions, Producer, ProducerOptions, Ring, RingOptions, DEFAULT_CAPACITY,
    DEFAULT_MAX_CONSUMERS, DEFAULT_MAX_PRODUCERS, DEFAULT_MODE, DEFAULT_SLOT_SIZE,
    DEFAULT_UNBLOCK_TIMEOUT,
};
pub use snapshot::{ConsumerStatus, ProducerStatus, Snapshot};
pub use wait::WaitStrategy;

/// The library version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the `dmp` tool and the integration tests reach below the public
/// API (the model checker's shims, the counters' flush interval, system
/// helpers). Not part of the API: it follows the implementation.
#[doc(hidden)]
pub mod internals {
    pub use crate::counters::FLUSH_EVERY;
    pub use crate::liveness::Lease;
    pub use crate::sequence::{Recheck, SharedSequence, Wakeups};
    pub use crate::sequencer::recovery;
    pub use crate::slots::Stamp;
    #[cfg(loom)]
    pub use crate::sync::{doorbell_install, doorbell_wait, membarrier, Membarrier};
    pub use crate::sys::{free_bytes, fs_size_bytes, pin_to_cpu, unix_time_ns};
}
