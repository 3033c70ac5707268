//! A tokio service that reads a ring and a TCP socket in one task.
//!
//! ```text
//! cargo run --release -p dmp-async --example service -- RING 127.0.0.1:7070
//! ```
//!
//! It registers the consumer `service` on RING and listens on the address;
//! one task waits on both with `tokio::select!`: each batch of events is
//! counted and committed, and each TCP client gets one line, the number of
//! events consumed so far. No thread blocks on the ring.

use disruptor_mp::{Location, Ring, RingOptions, WaitStrategy};
use dmp_async::AsyncConsumer;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let ring = args.next().ok_or("usage: service RING ADDRESS")?;
    let address = args.next().ok_or("usage: service RING ADDRESS")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let ring = Ring::open(&Location::shm(ring), &RingOptions::new())?;
        let consumer = ring.consumer("service", &[], WaitStrategy::Blocking)?;
        let mut events = AsyncConsumer::new(consumer)?;
        let listener = TcpListener::bind(&address).await?;
        println!("ready {}", listener.local_addr()?);
        let mut consumed = 0u64;
        loop {
            tokio::select! {
                batch = events.next_batch() => {
                    let batch = batch?;
                    consumed += (batch.end() - batch.start() + 1) as u64;
                    events.consumer().commit(*batch.end())?;
                }
                client = listener.accept() => {
                    let (mut stream, _) = client?;
                    stream.write_all(format!("{consumed}\n").as_bytes()).await?;
                }
            }
        }
    })
}
