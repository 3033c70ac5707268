//! A three-node JetStream cluster on loopback with an R3 stream: one
//! server killed mid-run and brought back; nothing is lost or repeated,
//! and the bridges recover without restarts.

mod support;

use std::time::Duration;
use support::*;

/// The name of the stream's leader (`c0`, `c1`, `c2`), asked of `url`.
fn stream_leader(url: &str, stream: &str) -> Option<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async {
        let go = async {
            let js = async_nats::jetstream::new(async_nats::connect(url).await.ok()?);
            let mut s = js.get_stream(stream).await.ok()?;
            s.info().await.ok()?.cluster.clone()?.leader
        };
        tokio::time::timeout(Duration::from_secs(5), go)
            .await
            .ok()
            .flatten()
    })
}

#[test]
fn a_server_of_three_dies_and_returns_mid_run() {
    if !need_nats() {
        return;
    }
    let _g = serial();
    let n = 20_000;
    let lab = Lab::new();
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let routes: Vec<String> = ports
        .iter()
        .map(|(_, c)| format!("nats-route://127.0.0.1:{c}"))
        .collect();
    let cluster = |i: usize| {
        format!(
            "cluster {{ name: dmpc, listen: 127.0.0.1:{}, routes: [{}] }}",
            ports[i].1,
            routes.join(", ")
        )
    };
    let mut servers: Vec<Server> = (0..3)
        .map(|i| {
            Server::new(
                lab.path(),
                &format!("c{i}"),
                "127.0.0.1",
                ports[i].0,
                &cluster(i),
                &[],
            )
        })
        .collect();
    for s in &servers {
        s.wait_listening(Duration::from_secs(15));
    }
    let urls: Vec<String> = servers.iter().map(Server::url).collect();
    let all = urls.join(",");
    let a = lab.ring("a", 4096, EVENT);
    let b = lab.ring("b", 4096, EVENT);
    let checker = Checker::start(&b, n, Duration::from_secs(240), true);
    let stream = "R3";
    let (out_prom, in_prom) = (lab.path().join("out.prom"), lab.path().join("in.prom"));
    let mut out = lab.bridge(
        "out",
        &out_args(&all, &a.0, stream, &out_prom, &["--replicas", "3"]),
        &[],
    );
    let mut inb = lab.bridge(
        "in",
        &in_args(
            &all,
            &b.0,
            stream,
            &lab.path().join("in.state"),
            &in_prom,
            &["--replicas", "3"],
        ),
        &[],
    );
    wait_until("out joins ring A", Duration::from_secs(20), || {
        committed(&a, "dmp-bridge")
    });
    // The stream exists (R3) once the cluster has a JetStream leader.
    wait_until(
        "the R3 stream and in's consumer",
        Duration::from_secs(60),
        || consumer_idle(&urls[1], stream, "dmp-bridge").then_some(()),
    );
    let ra = a.open();
    let producer = std::thread::spawn(move || produce(&ra, n, Duration::from_micros(200)));
    wait_until("a quarter through", Duration::from_secs(60), || {
        (checker.seen.load(std::sync::atomic::Ordering::Relaxed) > n / 4).then_some(())
    });
    // Kill the stream's leader: a new one is elected while the bridges
    // keep publishing and fetching.
    let leader = wait_until("the stream's leader", Duration::from_secs(20), || {
        stream_leader(&urls[1], stream)
    });
    let victim: usize = leader.trim_start_matches('c').parse().expect("c<i>");
    eprintln!("killing the stream leader {leader}");
    servers[victim].proc.as_mut().expect("running").kill9();
    // A new stream leader, and the clients' reconnections, usually take a
    // few seconds; on two loaded cores a raft election can take tens. The
    // bound is generous, and a failure shows both bridges' logs.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let seen = checker.seen.load(std::sync::atomic::Ordering::Relaxed);
        if seen > n / 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "half through with a server down: not within 120 s ({seen} of {n} events seen)\nout:\n{}\nin:\n{}",
            out.log_tail(),
            inb.log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    servers[victim].start(lab.path(), &leader);
    servers[victim].wait_listening(Duration::from_secs(15));
    let got = checker.join();
    assert_eq!(
        got,
        Ok(n),
        "out:\n{}\nin:\n{}",
        out.log_tail(),
        inb.log_tail()
    );
    producer.join().expect("producer");
    wait_until("out commits everything", Duration::from_secs(30), || {
        (committed(&a, "dmp-bridge") == Some(n as i64 - 1)).then_some(())
    });
    wait_until(
        "in acknowledges everything",
        Duration::from_secs(30),
        || consumer_idle(&urls[(victim + 1) % 3], stream, "dmp-bridge").then_some(()),
    );
    assert_eq!(b.open().cursor(), n as i64 - 1);
    std::thread::sleep(Duration::from_millis(1100)); // a textfile refresh
    for (p, side) in [(&out_prom, "out"), (&in_prom, "in")] {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        let pick: Vec<String> = dmp_bridge::metrics::parse_text(&text)
            .into_iter()
            .filter(|(k, v)| {
                *v != 0.0
                    && (k.contains("resent")
                        || k.contains("reconnect")
                        || k.contains("error")
                        || k.contains("duplicate")
                        || k.contains("out_of_order"))
            })
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        eprintln!("{side}: {}", pick.join(" "));
    }
    assert!(
        out.running() && inb.running(),
        "a bridge exited:\n{}\n{}",
        out.log_tail(),
        inb.log_tail()
    );
}
