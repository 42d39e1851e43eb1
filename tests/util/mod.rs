//! Shared helpers of the integration tests: bounded loop turns (no test may hang),
//! an event recorder, blocking std clients with timeouts, test data that shows
//! reordering, unique socket paths, descriptor flag checks.
//!
//! Each test file includes this with `mod util;` and uses a part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use statio::{EventLoop, Handler, Ready, Token};

/// The longest one `run_once` of [`run_until`] may sleep.
pub const TURN: Duration = Duration::from_millis(50);

/// Read and write timeout of every blocking client socket: a test that would hang
/// fails with `WouldBlock`/`TimedOut` instead.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`wait_for`] waits for a condition set by another thread.
pub const WAIT: Duration = Duration::from_secs(10);

/// Runs turns of at most [`TURN`] until `done(handler)` holds, at most `max_turns`
/// turns; panics naming `what` if it never held.
pub fn run_until<H, const N: usize, const T: usize, const E: usize>(
    event_loop: &mut EventLoop<H, N, T, E>,
    handler: &mut H,
    what: &str,
    max_turns: usize,
    mut done: impl FnMut(&H) -> bool,
) where
    H: Handler<Loop = EventLoop<H, N, T, E>>,
{
    for _ in 0..max_turns {
        if done(handler) {
            return;
        }
        event_loop
            .run_once(handler, Some(TURN))
            .expect("run_once failed");
    }
    assert!(
        done(handler),
        "{what}: not reached within {max_turns} turns of at most {TURN:?}"
    );
}

/// Polls `cond` (another thread makes it true) every few milliseconds for at most
/// [`WAIT`]; panics naming `what` if it never held.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "{what}: not reached within {WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A handler that records every event it is given.
#[derive(Default)]
pub struct Recorder {
    /// Every `(token, readiness)` dispatched, in order.
    pub events: Vec<(Token, Ready)>,
}

/// The loop a [`Recorder`] runs in: tokens `0..16`.
pub type RecLoop = EventLoop<Recorder, 16, 0, 16>;

impl Handler for Recorder {
    type Timeout = ();
    type Message = ();
    type Loop = RecLoop;

    fn ready(&mut self, _: &mut RecLoop, token: Token, ready: Ready) {
        self.events.push((token, ready));
    }
}

impl Recorder {
    /// The union of every readiness recorded for `token`.
    pub fn ready_of(&self, token: Token) -> Ready {
        self.events
            .iter()
            .filter(|(t, _)| *t == token)
            .fold(Ready::EMPTY, |acc, (_, r)| acc | *r)
    }

    /// Whether some event of `token` had any condition of `ready`.
    pub fn saw(&self, token: Token, ready: Ready) -> bool {
        self.ready_of(token).intersects(ready)
    }

    /// Forgets what was recorded.
    pub fn clear(&mut self) {
        self.events.clear();
    }
}

/// A new loop for a [`Recorder`].
pub fn rec_loop() -> (RecLoop, Recorder) {
    (RecLoop::new().expect("EventLoop::new"), Recorder::default())
}

/// A blocking std TCP client connected to `addr`, with [`IO_TIMEOUT`] on reads and
/// writes and Nagle off.
pub fn tcp_client(addr: SocketAddr) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect_timeout(&addr, IO_TIMEOUT)
        .unwrap_or_else(|err| panic!("connect to {addr}: {err}"));
    set_timeouts_tcp(&stream);
    stream.set_nodelay(true).unwrap();
    stream
}

/// Sets [`IO_TIMEOUT`] on both directions of `stream`.
pub fn set_timeouts_tcp(stream: &std::net::TcpStream) {
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
}

/// Sets [`IO_TIMEOUT`] on both directions of `stream`.
pub fn set_timeouts_unix(stream: &std::os::unix::net::UnixStream) {
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
}

/// `len` bytes that differ with `seed` and with the position, so that a lost,
/// repeated, reordered or foreign chunk of a stream does not compare equal.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    (0..len as u64)
        .map(|i| {
            // splitmix64 of (seed, position): cheap and without short cycles.
            let mut z = seed
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(i.wrapping_mul(0xBF58_476D_1CE4_E5B9));
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

/// Asserts `got == want` and, if not, names the first differing byte instead of
/// printing megabytes.
pub fn assert_same_bytes(got: &[u8], want: &[u8], what: &str) {
    if got == want {
        return;
    }
    let first = got.iter().zip(want).position(|(a, b)| a != b);
    panic!(
        "{what}: got {} bytes, want {}; first difference at {:?}",
        got.len(),
        want.len(),
        first
    );
}

/// A unique socket path in the temporary directory, removed (if created) on drop.
pub struct TempPath(pub Vec<u8>);

/// A path that no other test (or test run) uses.
pub fn temp_path(tag: &str) -> TempPath {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // Relaxed: the counter only needs distinct values; it orders nothing.
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir();
    let path = dir.join(format!("statio-it-{}-{tag}-{n}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    TempPath(path.into_os_string().into_encoded_bytes())
}

impl TempPath {
    /// The path as a std path.
    pub fn path(&self) -> &std::path::Path {
        std::path::Path::new(std::str::from_utf8(&self.0).expect("temp path is UTF-8"))
    }

    /// The path as bytes, as statio's Unix sockets take it.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.path());
    }
}

/// A unique abstract socket name (Linux).
pub fn abstract_name(tag: &str) -> Vec<u8> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // Relaxed: as in `temp_path`.
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("statio-it-{}-{tag}-{n}", std::process::id()).into_bytes()
}

/// Asserts the descriptor is close-on-exec (`F_GETFD`) and non-blocking (`F_GETFL`).
pub fn assert_cloexec_nonblocking(fd: RawFd, what: &str) {
    // SAFETY: F_GETFD and F_GETFL take no argument and only read the flags.
    let (fd_flags, status) = unsafe {
        (
            libc::fcntl(fd, libc::F_GETFD),
            libc::fcntl(fd, libc::F_GETFL),
        )
    };
    assert!(
        fd_flags >= 0 && status >= 0,
        "{what}: fcntl on fd {fd} failed: {}",
        std::io::Error::last_os_error()
    );
    assert_ne!(
        fd_flags & libc::FD_CLOEXEC,
        0,
        "{what}: fd {fd} lacks FD_CLOEXEC"
    );
    assert_ne!(
        status & libc::O_NONBLOCK,
        0,
        "{what}: fd {fd} lacks O_NONBLOCK"
    );
}

/// `poll(2)` on one descriptor for at most `timeout_ms`: the `revents` (0 on timeout).
pub fn poll_one(fd: RawFd, events: libc::c_short, timeout_ms: libc::c_int) -> libc::c_short {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    assert!(n >= 0, "poll failed: {}", std::io::Error::last_os_error());
    pfd.revents
}
