//! The `dmp-bridge` command: `out` (ring to JetStream), `in` (JetStream to
//! ring), `bench`. docs/BRIDGE.md describes them.

use clap::{Args, Parser, Subcommand};
use dmp_bridge::config::{Connection, StreamArgs};
use dmp_bridge::metrics::{self, Metrics};
use dmp_bridge::{bench, inbound, out};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "dmp-bridge",
    version,
    about = "Bridges disruptor-mp rings over NATS JetStream"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ring to JetStream: a named consumer of the ring publishing its
    /// events, committing what JetStream acknowledged.
    Out {
        #[command(flatten)]
        conn: Connection,
        #[command(flatten)]
        stream: StreamArgs,
        #[command(flatten)]
        metrics: MetricsArgs,
        #[command(flatten)]
        args: out::OutArgs,
    },
    /// JetStream to ring: a durable pull consumer publishing into the ring
    /// as its producer, each event exactly once.
    In {
        #[command(flatten)]
        conn: Connection,
        #[command(flatten)]
        stream: StreamArgs,
        #[command(flatten)]
        metrics: MetricsArgs,
        #[command(flatten)]
        args: inbound::InArgs,
    },
    /// Ring to ring through one server against the plain client.
    Bench {
        #[command(flatten)]
        conn: Connection,
        #[command(flatten)]
        args: bench::BenchArgs,
    },
}

/// Where the bridge's own counters go.
#[derive(Args, Clone, Debug)]
struct MetricsArgs {
    /// Serve the counters in Prometheus text format on this address
    /// (host:port; port 0 picks one, printed on stderr).
    #[arg(long)]
    metrics: Option<String>,
    /// Write the counters to this file every second (Prometheus text, for
    /// node_exporter's textfile collector), and once more at exit.
    #[arg(long)]
    metrics_file: Option<PathBuf>,
}

impl MetricsArgs {
    fn start(&self, m: &Arc<Metrics>) {
        if let Some(addr) = &self.metrics {
            let (addr, m) = (addr.clone(), m.clone());
            tokio::spawn(async move {
                if let Err(e) = metrics::serve(addr.clone(), m).await {
                    eprintln!("dmp-bridge: metrics on {addr}: {e}");
                }
            });
        }
        if let Some(path) = &self.metrics_file {
            tokio::spawn(metrics::write_textfile(
                path.clone(),
                m.clone(),
                Duration::from_secs(1),
            ));
        }
    }

    fn finish(&self, m: &Metrics) {
        if let Some(path) = &self.metrics_file {
            let tmp = path.with_extension("tmp");
            if std::fs::write(&tmp, m.render()).is_ok() {
                let _ = std::fs::rename(&tmp, path);
            }
        }
    }
}

/// Sets `stop` on SIGINT or SIGTERM: the bridge finishes what it holds.
fn stop_on_signals(stop: Arc<AtomicBool>) {
    use tokio::signal::unix::{signal, SignalKind};
    for kind in [SignalKind::interrupt(), SignalKind::terminate()] {
        let stop = stop.clone();
        if let Ok(mut s) = signal(kind) {
            tokio::spawn(async move {
                s.recv().await;
                stop.store(true, Ordering::Relaxed);
            });
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dmp-bridge: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        stop_on_signals(stop.clone());
        match &cli.command {
            Command::Out {
                conn,
                stream,
                metrics,
                args,
            } => {
                let m = Metrics::new("out", &args.ring.ring);
                metrics.start(&m);
                let r = out::run(conn, stream, args, m.clone(), stop).await;
                metrics.finish(&m);
                r
            }
            Command::In {
                conn,
                stream,
                metrics,
                args,
            } => {
                let m = Metrics::new("in", &args.ring.ring);
                metrics.start(&m);
                let r = inbound::run(conn, stream, args, m.clone(), stop).await;
                metrics.finish(&m);
                r
            }
            Command::Bench { conn, args } => bench::run(conn, args).await,
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    if let Err(e) = result {
        eprintln!("dmp-bridge: {e}");
        std::process::exit(1);
    }
}
