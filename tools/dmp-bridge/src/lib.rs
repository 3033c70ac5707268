//! dmp-bridge: disruptor-mp rings over NATS JetStream (docs/BRIDGE.md).
//!
//! `out` reads a ring as a named consumer and publishes its events to a
//! stream, committing what JetStream acknowledged (at least once, with
//! JetStream's de-duplication dropping what a restart sends again); `in`
//! pulls a durable consumer and publishes into a ring as its producer,
//! exactly once across its own restarts (`applied`). `bench` compares a
//! ring-to-ring run through one server with the plain client.

pub mod applied;
pub mod bench;
pub mod config;
pub mod format;
pub mod inbound;
pub mod metrics;
pub mod out;

use clap::Args;
use disruptor_mp::{Location, WaitStrategy};
use std::time::Duration;

/// Which ring, and how the bridge waits on it.
#[derive(Args, Clone, Debug)]
pub struct RingArgs {
    /// The ring: a shared-memory name, or a file path (anything with a `/`).
    #[arg(long)]
    pub ring: String,
    /// How the bridge's ring thread waits: yield, spin, sleep:<µs> or
    /// block (block needs a ring created with wake-ups).
    #[arg(long, default_value = "sleep:50")]
    pub wait: String,
    /// How long to wait for the ring to appear.
    #[arg(long, default_value = "10s", value_parser = config::parse_duration)]
    pub open_timeout: Duration,
}

impl RingArgs {
    /// The wait strategy, parsed.
    pub fn wait_strategy(&self) -> Result<WaitStrategy, String> {
        WaitStrategy::parse(&self.wait).map_err(|e| format!("--wait {}: {e}", self.wait))
    }
}

/// A ring's location from its command-line form.
pub fn location(ring: &str) -> Location {
    if ring.contains('/') {
        Location::file(ring)
    } else {
        Location::shm(ring)
    }
}
