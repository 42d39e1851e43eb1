//! The kqueue syscalls, `kqueue(2)` and `kevent(2)`, on an owned kqueue descriptor, and
//! [`KEvent`], an event as the kernel writes it: the only module that touches libc's
//! `struct kevent`.

use core::mem::{self, MaybeUninit};
use core::ptr;
use core::time::Duration;

use libc::{c_int, kevent, timespec};
use statio_core::{Events, OsError, Token};
use statio_unix::error::{check, check_retry};
use statio_unix::{Fd, RawFd};

use crate::registration::Kevent;
use crate::translate::{Change, MAX_CHANGES, Receipt, timeout_timespec};

/// One event as `kevent(2)` writes it: a `kevent` whose `udata` pointer only ever
/// carries a token (an integer, never dereferenced), so, unlike libc's `kevent`, it may
/// cross threads, and a loop over kqueue can live in a `static`.
#[derive(Copy, Clone, Debug)]
#[repr(transparent)]
pub struct KEvent(pub kevent);

// SAFETY: the only non-`Send` field is `udata`, which statio fills with a token's
// integer value and never dereferences; the rest is integers.
unsafe impl Send for KEvent {}
// SAFETY: as above: shared access reads integers only.
unsafe impl Sync for KEvent {}

impl KEvent {
    /// The token stored in `udata` at registration.
    pub(crate) fn token(&self) -> Token {
        Token(self.0.udata.addr())
    }
}

/// A `kevent` applying `change` to `ident`, with `udata` = `token`.
fn new_kevent(ident: usize, change: &Change, token: Token) -> kevent {
    // SAFETY: `kevent` holds only integers and a raw pointer (plus FreeBSD's `ext`
    // integers), for which all-zero bytes are valid values.
    let mut event: kevent = unsafe { mem::zeroed() };
    event.ident = ident;
    // Narrowing back to the system's field types: the values are libc's own constants
    // (see translate.rs), so nothing is lost.
    event.filter = change.filter as _;
    event.flags = change.flags as _;
    event.fflags = change.fflags as _;
    // The token as an address without provenance: it is never dereferenced, only read
    // back with `addr()`. `udata` is `void *` on every target (NetBSD's was `intptr_t`
    // before NetBSD 10; libc 0.2.191 declares `*mut c_void` for all five).
    event.udata = ptr::without_provenance_mut(token.0);
    event
}

/// Duplicates `fd`, close-on-exec, for a waker to own.
pub(crate) fn dup(fd: &Fd) -> Result<Fd, OsError> {
    // SAFETY: F_DUPFD_CLOEXEC takes an int argument and touches no memory; a
    // non-negative result is a new descriptor that nothing else owns.
    unsafe { Fd::from_syscall(libc::fcntl(fd.raw(), libc::F_DUPFD_CLOEXEC, 0)) }
}

/// An owned kqueue descriptor.
#[derive(Debug)]
pub(crate) struct KqueueFd(Fd);

impl KqueueFd {
    /// Opens a new kqueue, close-on-exec.
    ///
    /// # Errors
    /// What `kqueue(2)` or `fcntl(2)` refused: `OutOfMemory` for `EMFILE`/`ENFILE` (out
    /// of descriptors) and `ENOMEM`.
    pub(crate) fn open() -> Result<KqueueFd, OsError> {
        // SAFETY: kqueue takes no arguments; a non-negative result is a new descriptor
        // that nothing else owns.
        let kq = unsafe { Fd::from_syscall(libc::kqueue()) }?;
        // kqueue1(O_CLOEXEC) is in libc for NetBSD only, so one path for all: set the
        // flag right after. A kqueue is not inherited across fork(2) anyway (kqueue(2) of
        // FreeBSD, macOS and OpenBSD), so the window before it matters little.
        // SAFETY: F_SETFD takes an int argument and touches no memory.
        check(unsafe { libc::fcntl(kq.raw(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
        Ok(KqueueFd(kq))
    }

    /// The descriptor, still owned by `self`.
    pub(crate) fn raw(&self) -> RawFd {
        self.0.raw()
    }

    /// A second descriptor for the same kqueue, close-on-exec: the `EVFILT_USER` waker's
    /// (OpenBSD's waker owns a pipe instead).
    ///
    /// # Errors
    /// What `fcntl(2)` refused (out of descriptors).
    #[cfg(not(target_os = "openbsd"))]
    pub(crate) fn try_clone(&self) -> Result<KqueueFd, OsError> {
        dup(&self.0).map(KqueueFd)
    }

    /// Waits for events with `kevent(kq, NULL, 0, events, N, timeout)`, which writes
    /// them straight into `events`; `N` must be positive (the selector checks).
    ///
    /// # Errors
    /// `kevent`'s, `EINTR` included; `events` is empty then.
    pub(crate) fn wait<const N: usize>(
        &self,
        events: &mut Events<KEvent, N>,
        timeout: Option<Duration>,
    ) -> Result<(), OsError> {
        let kq = self.raw();
        let timeout = timeout_timespec(timeout).map(|(secs, nanos)| timespec {
            tv_sec: secs.into(),
            tv_nsec: nanos.into(),
        });
        let timeout_ptr = timeout.as_ref().map_or(ptr::null(), ptr::from_ref);
        let mut result = Ok(());
        let wait = |slots: &mut [MaybeUninit<KEvent>]| {
            let max = c_int::try_from(slots.len()).unwrap_or(c_int::MAX);
            // SAFETY: no changes are read; `slots` is writable memory for
            // `slots.len() >= max` events, and MaybeUninit<KEvent> has kevent's layout
            // (`KEvent` is `repr(transparent)`);
            // `timeout_ptr` is NULL or points to `timeout`, alive for the call. `max` is
            // positive, so the `as _` (to int or size_t) is lossless.
            let ret = unsafe {
                libc::kevent(
                    kq,
                    ptr::null(),
                    0,
                    slots.as_mut_ptr().cast(),
                    max as _,
                    timeout_ptr,
                )
            };
            match check(ret) {
                // Non-negative and at most `max`, so it fits a usize.
                Ok(n) => n as usize,
                Err(err) => {
                    result = Err(err);
                    0
                }
            }
        };
        // SAFETY: `wait` returns the count kevent reported, at most
        // `max <= slots.len() == N`, and the kernel has written each of those first
        // entries whole; on error it returns 0.
        unsafe { events.fill_with(wait) };
        result
    }
}

impl Kevent for KqueueFd {
    #[allow(
        clippy::unnecessary_cast,
        reason = "the field types differ per OS: a cast that widens on one is the identity on another"
    )]
    fn kevent(
        &self,
        ident: usize,
        token: Token,
        changes: &[Change],
        receipts: &mut [Receipt],
    ) -> Result<usize, OsError> {
        // Callers pass a `Changes` (at most MAX_CHANGES) or the waker's one change: the
        // `min`s only keep the indexing panic-free. Receipts never outnumber changes.
        let changes = &changes[..changes.len().min(MAX_CHANGES)];
        let room = receipts.len().min(changes.len());
        // Entries past `changes.len()` are never read: any value fills them.
        let mut list = [new_kevent(0, &Change::delete(0), Token(0)); MAX_CHANGES];
        for (slot, change) in list.iter_mut().zip(changes) {
            *slot = new_kevent(ident, change, token);
        }
        let mut returned = list;
        let zero = timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // Retried on EINTR, though a call that only submits changes does not sleep
        // interruptibly (FreeBSD's kqueue_register sleeps without PCATCH). Should one be
        // interrupted after applying some changes, the retry is harmless: an add
        // re-adds, and a delete answers ENOENT, which the registration reads as gone.
        let got = check_retry(|| {
            // SAFETY: `list` holds `changes.len() <= MAX_CHANGES` initialised entries to
            // read, `returned` room for `room <= MAX_CHANGES` to write; `zero` is a valid
            // timespec. Both lengths are at most 4, so the `as _` (to int or size_t) is
            // lossless.
            unsafe {
                libc::kevent(
                    self.raw(),
                    list.as_ptr(),
                    changes.len() as _,
                    returned.as_mut_ptr(),
                    room as _,
                    &raw const zero,
                )
            }
        })?;
        // Non-negative and at most `room`.
        let got = got as usize;
        for (receipt, entry) in receipts.iter_mut().zip(&returned[..got]) {
            // `data` is intptr_t or int64_t: widening into i64.
            *receipt = Receipt {
                flags: entry.flags as u32,
                data: entry.data as i64,
            };
        }
        Ok(got)
    }
}
