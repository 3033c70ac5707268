//! `dmp stat --serve ADDR`: an HTTP endpoint for Prometheus to scrape.
//! `GET /metrics` answers the text exposition of every ring found at that
//! moment (the directory is read again for each scrape) or of the rings
//! named on the command line, within the exposition's limits
//! (`discover::Limits`); every other path is 404. One scrape at a time, on
//! the calling thread: a slow or concurrent scraper waits, the rings never
//! do (an exposition only reads them).
//!
//! The server is tiny_http's (a synchronous HTTP/1.1 server, no async
//! runtime). The first line on stdout is `serving http://ADDR/metrics`
//! with the address actually bound, so `127.0.0.1:0` can be used and
//! found.

use super::discover::{exposition, Limits, Sources};
use super::prometheus::CONTENT_TYPE;
use crate::CmdResult;
use std::io::Write as _;
use tiny_http::{Header, Method, Response, Server};

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

/// Serves until the process is stopped (or the listener fails).
pub(super) fn serve(addr: &str, sources: &Sources, limits: Limits) -> CmdResult {
    let server = Server::http(addr).map_err(|e| format!("--serve {addr}: {e}"))?;
    let bound = server
        .server_addr()
        .to_ip()
        .map_or_else(|| addr.to_string(), |a| a.to_string());
    let mut out = std::io::stdout().lock();
    writeln!(out, "serving http://{bound}/metrics")?;
    out.flush()?;
    drop(out);
    for request in server.incoming_requests() {
        let path = request.url().split('?').next().unwrap_or("");
        let method = request.method().clone();
        let response = match (&method, path) {
            (Method::Get | Method::Head, "/metrics") => match exposition(sources, limits) {
                Ok(e) => Response::from_string(e.render())
                    .with_header(header("Content-Type", CONTENT_TYPE)),
                Err(e) => Response::from_string(format!("dmp: {e}\n")).with_status_code(500),
            },
            (_, "/metrics") => Response::from_string("only GET and HEAD\n")
                .with_status_code(405)
                .with_header(header("Allow", "GET, HEAD")),
            _ => Response::from_string("not found: the metrics are at /metrics\n")
                .with_status_code(404),
        };
        // A scraper that went away is its own problem, not the server's.
        let _ = request.respond(response);
    }
    Ok(())
}
