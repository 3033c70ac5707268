//! How the bridge reaches NATS: server URLs, credentials (a credentials
//! file, a token read from a file or the environment, user and password
//! file), TLS (CA, client certificate, TLS required, TLS first), and the
//! stream it uses. Secrets are read here and never printed: `Debug` of
//! [`Connection`] shows only whether each is set.

use crate::metrics::Metrics;
use async_nats::jetstream::{self, stream};
use clap::Args;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Connection options (shared by every subcommand).
#[derive(Args, Clone)]
pub struct Connection {
    /// Server URLs (nats://host:port, tls://host:port), comma separated or
    /// repeated; the client fails over between them and the servers a
    /// cluster announces.
    #[arg(
        long = "server",
        short = 's',
        value_delimiter = ',',
        default_value = "nats://127.0.0.1:4222"
    )]
    pub servers: Vec<String>,
    /// A NATS credentials file (user JWT and nkey seed).
    #[arg(long)]
    pub creds: Option<PathBuf>,
    /// A file holding the token (the token itself is never an argument,
    /// which `ps` would show). The environment's NATS_TOKEN is used when
    /// this is absent.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// User name, with --password-file.
    #[arg(long)]
    pub user: Option<String>,
    /// A file holding the password of --user.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// PEM file of CA certificates to trust (enables TLS).
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate, with --tls-key (mutual TLS).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Refuse a connection without TLS.
    #[arg(long)]
    pub tls_required: bool,
    /// TLS before the server's INFO (servers configured with handshake_first).
    #[arg(long)]
    pub tls_first: bool,
    /// Client name shown by the server's monitoring.
    #[arg(long, default_value = "dmp-bridge")]
    pub client_name: String,
    /// How long JetStream API requests and publish acknowledgements may
    /// take before they count as failed (and the message is sent again).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub request_timeout: Duration,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("servers", &self.servers)
            .field("creds", &self.creds.as_ref().map(|_| "<set>"))
            .field("token_file", &self.token_file.as_ref().map(|_| "<set>"))
            .field("user", &self.user)
            .field(
                "password_file",
                &self.password_file.as_ref().map(|_| "<set>"),
            )
            .field("tls_ca", &self.tls_ca)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key.as_ref().map(|_| "<set>"))
            .field("tls_required", &self.tls_required)
            .field("tls_first", &self.tls_first)
            .finish()
    }
}

fn read_secret(path: &PathBuf, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("cannot read the {what} file {}: {e}", path.display()))
}

impl Connection {
    /// Connects (retrying the first connection too), counting connects and
    /// losses in `metrics`.
    pub async fn connect(&self, metrics: Arc<Metrics>) -> Result<async_nats::Client, String> {
        let mut opts = match &self.creds {
            Some(path) => async_nats::ConnectOptions::with_credentials_file(path.clone())
                .await
                .map_err(|e| format!("cannot read the credentials file {}: {e}", path.display()))?,
            None => async_nats::ConnectOptions::new(),
        };
        let token = match &self.token_file {
            Some(p) => Some(read_secret(p, "token")?),
            None => std::env::var("NATS_TOKEN").ok().filter(|t| !t.is_empty()),
        };
        if let Some(t) = token {
            opts = opts.token(t);
        }
        if let Some(user) = &self.user {
            let pass = match &self.password_file {
                Some(p) => read_secret(p, "password")?,
                None => return Err("--user needs --password-file".into()),
            };
            opts = opts.user_and_password(user.clone(), pass);
        }
        if let Some(ca) = &self.tls_ca {
            opts = opts.add_root_certificates(ca.clone()).require_tls(true);
        }
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            opts = opts.add_client_certificate(cert.clone(), key.clone());
        }
        if self.tls_required {
            opts = opts.require_tls(true);
        }
        if self.tls_first {
            opts = opts.tls_first();
        }
        let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let m = metrics.clone();
        opts = opts
            .name(&self.client_name)
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(2))
            .request_timeout(Some(self.request_timeout))
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((50u64 << attempts.min(5)).min(1000))
            })
            .event_callback(move |event| {
                let (m, first) = (m.clone(), first.clone());
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            m.connected.set(1);
                            if !first.swap(false, std::sync::atomic::Ordering::Relaxed) {
                                m.reconnects.add(1);
                            }
                        }
                        async_nats::Event::Disconnected => {
                            m.connected.set(0);
                            m.disconnects.add(1);
                        }
                        other => eprintln!("dmp-bridge: {other}"),
                    }
                }
            });
        opts.connect(self.servers.clone())
            .await
            .map_err(|e| format!("cannot connect to {:?}: {e}", self.servers))
    }

    /// A JetStream context whose publishes wait at most the request timeout
    /// for their acknowledgement.
    pub fn jetstream(
        &self,
        client: async_nats::Client,
        max_in_flight: usize,
    ) -> jetstream::Context {
        jetstream::context::ContextBuilder::new()
            .timeout(self.request_timeout)
            .max_ack_inflight(max_in_flight.max(1))
            .build(client)
    }
}

/// The stream a bridge uses, created by the out bridge when missing.
#[derive(Args, Clone, Debug)]
pub struct StreamArgs {
    /// Stream name.
    #[arg(long, default_value = "DMP")]
    pub stream: String,
    /// Subject the out bridge publishes on (and the stream captures).
    #[arg(long, default_value = "dmp.events")]
    pub subject: String,
    /// Replicas of a stream this bridge creates (1, 3 or 5 in a cluster).
    #[arg(long, default_value_t = 1)]
    pub replicas: usize,
    /// JetStream's de-duplication window of a stream this bridge creates:
    /// a message re-sent within it with the same Nats-Msg-Id is dropped.
    #[arg(long, default_value = "2m", value_parser = parse_duration)]
    pub duplicate_window: Duration,
    /// Keep the stream in memory instead of files (a stream this bridge
    /// creates).
    #[arg(long)]
    pub memory: bool,
}

impl StreamArgs {
    /// The configuration of a stream this bridge creates.
    pub fn config(&self) -> stream::Config {
        stream::Config {
            name: self.stream.clone(),
            subjects: vec![self.subject.clone()],
            num_replicas: self.replicas,
            duplicate_window: self.duplicate_window,
            storage: if self.memory {
                stream::StorageType::Memory
            } else {
                stream::StorageType::File
            },
            ..Default::default()
        }
    }

    /// Gets the stream, creating it when missing, retrying for up to
    /// `within` while the server (or cluster) is not ready.
    pub async fn ensure(
        &self,
        js: &jetstream::Context,
        within: Duration,
    ) -> Result<stream::Stream, String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match js.get_or_create_stream(self.config()).await {
                Ok(s) => return Ok(s),
                Err(e) if tokio::time::Instant::now() < deadline => {
                    eprintln!(
                        "dmp-bridge: stream {} not ready ({e}); retrying",
                        self.stream
                    );
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(format!("stream {}: {e}", self.stream)),
            }
        }
    }
}

/// Parses `250ms`, `5s`, `2m`, `1h` or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("not a duration: {s}"))?;
    let secs = match unit {
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit in {s} (us, ms, s, m, h)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("3x").is_err());
    }
}
