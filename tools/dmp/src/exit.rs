//! The tool's exit codes: one per kind of failure an operator's script
//! tells apart, listed in `dmp --help` and docs/OPERATIONS.md ("Exit
//! codes"). A command fails with a [`Failure`] carrying its code, or with a
//! library error, whose variant decides it; anything else exits 1.

use disruptor_mp::Error;
use std::fmt;

/// Why a command failed, as its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 1: anything not listed below.
    Other = 1,
    /// 2: bad command line (clap's own usage errors exit 2 as well), or an
    /// invalid option value (capacity, slot size, name).
    Usage = 2,
    /// 3: the ring (or the directory) does not exist.
    NotFound = 3,
    /// 4: the file is not a usable ring: no ring magic, not a regular file,
    /// still initialising, truncated, corrupt, another format version.
    NotARing = 4,
    /// 5: refused: the ring is live (`rm` without `--force`), permission
    /// denied, the name is taken, a consumer name is in use (or, for
    /// `retire`, held by a live process).
    Refused = 5,
    /// 6: a bounded wait ran out (the ring did not appear, no event came,
    /// no slot freed up).
    Timeout = 6,
}

/// The text of `dmp --help` that lists the codes (docs/OPERATIONS.md says
/// the same; tests/exit_codes.rs checks both against the codes).
pub const HELP: &str = "Exit codes: 0 success, 1 other failure, 2 usage (bad option or value), \
3 not found, 4 not a (usable) ring, 5 refused (live ring, permission, name taken), \
6 timeout.";

/// A failure with its exit code and message.
#[derive(Debug)]
pub struct Failure {
    pub code: Code,
    pub message: String,
}

impl Failure {
    pub fn new(code: Code, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// A library error with more context in front, keeping its code.
    pub fn context(context: impl fmt::Display, e: Error) -> Failure {
        Failure::new(of_library(&e), format!("{context}: {e}"))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The code of a library error.
pub fn of_library(e: &Error) -> Code {
    match e {
        Error::NotFound { .. } | Error::DependencyNotFound { .. } => Code::NotFound,
        Error::NotASegment { .. }
        | Error::VersionMismatch { .. }
        | Error::Truncated { .. }
        | Error::ChecksumMismatch { .. }
        | Error::Corrupt { .. } => Code::NotARing,
        Error::PermissionDenied { .. }
        | Error::AlreadyExists { .. }
        | Error::NameInUse { .. }
        | Error::RingInUse { .. }
        | Error::ConsumerAlive { .. }
        | Error::ProducerExists { .. } => Code::Refused,
        Error::Timeout { .. } => Code::Timeout,
        Error::InvalidArgument(_)
        | Error::InvalidName { .. }
        | Error::InvalidCapacity { .. }
        | Error::InvalidSlotSize { .. } => Code::Usage,
        _ => Code::Other,
    }
}

/// The code of any error a command returned.
pub fn of(e: &(dyn std::error::Error + 'static)) -> Code {
    if let Some(f) = e.downcast_ref::<Failure>() {
        f.code
    } else if let Some(e) = e.downcast_ref::<Error>() {
        of_library(e)
    } else {
        Code::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_text_names_every_code() {
        for (code, word) in [
            (Code::Other, "1 other"),
            (Code::Usage, "2 usage"),
            (Code::NotFound, "3 not found"),
            (Code::NotARing, "4 not a (usable) ring"),
            (Code::Refused, "5 refused"),
            (Code::Timeout, "6 timeout"),
        ] {
            assert!(HELP.contains(word), "{code:?}: {HELP}");
            assert!(word.starts_with(&(code as u8).to_string()));
        }
    }

    #[test]
    fn library_errors_keep_their_kind() {
        let path = std::path::PathBuf::from("/dev/shm/x");
        let e = Error::NotFound { path: path.clone() };
        assert_eq!(of(&e), Code::NotFound);
        let f = Failure::context("stat", Error::PermissionDenied { path });
        assert_eq!((of(&f), f.code), (Code::Refused, Code::Refused));
        assert!(f.message.starts_with("stat: "), "{f}");
    }
}
