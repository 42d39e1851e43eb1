//! The registration logic against the scripted kqueue of `fake.rs`, which answers
//! `kevent` as FreeBSD's kern_event.c does, plus the quirk each test sets. Issue 16's items are named
//! in the tests that reproduce them; each fails without its fix.

use embedded_io::ErrorKind;

use super::*;
use crate::fake::FakeKqueue;
use crate::translate::EV_CLEAR;
use crate::translate::{EVFILT_READ, EVFILT_WRITE};

const FD: RawFd = 5;
const IDENT: usize = 5;

fn level() -> PollOpt {
    PollOpt::level()
}

#[test]
fn the_fake_modifies_an_existing_filter_as_freebsd_does() {
    // What makes issue 16 B1 a bug: the kernel alone accepts a second token.
    let kq = FakeKqueue::default();
    let mut regs = Registrations::<4>::new();
    regs.register(&kq, FD, Token(0), Interest::READABLE, level())
        .unwrap();
    apply(
        &kq,
        IDENT,
        Token(1),
        &register_changes(Interest::READABLE, PollOpt::edge()),
    )
    .unwrap();
    let knote = kq.knote(IDENT, EVFILT_READ).unwrap();
    assert_eq!(
        knote.token,
        Token(1),
        "the events moved to the second token"
    );
    assert_eq!(
        knote.flags & EV_CLEAR,
        0,
        "and the second PollOpt was ignored"
    );
}

#[test]
fn a_descriptor_under_a_second_token_is_already_exists() {
    // Issue 16 B1.
    let kq = FakeKqueue::default();
    let mut regs = Registrations::<4>::new();
    regs.register(&kq, FD, Token(0), Interest::READABLE, level())
        .unwrap();
    for interest in [Interest::READABLE, Interest::WRITABLE, Interest::BOTH] {
        let err = regs
            .register(&kq, FD, Token(1), interest, PollOpt::edge())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{interest:?}");
        assert_eq!(err.code(), libc::EEXIST);
    }
    assert_eq!(kq.calls().len(), 1, "refused without a syscall");
    assert_eq!(kq.knote(IDENT, EVFILT_READ).unwrap().token, Token(0));
    assert_eq!(kq.knote(IDENT, EVFILT_WRITE), None);
    // The first registration is whole: reregister and deregister still work.
    regs.reregister(&kq, FD, Token(0), Interest::BOTH, level())
        .unwrap();
    regs.deregister(&kq, FD).unwrap();
    assert!(kq.knotes().is_empty());
    regs.register(&kq, FD, Token(1), Interest::READABLE, level())
        .unwrap();
}

#[test]
fn a_full_set_is_out_of_memory_without_a_syscall() {
    let kq = FakeKqueue::default();
    let mut regs = Registrations::<2>::new();
    for fd in [3, 4] {
        regs.register(&kq, fd, Token(0), Interest::READABLE, level())
            .unwrap();
    }
    let err = regs
        .register(&kq, 5, Token(0), Interest::READABLE, level())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutOfMemory);
    assert_eq!(err.code(), libc::ENOSPC);
    assert_eq!(kq.calls().len(), 2);
    assert_eq!(regs.len(), 2);
    // A registered descriptor is still a duplicate, not "full".
    let err = regs
        .register(&kq, 3, Token(0), Interest::READABLE, level())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    regs.deregister(&kq, 3).unwrap();
    regs.register(&kq, 5, Token(0), Interest::READABLE, level())
        .unwrap();
}

#[test]
fn unknown_and_negative_descriptors_are_refused_without_a_syscall() {
    let kq = FakeKqueue::default();
    let mut regs = Registrations::<4>::new();
    let err = regs
        .reregister(&kq, FD, Token(0), Interest::READABLE, level())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        regs.deregister(&kq, FD).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let err = regs
        .register(&kq, -1, Token(0), Interest::READABLE, level())
        .unwrap_err();
    assert_eq!(err.code(), libc::EBADF);
    assert!(kq.calls().is_empty());
}

#[test]
fn edge_oneshot_is_disarmed_by_netbsds_scan() {
    // Issue 16 B3: with EV_CLEAR next to EV_DISPATCH, NetBSD clears and never disables.
    let kq = FakeKqueue::default();
    let mut regs = Registrations::<4>::new();
    let opt = PollOpt::edge().with_oneshot();
    regs.register(&kq, FD, Token(0), Interest::READABLE, opt)
        .unwrap();
    kq.deliver_as_netbsd(IDENT, EVFILT_READ);
    assert!(!kq.knote(IDENT, EVFILT_READ).unwrap().enabled, "disarmed");
    // Re-armed by a reregistration, disarmed again by the next event.
    regs.reregister(&kq, FD, Token(0), Interest::READABLE, opt)
        .unwrap();
    assert!(kq.knote(IDENT, EVFILT_READ).unwrap().enabled, "re-armed");
    kq.deliver_as_netbsd(IDENT, EVFILT_READ);
    assert!(!kq.knote(IDENT, EVFILT_READ).unwrap().enabled);
    // Edge alone stays armed.
    regs.reregister(&kq, FD, Token(0), Interest::READABLE, PollOpt::edge())
        .unwrap();
    kq.deliver_as_netbsd(IDENT, EVFILT_READ);
    assert!(kq.knote(IDENT, EVFILT_READ).unwrap().enabled);
}

#[test]
fn a_pipe_whose_reader_is_gone_registers_without_its_write_filter() {
    // Issue 16 B4: FreeBSD's pipe_kqfilter refuses EVFILT_WRITE with EPIPE.
    let kq = FakeKqueue::refusing(EVFILT_WRITE, libc::EPIPE);
    let mut regs = Registrations::<4>::new();
    regs.register(&kq, FD, Token(0), Interest::WRITABLE, level())
        .unwrap();
    assert!(kq.knotes().is_empty(), "no write filter: no WRITABLE event");
    // Reregistering deletes both filters first: it must not lose the registration.
    regs.reregister(&kq, FD, Token(0), Interest::BOTH, level())
        .unwrap();
    // FreeBSD pipes are FREAD|FWRITE at both ends: the read filter attaches.
    assert_eq!(kq.knotes().len(), 1);
    assert!(kq.knote(IDENT, EVFILT_READ).is_some());
    regs.deregister(&kq, FD).unwrap();
    assert!(kq.knotes().is_empty());
}

#[test]
fn a_filter_the_kernel_dropped_still_deregisters_and_reregisters() {
    // Issue 16 B5: FreeBSD's pipeclose clears the writer's knote when the reader closes.
    let kq = FakeKqueue::default();
    let mut regs = Registrations::<4>::new();
    regs.register(&kq, FD, Token(0), Interest::WRITABLE, level())
        .unwrap();
    kq.drop_knote(IDENT, EVFILT_WRITE);
    regs.deregister(&kq, FD).unwrap();
    // The descriptor is forgotten: registering it again is a first registration.
    regs.register(&kq, FD, Token(1), Interest::WRITABLE, level())
        .unwrap();
    kq.drop_knote(IDENT, EVFILT_WRITE);
    kq.state.borrow_mut().refuse = Some((EVFILT_WRITE, libc::EPIPE));
    regs.reregister(&kq, FD, Token(1), Interest::WRITABLE, PollOpt::edge())
        .unwrap();
    regs.deregister(&kq, FD).unwrap();
}

#[test]
fn a_half_failed_register_is_undone() {
    // Issue 16 B6: a nested kqueue takes EVFILT_READ only (kqueue_kqfilter: EINVAL).
    let kq = FakeKqueue::refusing(EVFILT_WRITE, libc::EINVAL);
    let mut regs = Registrations::<4>::new();
    let err = regs
        .register(&kq, FD, Token(0), Interest::BOTH, level())
        .unwrap_err();
    assert_eq!(err.code(), libc::EINVAL);
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(kq.knotes().is_empty(), "the read filter was deleted again");
    assert_eq!(
        kq.calls().last().unwrap(),
        &[Change::delete(EVFILT_READ)],
        "one undo call, deleting only what was added"
    );
    // Nothing registered: the descriptor registers afresh for what it supports.
    regs.register(&kq, FD, Token(1), Interest::READABLE, level())
        .unwrap();
    assert_eq!(kq.knote(IDENT, EVFILT_READ).unwrap().token, Token(1));
}

#[test]
fn a_half_failed_reregister_leaves_the_descriptor_registered_without_filters() {
    let kq = FakeKqueue::default();
    let mut regs = Registrations::<4>::new();
    regs.register(&kq, FD, Token(0), Interest::READABLE, level())
        .unwrap();
    kq.state.borrow_mut().refuse = Some((EVFILT_WRITE, libc::EINVAL));
    let err = regs
        .reregister(&kq, FD, Token(0), Interest::BOTH, level())
        .unwrap_err();
    assert_eq!(err.code(), libc::EINVAL);
    assert!(kq.knotes().is_empty(), "silent until reregistered");
    // Still registered, as the event loop holding its token expects.
    let err = regs
        .register(&kq, FD, Token(1), Interest::READABLE, level())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    regs.reregister(&kq, FD, Token(0), Interest::READABLE, level())
        .unwrap();
    assert!(kq.knote(IDENT, EVFILT_READ).is_some());
    regs.deregister(&kq, FD).unwrap();
}

#[test]
fn a_kernel_without_receipts_is_unsupported() {
    // Issue 16 R1: NetBSD before 10 answers no successful change and scans pending
    // events into the receipt list instead.
    for (interest, pending) in [
        (Interest::READABLE, 3),
        (Interest::BOTH, 1),
        (Interest::BOTH, 0),
    ] {
        let kq = FakeKqueue::default();
        kq.state.borrow_mut().without_receipts = true;
        kq.state.borrow_mut().pending = pending;
        let mut regs = Registrations::<4>::new();
        let err = regs
            .register(&kq, FD, Token(0), interest, level())
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Unsupported,
            "{interest:?}, {pending} pending"
        );
        assert!(kq.knotes().is_empty(), "the adds were undone");
        // Not registered: the set agrees with the kernel.
        assert_eq!(
            regs.deregister(&kq, FD).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }
    // A failed change does get an entry there, but the other change none.
    let kq = FakeKqueue::refusing(EVFILT_WRITE, libc::EINVAL);
    kq.state.borrow_mut().without_receipts = true;
    let mut regs = Registrations::<4>::new();
    let err = regs
        .register(&kq, FD, Token(0), Interest::BOTH, level())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(kq.knotes().is_empty());
}

#[test]
fn a_descriptor_closed_before_deregister_is_forgotten() {
    // FreeBSD, NetBSD and OpenBSD look the descriptor up first: EBADF.
    let kq = FakeKqueue::default();
    let mut regs = Registrations::<4>::new();
    regs.register(&kq, FD, Token(0), Interest::READABLE, level())
        .unwrap();
    // close(2) drops the knotes (knote_fdclose).
    kq.drop_knote(IDENT, EVFILT_READ);
    kq.state.borrow_mut().closed.push(IDENT);
    let err = regs.deregister(&kq, FD).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // The number, reopened, registers afresh.
    kq.state.borrow_mut().closed.clear();
    regs.register(&kq, FD, Token(1), Interest::READABLE, level())
        .unwrap();
}

#[test]
fn forget_drops_only_the_released_registration() {
    // A source dropped while registered under token 1: close(2) took its knotes.
    let kq = FakeKqueue::default();
    let mut regs = Registrations::<4>::new();
    regs.register(&kq, FD, Token(1), Interest::READABLE, level())
        .unwrap();
    kq.drop_knote(IDENT, EVFILT_READ);
    // Its number, reused, is refused until the loop releases token 1.
    let err = regs
        .register(&kq, FD, Token(2), Interest::READABLE, level())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    regs.forget(FD, Token(3)); // another token: not this registration
    assert_eq!(regs.len(), 1);
    let calls = kq.calls();
    regs.forget(FD, Token(1));
    assert_eq!(regs.len(), 0);
    assert_eq!(kq.calls(), calls, "no syscall");
    regs.register(&kq, FD, Token(2), Interest::READABLE, level())
        .unwrap();
    // Releasing the old token again leaves the new registration alone.
    regs.forget(FD, Token(1));
    assert_eq!(regs.len(), 1);
    // A reregistration moves it to its new token.
    regs.reregister(&kq, FD, Token(4), Interest::READABLE, level())
        .unwrap();
    regs.forget(FD, Token(2));
    assert_eq!(regs.len(), 1);
    regs.forget(FD, Token(4));
    assert_eq!(regs.len(), 0);
}

#[test]
fn the_set_costs_what_the_docs_say() {
    // Kqueue's docs: 20 bytes a descriptor on 64-bit targets (16 on 32-bit), 20 KiB at
    // the default 1,024.
    let per = if cfg!(target_pointer_width = "64") {
        20
    } else {
        16
    };
    assert!(core::mem::size_of::<Registrations<1024>>() <= per * 1024 + 16);
}
