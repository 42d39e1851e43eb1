//! A TCP echo server on statio: `cargo run --release --example echo [ADDR [IDLE_SECS]]`.
//!
//! Listens on `ADDR` (default `127.0.0.1:7878`) and sends every byte back; closes a
//! connection that sends nothing for `IDLE_SECS` seconds (default 60). Try it with
//! `printf 'hi\n' | nc -q1 127.0.0.1 7878`. Up to 1,023 connections at once, each with a
//! 4 KiB buffer; when the table is full a new connection is closed at once (see
//! `server.rs` for the behaviour on each kind of input). No heap allocation: the loop
//! and the table live in `static` cells.

mod server;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use static_cell::{ConstStaticCell, StaticCell};

use server::{Echo, EchoLoop};

/// Sockets in the table, the listener included.
const SOCKETS: usize = 1024;
/// Bytes of buffer per connection.
const BUF: usize = 4096;

static LOOP: StaticCell<EchoLoop<SOCKETS, BUF>> = StaticCell::new();
// Built at compile time, so the 4 MiB table is never moved through the stack.
static SERVER: ConstStaticCell<Echo<SOCKETS, BUF>> = ConstStaticCell::new(Echo::new());

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    let addr: SocketAddr = match arg.as_deref().unwrap_or("127.0.0.1:7878").parse() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("echo: bad address {arg:?}: {err} (expected e.g. 127.0.0.1:7878)");
            return ExitCode::FAILURE;
        }
    };
    let idle = match std::env::args().nth(2).map(|secs| secs.parse::<f64>()) {
        None => server::IDLE_TIMEOUT,
        Some(Ok(secs)) if secs.is_finite() && secs > 0.0 => Duration::from_secs_f64(secs),
        Some(_) => {
            eprintln!("echo: the idle timeout must be a positive number of seconds");
            return ExitCode::FAILURE;
        }
    };
    let event_loop = match EchoLoop::new() {
        Ok(event_loop) => LOOP.init(event_loop),
        Err(err) => {
            eprintln!("echo: cannot create the event loop: {err}");
            return ExitCode::FAILURE;
        }
    };
    let server = SERVER.take();
    server.set_idle_timeout(idle);
    match server.listen(event_loop, addr) {
        Ok(local) => println!("echo: listening on {local}"),
        Err(err) => {
            eprintln!("echo: cannot listen on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(err) = event_loop.run(server) {
        eprintln!("echo: event loop failed: {err}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
