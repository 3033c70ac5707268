//! A consumer's wake-up fd for event loops (epoll, poll, tokio, asyncio):
//! `wait_fd` and `arm` (docs/ARCHITECTURE.md, "Wake-ups for event loops").

use super::Consumer;
use crate::consumer::Armed;
use crate::error::Result;

impl Consumer {
    /// The consumer's wake-up file descriptor: non-blocking, close-on-exec,
    /// owned by this consumer (do not close it). It becomes readable after
    /// [`Consumer::arm`] returned `Armed` and events past the consumer's
    /// position were published. Made on first call; the same fd after.
    pub fn wait_fd(&mut self) -> Result<std::os::fd::RawFd> {
        self.core.wait_fd(&self.shared.segment)
    }

    /// Arms the wake-up fd, or returns `Available` at once when events are
    /// there already (read them, then arm again). One wake-up per arming,
    /// however many events are published; never a lost one: after `Armed`
    /// the fd becomes readable once anything past the consumer's position
    /// is published. Spurious readability is possible (a publish racing
    /// the arming): arm again, which says `Available` then.
    pub fn arm(&mut self) -> Result<Armed> {
        self.core.arm(&self.shared.segment)
    }
}
