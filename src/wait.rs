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

/// Waits until `poll` is ready, following `strategy`, for at most
/// `timeout`. A zero timeout polls once and returns `WouldBlock`.
// SPIN_POLLS is 0 under loom, which makes `polls <= SPIN_POLLS` look odd.
#[cfg_attr(loom, allow(clippy::absurd_extreme_comparisons))]
pub fn wait_until<T>(
    strategy: WaitStrategy,
    timeout: Duration,
    what: &'static str,
    mut poll: impl FnMut() -> Poll<T>,
) -> Result<T> {
    let mut target = match poll() {
        Poll::Ready(v) => return Ok(v),
        Poll::Pending(t) => t,
    };
    if timeout.is_zero() {
        return Err(Error::WouldBlock(what));
    }
    let start = Instant::now();
    let deadline = start.checked_add(timeout);
    let expired = |now: Instant| deadline.is_some_and(|d| now >= d);
    let mut polls: u32 = 0;
    loop {
        polls = polls.wrapping_add(1);
        if polls <= SPIN_POLLS || strategy == WaitStrategy::BusySpin {
            crate::sync::spin_loop();
            if polls % POLLS_PER_CLOCK_READ == 0 && expired(Instant::now()) {
                break;
            }
        } else {
            let now = Instant::now();
            if expired(now) {
                break;
            }
            match strategy {
                WaitStrategy::BusySpin | WaitStrategy::Yield => std::thread::yield_now(),
                WaitStrategy::Sleep(d) => {
                    if polls <= SPIN_POLLS + YIELDS_BEFORE_SLEEP {
                        std::thread::yield_now();
                    } else {
                        let left = deadline.map_or(d, |t| t.saturating_duration_since(now));
                        std::thread::sleep(d.min(left));
                    }
                }
                WaitStrategy::Blocking => {
                    let slice = deadline
                        .map(|d| d.saturating_duration_since(now))
                        .unwrap_or(MAX_FUTEX_SLICE)
                        .min(MAX_FUTEX_SLICE);
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
        let r: Result<()> = wait_until(WaitStrategy::BusySpin, Duration::ZERO, "x", || {
            n += 1;
            Poll::Pending(None)
        });
        assert!(matches!(r, Err(Error::WouldBlock("x"))));
        assert_eq!(n, 1);
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
            let r: Result<()> =
                wait_until(s, Duration::from_millis(20), "x", || Poll::Pending(None));
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
