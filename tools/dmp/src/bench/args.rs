//! The command lines: `dmp bench`'s options, and those of the hidden
//! `bench-worker` subcommand that runs one side of a workload (its role,
//! the workload's parameters, the wait strategy).

use super::one::OneStyle;
use disruptor_mp::WaitStrategy;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Small workloads, one round: finishes in a few seconds (a smoke test).
    #[arg(long)]
    pub(super) quick: bool,
    /// Events per throughput workload and round; the one-event-per-write
    /// socket moves a hundredth [default: 50000000, --quick: 2000000].
    #[arg(long)]
    pub(super) events: Option<u64>,
    /// Round trips per busy-spin ping-pong and round; the socket
    /// ping-pong does a fifth, the paced ones a twentieth
    /// [default: 100000, --quick: 10000].
    #[arg(long)]
    pub(super) round_trips: Option<u64>,
    /// Times the whole set of workloads runs, interleaved; each figure is
    /// the best of its rounds (noise only ever slows a run down)
    /// [default: 3, --quick: 1].
    #[arg(long)]
    pub(super) rounds: Option<u32>,
    /// Events claimed and published (or written to the socket) at once.
    #[arg(long, default_value_t = 256)]
    pub(super) batch: u64,
    /// Slots of the throughput rings (a power of two), records of the
    /// floor ring.
    #[arg(long, default_value_t = 4096)]
    pub(super) capacity: u64,
    /// Slots of each ping-pong ring. Small, so that both rings' slots stay
    /// in L1: with 256 or more 8-byte slots per ring the round trip here
    /// grew by about 40 %.
    #[arg(long, default_value_t = 64)]
    pub(super) pingpong_capacity: u64,
    /// Idle time between the round trips of the paced ping-pongs, which
    /// let both sides fall asleep and so measure wake-up latency.
    #[arg(long, default_value_t = 100)]
    pub(super) gap_us: u64,
    /// CPU of the producer (and pinging) side.
    #[arg(long, default_value_t = 0)]
    pub(super) producer_cpu: usize,
    /// CPU of the consumer (and echoing) side.
    #[arg(long, default_value_t = 1)]
    pub(super) consumer_cpu: usize,
    /// Where the three processes of the 2-producer workloads run (two
    /// producers and a consumer on what may be two cores).
    #[arg(long, value_enum, default_value_t = Mp2Placement::Paired)]
    pub(super) mp2_placement: Mp2Placement,
    /// Print the results as one JSON object instead of a table.
    #[arg(long)]
    pub(super) json: bool,
    /// Run only these groups of rows (comma-separated; default: all).
    /// Targets whose rows did not run are left out.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub(super) only: Vec<Group>,
}

/// A group of `dmp bench` rows, for `--only`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    /// The main throughput table (floor, dmp rings, sockets).
    Throughput,
    /// The multi-producer comparison (with the single-producer rings it
    /// compares with).
    MultiProducer,
    /// The ping-pong round trips.
    PingPong,
    /// One event per claim/publish: Rust API, C ABI, hand-written ring.
    OneEvent,
    /// The wake-up fd (`Consumer::wait_fd` / `arm`): its paced round trip
    /// against the futex and a Unix socket, the publisher's cost with an
    /// fd obtained but never armed, a tokio consumer against a blocking
    /// one.
    WakeFd,
}

/// How a ring worker's consumer uses its wake-up fd.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WakeMode {
    /// No fd: the consumer waits with its strategy.
    Off,
    /// `wait_fd` called (the socket bound) but never armed: the consumer
    /// waits with its strategy.
    Bound,
    /// Every wait arms the fd and polls it (`poll(2)`, bounded).
    Poll,
}

impl WakeMode {
    /// The command-line spelling (clap's kebab-case of the variant).
    pub(super) fn as_str(self) -> &'static str {
        match self {
            WakeMode::Off => "off",
            WakeMode::Bound => "bound",
            WakeMode::Poll => "poll",
        }
    }
}

/// Placement of the 2-producer workloads.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mp2Placement {
    /// Both producers on the producer CPU, the consumer alone on the
    /// consumer CPU: the producers together get the one core the single
    /// producer gets, the consumer keeps its own.
    Paired,
    /// Producer 0 on the producer CPU, producer 1 on the consumer CPU with
    /// the consumer.
    Spread,
    /// Nothing pinned: the scheduler places all three.
    Unpinned,
}

/// One side of a benchmark workload.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    RingProducer,
    RingConsumer,
    FloorProducer,
    FloorConsumer,
    UdsProducer,
    UdsConsumer,
    RingPing,
    RingEcho,
    FloorPing,
    FloorEcho,
    UdsPing,
    UdsEcho,
    OneProducer,
    OneConsumer,
    OneFloorProducer,
    OneFloorConsumer,
    AsyncConsumer,
}

impl Role {
    /// The command-line spelling (clap's kebab-case of the variant).
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Role::RingProducer => "ring-producer",
            Role::RingConsumer => "ring-consumer",
            Role::FloorProducer => "floor-producer",
            Role::FloorConsumer => "floor-consumer",
            Role::UdsProducer => "uds-producer",
            Role::UdsConsumer => "uds-consumer",
            Role::RingPing => "ring-ping",
            Role::RingEcho => "ring-echo",
            Role::FloorPing => "floor-ping",
            Role::FloorEcho => "floor-echo",
            Role::UdsPing => "uds-ping",
            Role::UdsEcho => "uds-echo",
            Role::OneProducer => "one-producer",
            Role::OneConsumer => "one-consumer",
            Role::OneFloorProducer => "one-floor-producer",
            Role::OneFloorConsumer => "one-floor-consumer",
            Role::AsyncConsumer => "async-consumer",
        }
    }
}

/// Wait strategy of the ring workers.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strategy {
    Spin,
    Yield,
    Block,
}

impl Strategy {
    pub(super) fn wait(self) -> WaitStrategy {
        match self {
            Strategy::Spin => WaitStrategy::BusySpin,
            Strategy::Yield => WaitStrategy::Yield,
            Strategy::Block => WaitStrategy::Blocking,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Strategy::Spin => "spin",
            Strategy::Yield => "yield",
            Strategy::Block => "block",
        }
    }

    /// How the tables name it.
    pub(super) fn label(self) -> &'static str {
        match self {
            Strategy::Spin => "busy-spin",
            Strategy::Yield => "yield",
            Strategy::Block => "blocking",
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// Which side of which workload.
    #[arg(long, value_enum)]
    pub(super) role: Role,
    /// Ring shm name (ring roles), shared-memory file or socket path.
    #[arg(long)]
    pub(super) name: String,
    /// The return ring of a ring ping-pong.
    #[arg(long)]
    pub(super) back: Option<String>,
    /// Events to move, or measured round trips.
    #[arg(long, default_value_t = 0)]
    pub(super) events: u64,
    /// Unmeasured round trips before the measured ones.
    #[arg(long, default_value_t = 0)]
    pub(super) warmup: u64,
    /// Event size in bytes.
    #[arg(long, default_value_t = 8)]
    pub(super) size: usize,
    /// Events per claim / write.
    #[arg(long, default_value_t = 256)]
    pub(super) batch: u64,
    /// Records in the floor ring.
    #[arg(long, default_value_t = 4096)]
    pub(super) capacity: u64,
    /// Ring wait strategy.
    #[arg(long, value_enum, default_value_t = Strategy::Spin)]
    pub(super) strategy: Strategy,
    /// Pause before each round trip, in microseconds.
    #[arg(long, default_value_t = 0)]
    pub(super) gap_us: u64,
    /// CPU to pin this process to.
    #[arg(long)]
    pub(super) cpu: Option<usize>,
    /// Ring roles: 0 for a single-producer ring; otherwise the ring is a
    /// multi-producer one fed by this many producers, each sending its
    /// share of `--events` tagged with its id, and the consumer checks
    /// every producer's events arrive in order.
    #[arg(long, default_value_t = 0)]
    pub(super) producers: u32,
    /// Multi-producer ring producers: this producer's id, below
    /// `--producers`.
    #[arg(long, default_value_t = 0)]
    pub(super) producer_id: u32,
    /// After reporting ready, wait for a line on stdin before starting
    /// (so that several producers start together).
    #[arg(long)]
    pub(super) go: bool,
    /// Ring roles: attach the consumer as an optional one (eviction
    /// checks on its commit and wait paths), never evicted here.
    #[arg(long)]
    pub(super) optional: bool,
    /// One-event ring roles: how the producer claims, writes and publishes
    /// (and which API the consumer reads through).
    #[arg(long, value_enum, default_value_t = OneStyle::RustApi)]
    pub(super) style: OneStyle,
    /// One-event producers: rounds of work computed before each event.
    #[arg(long, default_value_t = 0)]
    pub(super) work: u32,
    /// Ring consumers: whether they obtain their wake-up fd, and whether
    /// they wait on it.
    #[arg(long, value_enum, default_value_t = WakeMode::Off)]
    pub(super) wake_fd: WakeMode,
}
