//! Round-trip latency: the ping-pong workloads (dmp rings, the floor's
//! atomic counters, a Unix socket; busy-spin, blocking, the wake-up fd,
//! paced), the histogram the pinging worker records into, and the rows.

use super::args::{Group, Role, Strategy, WakeMode};
use super::cleanup::{unique, Cleanup};
use super::floor::PING_PONG_LEN;
use super::worker::{report, run_pair};
use super::{BoxResult, Plan};
use disruptor_mp::RingOptions;
use hdrhistogram::Histogram;
use std::path::Path;
use std::time::Duration;

pub(super) fn histogram() -> BoxResult<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000_000, 3)?)
}

pub(super) fn report_latency(h: &Histogram<u64>) -> BoxResult<()> {
    report(&[
        ("count", h.len() as f64),
        ("p50", h.value_at_quantile(0.5) as f64),
        ("p99", h.value_at_quantile(0.99) as f64),
        ("p999", h.value_at_quantile(0.999) as f64),
        ("max", h.max() as f64),
        ("mean", h.mean()),
    ])
}

/// Which ping-pong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PingPong {
    /// Two dmp rings, busy-spin, without wake-ups.
    DmpSpin,
    /// The same with optional consumers (liveness checks on).
    DmpSpinOptional,
    /// The same with the packed layout.
    DmpPackedSpin,
    /// Two dmp rings, blocking strategy (futex), with wake-ups.
    DmpBlocking,
    /// The same rings, each consumer waiting on its wake-up fd (`arm`,
    /// then `poll(2)`) instead of the futex.
    DmpWakeFd,
    /// Two atomic counters in shared memory.
    Floor,
    /// 8-byte messages over a Unix stream socket.
    Uds,
}

/// Round-trip latency percentiles, in nanoseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Latency {
    pub count: u64,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

/// Measures `round_trips` round trips of an 8-byte event between two
/// processes, after `warmup` unmeasured ones, pausing `gap` before each.
pub(crate) fn ping_pong(
    plan: &Plan,
    kind: PingPong,
    round_trips: u64,
    warmup: u64,
    gap: Duration,
) -> BoxResult<Latency> {
    let mut cleanup = Cleanup::default();
    let mut args: Vec<String> = Vec::new();
    let (first, second) = match kind {
        PingPong::DmpSpin
        | PingPong::DmpSpinOptional
        | PingPong::DmpPackedSpin
        | PingPong::DmpBlocking
        | PingPong::DmpWakeFd => {
            let blocking = matches!(kind, PingPong::DmpBlocking | PingPong::DmpWakeFd);
            let options = RingOptions::new()
                .capacity(plan.pingpong_capacity)
                .slot_size(8)
                .packed(kind == PingPong::DmpPackedSpin)
                .wakeups(blocking);
            let (to_echo, to_ping) = (unique("bench-ping"), unique("bench-pong"));
            cleanup.ring(&to_echo, &options)?;
            cleanup.ring(&to_ping, &options)?;
            let strategy = if blocking {
                Strategy::Block
            } else {
                Strategy::Spin
            };
            args.extend([
                "--name".into(),
                to_echo,
                "--back".into(),
                to_ping,
                "--strategy".into(),
                strategy.as_str().into(),
            ]);
            if kind == PingPong::DmpSpinOptional {
                args.push("--optional".into());
            }
            if kind == PingPong::DmpWakeFd {
                args.extend(["--wake-fd".into(), WakeMode::Poll.as_str().into()]);
            }
            (Role::RingEcho, Role::RingPing)
        }
        PingPong::Floor => {
            let path = Path::new("/dev/shm").join(unique("bench-pingpong"));
            cleanup.shm_file(&path, PING_PONG_LEN)?;
            args.extend(["--name".into(), path.display().to_string()]);
            (Role::FloorEcho, Role::FloorPing)
        }
        PingPong::Uds => {
            let path = std::env::temp_dir().join(format!("{}.sock", unique("bench")));
            cleanup.path(&path);
            args.extend(["--name".into(), path.display().to_string()]);
            (Role::UdsEcho, Role::UdsPing)
        }
    };
    args.extend([
        "--events".into(),
        round_trips.to_string(),
        "--warmup".into(),
        warmup.to_string(),
        "--gap-us".into(),
        gap.as_micros().to_string(),
    ]);
    let (_, ping) = run_pair(plan, first, second, &args)?;
    let count = ping.get("count")? as u64;
    if count != round_trips {
        return Err(format!("{kind:?}: measured {count} of {round_trips} round trips").into());
    }
    Ok(Latency {
        count,
        p50: ping.get("p50")?,
        p99: ping.get("p99")?,
        p999: ping.get("p999")?,
        max: ping.get("max")?,
        mean: ping.get("mean")?,
    })
}

/// A ping-pong workload of a run; `base` keys the row its p50 is compared
/// with; `groups` are the `--only` groups that run it.
pub(super) struct PpSpec {
    pub(super) kind: PingPong,
    pub(super) paced: bool,
    pub(super) label: &'static str,
    pub(super) key: &'static str,
    pub(super) base: &'static str,
    pub(super) groups: &'static [Group],
}

impl PpSpec {
    /// The table's short name of the row this one is compared with.
    pub(super) fn base_name(&self) -> &'static str {
        match self.base {
            "floor" => "floor",
            "dmp_blocking_paced" => "futex",
            _ => "UDS",
        }
    }
}

/// A ping-pong workload and its rounds; the round with the lowest p50
/// counts.
pub(super) struct PpRow {
    pub(super) spec: PpSpec,
    pub(super) rounds: Vec<Latency>,
}

impl PpRow {
    pub(super) fn best(&self) -> Option<&Latency> {
        self.rounds.iter().min_by(|a, b| a.p50.total_cmp(&b.p50))
    }

    pub(super) fn p50(&self) -> f64 {
        self.best().map_or(f64::NAN, |l| l.p50)
    }

    /// The p99 of the round with the lowest p50.
    pub(super) fn p99(&self) -> f64 {
        self.best().map_or(f64::NAN, |l| l.p99)
    }
}

/// The ping-pong rows; the paced futex and socket rows run in the
/// wake-fd group too, as what the wake-up fd's round trip is compared with.
pub(super) fn ping_pong_specs() -> Vec<PpSpec> {
    const PP: &[Group] = &[Group::PingPong];
    const BOTH: &[Group] = &[Group::PingPong, Group::WakeFd];
    const WAKE: &[Group] = &[Group::WakeFd];
    let spec = |kind, paced, label, key, base| PpSpec {
        kind,
        paced,
        label,
        key,
        base,
        groups: if paced { BOTH } else { PP },
    };
    vec![
        spec(
            PingPong::Floor,
            false,
            "floor atomic ping-pong",
            "floor",
            "floor",
        ),
        spec(
            PingPong::DmpSpin,
            false,
            "dmp ring, busy-spin",
            "dmp_spin",
            "floor",
        ),
        spec(
            PingPong::DmpSpinOptional,
            false,
            "dmp ring, busy-spin, optional",
            "dmp_spin_optional",
            "floor",
        ),
        spec(
            PingPong::DmpPackedSpin,
            false,
            "dmp ring, packed, busy-spin",
            "dmp_packed_spin",
            "floor",
        ),
        spec(PingPong::Uds, false, "unix socket", "uds", "floor"),
        spec(
            PingPong::DmpBlocking,
            false,
            "dmp ring, blocking, back-to-back",
            "dmp_blocking",
            "uds",
        ),
        spec(
            PingPong::Uds,
            true,
            "unix socket, paced",
            "uds_paced",
            "floor",
        ),
        spec(
            PingPong::DmpBlocking,
            true,
            "dmp ring, blocking, paced",
            "dmp_blocking_paced",
            "uds_paced",
        ),
        PpSpec {
            groups: WAKE,
            ..spec(
                PingPong::DmpWakeFd,
                true,
                "dmp ring, wake-up fd (poll), paced",
                "dmp_wakefd_paced",
                "dmp_blocking_paced",
            )
        },
    ]
}
