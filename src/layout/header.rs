//! The header block: its field offsets, encoding, decoding and the
//! validation of a header written by another process, and the checksum.

use super::*;
use crate::error::{Error, Result};
use std::path::Path;

/// Offsets of header fields (see docs/FORMAT.md).
pub mod field {
    /// `[u8; 8]` magic.
    pub const MAGIC: usize = 0;
    /// `u32` format version.
    pub const FORMAT_VERSION: usize = 8;
    /// `u32` header size.
    pub const HEADER_SIZE: usize = 12;
    /// `u32` byte-order mark.
    pub const ENDIAN: usize = 16;
    /// `u32` flags.
    pub const FLAGS: usize = 20;
    /// `u64` number of slots.
    pub const CAPACITY: usize = 24;
    /// `u32` payload bytes per slot.
    pub const SLOT_SIZE: usize = 32;
    /// `u32` bytes between slots.
    pub const SLOT_STRIDE: usize = 36;
    /// `u32` producer mode.
    pub const PRODUCER_MODE: usize = 40;
    /// `u32` consumer-table entries.
    pub const MAX_CONSUMERS: usize = 44;
    /// `u32` producer-table entries.
    pub const MAX_PRODUCERS: usize = 48;
    /// `u32` stamp offset inside a slot.
    pub const STAMP_OFFSET: usize = 52;
    /// `u64` application type id.
    pub const TYPE_ID: usize = 56;
    /// `u64` segment size.
    pub const TOTAL_SIZE: usize = 64;
    /// `u64` creator PID.
    pub const CREATOR_PID: usize = 72;
    /// `u64` creator start time (clock ticks since boot).
    pub const CREATOR_START_TIME: usize = 80;
    /// `u64` creation time (ns since the Unix epoch).
    pub const CREATED_AT_NS: usize = 88;
    /// Region table: `REGION_COUNT` entries of (offset u64, size u64).
    pub const REGIONS: usize = 96;
    /// `u64` unblock timeout in nanoseconds (multi-producer rings: how long
    /// a claimed, unpublished sequence may hold consumers up before it is
    /// abandoned).
    pub const UNBLOCK_TIMEOUT_NS: usize = 224;
}

impl Layout {
    /// Encodes the header block (without the `state` word, which the creator
    /// stores last).
    pub fn encode_header(&self, creator_pid: u32, start_time: u64, now_ns: u64) -> Vec<u8> {
        let mut h = vec![0u8; HEADER_SIZE as usize];
        let p = &self.params;
        put(&mut h, field::MAGIC, &MAGIC);
        put(&mut h, field::FORMAT_VERSION, &FORMAT_VERSION.to_ne_bytes());
        put(
            &mut h,
            field::HEADER_SIZE,
            &(HEADER_SIZE as u32).to_ne_bytes(),
        );
        put(&mut h, field::ENDIAN, &ENDIAN_MARK.to_ne_bytes());
        put(&mut h, field::FLAGS, &p.flags.to_ne_bytes());
        put(&mut h, field::CAPACITY, &p.capacity.to_ne_bytes());
        put(
            &mut h,
            field::SLOT_SIZE,
            &(p.slot_size as u32).to_ne_bytes(),
        );
        put(
            &mut h,
            field::SLOT_STRIDE,
            &(self.stride as u32).to_ne_bytes(),
        );
        put(
            &mut h,
            field::PRODUCER_MODE,
            &p.producer_mode.code().to_ne_bytes(),
        );
        put(&mut h, field::MAX_CONSUMERS, &p.max_consumers.to_ne_bytes());
        put(&mut h, field::MAX_PRODUCERS, &p.max_producers.to_ne_bytes());
        put(
            &mut h,
            field::STAMP_OFFSET,
            &(self.stamp_offset as u32).to_ne_bytes(),
        );
        put(&mut h, field::TYPE_ID, &p.type_id.to_ne_bytes());
        put(&mut h, field::TOTAL_SIZE, &self.total_size.to_ne_bytes());
        put(
            &mut h,
            field::CREATOR_PID,
            &u64::from(creator_pid).to_ne_bytes(),
        );
        put(&mut h, field::CREATOR_START_TIME, &start_time.to_ne_bytes());
        put(&mut h, field::CREATED_AT_NS, &now_ns.to_ne_bytes());
        put(
            &mut h,
            field::UNBLOCK_TIMEOUT_NS,
            &p.unblock_timeout_ns.to_ne_bytes(),
        );
        for (i, (off, size)) in self.regions.iter().enumerate() {
            put(&mut h, field::REGIONS + i * 16, &off.to_ne_bytes());
            put(&mut h, field::REGIONS + i * 16 + 8, &size.to_ne_bytes());
        }
        let sum = checksum(&h[..CHECKSUM_OFFSET]);
        put(&mut h, CHECKSUM_OFFSET, &sum.to_ne_bytes());
        h
    }

    /// Validates a header read from a segment of `file_len` bytes and returns
    /// its layout. `bytes` is a private copy of the first bytes of the file
    /// (at most `HEADER_SIZE`), so a peer changing the mapping meanwhile
    /// cannot make validation and use disagree.
    pub fn decode(path: &Path, bytes: &[u8], file_len: u64) -> Result<Layout> {
        let corrupt = |detail: String| Error::Corrupt {
            path: path.into(),
            detail,
        };
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            return Err(Error::NotASegment {
                path: path.into(),
                found: bytes[..bytes.len().min(8)].to_vec(),
            });
        }
        if (bytes.len() as u64) < HEADER_SIZE || file_len < HEADER_SIZE {
            return Err(Error::Truncated {
                path: path.into(),
                size: file_len,
                needed: HEADER_SIZE,
            });
        }
        let endian = get_u32(bytes, field::ENDIAN);
        let version = get_u32(bytes, field::FORMAT_VERSION);
        if endian != ENDIAN_MARK {
            return Err(corrupt(format!(
                "byte-order mark {endian:#010x}: written on a machine of the other byte order"
            )));
        }
        if version != FORMAT_VERSION {
            return Err(Error::VersionMismatch {
                path: path.into(),
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let stored = get_u64(bytes, CHECKSUM_OFFSET);
        let computed = checksum(&bytes[..CHECKSUM_OFFSET]);
        if stored != computed {
            return Err(Error::ChecksumMismatch {
                path: path.into(),
                stored,
                computed,
            });
        }
        let header_size = get_u32(bytes, field::HEADER_SIZE);
        if u64::from(header_size) != HEADER_SIZE {
            return Err(corrupt(format!(
                "header size {header_size}, expected {HEADER_SIZE}"
            )));
        }
        let mode_code = get_u32(bytes, field::PRODUCER_MODE);
        let producer_mode = ProducerMode::from_code(mode_code)
            .ok_or_else(|| corrupt(format!("unknown producer mode {mode_code}")))?;
        let params = Params {
            capacity: get_u64(bytes, field::CAPACITY),
            slot_size: u64::from(get_u32(bytes, field::SLOT_SIZE)),
            max_consumers: get_u32(bytes, field::MAX_CONSUMERS),
            max_producers: get_u32(bytes, field::MAX_PRODUCERS),
            producer_mode,
            type_id: get_u64(bytes, field::TYPE_ID),
            flags: get_u32(bytes, field::FLAGS),
            unblock_timeout_ns: get_u64(bytes, field::UNBLOCK_TIMEOUT_NS),
        };
        let layout =
            Layout::compute(params).map_err(|e| corrupt(format!("invalid parameters: {e}")))?;
        // Every derived value must be exactly what this version computes:
        // offsets pointing anywhere else (outside the mapping, overlapping
        // regions) are rejected here, before anything is dereferenced.
        let check = |name: &str, found: u64, want: u64| {
            if found == want {
                Ok(())
            } else {
                Err(corrupt(format!(
                    "{name} is {found}, the layout requires {want}"
                )))
            }
        };
        check(
            "slot stride",
            u64::from(get_u32(bytes, field::SLOT_STRIDE)),
            layout.stride,
        )?;
        check(
            "stamp offset",
            u64::from(get_u32(bytes, field::STAMP_OFFSET)),
            layout.stamp_offset,
        )?;
        check(
            "total size",
            get_u64(bytes, field::TOTAL_SIZE),
            layout.total_size,
        )?;
        for (i, (off, size)) in layout.regions.iter().enumerate() {
            let f_off = get_u64(bytes, field::REGIONS + i * 16);
            let f_size = get_u64(bytes, field::REGIONS + i * 16 + 8);
            if f_off
                .checked_add(f_size)
                .is_none_or(|end| end > layout.total_size)
            {
                return Err(corrupt(format!(
                    "region {i} [{f_off}, +{f_size}) lies outside the {}-byte segment",
                    layout.total_size
                )));
            }
            check(&format!("region {i} offset"), f_off, *off)?;
            check(&format!("region {i} size"), f_size, *size)?;
        }
        if file_len < layout.total_size {
            return Err(Error::Truncated {
                path: path.into(),
                size: file_len,
                needed: layout.total_size,
            });
        }
        for &(start, end) in &HEADER_RESERVED {
            if let Some(at) = (start..end).find(|&at| bytes[at] != 0) {
                return Err(corrupt(format!(
                    "reserved header byte at offset {at} is {:#04x}, not 0",
                    bytes[at]
                )));
            }
        }
        Ok(layout)
    }
}

/// FNV-1a, 64 bit: simple enough to reimplement in any language.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn put(buf: &mut [u8], at: usize, v: &[u8]) {
    buf[at..at + v.len()].copy_from_slice(v);
}

/// Reads a native `u32` at `at` (caller guarantees bounds).
pub fn get_u32(buf: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

/// Reads a native `u64` at `at` (caller guarantees bounds).
pub fn get_u64(buf: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(buf[at..at + 8].try_into().expect("8 bytes"))
}
