//! The process's descriptor limit (`RLIMIT_NOFILE`): read it, and raise the soft limit
//! toward what a server's tables need, as far as the hard limit allows.
//!
//! A server whose table holds more connections than it may open descriptors can never
//! fill its table: `accept` fails with `EMFILE` first (see [`accept`](crate::accept)).
//! Compare at start-up and raise, or say what will happen:
//!
//! ```no_run
//! use statio_unix::limits;
//!
//! const CONNECTIONS: u64 = 10_000;
//! // The connections, plus the listener, the selector, stdio and a few spare.
//! let wanted = CONNECTIONS + 16;
//! match limits::raise_nofile(wanted) {
//!     Ok(got) if got.soft >= wanted => {}
//!     Ok(got) => eprintln!("only {} descriptors: accepting pauses beyond that", got.soft),
//!     Err(err) => eprintln!("getrlimit/setrlimit: {err}"),
//! }
//! ```

use statio_core::OsError;

use crate::error::check;

/// A descriptor limit: the soft one applies, the hard one caps what an unprivileged
/// process may raise the soft one to. [`u64::MAX`] means unlimited (`RLIM_INFINITY`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FileLimit {
    /// The limit in force: `open`, `socket` and `accept` fail with `EMFILE` at it.
    pub soft: u64,
    /// The most the soft limit may be raised to.
    pub hard: u64,
}

// `rlim_t` is `u64` on Linux and macOS, `i64` on FreeBSD (whose limits are never
// negative): the casts are no-ops on the first.
#[allow(clippy::unnecessary_cast)]
fn from_rlim(value: libc::rlim_t) -> u64 {
    if value == libc::RLIM_INFINITY {
        u64::MAX
    } else {
        value as u64
    }
}

#[allow(clippy::unnecessary_cast)]
fn to_rlim(value: u64) -> libc::rlim_t {
    if value == u64::MAX {
        libc::RLIM_INFINITY
    } else {
        value as libc::rlim_t
    }
}

/// The process's descriptor limit (`getrlimit(RLIMIT_NOFILE)`).
///
/// # Errors
/// What `getrlimit` refused (nothing, in practice).
#[doc(alias = "getrlimit")]
pub fn nofile() -> Result<FileLimit, OsError> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the call's duration.
    check(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) })?;
    Ok(FileLimit {
        soft: from_rlim(limit.rlim_cur),
        hard: from_rlim(limit.rlim_max),
    })
}

/// Sets the descriptor limit (`setrlimit(RLIMIT_NOFILE)`): lowering either is always
/// allowed, raising the hard one needs privilege.
///
/// # Errors
/// What `setrlimit` refused: `EPERM` for a hard limit above the current one, `EINVAL`
/// for a soft limit above the hard one (or above `OPEN_MAX` on macOS).
#[doc(alias = "setrlimit")]
pub fn set_nofile(limit: FileLimit) -> Result<(), OsError> {
    let limit = libc::rlimit {
        rlim_cur: to_rlim(limit.soft),
        rlim_max: to_rlim(limit.hard),
    };
    // SAFETY: `limit` is a valid `rlimit`, only read by the call.
    check(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) })?;
    Ok(())
}

/// Raises the soft descriptor limit to `wanted`, or as near as the hard limit allows;
/// never lowers it. Returns the limit in force afterwards, which the caller compares
/// with what it needs.
///
/// Platform notes: macOS refuses a soft limit above `OPEN_MAX` (10,240) even under an
/// unlimited hard limit (`EINVAL`): the limit is then raised to that instead.
///
/// # Errors
/// What `getrlimit` or `setrlimit` refused.
#[doc(alias = "setrlimit")]
pub fn raise_nofile(wanted: u64) -> Result<FileLimit, OsError> {
    let now = nofile()?;
    let target = wanted.min(now.hard);
    if target <= now.soft {
        return Ok(now);
    }
    let set = |soft: u64| {
        set_nofile(FileLimit {
            soft,
            hard: now.hard,
        })
    };
    if let Err(err) = set(target) {
        // macOS: OPEN_MAX caps the soft limit whatever the hard one says.
        const OPEN_MAX: u64 = 10_240;
        if err.code() != libc::EINVAL || target <= OPEN_MAX || now.soft >= OPEN_MAX {
            return Err(err);
        }
        set(OPEN_MAX)?;
    }
    nofile()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_never_lowers_and_stays_under_the_hard_limit() {
        let before = nofile().unwrap();
        assert!(before.soft <= before.hard);
        let same = raise_nofile(1).unwrap();
        assert_eq!(same, before, "a smaller wish changes nothing");
        let raised = raise_nofile(before.hard.min(before.soft.saturating_add(16))).unwrap();
        assert!(raised.soft >= before.soft);
        assert!(raised.soft <= raised.hard);
        assert_eq!(raised.hard, before.hard);
    }
}
