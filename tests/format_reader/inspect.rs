//! Comparing the reader's JSON with the text of `dmp inspect`.

use super::*;

/// The value after `label` at the start of a line of `dmp inspect`.
pub(crate) fn line_after<'t>(inspect: &'t str, label: &str) -> Option<&'t str> {
    inspect
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
}

pub(crate) fn alive_word(e: &Value) -> &'static str {
    match (&e["alive"], e["state"].as_str()) {
        (Value::Bool(true), _) => "yes",
        (_, Some("active" | "joining")) => "dead",
        _ => "no",
    }
}

/// `dmp inspect` against the reader.
pub(crate) fn compare_inspect(c: &mut Cmp, s: &Sample) {
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
