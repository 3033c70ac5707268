//! The end of a ring's parts: removing a ring's name (refused while live
//! processes take part, unless forced) and retiring a dead consumer's
//! entry so it stops holding the producers back. Both decide under the
//! registry lock, so no participant attaches or resumes in between.

use super::{Ring, RingOptions};
use crate::error::{Error, Result};
use crate::layout::{state, LOCK_CONSUMER_LEASE};
use crate::liveness::{lock_registry, Lease};
use crate::region::Location;
use crate::segment::Segment;
use std::sync::atomic::Ordering;

impl Ring {
    /// Removes a ring's name, refusing (`Error::RingInUse`, naming them)
    /// while any producer or consumer lease of it is held by a live
    /// process, unless `force`. Returns the live participants it removed
    /// the ring under (empty unless forced): they keep working on the
    /// removed segment, alone, until they exit. The check and the unlink
    /// happen under the registry lock, so nobody attaches in between.
    /// A name that does not open as a ring is removed only with `force`.
    /// `dmp rm`, `dmp_ring_remove` and `dmp_ring_unlink` go by this rule.
    pub fn remove(location: &Location, force: bool) -> Result<Vec<String>> {
        let ring = match Ring::open(location, &RingOptions::new()) {
            Ok(ring) => ring,
            Err(e @ Error::NotFound { .. }) => return Err(e),
            Err(_) if force => {
                Segment::unlink(location)?;
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        let segment = &ring.shared.segment;
        let _guard = if ring.is_read_only() {
            None
        } else {
            Some(lock_registry(segment)?)
        };
        let live = ring.snapshot().live_participants();
        if !live.is_empty() && !force {
            return Err(Error::RingInUse {
                path: ring.path().into(),
                live: live.join(", "),
            });
        }
        Segment::unlink(location)?;
        Ok(live)
    }

    /// Retires consumer `name`, whose process died and will not come back:
    /// its entry stops gating the producers and is freed (the name can join
    /// again, fresh, at the head), and the ring's `retired` count grows.
    /// Refused with `Error::ConsumerAlive` (naming the pid) while a live
    /// process holds the name, with `InvalidArgument` when the ring has no
    /// such consumer or an active consumer depends on it.
    ///
    /// Under the registry lock, it takes the entry's lease itself before it
    /// changes anything, and keeps it until the entry is free: a holder
    /// resuming the name (which takes the registry lock, then the lease)
    /// either came first, and the retirement is refused, or comes after,
    /// finds no entry of its name and joins fresh.
    pub fn retire_consumer(&self, name: &str) -> Result<()> {
        let segment = &self.shared.segment;
        segment.require_writable("consumer")?;
        crate::consumer::validate_name(name)?;
        let t = &self.shared.tables;
        let _guard = lock_registry(segment)?;
        let n = t.max_consumers();
        let Some(i) = (0..n).find(|&i| {
            t.consumer_state(i).load(Ordering::Acquire) != state::FREE && t.consumer_name(i) == name
        }) else {
            return Err(Error::InvalidArgument(format!(
                "ring {} has no consumer named {name:?} to retire (`dmp stat` lists its consumers)",
                segment.path().display()
            )));
        };
        let Some(lease) = Lease::try_acquire(segment, LOCK_CONSUMER_LEASE + u64::from(i))? else {
            return Err(Error::ConsumerAlive {
                path: segment.path().into(),
                name: name.into(),
                pid: t.consumer_pid(i).load(Ordering::Relaxed),
            });
        };
        let dependents: Vec<String> = (0..n)
            .filter(|&j| {
                j != i
                    && matches!(
                        t.consumer_state(j).load(Ordering::Acquire),
                        state::JOINING | state::ACTIVE
                    )
                    && t.consumer_dependencies(j).load(Ordering::Relaxed) & (1 << i) != 0
            })
            .map(|j| format!("{:?}", t.consumer_name(j)))
            .collect();
        if !dependents.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "cannot retire consumer {name:?} of ring {}: consumer(s) {} depend on it; retire or restart them without that dependency first",
                segment.path().display(),
                dependents.join(", ")
            )));
        }
        // Stops gating first (producers waiting on it go on), then frees.
        t.gating_mask().fetch_and(!(1 << i), Ordering::SeqCst);
        t.consumer_dependencies(i).store(0, Ordering::Relaxed);
        t.consumer_flags(i).store(0, Ordering::Relaxed);
        t.consumer_pid(i).store(0, Ordering::Relaxed);
        t.consumer_generation(i).fetch_add(1, Ordering::Relaxed);
        t.consumer_state(i).store(state::FREE, Ordering::Release);
        t.table_generation().fetch_add(1, Ordering::Release);
        t.retired().fetch_add(1, Ordering::Relaxed);
        drop(lease);
        Ok(())
    }
}
