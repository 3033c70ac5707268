//! Attaching a producer through the ring: its entry in the producer table
//! (the protocol, with the takeover from a producer that died, is
//! `crate::sequencer::attach`), its handle, and the readiness gate.

use super::options::Readiness;
use super::{Producer, ProducerOptions, Ring};
use crate::error::{Error, Result};
use crate::layout::state;
use crate::liveness::Watch;
use crate::sequencer::{self, Attached};
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
        self.shared.segment.require_writable("producer")?;
        let Attached {
            sequencer,
            entry,
            lease,
        } = sequencer::attach(
            &self.shared.segment,
            self.shared.tables,
            self.shared.slots,
            options.strategy,
        )?;
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
}
