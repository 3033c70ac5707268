//! The one-event rows' vocabulary: the producer styles (how a producer
//! claims, writes and publishes each event, and which API its consumer
//! reads through) with their names in the table, the JSON and the
//! targets, and a row's spec (event size, work per event, what carries
//! the events).

use crate::bench::args::WakeMode;

/// How the one-event producer claims, writes and publishes each event.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OneStyle {
    /// `Producer::claim(1)`, `slot_mut`, write, `publish(seq, seq)`; the
    /// consumer is the throughput rows' one (`wait_for`, `slots`, check,
    /// `commit`).
    RustApi,
    /// The same loops through the exported C functions (`dmp_claim`,
    /// `dmp_producer_slot`, `dmp_publish`; `dmp_wait_for`,
    /// `dmp_consumer_span`, `dmp_commit`), called from the Rust worker.
    CAbi,
    /// The one-event calls: `Producer::publish_with` per event, and a
    /// consumer on `Consumer::consume_with`, one event per call and commit.
    RustOne,
    /// The same through `dmp_publish_one` and `dmp_consume_one`, called
    /// from the Rust worker.
    COne,
    /// `RustApi`'s loops, the consumer having obtained its wake-up fd
    /// (`Consumer::wait_fd`: the socket bound) and never armed it: what
    /// the fd costs the publisher while nobody waits on it.
    RustApiFd,
    /// The same with `RustOne`'s loops.
    RustOneFd,
}

/// What a style's figure is compared with in the targets table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    /// The hand-written one-event ring of the same size and run.
    HandWritten,
    /// Another style of the same size and run.
    Style(OneStyle),
}

/// Which API a style's consumer reads through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConsumerApi {
    /// The throughput rows' consumer: `wait_for`, `slots`, check, `commit`.
    Rust,
    /// `dmp_wait_for`, `dmp_consumer_span`, check, `dmp_commit`.
    C,
    /// `Consumer::consume_with`: one event per call, each committed.
    RustOne,
    /// `dmp_consume_one`: one event per call, copied out and committed.
    COne,
}

/// Everything the table, the JSON output, the targets and the workers need
/// to know about a style, but its producer loop.
pub(crate) struct StyleInfo {
    /// The command-line spelling (`--style`, clap's kebab-case).
    pub cli: &'static str,
    /// The table's row name.
    pub label: &'static str,
    /// The JSON row key.
    pub key: &'static str,
    /// The targets' names of the style (table, JSON).
    pub short: &'static str,
    pub snake: &'static str,
    /// The targeted ratio: this style's rate over `base`'s is at least
    /// `at_least` (printed as `goal`).
    pub base: Base,
    pub goal: &'static str,
    pub at_least: f64,
    pub consumer: ConsumerApi,
    /// Whether the consumer obtains its wake-up fd (`--wake-fd`); the
    /// styles that do are the wake-fd group's rows.
    pub wake_fd: WakeMode,
}

impl OneStyle {
    /// Every style, in table order.
    pub(crate) fn all() -> &'static [OneStyle] {
        <OneStyle as clap::ValueEnum>::value_variants()
    }

    /// The style's names, target and consumer: a new style's one arm.
    pub(crate) fn info(self) -> StyleInfo {
        match self {
            OneStyle::RustApi => StyleInfo {
                cli: "rust-api",
                label: "ring, Rust API, one per claim",
                key: "dmp_one_rust",
                short: "Rust API",
                snake: "rust_api",
                base: Base::HandWritten,
                goal: ">= 0.9",
                at_least: 0.9,
                consumer: ConsumerApi::Rust,
                wake_fd: WakeMode::Off,
            },
            OneStyle::CAbi => StyleInfo {
                cli: "c-abi",
                label: "ring, C ABI, one per claim (exported fns' own work, in-process)",
                key: "dmp_one_c_abi",
                short: "C ABI",
                snake: "c_abi",
                base: Base::Style(OneStyle::RustApi),
                goal: ">= 0.8",
                at_least: 0.8,
                consumer: ConsumerApi::C,
                wake_fd: WakeMode::Off,
            },
            OneStyle::RustOne => StyleInfo {
                cli: "rust-one",
                label: "ring, publish_with / consume_with, one per call",
                key: "dmp_one_rust_one",
                short: "Rust one-event calls",
                snake: "rust_one",
                base: Base::HandWritten,
                goal: ">= 0.9",
                at_least: 0.9,
                consumer: ConsumerApi::RustOne,
                wake_fd: WakeMode::Off,
            },
            OneStyle::COne => StyleInfo {
                cli: "c-one",
                label: "ring, dmp_publish_one / dmp_consume_one (in-process calls)",
                key: "dmp_one_c_one",
                short: "C one-event calls",
                snake: "c_one",
                base: Base::Style(OneStyle::RustOne),
                goal: ">= 0.8",
                at_least: 0.8,
                consumer: ConsumerApi::COne,
                wake_fd: WakeMode::Off,
            },
            OneStyle::RustApiFd => StyleInfo {
                cli: "rust-api-fd",
                label: "ring, Rust API, one per claim, fd bound (never armed)",
                key: "dmp_one_rust_fd",
                short: "Rust API, fd bound",
                snake: "rust_api_fd",
                base: Base::Style(OneStyle::RustApi),
                goal: ">= 0.97",
                at_least: 0.97,
                consumer: ConsumerApi::Rust,
                wake_fd: WakeMode::Bound,
            },
            OneStyle::RustOneFd => StyleInfo {
                cli: "rust-one-fd",
                label: "ring, publish_with / consume_with, fd bound (never armed)",
                key: "dmp_one_rust_one_fd",
                short: "Rust one-event, fd bound",
                snake: "rust_one_fd",
                base: Base::Style(OneStyle::RustOne),
                goal: ">= 0.97",
                at_least: 0.97,
                consumer: ConsumerApi::RustOne,
                wake_fd: WakeMode::Bound,
            },
        }
    }

    pub(crate) fn key(self) -> &'static str {
        self.info().key
    }

    /// Whether the style's rows are the wake-fd group's (its consumer
    /// obtains the fd).
    pub(crate) fn wake_fd(self) -> bool {
        self.info().wake_fd != WakeMode::Off
    }

    /// Whether a wake-fd style is compared with this one.
    pub(crate) fn is_wake_fd_base(self) -> bool {
        Self::all()
            .iter()
            .any(|s| s.wake_fd() && s.info().base == Base::Style(self))
    }
}

impl Base {
    /// The targets table's name of the row.
    pub(crate) fn short(self) -> &'static str {
        match self {
            Base::HandWritten => "hand-written",
            Base::Style(s) => s.info().short,
        }
    }

    /// The targets' JSON name of the row.
    pub(crate) fn snake(self) -> &'static str {
        match self {
            Base::HandWritten => "hand_written",
            Base::Style(s) => s.info().snake,
        }
    }
}

/// What carries the events of a one-event row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OneKind {
    /// The hand-written one-event ring (the baseline).
    HandWritten,
    /// A dmp ring, producer of the given style.
    Ring(OneStyle),
}

/// The JSON key and label of the hand-written one-event ring.
pub(crate) const HAND_WRITTEN_KEY: &str = "hand_written_one";
pub(crate) const HAND_WRITTEN_LABEL: &str = "hand-written one-event ring";

impl OneKind {
    pub(crate) fn key(self) -> &'static str {
        match self {
            OneKind::HandWritten => HAND_WRITTEN_KEY,
            OneKind::Ring(s) => s.key(),
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            OneKind::HandWritten => HAND_WRITTEN_LABEL,
            OneKind::Ring(s) => s.info().label,
        }
    }
}

/// A one-event row: event size, the producer's own work per event and
/// transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OneSpec {
    pub size: usize,
    /// Rounds of [`produce`] the producer computes before each event (0:
    /// none, the producer loop does nothing but publish).
    pub work: u32,
    pub kind: OneKind,
}

impl OneSpec {
    /// The table's name of the row, after its size.
    pub(crate) fn label(&self) -> String {
        match self.work {
            0 => self.kind.label().to_string(),
            w => format!("{}, work {w}/event", self.kind.label()),
        }
    }

    /// The JSON name of the row's workload.
    pub(crate) fn key(&self) -> String {
        match self.work {
            0 => self.kind.key().to_string(),
            w => format!("{}_work_{w}", self.kind.key()),
        }
    }

    /// The row of the same size and work this one is compared with.
    pub(crate) fn base(&self) -> Option<OneSpec> {
        let kind = match self.kind {
            OneKind::HandWritten => return None,
            OneKind::Ring(style) => match style.info().base {
                Base::HandWritten => OneKind::HandWritten,
                Base::Style(s) => OneKind::Ring(s),
            },
        };
        Some(OneSpec { kind, ..*self })
    }

    /// The row of the same size and work on the hand-written ring.
    pub(crate) fn hand_written(&self) -> OneSpec {
        OneSpec {
            kind: OneKind::HandWritten,
            ..*self
        }
    }
}
