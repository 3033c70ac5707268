//! An async consumer of a disruptor-mp ring on tokio: the consumer's
//! wake-up fd (`Consumer::wait_fd`) registered with tokio's reactor
//! through `AsyncFd`, armed with `Consumer::arm` before each wait
//! (docs/ARCHITECTURE.md, "Wake-ups for event loops").
//!
//! ```no_run
//! # async fn f(consumer: disruptor_mp::Consumer) -> disruptor_mp::Result<()> {
//! let mut c = dmp_async::AsyncConsumer::new(consumer)?;
//! loop {
//!     let batch = c.next_batch().await?;
//!     for seq in batch.clone() {
//!         let _payload = c.consumer().slot(seq)?;
//!     }
//!     c.consumer().commit(*batch.end())?;
//! }
//! # }
//! ```

use disruptor_mp::{Armed, Consumer, Error, Result};
use std::ops::RangeInclusive;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Longest wait before arming again: a producer that died between taking
/// the arming and sending its datagram leaves the fd quiet.
pub const REARM_AFTER: Duration = Duration::from_millis(50);

/// Polls of the ring before [`AsyncConsumer::next_batch`] arms the fd (the
/// blocking strategy's spin, `disruptor_mp`'s `SPIN_POLLS`).
pub const SPIN_POLLS: u32 = 256;

/// The wake-up fd, borrowed from the consumer that owns it.
struct WakeFd(RawFd);

impl AsRawFd for WakeFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// A consumer whose waits are futures. Dropped, it gives the consumer's
/// fd back to nobody: the consumer still owns (and closes) it.
pub struct AsyncConsumer {
    // Declared first: deregistered from the reactor before the consumer
    // (which closes the fd) is dropped.
    fd: AsyncFd<WakeFd>,
    consumer: Consumer,
    wakeups: u64,
}

impl AsyncConsumer {
    /// Registers `consumer`'s wake-up fd with the current tokio runtime
    /// (call it inside one).
    pub fn new(mut consumer: Consumer) -> Result<AsyncConsumer> {
        let raw = consumer.wait_fd()?;
        // SAFETY: the consumer owns the fd and closes it only when it is
        // dropped, after `fd` (field order, and `into_inner`).
        let fd = unsafe { AsyncFd::register_with_interest(WakeFd(raw), Interest::READABLE) }
            .map_err(|e| Error::Unsupported(format!("register the wake-up fd with tokio: {e}")))?;
        Ok(AsyncConsumer {
            fd,
            consumer,
            wakeups: 0,
        })
    }

    /// The consumer, to read slots and commit.
    pub fn consumer(&mut self) -> &mut Consumer {
        &mut self.consumer
    }

    /// Times the fd was readable (wake-ups received).
    pub fn wakeups(&self) -> u64 {
        self.wakeups
    }

    /// Waits, without blocking the thread, until events past the consumer's
    /// position are available; returns their sequences (read them, then
    /// commit the last one before the next call).
    ///
    /// Before it arms the fd it polls the ring [`SPIN_POLLS`] times (a few
    /// microseconds, as the blocking strategy spins before it sleeps): a
    /// busy producer's next events come sooner than an arming, the
    /// producer's datagram and the reactor's wake-up would take.
    pub async fn next_batch(&mut self) -> Result<RangeInclusive<i64>> {
        loop {
            let next = self.consumer.next_sequence();
            for _ in 0..SPIN_POLLS {
                match self.consumer.try_wait_for(next) {
                    Ok(hi) => return Ok(next..=hi),
                    Err(Error::WouldBlock(_)) => std::hint::spin_loop(),
                    Err(e) => return Err(e),
                }
            }
            if self.consumer.arm()? == Armed::Available {
                let next = self.consumer.next_sequence();
                let hi = self.consumer.try_wait_for(next)?;
                return Ok(next..=hi);
            }
            if let Ok(ready) = tokio::time::timeout(REARM_AFTER, self.fd.readable()).await {
                let mut guard = ready
                    .map_err(|e| Error::Unsupported(format!("wait for the wake-up fd: {e}")))?;
                self.wakeups += 1;
                // The next arm drains the socket; tokio must poll it again.
                guard.clear_ready();
            }
        }
    }

    /// Gives the consumer back.
    pub fn into_inner(self) -> Consumer {
        let AsyncConsumer { fd, consumer, .. } = self;
        drop(fd);
        consumer
    }
}
