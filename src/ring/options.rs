//! The option builders: [`RingOptions`] (how to create a ring, or what to
//! expect of one being opened), [`ProducerOptions`] and [`ConsumerOptions`]
//! (how a participant attaches), with the ring's defaults.

use crate::error::{Error, Result};
use crate::layout::{Params, ProducerMode, FLAG_NO_HOT_COUNTERS, FLAG_PACKED, FLAG_WAKEUPS};
use crate::liveness::{Policy, StallAlert};
use crate::segment::Segment;
use crate::wait::WaitStrategy;
use bytemuck::Pod;
use std::sync::Arc;
use std::time::Duration;

/// Default number of slots.
pub const DEFAULT_CAPACITY: u64 = 4096;
/// Default payload bytes per slot.
pub const DEFAULT_SLOT_SIZE: u64 = 64;
/// Default consumer-table size.
pub const DEFAULT_MAX_CONSUMERS: u32 = 16;
/// Default permissions of a new segment.
pub const DEFAULT_MODE: u32 = 0o600;
/// Default producer-table size of a multi-producer ring.
pub const DEFAULT_MAX_PRODUCERS: u32 = 8;
/// Default unblock timeout (see [`RingOptions::unblock_timeout`]).
pub const DEFAULT_UNBLOCK_TIMEOUT: Duration = Duration::from_secs(2);

/// How to create a ring, or what to expect of one being opened.
///
/// For `create`, unset fields take their defaults. For `open`, every field
/// that was set is checked against the segment and a difference is an
/// error naming both values.
#[derive(Debug, Clone, Default)]
pub struct RingOptions {
    pub(super) capacity: Option<u64>,
    pub(super) slot_size: Option<u64>,
    pub(super) max_consumers: Option<u32>,
    pub(super) producer_mode: Option<ProducerMode>,
    pub(super) max_producers: Option<u32>,
    pub(super) unblock_timeout: Option<Duration>,
    pub(super) type_id: Option<u64>,
    pub(super) wakeups: Option<bool>,
    pub(super) packed: Option<bool>,
    pub(super) hot_counters: Option<bool>,
    pub(super) mode: Option<u32>,
    pub(super) group: Option<u32>,
    pub(super) timeout: Duration,
    pub(super) reclaim_stale: bool,
    pub(super) read_only: bool,
}

impl RingOptions {
    /// Options with every field unset.
    pub fn new() -> RingOptions {
        RingOptions::default()
    }

    /// Number of slots (a power of two).
    pub fn capacity(mut self, capacity: u64) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// Payload bytes per slot.
    pub fn slot_size(mut self, slot_size: u64) -> Self {
        self.slot_size = Some(slot_size);
        self
    }

    /// Slot size and type id for the event type `T`.
    pub fn event_type<T: Pod>(self, type_id: u64) -> Self {
        self.slot_size(std::mem::size_of::<T>() as u64)
            .type_id(type_id)
    }

    /// Entries in the consumer table (1 to 64).
    pub fn max_consumers(mut self, n: u32) -> Self {
        self.max_consumers = Some(n);
        self
    }

    /// Single- or multi-producer ring.
    pub fn producer_mode(mut self, mode: ProducerMode) -> Self {
        self.producer_mode = Some(mode);
        self
    }

    /// Multi-producer rings: how many producers may be attached at once
    /// (1 to 64, default 8). Single-producer rings have exactly one.
    pub fn max_producers(mut self, n: u32) -> Self {
        self.max_producers = Some(n);
        self
    }

    /// Multi-producer rings: how long a claimed but unpublished sequence may
    /// hold consumers up (default 2 s, between 1 ms and 1 h). After that the
    /// claim is abandoned: consumers skip its sequences and its producer's
    /// publish fails with `ClaimAbandoned`. Set it well above the longest
    /// time a live producer may spend between claim and publish.
    pub fn unblock_timeout(mut self, timeout: Duration) -> Self {
        self.unblock_timeout = Some(timeout);
        self
    }

    /// Application-chosen event type identifier; a process expecting
    /// another id is refused at open.
    pub fn type_id(mut self, id: u64) -> Self {
        self.type_id = Some(id);
        self
    }

    /// Whether publish and commit wake sleepers of the blocking strategy
    /// (default on). Off saves one serialising instruction per publish and
    /// commit; the blocking strategy is then refused.
    pub fn wakeups(mut self, on: bool) -> Self {
        self.wakeups = Some(on);
        self
    }

    /// Packed slots (default off): the stride is the slot size rounded to 8
    /// bytes and slots carry no publication stamp, which packs small events
    /// densely (eight 8-byte events per cache line) for the highest
    /// throughput; consumers then learn of events from the cursor, which
    /// costs a second cache-line transfer per wake-up. Off: every slot is
    /// 64-byte aligned with its stamp in the payload's line, for the lowest
    /// latency.
    pub fn packed(mut self, on: bool) -> Self {
        self.packed = Some(on);
        self
    }

    /// Whether producers and consumers count their events and batches in
    /// the segment's counters (default on; two single-writer increments per
    /// batch). Off leaves those counters at 0; the cold-path counters
    /// (waits, timeouts, attaches, abandoned sequences, wake-ups) are kept
    /// either way.
    pub fn hot_counters(mut self, on: bool) -> Self {
        self.hot_counters = Some(on);
        self
    }

    /// `open_or_create` only: a ring that exists but is stale (it was used,
    /// and no live process holds any of its leases: every participant
    /// died or left) is unlinked and created anew with these options.
    /// Meant for a supervisor restarting a whole system; a process that
    /// opened the old ring just before it was replaced keeps working on
    /// the old, unlinked segment, alone.
    pub fn reclaim_stale(mut self, on: bool) -> Self {
        self.reclaim_stale = on;
        self
    }

    /// Permissions of a new segment (default 0o600), applied exactly,
    /// whatever the umask.
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Group of a new segment (a gid; default: the creator's group), set
    /// before the segment gets its name. With a mode such as 0o640 that
    /// group's members can observe the ring read-only; with 0o660 they can
    /// also take part. Creating fails (`Error::Io`, "chgrp") when the
    /// creator may not give files to that group (it is not a member and
    /// not privileged).
    pub fn group(mut self, gid: u32) -> Self {
        self.group = Some(gid);
        self
    }

    /// `open` only: open the segment read-only (`O_RDONLY`, mapped
    /// `PROT_READ`), as an observer that takes snapshots and can change
    /// nothing, even with write permission. Without it, `open` falls back
    /// to read-only by itself when this process may read the segment but
    /// not write it. Attaching a producer or consumer to a read-only ring
    /// fails with `Error::ReadOnly`.
    pub fn read_only(mut self, on: bool) -> Self {
        self.read_only = on;
        self
    }

    /// How long `open` and `open_or_create` wait for the segment to appear
    /// (default: not at all).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub(super) fn params(&self) -> Params {
        let producer_mode = self.producer_mode.unwrap_or(ProducerMode::Single);
        Params {
            capacity: self.capacity.unwrap_or(DEFAULT_CAPACITY),
            slot_size: self.slot_size.unwrap_or(DEFAULT_SLOT_SIZE),
            max_consumers: self.max_consumers.unwrap_or(DEFAULT_MAX_CONSUMERS),
            max_producers: match producer_mode {
                ProducerMode::Single => self.max_producers.unwrap_or(1),
                ProducerMode::Multi => self.max_producers.unwrap_or(DEFAULT_MAX_PRODUCERS),
            },
            producer_mode,
            unblock_timeout_ns: u64::try_from(
                self.unblock_timeout
                    .unwrap_or(DEFAULT_UNBLOCK_TIMEOUT)
                    .as_nanos(),
            )
            .unwrap_or(u64::MAX),
            type_id: self.type_id.unwrap_or(0),
            flags: if self.wakeups.unwrap_or(true) {
                FLAG_WAKEUPS
            } else {
                0
            } | if self.packed.unwrap_or(false) {
                FLAG_PACKED
            } else {
                0
            } | if self.hot_counters.unwrap_or(true) {
                0
            } else {
                FLAG_NO_HOT_COUNTERS
            },
        }
    }

    pub(super) fn check(&self, segment: &Segment) -> Result<()> {
        let p = &segment.layout().params;
        let path = segment.path();
        let mismatch = |field, found: u64, requested: u64| {
            if found == requested {
                Ok(())
            } else {
                Err(Error::LayoutMismatch {
                    path: path.into(),
                    field,
                    found,
                    requested,
                })
            }
        };
        if let Some(c) = self.capacity {
            mismatch("capacity", p.capacity, c)?;
        }
        if let Some(s) = self.slot_size {
            mismatch("slot size", p.slot_size, s)?;
        }
        if let Some(m) = self.max_consumers {
            mismatch("consumer table size", p.max_consumers.into(), m.into())?;
        }
        if let Some(m) = self.producer_mode {
            mismatch(
                "producer mode",
                p.producer_mode.code().into(),
                m.code().into(),
            )?;
        }
        if let Some(m) = self.max_producers {
            mismatch("producer table size", p.max_producers.into(), m.into())?;
        }
        if let Some(t) = self.unblock_timeout {
            let ns = u64::try_from(t.as_nanos()).unwrap_or(u64::MAX);
            mismatch("unblock timeout (ns)", p.unblock_timeout_ns, ns)?;
        }
        if let Some(w) = self.wakeups {
            let on = p.wakeups();
            mismatch("wake-ups", u64::from(on), u64::from(w))?;
        }
        if let Some(k) = self.packed {
            let on = p.packed();
            mismatch("layout", u64::from(on), u64::from(k))?;
        }
        if let Some(k) = self.hot_counters {
            let on = p.hot_counters();
            mismatch("hot counters", u64::from(on), u64::from(k))?;
        }
        if let Some(t) = self.type_id {
            if t != p.type_id {
                return Err(Error::TypeMismatch {
                    path: path.into(),
                    found: p.type_id,
                    requested: t,
                });
            }
        }
        Ok(())
    }
}

/// How a producer attaches and what it does about consumers that hold it
/// back. Everything here is looked at only while the producer waits (or
/// once, at attach), never on its hot path.
#[derive(Debug, Clone, Default)]
pub struct ProducerOptions {
    pub(super) strategy: WaitStrategy,
    pub(super) policy: Policy,
    pub(super) ready: Option<Readiness>,
}

/// The readiness gate: consumers a producer waits for at attach.
#[derive(Debug, Clone)]
pub(super) struct Readiness {
    pub(super) count: u32,
    pub(super) names: Vec<String>,
    pub(super) timeout: Duration,
}

impl ProducerOptions {
    /// Defaults: the default wait strategy, a dead required consumer may
    /// hold the producer back for 5 s before claims fail, no progress
    /// timeout, no readiness gate.
    pub fn new() -> ProducerOptions {
        ProducerOptions::default()
    }

    /// How the producer waits for free slots.
    pub fn strategy(mut self, strategy: WaitStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// How long a dead required consumer (no live process holds its lease)
    /// may hold the producer back (time for it to come back under its name
    /// and resume) before claims fail with `ConsumerDead` naming it.
    pub fn consumer_dead_timeout(mut self, timeout: Duration) -> Self {
        self.policy.consumer_dead_timeout = timeout;
        self
    }

    /// A live required consumer that makes no progress for `timeout` while
    /// it holds the producer back is reported: the ring's stalled-consumer
    /// alert counter and the [`ProducerOptions::on_stall`] callback. If it
    /// still makes none after `grace` more, claims fail with
    /// `ConsumerStalled` naming it.
    pub fn progress_timeout(mut self, timeout: Duration, grace: Duration) -> Self {
        self.policy.progress_timeout = Some(timeout);
        self.policy.stall_grace = grace;
        self
    }

    /// Called (on the producer's thread, while it waits) once per stall
    /// found by the progress timeout.
    pub fn on_stall(mut self, f: impl Fn(&StallAlert) + Send + Sync + 'static) -> Self {
        self.policy.on_stall = Some(Arc::new(f));
        self
    }

    /// The readiness gate: attaching waits (at most `timeout`) until at
    /// least `count` consumers are active, and every consumer in `names`
    /// is, so that nothing is published before they can see it.
    pub fn wait_for_consumers(mut self, count: u32, names: &[&str], timeout: Duration) -> Self {
        self.ready = Some(Readiness {
            count,
            names: names.iter().map(|n| n.to_string()).collect(),
            timeout,
        });
        self
    }
}

/// How a consumer attaches.
#[derive(Debug, Clone, Default)]
pub struct ConsumerOptions {
    pub(super) dependencies: Vec<String>,
    pub(super) strategy: WaitStrategy,
    pub(super) optional: bool,
    pub(super) max_block: Duration,
    pub(super) oldest: bool,
}

impl ConsumerOptions {
    /// A required consumer with no dependencies and the default strategy.
    pub fn new() -> ConsumerOptions {
        ConsumerOptions::default()
    }

    /// Consumers whose commits this one waits for (pipelines, diamonds).
    pub fn dependencies(mut self, names: &[&str]) -> Self {
        self.dependencies = names.iter().map(|n| n.to_string()).collect();
        self
    }

    /// How the consumer waits for events.
    pub fn strategy(mut self, strategy: WaitStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// An optional consumer: producers never wait for it longer than
    /// `max_block` (zero: not at all). When it is dead, or has held a
    /// waiting producer back that long, it is evicted: it stops gating,
    /// its next commit (or a wait that has to wait) fails with `Evicted`
    /// (how many events it lost), and
    /// [`Consumer::rejoin`](super::Consumer::rejoin) starts it again at
    /// the current position.
    /// Required consumers (the default) are never evicted: producers wait
    /// for them, within their own policy (see [`ProducerOptions`]).
    pub fn optional(mut self, max_block: Duration) -> Self {
        self.optional = true;
        self.max_block = max_block;
        self
    }

    /// Join at the oldest event the ring still retains for certain instead
    /// of the cursor (default off): after the slowest other consumer that
    /// gates the producers, or, when no producer is attached, a whole ring
    /// back from the head (every event still in it); when a producer is
    /// attached and no other consumer holds it back, nothing is retained
    /// for certain and it joins at the cursor. A name that comes back never
    /// starts before its own last commit.
    /// [`Consumer::lost_on_join`](super::Consumer::lost_on_join) is then exact: the events published
    /// before the first one it reads (for a name that comes back: since its
    /// last commit). A name that resumes (its holder died while it gated)
    /// resumes as always.
    pub fn join_at_oldest(mut self, on: bool) -> Self {
        self.oldest = on;
        self
    }
}
