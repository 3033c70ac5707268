//! Wait strategies for producers (waiting for consumers to free slots) and
//! consumers (waiting for events). Every wait is bounded by a timeout.
//!
//! A wait polls a condition. While the condition does not hold the poll
//! names the shared sequence whose change would make it hold; the blocking
//! strategy sleeps on that sequence's futex word.

use crate::error::{Error, Result};
use crate::sequence::{Recheck, SharedSequence};
use std::borrow::Cow;
use std::time::{Duration, Instant};

/// How a participant waits when it cannot proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitStrategy {
    /// Spin on the condition: lowest latency, burns a core.
    BusySpin,
    /// Spin briefly, then yield the CPU between polls.
    #[default]
    Yield,
    /// Spin, yield, then sleep this long between polls.
    Sleep(Duration),
    /// Spin briefly, then sleep on a futex in the segment until woken.
    /// Needs a ring created with wake-ups enabled.
    Blocking,
}

/// Polls spent spinning before yielding, sleeping or blocking.
#[cfg(not(loom))]
const SPIN_POLLS: u32 = 256;
/// None under the model checker: the models wait with the blocking
/// strategy, which sleeps at once. (loom cannot exhaust spinning threads:
/// with three of them, which one runs after a yield is a free choice, so
/// two spinners can starve the third for ever; a sleeping thread is simply
/// not runnable until it is woken.)
#[cfg(loom)]
const SPIN_POLLS: u32 = 0;
/// Yields before the sleep strategy starts sleeping.
const YIELDS_BEFORE_SLEEP: u32 = 16;
/// Longest single futex sleep: a sleeper re-evaluates at least this often,
/// which bounds the effect of a wake-up target that changed meanwhile.
const MAX_FUTEX_SLICE: Duration = Duration::from_millis(50);
/// Longest sleep between polls the sleep strategy accepts from C.
pub const MAX_SLEEP: Duration = Duration::from_secs(1);
/// Polls between two reads of the clock while spinning.
const POLLS_PER_CLOCK_READ: u32 = 128;

impl WaitStrategy {
    /// The C value of this strategy (`DMP_WAIT_*`); `Sleep` carries its
    /// duration separately.
    pub fn code(self) -> u32 {
        match self {
            WaitStrategy::BusySpin => 0,
            WaitStrategy::Yield => 1,
            WaitStrategy::Sleep(_) => 2,
            WaitStrategy::Blocking => 3,
        }
    }

    /// The strategy for a C value, rejecting unknown values.
    pub fn from_code(code: u32, sleep: Duration) -> Result<WaitStrategy> {
        Ok(match code {
            0 => WaitStrategy::BusySpin,
            1 => WaitStrategy::Yield,
            2 if sleep > MAX_SLEEP => {
                return Err(Error::InvalidArgument(format!(
                    "sleep between polls {sleep:?} exceeds {MAX_SLEEP:?}"
                )))
            }
            2 => WaitStrategy::Sleep(if sleep.is_zero() {
                Duration::from_micros(50)
            } else {
                sleep
            }),
            3 => WaitStrategy::Blocking,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown wait strategy {other} (0 busy-spin, 1 yield, 2 sleep, 3 blocking)"
                )))
            }
        })
    }

    /// Parses `spin`, `yield`, `sleep`, `sleep:<micros>` or `block`.
    pub fn parse(s: &str) -> Result<WaitStrategy> {
        match s {
            "spin" | "busy-spin" => Ok(WaitStrategy::BusySpin),
            "yield" => Ok(WaitStrategy::Yield),
            "sleep" => Ok(WaitStrategy::Sleep(Duration::from_micros(50))),
            "block" | "blocking" | "futex" => Ok(WaitStrategy::Blocking),
            _ => match s.strip_prefix("sleep:").map(str::parse::<u64>) {
                Some(Ok(us)) => Ok(WaitStrategy::Sleep(Duration::from_micros(us.max(1)))),
                _ => Err(Error::InvalidArgument(format!(
                    "unknown wait strategy {s:?} (spin, yield, sleep, sleep:<micros>, block)"
                ))),
            },
        }
    }
}

/// What a poll found.
pub enum Poll<T> {
    /// The condition holds.
    Ready(T),
    /// It does not; a change of this sequence (if any) may make it hold.
    Pending(Option<SharedSequence>),
}

/// Polls `poll` for as long as [`wait_until`] spins before it first reads
/// the clock (not at all under the model checker), with a spin hint
/// between polls: for a wait with bookkeeping of its own that needs the
/// time (a multi-producer consumer's unblock deadline), so that a short
/// wait reads no clock there either. `None` if `poll` never found it.
#[inline]
pub fn spin_briefly<T>(mut poll: impl FnMut() -> Option<T>) -> Option<T> {
    for _ in 0..POLLS_PER_CLOCK_READ.min(SPIN_POLLS) {
        crate::sync::spin_loop();
        if let Some(v) = poll() {
            return Some(v);
        }
    }
    None
}

/// Waits until `poll` is ready, following `strategy`, for at most
/// `timeout`. A zero timeout polls once and returns `WouldBlock`.
///
/// A short wait reads no clock: the first read comes [`POLLS_PER_CLOCK_READ`]
/// polls into the wait (a few microseconds of spinning), and the timeout
/// runs from there, so a wait lasts at least `timeout`. `idle` runs once, at
/// that first read: a participant that waits longer than a spin flushes its
/// counters there (`crate::counters`), while one that keeps up and waits for
/// a few polls at a time stores and reads nothing more than its polls.
// SPIN_POLLS is 0 under loom, which makes `polls <= SPIN_POLLS` look odd.
#[cfg_attr(loom, allow(clippy::absurd_extreme_comparisons))]
pub fn wait_until<T>(
    strategy: WaitStrategy,
    timeout: Duration,
    what: &'static str,
    idle: impl FnOnce(),
    mut poll: impl FnMut() -> Poll<T>,
) -> Result<T> {
    let mut target = match poll() {
        Poll::Ready(v) => return Ok(v),
        Poll::Pending(t) => t,
    };
    if timeout.is_zero() {
        return Err(Error::WouldBlock(what));
    }
    let mut idle = Some(idle);
    // The deadline, from the first clock read (which runs `idle`); `None`
    // when `timeout` reaches past what an `Instant` holds.
    let mut first_read = |now: Instant| {
        if let Some(idle) = idle.take() {
            idle();
        }
        now.checked_add(timeout)
    };
    let mut deadline: Option<Option<Instant>> = None;
    let mut polls: u32 = 0;
    loop {
        polls = polls.wrapping_add(1);
        if polls <= SPIN_POLLS || strategy == WaitStrategy::BusySpin {
            crate::sync::spin_loop();
            if polls % POLLS_PER_CLOCK_READ == 0 {
                let now = Instant::now();
                if deadline
                    .get_or_insert_with(|| first_read(now))
                    .is_some_and(|d| now >= d)
                {
                    break;
                }
            }
        } else {
            let now = Instant::now();
            let d = *deadline.get_or_insert_with(|| first_read(now));
            if d.is_some_and(|d| now >= d) {
                break;
            }
            let left = d.map(|d| d.saturating_duration_since(now));
            match strategy {
                WaitStrategy::BusySpin | WaitStrategy::Yield => std::thread::yield_now(),
                WaitStrategy::Sleep(d) => {
                    if polls <= SPIN_POLLS + YIELDS_BEFORE_SLEEP {
                        std::thread::yield_now();
                    } else {
                        std::thread::sleep(left.map_or(d, |l| d.min(l)));
                    }
                }
                WaitStrategy::Blocking => {
                    let slice = left.unwrap_or(MAX_FUTEX_SLICE).min(MAX_FUTEX_SLICE);
                    match target {
                        Some(seq) => {
                            let ready = seq.sleep(slice, || match poll() {
                                Poll::Ready(v) => Recheck::Ready(v),
                                Poll::Pending(Some(t)) if t.same_as(&seq) => Recheck::Sleep,
                                Poll::Pending(_) => Recheck::Elsewhere,
                            });
                            if let Some(v) = ready {
                                return Ok(v);
                            }
                        }
                        None => std::thread::sleep(slice.min(Duration::from_micros(100))),
                    }
                }
            }
        }
        match poll() {
            Poll::Ready(v) => return Ok(v),
            Poll::Pending(t) => target = t,
        }
    }
    Err(Error::Timeout {
        what: Cow::Borrowed(what),
        waited: timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_timeout_polls_once() {
        let mut n = 0;
        let r: Result<()> = wait_until(
            WaitStrategy::BusySpin,
            Duration::ZERO,
            "x",
            || {},
            || {
                n += 1;
                Poll::Pending(None)
            },
        );
        assert!(matches!(r, Err(Error::WouldBlock("x"))));
        assert_eq!(n, 1);
    }

    /// A wait that ends within its first spin reads no clock and does not
    /// run `idle`; one that lasts runs it once.
    #[test]
    fn idle_runs_once_and_only_for_a_wait_past_the_spin() {
        let (mut idles, mut polls) = (0, 0);
        let r = wait_until(
            WaitStrategy::BusySpin,
            Duration::from_secs(5),
            "x",
            || idles += 1,
            || {
                polls += 1;
                if polls == 3 {
                    Poll::Ready(polls)
                } else {
                    Poll::Pending(None)
                }
            },
        );
        assert_eq!((r.unwrap(), idles), (3, 0));
        for s in [WaitStrategy::BusySpin, WaitStrategy::Yield] {
            let mut idles = 0;
            let r: Result<()> = wait_until(
                s,
                Duration::from_millis(5),
                "x",
                || idles += 1,
                || Poll::Pending(None),
            );
            assert!(matches!(r, Err(Error::Timeout { .. })), "{s:?}");
            assert_eq!(idles, 1, "{s:?}");
        }
    }

    #[test]
    fn every_strategy_times_out() {
        for s in [
            WaitStrategy::BusySpin,
            WaitStrategy::Yield,
            WaitStrategy::Sleep(Duration::from_micros(200)),
            WaitStrategy::Blocking,
        ] {
            let t = Instant::now();
            let r: Result<()> = wait_until(
                s,
                Duration::from_millis(20),
                "x",
                || {},
                || Poll::Pending(None),
            );
            assert!(matches!(r, Err(Error::Timeout { .. })), "{s:?}");
            assert!(t.elapsed() >= Duration::from_millis(20));
        }
    }

    #[test]
    fn a_long_sleep_does_not_overshoot_the_timeout() {
        let t = Instant::now();
        let r: Result<()> = wait_until(
            WaitStrategy::Sleep(Duration::from_secs(2)),
            Duration::from_millis(20),
            "x",
            || {},
            || Poll::Pending(None),
        );
        assert!(matches!(r, Err(Error::Timeout { .. })));
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        assert!(WaitStrategy::from_code(2, Duration::from_secs(2)).is_err());
    }

    #[test]
    fn strategies_parse_and_round_trip() {
        for (s, want) in [
            ("spin", WaitStrategy::BusySpin),
            ("yield", WaitStrategy::Yield),
            ("sleep:7", WaitStrategy::Sleep(Duration::from_micros(7))),
            ("block", WaitStrategy::Blocking),
        ] {
            let got = WaitStrategy::parse(s).unwrap();
            assert_eq!(got, want);
            let d = match got {
                WaitStrategy::Sleep(d) => d,
                _ => Duration::ZERO,
            };
            assert_eq!(WaitStrategy::from_code(got.code(), d).unwrap(), got);
        }
        assert!(WaitStrategy::parse("nap").is_err());
        assert!(WaitStrategy::from_code(9, Duration::ZERO).is_err());
    }
}
