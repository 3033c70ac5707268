//! Running the reader and the tool: bounded child processes, their JSON and text, rings in motion.

use super::*;

/// Runs `cmd` to completion within `T`: (status, stdout, stderr).
pub(crate) fn capture(mut cmd: Command, what: &str) -> (ExitStatus, String, String) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut bytes);
            }
            let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
        });
        rx
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if start.elapsed() > T {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {T:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let get = |rx: std::sync::mpsc::Receiver<String>| {
        rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default()
    };
    (status, get(out), get(err))
}

/// Whether python3 runs here. Missing: a failure under CI, a skip (with
/// the reason) elsewhere.
pub(crate) fn python_available() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 is needed to run tools/dmp_format.py (install it: apt-get install python3)"
        );
        eprintln!(
            "format_reader: SKIPPED: python3 is not installed, so tools/dmp_format.py cannot run"
        );
    }
    found
}

pub(crate) fn reader_cmd(target: &[&str]) -> Command {
    let mut c = Command::new("python3");
    c.arg(support::repo_root().join("tools/dmp_format.py"))
        .args(target)
        .arg("--payloads");
    c
}

/// The reader's JSON for a ring it must accept.
pub(crate) fn reader(target: &[&str]) -> Value {
    let (status, out, err) = capture(reader_cmd(target), "tools/dmp_format.py");
    assert!(
        status.success(),
        "tools/dmp_format.py {target:?} refused the ring ({status}):\n{err}{out}"
    );
    serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("tools/dmp_format.py printed invalid JSON ({e}):\n{out}"))
}

pub(crate) fn dmp_ok(args: &[&str], what: &str) -> String {
    let mut c = dmp();
    c.args(args);
    let (status, out, err) = capture(c, what);
    assert!(status.success(), "{what} failed ({status}):\n{out}{err}");
    out
}

pub(crate) fn stat(target: &[&str]) -> Value {
    let mut args = vec!["stat"];
    args.extend_from_slice(target);
    args.push("--json");
    let out = dmp_ok(&args, "dmp stat --json");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{out}"))
}

pub(crate) fn inspect(target: &[&str]) -> String {
    let mut args = vec!["inspect"];
    args.extend_from_slice(target);
    dmp_ok(&args, "dmp inspect")
}

pub(crate) fn create(target: &[&str], extra: &[&str]) {
    let mut args = vec!["create"];
    args.extend_from_slice(target);
    args.extend_from_slice(extra);
    dmp_ok(&args, "dmp create");
}

pub(crate) fn consumer(target: &[&str], name: &str, extra: &[&str]) -> Proc {
    let mut c = dmp();
    c.arg("consume")
        .args(target)
        .args(["--name", name, "--timeout-ms", "60000"])
        .args(extra);
    let mut p = Proc::spawn(c, &format!("consumer {name}"));
    p.wait_line("ready", READY);
    p
}

pub(crate) fn producer(target: &[&str], extra: &[&str]) -> Proc {
    let mut c = dmp();
    c.arg("produce")
        .args(target)
        .args(["--timeout-ms", "60000"])
        .args(extra);
    let mut p = Proc::spawn(c, "producer");
    p.wait_line("producing as entry", READY);
    p
}

/// Polls `dmp stat --json` until `done` holds (bounded, yielding).
pub(crate) fn wait_stat(target: &[&str], what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let s = stat(target);
        if done(&s) {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}; last stat: {s}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
