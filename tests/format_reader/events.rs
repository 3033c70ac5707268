//! Decoding the events `dmp produce` wrote, as FORMAT.md says they are laid out.

use super::*;

/// What the events in the reader's `events` must be, as FORMAT.md ("Events
/// written by `dmp produce`") says.
pub(crate) enum Numbering {
    /// Single producer, no `--first` anywhere: number == sequence.
    BySequence,
    /// Single producer, `--first F` on a fresh ring: number == F + seq,
    /// kept to the slot's first bytes.
    From(u64),
    /// Multi-producer: each producer's numbers follow each other (from 0
    /// when `from_zero`).
    PerProducer { from_zero: bool },
}

pub(crate) fn check_events(
    c: &mut Cmp,
    s: &Sample,
    numbering: Numbering,
    expect_abandoned: Option<u64>,
) {
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
