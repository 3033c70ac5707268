//! The floor: a minimal hand-written SPSC ring, and an atomic ping-pong,
//! in a shared-memory file (the best this hardware does), with their
//! worker loops. The one-event rows' hand-written ring uses the same
//! layout (`one/hand_written.rs`).

use super::args::WorkerArgs;
use super::payload::{check, write_event, Size};
use super::pingpong::{histogram, report_latency};
use super::worker::{nanos, ready, report, spin_until, Receipt};
use super::BoxResult;
use memmap2::MmapRaw;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Offset of the floor ring's producer index (its own 128-byte block).
pub(super) const FLOOR_HEAD: usize = 0;
/// Offset of the floor ring's consumer index (its own 128-byte block).
pub(super) const FLOOR_TAIL: usize = 128;
/// Offset of the floor ring's records.
const FLOOR_DATA: usize = 256;
/// Offsets of the ping-pong counters, each on its own 128-byte block.
const PING: usize = 0;
const PONG: usize = 128;
pub(super) const PING_PONG_LEN: usize = 256;

pub(super) fn floor_ring_len(capacity: u64, size: usize) -> BoxResult<usize> {
    usize::try_from(capacity)
        .ok()
        .and_then(|c| c.checked_mul(size))
        .and_then(|d| d.checked_add(FLOOR_DATA))
        .ok_or_else(|| "floor ring too large".into())
}

/// A shared-memory file mapped read-write by a floor worker.
pub(super) struct ShmFile {
    map: MmapRaw,
}

impl ShmFile {
    /// Creates the file (exclusively, mode 0600) with `len` zero bytes.
    pub(super) fn create(path: &Path, len: usize) -> BoxResult<()> {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("creating {}: {e}", path.display()))?;
        // Write (rather than truncate to) the length, so the pages exist
        // before the workers touch them, as the ring's do.
        f.write_all(&vec![0u8; len])?;
        Ok(())
    }

    pub(super) fn open(path: &Path, len: usize) -> BoxResult<ShmFile> {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| format!("opening {}: {e}", path.display()))?;
        let found = f.metadata()?.len();
        if found != len as u64 {
            return Err(format!("{}: {found} bytes, expected {len}", path.display()).into());
        }
        let map = MmapRaw::map_raw(&f)?;
        Ok(ShmFile { map })
    }

    /// The 8-byte atomic at `offset`.
    pub(super) fn atomic(&self, offset: usize) -> BoxResult<&AtomicU64> {
        if offset % 8 != 0 || offset + 8 > self.map.len() {
            return Err(format!("offset {offset} is outside the mapping").into());
        }
        // SAFETY: the word lies inside the live mapping (checked above),
        // which `self` keeps mapped for the returned lifetime; it is 8-byte
        // aligned (page-aligned base, offset a multiple of 8); every process
        // accesses it only atomically.
        Ok(unsafe { &*self.map.as_mut_ptr().add(offset).cast::<AtomicU64>() })
    }

    /// The record array of a floor ring of `capacity` records of `size`
    /// bytes.
    pub(super) fn records<S: Size>(&self, capacity: u64, size: S) -> BoxResult<Records<'_, S>> {
        if !capacity.is_power_of_two() || floor_ring_len(capacity, size.get())? != self.map.len() {
            return Err("floor ring layout mismatch".into());
        }
        Ok(Records {
            // SAFETY: FLOOR_DATA < len (checked above): in bounds.
            base: unsafe { self.map.as_mut_ptr().add(FLOOR_DATA) },
            mask: capacity - 1,
            size,
            _map: std::marker::PhantomData,
        })
    }
}

/// The records of a floor ring: `mask + 1` records of `size` bytes.
pub(super) struct Records<'a, S: Size> {
    base: *mut u8,
    mask: u64,
    size: S,
    _map: std::marker::PhantomData<&'a MmapRaw>,
}

impl<S: Size> Records<'_, S> {
    /// Record `i`, for writing. The producer owns it: `i` is below
    /// `tail + capacity` and at or above the published head.
    #[inline(always)]
    pub(super) fn record_mut(&mut self, i: u64) -> &mut [u8] {
        let n = self.size.get();
        let at = (i & self.mask) as usize * n;
        // SAFETY: `at + n` lies inside the record array (index masked to the
        // capacity, array checked against the mapping in `records`); the
        // SPSC protocol gives the producer exclusive use of unpublished
        // records, and `&mut self` ends the borrow before the head moves.
        unsafe { std::slice::from_raw_parts_mut(self.base.add(at), n) }
    }

    /// Record `i`, which is published and not yet released by the consumer.
    #[inline(always)]
    pub(super) fn record(&self, i: u64) -> &[u8] {
        let n = self.size.get();
        let at = (i & self.mask) as usize * n;
        // SAFETY: in bounds as in `record_mut`; the producer does not write
        // a published record until the consumer's tail passes it, and the
        // borrow ends before the tail is stored.
        unsafe { std::slice::from_raw_parts(self.base.add(at), n) }
    }
}

pub(super) fn floor_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let shm = ShmFile::open(Path::new(&a.name), floor_ring_len(a.capacity, size.get())?)?;
    let (head, tail) = (shm.atomic(FLOOR_HEAD)?, shm.atomic(FLOOR_TAIL)?);
    let mut records = shm.records(a.capacity, size)?;
    ready()?;
    let batch = a.batch.clamp(1, a.capacity);
    let start = Instant::now();
    let mut i = 0u64;
    let mut cached_tail = 0u64;
    while i < a.events {
        let n = batch.min(a.events - i);
        if i + n - cached_tail > a.capacity {
            cached_tail = spin_until("free records", || {
                let t = tail.load(Ordering::Acquire);
                (i + n - t <= a.capacity).then_some(t)
            })?;
        }
        for k in i..i + n {
            write_event(records.record_mut(k), size, k)?;
        }
        i += n;
        head.store(i, Ordering::Release);
    }
    report(&[
        ("events", a.events as f64),
        ("span_ns", nanos(start.elapsed())),
    ])
}

pub(super) fn floor_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let shm = ShmFile::open(Path::new(&a.name), floor_ring_len(a.capacity, size.get())?)?;
    let (head, tail) = (shm.atomic(FLOOR_HEAD)?, shm.atomic(FLOOR_TAIL)?);
    let records = shm.records(a.capacity, size)?;
    ready()?;
    let mut i = 0u64;
    let mut receipt = Receipt::new();
    while i < a.events {
        let available = spin_until("records", || {
            let h = head.load(Ordering::Acquire);
            (h > i).then_some(h)
        })?;
        if available > a.events {
            return Err(format!("received more than the {} events published", a.events).into());
        }
        receipt.batch(available - i);
        for k in i..available {
            check(records.record(k), size, k)?;
        }
        i = available;
        tail.store(i, Ordering::Release);
    }
    receipt.report(a.events)
}

pub(super) fn floor_ping(a: &WorkerArgs) -> BoxResult<()> {
    let shm = ShmFile::open(Path::new(&a.name), PING_PONG_LEN)?;
    let (ping, pong) = (shm.atomic(PING)?, shm.atomic(PONG)?);
    ready()?;
    let gap = Duration::from_micros(a.gap_us);
    let mut hist = histogram()?;
    for i in 1..=a.warmup + a.events {
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
        let t = Instant::now();
        ping.store(i, Ordering::Release);
        spin_until("the echo", || {
            (pong.load(Ordering::Acquire) == i).then_some(())
        })?;
        let rtt = t.elapsed();
        if i > a.warmup {
            hist.saturating_record(rtt.as_nanos() as u64);
        }
    }
    report_latency(&hist)
}

pub(super) fn floor_echo(a: &WorkerArgs) -> BoxResult<()> {
    let shm = ShmFile::open(Path::new(&a.name), PING_PONG_LEN)?;
    let (ping, pong) = (shm.atomic(PING)?, shm.atomic(PONG)?);
    ready()?;
    for i in 1..=a.warmup + a.events {
        spin_until("a ping", || {
            (ping.load(Ordering::Acquire) == i).then_some(())
        })?;
        pong.store(i, Ordering::Release);
    }
    report(&[("events", (a.warmup + a.events) as f64)])
}
