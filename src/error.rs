//! One error type for the whole core. Every failure a caller can cause or observe
//! (bad file, full disk, corrupt offset, contention limits) is a value, never a panic.

use std::fmt;
use std::io;

/// What went wrong, coarse enough to map one-to-one onto the C ABI status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An argument was out of range or malformed (empty name, name too long, ...).
    InvalidArgument,
    /// An operating-system call failed (open, mmap, fallocate, ...).
    Io,
    /// The file is not an eve slab at all.
    NotASlab,
    /// The file is a slab of a format version this build does not read.
    Version,
    /// The file or a structure inside it is damaged (bad checksum, offset out of bounds, ...).
    Corrupt,
    /// The slab cannot grow: disk full, file size limit, or the address reservation is used up.
    Full,
    /// The operation needs exclusive access and another handle or process holds the slab.
    Busy,
    /// A named thing (root, key) does not exist.
    NotFound,
    /// The handle was opened read-only and the operation writes.
    ReadOnly,
    /// A root exists with a different kind than the one asked for.
    WrongKind,
    /// A fixed-size table in the slab (reader slots, roots) has no free entry.
    Exhausted,
}

/// An error with a human-readable message that says what failed and on what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// An `Io` error from `errno`, with `what` naming the operation and its object.
    pub fn last_os(what: impl fmt::Display) -> Error {
        Error::from_io(what, io::Error::last_os_error())
    }

    /// Wraps an `io::Error`; running out of space becomes `Full` so callers can tell it apart.
    pub fn from_io(what: impl fmt::Display, err: io::Error) -> Error {
        let kind = match err.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EFBIG) | Some(libc::EDQUOT) => ErrorKind::Full,
            _ => ErrorKind::Io,
        };
        Error::new(kind, format!("{what}: {err}"))
    }

    pub fn corrupt(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Corrupt, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
