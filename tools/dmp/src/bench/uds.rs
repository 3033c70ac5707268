//! The worker loops over a Unix domain stream socket (what people use
//! otherwise): throughput, batched or one event per write, and the two
//! sides of the socket ping-pong.

use super::args::WorkerArgs;
use super::payload::{check, write_event, Size};
use super::pingpong::{histogram, report_latency};
use super::worker::{nanos, ready, report, stalled, Receipt};
use super::{BoxResult, STALL};
use std::error::Error;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

/// Binds the socket, reports ready, accepts one connection (bounded wait)
/// and removes the socket's name, which is no longer needed.
fn uds_accept(path: &str) -> BoxResult<UnixStream> {
    let listener = UnixListener::bind(path).map_err(|e| format!("binding {path}: {e}"))?;
    listener.set_nonblocking(true)?;
    ready()?;
    let start = Instant::now();
    let stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if start.elapsed() > STALL {
                    return Err(stalled("a connection"));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e.into()),
        }
    };
    let _ = std::fs::remove_file(path);
    uds_configure(stream)
}

fn uds_connect(path: &str) -> BoxResult<UnixStream> {
    let stream = UnixStream::connect(path).map_err(|e| format!("connecting to {path}: {e}"))?;
    ready()?;
    uds_configure(stream)
}

fn uds_configure(stream: UnixStream) -> BoxResult<UnixStream> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(STALL))?;
    stream.set_write_timeout(Some(STALL))?;
    Ok(stream)
}

fn io_context(what: &'static str) -> impl Fn(std::io::Error) -> Box<dyn Error> {
    move |e| {
        if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
            stalled(what)
        } else {
            format!("{what}: {e}").into()
        }
    }
}

pub(super) fn uds_producer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let n_bytes = size.get();
    let mut s = uds_connect(&a.name)?;
    let batch = a.batch.max(1);
    let mut buf = vec![0u8; batch as usize * n_bytes];
    let start = Instant::now();
    let mut i = 0u64;
    while i < a.events {
        let n = batch.min(a.events - i);
        for (k, chunk) in buf.chunks_exact_mut(n_bytes).take(n as usize).enumerate() {
            write_event(chunk, size, i + k as u64)?;
        }
        s.write_all(&buf[..n as usize * n_bytes])
            .map_err(io_context("writing"))?;
        i += n;
    }
    s.shutdown(std::net::Shutdown::Write)?;
    report(&[
        ("events", a.events as f64),
        ("span_ns", nanos(start.elapsed())),
    ])
}

pub(super) fn uds_consumer<S: Size>(a: &WorkerArgs, size: S) -> BoxResult<()> {
    let n_bytes = size.get();
    let mut s = uds_accept(&a.name)?;
    let mut buf = vec![0u8; (256 * 1024 / n_bytes).max(1) * n_bytes];
    let mut filled = 0usize;
    let mut i = 0u64;
    let mut receipt = Receipt::new();
    while i < a.events {
        let got = s.read(&mut buf[filled..]).map_err(io_context("reading"))?;
        if got == 0 {
            return Err(format!("connection closed after {i} of {} events", a.events).into());
        }
        filled += got;
        let whole = filled / n_bytes;
        if whole == 0 {
            continue;
        }
        if i + whole as u64 > a.events {
            return Err(format!("received more than the {} events sent", a.events).into());
        }
        receipt.batch(whole as u64);
        for rec in buf[..whole * n_bytes].chunks_exact(n_bytes) {
            check(rec, size, i)?;
            i += 1;
        }
        buf.copy_within(whole * n_bytes..filled, 0);
        filled -= whole * n_bytes;
    }
    if filled != 0 || s.read(&mut buf).map_err(io_context("reading"))? != 0 {
        return Err(format!("received more than the {} events sent", a.events).into());
    }
    receipt.report(a.events)
}

pub(super) fn uds_ping(a: &WorkerArgs) -> BoxResult<()> {
    let mut s = uds_connect(&a.name)?;
    let gap = Duration::from_micros(a.gap_us);
    let mut hist = histogram()?;
    let mut back = [0u8; 8];
    for i in 0..a.warmup + a.events {
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
        let t = Instant::now();
        s.write_all(&i.to_le_bytes())
            .map_err(io_context("writing"))?;
        s.read_exact(&mut back).map_err(io_context("the echo"))?;
        let rtt = t.elapsed();
        if u64::from_le_bytes(back) != i {
            return Err(
                format!("round trip {i}: echo carried {}", u64::from_le_bytes(back)).into(),
            );
        }
        if i >= a.warmup {
            hist.saturating_record(rtt.as_nanos() as u64);
        }
    }
    report_latency(&hist)
}

pub(super) fn uds_echo(a: &WorkerArgs) -> BoxResult<()> {
    let mut s = uds_accept(&a.name)?;
    let mut msg = [0u8; 8];
    for i in 0..a.warmup + a.events {
        s.read_exact(&mut msg).map_err(io_context("a ping"))?;
        s.write_all(&msg).map_err(io_context("writing"))?;
        if u64::from_le_bytes(msg) != i {
            return Err(format!("round trip {i}: ping carried {}", u64::from_le_bytes(msg)).into());
        }
    }
    report(&[("events", (a.warmup + a.events) as f64)])
}
