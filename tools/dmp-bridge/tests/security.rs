//! TLS (a CA of the test's own, server certificate for 127.0.0.1) and a
//! token (from a file for out, from NATS_TOKEN for in): events flow, and
//! the token appears in no output of the bridges.

mod support;

use std::process::Command;
use std::time::Duration;
use support::*;

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn tls_and_a_token_secret_never_printed() {
    if !need_nats() || !need("openssl", "openssl") {
        return;
    }
    let _g = serial();
    let lab = Lab::new();
    let d = lab.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=dmp-bridge-test-ca",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "srv.key",
            "-out",
            "srv.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    let token = "tok-8f3e1c0d-never-printed";
    std::fs::write(d.join("token"), format!("{token}\n")).unwrap();
    let extra = format!(
        "tls {{ cert_file: \"{}\", key_file: \"{}\" }}\nauthorization {{ token: \"{token}\" }}",
        d.join("srv.pem").display(),
        d.join("srv.key").display()
    );
    let server = Server::new(d, "tls", "127.0.0.1", free_port(), &extra, &[]);
    server.wait_listening(Duration::from_secs(15));
    let url = format!("tls://127.0.0.1:{}", server.port);
    let n = 5000;
    let a = lab.ring("a", 1024, EVENT);
    let b = lab.ring("b", 1024, EVENT);
    let checker = Checker::start(&b, n, Duration::from_secs(60), true);
    let ca = d.join("ca.pem").display().to_string();
    let token_file = d.join("token").display().to_string();
    let (out_prom, in_prom) = (d.join("out.prom"), d.join("in.prom"));
    let out = lab.bridge(
        "out",
        &out_args(
            &url,
            &a.0,
            "SEC",
            &out_prom,
            &["--tls-ca", &ca, "--token-file", &token_file],
        ),
        &[],
    );
    let mut in_cmd = Command::new(env!("CARGO_BIN_EXE_dmp-bridge"));
    in_cmd
        .args(in_args(
            &url,
            &b.0,
            "SEC",
            &d.join("in.state"),
            &in_prom,
            &["--tls-ca", &ca, "--tls-required"],
        ))
        .env("NATS_TOKEN", token);
    let inb = Proc::spawn(in_cmd, "in", d.join("in.log"));
    wait_until("out joins ring A", Duration::from_secs(20), || {
        committed(&a, "dmp-bridge")
    });
    produce(&a.open(), n, Duration::ZERO);
    let got = checker.join();
    assert_eq!(
        got,
        Ok(n),
        "out:\n{}\nin:\n{}",
        out.log_tail(),
        inb.log_tail()
    );
    // --help and the logs and counters: no token anywhere.
    let help = Command::new(env!("CARGO_BIN_EXE_dmp-bridge"))
        .args(["out", "--help"])
        .output()
        .unwrap();
    let mut everything = String::from_utf8_lossy(&help.stdout).into_owned();
    for f in ["out.log", "in.log", "out.prom", "in.prom"] {
        everything.push_str(&std::fs::read_to_string(d.join(f)).unwrap_or_default());
    }
    assert!(!everything.contains(token), "the token was printed");
    assert!(everything.contains("--token-file"), "{everything}");
}
