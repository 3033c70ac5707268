//! What an event carries and how a consumer checks it: the event number
//! in the first 8 bytes and its complement in the last 8 (a
//! single-producer ring numbers events 0, 1, ...; a multi-producer ring
//! puts the producer id in the top byte, over that producer's own
//! counter), the event sizes the workers are compiled for, and the
//! checks.

use super::BoxResult;
use std::error::Error;

/// An event size: fixed at compile time for the common sizes, so the copy
/// and the check are fixed-size as in a real application, or any other
/// size of at least 8 bytes at run time.
pub(super) trait Size: Copy {
    fn get(self) -> usize;
    /// Writes event number `i` into `e`, which is exactly `get()` bytes.
    fn fill(self, e: &mut [u8], i: u64);
}

#[derive(Clone, Copy)]
pub(super) struct Fixed<const N: usize>;

impl<const N: usize> Size for Fixed<N> {
    #[inline(always)]
    fn get(self) -> usize {
        N
    }

    #[inline(always)]
    fn fill(self, e: &mut [u8], i: u64) {
        // Built in registers and stored whole: a fixed-size copy, not a
        // memset call.
        let mut event = [0xa5u8; N];
        event[..8].copy_from_slice(&i.to_le_bytes());
        if N >= 16 {
            event[N - 8..].copy_from_slice(&(!i).to_le_bytes());
        }
        e.copy_from_slice(&event);
    }
}

#[derive(Clone, Copy)]
pub(super) struct Dynamic(pub(super) usize);

impl Size for Dynamic {
    #[inline(always)]
    fn get(self) -> usize {
        self.0
    }

    #[inline(always)]
    fn fill(self, e: &mut [u8], i: u64) {
        let n = e.len();
        e.fill(0xa5);
        e[..8].copy_from_slice(&i.to_le_bytes());
        if n >= 16 {
            e[n - 8..].copy_from_slice(&(!i).to_le_bytes());
        }
    }
}

/// Calls `$f(args.., size)` with the event size as a [`Size`].
macro_rules! with_event_size {
    ($size:expr, $f:ident($($arg:expr),*)) => {{
        use $crate::bench::payload::{supported_size, Dynamic, Fixed, MAX_EVENT};
        match $size {
            8 => $f($($arg,)* Fixed::<8>),
            16 => $f($($arg,)* Fixed::<16>),
            32 => $f($($arg,)* Fixed::<32>),
            64 => $f($($arg,)* Fixed::<64>),
            128 => $f($($arg,)* Fixed::<128>),
            256 => $f($($arg,)* Fixed::<256>),
            n if supported_size(n) => $f($($arg,)* Dynamic(n)),
            n => Err(format!(
                "event size {n}: must be at least 8 bytes (the event number) and at most {MAX_EVENT} bytes"
            )
            .into()),
        }
    }};
}
pub(super) use with_event_size;

/// Largest event size the benchmark moves (the ring's slot-size limit).
pub(super) const MAX_EVENT: usize = 1 << 20;

/// Whether the benchmark can move events of `size` bytes.
pub(crate) fn supported_size(size: usize) -> bool {
    (8..=MAX_EVENT).contains(&size)
}

/// Writes event number `i` into the first `size` bytes of `dst`.
#[inline(always)]
pub(super) fn write_event<S: Size>(dst: &mut [u8], size: S, i: u64) -> BoxResult<()> {
    let n = size.get();
    let len = dst.len();
    let Some(e) = dst.get_mut(..n) else {
        return Err(too_small(len, n));
    };
    size.fill(e, i);
    Ok(())
}

/// [`write_event`] for a slot already checked to hold `size` bytes (see
/// [`check_room`]): nothing to report, so a closure that calls it keeps
/// no result in memory (the consumer checks every event it receives).
#[inline(always)]
pub(super) fn fill_event<S: Size>(dst: &mut [u8], size: S, i: u64) {
    if let Some(e) = dst.get_mut(..size.get()) {
        size.fill(e, i);
    }
}

/// Checks once that slots of `slot_size` bytes hold events of `size`.
pub(super) fn check_room<S: Size>(slot_size: usize, size: S) -> BoxResult<()> {
    if slot_size < size.get() {
        return Err(too_small(slot_size, size.get()));
    }
    Ok(())
}

#[cold]
fn too_small(slot: usize, event: usize) -> Box<dyn Error> {
    format!("a {slot}-byte slot cannot hold a {event}-byte event").into()
}

#[inline(always)]
fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let mut w = [0u8; 8];
    w.copy_from_slice(bytes.get(at..at + 8)?);
    Some(u64::from_le_bytes(w))
}

/// Whether `bytes` hold event number `i` (first and last 8 bytes).
#[inline(always)]
fn holds<S: Size>(bytes: &[u8], size: S, i: u64) -> bool {
    let n = size.get();
    u64_at(bytes, 0) == Some(i) && (n < 16 || u64_at(bytes, n - 8) == Some(!i))
}

/// Checks that `bytes` hold event number `i` (first and last 8 bytes).
#[inline(always)]
pub(super) fn check<S: Size>(bytes: &[u8], size: S, i: u64) -> BoxResult<()> {
    if holds(bytes, size, i) {
        Ok(())
    } else {
        Err(bad_event(bytes, i))
    }
}

#[cold]
fn bad_event(bytes: &[u8], i: u64) -> Box<dyn Error> {
    format!(
        "payload check failed at event {i}: found number {:?} (and trailer {:?})",
        u64_at(bytes, 0),
        bytes
            .len()
            .checked_sub(8)
            .and_then(|at| u64_at(bytes, at))
            .map(|t| !t)
    )
    .into()
}

// Multi-producer events: the producer id in the top byte of the number,
// that producer's own counter below it.

/// Bit position of the producer id in a multi-producer event number.
pub(super) const ID_SHIFT: u32 = 56;

/// The events producer `id` of `producers` sends out of `events` in all
/// (the first ones take the remainder).
pub(super) fn share(events: u64, producers: u32, id: u32) -> u64 {
    let p = u64::from(producers.max(1));
    events / p + u64::from(u64::from(id) < events % p)
}

/// The consumer's check of a multi-producer ring: every event comes from a
/// known producer and carries that producer's next counter value. A claim
/// is a run of consecutive sequences, so events mostly arrive in runs from
/// one producer: each event is compared with the successor of the one
/// before (as in the single-producer check), and only a change of producer
/// looks the producer up.
pub(super) struct PerProducer {
    /// Next event number expected from each producer.
    next: Vec<u64>,
    /// The producer of the previous event and its next event number.
    id: usize,
    cur: u64,
}

impl PerProducer {
    pub(super) fn new(producers: u32) -> PerProducer {
        PerProducer {
            next: (0..u64::from(producers)).map(|i| i << ID_SHIFT).collect(),
            id: 0,
            cur: 0,
        }
    }

    /// Checks a batch of events, in sequence order. The expected number
    /// stays in a register for the whole batch.
    #[inline(always)]
    pub(super) fn check<'a, S: Size>(
        &mut self,
        events: impl Iterator<Item = BoxResult<&'a [u8]>>,
        size: S,
    ) -> BoxResult<()> {
        let mut cur = self.cur;
        for bytes in events {
            let bytes = bytes?;
            if !holds(bytes, size, cur) {
                self.cur = cur;
                self.switch(bytes, size)?;
                cur = self.cur;
            }
            cur += 1;
        }
        self.cur = cur;
        Ok(())
    }

    /// The event is not the successor of the previous one: it must be the
    /// next one of another producer.
    #[cold]
    #[inline(never)]
    fn switch<S: Size>(&mut self, bytes: &[u8], size: S) -> BoxResult<()> {
        let found = u64_at(bytes, 0).ok_or("event shorter than 8 bytes")?;
        let id = (found >> ID_SHIFT) as usize;
        if id >= self.next.len() || id == self.id {
            let who = if id == self.id {
                format!("producer {id}: out of order")
            } else {
                format!("unknown producer {id}")
            };
            return Err(format!(
                "{who}: found event {}, expected {} from producer {}",
                found & ((1 << ID_SHIFT) - 1),
                self.cur & ((1 << ID_SHIFT) - 1),
                self.id
            )
            .into());
        }
        self.next[self.id] = self.cur;
        self.id = id;
        self.cur = self.next[id];
        if holds(bytes, size, self.cur) {
            return Ok(());
        }
        let e = bad_event(bytes, self.cur & ((1 << ID_SHIFT) - 1));
        Err(format!("producer {id}: {e}").into())
    }

    /// Checks that every producer's events all arrived.
    pub(super) fn finish(mut self, events: u64) -> BoxResult<()> {
        self.next[self.id] = self.cur;
        let producers = self.next.len() as u32;
        for (id, next) in self.next.iter().enumerate() {
            let got = next & ((1 << ID_SHIFT) - 1);
            let want = share(events, producers, id as u32);
            if got != want {
                return Err(format!("producer {id}: received {got} of its {want} events").into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 8-byte events (number only) and 64-byte ones (number and trailer).
    fn event<S: Size>(size: S, number: u64) -> Vec<u8> {
        let mut e = vec![0u8; size.get()];
        write_event(&mut e, size, number).unwrap();
        e
    }

    fn of(id: u64, n: u64) -> u64 {
        id << ID_SHIFT | n
    }

    /// Feeds `numbers` to a fresh check of `producers` in batches of
    /// `batch`, then checks that `events` arrived in all.
    fn verify<S: Size>(size: S, producers: u32, events: u64, numbers: &[u64]) -> BoxResult<()> {
        let mut v = PerProducer::new(producers);
        let all: Vec<Vec<u8>> = numbers.iter().map(|&n| event(size, n)).collect();
        for batch in all.chunks(3) {
            v.check(batch.iter().map(|e| Ok(e.as_slice())), size)?;
        }
        v.finish(events)
    }

    #[test]
    fn shares_add_up() {
        for (events, producers) in [(10, 1), (10, 2), (11, 2), (7, 3), (1, 2)] {
            let sum: u64 = (0..producers).map(|id| share(events, producers, id)).sum();
            assert_eq!(sum, events, "{events} over {producers}");
        }
        assert_eq!((share(11, 2, 0), share(11, 2, 1)), (6, 5));
    }

    #[test]
    fn interleaved_producers_in_their_own_order_pass() {
        let numbers = [of(1, 0), of(1, 1), of(0, 0), of(0, 1), of(0, 2), of(1, 2)];
        verify(Fixed::<8>, 2, 6, &numbers).unwrap();
        verify(Fixed::<64>, 2, 6, &numbers).unwrap();
        verify(Dynamic(24), 2, 6, &numbers).unwrap();
        let one: Vec<u64> = (0..10).collect();
        verify(Fixed::<8>, 1, 10, &one).unwrap();
    }

    #[test]
    fn out_of_order_duplicate_unknown_and_missing_events_fail() {
        let bad: [(&[u64], &str); 5] = [
            (
                &[of(0, 0), of(0, 2), of(1, 0), of(0, 1), of(1, 1)],
                "out of order",
            ),
            (
                &[of(0, 0), of(1, 0), of(0, 0), of(0, 1), of(1, 1)],
                "payload check",
            ),
            (&[of(0, 0), of(2, 0), of(0, 1)], "unknown producer 2"),
            (&[of(0, 0), of(1, 1), of(0, 1)], "payload check"),
            (&[of(0, 0), of(1, 0), of(0, 1)], "received 1 of its 2"),
        ];
        for (numbers, want) in bad {
            let e = verify(Fixed::<8>, 2, 4, numbers).unwrap_err().to_string();
            assert!(e.contains(want), "{numbers:?}: {e}");
        }
        // A damaged trailer is caught at a change of producer too.
        let mut v = PerProducer::new(2);
        let mut e = event(Fixed::<64>, of(1, 0));
        e[63] ^= 1;
        let err = v
            .check([Ok(e.as_slice())].into_iter(), Fixed::<64>)
            .unwrap_err();
        assert!(err.to_string().contains("producer 1"), "{err}");
    }
}
