//! [`Fd`]: an owned file descriptor that closes on drop.

use statio_core::{OsError, Source};

use crate::error::check;

/// A raw file descriptor number.
pub type RawFd = libc::c_int;

/// An open file descriptor that this value owns and closes when dropped.
#[derive(Debug)]
pub struct Fd(RawFd);

impl Fd {
    /// Takes ownership of `raw`.
    ///
    /// # Safety
    /// `raw` must be an open descriptor that nothing else closes.
    pub unsafe fn from_raw(raw: RawFd) -> Fd {
        Fd(raw)
    }

    /// The descriptor number, still owned by `self`.
    pub fn raw(&self) -> RawFd {
        self.0
    }

    /// Gives up ownership: the caller must close the returned descriptor.
    pub fn into_raw(self) -> RawFd {
        let raw = self.0;
        core::mem::forget(self);
        raw
    }

    /// Wraps the result of a syscall that returns a new descriptor (or `-1`).
    ///
    /// # Safety
    /// A non-negative `ret` must be a new descriptor owned by nobody else.
    pub unsafe fn from_syscall(ret: RawFd) -> Result<Fd, OsError> {
        // SAFETY: the caller promises a fresh, unowned descriptor.
        check(ret).map(|raw| unsafe { Fd::from_raw(raw) })
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // Never retried on EINTR: Linux releases the descriptor even when close reports
        // EINTR, so a retry could close a number another thread just received (close(2)).
        // SAFETY: `self` owns the descriptor and no one uses it after drop.
        let _ = unsafe { libc::close(self.0) };
    }
}

impl Source<RawFd> for Fd {
    fn handle(&self) -> RawFd {
        self.0
    }
}
