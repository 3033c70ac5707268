//! `dmp inspect` and `dmp rm`.

use crate::roles::Target;
use crate::CmdResult;
use disruptor_mp::layout::{state, RegionKind};
use disruptor_mp::{Ring, RingOptions};

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    target: Target,
}

fn state_name(s: u32) -> &'static str {
    match s {
        state::FREE => "free",
        state::JOINING => "joining",
        state::ACTIVE => "active",
        state::LEFT => "left",
        _ => "invalid",
    }
}

pub fn inspect(a: &InspectArgs) -> CmdResult {
    let ring = Ring::open(&a.target.location(), &RingOptions::new())?;
    let l = ring.layout();
    let p = &l.params;
    println!("segment        {}", ring.path().display());
    println!("format version {}", disruptor_mp::layout::FORMAT_VERSION);
    println!("capacity       {}", p.capacity);
    println!(
        "slot size      {} (stride {}, stamp at +{})",
        p.slot_size, l.stride, l.stamp_offset
    );
    println!("producer mode  {:?}", p.producer_mode);
    if p.producer_mode == disruptor_mp::ProducerMode::Multi {
        println!("max producers  {}", p.max_producers);
        println!(
            "unblock after  {:?}",
            std::time::Duration::from_nanos(p.unblock_timeout_ns)
        );
    }
    println!("type id        {:#018x}", p.type_id);
    println!(
        "wake-ups       {}",
        p.flags & disruptor_mp::layout::FLAG_WAKEUPS != 0
    );
    println!("total size     {} bytes", l.total_size);
    for (name, kind) in [
        ("control", RegionKind::Control),
        ("consumers", RegionKind::Consumers),
        ("producers", RegionKind::Producers),
        ("slots", RegionKind::Slots),
        ("available", RegionKind::Availability),
    ] {
        if !l.has_region(kind) {
            continue;
        }
        let (off, size) = l.region(kind);
        println!("region {name:<9} offset {off:>10} size {size:>12}");
    }
    let cursor = ring.cursor();
    println!("cursor         {cursor}");
    if p.producer_mode == disruptor_mp::ProducerMode::Multi {
        println!("claimed        {}", ring.claimed());
        println!("abandoned      {}", ring.abandoned());
    }
    println!(
        "consumers      {} of {}",
        ring.consumers().len(),
        p.max_consumers
    );
    for c in ring.consumers() {
        println!(
            "  [{:>2}] {:<24} {:<8} sequence {:>12} lag {:>8} pid {:>7} deps {:#x} joins {}",
            c.index,
            c.name,
            state_name(c.state),
            c.sequence,
            cursor - c.sequence,
            c.pid,
            c.dependencies,
            c.generation
        );
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct RmArgs {
    #[command(flatten)]
    target: Target,
}

pub fn rm(a: &RmArgs) -> CmdResult {
    let loc = a.target.location();
    // Refuse to remove a file that is not a ring.
    Ring::open(&loc, &RingOptions::new())?;
    Ring::unlink(&loc)?;
    println!("removed {}", loc.path()?.display());
    Ok(())
}
