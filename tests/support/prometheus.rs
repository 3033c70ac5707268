//! Checking Prometheus text with real tools: the parser of the Python
//! `prometheus_client` package (installed from PyPI into the build
//! directory when missing), the structural rules it does not check, and
//! `promtool check metrics` (Debian's `prometheus` package, installed when
//! running as root). A test of the `dmp` crate (which has serde_json)
//! includes it beside `support` with
//! `#[path = "support/prometheus.rs"] mod prometheus_check;`.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A Python interpreter that can import `prometheus_client`, installing it
/// (from PyPI, into the build directory) when it is missing.
pub fn python_with_prometheus_client() -> (String, Option<PathBuf>) {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = |path: Option<&Path>| {
        let mut c = Command::new(&python);
        c.args(["-c", "import prometheus_client.parser"]);
        if let Some(p) = path {
            c.env("PYTHONPATH", p);
        }
        c.output().map(|o| o.status.success()).unwrap_or(false)
    };
    if probe(None) {
        return (python, None);
    }
    let dir = crate::support::target_dir().join("py-prometheus-client");
    if probe(Some(&dir)) {
        return (python, Some(dir));
    }
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--no-input", "--target"])
        .arg(&dir)
        .arg("prometheus_client")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} to install prometheus_client: {e}"));
    assert!(
        out.status.success() && probe(Some(&dir)),
        "could not install the Python package prometheus_client (needed to check the Prometheus output with a real parser): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (python, Some(dir))
}

/// What the exposition format requires beyond what the Python parser
/// checks: each family once, HELP then TYPE before its samples, valid
/// metric and label names, no series twice, no timestamps (the textfile
/// collector refuses them).
pub fn assert_exposition_structure(text: &str) {
    let name_ok = |n: &str| {
        n.chars().enumerate().all(|(i, c)| {
            c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
        }) && !n.is_empty()
    };
    let mut seen = std::collections::HashSet::new();
    let mut series = std::collections::HashSet::new();
    let mut current: Option<String> = None;
    let mut typed = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(name_ok(name), "{line}");
            assert!(seen.insert(name.to_string()), "family {name} twice");
            current = Some(name.to_string());
            typed = false;
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut w = rest.split(' ');
            assert_eq!(
                w.next(),
                current.as_deref(),
                "TYPE without its HELP: {line}"
            );
            assert!(matches!(w.next(), Some("counter" | "gauge")), "{line}");
            typed = true;
        } else if line.starts_with('#') {
            // A comment.
        } else {
            let fam = current.as_deref().expect("a sample before any HELP");
            assert!(typed, "sample before TYPE: {line}");
            let (metric, labels, value) = match line.split_once('{') {
                Some((metric, rest)) => {
                    let (labels, value) = rest.rsplit_once("} ").expect("value");
                    (metric, labels, value)
                }
                None => {
                    let (metric, value) = line.split_once(' ').expect("value");
                    (metric, "", value)
                }
            };
            assert_eq!(metric, fam, "{line}");
            assert!(!value.contains(' '), "a timestamp or junk: {line}");
            value
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("value: {line}"));
            for pair in labels.split("\",").filter(|p| !p.is_empty()) {
                let (k, _) = pair.split_once('=').expect("label=value");
                assert!(name_ok(k) && !k.starts_with("__"), "label {k}: {line}");
            }
            assert!(
                series.insert(format!("{metric}{{{labels}}}")),
                "twice: {line}"
            );
        }
    }
}

const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
out = []
for f in text_string_to_metric_families(text):
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value}
                            for s in f.samples]})
print(json.dumps(out))
"#;

/// The Python parser, ready to run.
pub struct Parser {
    python: String,
    pythonpath: Option<PathBuf>,
    dir: tempfile::TempDir,
}

impl Parser {
    pub fn new() -> Parser {
        let (python, pythonpath) = python_with_prometheus_client();
        Parser {
            python,
            pythonpath,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Checks the structure of `text` and parses it with
    /// `text_string_to_metric_families`: a JSON array of families, each
    /// `{name, type, help, samples: [{name, labels, value}]}`.
    pub fn parse(&self, text: &str) -> Value {
        assert_exposition_structure(text);
        let file = self.dir.path().join("metrics.prom");
        std::fs::write(&file, text).unwrap();
        let mut cmd = Command::new(&self.python);
        cmd.args(["-c", PARSE]).arg(&file);
        if let Some(pp) = &self.pythonpath {
            cmd.env("PYTHONPATH", pp);
        }
        let out = cmd.output().expect("run python");
        assert!(
            out.status.success(),
            "prometheus_client rejected the output: {}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// `promtool`, installing Debian's `prometheus` package when running as
/// root; None (after `skip_or_fail`, which fails under CI=true) when it
/// cannot be had.
pub fn promtool() -> Option<PathBuf> {
    let found = || {
        Command::new("promtool")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if found() {
        return Some("promtool".into());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let _ = Command::new("sh")
            .args(["-c", "apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1"])
            .status();
        if found() {
            return Some("promtool".into());
        }
    }
    crate::support::skip_or_fail(
        "promtool is missing (Debian package prometheus) and cannot be installed",
    );
    None
}

/// `promtool check metrics` on `text`: its complaints, if any.
pub fn promtool_check(promtool: &Path, text: &str) -> Result<(), String> {
    use std::io::Write as _;
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run promtool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && said.trim().is_empty() {
        Ok(())
    } else {
        Err(said)
    }
}
