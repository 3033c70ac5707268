//! The synchronisation primitives the ring protocols use on shared memory:
//! the atomic types, fences, the spin hint and the futex calls.
//!
//! In normal builds these are `std::sync::atomic` and [`crate::sys`]
//! themselves (re-exports and `#[inline(always)]` forwarders: the compiled
//! code is the same as calling them directly). Built with `--cfg loom`, the
//! same names map to the [loom] model checker, so that the *real* protocol
//! code (sequencers, consumers, stamps, sleeper counts) can be explored
//! interleaving by interleaving (`tests/loom.rs`, docs/ARCHITECTURE.md,
//! "Model checking"). Everything loom-specific lives in this file:
//!
//! - **Atomics in raw memory.** loom's atomics cannot be cast from bytes of
//!   a mapping, so under loom [`atomic_at`] hands out a *shadow*: a loom
//!   atomic kept in a registry keyed by the address, created on first use
//!   with the value the bytes hold, and dropped by [`release`] when the
//!   memory goes away ([`crate::region::Mapping`] does that). Every atomic
//!   access of the crate goes through [`atomic_at`] (via
//!   [`crate::region::Region`] and [`crate::slots`]), so every party of a
//!   model sees the same shadow; the bytes themselves are never written by
//!   atomics. A word used as two different types panics.
//! - **Sequentially consistent accesses.** loom treats `SeqCst` loads,
//!   stores and read-modify-writes as `AcqRel` (loom issue #180) and would
//!   report the store-then-load handshakes of the wake-up protocol as lost
//!   wake-ups that the C++ memory model rules out; it does implement
//!   `SeqCst` fences. So under loom a `SeqCst` store is followed by a
//!   `SeqCst` fence, a `SeqCst` load is preceded by one, and a `SeqCst`
//!   read-modify-write gets both. This restores the single total order of
//!   `SeqCst` accesses; it is slightly stronger than C++ (a relaxed store
//!   cannot pass a later `SeqCst` load in the model), which is how x86-64
//!   behaves anyway.
//! - **Futex.** `futex_wait` becomes a loom mutex and condition variable per
//!   word: under the lock it reads the word (after a `SeqCst` fence, as the
//!   kernel's full barrier) and sleeps if it still holds the expected value;
//!   `futex_wake_all` takes the lock and notifies. The timeout is ignored:
//!   a sleep ends only by a wake-up, so a lost wake-up is a deadlock, which
//!   loom reports.
//! - **Membarrier.** The light wake-up handshake (see
//!   [`crate::sequence::Wakeups`]) becomes a loom mutex per sequence: the
//!   writer's load of the sleeper count is made under it
//!   ([`load_after_store`]) and a sleeper's barrier ([`barrier_all`]) locks
//!   and unlocks it, so the barrier falls before the load or after it, the
//!   two outcomes the kernel's barrier guarantees. `membarrier(Membarrier::..)`
//!   switches, per model thread, to the fenced fallback (registration
//!   refused) or to a barrier that does nothing (the negative control).
//!
//! [loom]: https://docs.rs/loom

#[cfg(not(loom))]
pub use std::sync::atomic::{fence, AtomicI64, AtomicU32, AtomicU64};

#[cfg(loom)]
pub use self::model::{fence, release, AtomicI64, AtomicU32, AtomicU64};

/// The atomic types that may live in shared memory (64- and 32-bit words).
pub trait Word: Sized + 'static {
    /// Size and alignment of the word in memory.
    const BYTES: usize;

    /// A fresh atomic holding the native-endian value of the bytes at `p`
    /// (loom shadows only).
    #[cfg(loom)]
    fn from_memory(p: *const u8) -> Self;
}

/// The atomic of type `T` at `p`, which must be in bounds and aligned.
///
/// # Safety
/// `p` must be valid and aligned for a `T` for `'a`, and only ever be
/// accessed atomically as a `T` while the reference lives.
#[cfg(not(loom))]
#[inline(always)]
pub unsafe fn atomic_at<'a, T: Word>(p: *const u8) -> &'a T {
    // SAFETY: the caller guarantees a valid, aligned, atomically accessed
    // `T` at `p` for `'a`.
    unsafe { &*(p as *const T) }
}

/// The spin-loop hint (a yield to the model checker under loom, so that a
/// spinning thread lets the others run).
#[inline(always)]
pub fn spin_loop() {
    #[cfg(not(loom))]
    std::hint::spin_loop();
    #[cfg(loom)]
    loom::hint::spin_loop();
}

/// Sleeps while the low 32 bits of `word` equal `expected`, for at most
/// `timeout` (see [`crate::sys::futex_wait`]).
#[cfg(not(loom))]
#[inline(always)]
pub fn futex_wait(word: &AtomicI64, expected: u32, timeout: std::time::Duration) {
    crate::sys::futex_wait(word, expected, timeout)
}

/// Wakes every sleeper on `word` (see [`crate::sys::futex_wake_all`]).
#[cfg(not(loom))]
#[inline(always)]
pub fn futex_wake_all(word: &AtomicI64) {
    crate::sys::futex_wake_all(word)
}

/// Whether this process takes part in the asymmetric wake-up handshake
/// (see [`crate::sequence::Wakeups`]): registered for expedited
/// membarriers, so that a sleeper's [`barrier_all`] reaches its threads.
#[cfg(not(loom))]
#[inline]
pub fn light_wakeups() -> bool {
    crate::sys::membarrier_registered()
}

/// The light side of the handshake: loads the sleeper count after the
/// store of a sequence (`word`) without a fence. Only the compiler is kept
/// from reordering; the hardware may still let the load pass the store,
/// which a sleeper's [`barrier_all`] makes harmless.
#[cfg(not(loom))]
#[inline(always)]
pub fn load_after_store(_word: &AtomicI64, waiters: &AtomicU32) -> u32 {
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    waiters.load(std::sync::atomic::Ordering::Relaxed)
}

/// The heavy side of the handshake, run by a sleeper on `word` after it
/// registered and before it looks at its condition: a full barrier on
/// every thread of every process on the light side. `false` when the
/// kernel refused (the sleeper then bounds its sleep instead).
#[cfg(not(loom))]
#[inline]
pub fn barrier_all(_word: &AtomicI64) -> bool {
    crate::sys::barrier_all_registered()
}

/// Rings the doorbells of the armed consumers in `mask` of ring `token`:
/// one datagram each to their wake-up sockets (a loom model's doorbell
/// under loom).
#[cfg(not(loom))]
pub fn ring_doorbells(token: u64, mask: u64) {
    crate::sys::wake_datagrams(token, mask)
}

#[cfg(not(loom))]
impl Word for AtomicI64 {
    const BYTES: usize = 8;
}
#[cfg(not(loom))]
impl Word for AtomicU64 {
    const BYTES: usize = 8;
}
#[cfg(not(loom))]
impl Word for AtomicU32 {
    const BYTES: usize = 4;
}
// The words are exactly their integers in memory.
#[cfg(not(loom))]
const _: () = assert!(
    std::mem::size_of::<AtomicI64>() == 8
        && std::mem::align_of::<AtomicI64>() == 8
        && std::mem::size_of::<AtomicU64>() == 8
        && std::mem::align_of::<AtomicU64>() == 8
        && std::mem::size_of::<AtomicU32>() == 4
        && std::mem::align_of::<AtomicU32>() == 4
);

#[cfg(loom)]
pub use self::model::{
    atomic_at, barrier_all, doorbell_install, doorbell_wait, futex_wait, futex_wake_all,
    light_wakeups, load_after_store, membarrier, ring_doorbells, Membarrier,
};

#[cfg(loom)]
mod model {
    use super::Word;
    use loom::sync::atomic as la;
    use std::any::Any;
    use std::collections::BTreeMap;
    use std::sync::atomic::Ordering::{self, SeqCst};
    use std::sync::Mutex;

    /// A fence; `SeqCst` fences are modelled by loom.
    pub fn fence(order: Ordering) {
        la::fence(order);
    }

    /// Runs `op` with the `SeqCst` strengthening described in the module
    /// docs: `before`/`after` say on which side a fence is needed.
    fn sc<T>(order: Ordering, before: bool, after: bool, op: impl FnOnce() -> T) -> T {
        if order == SeqCst && before {
            la::fence(SeqCst);
        }
        let v = op();
        if order == SeqCst && after {
            la::fence(SeqCst);
        }
        v
    }

    macro_rules! shadow_atomic {
        ($name:ident, $int:ty) => {
            /// loom stand-in for the std atomic of the same name.
            #[derive(Debug)]
            pub struct $name {
                inner: la::$name,
                /// The futex emulation (only 64-bit words are futex words).
                #[allow(dead_code)]
                futex: std::sync::OnceLock<(loom::sync::Mutex<()>, loom::sync::Condvar)>,
                /// The membarrier emulation (sequence values only).
                #[allow(dead_code)]
                barrier: std::sync::OnceLock<loom::sync::Mutex<()>>,
            }

            impl $name {
                /// A new atomic holding `v`.
                pub fn new(v: $int) -> Self {
                    $name {
                        inner: la::$name::new(v),
                        futex: std::sync::OnceLock::new(),
                        barrier: std::sync::OnceLock::new(),
                    }
                }
                /// See the std method.
                pub fn load(&self, o: Ordering) -> $int {
                    sc(o, true, false, || self.inner.load(o))
                }
                /// See the std method.
                pub fn store(&self, v: $int, o: Ordering) {
                    sc(o, false, true, || self.inner.store(v, o))
                }
                /// See the std method.
                pub fn swap(&self, v: $int, o: Ordering) -> $int {
                    sc(o, true, true, || self.inner.swap(v, o))
                }
                /// See the std method.
                pub fn fetch_add(&self, v: $int, o: Ordering) -> $int {
                    sc(o, true, true, || self.inner.fetch_add(v, o))
                }
                /// See the std method.
                pub fn fetch_sub(&self, v: $int, o: Ordering) -> $int {
                    sc(o, true, true, || self.inner.fetch_sub(v, o))
                }
                /// See the std method.
                pub fn fetch_or(&self, v: $int, o: Ordering) -> $int {
                    sc(o, true, true, || self.inner.fetch_or(v, o))
                }
                /// See the std method.
                pub fn fetch_and(&self, v: $int, o: Ordering) -> $int {
                    sc(o, true, true, || self.inner.fetch_and(v, o))
                }
                /// See the std method.
                pub fn fetch_max(&self, v: $int, o: Ordering) -> $int {
                    sc(o, true, true, || self.inner.fetch_max(v, o))
                }
                /// See the std method.
                pub fn compare_exchange(
                    &self,
                    current: $int,
                    new: $int,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$int, $int> {
                    sc(success, true, true, || {
                        self.inner.compare_exchange(current, new, success, failure)
                    })
                }
                /// See the std method (loom never fails spuriously).
                pub fn compare_exchange_weak(
                    &self,
                    current: $int,
                    new: $int,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$int, $int> {
                    self.compare_exchange(current, new, success, failure)
                }
            }

            impl Word for $name {
                const BYTES: usize = std::mem::size_of::<$int>();

                fn from_memory(p: *const u8) -> Self {
                    // SAFETY: `atomic_at`'s caller guarantees `p` valid and
                    // aligned for the word; shadows are made before any
                    // model thread could race on these bytes, and the bytes
                    // are never written atomically.
                    $name::new(unsafe { std::ptr::read(p as *const $int) })
                }
            }
        };
    }

    shadow_atomic!(AtomicI64, i64);
    shadow_atomic!(AtomicU64, u64);
    shadow_atomic!(AtomicU32, u32);

    /// A shadow in the registry (loom objects are used from loom's own
    /// threads, which all run on the model's OS thread).
    struct Shadow(Box<dyn Any>);
    // SAFETY: shadows are created, used and dropped inside one loom model
    // execution, whose threads run one at a time on the same OS thread; the
    // registry's mutex only makes the static itself shareable.
    unsafe impl Send for Shadow {}

    /// Shadows by address. Models running in parallel use disjoint memory.
    static SHADOWS: Mutex<BTreeMap<usize, Shadow>> = Mutex::new(BTreeMap::new());

    /// The shadow atomic of the word at `p` (created on first use).
    ///
    /// # Safety
    /// As the std version: `p` valid and aligned for a `T` for `'a`; in
    /// addition [`release`] must be called for the memory before it is
    /// freed or reused, and not while a returned reference is in use.
    pub unsafe fn atomic_at<'a, T: Word>(p: *const u8) -> &'a T {
        let mut map = SHADOWS.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map
            .entry(p as usize)
            .or_insert_with(|| Shadow(Box::new(T::from_memory(p))));
        let shadow: &T = entry.0.downcast_ref().unwrap_or_else(|| {
            panic!(
                "shared word {p:p} accessed as {} and as another type",
                std::any::type_name::<T>()
            )
        });
        // SAFETY: the shadow is boxed, so it does not move when the map
        // changes, and it is dropped only by `release`, which the owner of
        // the memory calls after every user is gone (caller's contract).
        unsafe { &*(shadow as *const T) }
    }

    /// Drops the shadows of `[base, base + len)`: the memory is going away
    /// (or a model execution ends).
    pub fn release(base: *const u8, len: usize) {
        let start = base as usize;
        let gone: Vec<Shadow> = {
            let mut map = SHADOWS.lock().unwrap_or_else(|e| e.into_inner());
            let keys: Vec<usize> = map.range(start..start + len).map(|(k, _)| *k).collect();
            keys.iter().filter_map(|k| map.remove(k)).collect()
        };
        drop(gone); // outside the registry lock
    }

    fn futex(word: &AtomicI64) -> &(loom::sync::Mutex<()>, loom::sync::Condvar) {
        word.futex
            .get_or_init(|| (loom::sync::Mutex::new(()), loom::sync::Condvar::new()))
    }

    /// Futex emulation: sleeps until woken if the low 32 bits of `word`
    /// still equal `expected` (read under the word's lock after a full
    /// fence, like the kernel). No timeout: a lost wake-up deadlocks.
    pub fn futex_wait(word: &AtomicI64, expected: u32, _timeout: std::time::Duration) {
        let (lock, sleepers) = futex(word);
        let guard = lock.lock().unwrap();
        la::fence(SeqCst);
        if word.inner.load(Ordering::Relaxed) as u32 == expected {
            drop(sleepers.wait(guard).unwrap());
        }
    }

    /// What the emulated `membarrier` does in this model (see
    /// [`membarrier`]).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Membarrier {
        /// Registration and barriers work (the default): light publishers.
        Works,
        /// The kernel refuses both: publishers fall back to `SeqCst` and
        /// sleepers get `false` from [`barrier_all`].
        Refused,
        /// Negative control: publishers are light but a sleeper's barrier
        /// does nothing (yet reports success). Must lose a wake-up.
        Skipped,
    }

    std::thread_local! {
        static MEMBARRIER: std::cell::Cell<Membarrier> =
            const { std::cell::Cell::new(Membarrier::Works) };
    }

    /// Sets what `membarrier` does for models run on this OS thread (loom
    /// runs a model's threads on the thread that started it).
    pub fn membarrier(m: Membarrier) {
        MEMBARRIER.with(|c| c.set(m));
    }

    /// See the std version: light unless the model refuses registration.
    pub fn light_wakeups() -> bool {
        MEMBARRIER.with(|c| c.get()) != Membarrier::Refused
    }

    fn barrier_lock(word: &AtomicI64) -> &loom::sync::Mutex<()> {
        word.barrier.get_or_init(|| loom::sync::Mutex::new(()))
    }

    /// Membarrier emulation, light side: the load of the sleeper count
    /// under the word's barrier lock. A sleeper's barrier (lock and
    /// unlock of the same lock) then falls either before this load (and
    /// the load sees the sleeper's registration) or after it (and the
    /// sleeper sees the store that preceded it) - the two outcomes the
    /// real barrier guarantees; the third (between store and load) gives
    /// both. Only parties storing the same sequence share the lock.
    pub fn load_after_store(word: &AtomicI64, waiters: &AtomicU32) -> u32 {
        let _guard = barrier_lock(word).lock().unwrap();
        waiters.load(Ordering::Relaxed)
    }

    /// Membarrier emulation, heavy side: lock and unlock the word's
    /// barrier lock (or nothing, for the negative control).
    pub fn barrier_all(word: &AtomicI64) -> bool {
        match MEMBARRIER.with(|c| c.get()) {
            Membarrier::Works => {
                drop(barrier_lock(word).lock().unwrap());
                true
            }
            Membarrier::Refused => false,
            Membarrier::Skipped => true,
        }
    }

    type Doorbell = std::sync::Arc<(loom::sync::Mutex<u64>, loom::sync::Condvar)>;

    std::thread_local! {
        static DOORBELL: std::cell::RefCell<Option<Doorbell>> =
            const { std::cell::RefCell::new(None) };
    }

    /// Wake-up socket emulation: a fresh doorbell (one bit per consumer
    /// entry) for the model execution running on this OS thread.
    pub fn doorbell_install() {
        let bell = std::sync::Arc::new((loom::sync::Mutex::new(0), loom::sync::Condvar::new()));
        DOORBELL.with(|d| *d.borrow_mut() = Some(bell));
    }

    fn doorbell() -> Doorbell {
        DOORBELL.with(|d| d.borrow().clone().expect("doorbell_install first"))
    }

    /// Wake-up socket emulation, sender: sets the bits of `mask` and wakes
    /// the waiters (the datagrams).
    pub fn ring_doorbells(_token: u64, mask: u64) {
        let bell = doorbell();
        *bell.0.lock().unwrap() |= mask;
        bell.1.notify_all();
    }

    /// Wake-up socket emulation, receiver: blocks until the bits of `mask`
    /// are set (a lost wake-up deadlocks), then clears them.
    pub fn doorbell_wait(mask: u64) {
        let bell = doorbell();
        let mut rung = bell.0.lock().unwrap();
        while *rung & mask == 0 {
            rung = bell.1.wait(rung).unwrap();
        }
        *rung &= !mask;
    }

    /// Futex emulation: wakes every sleeper of `word` (after a full fence,
    /// like the kernel).
    pub fn futex_wake_all(word: &AtomicI64) {
        la::fence(SeqCst);
        let (lock, sleepers) = futex(word);
        let _guard = lock.lock().unwrap();
        sleepers.notify_all();
    }
}
