//! What one `dmp bench` run measured: every row with its rounds, and the
//! look-ups and ratios between rows that the targets and both reports
//! print.

use super::multi::{MpRow, MpSpec};
use super::one::{self, OneRow};
use super::pingpong::PpRow;
use super::targets::Target;
use super::throughput::TpRow;
use super::wake_fd;
use super::Plan;
use std::time::Duration;

/// Everything one `dmp bench` run measured.
pub(super) struct Results {
    pub(super) plan: Plan,
    pub(super) events: u64,
    pub(super) round_trips: u64,
    pub(super) rounds: u32,
    pub(super) gap_us: u64,
    pub(super) elapsed: Duration,
    pub(super) tp: Vec<TpRow>,
    pub(super) mp: Vec<MpRow>,
    pub(super) pp: Vec<PpRow>,
    /// One event per claim/publish (`one/`).
    pub(super) one: Vec<OneRow>,
    /// The wake-fd group's consumers (`wake_fd`): blocking and tokio.
    pub(super) wake: Vec<TpRow>,
    pub(super) targets: Vec<Target>,
}

impl Results {
    pub(super) fn rate(&self, size: usize, key: &str) -> f64 {
        self.tp
            .iter()
            .find(|r| r.spec.size == size && r.spec.key == key)
            .map_or(f64::NAN, TpRow::rate)
    }

    fn mp_rate(&self, spec: &MpSpec) -> f64 {
        self.mp
            .iter()
            .find(|r| r.spec == *spec)
            .map_or(f64::NAN, MpRow::rate)
    }

    /// A multi-producer comparison row's rate over its single-producer
    /// counterpart's (same size, layout, wait strategy and counters).
    pub(super) fn vs_single(&self, spec: &MpSpec) -> f64 {
        self.mp_rate(spec) / self.mp_rate(&spec.single())
    }

    /// The rate with the hot-path counters on over the rate without them
    /// (same workload otherwise).
    pub(super) fn counters_on_off(&self, spec: &MpSpec) -> f64 {
        self.mp_rate(&spec.counted()) / self.mp_rate(spec)
    }

    /// The rate with an optional consumer (liveness checks on) over the
    /// rate with a required one.
    pub(super) fn optional_vs_required(&self, spec: &MpSpec) -> f64 {
        self.mp_rate(spec) / self.mp_rate(&spec.required())
    }

    /// The same ratio round by round.
    pub(super) fn rounds_counters_on_off(&self, spec: &MpSpec) -> Vec<f64> {
        let on = self.rounds_of(&spec.counted());
        on.iter()
            .zip(self.rounds_of(spec))
            .map(|(on, off)| on / off)
            .collect()
    }

    fn rounds_of(&self, spec: &MpSpec) -> Vec<f64> {
        self.mp
            .iter()
            .find(|r| r.spec == *spec)
            .map(|r| r.rounds.iter().map(|t| t.events_per_sec).collect())
            .unwrap_or_default()
    }

    /// The same ratio round by round (each round against the single-producer
    /// figure of the same round), which shows when the machine changed
    /// speed between rounds.
    pub(super) fn rounds_vs_single(&self, spec: &MpSpec) -> Vec<f64> {
        let single = self.rounds_of(&spec.single());
        self.rounds_of(spec)
            .iter()
            .zip(single)
            .map(|(mp, sp)| mp / sp)
            .collect()
    }

    /// A one-event row's rate.
    pub(super) fn one_rate(&self, spec: one::OneSpec) -> f64 {
        one::one_rate(&self.one, spec)
    }

    /// A one-event row's rate over the hand-written one-event ring's.
    pub(super) fn one_vs_hand_written(&self, spec: one::OneSpec) -> f64 {
        self.one_rate(spec) / self.one_rate(spec.hand_written())
    }

    /// The same, round by round.
    pub(super) fn one_rounds_vs_hand_written(&self, spec: one::OneSpec) -> Vec<f64> {
        let base = one::one_rounds(&self.one, spec.hand_written());
        one::one_rounds(&self.one, spec)
            .iter()
            .zip(base)
            .map(|(v, b)| v / b)
            .collect()
    }

    pub(super) fn p50(&self, key: &str) -> f64 {
        self.pp
            .iter()
            .find(|r| r.spec.key == key)
            .map_or(f64::NAN, PpRow::p50)
    }

    pub(super) fn p99(&self, key: &str) -> f64 {
        self.pp
            .iter()
            .find(|r| r.spec.key == key)
            .map_or(f64::NAN, PpRow::p99)
    }

    /// A wake-fd consumer row's rate.
    pub(super) fn wake_rate(&self, size: usize, key: &str) -> f64 {
        self.wake
            .iter()
            .find(|r| r.spec.size == size && r.spec.key == key)
            .map_or(f64::NAN, TpRow::rate)
    }

    /// The tokio consumer's rate over the blocking one's, round by round.
    pub(super) fn wake_rounds_vs_blocking(&self, size: usize) -> Vec<f64> {
        let rounds = |key: &str| -> Vec<f64> {
            self.wake
                .iter()
                .find(|r| r.spec.size == size && r.spec.key == key)
                .map(|r| r.rounds.iter().map(|t| t.events_per_sec).collect())
                .unwrap_or_default()
        };
        rounds(wake_fd::ASYNC_KEY)
            .iter()
            .zip(rounds(wake_fd::BLOCKING_KEY))
            .map(|(a, b)| a / b)
            .collect()
    }
}
