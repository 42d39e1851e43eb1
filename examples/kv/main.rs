//! A RESP key-value server on statio: `cargo run --release --example kv -- [ADDR]`.
//!
//! Listens on `ADDR` (default `127.0.0.1:6380`, port 0 allowed) and prints
//! `kv: listening on ADDR` (the address bound) first. Speaks RESP2, RESP3 (after a
//! client's `HELLO 3`, as redis-py 8 and go-redis 9 send) and inline commands to
//! redis-cli, redis-benchmark and client libraries: PING, ECHO, GET, SET
//! (EX/PX/NX/XX), DEL, EXISTS, INCR/DECR/INCRBY, EXPIRE/PEXPIRE/TTL/PTTL, MGET/MSET,
//! DBSIZE, FLUSHALL, QUIT, HELLO, MULTI/EXEC/DISCARD/WATCH/UNWATCH, and what redis-cli
//! and redis-benchmark send first (`statio_protocols::kv` lists them and every error).
//! Try `redis-cli -p 6380 SET k v`.
//!
//! Fixed at compile time: 16,384 keys of up to 64 bytes with values of up to 256 bytes,
//! commands of up to 4,080 bytes, 1,022 connections (a new one is closed at once when
//! the table is full). Memory is spent on bytes in flight: a connection holds a pooled
//! 4 KiB buffer only while a command is incomplete, a transaction has commands queued
//! (they wait in that buffer: a transaction's commands total less than 4,080 bytes) or
//! a reply is unsent. No heap allocation: the loop, the table, the pool and the store
//! live in `static` cells, which sit in `.bss` until used.
//!
//! `SIGTERM` or `SIGINT` closes the listener and every connection, prints the marks
//! (each capacity's use now, at its peak, and its limit hits: docs/TUNING.md) to stderr
//! and exits 0; `SIGUSR1` prints them and goes on; `SIGHUP` is logged. Bad arguments:
//! a message and exit status 2.

#[path = "../common/one_thread.rs"]
mod one_thread;
mod server;

use std::net::SocketAddr;
use std::process::ExitCode;

use static_cell::{ConstStaticCell, StaticCell};
use statio::{Signals, SourceTable};

use one_thread::OneThread;
use server::conn::Store;
use server::{KvLoop, Pool, SIGNALS, Server, Table};

/// Connections at once.
const CONNS: usize = 1022;
/// The loop's tokens: the connections', the listener's and the signals'.
const SOURCES: usize = CONNS + 2;
/// Pooled buffers: two per connection, so none ever waits for one. Only those ever
/// lent at once are touched (the pool lends the most recently returned first).
const BUFFERS: usize = 2 * CONNS;
/// Keys in the store (a power of two).
const KEYS: usize = 16_384;
const DEFAULT_ADDR: &str = "127.0.0.1:6380";

type Loop = KvLoop<'static, CONNS, SOURCES, BUFFERS, KEYS>;

/// The pool at a page boundary, so that each 4 KiB buffer has pages of its own.
#[repr(align(4096))]
struct PagePool(Pool<BUFFERS>);

static POOL: ConstStaticCell<PagePool> = ConstStaticCell::new(PagePool(Pool::new()));
// Built at compile time, all zero bytes: the store is never moved through the stack.
static STORE: ConstStaticCell<Store<KEYS>> = ConstStaticCell::new(Store::new());
// The same for the connections' table: only the slots a connection used are resident.
static TABLE: ConstStaticCell<OneThread<Table<'static, CONNS, BUFFERS>>> =
    ConstStaticCell::new(OneThread(SourceTable::new()));
static LOOP: StaticCell<Loop> = StaticCell::new();
static SERVER: StaticCell<Server<'static, CONNS, SOURCES, BUFFERS, KEYS>> = StaticCell::new();

/// The address to listen on, from the arguments after the program's name.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<SocketAddr, String> {
    let addr = args.next();
    if let Some(extra) = args.next() {
        return Err(format!("unexpected argument {extra:?}"));
    }
    let text = addr.as_deref().unwrap_or(DEFAULT_ADDR);
    text.parse()
        .map_err(|err| format!("bad address {text:?}: {err} (expected e.g. {DEFAULT_ADDR})"))
}

fn main() -> ExitCode {
    let addr = match parse_args(std::env::args().skip(1)) {
        Ok(addr) => addr,
        Err(message) => {
            eprintln!("kv: {message}\nusage: kv [ADDR]");
            return ExitCode::from(2);
        }
    };
    // Before any thread exists: the signal source needs them blocked in every thread.
    // The mask is restored when `_mask` drops, at the end of `main`.
    let (_mask, signals) = match Signals::block(SIGNALS)
        .and_then(|mask| Signals::new(SIGNALS).map(|signals| (mask, signals)))
    {
        Ok(both) => both,
        Err(err) => {
            eprintln!("kv: cannot watch SIGTERM, SIGINT, SIGHUP and SIGUSR1: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Every connection needs a descriptor: raise the limit toward the table's size.
    let wanted = SOURCES as u64 + 16; // plus the selector's, stdio and a few spare
    match statio::limits::raise_nofile(wanted) {
        Ok(got) if got.soft >= wanted => {}
        Ok(got) => eprintln!(
            "kv: only {} descriptors (hard limit {}): accepting pauses when they run out",
            got.soft, got.hard
        ),
        Err(err) => eprintln!("kv: cannot read the descriptor limit: {err}"),
    }
    let event_loop = match Loop::new() {
        Ok(event_loop) => LOOP.init(event_loop),
        Err(err) => {
            eprintln!("kv: cannot create the event loop: {err}");
            return ExitCode::FAILURE;
        }
    };
    let server = SERVER.init(Server::new(
        &mut TABLE.take().0,
        STORE.take(),
        &POOL.take().0,
    ));
    match server.listen(event_loop, addr) {
        Ok(local) => println!("kv: listening on {local}"),
        Err(err) => {
            eprintln!("kv: cannot listen on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(err) = server.watch_signals(event_loop, signals) {
        eprintln!("kv: cannot watch signals: {err}");
        return ExitCode::FAILURE;
    }
    if let Err(err) = event_loop.run(server) {
        eprintln!("kv: event loop failed: {err}");
        return ExitCode::FAILURE;
    }
    server::marks::print(
        format_args!("kv: marks at shutdown"),
        &server.marks(event_loop),
    );
    ExitCode::SUCCESS
}
