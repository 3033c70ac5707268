//! The bridge's message format (docs/BRIDGE.md): the headers each
//! JetStream message carries, the ring identity they name, and parsing
//! them back. The payload is the events back to back, `count * slot_size`
//! bytes.

use async_nats::HeaderMap;
use disruptor_mp::layout::{field, get_u64, HEADER_SIZE};
use disruptor_mp::Ring;
use std::fmt;
use std::os::unix::fs::FileExt;

/// Header: the source ring's name (informative).
pub const RING: &str = "Dmp-Ring";
/// Header: the source ring's identity (see [`RingId`]).
pub const RING_ID: &str = "Dmp-Ring-Id";
/// Header: the sequence of the first event in the payload.
pub const FIRST: &str = "Dmp-First";
/// Header: how many events the payload holds.
pub const COUNT: &str = "Dmp-Count";
/// Header: payload bytes per event (the source ring's slot size).
pub const SLOT_SIZE: &str = "Dmp-Slot-Size";
/// Header: the source ring's event type id (0: untyped).
pub const TYPE_ID: &str = "Dmp-Type-Id";
/// Header, on the first message after the out bridge joined the ring
/// somewhere else than where its name had committed (a new name, or one
/// that had left or was evicted): how many events its name missed. The
/// in bridge accepts a gap before such a message and no other.
pub const JOIN: &str = "Dmp-Join";
/// JetStream's de-duplication header.
pub const MSG_ID: &str = "Nats-Msg-Id";

/// One ring instance: its creation time and creator, from the segment's
/// header. A ring unlinked and created again under the same name is
/// another instance whose sequences start again at 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingId {
    /// `created_at_ns` of the header.
    pub created_at_ns: u64,
    /// `creator_pid` of the header.
    pub creator_pid: u32,
}

impl RingId {
    /// Reads the identity of an open ring from its segment's header.
    pub fn of(ring: &Ring) -> std::io::Result<RingId> {
        let file = std::fs::File::open(ring.path())?;
        let mut header = vec![0u8; HEADER_SIZE as usize];
        file.read_exact_at(&mut header, 0)?;
        Ok(RingId {
            created_at_ns: get_u64(&header, field::CREATED_AT_NS),
            creator_pid: get_u64(&header, field::CREATOR_PID) as u32,
        })
    }

    /// Parses the text form `<created_at_ns as 16 hex digits>-<pid>`.
    pub fn parse(s: &str) -> Option<RingId> {
        let (t, p) = s.split_once('-')?;
        Some(RingId {
            created_at_ns: u64::from_str_radix(t, 16).ok()?,
            creator_pid: p.parse().ok()?,
        })
    }

    /// A 64-bit key of the identity (what the in bridge's state records).
    pub fn key(&self) -> u64 {
        self.created_at_ns ^ (u64::from(self.creator_pid) << 48).rotate_left(7)
    }
}

impl fmt::Display for RingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}-{}", self.created_at_ns, self.creator_pid)
    }
}

/// What a message's headers say about its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The source ring's name.
    pub ring: String,
    /// The source ring's identity.
    pub ring_id: RingId,
    /// Sequence of the first event.
    pub first: i64,
    /// Number of events.
    pub count: u64,
    /// Bytes per event.
    pub slot_size: u64,
    /// The source ring's type id.
    pub type_id: u64,
    /// `Some(lost)` on the first message after a join that did not resume.
    pub join: Option<u64>,
}

impl Meta {
    /// The message id: ring identity, first sequence and count. The count
    /// is part of it because a restarted out bridge may pack the same first
    /// event into a longer message; JetStream must keep that one too (the
    /// in bridge skips the events it already applied).
    pub fn msg_id(&self) -> String {
        format!("{}:{}:{}", self.ring_id, self.first, self.count)
    }

    /// Sequence of the last event.
    pub fn last(&self) -> i64 {
        self.first + self.count as i64 - 1
    }

    /// The headers of a message with this payload.
    pub fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(MSG_ID, self.msg_id().as_str());
        h.insert(RING, self.ring.as_str());
        h.insert(RING_ID, self.ring_id.to_string().as_str());
        h.insert(FIRST, self.first.to_string().as_str());
        h.insert(COUNT, self.count.to_string().as_str());
        h.insert(SLOT_SIZE, self.slot_size.to_string().as_str());
        h.insert(TYPE_ID, self.type_id.to_string().as_str());
        if let Some(lost) = self.join {
            h.insert(JOIN, lost.to_string().as_str());
        }
        h
    }

    /// Reads the headers back and checks the payload length against them.
    pub fn parse(headers: Option<&HeaderMap>, payload_len: usize) -> Result<Meta, String> {
        let h = headers.ok_or("a message without headers")?;
        let get = |name: &str| -> Result<&str, String> {
            h.get(name)
                .map(|v| v.as_str())
                .ok_or_else(|| format!("no {name} header"))
        };
        let num = |name: &str| -> Result<u64, String> {
            get(name)?
                .parse::<u64>()
                .map_err(|_| format!("{name} is not a number"))
        };
        let ring_id = RingId::parse(get(RING_ID)?).ok_or("a malformed Dmp-Ring-Id")?;
        let first = num(FIRST)?;
        let meta = Meta {
            ring: get(RING).unwrap_or("").to_string(),
            ring_id,
            first: i64::try_from(first).map_err(|_| "Dmp-First out of range")?,
            count: num(COUNT)?,
            slot_size: num(SLOT_SIZE)?,
            type_id: num(TYPE_ID)?,
            join: h.get(JOIN).and_then(|v| v.as_str().parse().ok()),
        };
        if meta.count == 0 || meta.count.checked_mul(meta.slot_size) != Some(payload_len as u64) {
            return Err(format!(
                "{payload_len} payload bytes are not Dmp-Count {} x Dmp-Slot-Size {}",
                meta.count, meta.slot_size
            ));
        }
        Ok(meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip() {
        let m = Meta {
            ring: "quotes".into(),
            ring_id: RingId {
                created_at_ns: 0x1234,
                creator_pid: 77,
            },
            first: 100,
            count: 3,
            slot_size: 64,
            type_id: 9,
            join: Some(5),
        };
        let h = m.headers();
        assert_eq!(h.get(MSG_ID).unwrap().as_str(), "0000000000001234-77:100:3");
        assert_eq!(Meta::parse(Some(&h), 192).unwrap(), m);
        assert!(Meta::parse(Some(&h), 191).is_err());
        assert!(Meta::parse(None, 192).is_err());
    }
}
