//! An HTTP/1.1 server on statio: `cargo run --release --example http -- [ADDR] [--loops N]`.
//!
//! Listens on `ADDR` (default `127.0.0.1:8080`; port 0 lets the kernel pick) and prints
//! `http: listening on ADDR` with the bound address first. `GET /` and `HEAD /` answer
//! `Hello, world!`, `POST /echo` returns the request's body; keep-alive, pipelining
//! and the error statuses are those of `statio_protocols::http` (see its docs and
//! `server.rs`). Try `curl -i http://127.0.0.1:8080/`.
//!
//! `--loops N` (default 1, at most 8) runs N loops on N threads, each with its own
//! listener on the same address (`SO_REUSEPORT`: the kernel spreads the connections),
//! its own table of 2,046 connections and its own pool of buffers. `SIGTERM` or
//! `SIGINT` stops every loop (loop 0 receives the signal and tells the others through
//! their control channels); each closes its connections and prints its marks (each
//! capacity's use now, at its peak, and its limit hits: docs/TUNING.md) to stderr as a
//! block of its own, `http: loop N marks at shutdown`, and the process exits 0.
//! `SIGUSR1` prints every loop's block the same way (loop 0 asks the others), and
//! serving goes on. `SIGHUP` is logged. A bad argument prints a message and exits 2.
//!
//! No heap allocation after start-up: the loops, their pools and channels are
//! `static`s (in `.bss`: a page costs memory only once used), each server's table on
//! its loop's thread.

mod args;
mod conn;
#[path = "../common/one_thread.rs"]
mod one_thread;
mod server;
mod timers;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;

use static_cell::ConstStaticCell;
use statio::signal::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SignalSet};
use statio::{Channel, Config, LoopCell, Signals, SourceTable};

use args::Parsed;
use conn::Pool;
use one_thread::OneThread;
use server::{Control, MAX_LOOPS};

/// Connections per loop.
const CONNS: usize = 2046;
/// Tokens per loop: the connections', the listener's and loop 0's signals'.
const SOURCES: usize = CONNS + 2;
/// Pooled buffers per loop: two per connection, so the pool never runs dry (16 MiB of
/// address space per loop; only the buffers ever lent at once become resident).
const BUFFERS: usize = 2 * CONNS;

type Server = server::Server<CONNS, SOURCES, BUFFERS>;
type Table = server::Table<CONNS, BUFFERS>;
type Loop = server::HttpLoop<CONNS, SOURCES, BUFFERS>;

/// What one loop keeps in `static`s.
struct Home {
    event_loop: LoopCell<Loop>,
    pool: ConstStaticCell<Pool<BUFFERS>>,
    table: ConstStaticCell<OneThread<Table>>,
    control: Channel<Control, 4>,
}

impl Home {
    const fn new() -> Self {
        Home {
            event_loop: LoopCell::new(),
            pool: ConstStaticCell::new(Pool::new()),
            table: ConstStaticCell::new(OneThread(SourceTable::new())),
            control: Channel::new(),
        }
    }
}

static HOMES: [Home; MAX_LOOPS] = [const { Home::new() }; MAX_LOOPS];

/// Loop 0's signals: stop (`SIGTERM`, `SIGINT`), log (`SIGHUP`), report (`SIGUSR1`).
const SIGNALS: SignalSet = SignalSet::new()
    .with(SIGTERM)
    .with(SIGINT)
    .with(SIGHUP)
    .with(SIGUSR1);

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1), MAX_LOOPS) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            println!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("http: {err}\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    // Each loop's table needs a descriptor per connection, besides the listener, the
    // selector and its waker, the signals and stdio: beyond the limit, accepting pauses
    // until a connection closes.
    let wanted = (args.loops * (CONNS + 4) + 16) as u64;
    match statio::limits::raise_nofile(wanted) {
        Ok(got) if got.soft >= wanted => {}
        Ok(got) => eprintln!(
            "http: {} descriptors at most (of {wanted} wanted): accepting pauses at the limit",
            got.soft
        ),
        Err(err) => eprintln!("http: cannot read the descriptor limit: {err}"),
    }
    // Before any thread: on epoll the signals must be blocked in every thread.
    let _mask = match Signals::block(SIGNALS) {
        Ok(mask) => mask,
        Err(err) => return fail("cannot block SIGTERM, SIGINT, SIGHUP and SIGUSR1", &err),
    };
    let signals = match Signals::new(SIGNALS) {
        Ok(signals) => signals,
        Err(err) => return fail("cannot watch signals", &err),
    };
    let home = &HOMES[0];
    let (event_loop, mut server) = match start(home, 0, args.addr, args.loops > 1) {
        Ok(started) => started,
        Err(err) => return fail(&format!("cannot listen on {}", args.addr), &err),
    };
    // The first loop bound the address (port 0: the kernel picked); the others share it.
    let addr = match server.local_addr() {
        Some(addr) => addr,
        None => return fail("cannot listen", &"no listener"),
    };
    let (ready_tx, ready_rx) = mpsc::channel();
    let mut threads = Vec::with_capacity(args.loops - 1);
    for (i, home) in HOMES.iter().enumerate().take(args.loops).skip(1) {
        let ready = ready_tx.clone();
        let spawned = thread::Builder::new()
            .name(format!("loop {i}"))
            .spawn(move || run_other(home, i, addr, ready));
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(err) => {
                let _ = ready_tx.send(Err(format!("cannot start loop {i}: {err}")));
                break;
            }
        }
        // Cannot be full: MAX_LOOPS senders fit.
        let _ = server.add_peer(home.control.sender());
    }
    drop(ready_tx);
    let mut status = ExitCode::SUCCESS;
    // Ends when every started loop has spoken: each drops its sender after.
    for result in ready_rx.iter() {
        if let Err(err) = result {
            status = fail("a loop did not start", &err);
        }
    }
    if status == ExitCode::SUCCESS {
        match server.watch_signals(event_loop, signals) {
            Ok(()) => println!("http: listening on {addr}"),
            Err(err) => status = fail("cannot register the signals", &err),
        }
    }
    if status == ExitCode::SUCCESS {
        match event_loop.run(&mut server) {
            Ok(()) => server.report(event_loop, "at shutdown"),
            Err(err) => status = fail("loop 0 failed", &err),
        }
    } else {
        server.stop(event_loop);
    }
    for (i, thread) in threads.into_iter().enumerate() {
        match thread.join() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => status = fail(&format!("loop {} failed", i + 1), &err),
            Err(_) => status = fail(&format!("loop {}", i + 1), &"panicked"),
        }
    }
    status
}

/// Builds loop `index` in `home` with its server listening on `addr`.
fn start(
    home: &'static Home,
    index: usize,
    addr: SocketAddr,
    reuse_port: bool,
) -> Result<(&'static mut Loop, Box<Server>), statio::Error> {
    let event_loop = home.event_loop.init(Config::new())?;
    event_loop.attach_channel(&home.control)?;
    // Taken here, on the loop's own thread, as its pool is: see `OneThread`.
    let mut server = Box::new(Server::new(home.pool.take(), &mut home.table.take().0));
    server.set_index(index);
    server.listen(event_loop, addr, reuse_port)?;
    Ok((event_loop, server))
}

/// Loop `index` (1 and up), on its own thread: start, say so on `ready` (and drop it,
/// so that `main` stops waiting once every loop has spoken), run, print the marks.
fn run_other(
    home: &'static Home,
    index: usize,
    addr: SocketAddr,
    ready: mpsc::Sender<Result<(), String>>,
) -> Result<(), statio::Error> {
    let (event_loop, mut server) = match start(home, index, addr, true) {
        Ok(started) => started,
        Err(err) => {
            let _ = ready.send(Err(format!("cannot listen on {addr}: {err}")));
            return Ok(());
        }
    };
    let _ = ready.send(Ok(()));
    drop(ready);
    event_loop.run(&mut server)?;
    server.report(event_loop, "at shutdown");
    Ok(())
}

fn fail(what: &str, err: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("http: {what}: {err}");
    ExitCode::FAILURE
}
