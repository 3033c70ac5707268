//! Leases and the registry lock: kernel-backed ownership that dies with its
//! process.
//!
//! Both are OFD byte-range locks on the segment file (`F_OFD_SETLK`): the
//! kernel drops them when the holder's open file description closes, which
//! happens when the process exits or is killed, so a dead process can never
//! look alive, whatever PID reuse happens. The locked bytes are documented
//! in docs/FORMAT.md; the lock does not restrict access to the data.

use crate::error::{Error, Result};
use crate::layout::{LOCK_CONSUMER_LEASE, LOCK_REGISTRY};
use crate::segment::Segment;
use crate::sys::{self, LockKind};
use crate::table::Tables;
use std::fs::File;
use std::sync::atomic::Ordering;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

/// How long registration waits for another process's table change.
pub const REGISTRY_TIMEOUT: Duration = Duration::from_secs(10);

/// A participant's lease on one lock byte, held while the value lives.
#[derive(Debug)]
pub struct Lease {
    file: File,
    byte: u64,
}

impl Lease {
    /// Takes the lease on `byte`, or returns `None` if a live process holds
    /// it. The lease uses its own open file description, so two participants
    /// in one process hold independent leases.
    pub fn try_acquire(segment: &Segment, byte: u64) -> Result<Option<Lease>> {
        let file =
            sys::reopen(segment.file()).map_err(|e| Error::io("reopen", segment.path(), e))?;
        match sys::try_lock(&file, byte, LockKind::Exclusive) {
            Ok(true) => Ok(Some(Lease { file, byte })),
            Ok(false) => Ok(None),
            Err(e) => Err(Error::io("lock", segment.path(), e)),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let _ = sys::unlock(&self.file, self.byte);
    }
}

/// Exclusive right to change the participant tables of a segment, across
/// threads (a process-local mutex) and processes (an OFD lock).
pub struct RegistryGuard<'a> {
    file: File,
    _local: MutexGuard<'a, ()>,
}

impl Drop for RegistryGuard<'_> {
    fn drop(&mut self) {
        let _ = sys::unlock(&self.file, LOCK_REGISTRY);
    }
}

/// Takes the registry lock of `segment`, waiting at most `REGISTRY_TIMEOUT`.
pub fn lock_registry(segment: &Segment) -> Result<RegistryGuard<'_>> {
    let local = segment
        .registry_mutex()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let file = sys::reopen(segment.file()).map_err(|e| Error::io("reopen", segment.path(), e))?;
    let start = Instant::now();
    let mut pause = Duration::from_micros(50);
    loop {
        match sys::try_lock(&file, LOCK_REGISTRY, LockKind::Exclusive) {
            Ok(true) => {
                return Ok(RegistryGuard {
                    file,
                    _local: local,
                })
            }
            Ok(false) if start.elapsed() < REGISTRY_TIMEOUT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(5));
            }
            Ok(false) => {
                return Err(Error::Timeout {
                    what: format!("the registry lock of {}", segment.path().display()).into(),
                    waited: REGISTRY_TIMEOUT,
                })
            }
            Err(e) => return Err(Error::io("lock", segment.path(), e)),
        }
    }
}

// ---------------------------------------------------------------------------
// The producer's watch over the consumer that holds it back (cold path)
// ---------------------------------------------------------------------------

/// How often a waiting producer looks at the consumer holding it back.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(5);

/// A live required consumer that made no progress for the producer's
/// progress timeout while holding it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StallAlert {
    /// The consumer's name.
    pub name: String,
    /// Its table entry.
    pub index: u32,
    /// PID of its holder.
    pub pid: u32,
    /// Its committed sequence (unchanged all that time).
    pub sequence: i64,
    /// How long it has made no progress.
    pub stalled: Duration,
}

/// Called once per stall, on the producer's thread, while it waits.
pub type StallCallback = std::sync::Arc<dyn Fn(&StallAlert) + Send + Sync>;

/// What a producer does about the consumer that holds it back. Only looked
/// at while the producer waits for free slots, never on its hot path.
#[derive(Clone)]
pub struct Policy {
    /// How long a dead required consumer may hold the producer back (time
    /// for it to come back under its name) before claims fail with
    /// `ConsumerDead`.
    pub consumer_dead_timeout: Duration,
    /// How long a live required consumer may make no progress while it
    /// holds the producer back before the stall is reported (alert counter,
    /// callback); `None`: never.
    pub progress_timeout: Option<Duration>,
    /// After the alert, how much longer it may stall before claims fail
    /// with `ConsumerStalled`.
    pub stall_grace: Duration,
    /// Called once per stall.
    pub on_stall: Option<StallCallback>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            consumer_dead_timeout: Duration::from_secs(5),
            progress_timeout: None,
            stall_grace: Duration::from_secs(5),
            on_stall: None,
        }
    }
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("consumer_dead_timeout", &self.consumer_dead_timeout)
            .field("progress_timeout", &self.progress_timeout)
            .field("stall_grace", &self.stall_grace)
            .field("on_stall", &self.on_stall.as_ref().map(|_| "callback"))
            .finish()
    }
}

/// The consumer a producer found holding it back, and since when.
#[derive(Debug, Clone, Copy)]
struct Holder {
    index: u32,
    generation: u64,
    sequence: i64,
    /// When the producer first saw it at this sequence (progress resets it).
    since: Instant,
    /// Since when it has held the producer back without a break, whatever
    /// its progress (an optional consumer's `max_block` counts from here).
    blocking_since: Instant,
    /// The last check that found it holding the producer back.
    seen: Instant,
    /// When the producer first found it dead (required consumers).
    dead_since: Option<Instant>,
    alerted: bool,
}

/// Checks further apart than this mean the producer stopped waiting in
/// between: an optional consumer's blocking time starts over.
const BLOCKING_GAP: Duration = Duration::from_nanos(4 * WATCH_INTERVAL.as_nanos() as u64);

/// A producer's process-local watch state: kept across claims, so a
/// producer that claims with short timeouts still sees a long stall.
#[derive(Debug, Default)]
pub struct Watch {
    holder: Option<Holder>,
}

impl Watch {
    /// Looks at the gating consumer with the lowest sequence while the
    /// producer waits to claim up to `wrap_point + capacity`. An optional
    /// consumer that is dead, or that has held the producer back longer
    /// than its policy, is evicted. A required one that is dead past the
    /// policy's timeout, or alive and stalled past the progress timeout
    /// plus grace, fails the claim with an error naming it. Cold path: it
    /// probes a lease (one `fcntl`) and may take the registry lock.
    pub fn check(
        &mut self,
        segment: &Segment,
        tables: &Tables,
        policy: &Policy,
        wrap_point: i64,
        default: i64,
    ) -> Result<()> {
        let (min, at) = tables.gating_minimum(default);
        let Some(i) = at.filter(|_| min < wrap_point) else {
            self.holder = None;
            return Ok(());
        };
        let now = Instant::now();
        let generation = tables.consumer_generation(i).load(Ordering::Acquire);
        let h = match self.holder {
            Some(h) if h.index == i && h.generation == generation => {
                let blocking_since = if now.duration_since(h.seen) <= BLOCKING_GAP {
                    h.blocking_since
                } else {
                    now
                };
                let moved = h.sequence != min;
                Holder {
                    sequence: min,
                    since: if moved { now } else { h.since },
                    blocking_since,
                    seen: now,
                    dead_since: if moved { None } else { h.dead_since },
                    alerted: h.alerted && !moved,
                    ..h
                }
            }
            _ => Holder {
                index: i,
                generation,
                sequence: min,
                since: now,
                blocking_since: now,
                seen: now,
                dead_since: None,
                alerted: false,
            },
        };
        self.holder = Some(h);
        let alive = sys::lock_held(segment.file(), LOCK_CONSUMER_LEASE + u64::from(i))
            .map_err(|e| Error::io("lock probe", segment.path(), e))?;
        if tables.consumer_is_optional(i) {
            let max_block =
                Duration::from_nanos(tables.consumer_max_block_ns(i).load(Ordering::Relaxed));
            if !alive || now.duration_since(h.blocking_since) >= max_block {
                evict(segment, tables, i, generation, wrap_point)?;
                self.holder = None;
            }
            return Ok(());
        }
        let pid = tables.consumer_pid(i).load(Ordering::Relaxed);
        if !alive {
            let dead_since = match self.holder.as_mut() {
                Some(h) => *h.dead_since.get_or_insert(now),
                None => now,
            };
            let waited = now.duration_since(dead_since);
            if waited >= policy.consumer_dead_timeout {
                return Err(Error::ConsumerDead {
                    name: tables.consumer_name(i),
                    index: i,
                    pid,
                    sequence: min,
                    waited,
                });
            }
            return Ok(());
        }
        let Some(progress) = policy.progress_timeout else {
            return Ok(());
        };
        let stalled = now.duration_since(h.since);
        if stalled >= progress && !h.alerted {
            if let Some(h) = self.holder.as_mut() {
                h.alerted = true;
            }
            tables
                .counters()
                .bump(crate::layout::counters::STALL_ALERTS);
            if let Some(cb) = &policy.on_stall {
                cb(&StallAlert {
                    name: tables.consumer_name(i),
                    index: i,
                    pid,
                    sequence: min,
                    stalled,
                });
            }
        }
        if stalled >= progress.saturating_add(policy.stall_grace) {
            return Err(Error::ConsumerStalled {
                name: tables.consumer_name(i),
                index: i,
                pid,
                sequence: min,
                stalled,
            });
        }
        Ok(())
    }
}

/// Evicts optional consumer `i` (joined as `generation`) if it still holds
/// the producer back from `wrap_point`: it stops gating, its state says
/// evicted, and its holder learns on its next call.
///
/// Ordering: the state store comes before the mask update (a sequentially
/// consistent read-modify-write) and so before any slot the producer writes
/// after it; the consumer loads its state after reading a batch (behind an
/// acquire fence) when it commits, so a batch it commits without seeing the
/// eviction was read before the producer could overwrite it.
fn evict(
    segment: &Segment,
    tables: &Tables,
    i: u32,
    generation: u64,
    wrap_point: i64,
) -> Result<()> {
    use crate::layout::state::{ACTIVE, EVICTED, JOINING};
    let _guard = lock_registry(segment)?;
    if tables.consumer_generation(i).load(Ordering::Acquire) != generation {
        return Ok(());
    }
    match tables.consumer_state(i).load(Ordering::Acquire) {
        // Joins run under the registry lock, which we hold: an entry still
        // JOINING lost its holder between its gating-mask bit and ACTIVE,
        // and would gate the producer for ever. Evicted like a dead one.
        ACTIVE | JOINING => {}
        // An evictor died between marking the entry and clearing its mask
        // bit: finish that eviction (the entry would gate for ever).
        EVICTED => {
            let bit = 1u64 << i;
            if tables.gating_mask().fetch_and(!bit, Ordering::SeqCst) & bit != 0 {
                tables.table_generation().fetch_add(1, Ordering::Release);
                tables.counters().bump(crate::layout::counters::EVICTIONS);
            }
            return Ok(());
        }
        _ => return Ok(()),
    }
    let committed = tables.consumer_sequence(i).get();
    if committed >= wrap_point {
        return Ok(());
    }
    tables
        .consumer_evicted_at(i)
        .store(committed, Ordering::Relaxed);
    tables
        .consumer_state(i)
        .store(crate::layout::state::EVICTED, Ordering::SeqCst);
    // Fault harness: marked evicted, still in the gating mask.
    crate::fault::fault_point!("liveness.evict");
    tables
        .gating_mask()
        .fetch_and(!(1u64 << i), Ordering::SeqCst);
    tables.table_generation().fetch_add(1, Ordering::Release);
    tables.counters().bump(crate::layout::counters::EVICTIONS);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{consumer_entry, counters as c, state, ProducerMode};
    use crate::segment::scratch;
    use std::sync::atomic::{AtomicBool, AtomicUsize};
    use std::sync::Arc;

    fn segment(tag: &str) -> (Segment, Tables) {
        let segment = scratch::segment(tag, scratch::params(8, ProducerMode::Single, 0));
        let tables = Tables::new(segment.region(), segment.layout());
        (segment, tables)
    }

    /// Consumer entry `i`, active at `sequence`, gating; its lease is
    /// returned when `alive` (dropping it is the holder's death).
    fn join(
        segment: &Segment,
        tables: &Tables,
        i: u32,
        sequence: i64,
        optional: Option<Duration>,
        alive: bool,
    ) -> Option<Lease> {
        tables.set_consumer_name(i, &format!("c{i}"));
        tables.consumer_sequence(i).set(sequence);
        if let Some(max_block) = optional {
            tables
                .consumer_flags(i)
                .store(consumer_entry::OPTIONAL, Ordering::Relaxed);
            tables
                .consumer_max_block_ns(i)
                .store(max_block.as_nanos() as u64, Ordering::Relaxed);
        }
        tables
            .consumer_generation(i)
            .fetch_add(1, Ordering::Relaxed);
        tables
            .consumer_state(i)
            .store(state::ACTIVE, Ordering::Release);
        tables.gating_mask().fetch_or(1 << i, Ordering::SeqCst);
        let lease = Lease::try_acquire(segment, LOCK_CONSUMER_LEASE + u64::from(i)).unwrap();
        assert!(lease.is_some());
        lease.filter(|_| alive)
    }

    fn ring_counter(tables: &Tables, k: usize) -> u64 {
        tables.counters().ring(k).load(Ordering::Relaxed)
    }

    #[test]
    fn a_lease_is_exclusive_until_its_holder_drops_it() {
        let (segment, _) = segment("lease");
        let byte = LOCK_CONSUMER_LEASE + 1;
        let held = Lease::try_acquire(&segment, byte).unwrap().unwrap();
        assert!(Lease::try_acquire(&segment, byte).unwrap().is_none());
        assert!(sys::lock_held(segment.file(), byte).unwrap());
        // Another byte is another lease.
        assert!(Lease::try_acquire(&segment, byte + 1).unwrap().is_some());
        drop(held);
        assert!(!sys::lock_held(segment.file(), byte).unwrap());
        assert!(Lease::try_acquire(&segment, byte).unwrap().is_some());
    }

    #[test]
    fn the_registry_lock_admits_one_holder_at_a_time() {
        let (segment, _) = segment("registry");
        let inside = AtomicBool::new(false);
        let guard = lock_registry(&segment).unwrap();
        inside.store(true, Ordering::SeqCst);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let _g = lock_registry(&segment).unwrap();
                // The first holder left before this one got in.
                assert!(!inside.load(Ordering::SeqCst));
            });
            std::thread::sleep(Duration::from_millis(20));
            inside.store(false, Ordering::SeqCst);
            drop(guard);
            waiter.join().unwrap();
        });
    }

    #[test]
    fn an_optional_consumer_that_is_dead_or_blocks_too_long_is_evicted() {
        let (segment, tables) = segment("evict");
        let policy = Policy::default();
        // Dead: evicted at the first look.
        let lease = join(
            &segment,
            &tables,
            0,
            2,
            Some(Duration::from_secs(60)),
            false,
        );
        assert!(lease.is_none());
        let mut watch = Watch::default();
        watch.check(&segment, &tables, &policy, 3, 10).unwrap();
        assert_eq!(
            tables.consumer_state(0).load(Ordering::Acquire),
            state::EVICTED
        );
        assert_eq!(tables.consumer_evicted_at(0).load(Ordering::Relaxed), 2);
        assert_eq!(tables.gating_mask().load(Ordering::SeqCst), 0);
        assert_eq!(ring_counter(&tables, c::EVICTIONS), 1);
        // Alive, holding the producer back with a zero max_block: evicted.
        let _lease = join(&segment, &tables, 1, 4, Some(Duration::ZERO), true);
        watch.check(&segment, &tables, &policy, 5, 10).unwrap();
        assert_eq!(
            tables.consumer_state(1).load(Ordering::Acquire),
            state::EVICTED
        );
        assert_eq!(ring_counter(&tables, c::EVICTIONS), 2);
    }

    #[test]
    fn a_consumer_past_the_wrap_point_is_left_alone() {
        let (segment, tables) = segment("ahead");
        let _lease = join(&segment, &tables, 0, 6, Some(Duration::ZERO), true);
        let mut watch = Watch::default();
        watch
            .check(&segment, &tables, &Policy::default(), 6, 10)
            .unwrap();
        assert_eq!(
            tables.consumer_state(0).load(Ordering::Acquire),
            state::ACTIVE
        );
        assert_eq!(ring_counter(&tables, c::EVICTIONS), 0);
    }

    #[test]
    fn a_dead_required_consumer_fails_claims_after_its_timeout() {
        let (segment, tables) = segment("dead");
        join(&segment, &tables, 0, 1, None, false);
        let mut watch = Watch::default();
        let patient = Policy::default();
        watch.check(&segment, &tables, &patient, 2, 10).unwrap();
        let impatient = Policy {
            consumer_dead_timeout: Duration::ZERO,
            ..Policy::default()
        };
        match watch.check(&segment, &tables, &impatient, 2, 10) {
            Err(Error::ConsumerDead {
                name,
                index,
                sequence,
                ..
            }) => {
                assert_eq!((name.as_str(), index, sequence), ("c0", 0, 1));
            }
            other => panic!("expected ConsumerDead, got {other:?}"),
        }
        // Never evicted: a required consumer's name may come back.
        assert_eq!(
            tables.consumer_state(0).load(Ordering::Acquire),
            state::ACTIVE
        );
    }

    #[test]
    fn a_stalled_required_consumer_is_reported_once_then_fails_claims() {
        let (segment, tables) = segment("stall");
        let _lease = join(&segment, &tables, 0, 1, None, true);
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let mut policy = Policy {
            progress_timeout: Some(Duration::ZERO),
            stall_grace: Duration::from_secs(60),
            on_stall: Some(Arc::new(move |alert: &StallAlert| {
                assert_eq!(alert.name, "c0");
                // The n-th alert is about the n-th stall, at sequence n.
                let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
                assert_eq!(alert.sequence, n as i64);
            })),
            ..Policy::default()
        };
        let mut watch = Watch::default();
        watch.check(&segment, &tables, &policy, 2, 10).unwrap();
        watch.check(&segment, &tables, &policy, 2, 10).unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(ring_counter(&tables, c::STALL_ALERTS), 1);
        // Progress starts the watch over; a new stall is a new alert.
        tables.consumer_sequence(0).set(2);
        watch.check(&segment, &tables, &policy, 3, 10).unwrap();
        watch.check(&segment, &tables, &policy, 3, 10).unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        policy.stall_grace = Duration::ZERO;
        let e = watch.check(&segment, &tables, &policy, 3, 10).unwrap_err();
        assert!(
            matches!(
                e,
                Error::ConsumerStalled {
                    index: 0,
                    sequence: 2,
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
