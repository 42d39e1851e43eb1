//! [`KqueueWaker`]: wakes a [`Kqueue`](crate::Kqueue) from another thread with an event
//! under [`Token::WAKER`]: an `EVFILT_USER` trigger, or on OpenBSD a pipe.
//!
//! | OS | mechanism | why |
//! |---|---|---|
//! | FreeBSD, macOS, NetBSD, DragonFly | `EVFILT_USER`, `NOTE_TRIGGER` | no descriptor beyond a `dup` of the kqueue, one syscall per wake-up, nothing to drain |
//! | OpenBSD | a non-blocking pipe, read end watched `EVFILT_READ` + `EV_CLEAR` | `EVFILT_USER` arrived in OpenBSD 7.8 (committed May 2025); 7.7, still supported, lacks it |
//!
//! libc 0.2.191 defines `EVFILT_USER` for all five systems, OpenBSD included, so the
//! choice follows the kernels, not the bindings. NetBSD has `EVFILT_USER` (and
//! `EV_RECEIPT`, which the selector needs anyway) from NetBSD 10.

use statio_core::{OsError, Token, Wake};
#[cfg(target_os = "openbsd")]
use statio_unix::{Fd, error::check_retry};

use crate::registration::Kevent;
use crate::sys::KqueueFd;
#[cfg(target_os = "openbsd")]
use crate::sys::dup;
#[cfg(target_os = "openbsd")]
use crate::translate::EVFILT_READ;
#[cfg(not(target_os = "openbsd"))]
use crate::translate::EVFILT_USER;
use crate::translate::{Change, EV_ADD, EV_CLEAR};

/// Wakes a [`Kqueue`](crate::Kqueue)'s current or next `select`, with an event under
/// [`Token::WAKER`].
///
/// On FreeBSD, macOS, NetBSD and DragonFly it owns a `dup` of the kqueue descriptor
/// (so it stays valid if the `Kqueue` is dropped first, and keeps the kqueue open until
/// the waker drops: see [`Kqueue`](crate::Kqueue)) and triggers an `EVFILT_USER`
/// event registered with `EV_CLEAR`: each trigger is reported once, and triggers
/// before the next `select` coalesce into one event. On OpenBSD it owns `dup`s of both
/// ends of a pipe whose read end the kqueue watches; keeping the read end open means a
/// wake-up never meets `EPIPE` (nor `SIGPIPE`) after the `Kqueue` is gone.
#[derive(Debug)]
#[doc(alias = "EVFILT_USER", alias = "NOTE_TRIGGER")]
pub struct KqueueWaker {
    /// Keeps the kqueue open while the waker lives (see `Kqueue`): until the loop drops
    /// and its channel, detaching, drops the waker.
    #[cfg(not(target_os = "openbsd"))]
    kq: KqueueFd,
    #[cfg(target_os = "openbsd")]
    writer: Fd,
    /// Held open only, never read: see the type's docs.
    #[cfg(target_os = "openbsd")]
    _reader: Fd,
}

/// The `EVFILT_USER` identifier of the waker: user events have an identifier space of
/// their own, apart from descriptors (kqueue(2), EVFILT_USER), so any value will do;
/// every waker of one kqueue shares it, and so its one event.
#[cfg(not(target_os = "openbsd"))]
const WAKER_IDENT: usize = 0;

#[cfg(not(target_os = "openbsd"))]
impl KqueueWaker {
    /// Duplicates `kq` and adds the user event to it.
    pub(crate) fn new(kq: &KqueueFd) -> Result<KqueueWaker, OsError> {
        let waker = KqueueWaker {
            kq: kq.try_clone()?,
        };
        waker.submit(Change {
            filter: EVFILT_USER,
            flags: EV_ADD | EV_CLEAR,
            fflags: 0,
        })?;
        Ok(waker)
    }

    /// Applies one change; with no room for receipts, its error comes back as `errno`
    /// (kqueue(2)).
    fn submit(&self, change: Change) -> Result<(), OsError> {
        self.kq
            .kevent(WAKER_IDENT, Token::WAKER, &[change], &mut [])
            .map(drop)
    }
}

#[cfg(not(target_os = "openbsd"))]
impl Wake for KqueueWaker {
    /// Triggers the user event (`kevent` with `NOTE_TRIGGER`).
    ///
    /// The trigger carries [`Token::WAKER`] again because modifying a filter replaces
    /// its `udata` (FreeBSD's kqueue_register; mheily/libkqueue#7 for the same on
    /// libkqueue).
    ///
    /// # Errors
    /// None in practice: the user event exists as long as this waker's kqueue
    /// descriptor; `EINTR` is retried.
    #[doc(alias = "kevent")]
    fn wake(&self) -> Result<(), OsError> {
        self.submit(Change {
            filter: EVFILT_USER,
            flags: 0,
            fflags: libc::NOTE_TRIGGER,
        })
    }
}

/// OpenBSD's waker pipe, owned by the [`Kqueue`](crate::Kqueue): its read end is
/// watched, and drained by `select` after a wake-up.
#[cfg(target_os = "openbsd")]
#[derive(Debug)]
pub(crate) struct WakePipe {
    reader: Fd,
    writer: Fd,
}

#[cfg(target_os = "openbsd")]
impl WakePipe {
    /// A non-blocking, close-on-exec pipe whose read end `kq` watches under
    /// [`Token::WAKER`], edge-triggered.
    pub(crate) fn new(kq: &KqueueFd) -> Result<WakePipe, OsError> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        statio_unix::error::check(unsafe {
            libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK)
        })?;
        // SAFETY: pipe2 succeeded: both are new descriptors that nothing else owns.
        let (reader, writer) = unsafe { (Fd::from_raw(fds[0]), Fd::from_raw(fds[1])) };
        let add = Change {
            filter: EVFILT_READ,
            flags: EV_ADD | EV_CLEAR,
            fflags: 0,
        };
        // Non-negative: pipe2 returned it. No room for receipts: an error is `errno`.
        kq.kevent(reader.raw() as usize, Token::WAKER, &[add], &mut [])?;
        Ok(WakePipe { reader, writer })
    }

    /// A waker writing into this pipe.
    pub(crate) fn waker(&self) -> Result<KqueueWaker, OsError> {
        Ok(KqueueWaker {
            writer: dup(&self.writer)?,
            _reader: dup(&self.reader)?,
        })
    }

    /// Reads the pipe empty, so that it never fills: a write into a full pipe would
    /// fail with `EAGAIN` and raise no new event.
    ///
    /// Called after a `select` that returned the waker's event, before the loop reads
    /// its channel: a wake-up whose byte this drains happened before the loop looks for
    /// messages, so none is lost.
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 64];
        loop {
            // SAFETY: `buf` is writable for its length during the call.
            let n = unsafe { libc::read(self.reader.raw(), buf.as_mut_ptr().cast(), buf.len()) };
            // Stop at empty (EAGAIN), at an error, and after a short read; retry EINTR.
            if n < 0 && statio_unix::error::last_error().is_interrupted() {
                continue;
            }
            if n < buf.len() as isize {
                return;
            }
        }
    }
}

#[cfg(target_os = "openbsd")]
impl Wake for KqueueWaker {
    /// Writes one byte into the pipe.
    ///
    /// # Errors
    /// None in practice: `EAGAIN` (a full pipe) means unread wake-ups are pending
    /// already, which is success; `EINTR` is retried.
    fn wake(&self) -> Result<(), OsError> {
        let written = check_retry(|| {
            // SAFETY: writes one byte from a live buffer.
            unsafe { libc::write(self.writer.raw(), b"w".as_ptr().cast(), 1) }
        });
        match written {
            Err(err) if err.code() == libc::EAGAIN => Ok(()),
            other => other.map(drop),
        }
    }
}
