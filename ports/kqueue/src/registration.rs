//! [`Registrations`]: which descriptors one kqueue watches, and the `kevent` changes
//! that register, reregister and deregister them: receipts read and validated, a
//! half-failed submission undone.
//!
//! Plain Rust over [`Change`]s and [`Receipt`]s, generic over the one syscall it makes
//! ([`Kevent`]), so it is built and unit-tested on any host against a scripted kqueue
//! (`tests.rs`); `sys.rs` implements [`Kevent`] with the real `kevent(2)` on the kqueue
//! systems, a direct call after monomorphization.

use heapless::index_map::FnvIndexMap;
use statio_core::{Interest, OsError, PollOpt, Token};
use statio_unix::RawFd;
use statio_unix::error::from_errno;

use crate::translate::{
    Change, Changes, MAX_CHANGES, Receipt, Verdict, deregister_changes, receipt_errnos,
    register_changes, reregister_changes, verdict,
};

#[cfg(test)]
mod tests;

/// The `kevent(2)` call as the registration logic needs it.
pub(crate) trait Kevent {
    /// Applies `changes` to the identifier `ident` (a descriptor, or the waker's user
    /// event), each with `udata` = `token`, in one `kevent` with room for
    /// `receipts.len()` returned entries and a zero timeout; returns how many entries
    /// the kernel wrote to the front of `receipts`.
    ///
    /// # Errors
    /// `kevent`'s own failure (`-1`, with `errno`); with no room for receipts, the first
    /// failing change's `errno` (kqueue(2)).
    fn kevent(
        &self,
        ident: usize,
        token: Token,
        changes: &[Change],
        receipts: &mut [Receipt],
    ) -> Result<usize, OsError>;
}

/// The descriptors registered in one kqueue, at most `N`, each with its token.
///
/// kqueue cannot refuse a second registration: `EV_ADD` on an existing filter modifies
/// it (kqueue_register in FreeBSD's kern_event.c, knote_assign in OpenBSD's, the "touch"
/// in XNU's kevent_register; kqueue(2): "Re-adding an existing event will modify the
/// parameters"). This set is what makes one descriptor under a second token
/// `AlreadyExists`, as epoll's `EEXIST` does; polling keeps a set for the same reason.
/// The token is kept so that [`forget`](Self::forget) drops only the registration the
/// event loop released. heapless' `IndexMap` holds them: a fixed hash map, `N` a power
/// of two up to 65,536.
pub(crate) struct Registrations<const N: usize> {
    fds: FnvIndexMap<RawFd, Token, N>,
}

impl<const N: usize> Registrations<N> {
    /// No descriptor registered.
    pub(crate) const fn new() -> Self {
        Registrations {
            fds: FnvIndexMap::new(),
        }
    }

    /// How many descriptors are registered.
    pub(crate) fn len(&self) -> usize {
        self.fds.len()
    }

    /// Adds a filter per wanted direction for `fd`, under `token`; on failure, none.
    ///
    /// # Errors
    /// `AlreadyExists` (`EEXIST`) when `fd` is registered; `OutOfMemory` (`ENOSPC`) when
    /// `N` descriptors are (both without a syscall); `InvalidInput` (`EBADF`) for a
    /// negative `fd`; what the kernel refused (see `apply`).
    pub(crate) fn register(
        &mut self,
        kq: &impl Kevent,
        fd: RawFd,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        let ident = ident(fd)?;
        if self.fds.contains_key(&fd) {
            return Err(from_errno(libc::EEXIST));
        }
        if self.fds.is_full() {
            return Err(from_errno(libc::ENOSPC));
        }
        apply(kq, ident, token, &register_changes(interest, opt))?;
        // Cannot fail: `fd` is absent and the map has room (checked above).
        let _ = self.fds.insert(fd, token);
        Ok(())
    }

    /// Deletes both filters of `fd` and adds the wanted ones, under `token`.
    ///
    /// `fd` stays registered whatever the kernel says: after an error it has no filter
    /// (the deletes took the old ones, the adds that applied are undone), reports
    /// nothing, and the caller reregisters or deregisters it, as the event loop, which
    /// still holds its token, expects.
    ///
    /// # Errors
    /// `NotFound` (`ENOENT`) when `fd` is not registered (without a syscall);
    /// `InvalidInput` (`EBADF`) for a negative `fd`; what the kernel refused.
    pub(crate) fn reregister(
        &mut self,
        kq: &impl Kevent,
        fd: RawFd,
        token: Token,
        interest: Interest,
        opt: PollOpt,
    ) -> Result<(), OsError> {
        let ident = ident(fd)?;
        let Some(registered) = self.fds.get_mut(&fd) else {
            return Err(from_errno(libc::ENOENT));
        };
        *registered = token;
        apply(kq, ident, token, &reregister_changes(interest, opt))
    }

    /// Deletes both filters of `fd` and forgets it, whatever the kernel says: its
    /// filters are then deleted, or were gone already (the kernel drops them when the
    /// descriptor closes, and FreeBSD drops a pipe writer's when the reader closes).
    ///
    /// # Errors
    /// `NotFound` (`ENOENT`) when `fd` is not registered (without a syscall);
    /// `InvalidInput` (`EBADF`) when it was closed first, on FreeBSD, NetBSD and OpenBSD,
    /// whose kqueue_register looks the descriptor up first (`fget`, `fd_getfile`); XNU's
    /// kevent_register finds the knotes alone (`knote_fdfind`, no `fp_lookup` on delete),
    /// so a closed descriptor deregisters without error on macOS.
    pub(crate) fn deregister(&mut self, kq: &impl Kevent, fd: RawFd) -> Result<(), OsError> {
        if self.fds.swap_remove(&fd).is_none() {
            return Err(from_errno(libc::ENOENT));
        }
        apply(kq, ident(fd)?, Token(0), &deregister_changes())
    }

    /// Forgets `fd` if it is registered under `token`, without a syscall: the event loop
    /// released the token of a source dropped while registered, whose close took its
    /// filters. Under another token, the number names a newer registration: it stays.
    pub(crate) fn forget(&mut self, fd: RawFd, token: Token) {
        if self.fds.get(&fd) == Some(&token) {
            self.fds.swap_remove(&fd);
        }
    }
}

/// A registered descriptor is never negative: `EBADF`, as kevent would say.
fn ident(fd: RawFd) -> Result<usize, OsError> {
    usize::try_from(fd).map_err(|_| from_errno(libc::EBADF))
}

/// Submits `changes` for `ident` in one `kevent` and reads their receipts; on failure,
/// deletes the filters this submission added before returning the error.
///
/// Undoing matters: the event loop frees the token of a failed registration, so a
/// filter left behind would report under a stale token, and a ready level-triggered one
/// would wake every `select` for an event the loop drops: a busy loop nothing could
/// stop. A nested kqueue registered for both directions does it (FreeBSD's and XNU's
/// kqueue_kqfilter accept `EVFILT_READ` only: `EINVAL` after the read filter was added).
///
/// # Errors
/// The first failing change's `errno` (`ENOENT` from a delete and `EPIPE` from adding a
/// pipe's write filter are not failures: see `verdict`); `Unsupported` (`ENOSYS`) when
/// the kernel did not answer each change with a receipt (no `EV_RECEIPT`: NetBSD before
/// 10); `kevent`'s own failure.
pub(crate) fn apply(
    kq: &impl Kevent,
    ident: usize,
    token: Token,
    changes: &Changes,
) -> Result<(), OsError> {
    let changes = changes.as_slice();
    let mut list = [Receipt::default(); MAX_CHANGES];
    let receipts = &mut list[..changes.len()];
    let got = kq.kevent(ident, token, changes, receipts)?;
    let mut undo = Changes::new();
    let result = match receipt_errnos(changes.len(), &receipts[..got]) {
        Some(errnos) => {
            let mut first_failure = None;
            for (&change, errno) in changes.iter().zip(errnos) {
                match verdict(change, errno) {
                    Verdict::Applied if change.is_add() => undo.push(Change::delete(change.filter)),
                    Verdict::Applied | Verdict::Ignored => {}
                    Verdict::Failed => {
                        first_failure.get_or_insert(errno);
                    }
                }
            }
            match first_failure {
                None => return Ok(()),
                Some(errno) => Err(from_errno(errno)),
            }
        }
        // What applied is unknown: undo every add (a delete of a filter never added
        // answers ENOENT, harmlessly).
        None => {
            for &change in changes.iter().filter(|c| c.is_add()) {
                undo.push(Change::delete(change.filter));
            }
            Err(from_errno(libc::ENOSYS))
        }
    };
    let undo = undo.as_slice();
    if !undo.is_empty() {
        // With room for every receipt: given none, a kernel stops at the first change
        // that asks for one (FreeBSD's kqueue_kevent). The caller hears the first
        // error, whatever the undo meets.
        let _ = kq.kevent(ident, token, undo, &mut list[..undo.len()]);
    }
    result
}
