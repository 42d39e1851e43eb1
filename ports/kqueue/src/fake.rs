//! [`FakeKqueue`]: a scripted kqueue for the host's unit tests. It answers `kevent` as
//! FreeBSD's kern_event.c does (kqueue_kevent, kqueue_register), plus the quirk each
//! test sets, named after the kernel function that shows it.

use core::cell::RefCell;
use std::vec::Vec;

use statio_core::{OsError, Token};
use statio_unix::error::from_errno;

use crate::registration::Kevent;
use crate::translate::{
    Change, EV_ADD, EV_CLEAR, EV_DELETE, EV_DISPATCH, EV_ERROR, EV_RECEIPT, Receipt,
};

/// One filter on one identifier in the fake kqueue.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Knote {
    pub(crate) ident: usize,
    pub(crate) filter: i32,
    /// `EV_CLEAR`, `EV_DISPATCH`: kept from the add that created the knote.
    pub(crate) flags: u32,
    pub(crate) token: Token,
    pub(crate) enabled: bool,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) knotes: Vec<Knote>,
    /// The changes of every `kevent` call, in order.
    pub(crate) calls: Vec<Vec<Change>>,
    /// An add of this filter fails with this `errno`: what the file's kqfilter answers.
    pub(crate) refuse: Option<(i32, i32)>,
    /// Identifiers that are closed descriptors: fget fails first, `EBADF`.
    pub(crate) closed: Vec<usize>,
    /// NetBSD before 10 (kevent1, kern_event.c 1.76): `EV_RECEIPT` unknown, an entry for
    /// a failed change only, and with none failed a scan of pending events.
    pub(crate) without_receipts: bool,
    /// Events pending, which a scan copies into the returned list.
    pub(crate) pending: usize,
}

/// A scripted kqueue.
#[derive(Default)]
pub(crate) struct FakeKqueue {
    pub(crate) state: RefCell<State>,
}

impl FakeKqueue {
    /// A kqueue whose adds of `filter` fail with `errno`.
    pub(crate) fn refusing(filter: i32, errno: i32) -> FakeKqueue {
        let fake = FakeKqueue::default();
        fake.state.borrow_mut().refuse = Some((filter, errno));
        fake
    }

    pub(crate) fn knotes(&self) -> Vec<Knote> {
        self.state.borrow().knotes.clone()
    }

    pub(crate) fn knote(&self, ident: usize, filter: i32) -> Option<Knote> {
        self.knotes()
            .into_iter()
            .find(|k| k.ident == ident && k.filter == filter)
    }

    pub(crate) fn calls(&self) -> Vec<Vec<Change>> {
        self.state.borrow().calls.clone()
    }

    /// FreeBSD's pipeclose: the reader's close clears the writer's knote
    /// (knlist_clear), which kqueue_scan drops once delivered.
    pub(crate) fn drop_knote(&self, ident: usize, filter: i32) {
        let mut state = self.state.borrow_mut();
        state
            .knotes
            .retain(|k| !(k.ident == ident && k.filter == filter));
    }

    /// Delivers one event of a knote as NetBSD's kqueue_scan (kern_event.c 1.140) does
    /// after copying it out: `EV_ONESHOT`, else `EV_CLEAR` (state reset, stays armed),
    /// else `EV_DISPATCH` (disabled); statio never sets `EV_ONESHOT`.
    pub(crate) fn deliver_as_netbsd(&self, ident: usize, filter: i32) {
        let mut state = self.state.borrow_mut();
        let knote = state
            .knotes
            .iter_mut()
            .find(|k| k.ident == ident && k.filter == filter)
            .expect("a knote to deliver");
        if knote.flags & EV_CLEAR != 0 {
            // Cleared: reports again on the next change of state.
        } else if knote.flags & EV_DISPATCH != 0 {
            knote.enabled = false;
        }
    }

    /// kqueue_register: one change's `errno`.
    fn register(state: &mut State, ident: usize, token: Token, change: Change) -> i32 {
        if state.closed.contains(&ident) {
            return libc::EBADF;
        }
        let found = state
            .knotes
            .iter()
            .position(|k| k.ident == ident && k.filter == change.filter);
        if change.flags & EV_DELETE != 0 {
            return match found {
                Some(at) => {
                    state.knotes.remove(at);
                    0
                }
                None => libc::ENOENT,
            };
        }
        assert_ne!(change.flags & EV_ADD, 0, "statio only adds and deletes");
        match found {
            // "Re-adding an existing event will modify the parameters": udata only; the
            // knote keeps its flags (kn_kevent.flags), and EV_ENABLE enables it.
            Some(at) => {
                let knote = &mut state.knotes[at];
                knote.token = token;
                knote.enabled = true;
                0
            }
            None => match state.refuse {
                Some((filter, errno)) if filter == change.filter => errno,
                _ => {
                    state.knotes.push(Knote {
                        ident,
                        filter: change.filter,
                        flags: change.flags & (EV_CLEAR | EV_DISPATCH),
                        token,
                        enabled: true,
                    });
                    0
                }
            },
        }
    }
}

impl Kevent for FakeKqueue {
    /// kqueue_kevent: each change registered in turn; a receipt for each one that asks
    /// (or failed), written as `flags = EV_ERROR`, `data = errno`; with no room for a
    /// receipt, the call returns that change's error and applies no further change; a
    /// scan of pending events only when no entry was written.
    fn kevent(
        &self,
        ident: usize,
        token: Token,
        changes: &[Change],
        receipts: &mut [Receipt],
    ) -> Result<usize, OsError> {
        let mut state = self.state.borrow_mut();
        state.calls.push(changes.to_vec());
        let mut written = 0;
        for &change in changes {
            let errno = Self::register(&mut state, ident, token, change);
            let receipt = change.flags & EV_RECEIPT != 0 && !state.without_receipts;
            if errno != 0 || receipt {
                if written == receipts.len() {
                    return if errno == 0 {
                        Ok(written)
                    } else {
                        Err(from_errno(errno))
                    };
                }
                receipts[written] = Receipt {
                    flags: EV_ERROR,
                    data: i64::from(errno),
                };
                written += 1;
            }
        }
        if written == 0 {
            while written < receipts.len() && state.pending > 0 {
                state.pending -= 1;
                // A readable event: data = bytes ready, flags as registered.
                receipts[written] = Receipt {
                    flags: EV_CLEAR,
                    data: 1,
                };
                written += 1;
            }
        }
        Ok(written)
    }
}
