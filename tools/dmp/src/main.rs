//! `dmp`: the disruptor-mp command-line tool: a demo, the cross-process
//! benchmark, producer/consumer roles for scripts and tests, and the
//! observing commands: stat, inspect, ls, rm, and retire.

mod bench;
mod columns;
mod demo;
mod exit;
mod format;
mod group;
mod inspect;
mod ls;
mod man;
mod probe;
mod retire;
mod rm;
mod roles;
mod stat;
mod unlinked;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// Boxed error for command results.
pub type CmdResult = Result<(), Box<dyn std::error::Error>>;

#[derive(Parser)]
#[command(
    name = "dmp",
    version,
    about = "disruptor-mp: multi-process ring buffer tool",
    after_help = exit::HELP
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a producer and a consumer process on a fresh ring and print
    /// throughput and latency.
    Demo(demo::DemoArgs),
    /// Cross-process benchmark against a hand-written ring, an atomic
    /// ping-pong and Unix domain sockets.
    Bench(bench::BenchArgs),
    /// (internal) one side of a benchmark run.
    #[command(hide = true)]
    BenchWorker(bench::WorkerArgs),
    /// Create a ring.
    Create(roles::CreateArgs),
    /// Publish numbered, verifiable events to a ring.
    Produce(roles::ProduceArgs),
    /// Consume and verify events from a ring.
    Consume(roles::ConsumeArgs),
    /// A ring's counters and participants, and who holds it back (once,
    /// --watch with rates, --json, --prometheus, or --serve over HTTP).
    Stat(stat::StatArgs),
    /// Print a ring's header, regions, producer and consumer tables.
    Inspect(inspect::InspectArgs),
    /// List the rings in /dev/shm (or --dir) with their state, and the
    /// unlinked rings processes still use.
    Ls(ls::LsArgs),
    /// Remove a ring's name (refuses a live ring without --force), or
    /// every stale ring (--stale).
    Rm(rm::RmArgs),
    /// Retire a dead consumer: its entry stops holding the producers back
    /// and is freed (refused while a live process holds the name).
    Retire(retire::RetireArgs),
    /// (internal) write the man pages into a directory.
    #[command(hide = true)]
    Man(man::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.cmd {
        Cmd::Demo(a) => demo::run(a),
        Cmd::Bench(a) => bench::run(a),
        Cmd::BenchWorker(a) => bench::worker(a),
        Cmd::Create(a) => roles::create(a),
        Cmd::Produce(a) => roles::produce(a),
        Cmd::Consume(a) => roles::consume(a),
        Cmd::Stat(a) => stat::run(a),
        Cmd::Inspect(a) => inspect::inspect(a),
        Cmd::Ls(a) => ls::ls(a),
        Cmd::Rm(a) => rm::rm(a),
        Cmd::Retire(a) => retire::retire(a),
        Cmd::Man(a) => man::run(Cli::command(), a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dmp: {e}");
            ExitCode::from(exit::of(e.as_ref()) as u8)
        }
    }
}
