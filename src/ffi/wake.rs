//! `dmp_consumer_wait_fd` and `dmp_consumer_arm`: a consumer's wake-up fd
//! for event loops (epoll, poll, libuv; docs/C_API.md).

use super::boundary::{boundary_on, out_ptr};
use super::consumer::dmp_consumer;
use super::handle::live_mut;
use crate::consumer::Armed;
use crate::error::Error;

/// `*out_fd` receives the consumer's wake-up file descriptor:
/// non-blocking, close-on-exec, owned by the consumer (do not close it; it
/// closes with `dmp_consumer_close`). Add it to epoll or poll for reading;
/// it becomes readable after `dmp_consumer_arm` returned
/// `DMP_STATUS_WOULD_BLOCK` and events past the consumer's position are
/// published. The same fd on every call.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_consumer_wait_fd(consumer: *mut dmp_consumer, out_fd: *mut i32) -> i32 {
    boundary_on(consumer, || {
        let c = live_mut(consumer)?;
        *out_ptr(out_fd, "out_fd")? = c.wait_fd()?;
        Ok(())
    })
}

/// Arms the wake-up fd. `DMP_STATUS_OK`: events are available now (the fd
/// is not armed): read them, commit, and arm again. `DMP_STATUS_WOULD_BLOCK`:
/// armed; wait for the fd to become readable, then arm again (which
/// drains it). One wake-up per arming, however many events arrive; never
/// a lost one. Never blocks.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_consumer_arm(consumer: *mut dmp_consumer) -> i32 {
    boundary_on(consumer, || match live_mut(consumer)?.arm()? {
        Armed::Available => Ok(()),
        Armed::Armed => Err(Error::WouldBlock("armed: wait for the wake-up fd")),
    })
}
