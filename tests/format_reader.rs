//! A second reader of the segment format, written from docs/FORMAT.md
//! alone (`tools/dmp_format.py`, Python's standard library), against
//! `dmp stat --json` and `dmp inspect` on real rings of many
//! configurations, live and finished: every field both report must agree,
//! and the events `dmp produce` wrote must decode as FORMAT.md says. Then
//! damaged copies of a ring: the reader and the tool must refuse each for
//! the same reason.
//!
//! Finished rings (every participant gone or stopped) are compared field
//! by field. Live rings are read as `dmp stat`, the reader, `dmp stat`
//! again and `dmp inspect`: fields that do not change while the
//! participants run must be equal, counters and sequences (which only
//! grow) must lie between the two `dmp stat` readings, and figures that
//! move both ways (lag, mean batch) are left out.

mod support;

use disruptor_mp::layout;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use support::{dmp, Proc, ShmName};

const T: Duration = Duration::from_secs(120);
const READY: Duration = Duration::from_secs(20);

/// Runs `cmd` to completion within `T`: (status, stdout, stderr).
fn capture(mut cmd: Command, what: &str) -> (ExitStatus, String, String) {
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
fn python_available() -> bool {
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

fn reader_cmd(target: &[&str]) -> Command {
    let mut c = Command::new("python3");
    c.arg(support::repo_root().join("tools/dmp_format.py"))
        .args(target)
        .arg("--payloads");
    c
}

/// The reader's JSON for a ring it must accept.
fn reader(target: &[&str]) -> Value {
    let (status, out, err) = capture(reader_cmd(target), "tools/dmp_format.py");
    assert!(
        status.success(),
        "tools/dmp_format.py {target:?} refused the ring ({status}):\n{err}{out}"
    );
    serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("tools/dmp_format.py printed invalid JSON ({e}):\n{out}"))
}

fn dmp_ok(args: &[&str], what: &str) -> String {
    let mut c = dmp();
    c.args(args);
    let (status, out, err) = capture(c, what);
    assert!(status.success(), "{what} failed ({status}):\n{out}{err}");
    out
}

fn stat(target: &[&str]) -> Value {
    let mut args = vec!["stat"];
    args.extend_from_slice(target);
    args.push("--json");
    let out = dmp_ok(&args, "dmp stat --json");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{out}"))
}

fn inspect(target: &[&str]) -> String {
    let mut args = vec!["inspect"];
    args.extend_from_slice(target);
    dmp_ok(&args, "dmp inspect")
}

fn create(target: &[&str], extra: &[&str]) {
    let mut args = vec!["create"];
    args.extend_from_slice(target);
    args.extend_from_slice(extra);
    dmp_ok(&args, "dmp create");
}

fn consumer(target: &[&str], name: &str, extra: &[&str]) -> Proc {
    let mut c = dmp();
    c.arg("consume")
        .args(target)
        .args(["--name", name, "--timeout-ms", "60000"])
        .args(extra);
    let mut p = Proc::spawn(c, &format!("consumer {name}"));
    p.wait_line("ready", READY);
    p
}

fn producer(target: &[&str], extra: &[&str]) -> Proc {
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
fn wait_stat(target: &[&str], what: &str, done: impl Fn(&Value) -> bool) -> Value {
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

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

/// How a field may differ between two readings of a ring in motion.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Never changes while the participants run: equal.
    Stable,
    /// Only grows: between the readings before and after the reader's.
    Grows,
    /// Moves both ways: compared on finished rings only.
    Moves,
}

/// One sample of a ring: the reader's JSON between two `dmp stat`s, and
/// `dmp inspect` after them.
struct Sample {
    before: Value,
    reader: Value,
    after: Value,
    inspect: String,
    live: bool,
}

fn sample(target: &[&str], live: bool) -> Sample {
    let before = stat(target);
    let reader = reader(target);
    let after = stat(target);
    let inspect = inspect(target);
    Sample {
        before,
        reader,
        after,
        inspect,
        live,
    }
}

#[derive(Default)]
struct Tally {
    fields: usize,
    stat_fields: usize,
    inspect_fields: usize,
    events: usize,
    configurations: Vec<String>,
    refusals: usize,
    mismatches: Vec<String>,
}

fn int(v: &Value) -> Option<i128> {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
}

/// Two JSON values as the same figure: integers exactly, other numbers to
/// 1e-9 relative, the rest structurally.
fn same(a: &Value, b: &Value) -> bool {
    match (int(a), int(b)) {
        (Some(x), Some(y)) => x == y,
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            _ => match (a, b) {
                (Value::Array(x), Value::Array(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
                }
                _ => a == b,
            },
        },
    }
}

struct Cmp<'a> {
    config: &'a str,
    tally: &'a mut Tally,
}

impl Cmp<'_> {
    fn mismatch(&mut self, what: String) {
        self.tally
            .mismatches
            .push(format!("[{}] {what}", self.config));
    }

    /// A `dmp stat` field against the reader's figure.
    fn stat(
        &mut self,
        s: &Sample,
        field: &str,
        kind: Kind,
        before: &Value,
        reader: &Value,
        after: &Value,
    ) {
        if s.live && kind == Kind::Moves {
            return;
        }
        let ok = if !s.live || kind == Kind::Stable {
            same(before, reader) && same(after, reader)
        } else {
            match (int(before), int(reader), int(after)) {
                (Some(b), Some(r), Some(a)) => b <= r && r <= a,
                _ => same(before, reader) && same(after, reader),
            }
        };
        self.tally.fields += 1;
        self.tally.stat_fields += 1;
        if !ok {
            self.mismatch(format!(
                "stat field {field}: dmp stat {before} then {after}, reader {reader}"
            ));
        }
    }

    /// A `dmp inspect` field (read after the second `dmp stat`) against
    /// the reader's figure.
    fn inspect(&mut self, s: &Sample, field: &str, kind: Kind, tool: &str, reader: &str) {
        if s.live && kind == Kind::Moves {
            return;
        }
        let ok = if s.live && kind == Kind::Grows {
            match (tool.parse::<i128>(), reader.parse::<i128>()) {
                (Ok(t), Ok(r)) => r <= t,
                _ => tool == reader,
            }
        } else {
            tool == reader
        };
        self.tally.fields += 1;
        self.tally.inspect_fields += 1;
        if !ok {
            self.mismatch(format!(
                "inspect field {field}: dmp inspect {tool:?}, reader {reader:?}"
            ));
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The entries of a table by index.
fn by_index(list: &Value) -> BTreeMap<i128, &Value> {
    list.as_array()
        .map(|a| a.iter().map(|e| (int(&e["index"]).unwrap(), e)).collect())
        .unwrap_or_default()
}

/// `dmp stat --json` against the reader.
fn compare_stat(c: &mut Cmp, s: &Sample) {
    let r = &s.reader;
    let h = &r["header"];
    let derived = |k: &str| r["derived"][k].clone();
    let ring = |k: &str| r["ring_counters"][k].clone();
    let layout_word = if h["packed"] == Value::Bool(true) {
        "packed"
    } else {
        "stamped"
    };
    let mode_word = if int(&h["producer_mode"]) == Some(1) {
        "multi"
    } else {
        "single"
    };
    let hot = Value::Bool(h["no_hot_counters"] != Value::Bool(true));
    let ring_fields: Vec<(&str, Kind, Value)> = vec![
        ("path", Kind::Stable, r["path"].clone()),
        ("format_version", Kind::Stable, h["format_version"].clone()),
        ("capacity", Kind::Stable, h["capacity"].clone()),
        ("slot_size", Kind::Stable, h["slot_size"].clone()),
        ("stride", Kind::Stable, h["slot_stride"].clone()),
        ("layout", Kind::Stable, Value::from(layout_word)),
        ("producer_mode", Kind::Stable, Value::from(mode_word)),
        ("flags", Kind::Stable, h["flags"].clone()),
        ("wakeups_enabled", Kind::Stable, h["wakeups"].clone()),
        ("hot_counters", Kind::Stable, hot),
        ("max_producers", Kind::Stable, h["max_producers"].clone()),
        ("max_consumers", Kind::Stable, h["max_consumers"].clone()),
        ("cursor", Kind::Grows, derived("cursor")),
        ("claimed", Kind::Grows, derived("claimed")),
        ("published", Kind::Grows, derived("published")),
        ("abandoned", Kind::Grows, ring("abandoned")),
        ("attaches", Kind::Grows, ring("attaches")),
        ("detaches", Kind::Grows, ring("detaches")),
        (
            "back_pressure_waits",
            Kind::Grows,
            ring("back_pressure_waits"),
        ),
        ("wakeups", Kind::Grows, ring("wakeups")),
        ("evictions", Kind::Grows, ring("evictions")),
        ("stall_alerts", Kind::Grows, ring("stall_alerts")),
    ];
    for (field, kind, mine) in ring_fields {
        c.stat(s, field, kind, &s.before[field], &mine, &s.after[field]);
    }
    let held = |st: &Value| {
        st["held_back_by"]
            .get("index")
            .cloned()
            .unwrap_or(Value::Null)
    };
    c.stat(
        s,
        "held_back_by",
        Kind::Moves,
        &held(&s.before),
        &derived("held_back_by"),
        &held(&s.after),
    );

    for (table, fields) in [
        (
            "producers",
            &[
                ("state", Kind::Stable),
                ("pid", Kind::Stable),
                ("alive", Kind::Stable),
                ("epoch", Kind::Stable),
                ("pending_claim", Kind::Stable),
                ("events", Kind::Grows),
                ("batches", Kind::Grows),
                ("waits", Kind::Grows),
                ("timeouts", Kind::Grows),
                ("last_activity_ns", Kind::Grows),
                ("mean_batch", Kind::Moves),
            ][..],
        ),
        (
            "consumers",
            &[
                ("name", Kind::Stable),
                ("state", Kind::Stable),
                ("gating", Kind::Stable),
                ("dependencies", Kind::Stable),
                ("alive", Kind::Stable),
                ("pid", Kind::Stable),
                ("generation", Kind::Stable),
                ("optional", Kind::Stable),
                ("sequence", Kind::Grows),
                ("events", Kind::Grows),
                ("batches", Kind::Grows),
                ("waits", Kind::Grows),
                ("timeouts", Kind::Grows),
                ("last_activity_ns", Kind::Grows),
                ("lag", Kind::Moves),
                ("mean_batch", Kind::Moves),
            ][..],
        ),
    ] {
        let mine = by_index(&r[table]);
        let before = by_index(&s.before[table]);
        let after = by_index(&s.after[table]);
        let keys = |m: &BTreeMap<i128, &Value>| m.keys().copied().collect::<Vec<_>>();
        c.stat(
            s,
            &format!("{table} (entries in use)"),
            Kind::Stable,
            &Value::from(format!("{:?}", keys(&before))),
            &Value::from(format!("{:?}", keys(&mine))),
            &Value::from(format!("{:?}", keys(&after))),
        );
        for (index, e) in &mine {
            let (Some(b), Some(a)) = (before.get(index), after.get(index)) else {
                continue;
            };
            for (field, kind) in fields {
                c.stat(
                    s,
                    &format!("{table}[{index}].{field}"),
                    *kind,
                    &b[*field],
                    &e[*field],
                    &a[*field],
                );
            }
        }
    }
}

/// The value after `label` at the start of a line of `dmp inspect`.
fn line_after<'t>(inspect: &'t str, label: &str) -> Option<&'t str> {
    inspect
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
}

fn alive_word(e: &Value) -> &'static str {
    match (&e["alive"], e["state"].as_str()) {
        (Value::Bool(true), _) => "yes",
        (_, Some("active" | "joining")) => "dead",
        _ => "no",
    }
}

/// `dmp inspect` against the reader.
fn compare_inspect(c: &mut Cmp, s: &Sample) {
    let r = &s.reader;
    let h = &r["header"];
    let t = s.inspect.as_str();
    let n = |k: &str| text(&h[k]);
    let one = |c: &mut Cmp, field: &str, kind: Kind, label: &str, mine: String| {
        let tool = line_after(t, label).unwrap_or("<missing>").to_string();
        c.inspect(s, field, kind, &tool, &mine);
    };
    let magic: Vec<u8> = (0..8)
        .map(|i| u8::from_str_radix(&n("magic")[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let flags = int(&h["flags"]).unwrap() as u32;
    let mut words = Vec::new();
    for (k, w) in [
        ("wakeups", "wake-ups"),
        ("packed", "packed"),
        ("no_hot_counters", "no-hot-counters"),
    ] {
        if h[k] == Value::Bool(true) {
            words.push(w);
        }
    }
    let words = if words.is_empty() {
        "none".to_string()
    } else {
        words.join(", ")
    };
    let stamp = int(&h["stamp_offset"]).unwrap();
    let availability = int(&r["regions"][4]["size"]).unwrap();
    let slot_words = if stamp == 0 && availability != 0 {
        "packed; availability: a one-byte round flag per slot".to_string()
    } else if stamp == 0 {
        "packed, no stamps".to_string()
    } else {
        format!("stamp at +{stamp}")
    };
    let multi = int(&h["producer_mode"]) == Some(1);
    let header = vec![
        (
            "file size",
            "file size",
            format!(
                "{} bytes (header says {})",
                text(&r["file_size"]),
                n("total_size")
            ),
        ),
        (
            "magic",
            "magic",
            format!("{:?}", String::from_utf8_lossy(&magic)),
        ),
        ("format version", "format version", n("format_version")),
        ("header size", "header size", n("header_size")),
        (
            "byte order mark",
            "byte order mark",
            format!("{:#010x} (native)", int(&h["endian"]).unwrap()),
        ),
        ("flags", "flags", format!("{flags:#x} ({words})")),
        ("capacity", "capacity", n("capacity")),
        (
            "slot size",
            "slot size",
            format!(
                "{} (stride {}, {slot_words})",
                n("slot_size"),
                n("slot_stride")
            ),
        ),
        (
            "producer mode",
            "producer mode",
            if multi { "Multi" } else { "Single" }.to_string(),
        ),
        ("max producers", "max producers", n("max_producers")),
        ("max consumers", "max consumers", n("max_consumers")),
        (
            "type id",
            "type id",
            format!("{:#018x}", int(&h["type_id"]).unwrap()),
        ),
        (
            "state word",
            "state word",
            format!("{} (ready)", n("state")),
        ),
        (
            "total size",
            "total size",
            format!("{} bytes", n("total_size")),
        ),
    ];
    for (field, label, mine) in header {
        one(c, field, Kind::Stable, label, mine);
    }
    if multi {
        let ns = int(&h["unblock_timeout_ns"]).unwrap() as u64;
        one(
            c,
            "unblock after",
            Kind::Stable,
            "unblock after",
            format!("{:?}", Duration::from_nanos(ns)),
        );
    }
    // "pid P (start time T ticks; ...)", "DATE UTC (AGE ago)", "0x... (FNV-1a ...)".
    let creator = line_after(t, "creator").unwrap_or("");
    let pid = creator
        .strip_prefix("pid ")
        .and_then(|x| x.split_whitespace().next())
        .unwrap_or("<missing>");
    c.inspect(s, "creator pid", Kind::Stable, pid, &n("creator_pid"));
    let ticks = creator
        .split("start time ")
        .nth(1)
        .and_then(|x| x.split_whitespace().next())
        .unwrap_or("<missing>");
    c.inspect(
        s,
        "creator start time",
        Kind::Stable,
        ticks,
        &n("creator_start_time"),
    );
    let created = line_after(t, "created").unwrap_or("");
    let created = created.split(" (").next().unwrap_or("");
    c.inspect(
        s,
        "created (UTC)",
        Kind::Stable,
        created,
        &n("created_at_utc"),
    );
    let checksum = line_after(t, "checksum")
        .and_then(|x| x.split_whitespace().next())
        .and_then(|x| u64::from_str_radix(x.trim_start_matches("0x"), 16).ok())
        .map_or("<missing>".to_string(), |v| v.to_string());
    c.inspect(s, "checksum", Kind::Stable, &checksum, &n("checksum"));

    // Regions: the table lists the non-empty ones.
    let names = [
        (0, "control"),
        (1, "consumers"),
        (2, "producers"),
        (3, "slots"),
        (4, "available"),
        (5, "counters"),
    ];
    let mut listed = 0;
    for l in t.lines() {
        let cols: Vec<&str> = l.split_whitespace().collect();
        if cols.len() != 4 || !l.starts_with("  ") {
            continue;
        }
        let Some((index, _)) = names.iter().find(|(_, name)| *name == cols[0]) else {
            continue;
        };
        listed += 1;
        let reg = &r["regions"][*index];
        let mine = format!(
            "{} {} {}",
            text(&reg["offset"]),
            text(&reg["size"]),
            text(&reg["end"])
        );
        c.inspect(
            s,
            &format!("region {}", cols[0]),
            Kind::Stable,
            &cols[1..].join(" "),
            &mine,
        );
    }
    let nonempty = r["regions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|reg| int(&reg["size"]) != Some(0))
        .count();
    c.inspect(
        s,
        "regions listed",
        Kind::Stable,
        &listed.to_string(),
        &nonempty.to_string(),
    );

    for (field, label, mine) in [
        ("cursor", "cursor", text(&r["derived"]["cursor"])),
        ("claimed", "claimed", text(&r["derived"]["claimed"])),
        (
            "abandoned",
            "abandoned",
            text(&r["ring_counters"]["abandoned"]),
        ),
    ] {
        one(c, field, Kind::Grows, label, mine);
    }

    // The tables: "producers      N of M" and rows below a header line.
    let section = |name: &str| -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        let mut lines = t.lines().skip_while(|l| !l.starts_with(name));
        lines.next();
        let mut header_seen = false;
        for l in lines {
            if l.trim().is_empty() {
                break;
            }
            if !header_seen {
                header_seen = true;
                continue;
            }
            rows.push(l.split_whitespace().map(str::to_string).collect());
        }
        rows
    };
    let count = |name: &str, list: &Value, max: &str| {
        let have = line_after(t, name).unwrap_or("<missing>").to_string();
        let mine = format!("{} of {}", list.as_array().map_or(0, Vec::len), n(max));
        (have, mine)
    };
    let (have, mine) = count("producers", &r["producers"], "max_producers");
    c.inspect(s, "producers (N of M)", Kind::Stable, &have, &mine);
    let (have, mine) = count("consumers", &r["consumers"], "max_consumers");
    c.inspect(s, "consumers (N of M)", Kind::Stable, &have, &mine);

    let producers = by_index(&r["producers"]);
    for row in section("producers") {
        // #  state  pid  alive  epoch  pending claim ("-" or "[lo, hi]").
        let Some(e) = row[0].parse::<i128>().ok().and_then(|i| producers.get(&i)) else {
            c.mismatch(format!(
                "inspect lists producer row {row:?}, the reader has no such entry"
            ));
            continue;
        };
        let pending = match &e["pending_claim"] {
            Value::Array(a) => format!("[{}, {}]", text(&a[0]), text(&a[1])),
            _ => "-".into(),
        };
        let i = &row[0];
        for (k, (field, kind, mine)) in [
            ("state", Kind::Stable, text(&e["state"])),
            ("pid", Kind::Stable, text(&e["pid"])),
            ("alive", Kind::Stable, alive_word(e).to_string()),
            ("epoch", Kind::Stable, text(&e["epoch"])),
            ("pending claim", Kind::Stable, pending),
        ]
        .into_iter()
        .enumerate()
        {
            let tool = if k == 4 {
                row[5..].join(" ")
            } else {
                row[k + 1].clone()
            };
            c.inspect(s, &format!("producer {i} {field}"), kind, &tool, &mine);
        }
    }
    let consumers = by_index(&r["consumers"]);
    for row in section("consumers") {
        // #  name  state  sequence  lag  gating  alive  pid  after  joins.
        let Some(e) = row[0].parse::<i128>().ok().and_then(|i| consumers.get(&i)) else {
            c.mismatch(format!(
                "inspect lists consumer row {row:?}, the reader has no such entry"
            ));
            continue;
        };
        let deps = int(&e["dependencies"]).unwrap() as u64;
        let after: Vec<String> = (0..64)
            .filter(|b| deps & (1u64 << b) != 0)
            .map(|b| {
                consumers
                    .get(&i128::from(b))
                    .map_or(format!("#{b}"), |d| text(&d["name"]))
            })
            .collect();
        let after = if after.is_empty() {
            "-".to_string()
        } else {
            after.join(",")
        };
        let i = &row[0];
        let gating = if e["gating"] == Value::Bool(true) {
            "yes"
        } else {
            "no"
        };
        for (k, (field, kind, mine)) in [
            ("name", Kind::Stable, text(&e["name"])),
            ("state", Kind::Stable, text(&e["state"])),
            ("sequence", Kind::Grows, text(&e["sequence"])),
            ("lag", Kind::Moves, text(&e["lag"])),
            ("gating", Kind::Stable, gating.to_string()),
            ("alive", Kind::Stable, alive_word(e).to_string()),
            ("pid", Kind::Stable, text(&e["pid"])),
            ("after", Kind::Stable, after.clone()),
            ("joins", Kind::Stable, text(&e["generation"])),
        ]
        .into_iter()
        .enumerate()
        {
            let tool = row.get(k + 1).cloned().unwrap_or_default();
            c.inspect(s, &format!("consumer {i} {field}"), kind, &tool, &mine);
        }
    }
}

/// What the events in the reader's `events` must be, as FORMAT.md ("Events
/// written by `dmp produce`") says.
enum Numbering {
    /// Single producer, no `--first` anywhere: number == sequence.
    BySequence,
    /// Single producer, `--first F` on a fresh ring: number == F + seq,
    /// kept to the slot's first bytes.
    From(u64),
    /// Multi-producer: each producer's numbers follow each other (from 0
    /// when `from_zero`).
    PerProducer { from_zero: bool },
}

fn check_events(c: &mut Cmp, s: &Sample, numbering: Numbering, expect_abandoned: Option<u64>) {
    let r = &s.reader;
    let slot = int(&r["header"]["slot_size"]).unwrap() as usize;
    let events = r["events"].as_array().expect("the reader's events");
    let mut next: BTreeMap<u64, u64> = BTreeMap::new();
    let mut abandoned = 0;
    for e in events {
        let seq = int(&e["sequence"]).unwrap() as u64;
        match e["state"].as_str() {
            Some("published") => {}
            Some("abandoned") => {
                abandoned += 1;
                continue;
            }
            // Pending (a claim in flight): checked where a configuration
            // expects one.
            _ => continue,
        }
        c.tally.events += 1;
        if e["pattern_ok"] != Value::Bool(true) {
            c.mismatch(format!("event at sequence {seq}: the bytes after the number do not follow the pattern: {e}"));
        }
        let number = int(&e["number"]).unwrap() as u64;
        match numbering {
            Numbering::BySequence => {
                if number != seq {
                    c.mismatch(format!("event at sequence {seq} has number {number}"));
                }
            }
            Numbering::From(first) => {
                let mut head = [0u8; 8];
                let n = slot.min(8);
                head[..n].copy_from_slice(&(first + seq).to_ne_bytes()[..n]);
                let want = u64::from_ne_bytes(head);
                if number != want {
                    c.mismatch(format!(
                        "event at sequence {seq} has number {number}, FORMAT.md says {want} ({first} + {seq} in {slot} bytes)"
                    ));
                }
            }
            Numbering::PerProducer { from_zero } => {
                let id = number >> 48;
                let n = number & ((1 << 48) - 1);
                if int(&e["producer_id"]) != Some(i128::from(id))
                    || int(&e["n"]) != Some(i128::from(n))
                {
                    c.mismatch(format!(
                        "event at sequence {seq}: producer_id/n do not split {number}"
                    ));
                }
                let want = next
                    .get(&id)
                    .copied()
                    .or(if from_zero { Some(0) } else { None });
                if let Some(want) = want {
                    if n != want {
                        c.mismatch(format!(
                            "event at sequence {seq}: producer {id} number {n}, expected {want}"
                        ));
                    }
                }
                next.insert(id, n + 1);
            }
        }
    }
    if let Some(want) = expect_abandoned {
        c.tally.fields += 1;
        if abandoned != want {
            c.mismatch(format!(
                "{abandoned} sequences read as abandoned, dmp stat counts {want}"
            ));
        }
    }
}

/// Compares one sample and counts it.
fn compare(tally: &mut Tally, config: &str, s: &Sample) {
    let mut c = Cmp {
        config,
        tally: &mut *tally,
    };
    compare_stat(&mut c, s);
    compare_inspect(&mut c, s);
}

// ---------------------------------------------------------------------------
// Configurations
// ---------------------------------------------------------------------------

fn shm(name: &ShmName) -> Vec<String> {
    vec![name.0.clone()]
}

fn file(path: &Path) -> Vec<String> {
    vec!["--file".into(), path.display().to_string()]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Single producer, stamped, wake-ups and blocking waits; a dependent
/// consumer; both consumers leave. Finished.
fn single_stamped_blocking(tally: &mut Tally) {
    let config = "single producer, stamped, wake-ups, blocking, dependent consumer, consumers left";
    let name = ShmName::new("fr-sp-stamped");
    let t = shm(&name);
    let t = strs(&t);
    create(&t, &["--capacity", "64", "--slot-size", "16"]);
    let a = consumer(&t, "a", &["--count", "500", "--wait", "block"]);
    let b = consumer(
        &t,
        "b",
        &[
            "--count",
            "500",
            "--wait",
            "block",
            "--after",
            "a",
            "--max-batch",
            "7",
        ],
    );
    let p = producer(&t, &["--count", "500", "--batch", "3", "--wait", "block"]);
    p.succeed(T);
    a.succeed(T);
    b.succeed(T);
    let s = sample(&t, false);
    compare(tally, config, &s);
    let mut c = Cmp { config, tally };
    check_events(&mut c, &s, Numbering::BySequence, None);
    tally.configurations.push(config.into());
}

/// Single producer, packed, file-backed, no hot counters, no wake-ups; an
/// optional consumer beside a required one. Finished.
fn single_packed_file(tally: &mut Tally, dir: &Path) {
    let config = "single producer, packed, file, no hot counters, no wake-ups, optional consumer";
    let path = dir.join("packed.ring");
    let t = file(&path);
    let t = strs(&t);
    create(
        &t,
        &[
            "--packed",
            "--no-hot-counters",
            "--no-wakeups",
            "--slot-size",
            "8",
            "--capacity",
            "256",
            "--max-consumers",
            "4",
        ],
    );
    let r = consumer(&t, "req", &["--count", "2000"]);
    let o = consumer(
        &t,
        "opt",
        &["--count", "2000", "--optional", "--max-block-ms", "30000"],
    );
    let p = producer(&t, &["--count", "2000", "--batch", "16"]);
    p.succeed(T);
    r.succeed(T);
    o.succeed(T);
    let s = sample(&t, false);
    compare(tally, config, &s);
    let mut c = Cmp { config, tally };
    check_events(&mut c, &s, Numbering::BySequence, None);
    tally.configurations.push(config.into());
}

/// Single producer, 3-byte slots, `--first`, no consumer (the producer
/// laps freely). Finished.
fn single_short_slots_first(tally: &mut Tally) {
    let config = "single producer, stamped, 3-byte slots, --first, no consumer";
    let name = ShmName::new("fr-sp-short");
    let t = shm(&name);
    let t = strs(&t);
    create(
        &t,
        &[
            "--slot-size",
            "3",
            "--capacity",
            "16",
            "--max-consumers",
            "2",
        ],
    );
    producer(&t, &["--count", "40", "--first", "70000", "--batch", "2"]).succeed(T);
    let s = sample(&t, false);
    compare(tally, config, &s);
    let mut c = Cmp { config, tally };
    check_events(&mut c, &s, Numbering::From(70000), None);
    tally.configurations.push(config.into());
}

/// Single producer, stamped, a slow required consumer and an optional
/// one, all running. Live.
fn single_live(tally: &mut Tally) {
    let config = "single producer, stamped, no wake-ups, live: slow required + optional consumer";
    let name = ShmName::new("fr-sp-live");
    let t = shm(&name);
    let t = strs(&t);
    create(
        &t,
        &["--capacity", "32", "--slot-size", "24", "--no-wakeups"],
    );
    let _slow = consumer(
        &t,
        "slow",
        &[
            "--count",
            "100000000",
            "--wait",
            "sleep",
            "--pause-us",
            "2000",
        ],
    );
    let _opt = consumer(
        &t,
        "opt",
        &[
            "--count",
            "100000000",
            "--wait",
            "sleep",
            "--optional",
            "--max-block-ms",
            "60000",
        ],
    );
    let _p = producer(
        &t,
        &[
            "--count",
            "100000000",
            "--wait",
            "sleep",
            "--pause-us",
            "300",
            "--batch",
            "2",
        ],
    );
    wait_stat(&t, "100 events published", |s| {
        int(&s["published"]).unwrap_or(0) >= 100
    });
    for _ in 0..2 {
        let s = sample(&t, true);
        compare(tally, config, &s);
    }
    tally.configurations.push(config.into());
}

/// Multi-producer, stamped, two producers (one with mixed batches), one
/// consumer that drains. Finished.
fn multi_stamped_two_producers(tally: &mut Tally) {
    let config = "multi producer, stamped, two producers, wake-ups, consumer left";
    let name = ShmName::new("fr-mp-stamped");
    let t = shm(&name);
    let t = strs(&t);
    create(
        &t,
        &[
            "--multi",
            "--capacity",
            "1024",
            "--max-producers",
            "4",
            "--slot-size",
            "32",
        ],
    );
    let m = consumer(&t, "m", &["--drain-ms", "2000", "--count", "100000000"]);
    let p1 = producer(
        &t,
        &[
            "--producer-id",
            "1",
            "--count",
            "300",
            "--batch",
            "5",
            "--mixed-batches",
        ],
    );
    let p2 = producer(
        &t,
        &["--producer-id", "2", "--count", "300", "--batch", "3"],
    );
    p1.succeed(T);
    p2.succeed(T);
    m.succeed(T);
    let s = sample(&t, false);
    compare(tally, config, &s);
    let mut c = Cmp { config, tally };
    check_events(
        &mut c,
        &s,
        Numbering::PerProducer { from_zero: true },
        Some(0),
    );
    tally.configurations.push(config.into());
}

/// Multi-producer, packed (availability flags), a claim abandoned after
/// the unblock timeout while its producer stalls. Finished.
fn multi_packed_abandoned(tally: &mut Tally) {
    let config = "multi producer, packed, abandoned claim, hot counters";
    let name = ShmName::new("fr-mp-abandoned");
    let t = shm(&name);
    let t = strs(&t);
    create(
        &t,
        &[
            "--multi",
            "--packed",
            "--slot-size",
            "8",
            "--capacity",
            "256",
            "--unblock-ms",
            "100",
            "--max-producers",
            "2",
        ],
    );
    let m = consumer(&t, "m", &["--drain-ms", "2000", "--count", "100000000"]);
    let p = producer(
        &t,
        &[
            "--producer-id",
            "3",
            "--count",
            "100",
            "--batch",
            "4",
            "--stall-ms",
            "700",
            "--stall-batch",
            "2",
        ],
    );
    p.succeed(T);
    m.succeed(T);
    let s = sample(&t, false);
    let abandoned = int(&s.before["abandoned"]).unwrap() as u64;
    assert!(
        abandoned >= 4,
        "[{config}] the stalled claim was not abandoned: {}",
        s.before
    );
    compare(tally, config, &s);
    let mut c = Cmp { config, tally };
    check_events(
        &mut c,
        &s,
        Numbering::PerProducer { from_zero: true },
        Some(abandoned),
    );
    tally.configurations.push(config.into());
}

/// Multi-producer, stamped, no hot counters: a producer killed while it
/// holds a claim (no consumer, so nobody abandons it). Finished.
fn multi_dead_producer(tally: &mut Tally) {
    let config = "multi producer, stamped, no hot counters, dead producer holding a claim";
    let name = ShmName::new("fr-mp-dead");
    let t = shm(&name);
    let t = strs(&t);
    create(
        &t,
        &[
            "--multi",
            "--no-hot-counters",
            "--capacity",
            "64",
            "--unblock-ms",
            "60000",
            "--max-producers",
            "3",
        ],
    );
    let mut p = producer(
        &t,
        &[
            "--count",
            "100",
            "--batch",
            "4",
            "--stall-ms",
            "60000",
            "--stall-batch",
            "2",
        ],
    );
    wait_stat(&t, "the producer's pending claim", |s| {
        s["producers"][0]["pending_claim"].is_array()
    });
    p.child.kill().expect("kill the producer");
    let _ = p.child.wait();
    let s = sample(&t, false);
    let want = serde_json::json!([8, 11]);
    let pending = &s.reader["producers"][0]["pending_claim"];
    assert!(
        same(pending, &want) && alive_word(&s.reader["producers"][0]) == "dead",
        "[{config}] expected a dead producer holding [8, 11]: {}",
        s.reader["producers"]
    );
    compare(tally, config, &s);
    let mut c = Cmp { config, tally };
    check_events(
        &mut c,
        &s,
        Numbering::PerProducer { from_zero: true },
        Some(0),
    );
    let states: Vec<&str> = s.reader["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap_or("?"))
        .collect();
    c.tally.fields += 1;
    if states != [vec!["published"; 8], vec!["pending"; 4]].concat() {
        c.mismatch(format!(
            "sequences 0..=11 should be 8 published and 4 pending: {states:?}"
        ));
    }
    tally.configurations.push(config.into());
}

/// Multi-producer, packed, wake-ups: a live producer stalled inside its
/// claim, another filling the ring behind it, a blocking consumer
/// waiting for the stalled sequence. Live.
fn multi_live_stalled(tally: &mut Tally) {
    let config = "multi producer, packed, wake-ups, live: stalled claim, blocking consumer";
    let name = ShmName::new("fr-mp-live");
    let t = shm(&name);
    let t = strs(&t);
    create(
        &t,
        &[
            "--multi",
            "--packed",
            "--slot-size",
            "16",
            "--capacity",
            "128",
            "--unblock-ms",
            "60000",
            "--max-producers",
            "2",
        ],
    );
    let _w = consumer(&t, "w", &["--wait", "block", "--count", "100000000"]);
    let _a = producer(
        &t,
        &[
            "--producer-id",
            "1",
            "--count",
            "12",
            "--batch",
            "4",
            "--stall-ms",
            "30000",
            "--stall-batch",
            "1",
            "--wait",
            "sleep",
        ],
    );
    wait_stat(&t, "producer 1's pending claim", |s| {
        s["producers"][0]["pending_claim"].is_array()
    });
    let _b = producer(
        &t,
        &[
            "--producer-id",
            "2",
            "--count",
            "100000000",
            "--wait",
            "sleep",
            "--pause-us",
            "1000",
        ],
    );
    wait_stat(&t, "producer 2 publishing", |s| {
        int(&s["claimed"]).unwrap_or(0) >= 20
    });
    for _ in 0..2 {
        let s = sample(&t, true);
        compare(tally, config, &s);
    }
    tally.configurations.push(config.into());
}

/// Damaged copies of a finished ring: the reader and `dmp inspect` must
/// refuse each, for the same reason.
fn refusals(tally: &mut Tally, dir: &Path) {
    let good = dir.join("good.ring");
    let g = file(&good);
    create(&strs(&g), &["--capacity", "16", "--slot-size", "8"]);
    producer(&strs(&g), &["--count", "5"]).succeed(T);
    let bytes = std::fs::read(&good).unwrap();
    let reseal = |mut b: Vec<u8>| {
        let sum = layout::checksum(&b[..layout::CHECKSUM_OFFSET]);
        b[layout::CHECKSUM_OFFSET..layout::CHECKSUM_OFFSET + 8].copy_from_slice(&sum.to_ne_bytes());
        b
    };
    let edit = |at: usize, v: &[u8]| {
        let mut b = bytes.clone();
        b[at..at + v.len()].copy_from_slice(v);
        b
    };
    let region3 = layout::field::REGIONS + 3 * 16;
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "no magic",
            edit(0, b"NOTARING"),
            "NOT_A_SEGMENT",
            "is not a disruptor-mp segment",
        ),
        (
            "truncated header",
            bytes[..300].to_vec(),
            "TRUNCATED",
            "truncated",
        ),
        (
            "other byte order",
            reseal(edit(layout::field::ENDIAN, &0x0403_0201u32.to_ne_bytes())),
            "CORRUPT",
            "byte-order mark",
        ),
        (
            "format version 9",
            reseal(edit(layout::field::FORMAT_VERSION, &9u32.to_ne_bytes())),
            "VERSION_MISMATCH",
            "format version 9",
        ),
        (
            "checksum",
            edit(layout::CHECKSUM_OFFSET, &[!bytes[layout::CHECKSUM_OFFSET]]),
            "CHECKSUM_MISMATCH",
            "checksum",
        ),
        (
            "capacity 12",
            reseal(edit(layout::field::CAPACITY, &12u64.to_ne_bytes())),
            "CORRUPT",
            "is corrupt",
        ),
        (
            "region table",
            reseal(edit(region3, &(1u64 << 20).to_ne_bytes())),
            "CORRUPT",
            "is corrupt",
        ),
        (
            "truncated body",
            bytes[..bytes.len() - 4096].to_vec(),
            "TRUNCATED",
            "truncated",
        ),
        (
            "reserved byte 240",
            reseal(edit(240, &[1])),
            "CORRUPT",
            "reserved header byte at offset 240",
        ),
        (
            "reserved byte 300",
            edit(300, &[7]),
            "CORRUPT",
            "reserved header byte at offset 300",
        ),
        (
            "state word 0",
            edit(layout::STATE_OFFSET, &0u32.to_ne_bytes()),
            "CORRUPT",
            "state word is 0",
        ),
    ];
    for (what, image, code, tool_says) in cases {
        let path = dir.join(format!("bad-{}.ring", what.replace(' ', "-")));
        std::fs::write(&path, &image).unwrap();
        let t = file(&path);
        let (status, out, err) = capture(reader_cmd(&strs(&t)), "tools/dmp_format.py");
        tally.refusals += 1;
        tally.fields += 2;
        if status.code() != Some(1) || !err.contains(&format!(": {code}: ")) {
            tally.mismatches.push(format!(
                "[refusal: {what}] the reader must refuse with {code}: exit {status}, {err}{out}"
            ));
        }
        if what.starts_with("reserved") && !err.contains(tool_says) {
            tally.mismatches.push(format!(
                "[refusal: {what}] the reader does not name the offset: {err}"
            ));
        }
        let mut c = dmp();
        c.arg("inspect").args(strs(&t));
        let (status, out, derr) = capture(c, "dmp inspect");
        if status.success() || !derr.contains(tool_says) {
            tally.mismatches.push(format!(
                "[refusal: {what}] dmp inspect must fail saying {tool_says:?}: {status}, {out}{derr}"
            ));
        }
    }
    // The reader refused nothing it should accept.
    let _ = reader(&strs(&g));
}

#[test]
fn an_independent_reader_agrees_with_dmp_stat_and_inspect() {
    if !python_available() {
        return;
    }
    let _serial = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let mut tally = Tally::default();
    single_stamped_blocking(&mut tally);
    single_packed_file(&mut tally, dir.path());
    single_short_slots_first(&mut tally);
    single_live(&mut tally);
    multi_stamped_two_producers(&mut tally);
    multi_packed_abandoned(&mut tally);
    multi_dead_producer(&mut tally);
    multi_live_stalled(&mut tally);
    refusals(&mut tally, dir.path());
    eprintln!(
        "format_reader: {} fields compared ({} with dmp stat --json, {} with dmp inspect, {} other), {} events decoded, over {} configurations and {} damaged segments:",
        tally.fields,
        tally.stat_fields,
        tally.inspect_fields,
        tally.fields - tally.stat_fields - tally.inspect_fields,
        tally.events,
        tally.configurations.len(),
        tally.refusals
    );
    for c in &tally.configurations {
        eprintln!("  - {c}");
    }
    assert!(
        tally.mismatches.is_empty(),
        "{} mismatches between tools/dmp_format.py and the dmp tool:\n{}",
        tally.mismatches.len(),
        tally.mismatches.join("\n")
    );
}
