//! Helpers of the conformance suite: a recording handler generic over the selector,
//! bounded turn helpers, and loopback sources.
//!
//! Every wait here is bounded: a turn is one `run_once` with a short timeout, and a
//! helper that waits for a condition gives up after a fixed number of turns with a
//! message naming what it waited for and what it saw.

use core::marker::PhantomData;
use core::net::SocketAddr;
use core::time::Duration;
use std::vec::Vec;

use statio::net::{TcpListener, TcpStream, UnixStream};
use statio::{GenericEventLoop, Handler, RawFd, Ready, Selector, Token};

/// How long one turn of [`run_until`] may wait for an event.
pub const TURN: Duration = Duration::from_millis(50);
/// How long one turn of [`expect_quiet`] waits for an event that must not come.
pub const QUIET_TURN: Duration = Duration::from_millis(10);
/// How many turns [`run_until`] runs before it fails (at least 5 s of waiting).
pub const MAX_TURNS: usize = 100;

/// The loop of the suite over selector `S`, with `T` as the test's own state.
pub type Loop<S, T, const SOURCES: usize, const EVENTS: usize> =
    GenericEventLoop<Recorder<S, T, SOURCES, EVENTS>, S, SOURCES, 0, EVENTS>;

/// What a test does on each event, after it is recorded.
pub type Hook<S, T, const SOURCES: usize, const EVENTS: usize> =
    fn(&mut Recorder<S, T, SOURCES, EVENTS>, &mut Loop<S, T, SOURCES, EVENTS>, Token, Ready);

/// Records every callback; a test may act on events through its hook and state.
pub struct Recorder<S: Selector, T, const SOURCES: usize, const EVENTS: usize> {
    /// Every `ready` call, in order (tests clear it with [`take`](Self::take)).
    pub events: Vec<(Token, Ready)>,
    /// How many times `interrupted` was called.
    pub interrupted: usize,
    /// How many turns ended (`tick`).
    pub ticks: usize,
    /// The test's own state, for the hook.
    pub state: T,
    hook: Hook<S, T, SOURCES, EVENTS>,
    selector: PhantomData<fn() -> S>,
}

impl<S: Selector, T, const SOURCES: usize, const EVENTS: usize> Recorder<S, T, SOURCES, EVENTS> {
    /// A recorder that calls `hook` after recording each event.
    pub fn with_hook(state: T, hook: Hook<S, T, SOURCES, EVENTS>) -> Self {
        Recorder {
            events: Vec::new(),
            interrupted: 0,
            ticks: 0,
            state,
            hook,
            selector: PhantomData,
        }
    }

    /// The events recorded so far, leaving the record empty.
    pub fn take(&mut self) -> Vec<(Token, Ready)> {
        core::mem::take(&mut self.events)
    }

    /// The events recorded under `token`.
    pub fn of(&self, token: Token) -> Vec<Ready> {
        self.events
            .iter()
            .filter(|(t, _)| *t == token)
            .map(|&(_, r)| r)
            .collect()
    }
}

impl<S: Selector, const SOURCES: usize, const EVENTS: usize> Recorder<S, (), SOURCES, EVENTS> {
    /// A recorder that only records.
    pub fn new() -> Self {
        Self::with_hook((), |_, _, _, _| {})
    }
}

impl<S: Selector, T, const SOURCES: usize, const EVENTS: usize> Handler
    for Recorder<S, T, SOURCES, EVENTS>
{
    type Timeout = ();
    type Message = ();
    type Loop = Loop<S, T, SOURCES, EVENTS>;

    fn ready(&mut self, event_loop: &mut Self::Loop, token: Token, ready: Ready) {
        assert!(
            token.0 < SOURCES,
            "dispatched token {token:?} is not below SOURCES = {SOURCES}"
        );
        self.events.push((token, ready));
        let hook = self.hook;
        hook(self, event_loop, token, ready);
    }

    fn interrupted(&mut self, _: &mut Self::Loop) {
        self.interrupted += 1;
    }

    fn tick(&mut self, _: &mut Self::Loop) {
        self.ticks += 1;
    }
}

/// A new loop over a new `S`, failing the test with the OS error if it cannot open.
pub fn new_loop<S, T, const SOURCES: usize, const EVENTS: usize>() -> Loop<S, T, SOURCES, EVENTS>
where
    S: Selector<Handle = RawFd>,
{
    Loop::new().expect("the selector opens")
}

/// Runs one turn that waits at most `timeout`; returns the events it dispatched.
pub fn turn<S, T, const SOURCES: usize, const EVENTS: usize>(
    el: &mut Loop<S, T, SOURCES, EVENTS>,
    h: &mut Recorder<S, T, SOURCES, EVENTS>,
    timeout: Duration,
) -> Vec<(Token, Ready)>
where
    S: Selector<Handle = RawFd>,
{
    let before = h.events.len();
    el.run_once(h, Some(timeout)).expect("run_once succeeds");
    h.events[before..].to_vec()
}

/// Runs turns until `done` holds (checked before the first turn and after each),
/// failing after [`MAX_TURNS`] turns with `what` and the events recorded.
/// Returns the number of turns run.
pub fn run_until<S, T, const SOURCES: usize, const EVENTS: usize>(
    el: &mut Loop<S, T, SOURCES, EVENTS>,
    h: &mut Recorder<S, T, SOURCES, EVENTS>,
    what: &str,
    mut done: impl FnMut(&Recorder<S, T, SOURCES, EVENTS>) -> bool,
) -> usize
where
    S: Selector<Handle = RawFd>,
{
    for turns in 0..MAX_TURNS {
        if done(h) {
            return turns;
        }
        el.run_once(h, Some(TURN)).expect("run_once succeeds");
    }
    assert!(
        done(h),
        "{what}: not reached after {MAX_TURNS} turns of up to {TURN:?}; events recorded: {:?}",
        h.events
    );
    MAX_TURNS
}

/// Runs turns until an event arrives under `token`; returns the first such readiness.
pub fn expect_event<S, T, const SOURCES: usize, const EVENTS: usize>(
    el: &mut Loop<S, T, SOURCES, EVENTS>,
    h: &mut Recorder<S, T, SOURCES, EVENTS>,
    token: Token,
) -> Ready
where
    S: Selector<Handle = RawFd>,
{
    let before = h.events.len();
    let what = format!("an event under {token:?}");
    run_until(el, h, &what, |h| {
        h.events[before..].iter().any(|(t, _)| *t == token)
    });
    h.events[before..]
        .iter()
        .find(|(t, _)| *t == token)
        .map(|&(_, r)| r)
        .expect("run_until found it")
}

/// Runs `turns` short turns and fails if any dispatches an event.
pub fn expect_quiet<S, T, const SOURCES: usize, const EVENTS: usize>(
    el: &mut Loop<S, T, SOURCES, EVENTS>,
    h: &mut Recorder<S, T, SOURCES, EVENTS>,
    turns: usize,
    why: &str,
) where
    S: Selector<Handle = RawFd>,
{
    for i in 0..turns {
        let got = turn(el, h, QUIET_TURN);
        assert!(got.is_empty(), "{why}: turn {i} dispatched {got:?}");
    }
}

/// A connected pair of Unix stream sockets.
pub fn socketpair() -> (UnixStream, UnixStream) {
    UnixStream::pair().expect("socketpair")
}

/// Something a test writes to and reads from: the sockets and pipe ends of the suite.
pub trait Stream {
    /// `try_read` of the type.
    fn read_some(&self, buf: &mut [u8]) -> statio::net::Result<Option<usize>>;
    /// `try_write` of the type.
    fn write_some(&self, buf: &[u8]) -> statio::net::Result<Option<usize>>;
}

macro_rules! stream {
    ($($ty:ty),*) => {$(
        impl Stream for $ty {
            fn read_some(&self, buf: &mut [u8]) -> statio::net::Result<Option<usize>> {
                self.try_read(buf)
            }
            fn write_some(&self, buf: &[u8]) -> statio::net::Result<Option<usize>> {
                self.try_write(buf)
            }
        }
    )*};
}
stream!(UnixStream, TcpStream);

impl Stream for statio::net::pipe::Receiver {
    fn read_some(&self, buf: &mut [u8]) -> statio::net::Result<Option<usize>> {
        self.try_read(buf)
    }
    fn write_some(&self, _: &[u8]) -> statio::net::Result<Option<usize>> {
        panic!("the read end of a pipe cannot be written")
    }
}

impl Stream for statio::net::pipe::Sender {
    fn read_some(&self, _: &mut [u8]) -> statio::net::Result<Option<usize>> {
        panic!("the write end of a pipe cannot be read")
    }
    fn write_some(&self, buf: &[u8]) -> statio::net::Result<Option<usize>> {
        self.try_write(buf)
    }
}

/// Writes all of `data`, which must fit the (empty enough) socket or pipe buffer.
pub fn send(to: &(impl Stream + ?Sized), data: &[u8]) {
    assert_eq!(
        to.write_some(data).expect("write succeeds"),
        Some(data.len()),
        "the buffer takes all {} bytes at once",
        data.len()
    );
}

/// Reads until would-block; returns the bytes read. Fails on EOF or an error.
pub fn drain(from: &(impl Stream + ?Sized)) -> usize {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    for _ in 0..10_000 {
        match from.read_some(&mut buf).expect("read succeeds") {
            None => return total,
            Some(0) => panic!("unexpected end of stream after {total} bytes"),
            Some(n) => total += n,
        }
    }
    panic!("drain: still reading after 10,000 reads ({total} bytes)")
}

/// A connected TCP pair on loopback: (client, accepted server side), both established.
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).expect("bind loopback");
    let addr: SocketAddr = listener.local_addr().expect("local_addr");
    let client = TcpStream::connect(addr).expect("connect loopback");
    // Bounded: 500 polls of up to 10 ms each.
    for _ in 0..500 {
        if let Some((server, _)) = listener.accept().expect("accept") {
            // Accepted means the handshake's last ACK arrived: the client is connected.
            return (client, server);
        }
        wait_fd(listener.as_raw_fd(), libc::POLLIN, 10);
    }
    panic!("no connection accepted on {addr} within 500 polls");
}

/// Waits up to `ms` milliseconds for `events` on `fd` with poll(2), outside any selector.
pub fn wait_fd(fd: RawFd, events: libc::c_short, ms: libc::c_int) {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    let _ = unsafe { libc::poll(&raw mut pfd, 1, ms) };
}
