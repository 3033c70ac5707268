//! Handle tagging: what a `dmp_ring`, `dmp_producer`, `dmp_consumer` or
//! `dmp_snapshot` pointer given to C points to, how its kind is checked
//! before use, and the graveyard that keeps closed handles detectable.

use super::consumer::dmp_consumer;
use super::producer::dmp_producer;
use super::ring::dmp_ring;
use super::snapshot::dmp_snapshot;
use crate::error::{Error, Result};
use crate::ring::{Consumer, Producer, Ring};
use crate::snapshot::Snapshot;
use std::collections::VecDeque;
use std::sync::Mutex;

/// What every handle pointer given to C points to, whatever its kind: the
/// magic first (`repr(C)`), so that telling a handle's kind reads 8 bytes
/// that every handle has, even when C passes one kind as another. The
/// public handle types are opaque markers that are never constructed.
#[repr(C)]
struct Tagged<T> {
    magic: u64,
    inner: Option<T>,
}

pub(super) trait Handle: 'static {
    type Inner: Send + 'static;
    const MAGIC: u64;
    const KIND: &'static str;
}

const RING_MAGIC: u64 = 0x676e_6972_5f70_6d64; // "dmp_ring"
const PRODUCER_MAGIC: u64 = 0x6f72_705f_706d_6401;
const CONSUMER_MAGIC: u64 = 0x6e6f_635f_706d_6402;
const SNAPSHOT_MAGIC: u64 = 0x6e61_6e73_706d_6403;
const CLOSED_MAGIC: u64 = 0xdead_c105_ed00_0000;

macro_rules! handle {
    ($t:ty, $inner:ty, $magic:expr, $kind:literal) => {
        impl Handle for $t {
            type Inner = $inner;
            const MAGIC: u64 = $magic;
            const KIND: &'static str = $kind;
        }
    };
}
handle!(dmp_ring, Ring, RING_MAGIC, "dmp_ring");
handle!(dmp_producer, Producer, PRODUCER_MAGIC, "dmp_producer");
handle!(dmp_consumer, Consumer, CONSUMER_MAGIC, "dmp_consumer");
handle!(dmp_snapshot, Snapshot, SNAPSHOT_MAGIC, "dmp_snapshot");

/// Closed handles are kept (emptied, magic cleared) for a while, so using
/// or closing one again is detected as `DMP_STATUS_INVALID_HANDLE` instead
/// of touching freed memory. Only the oldest are freed.
const GRAVEYARD_SIZE: usize = 4096;
static GRAVEYARD: Mutex<VecDeque<Box<dyn Send>>> = Mutex::new(VecDeque::new());

pub(super) fn new_handle<H: Handle>(inner: H::Inner, out: *mut *mut H) -> Result<()> {
    let ptr = Box::into_raw(Box::new(Tagged {
        magic: H::MAGIC,
        inner: Some(inner),
    }));
    // SAFETY: `out` was checked non-null by the caller of new_handle.
    unsafe { *out = ptr.cast::<H>() };
    Ok(())
}

/// The storage of `h` when it is a live handle of kind `H`.
fn check_live<H: Handle>(h: *mut H) -> Result<*mut Tagged<H::Inner>> {
    if h.is_null() {
        return Err(Error::NullPointer(H::KIND));
    }
    // SAFETY: non-null; the caller passes a pointer obtained from this
    // library, which points to a `Tagged<_>` of some kind (magic first,
    // 8-byte aligned) that stays allocated after close (graveyard), so
    // reading the magic is defined for every kind, live or recently
    // closed. Nothing else is read before the magic names the kind.
    let magic = unsafe { h.cast::<u64>().read() };
    let tagged = h.cast::<Tagged<H::Inner>>();
    // SAFETY: the magic says `h` holds a `Tagged<H::Inner>`; shared
    // access only.
    if magic == H::MAGIC && unsafe { (*tagged).inner.is_some() } {
        Ok(tagged)
    } else {
        Err(Error::InvalidHandle(H::KIND))
    }
}

/// The fast paths' check of a producer or consumer handle: exclusive
/// access to its inner value when `h` is a live handle of kind `H`, `None`
/// otherwise (the caller then takes its slow path, which names the error).
/// The same checks as [`live_mut`] without building an `Error`: a null
/// test, the magic, the `Option`. No panicking operation.
#[inline(always)]
pub(super) fn fast_mut<'a, H: Handle>(h: *mut H) -> Option<&'a mut H::Inner> {
    if h.is_null() {
        return None;
    }
    // SAFETY: as in `check_live`: non-null, from this library, a
    // `Tagged<_>` of some kind that stays allocated after close; only the
    // magic is read before it names the kind.
    if unsafe { h.cast::<u64>().read() } != H::MAGIC {
        return None;
    }
    // SAFETY: the magic says `h` holds a `Tagged<H::Inner>`; exclusive use
    // is the caller's contract for producer and consumer handles.
    let tagged: &'a mut Tagged<H::Inner> = unsafe { &mut *h.cast::<Tagged<H::Inner>>() };
    tagged.inner.as_mut()
}

/// What belongs to a ring: its errors' messages name it.
pub(super) trait OnRing {
    fn ring_path(&self) -> &std::path::Path;
}
impl OnRing for Producer {
    fn ring_path(&self) -> &std::path::Path {
        Producer::ring_path(self)
    }
}
impl OnRing for Ring {
    fn ring_path(&self) -> &std::path::Path {
        self.path()
    }
}
impl OnRing for Consumer {
    fn ring_path(&self) -> &std::path::Path {
        Consumer::ring_path(self)
    }
}

/// The ring of `h` if it is a live producer or consumer handle (for a
/// message, after a call on it failed).
#[cold]
pub(super) fn ring_of<H: Handle>(h: *mut H) -> Option<std::path::PathBuf>
where
    H::Inner: OnRing,
{
    let tagged = check_live(h).ok()?;
    // SAFETY: checked live above; shared access only, after the failed
    // call's borrows ended (same thread).
    let tagged: &Tagged<H::Inner> = unsafe { &*tagged };
    tagged.inner.as_ref().map(|i| i.ring_path().to_path_buf())
}

/// Shared access to a live handle (ring handles may be used concurrently).
pub(super) fn live<'a, H: Handle>(h: *mut H) -> Result<&'a H::Inner> {
    let tagged = check_live(h)?;
    // SAFETY: checked live above; shared access only.
    let tagged: &'a Tagged<H::Inner> = unsafe { &*tagged };
    // A match, not `ok_or`: the error (which has drop glue) is built only
    // on the failure path.
    match tagged.inner.as_ref() {
        Some(inner) => Ok(inner),
        None => Err(Error::InvalidHandle(H::KIND)),
    }
}

/// Exclusive access to a live producer or consumer handle: the caller
/// promises one thread at a time (docs/C_API.md, Threading).
pub(super) fn live_mut<'a, H: Handle>(h: *mut H) -> Result<&'a mut H::Inner> {
    let tagged = check_live(h)?;
    // SAFETY: checked live above; exclusive use is the caller's contract
    // for producer and consumer handles.
    let tagged: &'a mut Tagged<H::Inner> = unsafe { &mut *tagged };
    match tagged.inner.as_mut() {
        Some(inner) => Ok(inner),
        None => Err(Error::InvalidHandle(H::KIND)),
    }
}

pub(super) fn close_handle<H: Handle>(h: *mut H) -> Result<()> {
    if h.is_null() {
        return Ok(());
    }
    let tagged = check_live(h)?;
    // SAFETY: checked live above; closing is exclusive by contract (no
    // other call on this handle may run concurrently with its close).
    let handle = unsafe { &mut *tagged };
    handle.magic = CLOSED_MAGIC;
    drop(handle.inner.take());
    // SAFETY: `tagged` came from Box::into_raw in new_handle and is closed
    // only once (the magic check above); ownership moves to the graveyard.
    let husk: Box<dyn Send> = unsafe { Box::from_raw(tagged) };
    let mut g = GRAVEYARD.lock().unwrap_or_else(|p| p.into_inner());
    g.push_back(husk);
    if g.len() > GRAVEYARD_SIZE {
        g.pop_front();
    }
    Ok(())
}
