//! The wake-up fd rows (issue 17's performance section), worker side and
//! rows: how a ring worker's consumer obtains its wake-up fd and waits on
//! it (`arm`, then `poll(2)`, bounded), the tokio consumer's throughput
//! loop (`dmp_async::AsyncConsumer::next_batch`), and the throughput rows
//! that compare it with a blocking-strategy consumer of the same ring.
//!
//! The other wake-fd rows reuse other workloads' code: the paced round
//! trip is a ring ping-pong (`pingpong.rs`, `ring.rs`) whose two
//! consumers wait here with `--wake-fd poll`; the publisher's cost with an
//! fd obtained but never armed is a pair of one-event styles
//! (`one/style.rs`) whose consumers run with `--wake-fd bound`.

use super::args::{WakeMode, WorkerArgs};
use super::payload::Size;
use super::ring::{bench_consumer, check_batch, open_throughput_ring};
use super::throughput::{TpSpec, Transport};
use super::worker::{ready, stalled, waiting, Receipt};
use super::{BoxResult, STALL};
use disruptor_mp::{Armed, Consumer};
use dmp_async::{AsyncConsumer, REARM_AFTER};
use std::time::Instant;

/// With `--wake-fd bound` or `poll`: obtains the consumer's wake-up fd
/// (binds its socket), before the worker reports ready.
pub(super) fn obtain_wake_fd(c: &mut Consumer, mode: WakeMode) -> BoxResult<()> {
    if mode != WakeMode::Off {
        c.wait_fd()
            .map_err(|e| format!("obtaining the wake-up fd: {e}"))?;
    }
    Ok(())
}

/// Waits for event `seq` and returns the highest available sequence: with
/// the consumer's strategy, or with `--wake-fd poll` on its wake-up fd.
#[inline(always)]
pub(super) fn wait_next(
    c: &mut Consumer,
    seq: i64,
    mode: WakeMode,
    what: &'static str,
) -> BoxResult<i64> {
    match mode {
        WakeMode::Poll => poll_wait(c, seq, what),
        WakeMode::Off | WakeMode::Bound => c.wait_for(seq, STALL).map_err(waiting(what)),
    }
}

/// The event-loop consumer's wait, with `poll(2)` for the loop: arm; if
/// `Armed`, poll the fd (at most [`REARM_AFTER`] at a time, as an event
/// loop bounds its wait against a producer that died mid-notify) and arm
/// again, which drains the datagram and reports `Available`. Gives up
/// after [`STALL`] without the event.
fn poll_wait(c: &mut Consumer, seq: i64, what: &'static str) -> BoxResult<i64> {
    let fd = c.wait_fd().map_err(waiting(what))?;
    let start = Instant::now();
    loop {
        if c.arm().map_err(waiting(what))? == Armed::Available {
            return c.try_wait_for(seq).map_err(waiting(what));
        }
        let left = STALL
            .checked_sub(start.elapsed())
            .ok_or_else(|| stalled(what))?;
        let timeout_ms = left.min(REARM_AFTER).as_millis().max(1) as libc::c_int;
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid pollfd on this stack frame, and `fd`
        // is the consumer's wake-up socket, open while `c` lives.
        let r = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(format!("polling the wake-up fd for {what}: {e}").into());
            }
        }
    }
}

/// The tokio consumer of the throughput rows: a current-thread runtime,
/// the consumer's fd registered through `AsyncConsumer`, every batch from
/// `next_batch().await` (bounded by [`STALL`]) checked and committed as the
/// blocking consumer checks and commits its batches.
pub(super) fn async_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let ring = open_throughput_ring(a, size.get())?;
    let c = bench_consumer(&ring, a)?;
    let packed = ring.is_packed();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    rt.block_on(async_loop(a, size, c, packed))
}

async fn async_loop<S: Size>(a: &WorkerArgs, size: S, c: Consumer, packed: bool) -> BoxResult<()> {
    let mut ac = AsyncConsumer::new(c).map_err(|e| format!("registering with tokio: {e}"))?;
    ready()?;
    let base = ac.consumer().next_sequence();
    let last = base + a.events as i64 - 1;
    let mut next = base;
    let mut receipt = Receipt::new();
    while next <= last {
        let batch = tokio::time::timeout(STALL, ac.next_batch())
            .await
            .map_err(|_| stalled("events"))?
            .map_err(waiting("events"))?;
        if *batch.start() != next {
            return Err(format!("a batch began at {} instead of {next}", batch.start()).into());
        }
        let available = *batch.end();
        receipt.batch((available - next + 1) as u64);
        check_batch(ac.consumer(), size, packed, (base, last), next, available)?;
        next = available + 1;
    }
    receipt.report(a.events)
}

/// The tokio consumer's rows and the blocking consumer's they are compared
/// with, 8- and 64-byte events: the same ring (default options: stamped,
/// wake-ups on), the same blocking-strategy producer publishing batches
/// as fast as it can; only the consumer differs.
pub(super) fn wake_tp_specs() -> Vec<TpSpec> {
    let mut specs = Vec::new();
    for size in [8usize, 64] {
        for (transport, label, key) in [
            (
                Transport::DmpBlockingConsumer,
                "dmp ring, blocking consumer",
                BLOCKING_KEY,
            ),
            (
                Transport::DmpAsyncConsumer,
                "dmp ring, tokio consumer (dmp-async)",
                ASYNC_KEY,
            ),
        ] {
            specs.push(TpSpec {
                size,
                transport,
                one_per_write: false,
                label,
                key,
            });
        }
    }
    specs
}

/// The JSON keys of the two consumers' rows.
pub(super) const BLOCKING_KEY: &str = "dmp_blocking_consumer";
pub(super) const ASYNC_KEY: &str = "dmp_tokio_consumer";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::args::{Role, Strategy};
    use crate::bench::cleanup::{unique, Cleanup};
    use crate::bench::one::OneStyle;
    use crate::bench::payload::Fixed;
    use crate::bench::ring::{ring_echo, ring_ping, ring_producer};
    use disruptor_mp::RingOptions;
    use std::sync::Arc;

    fn args(name: &str, back: Option<&str>, events: u64, mode: WakeMode) -> WorkerArgs {
        WorkerArgs {
            role: Role::RingConsumer,
            name: name.into(),
            back: back.map(Into::into),
            events,
            warmup: 0,
            size: 8,
            batch: 7,
            capacity: 16,
            strategy: Strategy::Block,
            gap_us: 0,
            cpu: None,
            producers: 0,
            producer_id: 0,
            go: false,
            optional: false,
            style: OneStyle::RustApi,
            work: 0,
            wake_fd: mode,
        }
    }

    /// Runs `first` (registered consumer side) on a thread, then `second`
    /// here; both must succeed.
    fn pair(
        a: WorkerArgs,
        first: fn(&WorkerArgs) -> BoxResult<()>,
        second: fn(&WorkerArgs) -> BoxResult<()>,
    ) {
        let a = Arc::new(a);
        let t = {
            let a = a.clone();
            std::thread::spawn(move || first(&a).map_err(|e| e.to_string()))
        };
        // The first side registers its consumer before the second starts
        // (as the parent waits for its "ready").
        std::thread::sleep(std::time::Duration::from_millis(200));
        second(&a).unwrap();
        t.join().unwrap().unwrap();
    }

    fn ring(cleanup: &mut Cleanup, tag: &str) -> String {
        let name = unique(tag);
        cleanup
            .ring(&name, &RingOptions::new().capacity(16).slot_size(8))
            .unwrap();
        name
    }

    #[test]
    fn a_tokio_consumer_checks_every_event_of_a_wrapping_ring() {
        let mut cleanup = Cleanup::default();
        let name = ring(&mut cleanup, "bench-wake-test");
        pair(
            args(&name, None, 20_000, WakeMode::Off),
            |a| async_consumer(a, Fixed::<8>),
            |a| ring_producer(a, Fixed::<8>),
        );
    }

    #[test]
    fn a_ping_pong_waiting_on_wake_up_fds_carries_every_round_trip() {
        let mut cleanup = Cleanup::default();
        let (to_echo, to_ping) = (
            ring(&mut cleanup, "bench-wake-ping"),
            ring(&mut cleanup, "bench-wake-pong"),
        );
        let mut a = args(&to_echo, Some(&to_ping), 200, WakeMode::Poll);
        a.gap_us = 200;
        pair(a, ring_echo, ring_ping);
    }
}
