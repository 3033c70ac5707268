//! What moved between two looks at a ring: the honest "last active".
//!
//! A participant stamps its last-activity time only when it flushes its
//! counts (every `FLUSH_EVERY` batches, every wait, and when it leaves), so
//! a consumer committing one event at a time at 400 events/s stamps it
//! every 2.5 s and looks idle in between. What it cannot hide is its
//! sequence: a consumer whose committed sequence, counters, stamp,
//! generation or state changed between two snapshots was active in that
//! interval. A producer moved when its counters, stamp, epoch or pending
//! claim changed, or, when it is the only live producer, when the cursor
//! or the claimed sequence did. `dmp stat` takes its two looks
//! `--sample-ms` apart (200 ms unless told; `--watch` compares each
//! refresh with the one before); docs/OPERATIONS.md states the bound.

use disruptor_mp::Snapshot;

/// The comparison of two snapshots of the same ring.
pub(super) struct Looks {
    /// Seconds between them.
    pub(super) secs: f64,
    /// One per producer of the newer snapshot; None: the entry is new.
    pub(super) producers: Vec<Option<bool>>,
    /// One per consumer of the newer snapshot: how far its committed
    /// sequence advanced, and whether it moved at all; None: the entry is
    /// new or another consumer's now.
    pub(super) consumers: Vec<Option<(i64, bool)>>,
    /// Back-pressure waits counted between the looks, all producers.
    pub(super) back_pressure_waits: u64,
}

impl Looks {
    pub(super) fn between(prev: &Snapshot, cur: &Snapshot) -> Looks {
        let secs = (cur.taken_at_ns.saturating_sub(prev.taken_at_ns) as f64 / 1e9).max(1e-6);
        let ring_moved = cur.cursor != prev.cursor || cur.claimed != prev.claimed;
        let alive_producers = cur.producers.iter().filter(|p| p.alive).count();
        let producers = cur
            .producers
            .iter()
            .map(|p| {
                let q = prev.producers.iter().find(|q| q.index == p.index)?;
                let own = (p.events, p.batches, p.waits, p.timeouts, p.last_activity_ns)
                    != (q.events, q.batches, q.waits, q.timeouts, q.last_activity_ns)
                    || (p.epoch, p.state, p.pending_claim) != (q.epoch, q.state, q.pending_claim);
                Some(own || (p.alive && alive_producers == 1 && ring_moved))
            })
            .collect();
        let consumers = cur
            .consumers
            .iter()
            .map(|c| {
                let d = prev
                    .consumers
                    .iter()
                    .find(|d| d.index == c.index && d.name == c.name)?;
                let moved = (c.sequence, c.generation, c.state, c.last_activity_ns)
                    != (d.sequence, d.generation, d.state, d.last_activity_ns)
                    || (c.events, c.batches, c.waits, c.timeouts)
                        != (d.events, d.batches, d.waits, d.timeouts);
                Some((c.sequence - d.sequence, moved))
            })
            .collect();
        Looks {
            secs,
            producers,
            consumers,
            back_pressure_waits: cur
                .back_pressure_waits
                .saturating_sub(prev.back_pressure_waits),
        }
    }

    /// Whether consumer `i` (of the newer snapshot) moved.
    pub(super) fn consumer_moved(&self, i: usize) -> Option<bool> {
        self.consumers[i].map(|(_, moved)| moved)
    }
}
