//! Shared helpers of the integration tests, on the model of mio's `tests/util`: bounded
//! loop turns ([`run_until`], [`expect_event`], [`expect_no_events`]; no test may
//! hang), the one event [`Recorder`], loopback pairs, blocking std clients with
//! timeouts, test data that shows reordering. What the ports' unit tests share too
//! (descriptor waits and flags, socket names, would-block, bare-selector helpers)
//! comes from the `statio-test-support` crate and is re-exported here.
//!
//! Each test file includes this with `mod util;` (the conformance suite with
//! `#[path]`) and uses a part of it.
#![allow(dead_code, unused_imports)]

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use statio::net::{TcpListener, TcpStream, TryRead, TryWrite, UnixStream};
use statio::{GenericEventLoop, Handler, NativeSelector, RawFd, Ready, Run, Selector, Token};
pub use statio_test_support::fd::{assert_cloexec_nonblocking, wait_fd};
pub use statio_test_support::names::{TempPath, abstract_name, temp_path};
pub use statio_test_support::{assert_would_block, selector};

/// The longest one turn of [`run_until`] may sleep.
pub const TURN: Duration = Duration::from_millis(50);
/// How long one turn of [`expect_no_events`] waits for an event that must not come.
pub const QUIET_TURN: Duration = Duration::from_millis(10);
/// How many turns [`run_until`] runs, unless told otherwise, before it fails (at least
/// 5 s of waiting).
pub const MAX_TURNS: usize = 100;

/// Read and write timeout of every blocking client socket: a test that would hang
/// fails with `WouldBlock`/`TimedOut` instead.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`wait_for`] waits for a condition set by another thread.
pub const WAIT: Duration = Duration::from_secs(10);

/// Runs turns of at most [`TURN`] until `done(handler)` holds (checked before the first
/// turn and after each), at most `max_turns` turns; returns how many it ran, or `None`
/// when `done` never held.
pub fn turns_until<H: Handler>(
    event_loop: &mut H::Loop,
    handler: &mut H,
    max_turns: usize,
    mut done: impl FnMut(&H) -> bool,
) -> Option<usize> {
    for turns in 0..max_turns {
        if done(handler) {
            return Some(turns);
        }
        event_loop
            .run_once(handler, Some(TURN))
            .expect("run_once failed");
    }
    done(handler).then_some(max_turns)
}

/// [`turns_until`], failing the test with `what` when `done` never held.
#[track_caller]
pub fn run_until<H: Handler>(
    event_loop: &mut H::Loop,
    handler: &mut H,
    what: &str,
    max_turns: usize,
    done: impl FnMut(&H) -> bool,
) -> usize {
    turns_until(event_loop, handler, max_turns, done).unwrap_or_else(|| {
        panic!("{what}: not reached within {max_turns} turns of at most {TURN:?}")
    })
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

/// The loop a [`Recorder`] runs in: over selector `S`, no timers. The defaults are the
/// native selector and tokens `0..16`.
pub type RecLoop<S = NativeSelector, T = (), const SOURCES: usize = 16, const EVENTS: usize = 16> =
    GenericEventLoop<Recorder<S, T, SOURCES, EVENTS>, S, SOURCES, 0, EVENTS>;

/// What a test does on each event, after it is recorded.
pub type Hook<S, T, const SOURCES: usize, const EVENTS: usize> =
    fn(&mut Recorder<S, T, SOURCES, EVENTS>, &mut RecLoop<S, T, SOURCES, EVENTS>, Token, Ready);

/// A handler that records every callback; a test may act on events through its hook
/// and its own state `T`. Generic over the selector for the conformance suite.
pub struct Recorder<
    S: Selector = NativeSelector,
    T = (),
    const SOURCES: usize = 16,
    const EVENTS: usize = 16,
> {
    /// Every `ready` call, in order.
    pub events: Vec<(Token, Ready)>,
    /// How many times `interrupted` was called.
    pub interrupted: usize,
    /// How many turns ended (`Handler::tick`).
    pub turns: usize,
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
            turns: 0,
            state,
            hook,
            selector: PhantomData,
        }
    }

    /// The events recorded so far, leaving the record empty.
    pub fn take(&mut self) -> Vec<(Token, Ready)> {
        std::mem::take(&mut self.events)
    }

    /// Forgets what was recorded.
    pub fn clear(&mut self) {
        self.events.clear();
    }

    /// Each readiness recorded under `token`, in order.
    pub fn of(&self, token: Token) -> Vec<Ready> {
        self.events
            .iter()
            .filter(|(t, _)| *t == token)
            .map(|&(_, r)| r)
            .collect()
    }

    /// The union of every readiness recorded under `token`.
    pub fn ready_of(&self, token: Token) -> Ready {
        self.of(token)
            .into_iter()
            .fold(Ready::EMPTY, |acc, r| acc | r)
    }

    /// Whether some event of `token` had any condition of `ready`.
    pub fn saw(&self, token: Token, ready: Ready) -> bool {
        self.ready_of(token).intersects(ready)
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
    type Loop = RecLoop<S, T, SOURCES, EVENTS>;

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
        self.turns += 1;
    }
}

/// A new native loop and a [`Recorder`] for it.
pub fn rec_loop() -> (RecLoop, Recorder) {
    (new_loop(), Recorder::new())
}

/// A new [`RecLoop`] over a new `S`, failing the test with the OS error if it cannot
/// open.
pub fn new_loop<S, T, const SOURCES: usize, const EVENTS: usize>() -> RecLoop<S, T, SOURCES, EVENTS>
where
    S: Selector<Handle = RawFd>,
{
    RecLoop::new().expect("the selector opens")
}

/// What the recording helpers read from a handler: the events it recorded, in order.
/// The [`Recorder`] is the one implementation; the trait lets the helpers take
/// `&mut H::Loop` without the capacities.
pub trait Records: Handler {
    /// Every event recorded so far.
    fn recorded(&self) -> &[(Token, Ready)];
}

impl<S: Selector, T, const SOURCES: usize, const EVENTS: usize> Records
    for Recorder<S, T, SOURCES, EVENTS>
{
    fn recorded(&self) -> &[(Token, Ready)] {
        &self.events
    }
}

/// Runs one turn that waits at most `max_wait`; returns the events it dispatched.
pub fn turn<H: Records>(
    event_loop: &mut H::Loop,
    handler: &mut H,
    max_wait: Duration,
) -> Vec<(Token, Ready)> {
    let before = handler.recorded().len();
    event_loop
        .run_once(handler, Some(max_wait))
        .expect("run_once succeeds");
    handler.recorded()[before..].to_vec()
}

/// Runs turns until an event arrives under `token` (at most [`MAX_TURNS`]); returns
/// the first such readiness. Fails naming the events recorded meanwhile.
#[track_caller]
pub fn expect_event<H: Records>(event_loop: &mut H::Loop, handler: &mut H, token: Token) -> Ready {
    let before = handler.recorded().len();
    let of_token = |h: &H| {
        h.recorded()[before..]
            .iter()
            .find(|(t, _)| *t == token)
            .map(|&(_, r)| r)
    };
    turns_until(event_loop, handler, MAX_TURNS, |h| of_token(h).is_some());
    of_token(handler).unwrap_or_else(|| {
        panic!(
            "no event under {token:?} within {MAX_TURNS} turns of at most {TURN:?}; events \
             recorded: {:?}",
            &handler.recorded()[before..]
        )
    })
}

/// Runs `turns` turns of [`QUIET_TURN`] and fails, with `why`, if any dispatches an
/// event.
#[track_caller]
pub fn expect_no_events<H: Records>(
    event_loop: &mut H::Loop,
    handler: &mut H,
    turns: usize,
    why: &str,
) {
    for i in 0..turns {
        let got = turn(event_loop, handler, QUIET_TURN);
        assert!(got.is_empty(), "{why}: turn {i} dispatched {got:?}");
    }
}

/// Writes all of `data`, which must fit the (empty enough) socket or pipe buffer.
#[track_caller]
pub fn send(to: &(impl TryWrite + ?Sized), data: &[u8]) {
    assert_eq!(
        to.try_write(data).expect("write succeeds"),
        Some(data.len()),
        "the buffer takes all {} bytes at once",
        data.len()
    );
}

/// Reads until would-block; returns the bytes read. Fails on EOF or an error.
#[track_caller]
pub fn drain(from: &(impl TryRead + ?Sized)) -> usize {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    for _ in 0..10_000 {
        match from.try_read(&mut buf).expect("read succeeds") {
            None => return total,
            Some(0) => panic!("unexpected end of stream after {total} bytes"),
            Some(n) => total += n,
        }
    }
    panic!("drain: still reading after 10,000 reads ({total} bytes)")
}

/// A connected pair of Unix stream sockets.
pub fn socketpair() -> (UnixStream, UnixStream) {
    UnixStream::pair().expect("socketpair")
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

/// Whether the tests run under an emulator (qemu-user in CI's aarch64 step, which sets
/// `STATIO_UNDER_EMULATOR`): there descriptor numbers and the order in which signals
/// reach the guest are the emulator's, so the few cases that rely on them relax.
pub fn under_emulator() -> bool {
    std::env::var_os("STATIO_UNDER_EMULATOR").is_some()
}

/// The path of example `name` (an example of the facade) or of the binary `name` of
/// package `package`, built first with the features and profile of this test binary
/// (`cargo build` through `$CARGO`, into this build's target directory; once per name
/// and process). `None` when this test binary was cross-built (`--target`, run under
/// an emulator): the host cannot run what it would build, so the caller skips.
pub fn example_binary(package: Option<&str>, name: &str) -> Option<std::path::PathBuf> {
    use std::sync::Mutex;
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    // target/<profile>/deps/<test>-<hash>
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let target_dir = profile_dir.parent().expect("target");
    // Cargo marks the root of a target directory; a cross build's profile directory
    // sits one level further down, under the target triple.
    if !target_dir.join("CACHEDIR.TAG").exists() {
        eprintln!("{name}: skipped, this test binary was cross-built");
        return None;
    }
    let release = profile_dir.ends_with("release");
    let path = match package {
        None => profile_dir.join("examples").join(name),
        Some(_) => profile_dir.join(name),
    };
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if built.iter().any(|b| b == name) {
        return Some(path);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = std::process::Command::new(cargo);
    command
        .arg("build")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    match package {
        None => command.args(["--example", name]),
        Some(package) => command.args(["-p", package, "--bin", name]),
    };
    if release {
        command.arg("--release");
    }
    if cfg!(feature = "force-poll") && package.is_none() {
        command.args(["--features", "force-poll"]);
    }
    let status = command.status().expect("run cargo build");
    assert!(status.success(), "cargo build of {name} failed: {status}");
    built.push(name.to_string());
    Some(path)
}

/// The lines of a child's pipe (its stdout or stderr), read on a thread of their own so
/// that a test can wait for one with a timeout; the channel closes at the pipe's EOF.
pub fn lines_of(pipe: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// One marks block an example printed (`examples/common/marks.rs`): its label line and
/// its rows, by name.
#[derive(Debug)]
pub struct MarksBlock {
    /// The line above the block, e.g. `echo: marks on SIGUSR1`.
    pub label: String,
    /// Each row's name and its four figures (now, peak, capacity, limit hits); the
    /// listener's row has only the limit hits, in the fourth place.
    pub rows: Vec<(String, [u64; 4])>,
}

impl MarksBlock {
    /// The figures of the row `name`; panics if the block has none.
    #[track_caller]
    pub fn row(&self, name: &str) -> [u64; 4] {
        self.rows
            .iter()
            .find(|(row, _)| row == name)
            .map(|(_, figures)| *figures)
            .unwrap_or_else(|| panic!("no row {name:?} in {self:?}"))
    }
}

/// The names of the rows every example prints, in order; the listener's is the last.
const MARKS_ROWS: [&str; 6] = [
    "sources",
    "timers",
    "events per turn",
    "pool buffers",
    "table slots",
    "listener",
];

/// Waits (at most [`IO_TIMEOUT`]) for the next line of `lines` that starts with
/// `prefix`, skipping the others, and reads the marks block under it: the header, then
/// rows up to the listener's. Panics if the block does not come, or is malformed.
#[track_caller]
pub fn next_marks(lines: &std::sync::mpsc::Receiver<String>, prefix: &str) -> MarksBlock {
    let deadline = Instant::now() + IO_TIMEOUT;
    let next = |what: &str| {
        let left = deadline.saturating_duration_since(Instant::now());
        lines
            .recv_timeout(left)
            .unwrap_or_else(|err| panic!("{what}: no line within {IO_TIMEOUT:?} ({err})"))
    };
    let label = loop {
        let line = next(prefix);
        if line.starts_with(prefix) {
            break line;
        }
    };
    let header = next("the marks' header");
    assert!(header.starts_with("statio stats"), "header {header:?}");
    let mut rows = Vec::new();
    loop {
        let line = next("a marks row");
        // The name is at most 16 columns, the figures follow, then the limit's name.
        let (name, rest) = line.split_at(line.len().min(16));
        let figures: Vec<u64> = rest
            .split_whitespace()
            .map_while(|word| word.parse().ok())
            .collect();
        let figures = match figures[..] {
            [now, peak, capacity, hits] => [now, peak, capacity, hits],
            [hits] => [0, 0, 0, hits],
            _ => panic!("row {line:?}"),
        };
        let name = name.trim().to_string();
        let last = name == "listener";
        rows.push((name, figures));
        if last {
            break;
        }
    }
    let block = MarksBlock { label, rows };
    for name in MARKS_ROWS {
        block.row(name);
    }
    block
}

/// A small xorshift generator for random test streams that are the same on every run
/// (a failing seed reproduces).
pub struct Rng(pub u64);

impl Rng {
    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Writes `input` to `stream` on a thread, in pieces of 1 to 9,000 bytes drawn from
/// `rng`. The receiver gets one message when a write first makes no progress for a
/// second (the peer stopped reading: its buffers and the kernel's are full) or when
/// everything is written, whichever comes first: a reader that waits for it makes the
/// peer hold what it could not send.
pub fn write_in_pieces(
    stream: &std::net::TcpStream,
    input: Vec<u8>,
    rng: &mut Rng,
) -> (std::thread::JoinHandle<()>, std::sync::mpsc::Receiver<()>) {
    use std::io::{ErrorKind, Write};
    let mut writer = stream.try_clone().unwrap();
    writer
        .set_write_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let pieces: Vec<usize> = (0..input.len()).map(|_| 1 + rng.below(9000)).collect();
    let (stalled_tx, stalled) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let (mut at, mut pieces) = (0, pieces.into_iter());
        let mut end = 0;
        while at < input.len() {
            if at == end {
                end = (at + pieces.next().unwrap()).min(input.len());
            }
            match writer.write(&input[at..end]) {
                Ok(n) => at += n,
                Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    let _ = stalled_tx.send(());
                }
                Err(err) => panic!("send: {err} at byte {at}"),
            }
        }
        let _ = stalled_tx.send(());
    });
    (thread, stalled)
}

/// A blocking client with [`IO_TIMEOUT`]s whose receive buffer is 4 KiB, so that a
/// server's replies fill the connection soon when it does not read; with `linger`
/// `Some(0)` its close is a reset.
pub fn small_window_client(addr: SocketAddr, linger: Option<u32>) -> std::net::TcpStream {
    let socket = statio::net::TcpSocket::v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).unwrap();
    stream.set_linger(linger).unwrap();
    let stream = std::net::TcpStream::from(stream);
    // Blocking again: the first write waits for the connection.
    stream.set_nonblocking(false).unwrap();
    set_timeouts_tcp(&stream);
    stream
}
