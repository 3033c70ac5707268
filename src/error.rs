//! One error type for the crate. Every variant maps to exactly one C status
//! code (see [`Status`]); the `Display` text is what `dmp_last_error_message`
//! returns, so it names the segment, the values on both sides of a mismatch
//! and what the caller can do about it.

use std::borrow::Cow;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every way an operation of this crate can fail or not complete.
///
/// `WouldBlock`, `Timeout` and `Abandoned` are expected outcomes (positive
/// C status codes); everything else is an error (negative codes).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A non-blocking call could not complete now (ring full, nothing to read).
    #[error("would block: {0}")]
    WouldBlock(&'static str),
    /// A bounded wait expired.
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// What was being waited for.
        what: Cow<'static, str>,
        /// How long the caller allowed.
        waited: Duration,
    },
    /// An argument is invalid in a way no more specific variant covers.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A required pointer argument was null (C ABI only).
    #[error("null pointer passed for `{0}`")]
    NullPointer(&'static str),
    /// A panic was caught at the C ABI boundary (a bug in this library).
    #[error("internal panic: {0}")]
    Panic(String),
    /// A handle that is closed, or not of the expected kind (C ABI only).
    #[error("invalid handle: {0} (closed, or not a {0})")]
    InvalidHandle(&'static str),
    /// A segment or consumer name that cannot be used.
    #[error("invalid name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A ring capacity that is zero, not a power of two, or too large.
    #[error("invalid capacity {capacity}: {reason}")]
    InvalidCapacity {
        /// The rejected capacity.
        capacity: u64,
        /// Why it was rejected.
        reason: String,
    },
    /// A slot size that is zero or too large.
    #[error("invalid slot size {slot_size}: {reason}")]
    InvalidSlotSize {
        /// The rejected slot size.
        slot_size: u64,
        /// Why it was rejected.
        reason: String,
    },
    /// An operating-system call failed.
    #[error("{op} {path}: {source}", path = .path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The segment path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The segment does not exist.
    #[error("segment {} does not exist", .path.display())]
    NotFound {
        /// The path that was looked up.
        path: PathBuf,
    },
    /// Exclusive creation found a segment already there.
    #[error("segment {} already exists", .path.display())]
    AlreadyExists {
        /// The existing segment.
        path: PathBuf,
    },
    /// Not enough space in the file system to reserve the segment.
    #[error(
        "not enough space for segment {}: needs {needed} bytes, {free} bytes free on its file system",
        .path.display()
    )]
    NoSpace {
        /// The segment being created.
        path: PathBuf,
        /// Bytes the segment needs.
        needed: u64,
        /// Bytes free on the file system at the time.
        free: u64,
    },
    /// The permissions of the segment do not allow this process to use it.
    #[error("permission denied for segment {}", .path.display())]
    PermissionDenied {
        /// The segment.
        path: PathBuf,
    },
    /// The segment was opened read-only (this process may read it but not
    /// write it, or asked for an observer's open), and attaching a
    /// participant writes it.
    #[error(
        "{} is open read-only (an observer's open, or this process has no write permission on it): attaching a {role} needs write permission on the segment",
        .path.display()
    )]
    ReadOnly {
        /// The segment.
        path: PathBuf,
        /// What was being attached: "producer" or "consumer".
        role: &'static str,
    },
    /// The file is not a disruptor-mp segment at all (wrong magic).
    #[error("{} is not a disruptor-mp segment (magic {found:02x?})", .path.display())]
    NotASegment {
        /// The file.
        path: PathBuf,
        /// The first bytes found, at most eight.
        found: Vec<u8>,
    },
    /// The segment was written by another format version.
    #[error(
        "segment {} has format version {found}, this library reads version {expected}: drain it with a release that reads version {found}, then remove it (`dmp rm`) and create it again",
        .path.display()
    )]
    VersionMismatch {
        /// The segment.
        path: PathBuf,
        /// Version in the segment.
        found: u32,
        /// Version this library implements.
        expected: u32,
    },
    /// The file is shorter than its header says.
    #[error("segment {} is truncated: {size} bytes, needs {needed}", .path.display())]
    Truncated {
        /// The segment.
        path: PathBuf,
        /// Actual file size.
        size: u64,
        /// Size the header requires.
        needed: u64,
    },
    /// The header checksum does not match its contents.
    #[error(
        "segment {} has a corrupt header: checksum {stored:#018x}, computed {computed:#018x}",
        .path.display()
    )]
    ChecksumMismatch {
        /// The segment.
        path: PathBuf,
        /// Checksum stored in the header.
        stored: u64,
        /// Checksum computed over the header.
        computed: u64,
    },
    /// A header or table value is impossible (offsets outside the mapping, …).
    #[error("segment {} is corrupt: {detail}", .path.display())]
    Corrupt {
        /// The segment.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The segment's layout differs from what the caller asked for.
    #[error(
        "opening segment {}: it has {field} {}, the caller asked for {field} {}: ask for {field} {} (or leave the {field} unset: open does not check it), or create a ring with {field} {} under another name",
        .path.display(),
        layout_value(field, *found),
        layout_value(field, *requested),
        layout_value(field, *found),
        layout_value(field, *requested)
    )]
    LayoutMismatch {
        /// The segment.
        path: PathBuf,
        /// The differing field.
        field: &'static str,
        /// Value in the segment.
        found: u64,
        /// Value the caller asked for.
        requested: u64,
    },
    /// The segment's application type identifier differs from the caller's.
    #[error(
        "segment {} carries type id {found:#018x}, the caller's event type is {requested:#018x}",
        .path.display()
    )]
    TypeMismatch {
        /// The segment.
        path: PathBuf,
        /// Type id in the segment.
        found: u64,
        /// Type id the caller asked for.
        requested: u64,
    },
    /// A sequence outside the range the call allows (publish of an unclaimed
    /// range, commit beyond what is available, slot access outside a batch).
    #[error("sequence out of range: {0}")]
    SequenceOutOfRange(String),
    /// `claim` of zero slots or of more slots than the ring holds.
    #[error("cannot claim {requested} slots from a ring of capacity {capacity}: claim 1 to {capacity} slots at a time")]
    BatchTooLarge {
        /// Slots asked for.
        requested: u64,
        /// Ring capacity.
        capacity: u64,
    },
    /// Every entry of the consumer table is in use.
    #[error("consumer table of {} is full ({max} entries): close a consumer that is done, or create the ring with a larger max_consumers", .path.display())]
    ConsumerTableFull {
        /// The segment.
        path: PathBuf,
        /// Table size.
        max: u32,
    },
    /// A live consumer already holds this name.
    #[error("consumer name {name:?} is held by a live consumer (pid {pid}): use another name, or stop that process first")]
    NameInUse {
        /// The name.
        name: String,
        /// PID recorded by its holder.
        pid: u32,
    },
    /// Removing a ring without force while live processes take part in it
    /// (`Ring::remove`, `dmp_ring_remove`, `dmp rm`).
    #[error("refusing to remove ring {}: it is live: {live}; stop them first, or remove it with force (Ring::remove(.., true), DMP_REMOVE_FORCE, `dmp rm --force`: they keep working on the removed ring, alone, until they exit)", .path.display())]
    RingInUse {
        /// The segment.
        path: PathBuf,
        /// The live participants, as "producer 0 (pid 12)", "consumer 'audit' (pid 34)".
        live: String,
    },
    /// Retiring a consumer whose holder is alive.
    #[error("cannot retire consumer {name:?} of ring {}: it is held by a live process (pid {pid}); stop that process first (retiring is for a consumer whose process died and will not come back)", .path.display())]
    ConsumerAlive {
        /// The segment.
        path: PathBuf,
        /// The consumer's name.
        name: String,
        /// PID of its holder.
        pid: u32,
    },
    /// A dependency named at consumer registration is not an active consumer.
    #[error(
        "dependency {name:?} is not an active consumer of the ring: start consumer {name:?} first"
    )]
    DependencyNotFound {
        /// The missing dependency.
        name: String,
    },
    /// The single-producer ring already has a live producer.
    #[error("segment {} already has a live producer (pid {pid}): stop it first (a single-producer ring has one producer at a time; create a multi-producer ring for several)", .path.display())]
    ProducerExists {
        /// The segment.
        path: PathBuf,
        /// PID recorded by the live producer.
        pid: u32,
    },
    /// Multi-producer rings: while this producer held its claim, other
    /// producers went a whole lap past it (no consumer gated those slots),
    /// so its events were not published.
    #[error("claim [{lo}, {hi}] was overtaken by a full lap of other producers (no consumer held the ring back) and not published; claim again")]
    ClaimLapped {
        /// First sequence of the claim.
        lo: i64,
        /// Last sequence of the claim.
        hi: i64,
    },
    /// Every entry of a multi-producer ring's producer table is held by a
    /// live producer.
    #[error("segment {} already has {max} live producers, its producer table size; create the ring with more (max_producers)", .path.display())]
    ProducerTableFull {
        /// The segment.
        path: PathBuf,
        /// Table size.
        max: u32,
    },
    /// The request is valid but this ring or build does not support it.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Multi-producer rings: the sequence was claimed by a producer that did
    /// not publish it within the ring's unblock timeout, so it was abandoned.
    /// Its slot holds no event: skip it (commit past it as usual).
    #[error("sequence {seq} was abandoned by its producer; skip it")]
    Abandoned {
        /// The abandoned sequence.
        seq: i64,
    },
    /// Multi-producer rings: this producer's claim was abandoned (it did not
    /// publish within the ring's unblock timeout) and its events were not
    /// published. Claim again to send them.
    #[error("claim [{lo}, {hi}] was abandoned after the ring's unblock timeout of {timeout:?} and not published; claim again")]
    ClaimAbandoned {
        /// First sequence of the claim.
        lo: i64,
        /// Last sequence of the claim.
        hi: i64,
        /// The ring's unblock timeout.
        timeout: Duration,
    },
    /// A required consumer that holds the producer back is dead (no live
    /// process holds its lease) and did not come back within the producer's
    /// `consumer_dead_timeout`.
    #[error("required consumer {name:?} (entry {index}, last pid {pid}) is dead and holds the ring back at sequence {sequence}; it did not come back within {waited:?}")]
    ConsumerDead {
        /// The consumer's name.
        name: String,
        /// Its table entry.
        index: u32,
        /// PID of its last holder.
        pid: u32,
        /// Its committed sequence.
        sequence: i64,
        /// How long the producer waited for it to come back.
        waited: Duration,
    },
    /// A live required consumer made no progress while it held the producer
    /// back, for the producer's progress timeout plus its grace period.
    #[error("required consumer {name:?} (entry {index}, pid {pid}) is alive but made no progress for {stalled:?} at sequence {sequence}, holding the ring back")]
    ConsumerStalled {
        /// The consumer's name.
        name: String,
        /// Its table entry.
        index: u32,
        /// PID of its holder.
        pid: u32,
        /// Its committed sequence.
        sequence: i64,
        /// How long it made no progress.
        stalled: Duration,
    },
    /// This optional consumer was evicted: the producer stopped waiting for
    /// it (it was dead, or held the producer back longer than its policy
    /// allows). Events after `committed` may have been overwritten; any
    /// batch read since is void. `Consumer::rejoin` starts again at the
    /// current position.
    #[error("consumer {name:?} was evicted after sequence {committed}; {lost} events published since are lost to it; rejoin to go on")]
    Evicted {
        /// The consumer's name.
        name: String,
        /// Its committed sequence when it was evicted.
        committed: i64,
        /// Events published after it that it will not see (as of now).
        lost: u64,
    },
}

/// How a layout field's value reads in a message: the layout, the flags
/// and the producer mode by name, numbers as they are.
fn layout_value(field: &str, v: u64) -> Cow<'static, str> {
    match (field, v) {
        ("layout", 0) => "stamped".into(),
        ("layout", 1) => "packed".into(),
        ("wake-ups" | "hot counters", 0) => "off".into(),
        ("wake-ups" | "hot counters", 1) => "on".into(),
        ("producer mode", 0) => "single".into(),
        ("producer mode", 1) => "multi".into(),
        _ => v.to_string().into(),
    }
}

/// The status codes, written once: each row is a [`Status`] variant with
/// its doc comment, its code, the name of its C constant and its short
/// description. `status_table!(m)` hands all the rows to the macro `m`:
/// `define_status` below makes [`Status`], [`Status::ALL`] (in row order)
/// and [`Status::as_cstr`] of them, and `src/ffi/status.rs` checks its
/// literal `DMP_STATUS_*` constants (cbindgen cannot expand macros) against
/// them at compile time. Codes are never renumbered.
macro_rules! status_table {
    ($m:ident) => {
        $m! {
            /// Success.
            Ok = 0 => DMP_STATUS_OK, c"ok";
            /// A non-blocking call could not complete now.
            WouldBlock = 1 => DMP_STATUS_WOULD_BLOCK, c"would block";
            /// A bounded wait expired.
            Timeout = 2 => DMP_STATUS_TIMEOUT, c"timed out";
            /// An argument is invalid (unknown enum value, bad option struct, …).
            InvalidArgument = -1 => DMP_STATUS_INVALID_ARGUMENT, c"invalid argument";
            /// A required pointer argument was null.
            NullPointer = -2 => DMP_STATUS_NULL_POINTER, c"null pointer argument";
            /// A panic was caught at the boundary.
            Panic = -3 => DMP_STATUS_PANIC, c"internal panic";
            /// A closed or foreign handle.
            InvalidHandle = -4 => DMP_STATUS_INVALID_HANDLE, c"invalid or closed handle";
            /// An unusable segment or consumer name.
            InvalidName = -5 => DMP_STATUS_INVALID_NAME, c"invalid name";
            /// Capacity zero, not a power of two, or too large.
            InvalidCapacity = -6 => DMP_STATUS_INVALID_CAPACITY, c"invalid capacity";
            /// Slot size zero or too large.
            InvalidSlotSize = -7 => DMP_STATUS_INVALID_SLOT_SIZE, c"invalid slot size";
            /// An operating-system call failed.
            Io = -8 => DMP_STATUS_IO, c"operating system error";
            /// The segment does not exist.
            NotFound = -9 => DMP_STATUS_NOT_FOUND, c"segment not found";
            /// The segment already exists.
            AlreadyExists = -10 => DMP_STATUS_ALREADY_EXISTS, c"segment already exists";
            /// Not enough space to reserve the segment.
            NoSpace = -11 => DMP_STATUS_NO_SPACE, c"not enough space for the segment";
            /// Permission denied.
            PermissionDenied = -12 => DMP_STATUS_PERMISSION_DENIED, c"permission denied";
            /// Not a disruptor-mp segment.
            NotASegment = -13 => DMP_STATUS_NOT_A_SEGMENT, c"not a disruptor-mp segment";
            /// Other format version.
            VersionMismatch = -14 => DMP_STATUS_VERSION_MISMATCH,
                c"segment format version mismatch";
            /// File shorter than its header says.
            Truncated = -15 => DMP_STATUS_TRUNCATED, c"segment truncated";
            /// Header checksum mismatch.
            ChecksumMismatch = -16 => DMP_STATUS_CHECKSUM_MISMATCH,
                c"segment header checksum mismatch";
            /// Impossible header or table values.
            Corrupt = -17 => DMP_STATUS_CORRUPT, c"segment corrupt";
            /// Layout differs from the caller's request.
            LayoutMismatch = -18 => DMP_STATUS_LAYOUT_MISMATCH, c"segment layout mismatch";
            /// Application type id differs.
            TypeMismatch = -19 => DMP_STATUS_TYPE_MISMATCH, c"event type id mismatch";
            /// Sequence outside the allowed range.
            SequenceOutOfRange = -20 => DMP_STATUS_SEQUENCE_OUT_OF_RANGE, c"sequence out of range";
            /// Claim of zero or more than capacity slots.
            BatchTooLarge = -21 => DMP_STATUS_BATCH_TOO_LARGE,
                c"batch size zero or larger than the ring";
            /// Consumer table full.
            ConsumerTableFull = -22 => DMP_STATUS_CONSUMER_TABLE_FULL, c"consumer table full";
            /// A live process holds that name: a consumer name (attaching,
            /// retiring) or a ring name (removing without force).
            NameInUse = -23 => DMP_STATUS_NAME_IN_USE, c"name in use by a live process";
            /// Dependency not found.
            DependencyNotFound = -24 => DMP_STATUS_DEPENDENCY_NOT_FOUND, c"dependency not found";
            /// A live producer already owns the ring.
            ProducerExists = -25 => DMP_STATUS_PRODUCER_EXISTS, c"ring already has a live producer";
            /// Valid request this ring or build does not support.
            Unsupported = -26 => DMP_STATUS_UNSUPPORTED, c"unsupported";
            /// The sequence was abandoned by its producer: skip it.
            Abandoned = 3 => DMP_STATUS_ABANDONED, c"sequence abandoned by its producer";
            /// The producer's claim was abandoned; nothing was published.
            ClaimAbandoned = -27 => DMP_STATUS_CLAIM_ABANDONED,
                c"claim abandoned after the unblock timeout";
            /// Producer table full.
            ProducerTableFull = -28 => DMP_STATUS_PRODUCER_TABLE_FULL, c"producer table full";
            /// A required consumer holding the ring back is dead.
            ConsumerDead = -29 => DMP_STATUS_CONSUMER_DEAD,
                c"a required consumer holding the ring back is dead";
            /// A required consumer holding the ring back makes no progress.
            ConsumerStalled = -30 => DMP_STATUS_CONSUMER_STALLED,
                c"a required consumer holding the ring back makes no progress";
            /// This optional consumer was evicted; rejoin to go on.
            Evicted = -31 => DMP_STATUS_EVICTED, c"consumer evicted; rejoin to go on";
        }
    };
}
pub(crate) use status_table;

/// Makes [`Status`] of the rows of [`status_table`].
macro_rules! define_status {
    ($($(#[$doc:meta])* $variant:ident = $code:literal => $c_name:ident, $text:literal;)*) => {
        /// C status codes: `0` OK, small positive values for expected outcomes,
        /// negative values for errors. Values are never renumbered.
        #[repr(i32)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Status {
            $($(#[$doc])* $variant = $code,)*
        }

        impl Status {
            /// Every status, for tables and tests.
            pub const ALL: [Status; [$(stringify!($variant)),*].len()] = [$(Status::$variant),*];

            /// A short static description, NUL-terminated for the C ABI.
            pub fn as_cstr(self) -> &'static std::ffi::CStr {
                match self {
                    $(Status::$variant => $text,)*
                }
            }
        }
    };
}
status_table!(define_status);

impl Status {
    /// The status for a raw code, if it is one.
    pub fn from_code(code: i32) -> Option<Status> {
        Status::ALL.iter().copied().find(|s| *s as i32 == code)
    }

    /// A short static description.
    pub fn as_str(self) -> &'static str {
        self.as_cstr().to_str().unwrap_or("?")
    }
}

impl Error {
    /// The C status code of this error.
    pub fn status(&self) -> Status {
        match self {
            Error::WouldBlock(_) => Status::WouldBlock,
            Error::Timeout { .. } => Status::Timeout,
            Error::InvalidArgument(_) => Status::InvalidArgument,
            Error::NullPointer(_) => Status::NullPointer,
            Error::Panic(_) => Status::Panic,
            Error::InvalidHandle(_) => Status::InvalidHandle,
            Error::InvalidName { .. } => Status::InvalidName,
            Error::InvalidCapacity { .. } => Status::InvalidCapacity,
            Error::InvalidSlotSize { .. } => Status::InvalidSlotSize,
            Error::Io { .. } => Status::Io,
            Error::NotFound { .. } => Status::NotFound,
            Error::AlreadyExists { .. } => Status::AlreadyExists,
            Error::NoSpace { .. } => Status::NoSpace,
            Error::PermissionDenied { .. } | Error::ReadOnly { .. } => Status::PermissionDenied,
            Error::NotASegment { .. } => Status::NotASegment,
            Error::VersionMismatch { .. } => Status::VersionMismatch,
            Error::Truncated { .. } => Status::Truncated,
            Error::ChecksumMismatch { .. } => Status::ChecksumMismatch,
            Error::Corrupt { .. } => Status::Corrupt,
            Error::LayoutMismatch { .. } => Status::LayoutMismatch,
            Error::TypeMismatch { .. } => Status::TypeMismatch,
            Error::SequenceOutOfRange(_) => Status::SequenceOutOfRange,
            Error::BatchTooLarge { .. } => Status::BatchTooLarge,
            Error::ConsumerTableFull { .. } => Status::ConsumerTableFull,
            Error::NameInUse { .. } | Error::RingInUse { .. } | Error::ConsumerAlive { .. } => {
                Status::NameInUse
            }
            Error::DependencyNotFound { .. } => Status::DependencyNotFound,
            Error::ProducerExists { .. } => Status::ProducerExists,
            Error::Unsupported(_) => Status::Unsupported,
            Error::Abandoned { .. } => Status::Abandoned,
            Error::ClaimAbandoned { .. } | Error::ClaimLapped { .. } => Status::ClaimAbandoned,
            Error::ProducerTableFull { .. } => Status::ProducerTableFull,
            Error::ConsumerDead { .. } => Status::ConsumerDead,
            Error::ConsumerStalled { .. } => Status::ConsumerStalled,
            Error::Evicted { .. } => Status::Evicted,
        }
    }

    /// Maps an OS error on `path` to the most specific variant.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        let path = path.into();
        match source.kind() {
            io::ErrorKind::NotFound => Error::NotFound { path },
            io::ErrorKind::AlreadyExists => Error::AlreadyExists { path },
            io::ErrorKind::PermissionDenied => Error::PermissionDenied { path },
            _ => Error::Io { op, path, source },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_unique_and_round_trip() {
        for (i, a) in Status::ALL.iter().enumerate() {
            assert_eq!(Status::from_code(*a as i32), Some(*a));
            for b in &Status::ALL[i + 1..] {
                assert_ne!(*a as i32, *b as i32, "{a:?} and {b:?} share a code");
            }
        }
        assert_eq!(Status::from_code(12345), None);
    }

    #[test]
    fn io_errors_map_to_specific_variants() {
        let e = Error::io("open", "/x", io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(e.status(), Status::NotFound);
        assert!(e.to_string().contains("/x"));
        let e = Error::io("open", "/x", io::Error::from_raw_os_error(libc::EIO));
        assert_eq!(e.status(), Status::Io);
    }
}
