//! Behaviour of [`Epoll`] the conformance suite (`tests/conformance`, run for every
//! port) does not cover: epoll's own edge semantics (new data is a new edge even
//! unread). Selector behaviour common to every port, the bare selector's included
//! (`EINTR`, whole tokens, `NotFound`, wait rounding), lives only in the suite.
//!
//! Every wait is bounded (`statio_test_support::selector`'s `WAIT` and `BRIEF`).
//! Nothing asserts how long a call took.

extern crate std;

use statio_core::{Interest, PollOpt, Ready, Selector, Token};
use statio_test_support::selector::{expect_event, expect_no_events};
use statio_unix::{Fd, RawFd};

use crate::Epoll;

fn pipe() -> (Fd, Fd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let ret = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
    assert_eq!(ret, 0, "pipe2");
    // SAFETY: pipe2 succeeded: both are new descriptors that nothing else owns.
    unsafe { (Fd::from_raw(fds[0]), Fd::from_raw(fds[1])) }
}

fn write_byte(fd: &Fd) {
    // SAFETY: writes one byte from a live buffer.
    let n = unsafe { libc::write(fd.raw(), b"x".as_ptr().cast(), 1) };
    assert_eq!(n, 1, "write");
}

/// Reads until the descriptor would block; returns how many bytes it read.
fn drain(fd: RawFd) -> usize {
    let mut buf = [0u8; 64];
    let mut total = 0;
    loop {
        // SAFETY: reads at most `buf.len()` bytes into a live buffer.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return total;
        }
        total += n as usize;
    }
}

fn registered_pipe(epoll: &mut Epoll, token: Token, opt: PollOpt) -> (Fd, Fd) {
    let (reader, writer) = pipe();
    epoll
        .register(reader.raw(), token, Interest::READABLE, opt)
        .unwrap();
    (reader, writer)
}

#[test]
fn edge_reports_once_per_new_data() {
    let mut epoll = Epoll::new().unwrap();
    let (reader, writer) = registered_pipe(&mut epoll, Token(1), PollOpt::edge());
    write_byte(&writer);
    expect_event(&mut epoll, Token(1), Ready::READABLE);
    expect_no_events(&mut epoll);
    // Still unread, but new data is a new edge.
    write_byte(&writer);
    expect_event(&mut epoll, Token(1), Ready::READABLE);
    expect_no_events(&mut epoll);
    assert_eq!(drain(reader.raw()), 2);
}

#[test]
fn native_edges_see_a_refill_between_two_selects() {
    // What the poll(2) port's emulation misses (its NATIVE_EDGES is false), the kernel
    // reports: drained and refilled between two selects is a new edge.
    const { assert!(<Epoll as Selector>::NATIVE_EDGES) };
    let mut epoll = Epoll::new().unwrap();
    let (reader, writer) = registered_pipe(&mut epoll, Token(1), PollOpt::edge());
    write_byte(&writer);
    expect_event(&mut epoll, Token(1), Ready::READABLE);
    assert_eq!(drain(reader.raw()), 1);
    write_byte(&writer);
    expect_event(&mut epoll, Token(1), Ready::READABLE);
}
