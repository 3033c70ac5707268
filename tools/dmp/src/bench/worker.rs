//! The `bench-worker` protocol, both ends: the parent starts a worker
//! process per side of a workload (this executable, re-run with the
//! hidden subcommand), waits for its `ready` line, may tell it `go`, and
//! reads its `result k=v ...` line; the worker attaches, says ready, runs
//! its role's loop and reports.

use super::args::{Role, WorkerArgs};
use super::floor::{floor_consumer, floor_echo, floor_ping, floor_producer};
use super::multi::Placement;
use super::one::{one_consumer, one_floor_consumer, one_floor_producer, one_producer};
use super::payload::with_event_size;
use super::ring::{ring_consumer, ring_echo, ring_ping, ring_producer};
use super::uds::{uds_consumer, uds_echo, uds_ping, uds_producer};
use super::wake_fd::async_consumer;
use super::{BoxResult, Plan, STALL};
use crate::CmdResult;
use disruptor_mp::internals::pin_to_cpu;
use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

// The worker's side: attached, started, finished.

/// Tells the parent this worker is attached and waiting.
pub(super) fn ready() -> BoxResult<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    Ok(())
}

/// With `--go`: waits for the parent's go line (sent once every worker of
/// the workload is ready).
pub(super) fn await_go(a: &WorkerArgs) -> BoxResult<()> {
    if a.go {
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            return Err("the parent closed stdin before saying go".into());
        }
    }
    Ok(())
}

/// Reports the worker's figures to the parent: `result k=v k=v ...`.
pub(super) fn report(fields: &[(&str, f64)]) -> BoxResult<()> {
    let mut line = String::from("result");
    for (k, v) in fields {
        line.push_str(&format!(" {k}={v}"));
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

/// Spins (`pause`) until `ready` yields a value, for at most [`STALL`]
/// without one. The clock is read only every 1024 polls, so a short wait
/// costs no clock read.
#[inline(always)]
pub(super) fn spin_until<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> BoxResult<T> {
    let mut polls: u32 = 0;
    let mut since: Option<Instant> = None;
    loop {
        if let Some(v) = ready() {
            return Ok(v);
        }
        std::hint::spin_loop();
        polls = polls.wrapping_add(1);
        if polls % 1024 == 0 {
            let now = Instant::now();
            if now.duration_since(*since.get_or_insert(now)) > STALL {
                return Err(stalled(what));
            }
        }
    }
}

#[cold]
pub(super) fn stalled(what: &str) -> Box<dyn Error> {
    format!("no progress for {} s waiting for {what}", STALL.as_secs()).into()
}

/// Wraps a library wait error with the worker's context.
pub(super) fn waiting(what: &'static str) -> impl Fn(disruptor_mp::Error) -> Box<dyn Error> {
    move |e| format!("waiting for {what}: {e}").into()
}

pub(super) fn nanos(d: Duration) -> f64 {
    d.as_nanos() as f64
}

/// Runs one side of a workload (the hidden `bench-worker` subcommand).
pub fn worker(a: &WorkerArgs) -> CmdResult {
    if let Some(cpu) = a.cpu {
        if let Err(e) = pin_to_cpu(cpu) {
            eprintln!(
                "bench-worker {}: cannot pin to CPU {cpu} ({e}); running unpinned",
                a.role.as_str()
            );
        }
    }
    if a.events == 0 {
        return Err(format!("{}: --events must be at least 1", a.role.as_str()).into());
    }
    let r = match a.role {
        Role::RingProducer => with_event_size!(a.size, ring_producer(a)),
        Role::RingConsumer => with_event_size!(a.size, ring_consumer(a)),
        Role::FloorProducer => with_event_size!(a.size, floor_producer(a)),
        Role::FloorConsumer => with_event_size!(a.size, floor_consumer(a)),
        Role::UdsProducer => with_event_size!(a.size, uds_producer(a)),
        Role::UdsConsumer => with_event_size!(a.size, uds_consumer(a)),
        Role::RingPing => ring_ping(a),
        Role::RingEcho => ring_echo(a),
        Role::FloorPing => floor_ping(a),
        Role::FloorEcho => floor_echo(a),
        Role::UdsPing => uds_ping(a),
        Role::UdsEcho => uds_echo(a),
        Role::OneProducer => with_event_size!(a.size, one_producer(a)),
        Role::OneConsumer => with_event_size!(a.size, one_consumer(a)),
        Role::OneFloorProducer => with_event_size!(a.size, one_floor_producer(a)),
        Role::OneFloorConsumer => with_event_size!(a.size, one_floor_consumer(a)),
        Role::AsyncConsumer => with_event_size!(a.size, async_consumer(a)),
    };
    r.map_err(|e| format!("bench-worker {}: {e}", a.role.as_str()).into())
}

/// Consumer-side bookkeeping of a throughput run: the rate is measured from
/// the first batch received to the last event, over the events after the
/// first batch, so process start-up is not counted.
pub(super) struct Receipt {
    first_batch: u64,
    first_at: Option<Instant>,
    batches: u64,
}

impl Receipt {
    pub(super) fn new() -> Receipt {
        Receipt {
            first_batch: 0,
            first_at: None,
            batches: 0,
        }
    }

    #[inline(always)]
    pub(super) fn batch(&mut self, n: u64) {
        self.batches += 1;
        if self.first_at.is_none() {
            self.first_at = Some(Instant::now());
            self.first_batch = n;
        }
    }

    pub(super) fn report(&self, events: u64) -> BoxResult<()> {
        let span = self.first_at.map(|t| t.elapsed()).unwrap_or_default();
        report(&[
            ("events", events as f64),
            ("first_batch", self.first_batch as f64),
            ("span_ns", nanos(span)),
            ("batches", self.batches as f64),
        ])
    }
}

// The parent's side: starting workers and reading what they say.

/// A running worker process. Dropping it before `finish` kills it.
struct Worker {
    role: Role,
    child: Child,
    out: BufReader<ChildStdout>,
    /// The worker's stdin, when it waits for a go line (`--go`).
    go: Option<ChildStdin>,
    finished: bool,
}

/// What a worker reported.
pub(crate) struct Fields(Vec<(String, f64)>);

impl Fields {
    pub(super) fn get(&self, key: &str) -> BoxResult<f64> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("worker did not report {key}").into())
    }
}

impl Worker {
    fn spawn(role: Role, cpu: usize, args: &[String]) -> BoxResult<Worker> {
        Worker::start(role, Some(cpu), false, args)
    }

    /// Starts a worker pinned to `cpu` (or left to the scheduler); with
    /// `go`, it waits for [`Worker::go`] after reporting ready.
    fn start(role: Role, cpu: Option<usize>, go: bool, args: &[String]) -> BoxResult<Worker> {
        let exe = std::env::current_exe()?;
        let mut cmd = Command::new(exe);
        cmd.arg("bench-worker").args(["--role", role.as_str()]);
        if let Some(cpu) = cpu {
            cmd.args(["--cpu", &cpu.to_string()]);
        }
        if go {
            cmd.arg("--go");
        }
        let mut child = cmd
            .args(args)
            .stdin(if go { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {} worker: {e}", role.as_str()))?;
        let go = child.stdin.take();
        let Some(out) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("worker stdout not captured".into());
        };
        Ok(Worker {
            role,
            child,
            out: BufReader::new(out),
            go,
            finished: false,
        })
    }

    /// Tells a worker started with `go` to start.
    fn go(&mut self) -> BoxResult<()> {
        let Some(mut stdin) = self.go.take() else {
            return Err(format!("{} worker does not wait for go", self.role.as_str()).into());
        };
        writeln!(stdin, "go").map_err(|e| format!("{} worker: {e}", self.role.as_str()))?;
        Ok(())
    }

    fn read_line(&mut self) -> BoxResult<Option<String>> {
        let mut line = String::new();
        if self.out.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(line.trim_end().to_string()))
    }

    /// Blocks until the worker reports that it is attached.
    fn ready(&mut self) -> BoxResult<()> {
        match self.read_line()? {
            Some(l) if l == "ready" => Ok(()),
            Some(l) => Err(format!("{} worker said {l:?}", self.role.as_str()).into()),
            None => Err(self.failed()),
        }
    }

    #[cold]
    fn failed(&mut self) -> Box<dyn Error> {
        self.finished = true;
        match self.child.wait() {
            Ok(s) => format!("{} worker failed ({s})", self.role.as_str()).into(),
            Err(e) => format!("{} worker: {e}", self.role.as_str()).into(),
        }
    }

    /// Waits for the worker to exit and returns its result line.
    fn finish(mut self) -> BoxResult<Fields> {
        let mut result = None;
        while let Some(line) = self.read_line()? {
            if let Some(rest) = line.strip_prefix("result") {
                let mut fields = Vec::new();
                for kv in rest.split_whitespace() {
                    let (k, v) = kv.split_once('=').ok_or("malformed worker result")?;
                    fields.push((k.to_string(), v.parse::<f64>()?));
                }
                result = Some(Fields(fields));
            }
        }
        self.finished = true;
        let status = self.child.wait()?;
        if !status.success() {
            return Err(format!("{} worker failed ({status})", self.role.as_str()).into());
        }
        result.ok_or_else(|| format!("{} worker reported nothing", self.role.as_str()).into())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs a workload: `first` (the consumer or echo side) is started and
/// attached before `second` (the producer or pinging side). The parent
/// only blocks on the workers' pipes and exits.
pub(super) fn run_pair(
    plan: &Plan,
    first: Role,
    second: Role,
    args: &[String],
) -> BoxResult<(Fields, Fields)> {
    let mut a = Worker::spawn(first, plan.consumer_cpu, args)?;
    a.ready()?;
    let b = Worker::spawn(second, plan.producer_cpu, args)?;
    // If the second side fails, dropping `a` kills the first.
    let fb = b.finish()?;
    let fa = a.finish()?;
    Ok((fa, fb))
}

/// Runs a throughput workload with several producers: the consumer is
/// started and attached first, then every producer; once all are attached
/// they are told to start together. Returns the consumer's and each
/// producer's report.
pub(super) fn run_group(
    placement: &Placement,
    consumer: Role,
    producer: Role,
    args: &[String],
) -> BoxResult<(Fields, Vec<Fields>)> {
    let mut c = Worker::start(consumer, placement.consumer, false, args)?;
    c.ready()?;
    let mut producers = Vec::new();
    for (id, cpu) in placement.producers.iter().enumerate() {
        let mut args = args.to_vec();
        args.extend(["--producer-id".into(), id.to_string()]);
        let mut p = Worker::start(producer, *cpu, true, &args)?;
        p.ready()?;
        producers.push(p);
    }
    // Dropping the workers on an error kills every one still running.
    for p in &mut producers {
        p.go()?;
    }
    let mut reports = Vec::new();
    for p in producers {
        reports.push(p.finish()?);
    }
    Ok((c.finish()?, reports))
}
