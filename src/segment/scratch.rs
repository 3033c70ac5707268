//! Unit-test fixture: a real segment under a unique name, unlinked at once,
//! so every algorithm of the layers above runs over the real initialisation
//! (cursor, claim counter and consumer sequences at -1, counters described)
//! and the real file locks, and nothing is left behind when a test fails.

use super::Segment;
use crate::layout::{Layout, Params, ProducerMode};
use crate::region::Location;
use std::sync::atomic::{AtomicU32, Ordering};

/// Parameters of a small test ring: `capacity` 8-byte slots, two consumer
/// and two producer entries, a one-second unblock timeout, `flags` as given.
pub(crate) fn params(capacity: u64, mode: ProducerMode, flags: u32) -> Params {
    Params {
        capacity,
        slot_size: 8,
        max_consumers: 2,
        max_producers: match mode {
            ProducerMode::Single => 1,
            ProducerMode::Multi => 2,
        },
        producer_mode: mode,
        type_id: 0,
        flags,
        unblock_timeout_ns: 1_000_000_000,
    }
}

/// A new segment for `params`, named after `tag`, this process and a
/// counter (unique across the tests of one run), already unlinked.
pub(crate) fn segment(tag: &str, params: Params) -> Segment {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let location = Location::shm(format!("dmp-unit-{tag}-{}-{n}", std::process::id()));
    let segment = Segment::create(&location, Layout::compute(params).unwrap(), 0o600, None).unwrap();
    Segment::unlink(&location).unwrap();
    segment
}
