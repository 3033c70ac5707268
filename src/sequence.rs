//! Sequences shared between processes: a 64-bit value on its own 128-byte
//! block, with a sleeper count in the block's second cache line. The low 32 bits of the value are
//! the futex word that blocking waiters sleep on, so a change of the
//! sequence is itself the wake-up condition and publishing needs no second
//! store.

use crate::layout::consumer_entry as ce;
use crate::region::Region;
use crate::sync::{self, fence, AtomicI64, AtomicU32, AtomicU64};
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

/// Offset of the sleeper count from the sequence value: in the second
/// cache line of the sequence's block, so the writer's load of it after each
/// store does not touch the line spinning readers pull (docs/FORMAT.md;
/// the control region's sequences use the same offsets, checked in
/// `layout`).
const WAITERS: u64 = ce::WAITERS - ce::SEQUENCE;
/// Offset of the armed mask (u64, bit i: consumer entry i armed its
/// wake-up fd on this sequence; each armed entry also counts as a sleeper).
const ARMED: u64 = ce::ARMED - ce::SEQUENCE;
/// Offset of the ring token of the armed consumers' socket names (u64).
const WAKE_TOKEN: u64 = ce::WAKE_TOKEN - ce::SEQUENCE;

/// Longest sleep of a sleeper whose barrier the kernel refused (a seccomp
/// filter): a light publisher may have missed it, so it looks again.
const UNBARRIERED_SLICE: std::time::Duration = std::time::Duration::from_millis(1);

/// How a participant's stores of its sequence wake sleepers.
///
/// The wake-up handshake is a Dekker pattern: the publisher stores the
/// sequence then loads the sleeper count; the sleeper increments the count
/// then loads the sequence. Without ordering, both loads can miss the other
/// side's store and the sleeper never wakes. `Fenced` puts a full barrier
/// on both sides (a locked instruction per publish). `Light` makes it
/// asymmetric: the publisher stores and loads with no barrier, and the
/// sleeper, which is about to spend microseconds in the kernel anyway, runs
/// `membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)`, a full barrier on every
/// CPU running a thread of a registered process. After it, either the
/// publisher's store is visible or the publisher's later load sees the
/// sleeper. See docs/ARCHITECTURE.md, "Wake-ups without lost wake-ups".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wakeups {
    /// The ring has no wake-ups: a plain release store.
    Off,
    /// Asymmetric handshake: this process is registered for expedited
    /// membarriers (a release store and a plain load per publish).
    Light,
    /// Symmetric handshake: registration was refused (a sequentially
    /// consistent store and load per publish).
    Fenced,
}

impl Wakeups {
    /// The mode for a participant of a ring with (`on`) or without
    /// wake-ups, in this process.
    pub fn for_ring(on: bool) -> Wakeups {
        match (on, on && sync::light_wakeups()) {
            (false, _) => Wakeups::Off,
            (true, true) => Wakeups::Light,
            (true, false) => Wakeups::Fenced,
        }
    }

    /// Whether sleepers are woken at all.
    pub fn on(self) -> bool {
        self != Wakeups::Off
    }
}

/// A view of one shared sequence (value plus sleeper count).
#[derive(Debug, Clone, Copy)]
pub struct SharedSequence {
    value: NonNull<AtomicI64>,
    waiters: NonNull<AtomicU32>,
    armed: NonNull<AtomicU64>,
    token: NonNull<AtomicU64>,
}

// SAFETY: both pointers refer to atomics in shared memory that outlives the
// view (its owner holds the mapping); atomics may be used from any thread.
unsafe impl Send for SharedSequence {}
// SAFETY: as above.
unsafe impl Sync for SharedSequence {}

impl SharedSequence {
    /// The sequence stored at `offset` of `region` (8-byte value, then a
    /// 4-byte sleeper count). Bounds and alignment are checked here, once,
    /// so the hot path does no checks.
    pub fn new(region: Region, offset: u64) -> SharedSequence {
        SharedSequence {
            value: NonNull::from(region.i64(offset)),
            waiters: NonNull::from(region.u32(offset + WAITERS)),
            armed: NonNull::from(region.u64(offset + ARMED)),
            token: NonNull::from(region.u64(offset + WAKE_TOKEN)),
        }
    }

    /// The value as an atomic.
    #[inline]
    pub fn value(&self) -> &AtomicI64 {
        // SAFETY: checked in bounds and aligned at construction; the memory
        // outlives this view (Region contract) and is only used atomically.
        unsafe { self.value.as_ref() }
    }

    /// The sleeper count.
    #[inline]
    pub fn waiters(&self) -> &AtomicU32 {
        // SAFETY: as for `value`.
        unsafe { self.waiters.as_ref() }
    }

    /// The armed mask: consumer entries whose wake-up fd waits for a
    /// change of this sequence (see `crate::consumer` `arm`).
    #[inline]
    pub fn armed(&self) -> &AtomicU64 {
        // SAFETY: as for `value`.
        unsafe { self.armed.as_ref() }
    }

    /// The ring token the armed consumers' socket names use.
    #[inline]
    pub fn wake_token(&self) -> &AtomicU64 {
        // SAFETY: as for `value`.
        unsafe { self.token.as_ref() }
    }

    /// Takes every arming of this sequence and rings those consumers'
    /// doorbells: one datagram per arming, whatever the number of events
    /// (coalesced). Runs only where a writer saw sleepers, so a ring with
    /// no armed fd never gets here; each taken arming stops counting as a
    /// sleeper. Whoever clears an entry's bit (this swap, or the consumer
    /// disarming) uncounts it, so the count stays exact.
    #[cold]
    fn ring_armed(&self) {
        // Pairs with the consumer's registration (armed bit, then count):
        // a writer whose relaxed load saw the count sees the bit.
        fence(Ordering::Acquire);
        if self.armed().load(Ordering::Relaxed) == 0 {
            return;
        }
        let taken = self.armed().swap(0, Ordering::SeqCst);
        if taken == 0 {
            return;
        }
        self.waiters()
            .fetch_sub(taken.count_ones(), Ordering::SeqCst);
        // A writer killed here (or whose datagrams are dropped) took the
        // armings without ringing: the consumers' bounded waits cover it.
        #[cfg(feature = "fault-injection")]
        if crate::fault::hit("wake.taken").is_err() {
            return;
        }
        sync::ring_doorbells(self.wake_token().load(Ordering::Relaxed), taken);
    }

    /// Reads the value with acquire ordering.
    #[inline]
    pub fn get(&self) -> i64 {
        self.value().load(Ordering::Acquire)
    }

    /// Stores `v` with release ordering: one plain store on x86-64.
    #[inline]
    pub fn set(&self, v: i64) {
        self.value().store(v, Ordering::Release);
    }

    /// Stores `v` and wakes sleepers, if any, the way `mode` says (see
    /// [`Wakeups`]). The futex system call happens only when somebody
    /// sleeps; returns whether it was made.
    #[inline(always)]
    pub fn publish(&self, v: i64, mode: Wakeups) -> bool {
        self.store_for_wake(v, mode) && self.wake_sleepers()
    }

    /// [`SharedSequence::publish`] up to the wake-up: stores `v` the way
    /// `mode` says and tells whether sleepers are counted, who must then be
    /// woken with [`SharedSequence::wake`] (the C ABI's fast paths store
    /// without a call and leave the wake-up, which may fail in ways a panic
    /// reports, to a guarded one).
    #[inline(always)]
    pub fn store_for_wake(&self, v: i64, mode: Wakeups) -> bool {
        match mode {
            Wakeups::Off => {
                self.set(v);
                false
            }
            Wakeups::Light => {
                self.value().store(v, Ordering::Release);
                sync::load_after_store(self.value(), self.waiters()) != 0
            }
            Wakeups::Fenced => {
                self.value().store(v, Ordering::SeqCst);
                self.waiters().load(Ordering::SeqCst) != 0
            }
        }
    }

    /// Stores `v` and wakes sleepers, if any, with the fenced handshake:
    /// the sequentially consistent store followed by the load of the
    /// sleeper count pairs with [`SharedSequence::sleep`], so a sleeper
    /// either sees `v` before it sleeps or is counted here and woken. Safe
    /// in every mode (cold paths use it); returns whether it made the call.
    #[inline]
    pub fn set_and_wake(&self, v: i64) -> bool {
        self.publish(v, Wakeups::Fenced)
    }

    #[cold]
    fn wake_sleepers(&self) -> bool {
        sync::futex_wake_all(self.value());
        self.ring_armed();
        true
    }

    /// Multi-producer publication notice: after stores that may satisfy a
    /// sleeper's condition (stamps), bumps the value and wakes sleepers, if
    /// any, the way `mode` says. Light: the stores, then a plain load of
    /// the sleeper count (a sleeper's barrier orders them). Fenced: a fence
    /// that pairs with the fence in [`SharedSequence::sleep`]. Either the
    /// sleeper sees the stores, or it is counted here, the value changes
    /// and it is woken. Returns whether it made the system call.
    #[inline(always)]
    pub fn notify(&self, mode: Wakeups) -> bool {
        let waiting = match mode {
            Wakeups::Off => return false,
            Wakeups::Light => sync::load_after_store(self.value(), self.waiters()) != 0,
            Wakeups::Fenced => {
                fence(Ordering::SeqCst);
                self.waiters().load(Ordering::Relaxed) != 0
            }
        };
        if waiting {
            return self.bump_and_wake();
        }
        false
    }

    #[cold]
    fn bump_and_wake(&self) -> bool {
        self.value().fetch_add(1, Ordering::SeqCst);
        sync::futex_wake_all(self.value());
        self.ring_armed();
        true
    }

    /// Wakes sleepers, if any, without changing the value (cold paths: a
    /// participant leaving or taking over an entry, a store whose
    /// [`SharedSequence::store_for_wake`] found sleepers).
    #[cold]
    pub fn wake(&self) -> bool {
        fence(Ordering::SeqCst);
        if self.waiters().load(Ordering::SeqCst) != 0 {
            sync::futex_wake_all(self.value());
            self.ring_armed();
            return true;
        }
        false
    }

    /// Sleeps until the value changes or `timeout` passes, unless
    /// `recheck` (evaluated after registering as a sleeper) finds the
    /// condition holds, or that another sequence decides it now. Returns
    /// the value `recheck` produced, if the condition held.
    pub fn sleep<T>(
        &self,
        timeout: std::time::Duration,
        mut recheck: impl FnMut() -> Recheck<T>,
    ) -> Option<T> {
        self.waiters().fetch_add(1, Ordering::SeqCst);
        // The heavy side of the handshake: after it, a light publisher
        // either has its store visible to the loads below or will see the
        // registration above (see [`Wakeups`]). Where the kernel refuses,
        // a light publisher may miss this sleeper: sleep in short slices.
        let timeout = if sync::barrier_all(self.value()) {
            timeout
        } else {
            timeout.min(UNBARRIERED_SLICE)
        };
        // Orders the registration before the condition's loads in
        // `recheck` (which need not be sequentially consistent themselves).
        fence(Ordering::SeqCst);
        let observed = self.value().load(Ordering::SeqCst);
        let result = match recheck() {
            Recheck::Ready(v) => Some(v),
            Recheck::Sleep => {
                sync::futex_wait(self.value(), observed as u32, timeout);
                None
            }
            Recheck::Elsewhere => None,
        };
        self.waiters().fetch_sub(1, Ordering::SeqCst);
        result
    }

    /// Whether `other` views the same shared sequence.
    #[inline]
    pub fn same_as(&self, other: &SharedSequence) -> bool {
        self.value == other.value
    }
}

/// What a sleeper's last look at its condition, after registering, found.
pub enum Recheck<T> {
    /// The condition holds: no sleep.
    Ready(T),
    /// It does not, and a change of this sequence may make it hold: sleep.
    Sleep,
    /// It does not, and a change of another sequence decides it now (the
    /// slowest of several consumers moved): no sleep here, so the caller
    /// polls again and sleeps on that one. Sleeping here instead would
    /// miss that sequence's wake-up.
    Elsewhere,
}

/// The minimum of the committed sequences of the consumers in `mask`, or
/// `default` when the mask is empty, with the index of the minimum.
///
/// Runs on cold paths only: the producer's rescan when its cached gating
/// value no longer covers a claim, a consumer's barrier when it waits.
pub fn minimum_of(
    region: &Region,
    mask: u64,
    entry_offset: impl Fn(u32) -> u64,
    default: i64,
) -> (i64, Option<u32>) {
    let mut min = default;
    let mut at = None;
    let mut bits = mask;
    while bits != 0 {
        let i = bits.trailing_zeros();
        bits &= bits - 1;
        let s = region.i64(entry_offset(i)).load(Ordering::Acquire);
        if s < min {
            min = s;
            at = Some(i);
        }
    }
    (min, at)
}
