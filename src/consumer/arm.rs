//! The pollable wake-up: a consumer's wake-up fd (a datagram socket) and
//! `arm`, the handshake that makes it readable once events past the
//! consumer's position are published (docs/ARCHITECTURE.md, "Wake-ups for
//! event loops").
//!
//! Arming is the sleeper's side of the wake-up handshake with the sleep
//! replaced by a datagram: set this entry's bit in the armed mask of the
//! sequence the consumer waits on and count as a sleeper there, run the
//! sleeper's barrier, and look at the condition once more. A writer that
//! sees sleepers takes the armed bits and sends one datagram per bit.

use super::{Barrier, ConsumerCore};
use crate::error::{Error, Result};
use crate::segment::Segment;
use crate::sequence::SharedSequence;
use crate::sync::{self, fence};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// What [`ConsumerCore::arm`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Armed {
    /// Events are available now: read them (the fd was not armed).
    Available,
    /// Nothing is available; the fd becomes readable when events are.
    Armed,
}

/// A consumer's wake-up fd and where it is armed.
#[derive(Debug)]
pub(super) struct WakeFd {
    #[cfg(not(loom))]
    socket: crate::sys::WakeSocket,
    token: u64,
    /// The sequence this entry's bit is set on, while armed.
    armed_on: Option<SharedSequence>,
}

impl ConsumerCore {
    /// The wake-up fd, made (bound) on first use; it lives as long as the
    /// consumer.
    #[cfg(not(loom))]
    pub fn wait_fd(&mut self, segment: &Segment) -> Result<std::os::fd::RawFd> {
        Ok(self.wake_fd(segment)?.socket.raw_fd())
    }

    /// Under the model checker there are no sockets (the doorbell of
    /// src/sync.rs stands in for the fd).
    #[cfg(loom)]
    pub fn wait_fd(&mut self, _segment: &Segment) -> Result<std::os::fd::RawFd> {
        Err(Error::Unsupported("no wake-up fd under loom".into()))
    }

    fn wake_fd(&mut self, segment: &Segment) -> Result<&mut WakeFd> {
        if self.wake.is_none() {
            #[cfg(not(loom))]
            let (socket, token) = {
                let ring = segment.wake();
                let fail = |(op, e)| Error::Io {
                    op,
                    path: ring.dir().to_path_buf(),
                    source: e,
                };
                let meta = segment
                    .file()
                    .metadata()
                    .map_err(|e| Error::io("stat", segment.path(), e))?;
                let socket = crate::sys::WakeSocket::bind(ring, &meta, self.index).map_err(fail)?;
                (socket, ring.token())
            };
            #[cfg(loom)]
            let token = {
                let _ = segment;
                1
            };
            self.wake = Some(WakeFd {
                #[cfg(not(loom))]
                socket,
                token,
                armed_on: None,
            });
        }
        Ok(self.wake.as_mut().expect("made above"))
    }

    /// Arms the wake-up fd: returns `Available` at once when events past
    /// the committed sequence are there; otherwise arms, looks again, and
    /// returns `Armed` (the fd becomes readable once events are published)
    /// or `Available` (they came meanwhile; the arming is withdrawn).
    /// Queued wake-ups are drained before the fd is armed, so readability
    /// means this arming; with events there, nothing is drained (no system
    /// call: a busy consumer arming before each batch pays a load).
    pub fn arm(&mut self, segment: &Segment) -> Result<Armed> {
        let index = self.index;
        let wake = self.wake_fd(segment)?;
        let token = wake.token;
        let previous = wake.armed_on.take();
        if let Some(seq) = previous {
            disarm(seq, index);
        }
        if self.available_now(segment)? {
            return Ok(Armed::Available);
        }
        #[cfg(not(loom))]
        self.wake.as_ref().expect("made above").socket.drain();
        loop {
            if self.available_now(segment)? {
                return Ok(Armed::Available);
            }
            let target = self.arm_target();
            let bit = 1u64 << index;
            target.wake_token().store(token, Ordering::Relaxed);
            if target.armed().fetch_or(bit, Ordering::SeqCst) & bit == 0 {
                target.waiters().fetch_add(1, Ordering::SeqCst);
            }
            // The sleeper's barrier (see `SharedSequence::sleep`): after it
            // a light writer's store is visible below, or its later load of
            // the sleeper count sees this arming.
            let _ = sync::barrier_all(target.value());
            fence(Ordering::SeqCst);
            if self.available_now(segment)? {
                disarm(target, index);
                return Ok(Armed::Available);
            }
            // A dependent consumer whose slowest dependency changed meanwhile
            // would wait on the wrong sequence: arm on the new one.
            if !self.arm_target().same_as(&target) {
                disarm(target, index);
                continue;
            }
            self.wake.as_mut().expect("made above").armed_on = Some(target);
            return Ok(Armed::Armed);
        }
    }

    /// Whether the next event is available, without waiting.
    fn available_now(&mut self, segment: &Segment) -> Result<bool> {
        let next = self.committed + 1;
        match self.wait_for(|| segment, next, Duration::ZERO) {
            Ok(_) => Ok(true),
            Err(Error::WouldBlock(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The sequence whose change may make the next event available.
    fn arm_target(&self) -> SharedSequence {
        match &self.barrier {
            Barrier::Cursor(cursor) => *cursor,
            Barrier::Stamps(notice) => *notice,
            Barrier::Dependencies(mask) => match self.dependencies_minimum(*mask).1 {
                Some(i) => self.tables.consumer_sequence(i),
                None => self.tables.cursor(),
            },
        }
    }

    /// Withdraws a pending arming (the consumer leaves).
    pub(super) fn disarm_wake_fd(&mut self) {
        let index = self.index;
        if let Some(seq) = self.wake.as_mut().and_then(|w| w.armed_on.take()) {
            disarm(seq, index);
        }
    }
}

/// Clears entry `index`'s bit on `seq`, and its count as a sleeper if the
/// bit was still set (a writer that took it uncounted it already).
fn disarm(seq: SharedSequence, index: u32) {
    let bit = 1u64 << index;
    if seq.armed().fetch_and(!bit, Ordering::SeqCst) & bit != 0 {
        seq.waiters().fetch_sub(1, Ordering::SeqCst);
    }
}
