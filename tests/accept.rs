//! `Acceptor` under descriptor exhaustion: it pauses instead of spinning, resumes when
//! the server frees a descriptor or when its timer fires. The process's descriptor
//! limit is lowered for the test, so this file holds this one test (no other test
//! thread opens descriptors meanwhile).

mod util;

use std::net::SocketAddr;
use std::time::Duration;

use statio::limits::{self, FileLimit};
use statio::net::{TcpListener, TcpStream};
use statio::{AcceptPaused, Accepted, Acceptor, EventLoop, Handler, Ready, Token};

use util::*;

const LISTENER: Token = Token(0);
type Loop = EventLoop<Server, 4, 4, 16>;

struct Timer;

struct Server {
    acceptor: Acceptor<TcpListener>,
    streams: Vec<TcpStream>,
    pauses: Vec<AcceptPaused>,
    /// Readable events of the listener: a spinning listener would count thousands.
    listener_events: usize,
    resumed_by_timer: usize,
    /// Resumes the loop refused (the listener's token was taken meanwhile).
    refused_resumes: Vec<statio::Error>,
}

impl Handler for Server {
    type Timeout = Timer;
    type Message = ();
    type Loop = Loop;

    fn readable(&mut self, event_loop: &mut Loop, token: Token, _: Ready) {
        assert_eq!(token, LISTENER);
        self.listener_events += 1;
        for _ in 0..16 {
            match self.acceptor.accept(event_loop, || Timer) {
                Accepted::Stream(stream, _) => self.streams.push(stream),
                Accepted::Empty => return,
                Accepted::Paused(paused) => return self.pauses.push(paused),
                Accepted::Failed(err) => panic!("accept: {err}"),
            }
        }
    }

    fn timeout(&mut self, event_loop: &mut Loop, _: Timer) {
        match self.acceptor.resume(event_loop, || Timer) {
            Ok(true) => self.resumed_by_timer += 1,
            Ok(false) => {}
            Err(err) => self.refused_resumes.push(err),
        }
    }
}

/// Sets the soft descriptor limit (restored by the guard's drop).
struct Limit(FileLimit);

impl Limit {
    fn set(soft: u64) -> Limit {
        let before = limits::nofile().unwrap();
        set_soft(soft, before.hard);
        Limit(before)
    }
}

impl Drop for Limit {
    fn drop(&mut self) {
        set_soft(self.0.soft, self.0.hard);
    }
}

fn set_soft(soft: u64, hard: u64) {
    limits::set_nofile(FileLimit { soft, hard }).unwrap();
}

/// Fills every hole among the open descriptors (with copies of stdin, returned to be
/// kept open) and returns the number the next descriptor will get: so a limit of that
/// number plus `n` leaves room for exactly `n` more, whichever numbers were free.
fn fill_holes() -> (Vec<std::os::fd::OwnedFd>, u64) {
    use std::os::fd::FromRawFd;
    // The highest open descriptor (F_GETFD fails with EBADF on a closed one).
    // SAFETY: fcntl(F_GETFD) takes no pointers and only reads the descriptor's flags.
    let top = (0..4096)
        .rev()
        .find(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0);
    let top = top.expect("stdin, stdout or stderr is open");
    let mut fillers = Vec::new();
    loop {
        // SAFETY: dup(2) takes no pointers.
        let fd = unsafe { libc::dup(0) };
        assert!(fd >= 0, "dup: {}", std::io::Error::last_os_error());
        // SAFETY: `fd` is the descriptor just made, owned by nothing else.
        let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        if fd > top {
            // No hole is left below `top`; this one was the next number.
            return (fillers, fd as u64);
        }
        fillers.push(owned);
    }
}

#[test]
fn exhaustion_pauses_the_listener_and_freeing_a_descriptor_resumes_it() {
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let mut event_loop = Loop::new().unwrap();
    let mut acceptor = Acceptor::register(listener, &mut event_loop, LISTENER).unwrap();
    // Long pauses first, so that only `descriptor_freed` can resume (however slow the
    // machine); short ones for the timer's part.
    let long = Duration::from_secs(30);
    acceptor.set_pauses(long, long);
    let mut server = Server {
        acceptor,
        streams: Vec::new(),
        pauses: Vec::new(),
        listener_events: 0,
        resumed_by_timer: 0,
        refused_resumes: Vec::new(),
    };
    // Five clients connect (the kernel completes the handshakes into the backlog)
    // before the limit leaves room for two accepted streams only.
    let clients: Vec<_> = (0..5).map(|_| tcp_client(addr)).collect();
    let (_fillers, next) = fill_holes();
    let limit = Limit::set(next + 2);

    run_until(
        &mut event_loop,
        &mut server,
        "the first pause",
        MAX_TURNS,
        |s: &Server| !s.pauses.is_empty(),
    );
    assert_eq!(server.streams.len(), 2);
    assert!(server.acceptor.is_paused());
    let paused = server.pauses[0];
    assert_eq!(paused.error.code(), libc::EMFILE, "{paused}");
    assert_eq!(paused.retry_in, Some(long));
    // Paused: the listener is out of the loop, so turns see no event of it.
    let events = server.listener_events;
    for _ in 0..3 {
        event_loop
            .run_once(&mut server, Some(Duration::from_millis(10)))
            .unwrap();
    }
    assert_eq!(server.listener_events, events, "a paused listener reported");

    // The server closes a connection: accepting resumes at once, takes one, pauses.
    drop(server.streams.pop());
    assert_eq!(server.resumed_by_timer, 0);
    assert!(server.acceptor.descriptor_freed(&mut event_loop).unwrap());
    run_until(
        &mut event_loop,
        &mut server,
        "the second pause",
        MAX_TURNS,
        |s: &Server| s.pauses.len() == 2,
    );
    assert_eq!(server.streams.len(), 2);
    assert_eq!(server.pauses[1].retry_in, Some(long));

    // A descriptor frees without the server saying so: the timer resumes it. Pauses of
    // 10 ms doubling: resumes with nothing accepted double the next one.
    server
        .acceptor
        .set_pauses(Duration::from_millis(10), Duration::from_millis(40));
    assert!(server.acceptor.descriptor_freed(&mut event_loop).unwrap());
    run_until(
        &mut event_loop,
        &mut server,
        "the third pause",
        MAX_TURNS,
        |s: &Server| s.pauses.len() == 3,
    );
    assert_eq!(server.pauses[2].retry_in, Some(Duration::from_millis(10)));
    run_until(
        &mut event_loop,
        &mut server,
        "the fourth pause",
        MAX_TURNS,
        |s: &Server| s.pauses.len() == 4,
    );
    assert_eq!(server.pauses[3].retry_in, Some(Duration::from_millis(20)));
    drop(server.streams.pop());
    run_until(
        &mut event_loop,
        &mut server,
        "the fifth pause",
        MAX_TURNS,
        |s: &Server| s.pauses.len() == 5,
    );
    assert!(server.resumed_by_timer >= 2);
    assert_eq!(server.streams.len(), 2);

    // The timer fires but the loop refuses the listener (its token was taken while it
    // was paused): the acceptor sets a new timer itself, so once the token is free it
    // resumes (and, still at the limit, pauses again) with no descriptor freed.
    let resumed = server.resumed_by_timer;
    event_loop.register(&server.streams[0], LISTENER).unwrap();
    run_until(
        &mut event_loop,
        &mut server,
        "a refused resume",
        MAX_TURNS,
        |s: &Server| !s.refused_resumes.is_empty(),
    );
    assert!(
        matches!(
            server.refused_resumes[0],
            statio::Error::TokenInUse(LISTENER)
        ),
        "{:?}",
        server.refused_resumes
    );
    assert!(server.acceptor.is_paused());
    event_loop.deregister(&server.streams[0], LISTENER).unwrap();
    run_until(
        &mut event_loop,
        &mut server,
        "the resume after a refused one",
        MAX_TURNS,
        |s: &Server| s.pauses.len() == 6,
    );
    assert_eq!(server.resumed_by_timer, resumed + 1);
    // Each pause counted once, for the server's stats.
    assert_eq!(server.acceptor.paused_count(), 6);
    // Bounded: a few events per pause, never one per failing accept of a spin.
    assert!(
        server.listener_events <= 14,
        "{} listener events",
        server.listener_events
    );

    drop(limit);
    // With room again, the last client is accepted (the timer resumes the listener).
    run_until(
        &mut event_loop,
        &mut server,
        "the last accepts",
        MAX_TURNS,
        |s: &Server| s.streams.len() == 3,
    );
    assert!(!server.acceptor.is_paused());
    assert_eq!(server.acceptor.paused_count(), 6);
    server.acceptor.reset_paused_count();
    assert_eq!(server.acceptor.paused_count(), 0);
    drop(clients);
}
