//! `dmp retire`: free a dead required consumer's entry so that it stops
//! holding the producers back (the library's `Ring::retire_consumer`:
//! refused while a live process holds the name).

use crate::exit::Failure;
use crate::roles::Target;
use crate::CmdResult;
use disruptor_mp::{Ring, RingOptions};

#[derive(clap::Args, Debug)]
pub struct RetireArgs {
    #[command(flatten)]
    ring: Target,
    /// The consumer's name.
    consumer: String,
}

pub fn retire(a: &RetireArgs) -> CmdResult {
    let loc = a.ring.location();
    let path = loc.path()?;
    let ring =
        Ring::open(&loc, &RingOptions::new()).map_err(|e| Failure::context(path.display(), e))?;
    ring.retire_consumer(&a.consumer)?;
    println!(
        "retired consumer {:?} of {}: it no longer holds the producers back ({} retired in this ring's life)",
        a.consumer,
        path.display(),
        ring.snapshot().retired
    );
    Ok(())
}
