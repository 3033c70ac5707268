//! docs/FORMAT.md's offset tables ("offset | type | field") against the
//! layout constants (header fields, control, table entries, counters), so that a drifted offset, a field the document lacks
//! or one it has and the code does not fails a test.

use super::*;
use std::collections::BTreeMap;

fn document() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FORMAT.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// The cells of a Markdown table row (`\|` inside a cell kept).
fn cells(line: &str) -> Vec<String> {
    let line = line.trim().replace("\\|", "\u{1}");
    line.trim_matches('|')
        .split('|')
        .map(|c| c.trim().replace('\u{1}', "|"))
        .collect()
}

/// The body rows of the first table in the `## ` section whose heading
/// starts with `heading` and whose header row starts with `columns`.
fn table(doc: &str, heading: &str, columns: &[&str]) -> Vec<Vec<String>> {
    let mut in_section = false;
    let mut rows: Option<Vec<Vec<String>>> = None;
    let mut lines = doc.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(h) = line.strip_prefix("## ") {
            if rows.is_some() {
                break;
            }
            in_section = h.starts_with(heading);
            continue;
        }
        if !in_section || !line.starts_with('|') {
            if rows.is_some() {
                break;
            }
            continue;
        }
        match &mut rows {
            None => {
                let head = cells(line);
                let matches =
                    head.len() >= columns.len() && head.iter().zip(columns).all(|(h, c)| h == c);
                if matches {
                    // The separator row.
                    lines.next();
                    rows = Some(Vec::new());
                }
            }
            Some(rows) => rows.push(cells(line)),
        }
    }
    rows.unwrap_or_else(|| {
        panic!("docs/FORMAT.md: no table {columns:?} under a heading \"## {heading}\"")
    })
}

/// The byte size of a documented type (`—`: a reserved gap up to the
/// offset named in the field, "reserved to N").
fn type_size(ty: &str, offset: u64, field: &str) -> u64 {
    let scalar = |t: &str| match t {
        "u8" => 1,
        "u32" | "i32" => 4,
        "u64" | "i64" => 8,
        other => panic!("docs/FORMAT.md: unknown type {other:?}"),
    };
    if ty == "—" {
        let to: u64 = field
            .strip_prefix("reserved to ")
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("a `—` row must read \"reserved to N\": {field:?}"));
        return to - offset;
    }
    if let Some((elem, n)) = ty.strip_suffix(']').and_then(|t| t.rsplit_once('[')) {
        let n: u64 = n.parse().expect("array length");
        let elem = if let Some(tuple) = elem.strip_prefix('(') {
            tuple
                .trim_end_matches(')')
                .split(',')
                .map(|t| scalar(t.trim()))
                .sum()
        } else {
            scalar(elem)
        };
        return elem * n;
    }
    scalar(ty)
}

/// The natural alignment of a documented type.
fn type_align(ty: &str) -> u64 {
    match ty {
        "u32" | "i32" => 4,
        "u64" | "i64" => 8,
        t if t.starts_with("(u64") => 8,
        _ => 1,
    }
}

/// A documented row: offset, size, and the field's name (its leading
/// identifier; "reserved" for gaps).
struct Row {
    offset: u64,
    size: u64,
    ty: String,
    name: String,
}

fn rows(doc: &str, heading: &str, offset_column: &str) -> Vec<Row> {
    table(doc, heading, &[offset_column, "type", "field"])
        .into_iter()
        .map(|c| {
            let offset: u64 = c[0]
                .parse()
                .unwrap_or_else(|_| panic!("{heading}: offset {:?} is not a number", c[0]));
            let name: String = c[2]
                .chars()
                .take_while(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || *ch == '_')
                .collect();
            let name = if c[1] == "—" {
                "reserved".to_string()
            } else {
                name
            };
            Row {
                offset,
                size: type_size(&c[1], offset, &c[2]),
                ty: c[1].clone(),
                name,
            }
        })
        .collect()
}

/// Checks one table against `(field, offset, size)` of the code:
/// every documented field is known and at the code's offset (with the
/// code's size where it has one), every known field is documented, the
/// rows ascend without overlap inside `block` bytes and are naturally
/// aligned. Returns the reserved rows as (offset, size).
fn check(
    doc: &str,
    heading: &str,
    offset_column: &str,
    block: u64,
    code: &[(&str, u64, Option<u64>)],
) -> Vec<(u64, u64)> {
    let rows = rows(doc, heading, offset_column);
    let mut documented: BTreeMap<&str, u64> = BTreeMap::new();
    let mut reserved = Vec::new();
    let mut end = 0;
    for r in &rows {
        assert!(
            r.offset >= end,
            "{heading}: {} at {} overlaps the row before (which ends at {end})",
            r.name,
            r.offset
        );
        end = r.offset + r.size;
        assert!(
            end <= block,
            "{heading}: {} at {} ({} bytes) runs past the {block}-byte block",
            r.name,
            r.offset,
            r.size
        );
        assert_eq!(
            r.offset % type_align(&r.ty),
            0,
            "{heading}: {} at {} is not aligned for {}",
            r.name,
            r.offset,
            r.ty
        );
        if r.name == "reserved" {
            reserved.push((r.offset, r.size));
            continue;
        }
        let known = code.iter().find(|(name, _, _)| *name == r.name);
        let (_, offset, size) = known.unwrap_or_else(|| {
            panic!(
                "{heading}: FORMAT.md documents {:?} at {}, which layout.rs has no constant for",
                r.name, r.offset
            )
        });
        assert_eq!(
            r.offset, *offset,
            "{heading}: FORMAT.md puts {} at offset {}, layout.rs at {offset}",
            r.name, r.offset
        );
        if let Some(size) = size {
            assert_eq!(
                r.size, *size,
                "{heading}: FORMAT.md gives {} {} bytes, layout.rs {size}",
                r.name, r.size
            );
        }
        assert!(
            documented.insert(&r.name, r.offset).is_none(),
            "{heading}: {} documented twice",
            r.name
        );
    }
    for (name, offset, _) in code {
        assert!(
            documented.contains_key(name),
            "{heading}: layout.rs has {name} at {offset}, FORMAT.md does not document it"
        );
    }
    reserved
}

fn u(v: usize) -> u64 {
    v as u64
}

#[test]
fn header_table_matches_the_field_offsets() {
    let doc = document();
    let f = |name, at: usize| (name, u(at), None);
    let code = [
        ("magic", u(field::MAGIC), Some(u(MAGIC.len()))),
        f("format_version", field::FORMAT_VERSION),
        f("header_size", field::HEADER_SIZE),
        f("endian", field::ENDIAN),
        f("flags", field::FLAGS),
        f("capacity", field::CAPACITY),
        f("slot_size", field::SLOT_SIZE),
        f("slot_stride", field::SLOT_STRIDE),
        f("producer_mode", field::PRODUCER_MODE),
        f("max_consumers", field::MAX_CONSUMERS),
        f("max_producers", field::MAX_PRODUCERS),
        f("stamp_offset", field::STAMP_OFFSET),
        f("type_id", field::TYPE_ID),
        f("total_size", field::TOTAL_SIZE),
        f("creator_pid", field::CREATOR_PID),
        f("creator_start_time", field::CREATOR_START_TIME),
        f("created_at_ns", field::CREATED_AT_NS),
        ("regions", u(field::REGIONS), Some(u(REGION_COUNT) * 16)),
        f("unblock_timeout_ns", field::UNBLOCK_TIMEOUT_NS),
        ("checksum", u(CHECKSUM_OFFSET), Some(8)),
        ("state", u(STATE_OFFSET), Some(4)),
    ];
    let reserved = check(&doc, "Header", "offset", HEADER_SIZE, &code);
    let want: Vec<(u64, u64)> = HEADER_RESERVED
        .iter()
        .map(|&(start, end)| (u(start), u(end - start)))
        .collect();
    assert_eq!(
        reserved, want,
        "the reserved rows of FORMAT.md's header table are not layout::HEADER_RESERVED"
    );
}

#[test]
fn control_table_matches_layout_control() {
    let doc = document();
    let code = [
        ("cursor", control::CURSOR, Some(8)),
        ("cursor_waiters", control::CURSOR_WAITERS, Some(4)),
        ("cursor_armed", control::CURSOR_ARMED, Some(8)),
        ("cursor_wake_token", control::CURSOR_WAKE_TOKEN, Some(8)),
        ("claim", control::CLAIM, Some(8)),
        ("gating_mask", control::GATING_MASK, Some(8)),
        ("table_generation", control::TABLE_GENERATION, Some(8)),
        ("retired", control::RETIRED, Some(8)),
        ("notice", control::NOTICE, Some(8)),
        ("notice_waiters", control::NOTICE_WAITERS, Some(4)),
        ("notice_armed", control::NOTICE_ARMED, Some(8)),
        ("notice_wake_token", control::NOTICE_WAKE_TOKEN, Some(8)),
    ];
    check(
        &doc,
        "Control region",
        "offset in region",
        CONTROL_SIZE,
        &code,
    );
}

#[test]
fn consumer_entry_table_matches_layout_consumer_entry() {
    use consumer_entry as e;
    let doc = document();
    let code = [
        ("sequence", e::SEQUENCE, Some(8)),
        ("waiters", e::WAITERS, Some(4)),
        ("armed", e::ARMED, Some(8)),
        ("wake_token", e::WAKE_TOKEN, Some(8)),
        ("state", e::STATE, Some(4)),
        ("flags", e::FLAGS, Some(4)),
        ("dependencies", e::DEPENDENCIES, Some(8)),
        ("pid", e::PID, Some(4)),
        ("start_time", e::START_TIME, Some(8)),
        ("generation", e::GENERATION, Some(8)),
        ("name", e::NAME, Some(u(e::NAME_LEN))),
        ("max_block_ns", e::MAX_BLOCK_NS, Some(8)),
        ("evicted_at", e::EVICTED_AT, Some(8)),
    ];
    check(
        &doc,
        "Consumer table",
        "offset in entry",
        CONSUMER_ENTRY_SIZE,
        &code,
    );
}

#[test]
fn producer_entry_table_matches_layout_producer_entry() {
    use producer_entry as e;
    let doc = document();
    let code = [
        ("record_version", e::RECORD_VERSION, Some(8)),
        ("record_lo", e::RECORD_LO, Some(8)),
        ("record_hi", e::RECORD_HI, Some(8)),
        ("record_state", e::RECORD_STATE, Some(4)),
        ("state", e::STATE, Some(4)),
        ("pid", e::PID, Some(4)),
        ("start_time", e::START_TIME, Some(8)),
        ("epoch", e::EPOCH, Some(8)),
    ];
    check(
        &doc,
        "Producer table",
        "offset in entry",
        PRODUCER_ENTRY_SIZE,
        &code,
    );
}

#[test]
fn counter_slot_table_and_ids_match_layout_counters() {
    let doc = document();
    let code = [
        ("value", counters::VALUE, Some(8)),
        ("id", counters::ID, Some(4)),
        ("owner_kind", counters::OWNER_KIND, Some(4)),
        ("owner_index", counters::OWNER_INDEX, Some(4)),
        ("label", counters::LABEL, Some(u(counters::LABEL_LEN))),
    ];
    check(&doc, "Counters", "offset in slot", counters::SLOT, &code);
    // The id table: every counter, in slot order, with its owner.
    let documented: Vec<(u32, String, String)> = table(&doc, "Counters", &["id", "owner", "label"])
        .into_iter()
        .map(|c| {
            (
                c[0].parse().expect("counter id"),
                c[1].clone(),
                c[2].clone(),
            )
        })
        .collect();
    let code: Vec<(u32, String, String)> = [
        ("ring", &counters::RING[..]),
        ("producer", &counters::PRODUCER[..]),
        ("consumer", &counters::CONSUMER[..]),
    ]
    .iter()
    .flat_map(|(owner, list)| {
        list.iter()
            .map(|(id, label)| (*id, owner.to_string(), label.to_string()))
    })
    .collect();
    assert_eq!(documented, code, "FORMAT.md's counter id table");
    // The region's size and the slot numbering.
    let formula = format!(
        "({} + {} * max_producers + {} * max_consumers) * {}",
        counters::RING.len(),
        counters::PRODUCER.len(),
        counters::CONSUMER.len(),
        counters::SLOT
    );
    assert!(
        doc.contains(&formula),
        "FORMAT.md does not give the counters region as {formula}"
    );
    for text in [
        format!(
            "`{} + {} * i`",
            counters::RING.len(),
            counters::PRODUCER.len()
        ),
        format!(
            "`{} + {} * max_producers + {} * i`",
            counters::RING.len(),
            counters::PRODUCER.len(),
            counters::CONSUMER.len()
        ),
    ] {
        assert!(
            doc.contains(&text),
            "FORMAT.md does not number the entry counters as {text}"
        );
    }
    assert_eq!(counters::producer_slot(1, 0), 7 + 5);
    assert_eq!(counters::consumer_slot(2, 1, 0), 7 + 5 * 2 + 5);
}
