//! Typed errors: [`OsError`] for what the operating system refused, [`Error`] for the loop.

use core::fmt;

use embedded_io::ErrorKind;

use crate::token::Token;

/// An error code from the operating system (an `errno` on Unix), with its portable kind.
///
/// The port that made the call classifies the code, so code written against the core can
/// branch on [`kind`](Self::kind) without knowing the platform's numbering.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OsError {
    code: i32,
    kind: ErrorKind,
}

impl OsError {
    /// An error with the platform's raw `code` and the `kind` the port classified it as.
    pub const fn new(code: i32, kind: ErrorKind) -> OsError {
        OsError { code, kind }
    }

    /// The raw code (`errno`).
    pub const fn code(self) -> i32 {
        self.code
    }

    /// The portable classification of the code.
    pub const fn kind(self) -> ErrorKind {
        self.kind
    }

    /// Whether a signal interrupted the call (`EINTR`).
    pub fn is_interrupted(self) -> bool {
        self.kind == ErrorKind::Interrupted
    }
}

impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} (os error {})", self.kind, self.code)
    }
}

impl core::error::Error for OsError {}

impl embedded_io::Error for OsError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

#[cfg(feature = "std")]
impl From<OsError> for std::io::Error {
    fn from(err: OsError) -> Self {
        std::io::Error::from_raw_os_error(err.code)
    }
}

/// What the [`EventLoop`](crate::EventLoop) refused, and why.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The token is not below the loop's `SOURCES` capacity.
    TokenOutOfRange {
        /// The token that was given.
        token: Token,
        /// The loop's `SOURCES` capacity: valid tokens are `0..capacity`.
        capacity: usize,
    },
    /// A source is already registered under this token.
    TokenInUse(Token),
    /// No source is registered under this token, or another source is.
    NotRegistered(Token),
    /// The channel is received by a live loop (this or another; it can be attached
    /// again once that loop is dropped), or this loop has a channel already.
    ChannelInUse,
    /// The [`LoopCell`](crate::LoopCell) holds a loop already: it is built once.
    LoopCellTaken,
    /// A [`Config`](crate::Config) value the loop cannot work with.
    InvalidConfig(&'static str),
    /// [`run`](crate::EventLoop::run) or [`run_once`](crate::EventLoop::run_once) was
    /// called from a callback of the same loop: a turn is under way, and a nested one
    /// would refill the events buffer that turn is dispatching. The turn under way goes
    /// on unharmed.
    Reentered,
    /// A [`SourceTable`](crate::SourceTable) holds `capacity` sources already.
    TableFull {
        /// The table's capacity, all of it taken.
        capacity: usize,
    },
    /// A select returned, in two turns in a row, an event of a registration the loop
    /// had ended before the first of them: a kernel registration that outlived its
    /// source (on epoll, a descriptor dropped while registered, whose file a `dup` or a
    /// child process keeps open). The loop cannot remove it (the kernel keys it by a
    /// descriptor number that is gone) and would otherwise wake at once on every turn;
    /// [`run`](crate::EventLoop::run) stops with this error instead. The token is the
    /// slot the registration held. See [`EventLoop::register_opt`](crate::EventLoop::register_opt).
    Orphaned(Token),
    /// The operating system refused a call: the selector's, or any other whose
    /// [`OsError`] was converted into this one (`?` on a socket call in `main`).
    Os(OsError),
}

impl Error {
    /// The portable kind of this error, as [`embedded_io`] classifies I/O errors.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::TokenOutOfRange { .. } | Error::NotRegistered(_) | Error::InvalidConfig(_) => {
                ErrorKind::InvalidInput
            }
            Error::TokenInUse(_) | Error::ChannelInUse | Error::LoopCellTaken => {
                ErrorKind::AlreadyExists
            }
            Error::TableFull { .. } => ErrorKind::OutOfMemory,
            Error::Reentered | Error::Orphaned(_) => ErrorKind::Other,
            Error::Os(err) => err.kind(),
        }
    }
}

impl From<OsError> for Error {
    fn from(err: OsError) -> Self {
        Error::Os(err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TokenOutOfRange { token, capacity } => write!(
                f,
                "token {} is out of range: this loop holds {capacity} sources (tokens 0..{capacity})",
                token.0
            ),
            Error::TokenInUse(token) => write!(f, "token {} is already registered", token.0),
            Error::NotRegistered(token) => {
                write!(f, "token {} is not registered to this source", token.0)
            }
            Error::ChannelInUse => f.write_str(
                "the channel has a receiving loop already, or this loop has a channel already",
            ),
            Error::LoopCellTaken => f.write_str("the loop cell holds a loop already"),
            Error::InvalidConfig(why) => write!(f, "invalid loop configuration: {why}"),
            Error::Reentered => f.write_str(
                "run or run_once was called from a callback of the same loop, during a turn",
            ),
            Error::TableFull { capacity } => {
                write!(f, "the source table is full: it holds {capacity} sources")
            }
            Error::Orphaned(token) => write!(
                f,
                "a registration under token {} outlived its source (dropped while registered, its file kept open elsewhere)",
                token.0
            ),
            Error::Os(err) => write!(f, "OS error: {err}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Os(err) => Some(err),
            _ => None,
        }
    }
}

impl embedded_io::Error for Error {
    fn kind(&self) -> ErrorKind {
        Error::kind(self)
    }
}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(err: Error) -> Self {
        match err {
            Error::Os(os) => os.into(),
            other => std::io::Error::new(other.kind().into(), other),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn display_says_what_went_wrong() {
        let e = Error::TokenOutOfRange {
            token: Token(9),
            capacity: 8,
        };
        assert_eq!(
            e.to_string(),
            "token 9 is out of range: this loop holds 8 sources (tokens 0..8)"
        );
        assert_eq!(
            Error::TokenInUse(Token(3)).to_string(),
            "token 3 is already registered"
        );
        let os = OsError::new(4, ErrorKind::Interrupted);
        assert!(os.is_interrupted());
        assert_eq!(
            Error::Os(os).to_string(),
            "OS error: Interrupted (os error 4)"
        );
        assert_eq!(Error::Os(os).kind(), ErrorKind::Interrupted);
        assert_eq!(
            Error::NotRegistered(Token(1)).kind(),
            ErrorKind::InvalidInput
        );
    }
}
