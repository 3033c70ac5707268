//! Damaged copies of a ring: the reader and the tool must refuse each for the same reason.

use super::*;

/// Damaged copies of a finished ring: the reader and `dmp inspect` must
/// refuse each, for the same reason.
pub(crate) fn refusals(tally: &mut Tally, dir: &Path) {
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
