//! `errno` to [`OsError`]: the one place a Unix error code gets its portable kind.

use embedded_io::ErrorKind;
use statio_core::OsError;

/// The calling thread's `errno` as an [`OsError`].
// Out of line and cold: the error path must not bloat every inlined syscall wrapper.
#[cold]
#[inline(never)]
pub fn last_error() -> OsError {
    from_errno(errno())
}

/// Classifies a raw `errno` value.
pub fn from_errno(code: i32) -> OsError {
    let kind = match code {
        libc::EINTR => ErrorKind::Interrupted,
        libc::ENOENT | libc::ESRCH => ErrorKind::NotFound,
        libc::EACCES | libc::EPERM => ErrorKind::PermissionDenied,
        libc::ECONNREFUSED => ErrorKind::ConnectionRefused,
        libc::ECONNRESET => ErrorKind::ConnectionReset,
        libc::ECONNABORTED => ErrorKind::ConnectionAborted,
        libc::ENOTCONN => ErrorKind::NotConnected,
        libc::EADDRINUSE => ErrorKind::AddrInUse,
        libc::EADDRNOTAVAIL => ErrorKind::AddrNotAvailable,
        libc::EPIPE => ErrorKind::BrokenPipe,
        libc::EEXIST => ErrorKind::AlreadyExists,
        libc::EINVAL | libc::EBADF | libc::ENOTSOCK | libc::EAFNOSUPPORT | libc::ENAMETOOLONG => {
            ErrorKind::InvalidInput
        }
        libc::ETIMEDOUT => ErrorKind::TimedOut,
        libc::ENOSYS | libc::EOPNOTSUPP | libc::EPROTONOSUPPORT => ErrorKind::Unsupported,
        libc::ENOMEM | libc::ENOBUFS | libc::EMFILE | libc::ENFILE | libc::ENOSPC => {
            ErrorKind::OutOfMemory
        }
        _ => ErrorKind::Other,
    };
    OsError::new(code, kind)
}

/// The calling thread's `errno`.
pub(crate) fn errno() -> i32 {
    // SAFETY: the errno location is a valid thread-local for the life of the thread.
    unsafe { *errno_location() }
}

/// Sets the calling thread's `errno`: a signal handler puts back what it found.
pub(crate) fn set_errno(code: i32) {
    // SAFETY: as in `errno`.
    unsafe { *errno_location() = code }
}

fn errno_location() -> *mut i32 {
    // DragonFly's libc names it like glibc's (libc's dragonfly/mod.rs), not like FreeBSD's.
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "emscripten",
        target_os = "dragonfly"
    ))]
    // SAFETY: no preconditions; returns the calling thread's errno location.
    unsafe {
        libc::__errno_location()
    }
    // SAFETY: as above.
    #[cfg(any(target_os = "freebsd", target_os = "macos", target_os = "ios"))]
    unsafe {
        libc::__error()
    }
    // SAFETY: as above.
    #[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
    unsafe {
        libc::__errno()
    }
}

/// Turns a `-1` return into the `errno` error; passes any other value through.
#[inline]
pub fn check<T: IsMinusOne>(ret: T) -> Result<T, OsError> {
    if ret.is_minus_one() {
        Err(last_error())
    } else {
        Ok(ret)
    }
}

/// Like [`check`], but retries the call while it fails with `EINTR`: for calls whose
/// caller cannot do anything useful with an interruption (`close` excepted: never retry it).
#[inline]
pub fn check_retry<T: IsMinusOne>(mut call: impl FnMut() -> T) -> Result<T, OsError> {
    loop {
        match check(call()) {
            Err(err) if err.is_interrupted() => continue,
            other => return other,
        }
    }
}

/// The integer return types of syscalls, which signal failure with `-1`.
pub trait IsMinusOne: Copy {
    /// Whether this return value is the failure marker.
    fn is_minus_one(self) -> bool;
}

macro_rules! impl_is_minus_one {
    ($($t:ty)*) => {$(
        impl IsMinusOne for $t {
            #[inline]
            fn is_minus_one(self) -> bool {
                self == -1
            }
        }
    )*};
}
impl_is_minus_one!(i32 isize i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_common_codes() {
        assert_eq!(from_errno(libc::EINTR).kind(), ErrorKind::Interrupted);
        assert!(from_errno(libc::EINTR).is_interrupted());
        assert_eq!(
            from_errno(libc::ECONNRESET).kind(),
            ErrorKind::ConnectionReset
        );
        assert_eq!(from_errno(libc::EADDRINUSE).kind(), ErrorKind::AddrInUse);
        assert_eq!(from_errno(libc::EPIPE).code(), libc::EPIPE);
        assert_eq!(from_errno(123_456).kind(), ErrorKind::Other);
    }

    #[test]
    fn check_reports_errno() {
        // SAFETY: closing an fd that is certainly not open only sets errno.
        let err = check(unsafe { libc::close(-1) }).unwrap_err();
        assert_eq!(err.code(), libc::EBADF);
    }
}
