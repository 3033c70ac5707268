//! `dmp inspect`: a ring's header, regions and tables.

use crate::format;
use crate::probe::{self, age_s, alive_word, fmt_utc, Table};
use crate::roles::Target;
use crate::CmdResult;
use disruptor_mp::layout::{
    self, field, RegionKind, CHECKSUM_OFFSET, ENDIAN_MARK, FLAG_NO_HOT_COUNTERS, FLAG_PACKED,
    FLAG_WAKEUPS, HEADER_SIZE, KNOWN_FLAGS, STATE_OFFSET,
};
use disruptor_mp::ProducerMode;
use std::fmt::Write as _;
use std::path::Path;

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    target: Target,
}

/// Header flags in words.
fn flag_words(flags: u32) -> String {
    let mut words = Vec::new();
    for (bit, name) in [
        (FLAG_WAKEUPS, "wake-ups"),
        (FLAG_PACKED, "packed"),
        (FLAG_NO_HOT_COUNTERS, "no-hot-counters"),
    ] {
        if flags & bit != 0 {
            words.push(name.to_string());
        }
    }
    if flags & !KNOWN_FLAGS != 0 {
        words.push(format!("unknown {:#x}", flags & !KNOWN_FLAGS));
    }
    if words.is_empty() {
        "none".into()
    } else {
        words.join(", ")
    }
}

/// Whether `pid` names a running process (a diagnostic only: liveness is
/// the lease).
fn pid_running(pid: u64) -> bool {
    pid > 0 && Path::new("/proc").join(pid.to_string()).exists()
}

pub fn inspect(a: &InspectArgs) -> CmdResult {
    let ring = probe::open_ring(&a.target.location())?;
    // The header as stored (validated by the open above).
    let (head, meta) = probe::read_head(ring.path())
        .map_err(|e| format!("read header of {}: {e}", ring.path().display()))?;
    if head.len() < HEADER_SIZE as usize {
        return Err(format!("{}: header changed while reading it", ring.path().display()).into());
    }
    let u32_at = |at: usize| layout::get_u32(&head, at);
    let u64_at = |at: usize| layout::get_u64(&head, at);
    let l = ring.layout();
    let p = &l.params;
    let s = ring.snapshot();
    let mut t = String::new();
    let _ = writeln!(t, "segment        {}", ring.path().display());
    let _ = writeln!(
        t,
        "file size      {} bytes (header says {})",
        meta.len(),
        u64_at(field::TOTAL_SIZE)
    );
    let _ = writeln!(
        t,
        "magic          {:?}",
        String::from_utf8_lossy(&head[..8])
    );
    let _ = writeln!(t, "format version {}", u32_at(field::FORMAT_VERSION));
    let _ = writeln!(t, "header size    {}", u32_at(field::HEADER_SIZE));
    let _ = writeln!(
        t,
        "byte order mark {:#010x} ({})",
        u32_at(field::ENDIAN),
        if u32_at(field::ENDIAN) == ENDIAN_MARK {
            "native"
        } else {
            "foreign"
        }
    );
    let _ = writeln!(t, "flags          {:#x} ({})", p.flags, flag_words(p.flags));
    let _ = writeln!(t, "capacity       {}", p.capacity);
    let _ = writeln!(
        t,
        "slot size      {} (stride {}, {})",
        p.slot_size,
        l.stride,
        if l.stamp_offset == 0 && l.has_region(RegionKind::Availability) {
            "packed; availability: a one-byte round flag per slot".to_string()
        } else if l.stamp_offset == 0 {
            "packed, no stamps".to_string()
        } else {
            format!("stamp at +{}", l.stamp_offset)
        }
    );
    let _ = writeln!(t, "producer mode  {:?}", p.producer_mode);
    let _ = writeln!(t, "max producers  {}", p.max_producers);
    let _ = writeln!(t, "max consumers  {}", p.max_consumers);
    if p.producer_mode == ProducerMode::Multi {
        let _ = writeln!(
            t,
            "unblock after  {:?}",
            std::time::Duration::from_nanos(p.unblock_timeout_ns)
        );
    }
    let _ = writeln!(t, "type id        {:#018x}", p.type_id);
    let creator = u64_at(field::CREATOR_PID);
    let _ = writeln!(
        t,
        "creator        pid {creator} (start time {} ticks; {})",
        u64_at(field::CREATOR_START_TIME),
        if pid_running(creator) {
            "a process with this pid runs"
        } else {
            "no such process now"
        }
    );
    let created = u64_at(field::CREATED_AT_NS);
    let _ = writeln!(
        t,
        "created        {} ({})",
        fmt_utc(created),
        format::age(age_s(created, s.taken_at_ns))
    );
    let _ = writeln!(
        t,
        "checksum       {:#018x} (FNV-1a of bytes 0..{CHECKSUM_OFFSET}, verified)",
        u64_at(CHECKSUM_OFFSET)
    );
    let _ = writeln!(t, "state word     {} (ready)", u32_at(STATE_OFFSET));
    let _ = writeln!(t, "total size     {} bytes", l.total_size);

    let _ = writeln!(t, "\nregions");
    let mut regions = Table::new(&["name", ">offset", ">size", ">end"]);
    for (name, kind) in [
        ("control", RegionKind::Control),
        ("consumers", RegionKind::Consumers),
        ("producers", RegionKind::Producers),
        ("slots", RegionKind::Slots),
        ("available", RegionKind::Availability),
        ("counters", RegionKind::Counters),
    ] {
        if !l.has_region(kind) {
            continue;
        }
        let (off, size) = l.region(kind);
        regions.row(vec![
            name.into(),
            off.to_string(),
            size.to_string(),
            (off + size).to_string(),
        ]);
    }
    regions.render("  ", &mut t);

    let _ = writeln!(t, "\ncursor         {}", s.cursor);
    let _ = writeln!(t, "claimed        {}", s.claimed);
    let _ = writeln!(t, "abandoned      {}", s.abandoned);

    let _ = writeln!(
        t,
        "\nproducers      {} of {}",
        s.producers.len(),
        p.max_producers
    );
    if !s.producers.is_empty() {
        let mut tab = Table::new(&[">#", "state", ">pid", "alive", ">epoch", "pending claim"]);
        for pr in &s.producers {
            tab.row(vec![
                pr.index.to_string(),
                probe::state_name(pr.state).into(),
                pr.pid.to_string(),
                alive_word(pr.alive, pr.state).into(),
                pr.epoch.to_string(),
                pr.pending_claim
                    .map_or("-".into(), |(lo, hi)| format!("[{lo}, {hi}]")),
            ]);
        }
        tab.render("  ", &mut t);
    }

    let _ = writeln!(
        t,
        "\nconsumers      {} of {}",
        s.consumers.len(),
        p.max_consumers
    );
    if !s.consumers.is_empty() {
        let mut tab = Table::new(&[
            ">#",
            "name",
            "state",
            ">sequence",
            ">lag",
            "gating",
            "alive",
            ">pid",
            "after",
            ">joins",
        ]);
        for c in &s.consumers {
            let deps: Vec<String> = (0..64)
                .filter(|b| c.dependencies & (1u64 << b) != 0)
                .map(|b| {
                    s.consumers
                        .iter()
                        .find(|d| d.index == b)
                        .map_or(format!("#{b}"), |d| d.name.clone())
                })
                .collect();
            tab.row(vec![
                c.index.to_string(),
                c.name.clone(),
                probe::state_name(c.state).into(),
                c.sequence.to_string(),
                c.lag.to_string(),
                if c.gating { "yes" } else { "no" }.into(),
                alive_word(c.alive, c.state).into(),
                c.pid.to_string(),
                if deps.is_empty() {
                    "-".into()
                } else {
                    deps.join(",")
                },
                c.generation.to_string(),
            ]);
        }
        tab.render("  ", &mut t);
    }
    print!("{t}");
    Ok(())
}
