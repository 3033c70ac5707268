//! Attaching a producer: the single-producer lease (a producer whose
//! process died is replaced), the multi-producer table entry (one whose
//! producer died is reused after its claim is abandoned), the entry's
//! epoch and state, and the readiness gate.

use super::options::Readiness;
use super::producer::Sequencer;
use super::{locate, Producer, ProducerOptions, Ring};
use crate::error::{Error, Result};
use crate::layout::{
    counters, state, ProducerMode, FLAG_NO_HOT_COUNTERS, FLAG_WAKEUPS, LOCK_PRODUCER_LEASE,
};
use crate::liveness::{lock_registry, Lease, Watch};
use crate::sequence::Wakeups;
use crate::sequencer::{recovery, MultiSequencer, SingleSequencer};
use crate::sys;
use crate::wait::WaitStrategy;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Ring {
    /// Attaches a producer.
    ///
    /// Single-producer rings: fails with `ProducerExists` while another live
    /// process (or handle) is the producer; a producer whose process died is
    /// replaced, and the new one resumes after the last published sequence.
    ///
    /// Multi-producer rings: takes a free entry of the producer table
    /// (`ProducerTableFull` when every entry has a live producer). An entry
    /// whose producer died is reused after its unpublished claim, if any,
    /// is abandoned.
    pub fn producer(&self, strategy: WaitStrategy) -> Result<Producer> {
        self.producer_with(&ProducerOptions::new().strategy(strategy))
    }

    /// [`Ring::producer`] with options: the policy for consumers that hold
    /// the producer back, and the readiness gate.
    pub fn producer_with(&self, options: &ProducerOptions) -> Result<Producer> {
        let producer = self.attach_producer(options)?;
        if let Some(r) = &options.ready {
            self.wait_ready(r)?;
        }
        Ok(producer)
    }

    /// Waits (cold: polling every millisecond) until the readiness gate's
    /// consumers are active.
    fn wait_ready(&self, r: &Readiness) -> Result<()> {
        let t = &self.shared.tables;
        let start = std::time::Instant::now();
        loop {
            let active: Vec<String> = (0..t.max_consumers())
                .filter(|&i| t.consumer_state(i).load(Ordering::Acquire) == state::ACTIVE)
                .map(|i| t.consumer_name(i))
                .collect();
            let missing: Vec<&String> = r.names.iter().filter(|n| !active.contains(n)).collect();
            if active.len() >= r.count as usize && missing.is_empty() {
                return Ok(());
            }
            if start.elapsed() >= r.timeout {
                let mut what = format!(
                    "consumers to be ready: {} of {} active",
                    active.len(),
                    r.count
                );
                if !missing.is_empty() {
                    what.push_str(&format!(", missing {missing:?}"));
                }
                return Err(Error::Timeout {
                    what: what.into(),
                    waited: r.timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn attach_producer(&self, options: &ProducerOptions) -> Result<Producer> {
        let strategy = options.strategy;
        let seg = &self.shared.segment;
        let t = &self.shared.tables;
        let params = &seg.layout().params;
        let wakeups = Wakeups::for_ring(params.flags & FLAG_WAKEUPS != 0);
        if strategy == WaitStrategy::Blocking && !wakeups.on() {
            return Err(Error::Unsupported(format!(
                "ring {} was created without wake-ups; the blocking strategy needs them",
                seg.path().display()
            )));
        }
        let _guard = lock_registry(seg)?;
        let (entry, lease) = match params.producer_mode {
            ProducerMode::Single => {
                let lease = Lease::try_acquire(seg, LOCK_PRODUCER_LEASE)?.ok_or_else(|| {
                    Error::ProducerExists {
                        path: seg.path().into(),
                        pid: t.producer_pid(0).load(Ordering::Relaxed),
                    }
                })?;
                (0, lease)
            }
            ProducerMode::Multi => self.claim_producer_entry()?,
        };
        // Fault harness: after the lease, before the epoch and state.
        crate::fault::fault_point!("producer.attach");
        let pid = sys::pid();
        t.producer_pid(entry).store(pid, Ordering::Relaxed);
        t.producer_start_time(entry)
            .store(sys::process_start_time(pid), Ordering::Relaxed);
        t.producer_epoch(entry).fetch_add(1, Ordering::AcqRel);
        t.producer_state(entry)
            .store(state::ACTIVE, Ordering::Release);
        t.counters().bump(counters::ATTACHES);
        let counts = t.counters().for_producer(entry);
        // Attaching is activity (as a consumer's join is): an observer
        // sees the new holder at once, not after its first flush.
        counts.touch();
        let counts = if params.flags & FLAG_NO_HOT_COUNTERS != 0 {
            counts.without_hot_counting()
        } else {
            counts
        };
        let sequencer = match params.producer_mode {
            ProducerMode::Single => Sequencer::Single(
                SingleSequencer::new(
                    *t,
                    self.shared.slots,
                    params.capacity,
                    wakeups,
                    strategy,
                    counts,
                )
                .map_err(|e| locate(e, seg.path()))?,
            ),
            ProducerMode::Multi => Sequencer::Multi(MultiSequencer::new(
                *t,
                self.shared.slots,
                entry,
                wakeups,
                strategy,
                Duration::from_nanos(params.unblock_timeout_ns),
                counts,
            )),
        };
        Ok(Producer {
            sequencer,
            slots: self.shared.slots,
            entry,
            policy: options.policy.clone(),
            watch: Watch::default(),
            _lease: lease,
            shared: self.shared.clone(),
        })
    }

    /// Multi-producer rings: a producer-table entry and its lease (registry
    /// lock held). Free entries first, then ones left cleanly, then ones
    /// whose producer died, whose claim is abandoned first.
    fn claim_producer_entry(&self) -> Result<(u32, Lease)> {
        let seg = &self.shared.segment;
        let t = &self.shared.tables;
        let n = t.max_producers();
        let in_state =
            |st: u32| (0..n).filter(move |&i| t.producer_state(i).load(Ordering::Acquire) == st);
        let others = (0..n).filter(|&i| {
            let st = t.producer_state(i).load(Ordering::Acquire);
            st != state::FREE && st != state::LEFT
        });
        for i in in_state(state::FREE)
            .chain(in_state(state::LEFT))
            .chain(others)
        {
            if let Some(lease) = Lease::try_acquire(seg, LOCK_PRODUCER_LEASE + u64::from(i))? {
                recovery::recover_entry(t, &self.shared.slots, i);
                return Ok((i, lease));
            }
        }
        Err(Error::ProducerTableFull {
            path: seg.path().into(),
            max: n,
        })
    }
}
