//! A TCP echo server on statio: `cargo run --release --example echo [ADDR [IDLE_SECS]]`.
//!
//! Listens on `ADDR` (default `127.0.0.1:7878`) and sends every byte back; closes a
//! connection that sends nothing for `IDLE_SECS` seconds (default 60). Try it with
//! `printf 'hi\n' | nc -q1 127.0.0.1 7878`. Up to 10,000 connections at once; bytes
//! that cannot be sent at once wait in one of 1,024 pooled 4 KiB buffers (see
//! `server.rs` for the behaviour on each kind of input). SIGTERM or SIGINT closes
//! every connection, prints the marks (each capacity's use now, at its peak, and its
//! limit hits: docs/TUNING.md) to stderr and exits 0; SIGUSR1 prints them and goes
//! on; SIGHUP is logged. No heap allocation after start-up:
//! the loop, the table and the pool live in `static` cells (`.bss`).
//!
//! At start it compares the table with the descriptor limit (`RLIMIT_NOFILE`), raises
//! the soft limit as far as it may, and says what happens beyond it: accepting pauses
//! while descriptors are out, and resumes when a connection closes.
//!
//! Exit codes: 0 after a signal asked it to stop, 1 when it cannot start or the loop
//! fails, 2 for a bad argument.

mod args;
#[path = "../common/one_thread.rs"]
mod one_thread;
mod server;

use std::process::ExitCode;

use static_cell::ConstStaticCell;
use statio::{Config, LoopCell, Signals, limits};

use one_thread::OneThread;
use server::{Echo, EchoLoop, Pool, Table};

/// Connections at once.
const CONNS: usize = 10_000;
/// Tokens: the table's, the listener's, the signals'.
const SOURCES: usize = CONNS + 2;
/// Pooled buffers: bytes in flight for up to 1,024 connections at once (4 MiB).
const BUFS: usize = 1024;
/// Descriptors beyond the table: the listener, the selector, the signal source,
/// stdio, and a few spare.
const OTHER_FDS: u64 = 16;

type Server = Echo<CONNS, SOURCES, BUFS>;

static LOOP: LoopCell<EchoLoop<CONNS, SOURCES, BUFS>> = LoopCell::new();
static POOL: ConstStaticCell<Pool<BUFS>> = ConstStaticCell::new(Pool::new());
// All zero bytes (`SourceTable::new`), so in `.bss`: nothing in the file, never built
// on the stack, and only the slots used become resident.
static TABLE: ConstStaticCell<OneThread<Table<CONNS, BUFS>>> =
    ConstStaticCell::new(OneThread(Table::new()));

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1), server::IDLE_TIMEOUT) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("echo: {message}");
            eprintln!("usage: echo [ADDR [IDLE_SECS]]");
            return ExitCode::from(2);
        }
    };
    // Before any thread exists: signalfd needs the signals blocked in every thread.
    let _mask = match Signals::block(server::SIGNALS) {
        Ok(mask) => mask,
        Err(err) => {
            eprintln!("echo: cannot block signals: {err}");
            return ExitCode::FAILURE;
        }
    };
    check_descriptors();
    let event_loop = match LOOP.init(Config::new()) {
        Ok(event_loop) => event_loop,
        Err(err) => {
            eprintln!("echo: cannot create the event loop: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut server: Server = Echo::new(POOL.take(), &mut TABLE.take().0);
    let server = &mut server;
    server.set_idle_timeout(args.idle);
    let watched = match Signals::new(server::SIGNALS) {
        Ok(signals) => server
            .watch_signals(event_loop, signals)
            .map_err(|e| e.to_string()),
        Err(err) => Err(err.to_string()),
    };
    if let Err(err) = watched {
        eprintln!("echo: cannot watch signals: {err}");
        return ExitCode::FAILURE;
    }
    match server.listen(event_loop, args.addr) {
        Ok(local) => println!("echo: listening on {local}"),
        Err(err) => {
            eprintln!("echo: cannot listen on {}: {err}", args.addr);
            return ExitCode::FAILURE;
        }
    }
    if let Err(err) = event_loop.run(server) {
        eprintln!("echo: event loop failed: {err}");
        return ExitCode::FAILURE;
    }
    server::marks::print(
        format_args!("echo: marks at shutdown"),
        &server.stats(event_loop),
    );
    println!("echo: stopped, {} connections served", server.closed);
    ExitCode::SUCCESS
}

/// Raises the descriptor limit to what the table needs, or says what happens without.
fn check_descriptors() {
    let wanted = CONNS as u64 + OTHER_FDS;
    match limits::raise_nofile(wanted) {
        Ok(got) if got.soft >= wanted => {}
        Ok(got) => eprintln!(
            "echo: {} descriptors allowed (hard limit {}), the table holds {CONNS}: beyond about \
             {} connections, accepting pauses until one closes",
            got.soft,
            got.hard,
            got.soft.saturating_sub(OTHER_FDS)
        ),
        Err(err) => eprintln!("echo: cannot read the descriptor limit: {err}"),
    }
}
