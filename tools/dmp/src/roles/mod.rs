//! Producer and consumer roles: publish numbered events whose payload can
//! be verified, and consume them checking order, payload and (for
//! dependent consumers) that every dependency committed first. Scripts use
//! them to drive real rings; the multi-process tests spawn them.
mod consume;
mod create;
mod payload;
mod produce;

pub use consume::{consume, ConsumeArgs};
pub use create::{create, CreateArgs};
pub use produce::{produce, ProduceArgs};

use disruptor_mp::Location;

/// Where a ring lives, as command-line options.
#[derive(clap::Args, Debug, Clone)]
pub struct Target {
    /// Ring name (a shm name), or a path with --file.
    pub name: String,
    /// Treat NAME as a file path instead of a shm name.
    #[arg(long)]
    pub file: bool,
}

impl Target {
    /// The library location.
    pub fn location(&self) -> Location {
        Target::location_of(&self.name, self.file)
    }

    /// The location of `name`: a path with `file`, else a shm name.
    pub fn location_of(name: &str, file: bool) -> Location {
        if file {
            Location::file(name)
        } else {
            Location::shm(name)
        }
    }
}
