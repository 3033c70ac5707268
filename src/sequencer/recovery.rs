//! Abandoning claims of multi-producer rings that will not be published in
//! time: claims of producers that died, or that stalled past the ring's
//! unblock timeout. Cold paths only.
//!
//! Every sequence is abandoned by a compare-and-swap of its stamp from
//! pending to abandoned, which races with the publisher's compare-and-swap
//! of its first stamp: exactly one of them wins (see docs/ARCHITECTURE.md,
//! "Abandoned claims").

use crate::error::{Error, Result};
use crate::layout::{claim, LOCK_PRODUCER_LEASE};
use crate::liveness::{lock_registry, Lease};
use crate::segment::Segment;
use crate::sequence::Wakeups;
use crate::slots::{Slots, Stamp};
use crate::table::{ClaimSnapshot, Tables};
use std::sync::atomic::Ordering;

/// The `owner` of a run of claimed, pending sequences that no record
/// covers (a peer damaged the table or the claim counter).
const UNRECORDED: u32 = u32::MAX;

/// Abandons the pending sequences of `[from, to]`, counting them in the
/// ring's abandoned counter; returns how many this call abandoned.
///
/// `owner: None`: the caller owns the whole range (its own claim).
/// `owner: Some(i)`: the range comes from entry `i`'s record; the run stops
/// at the first sequence covered by another record that starts after
/// `from` (a claim that begins inside the range), so a stale record can
/// never reach into a claim that is somebody else's. `Some(UNRECORDED)`:
/// no record covers `from`; the run stops at the first sequence a record
/// covers. Nothing beyond the claim counter is touched, and the run stops
/// at a published stamp (a producer that won its first stamp publishes the
/// rest itself).
pub fn abandon_run(tables: &Tables, slots: &Slots, from: i64, to: i64, owner: Option<u32>) -> u64 {
    let to = to
        .min(from.saturating_add(slots.capacity() as i64 - 1))
        .min(tables.claim().load(Ordering::SeqCst));
    let mut count = 0;
    let mut seq = from;
    while seq <= to {
        if let Some(i) = owner {
            if covered_by_other(tables, i, seq, from) {
                break;
            }
        }
        match slots.resolve(seq, false, tables.claim()) {
            Ok(()) => count += 1,
            // A publisher won this stamp: if it is the first of its claim,
            // that producer now stores the rest of its range, which must
            // not be abandoned under it; in any case the run ends here.
            Err(Stamp::Published) => break,
            Err(_) => {}
        }
        seq += 1;
    }
    if count > 0 {
        tables.abandoned().fetch_add(count, Ordering::Relaxed);
        // Consumers asleep on the abandoned sequences can go on.
        if tables.notice().notify(Wakeups::Fenced) {
            tables.counters().bump(crate::layout::counters::WAKEUPS);
        }
    }
    count
}

/// A sane claim record of entry `i` (bounds within one ring's worth).
fn record(tables: &Tables, capacity: i64, i: u32) -> Option<ClaimSnapshot> {
    let r = tables.claim_record(i).read()?;
    let sane = r.state != claim::NONE && r.lo >= 0 && r.hi >= r.lo && r.hi - r.lo < capacity;
    sane.then_some(r)
}

/// Whether a record other than `owner`'s, starting after `after`, covers
/// `seq`. A record being rewritten is taking a claim beyond the counter,
/// which no caller reaches.
fn covered_by_other(tables: &Tables, owner: u32, seq: i64, after: i64) -> bool {
    (0..tables.max_producers()).any(|j| {
        j != owner
            && tables.claim_record(j).read().is_some_and(|r| {
                r.state != claim::NONE && r.lo > after && r.lo <= seq && seq <= r.hi
            })
    })
}

/// Whether the holder of producer entry `i` is dead (its lease is free).
/// Call with the registry lock held, so no new producer takes the entry
/// meanwhile.
fn holder_dead(segment: &Segment, i: u32) -> Result<bool> {
    Ok(Lease::try_acquire(segment, LOCK_PRODUCER_LEASE + u64::from(i))?.is_some())
}

/// Resolves the claim left in producer entry `i` by a holder known to be
/// dead (the caller holds the entry's lease now): abandons whatever of it
/// is unpublished. Returns how many sequences were abandoned.
pub fn recover_entry(tables: &Tables, slots: &Slots, i: u32) -> u64 {
    let capacity = slots.capacity() as i64;
    let Some(r) = record(tables, capacity, i) else {
        return 0;
    };
    let claimed = tables.claim().load(Ordering::SeqCst);
    if r.lo > claimed {
        // The counter never moved to this claim: the holder died between
        // writing its intent and taking it.
        return 0;
    }
    if r.state == claim::INTENT {
        // Died around the counter's compare-and-swap: the claim is its own
        // only if its first sequence is still pending and nobody else's
        // record covers it (every claimant records before it claims).
        if slots.state(r.lo) != Stamp::Pending || covered_by_other(tables, i, r.lo, i64::MIN) {
            return 0;
        }
    }
    // A holder that won its first stamp and died stamping the rest left a
    // published prefix, all its own (nobody else publishes in a claim):
    // abandon from the first sequence it did not publish. (Stopping at the
    // published first stamp instead left the rest pending with no record,
    // for consumers to find only if no other record covered them.)
    let mut from = r.lo;
    if r.state == claim::CLAIMED {
        while from <= r.hi && matches!(slots.state(from), Stamp::Published | Stamp::Lapped) {
            from += 1;
        }
    }
    abandon_run(tables, slots, from, r.hi, Some(i))
}

/// Called by a consumer that has found `seq` pending for the ring's unblock
/// timeout: abandons the claim holding it up, if that is safe now. Returns
/// how many sequences were abandoned (0: nothing to do yet).
///
/// - A claim whose first sequence is `seq`: its producer has not published
///   any of it in time, dead or alive; the stamp race decides.
/// - A claim whose first sequence was published and that stopped part-way:
///   its producer is stamping the rest, so it is abandoned only once that
///   producer is dead. The caller read the first sequence and may have
///   committed it, so other producers may have claimed its slot's next lap
///   since: a lapped first stamp counts as published. Only a `CLAIMED`
///   record is the claim's: an `INTENT` that covers a sequence whose
///   claim's first stamp is resolved is a producer's that lost the claim
///   counter's race to that claim.
/// - A claim whose first sequence was already abandoned: its producer will
///   fail to publish, so the rest goes too.
/// - No record covers `seq` (a peer damaged the table or the counter):
///   the run of pending sequences from `seq` that no record covers.
///
/// `limit` is the highest sequence a producer can have claimed while the
/// caller holds the producers back (its commit plus the capacity): a claim
/// counter beyond it was written by no producer, and is reported as
/// corrupt instead of being abandoned a sequence at a time.
pub fn unblock(
    segment: &Segment,
    tables: &Tables,
    slots: &Slots,
    seq: i64,
    limit: i64,
) -> Result<u64> {
    let _guard = lock_registry(segment)?;
    let claimed = tables.claim().load(Ordering::SeqCst);
    if slots.state(seq) != Stamp::Pending || claimed < seq {
        return Ok(0);
    }
    if claimed > limit {
        return Err(Error::Corrupt {
            path: segment.path().into(),
            detail: format!(
                "the claim counter reads {claimed}, but no producer can claim beyond {limit} while this consumer holds them back at {}",
                limit - slots.capacity() as i64
            ),
        });
    }
    let capacity = slots.capacity() as i64;
    let covering: Vec<(u32, ClaimSnapshot)> = (0..tables.max_producers())
        .filter_map(|i| record(tables, capacity, i).map(|r| (i, r)))
        .filter(|(_, r)| r.lo <= seq && seq <= r.hi)
        .collect();
    if let Some((i, r)) = covering
        .iter()
        .filter(|(_, r)| r.lo == seq)
        .min_by_key(|(_, r)| (r.state != claim::CLAIMED, r.hi))
    {
        // Several records starting here: at most one took the counter; the
        // shortest never reaches beyond the true claim.
        return Ok(abandon_run(tables, slots, seq, r.hi, Some(*i)));
    }
    for (i, r) in &covering {
        match slots.state(r.lo) {
            Stamp::Abandoned => return Ok(abandon_run(tables, slots, seq, r.hi, Some(*i))),
            // `r.lo < seq`, which the caller saw resolved: lapped means its
            // slot was reused after that (this consumer committed it, and
            // producers claimed through `r.lo + capacity`).
            Stamp::Published | Stamp::Lapped
                if r.state == claim::CLAIMED && holder_dead(segment, *i)? =>
            {
                return Ok(abandon_run(tables, slots, seq, r.hi, Some(*i)))
            }
            _ => {}
        }
    }
    if covering.is_empty() {
        // Every claimant records its claim before taking it and keeps the
        // record until the claim is resolved, so nobody will publish these.
        return Ok(abandon_run(tables, slots, seq, claimed, Some(UNRECORDED)));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{ProducerMode, FLAG_PACKED};
    use crate::segment::scratch;

    /// Both multi-producer layouts, with a segment for the registry lock
    /// and the producer leases.
    fn each_layout(tag: &str, test: impl Fn(&Segment, Tables, Slots)) {
        for flags in [0, FLAG_PACKED] {
            let segment = scratch::segment(tag, scratch::params(8, ProducerMode::Multi, flags));
            let tables = Tables::new(segment.region(), segment.layout());
            let slots = Slots::new(&segment.region(), segment.layout());
            test(&segment, tables, slots);
        }
    }

    /// Entry `i` claims `[lo, hi]` as a producer does: record, then counter.
    fn claim(tables: &Tables, i: u32, lo: i64, hi: i64) {
        tables.claim_record(i).write(lo, hi, claim::INTENT);
        assert_eq!(
            tables
                .claim()
                .compare_exchange(lo - 1, hi, Ordering::SeqCst, Ordering::SeqCst),
            Ok(lo - 1)
        );
        tables.claim_record(i).set_state(claim::CLAIMED);
    }

    fn publish(tables: &Tables, slots: &Slots, lo: i64, hi: i64) {
        slots.resolve(lo, true, tables.claim()).unwrap();
        slots.mark_published(lo + 1, hi);
    }

    #[test]
    fn a_dead_producer_s_claim_is_abandoned_and_nothing_else() {
        each_layout("rec-dead", |_, tables, slots| {
            claim(&tables, 0, 0, 2);
            claim(&tables, 1, 3, 5);
            publish(&tables, &slots, 3, 5);
            // Entry 0 died holding [0, 2]: exactly that is abandoned.
            assert_eq!(recover_entry(&tables, &slots, 0), 3);
            assert_eq!(slots.resolved_run(0, 7), (5, Some(0)));
            assert_eq!(tables.abandoned().load(Ordering::Relaxed), 3);
            // Recovering it again, or the live one, changes nothing.
            assert_eq!(recover_entry(&tables, &slots, 0), 0);
            assert_eq!(recover_entry(&tables, &slots, 1), 0);
        });
    }

    #[test]
    fn an_intent_the_counter_never_took_is_nobody_s_claim() {
        each_layout("rec-intent", |_, tables, slots| {
            // Entry 0 died after writing its intent, before the counter moved.
            tables.claim_record(0).write(0, 1, claim::INTENT);
            assert_eq!(recover_entry(&tables, &slots, 0), 0);
            // The counter moved for entry 1's claim of the same sequences:
            // the stale intent must not abandon entry 1's claim.
            claim(&tables, 1, 0, 1);
            tables.claim_record(0).write(0, 1, claim::INTENT);
            assert_eq!(recover_entry(&tables, &slots, 0), 0);
            assert_eq!(slots.state(0), Stamp::Pending);
        });
    }

    #[test]
    fn a_stale_record_never_reaches_into_a_later_claim() {
        each_layout("rec-stale", |_, tables, slots| {
            claim(&tables, 0, 0, 1);
            claim(&tables, 1, 2, 3);
            // A record reaching past its claim (a peer scribbled on it).
            tables.claim_record(0).write(0, 3, claim::CLAIMED);
            assert_eq!(abandon_run(&tables, &slots, 0, 3, Some(0)), 2);
            assert_eq!(slots.state(2), Stamp::Pending);
        });
    }

    /// A dead producer published the first of [0, 2] only; the consumer
    /// read it, and another producer's claims went a lap on, through 8,
    /// which reuses slot 0: the first stamp reads lapped now. The rest of
    /// the dead claim must still be abandoned (the kill test's 60 s hang).
    #[test]
    fn a_dead_claim_whose_first_slot_was_reused_is_abandoned() {
        each_layout("rec-lapped", |segment, tables, slots| {
            claim(&tables, 1, 0, 2);
            publish(&tables, &slots, 0, 0);
            claim(&tables, 0, 3, 7);
            publish(&tables, &slots, 3, 7);
            claim(&tables, 0, 8, 8);
            publish(&tables, &slots, 8, 8);
            assert_eq!(slots.state(0), Stamp::Lapped);
            // The consumer committed 0 and waits for 1: producers may
            // claim through 0 + 8.
            assert_eq!(unblock(segment, &tables, &slots, 1, 8).unwrap(), 2);
            assert_eq!(slots.resolved_run(1, 8), (8, Some(1)));
        });
    }

    /// A producer that lost the claim counter's race leaves an intent that
    /// covers the winner's claim: it is not the winner's record, and a dead
    /// loser's intent abandons nothing of a live winner's claim.
    #[test]
    fn a_lost_race_s_intent_is_not_the_claim_s_record() {
        each_layout("rec-lost", |segment, tables, slots| {
            // Entry 1 wins [0, 3] and is stamping the rest of it; entry 0
            // recorded [0, 1] too, lost the race and died.
            let _winner = Lease::try_acquire(segment, LOCK_PRODUCER_LEASE + 1)
                .unwrap()
                .unwrap();
            claim(&tables, 1, 0, 3);
            tables.claim_record(0).write(0, 1, claim::INTENT);
            publish(&tables, &slots, 0, 0);
            assert_eq!(unblock(segment, &tables, &slots, 1, 8).unwrap(), 0);
            assert_eq!(slots.state(1), Stamp::Pending);
        });
    }

    /// A producer that died after the first stamp of its claim, its entry
    /// taken over: the rest of the claim is abandoned, not left to a
    /// consumer's unblock (which no longer finds the record).
    #[test]
    fn taking_over_an_entry_abandons_the_rest_of_a_part_published_claim() {
        each_layout("rec-part", |_, tables, slots| {
            claim(&tables, 1, 0, 3);
            publish(&tables, &slots, 0, 1);
            assert_eq!(recover_entry(&tables, &slots, 1), 2);
            assert_eq!(slots.resolved_run(0, 7), (3, Some(2)));
            assert_eq!(tables.abandoned().load(Ordering::Relaxed), 2);
        });
    }

    #[test]
    fn unblock_abandons_a_claim_only_when_it_is_safe() {
        each_layout("rec-unblock", |segment, tables, slots| {
            // Entry 0's claim [0, 1]: nothing published in time, alive or not.
            claim(&tables, 0, 0, 1);
            assert_eq!(unblock(segment, &tables, &slots, 0, 8).unwrap(), 2);
            // Entry 1 published the first of [2, 4] and stamps the rest: it
            // holds its lease, so the rest is left to it...
            claim(&tables, 1, 2, 4);
            let lease = Lease::try_acquire(segment, LOCK_PRODUCER_LEASE + 1)
                .unwrap()
                .unwrap();
            publish(&tables, &slots, 2, 2);
            assert_eq!(unblock(segment, &tables, &slots, 3, 10).unwrap(), 0);
            // ... until its lease shows it dead.
            drop(lease);
            assert_eq!(unblock(segment, &tables, &slots, 3, 10).unwrap(), 2);
            assert_eq!(slots.resolved_run(0, 7), (4, Some(0)));
            // A claim counter no producer can have moved is corruption.
            tables.claim().store(100, Ordering::SeqCst);
            let e = unblock(segment, &tables, &slots, 5, 12).unwrap_err();
            assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
        });
    }
}
