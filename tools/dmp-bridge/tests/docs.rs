//! docs/BRIDGE.md names every header the bridge writes and every counter
//! it exports, and nothing else.

use dmp_bridge::format;
use dmp_bridge::metrics::{parse_text, Metrics};

fn doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/BRIDGE.md"))
        .expect("docs/BRIDGE.md")
}

/// The backquoted words of the doc that start with `prefix`.
fn named(doc: &str, prefix: &str) -> Vec<String> {
    doc.split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| w.starts_with(prefix) && !w.contains(' '))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_counter_is_documented_and_every_documented_counter_exists() {
    let doc = doc();
    let exported: Vec<String> = parse_text(&Metrics::new("out", "r").render())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let documented = named(&doc, "dmp_bridge_");
    for m in &exported {
        assert!(documented.contains(m), "{m} is not in docs/BRIDGE.md");
    }
    for d in &documented {
        assert!(
            exported.contains(d),
            "docs/BRIDGE.md names {d}, which the bridge does not export"
        );
    }
}

#[test]
fn every_header_is_documented() {
    let doc = doc();
    let documented = named(&doc, "Dmp-");
    let written = [
        format::RING,
        format::RING_ID,
        format::FIRST,
        format::COUNT,
        format::SLOT_SIZE,
        format::TYPE_ID,
        format::JOIN,
    ];
    for h in written {
        assert!(
            doc.contains(&format!("| `{h}` |")),
            "header {h} has no row in docs/BRIDGE.md"
        );
    }
    for d in &documented {
        assert!(
            written.contains(&d.as_str()),
            "docs/BRIDGE.md names header {d}, which the bridge does not write"
        );
    }
    assert!(doc.contains(&format!("| `{}` |", format::MSG_ID)));
}
