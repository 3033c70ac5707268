//! A second reader of the segment format, written from docs/FORMAT.md
//! alone (`tools/dmp_format.py`, Python's standard library), against
//! `dmp stat --json` and `dmp inspect` on real rings of many
//! configurations, live and finished: every field both report must agree,
//! and the events `dmp produce` wrote must decode as FORMAT.md says. Then
//! damaged copies of a ring: the reader and the tool must refuse each for
//! the same reason.
//!
//! Finished rings (every participant gone or stopped) are compared field
//! by field. Live rings are read as `dmp stat`, the reader, `dmp stat`
//! again and `dmp inspect`: fields that do not change while the
//! participants run must be equal, counters and sequences (which only
//! grow) must lie between the two `dmp stat` readings, and figures that
//! move both ways (lag, mean batch) are left out.

#[path = "../support/mod.rs"]
mod support;

mod compare;
mod events;
mod harness;
mod inspect;
mod refusals;
mod rings;

use compare::*;
use events::*;
use harness::*;
use inspect::*;
use refusals::*;
use rings::*;

use disruptor_mp::layout;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use support::{dmp, Proc, ShmName};

pub(crate) const T: Duration = Duration::from_secs(120);
pub(crate) const READY: Duration = Duration::from_secs(20);

#[test]
fn an_independent_reader_agrees_with_dmp_stat_and_inspect() {
    if !python_available() {
        return;
    }
    let _serial = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let mut tally = Tally::default();
    single_stamped_blocking(&mut tally);
    single_packed_file(&mut tally, dir.path());
    single_short_slots_first(&mut tally);
    single_live(&mut tally);
    multi_stamped_two_producers(&mut tally);
    multi_packed_abandoned(&mut tally);
    multi_dead_producer(&mut tally);
    multi_live_stalled(&mut tally);
    refusals(&mut tally, dir.path());
    eprintln!(
        "format_reader: {} fields compared ({} with dmp stat --json, {} with dmp inspect, {} other), {} events decoded, over {} configurations and {} damaged segments:",
        tally.fields,
        tally.stat_fields,
        tally.inspect_fields,
        tally.fields - tally.stat_fields - tally.inspect_fields,
        tally.events,
        tally.configurations.len(),
        tally.refusals
    );
    for c in &tally.configurations {
        eprintln!("  - {c}");
    }
    assert!(
        tally.mismatches.is_empty(),
        "{} mismatches between tools/dmp_format.py and the dmp tool:\n{}",
        tally.mismatches.len(),
        tally.mismatches.join("\n")
    );
}
