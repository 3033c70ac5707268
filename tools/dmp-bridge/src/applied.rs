//! What the in bridge applied last, surviving its SIGKILL exactly.
//!
//! A small state file holds two 64-byte records, written alternately (the
//! record numbered `n` at offset `64 * (n % 2)`), each with a checksum.
//! Before it publishes ring sequences `[lo, hi]` carrying source events up
//! to `source_last`, the bridge writes record `n + 1` = (source ring,
//! `source_last`, `hi`) with one `pwrite`, then publishes (one release
//! store of the cursor, single-producer rings only). After a kill at any
//! point, the destination ring's cursor says which record holds:
//!
//! - cursor >= the newest record's `ring_end`: the publish happened; the
//!   newest record is the state;
//! - otherwise the kill came between the write and the publish (the
//!   claim is gone with the process, and the next producer resumes after
//!   the cursor): the previous record is the state.
//!
//! A record whose checksum fails (a write torn by the kill) is ignored;
//! it can only be the newest, and then the previous one holds, which is
//! right, since its publish cannot have happened. Records carry the
//! destination ring's identity: a ring recreated under the same name starts
//! with no state. The file lives in the page cache: it survives the
//! process, not a machine crash (neither does a shared-memory ring).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

const MAGIC: u64 = u64::from_le_bytes(*b"DMPBRIN1");
const RECORD: u64 = 64;

/// The bridge's position in its source: which ring instance, and the
/// last source sequence applied (-1: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// [`crate::format::RingId::key`] of the source ring (0: none yet).
    pub source: u64,
    /// `created_at_ns` of the source ring (newer instances replace older).
    pub source_created_at_ns: u64,
    /// Last source sequence applied.
    pub last: i64,
}

impl Position {
    /// Nothing applied yet.
    pub const NONE: Position = Position {
        source: 0,
        source_created_at_ns: 0,
        last: -1,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    number: u64,
    dest: u64,
    position: Position,
    ring_end: i64,
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Record {
    fn encode(&self) -> [u8; RECORD as usize] {
        let mut b = [0u8; RECORD as usize];
        let words = [
            MAGIC,
            self.number,
            self.dest,
            self.position.source,
            self.position.source_created_at_ns,
            self.position.last as u64,
            self.ring_end as u64,
        ];
        for (i, w) in words.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        let sum = fnv(&b[..56]);
        b[56..].copy_from_slice(&sum.to_le_bytes());
        b
    }

    fn decode(b: &[u8]) -> Option<Record> {
        let w = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        if b.len() < RECORD as usize || w(0) != MAGIC || w(7) != fnv(&b[..56]) {
            return None;
        }
        Some(Record {
            number: w(1),
            dest: w(2),
            position: Position {
                source: w(3),
                source_created_at_ns: w(4),
                last: w(5) as i64,
            },
            ring_end: w(6) as i64,
        })
    }
}

/// The open state file of one in bridge.
#[derive(Debug)]
pub struct Applied {
    file: File,
    dest: u64,
    number: u64,
}

impl Applied {
    /// Opens (creating) the state file for the destination ring `dest`
    /// ([`crate::format::RingId::key`]), and recovers the position against
    /// the ring's cursor (taken after this process became its producer).
    pub fn open(path: &Path, dest: u64, cursor: i64) -> std::io::Result<(Applied, Position)> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut buf = [0u8; 2 * RECORD as usize];
        let n = file.read_at(&mut buf, 0)?;
        let records: Vec<Record> = [0usize, RECORD as usize]
            .iter()
            .filter(|&&at| n >= at + RECORD as usize)
            .filter_map(|&at| Record::decode(&buf[at..at + RECORD as usize]))
            .filter(|r| r.dest == dest)
            .collect();
        let newest = records.iter().max_by_key(|r| r.number).copied();
        let (number, position) = match newest {
            None => (0, Position::NONE),
            Some(r) if cursor >= r.ring_end => (r.number, r.position),
            Some(r) => {
                // The newest write's publish did not happen: the record
                // before it holds (none: nothing was applied).
                let prev = records
                    .iter()
                    .find(|p| p.number + 1 == r.number)
                    .map_or(Position::NONE, |p| p.position);
                // The next record replaces the one that did not hold, so
                // that the record before it stays the previous one.
                (r.number - 1, prev)
            }
        };
        Ok((Applied { file, dest, number }, position))
    }

    /// Records that the publish about to happen ends at ring sequence
    /// `ring_end` and applies the source up to `position`. Call it after
    /// writing the slots and before publishing them.
    pub fn record(&mut self, position: Position, ring_end: i64) -> std::io::Result<()> {
        let number = self.number + 1;
        let rec = Record {
            number,
            dest: self.dest,
            position,
            ring_end,
        };
        self.file
            .write_all_at(&rec.encode(), RECORD * (number % 2))?;
        self.number = number;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(last: i64) -> Position {
        Position {
            source: 7,
            source_created_at_ns: 9,
            last,
        }
    }

    #[test]
    fn the_cursor_decides_which_record_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let (mut a, p) = Applied::open(&path, 1, -1).unwrap();
        assert_eq!(p, Position::NONE);
        a.record(pos(99), 9).unwrap(); // published: cursor 9
        a.record(pos(199), 19).unwrap(); // killed before the publish
        drop(a);
        assert_eq!(Applied::open(&path, 1, 9).unwrap().1, pos(99));
        assert_eq!(Applied::open(&path, 1, 19).unwrap().1, pos(199));
        // Killed again before the publish that follows an unpublished
        // record: the record before both still holds.
        let (mut d, p) = Applied::open(&path, 1, 9).unwrap();
        assert_eq!(p, pos(99));
        d.record(pos(150), 14).unwrap();
        drop(d);
        assert_eq!(Applied::open(&path, 1, 9).unwrap().1, pos(99));
        assert_eq!(Applied::open(&path, 1, 14).unwrap().1, pos(150));
        // Another destination ring instance: no state.
        assert_eq!(Applied::open(&path, 2, 19).unwrap().1, Position::NONE);
        // A first write whose publish did not happen: nothing applied.
        let other = dir.path().join("other");
        let (mut b, _) = Applied::open(&other, 1, -1).unwrap();
        b.record(pos(5), 0).unwrap();
        drop(b);
        assert_eq!(Applied::open(&other, 1, -1).unwrap().1, Position::NONE);
        // A torn newest record: the previous one holds.
        let (mut c, _) = Applied::open(&path, 1, 19).unwrap();
        c.record(pos(299), 29).unwrap();
        drop(c);
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(&[0xff; 8], RECORD + 40).unwrap();
        assert_eq!(Applied::open(&path, 1, 19).unwrap().1, pos(150));
    }
}
