//! The bridge's own counters, in the Prometheus text exposition format
//! (names prefixed `dmp_bridge_`), served over HTTP (`--metrics ADDR`)
//! and/or written atomically to a textfile (`--metrics-file PATH`, for
//! node_exporter's textfile collector) once a second.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One counter or gauge.
pub struct Metric {
    /// Name after the `dmp_bridge_` prefix.
    pub name: &'static str,
    /// `counter` or `gauge`.
    pub kind: &'static str,
    /// The HELP text.
    pub help: &'static str,
    value: AtomicI64,
}

impl Metric {
    const fn new(name: &'static str, kind: &'static str, help: &'static str) -> Metric {
        Metric {
            name,
            kind,
            help,
            value: AtomicI64::new(0),
        }
    }
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.value.fetch_add(n as i64, Ordering::Relaxed);
    }
    /// Sets a gauge.
    pub fn set(&self, v: i64) {
        self.value.store(v, Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }
}

/// Every counter of one bridge (both directions share the set; each
/// direction moves the ones that concern it).
pub struct Metrics {
    /// Which direction: `out` or `in` (the `direction` label).
    pub direction: &'static str,
    /// The ring's name (the `ring` label).
    pub ring: String,
    /// Messages published to JetStream (first sends).
    pub messages_sent: Metric,
    /// Events in those messages.
    pub events_sent: Metric,
    /// Messages JetStream acknowledged.
    pub messages_acked: Metric,
    /// Events in acknowledged messages.
    pub events_acked: Metric,
    /// Acknowledgements JetStream flagged as duplicates.
    pub messages_duplicate_acks: Metric,
    /// Messages published and not yet acknowledged.
    pub messages_in_flight: Metric,
    /// Messages sent again after a failed or missing acknowledgement.
    pub messages_resent: Metric,
    /// The last ring sequence committed after its acknowledgement.
    pub committed_sequence: Metric,
    /// Events the out bridge's name missed when it (re)joined the ring.
    pub events_lost_on_join: Metric,
    /// Messages received from JetStream.
    pub messages_received: Metric,
    /// Events published into the ring.
    pub events_applied: Metric,
    /// Events skipped as already applied (redeliveries, re-sent overlaps).
    pub events_duplicate_skipped: Metric,
    /// Messages whose every event had been applied before.
    pub messages_duplicate_skipped: Metric,
    /// Messages acknowledged to JetStream after publishing.
    pub messages_acknowledged: Metric,
    /// Messages put back (nak) because an earlier one had not come yet.
    pub messages_out_of_order: Metric,
    /// Times a ring wait found no room (full ring) or nothing to send.
    pub ring_full_waits: Metric,
    /// Times the out bridge waited for acknowledgements with the in-flight
    /// window full (a slow or absent server).
    pub in_flight_full_waits: Metric,
    /// Publish or fetch errors (timeouts, no responders, lost connection).
    pub errors: Metric,
    /// Connections re-established after a loss.
    pub reconnects: Metric,
    /// Connections lost.
    pub disconnects: Metric,
    /// 1 while connected to a server.
    pub connected: Metric,
}

impl Metrics {
    /// A zeroed set for one bridge.
    pub fn new(direction: &'static str, ring: &str) -> Arc<Metrics> {
        Arc::new(Metrics {
            direction,
            ring: ring.to_string(),
            messages_sent: Metric::new(
                "messages_sent_total",
                "counter",
                "messages published to JetStream (first sends)",
            ),
            events_sent: Metric::new(
                "events_sent_total",
                "counter",
                "events in the messages published",
            ),
            messages_acked: Metric::new(
                "messages_acked_total",
                "counter",
                "messages JetStream acknowledged",
            ),
            events_acked: Metric::new(
                "events_acked_total",
                "counter",
                "events in acknowledged messages",
            ),
            messages_duplicate_acks: Metric::new(
                "messages_duplicate_acks_total",
                "counter",
                "acknowledgements JetStream flagged duplicate (dropped within its window)",
            ),
            messages_in_flight: Metric::new(
                "messages_in_flight",
                "gauge",
                "messages published and not yet acknowledged",
            ),
            messages_resent: Metric::new(
                "messages_resent_total",
                "counter",
                "messages sent again after a failed or missing acknowledgement",
            ),
            committed_sequence: Metric::new(
                "committed_sequence",
                "gauge",
                "last ring sequence committed (out) or published (in)",
            ),
            events_lost_on_join: Metric::new(
                "events_lost_on_join_total",
                "counter",
                "events the out bridge's name missed when it joined or rejoined the ring",
            ),
            messages_received: Metric::new(
                "messages_received_total",
                "counter",
                "messages received from JetStream",
            ),
            events_applied: Metric::new(
                "events_applied_total",
                "counter",
                "events published into the ring",
            ),
            events_duplicate_skipped: Metric::new(
                "events_duplicate_skipped_total",
                "counter",
                "events skipped as applied before",
            ),
            messages_duplicate_skipped: Metric::new(
                "messages_duplicate_skipped_total",
                "counter",
                "messages whose every event was applied before",
            ),
            messages_acknowledged: Metric::new(
                "messages_acknowledged_total",
                "counter",
                "messages acknowledged to JetStream after publishing",
            ),
            messages_out_of_order: Metric::new(
                "messages_out_of_order_total",
                "counter",
                "messages put back because an earlier one had not arrived",
            ),
            ring_full_waits: Metric::new(
                "ring_full_waits_total",
                "counter",
                "ring claims that found the ring full (in)",
            ),
            in_flight_full_waits: Metric::new(
                "in_flight_full_waits_total",
                "counter",
                "waits for acknowledgements with the in-flight window full (out)",
            ),
            errors: Metric::new(
                "errors_total",
                "counter",
                "publish, acknowledgement or fetch errors",
            ),
            reconnects: Metric::new(
                "reconnects_total",
                "counter",
                "connections re-established after a loss",
            ),
            disconnects: Metric::new("disconnects_total", "counter", "connections lost"),
            connected: Metric::new("connected", "gauge", "1 while connected to a server"),
        })
    }

    fn all(&self) -> [&Metric; 21] {
        [
            &self.messages_sent,
            &self.events_sent,
            &self.messages_acked,
            &self.events_acked,
            &self.messages_duplicate_acks,
            &self.messages_in_flight,
            &self.messages_resent,
            &self.committed_sequence,
            &self.events_lost_on_join,
            &self.messages_received,
            &self.events_applied,
            &self.events_duplicate_skipped,
            &self.messages_duplicate_skipped,
            &self.messages_acknowledged,
            &self.messages_out_of_order,
            &self.ring_full_waits,
            &self.in_flight_full_waits,
            &self.errors,
            &self.reconnects,
            &self.disconnects,
            &self.connected,
        ]
    }

    /// The value of a metric by its name (after the prefix), for tests.
    pub fn value(&self, name: &str) -> Option<i64> {
        self.all().iter().find(|m| m.name == name).map(|m| m.get())
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let ring = self.ring.replace('\\', "\\\\").replace('"', "\\\"");
        for m in self.all() {
            let _ = writeln!(out, "# HELP dmp_bridge_{} {}", m.name, m.help);
            let _ = writeln!(out, "# TYPE dmp_bridge_{} {}", m.name, m.kind);
            let _ = writeln!(
                out,
                "dmp_bridge_{}{{direction=\"{}\",ring=\"{ring}\"}} {}",
                m.name,
                self.direction,
                m.get()
            );
        }
        out
    }
}

/// Parses a Prometheus text exposition into (name, value) pairs (the
/// samples, labels dropped): the tests' and the bench's reader.
pub fn parse_text(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            let name = name.split('{').next()?.to_string();
            Some((name, value.parse().ok()?))
        })
        .collect()
}

/// Serves `GET /metrics` (any path) on `addr` until the runtime stops.
pub async fn serve(addr: String, metrics: Arc<Metrics>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!(
        "dmp-bridge: metrics on http://{}/metrics",
        listener.local_addr()?
    );
    loop {
        let (mut sock, _) = listener.accept().await?;
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            // The request line is all we need; a client that sends nothing
            // within a second gets nothing.
            let _ = tokio::time::timeout(Duration::from_secs(1), sock.read(&mut buf)).await;
            let body = metrics.render();
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(reply.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}

/// Writes the exposition to `path` every `every` (through a temporary file
/// renamed over it, so a reader never sees half a file).
pub async fn write_textfile(path: PathBuf, metrics: Arc<Metrics>, every: Duration) {
    let tmp = path.with_extension("tmp");
    loop {
        if std::fs::write(&tmp, metrics.render()).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_is_prometheus_text() {
        let m = Metrics::new("out", "q\"x");
        m.events_sent.add(5);
        let text = m.render();
        assert!(text.contains("# TYPE dmp_bridge_events_sent_total counter"));
        assert!(text.contains("dmp_bridge_events_sent_total{direction=\"out\",ring=\"q\\\"x\"} 5"));
        let parsed = parse_text(&text);
        assert!(parsed.contains(&("dmp_bridge_events_sent_total".to_string(), 5.0)));
        assert_eq!(parsed.len(), 21);
    }
}
