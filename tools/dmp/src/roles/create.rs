//! `dmp create`: a ring with the given layout, mode and group, or an
//! existing one opened with its options checked.

use super::Target;
use crate::CmdResult;
use disruptor_mp::{Error, ProducerMode, Ring, RingOptions};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    target: Target,
    /// Number of slots (power of two).
    #[arg(long, default_value_t = 4096)]
    capacity: u64,
    /// Payload bytes per slot.
    #[arg(long, default_value_t = 64)]
    slot_size: u64,
    /// Consumer-table entries.
    #[arg(long, default_value_t = 16)]
    max_consumers: u32,
    /// Create without wake-ups (no blocking strategy, cheaper publish).
    #[arg(long)]
    no_wakeups: bool,
    /// Packed slots: densest layout, highest throughput for small events.
    #[arg(long)]
    packed: bool,
    /// Do not count events and batches (the cold-path counters are kept).
    #[arg(long)]
    no_hot_counters: bool,
    /// Multi-producer ring: several producer processes at once.
    #[arg(long)]
    multi: bool,
    /// Multi-producer rings: producer-table entries.
    #[arg(long, default_value_t = 8)]
    max_producers: u32,
    /// Multi-producer rings: how long a claimed, unpublished sequence may
    /// hold consumers up before it is abandoned.
    #[arg(long, default_value_t = 2000)]
    unblock_ms: u64,
    /// Succeed if the ring already exists with this layout.
    #[arg(long)]
    open_existing: bool,
    /// With --open-existing: a stale ring (used once, no live participant
    /// now) is removed and created anew.
    #[arg(long, requires = "open_existing")]
    reclaim_stale: bool,
    /// Permissions, octal. Observers (stat, inspect, ls) need read
    /// permission only (0640: the group watches); producers and consumers
    /// need read and write (0660: the group takes part).
    #[arg(long, default_value = "600")]
    mode: String,
    /// Group of the new segment, by name or gid (default: the creator's);
    /// the creator must be a member of it (or privileged).
    #[arg(long)]
    group: Option<String>,
}

pub fn create(a: &CreateArgs) -> CmdResult {
    let mode = u32::from_str_radix(&a.mode, 8).map_err(|e| format!("--mode {}: {e}", a.mode))?;
    let mut opts = RingOptions::new()
        .capacity(a.capacity)
        .slot_size(a.slot_size)
        .max_consumers(a.max_consumers)
        .wakeups(!a.no_wakeups)
        .packed(a.packed)
        .hot_counters(!a.no_hot_counters)
        .unblock_timeout(Duration::from_millis(a.unblock_ms))
        .reclaim_stale(a.reclaim_stale)
        .mode(mode);
    if let Some(g) = &a.group {
        opts = opts.group(crate::group::gid_of(g)?);
    }
    if a.multi {
        opts = opts
            .producer_mode(ProducerMode::Multi)
            .max_producers(a.max_producers);
    }
    let loc = a.target.location();
    // A refused chgrp names the group, not only the file.
    let named = |e: Error| -> Box<dyn std::error::Error> {
        match (&a.group, &e) {
            (Some(g), Error::Io { op, .. }) if op.contains("chgrp") => format!(
                "--group {g}: {e} (a user may give a file only to a group it is a member of, unless privileged)"
            )
            .into(),
            _ => e.into(),
        }
    };
    if a.open_existing {
        let (ring, created) = Ring::open_or_create(&loc, &opts).map_err(named)?;
        println!(
            "{} {}",
            if created { "created" } else { "opened" },
            ring.path().display()
        );
    } else {
        let ring = Ring::create(&loc, &opts).map_err(named)?;
        println!("created {}", ring.path().display());
    }
    Ok(())
}
