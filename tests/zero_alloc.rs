//! Zero heap allocations on the loop's thread, from building the loop to its end,
//! while the echo server serves 1,000 TCP connections (DESIGN.md, "No heap"); and
//! while a loop receives a signal and reaps a child.
//!
//! A counting global allocator counts per thread, and only while that thread's
//! `COUNTING` flag is on: the client threads and the test harness allocate freely.

// Its signal handling is tested through the example binary (process-wide state).
#[allow(dead_code)]
#[path = "../examples/echo/server.rs"]
mod server;
mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use server::{Echo, EchoLoop, Pool, Table};
use util::{assert_same_bytes, pattern, tcp_client, wait_for};

thread_local! {
    // `const` initialisers: reading these never allocates (no lazy init), so the
    // allocator may use them.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// `System`, counting the calls that allocate on threads that are counting.
struct Counting;

impl Counting {
    fn count() {
        // `try_with`: during a thread's teardown the slots may be gone; not counting.
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; counting touches only
// const-initialised thread-locals, which neither allocate nor re-enter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::count();
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::count();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::count();
        // SAFETY: the caller upholds `realloc`'s contract, which `System` shares.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` (every allocation above forwards to it).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CONNECTIONS: usize = 1000;
/// Client threads at once; below the table's 127 connection slots.
const BATCH: usize = 100;
/// The loop thread gives up after this long (the test then fails on the count).
const LIMIT: Duration = Duration::from_secs(120);

/// The echo server: its `SourceTable` and `BufPool` are on the measured path (every
/// connection is inserted and removed, every partial write lends a buffer).
type Server = Echo<128, 130, 64>;

static POOL: static_cell::ConstStaticCell<Pool<64>> =
    static_cell::ConstStaticCell::new(Pool::new());

/// What the loop thread reports when it is done.
struct Report {
    allocations: usize,
    closed: usize,
    rejected: usize,
    accept_errors: usize,
    stats: statio::Stats,
    /// `stats`'s `Display`, formatted on the loop thread while counting.
    text: FixedText,
}

/// A `fmt::Write` into a fixed buffer, so formatting `Stats` is measured too.
struct FixedText {
    bytes: [u8; 1024],
    len: usize,
}

impl FixedText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap()
    }
}

impl fmt::Write for FixedText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The loop thread: counting from before the loop is built until it has served
/// `CONNECTIONS` connections (or `LIMIT` passed) and is dropped.
fn serve(port: &AtomicU16, closed: &AtomicUsize) -> Report {
    // Built before counting: the table is leaked here, before the measured span.
    let table: &'static mut Table<128, 64> = Box::leak(Box::new(Table::new()));
    let pool = POOL.take();
    let mut echo = Server::new(pool, table);
    // The idle sweep's timer is on the path too.
    echo.set_idle_timeout(Duration::from_secs(30));
    let deadline = Instant::now() + LIMIT;
    COUNTING.with(|c| c.set(true));
    let mut event_loop = EchoLoop::<128, 130, 64>::new().expect("EventLoop::new");
    let addr = echo
        .listen(&mut event_loop, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .expect("listen");
    // The marks' window starts with the listener registered: the stats path is measured.
    event_loop.reset_stats();
    let mut text = FixedText {
        bytes: [0; 1024],
        len: 0,
    };
    // Release: pairs with the Acquire load of the test thread.
    port.store(addr.port(), Ordering::Release);
    while echo.closed < CONNECTIONS && Instant::now() < deadline {
        event_loop
            .run_once(&mut echo, Some(Duration::from_millis(20)))
            .expect("run_once");
        // Release: pairs with the Acquire load of the test thread.
        closed.store(echo.closed, Ordering::Release);
        // Read and formatted every turn, as a program printing them on a signal might.
        text.len = 0;
        let stats = event_loop.stats().with_pool(pool.marks());
        write!(text, "{stats}").expect("the stats fit 1 KiB");
    }
    let stats = event_loop.stats().with_pool(pool.marks());
    // What the example prints at shutdown and on SIGUSR1, to stderr, counted too.
    server::marks::print(
        format_args!("zero_alloc: echo's marks"),
        &echo.stats(&event_loop),
    );
    event_loop.shutdown();
    drop(event_loop);
    COUNTING.with(|c| c.set(false));
    Report {
        allocations: ALLOCATIONS.with(Cell::get),
        closed: echo.closed,
        rejected: echo.rejected,
        accept_errors: echo.accept_errors,
        stats,
        text,
    }
}

/// One client: connect, send a message, read it back, close.
fn client(addr: SocketAddr, n: usize) {
    let mut stream = tcp_client(addr);
    // Sizes 1..=3000: one read or several, below and above the 1 KiB buffer.
    let want = pattern(n as u64, 1 + n * 7 % 3000);
    stream.write_all(&want).expect("client write");
    let mut got = vec![0u8; want.len()];
    stream.read_exact(&mut got).expect("client read back");
    assert_same_bytes(&got, &want, &format!("connection {n}"));
    stream.shutdown(Shutdown::Write).unwrap();
    let mut rest = [0u8; 1];
    assert_eq!(stream.read(&mut rest).expect("EOF"), 0, "connection {n}");
}

#[test]
fn loop_thread_allocates_nothing_serving_a_thousand_connections() {
    let port = Arc::new(AtomicU16::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let server = {
        let (port, closed) = (port.clone(), closed.clone());
        thread::Builder::new()
            .name("loop".into())
            .stack_size(16 * 1024 * 1024)
            .spawn(move || serve(&port, &closed))
            .unwrap()
    };
    wait_for("the listener bound", || port.load(Ordering::Acquire) != 0);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port.load(Ordering::Acquire)));
    for batch in 0..CONNECTIONS / BATCH {
        let clients: Vec<_> = (0..BATCH)
            .map(|i| {
                let n = batch * BATCH + i;
                thread::spawn(move || client(addr, n))
            })
            .collect();
        for client in clients {
            client.join().expect("a client failed");
        }
        // Every connection of this batch is closed before the next starts, so the
        // table never holds more than one batch.
        let served = (batch + 1) * BATCH;
        wait_for("the batch's connections closed by the server", || {
            closed.load(Ordering::Acquire) >= served
        });
    }
    let report = server.join().expect("the loop thread panicked");
    assert_eq!(report.closed, CONNECTIONS, "connections served");
    assert_eq!(report.rejected, 0, "connections rejected (table full)");
    assert_eq!(report.accept_errors, 0, "accept errors");
    assert_eq!(
        report.allocations, 0,
        "heap allocations on the loop thread between building the loop and its end"
    );
    // The marks saw the workload: the listener and at least one connection at once,
    // idle timers, and no limit hit (batches of 100 fit 127 slots).
    let stats = report.stats;
    assert!(stats.sources.peak >= 2, "{stats}");
    assert!(stats.timers.peak >= 1, "{stats}");
    assert!(stats.events.peak >= 1, "{stats}");
    assert_eq!(
        stats.sources.limit_hits + stats.timers.limit_hits,
        0,
        "{stats}"
    );
    let pool = stats.pool.expect("the pool's marks");
    assert!(pool.peak <= pool.capacity, "{stats}");
    assert!(report.text.as_str().starts_with("statio stats"));
    assert!(report.text.as_str().contains("pool buffers"));
}

/// The loop of the signal and child-process test: a signal source and a child watcher.
type SupervisorLoop = statio::EventLoop<Supervisor, 4, 0, 8>;

const SIGNALS: statio::Token = statio::Token(0);
const CHILDREN: statio::Token = statio::Token(1);

/// Receives signals and reaps children into plain fields: no allocation of its own.
struct Supervisor {
    signals: statio::Signals,
    children: statio::Children<4>,
    received: statio::signal::SignalSet,
    exit: Option<statio::process::ChildExit>,
}

impl statio::Handler for Supervisor {
    type Timeout = ();
    type Message = ();
    type Loop = SupervisorLoop;

    fn readable(&mut self, _: &mut SupervisorLoop, token: statio::Token, _: statio::Ready) {
        if token == SIGNALS {
            self.received = self.received | self.signals.receive().expect("receive");
        } else if token == CHILDREN {
            while let Some(exit) = self.children.try_reap().expect("try_reap") {
                self.exit = Some(exit);
            }
        }
    }
}

/// Zero heap allocations on a loop thread from creating a signal source and a child
/// watcher, through a signal received and a child reaped, to dropping them all. The
/// signal is sent to the thread itself (`pthread_kill`), so no other test thread can
/// take it; the child is spawned before counting (`Command` allocates).
#[test]
#[allow(
    clippy::zombie_processes,
    reason = "the watcher under test reaps the child"
)]
fn loop_thread_allocates_nothing_receiving_a_signal_and_reaping_a_child() {
    use statio::signal::{SIGUSR1, SignalSet};
    use std::process::{Command, Stdio};

    let worker = thread::spawn(|| {
        let set = SignalSet::new().with(SIGUSR1);
        // Blocked in this thread, which is the one the signal is sent to (epoll).
        let mask = statio::Signals::block(set).expect("block");
        let (reader, writer) = std::io::pipe().expect("a pipe");
        // Exits when the pipe closes, after the watch: a live child is watched.
        let child = Command::new("sh")
            .args(["-c", "read _; exit 4"])
            .stdin(Stdio::from(reader))
            .spawn()
            .expect("spawn sh");
        let pid = statio::process::Pid::try_from(child.id()).unwrap();

        COUNTING.with(|c| c.set(true));
        let mut supervisor = Supervisor {
            signals: statio::Signals::new(set).expect("Signals::new"),
            children: statio::Children::new().expect("Children::new"),
            received: SignalSet::new(),
            exit: None,
        };
        let mut event_loop = SupervisorLoop::new().expect("EventLoop::new");
        event_loop.register(&supervisor.signals, SIGNALS).unwrap();
        event_loop.register(&supervisor.children, CHILDREN).unwrap();
        supervisor.children.watch(pid).expect("watch");
        drop(writer);
        // SAFETY: pthread_self and pthread_kill have no memory preconditions; the
        // signal targets this thread, which blocks it (epoll) or catches it (poll).
        assert_eq!(
            unsafe { libc::pthread_kill(libc::pthread_self(), SIGUSR1) },
            0
        );
        for _ in 0..500 {
            if supervisor.received.contains(SIGUSR1) && supervisor.exit.is_some() {
                break;
            }
            event_loop
                .run_once(&mut supervisor, Some(Duration::from_millis(20)))
                .expect("run_once");
        }
        event_loop.deregister(&supervisor.signals, SIGNALS).unwrap();
        event_loop
            .deregister(&supervisor.children, CHILDREN)
            .unwrap();
        drop(event_loop);
        let (received, exit) = (supervisor.received, supervisor.exit);
        drop(supervisor);
        drop(mask);
        COUNTING.with(|c| c.set(false));
        (ALLOCATIONS.with(Cell::get), received, exit, pid)
    });
    let (allocations, received, exit, pid) = worker.join().expect("the loop thread panicked");
    assert!(
        received.contains(libc::SIGUSR1),
        "the signal arrived: {received:?}"
    );
    let exit = exit.expect("the child was reaped");
    assert_eq!((exit.pid, exit.status.code()), (pid, Some(4)));
    assert_eq!(
        allocations, 0,
        "heap allocations on the loop thread, from the sources' creation to their drop"
    );
}
