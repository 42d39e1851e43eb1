//! statio's echo server with no `std` and no allocator: `nostd_echo [ADDR]`.
//!
//! Listens on `ADDR` (default `127.0.0.1:7878`) and sends every byte back, like
//! `examples/echo`, but `#![no_std]` and `#![no_main]`: it links libc (for the
//! syscalls and the C start-up) and nothing that could allocate; there is no global
//! allocator, so any allocation would be a link error. Build it small and static:
//!
//! ```sh
//! cargo build -p nostd-echo --profile min-size --target x86_64-unknown-linux-musl
//! ```
//!
//! Memory: the loop lives in a `StaticCell`, the connection table in a
//! `ConstStaticCell`, and each connection's 2 KiB `RingBuf` in a separate static
//! array in `.bss`. The table keeps 8 bytes and a bit per connection; a ring's page becomes
//! resident only once its connection sends bytes, so idle connections cost their
//! table entry and the loop's registry slot, nothing more.
//!
//! Behaviour: a connection is read while its ring has room and written while the
//! ring holds bytes (level-triggered interest follows the ring: full, writable only;
//! empty, readable only), so a client that does not read stalls only itself. On EOF
//! the ring is drained, then the connection closes; on an error it closes at once. With
//! the table full a new connection is accepted and closed at once (its client sees
//! EOF). `SIGPIPE` is ignored (sockets use `MSG_NOSIGNAL` anyway); a panic aborts.
//!
//! `no_std` applies where panics abort, as in the `min-size` profile above and any
//! `panic = "abort"` build. Built with unwinding panics (the workspace's `dev`
//! profile, for `cargo clippy`/`cargo doc --workspace`) it links std instead, because
//! rustc refuses a `no_std` binary that unwinds; the code is the same either way.
#![cfg_attr(panic = "abort", no_std)]
#![no_main]

use core::ffi::{CStr, c_char, c_int};
use core::net::SocketAddr;

use static_cell::ConstStaticCell;
use statio::buf::{Buf, MutBuf, RingBuf};
use statio::net::{TcpListener, TcpStream};
use statio::{Config, EventLoop, Handler, Interest, LoopCell, PollOpt, Ready, Token};

/// Tokens 0..SOURCES: the listener is 0, connections 1..SOURCES.
const SOURCES: usize = 1025;
/// Events taken per turn.
const EVENTS: usize = 64;
/// Bytes of ring per connection.
const RING: usize = 2048;
const LISTENER: Token = Token(0);
const DEFAULT_ADDR: &str = "127.0.0.1:7878";

type Loop = EventLoop<Echo, SOURCES, 0, EVENTS>;

/// The server: small itself; its tables are `static`s it borrows, built at compile
/// time, so none is ever moved through the stack.
struct Echo {
    listener: Option<TcpListener>,
    /// Each connection's stream (8 bytes, `None` all zeros); its ring lives apart.
    conns: &'static mut [Option<TcpStream>; SOURCES],
    /// One bit per slot: the peer shut down writing; drain the ring, then close.
    eof: [u64; SOURCES.div_ceil(64)],
    /// Slots freed by closed connections, to reuse before `fresh`.
    free: &'static mut [u16; SOURCES],
    free_len: usize,
    /// Slots `fresh..SOURCES` were never used (slot 0 is the listener's).
    fresh: usize,
    rings: &'static mut [RingBuf<RING>; SOURCES],
}

// All zeros in .bss; `LoopCell::init` builds the loop in place (no copy through the
// stack) and writes only its few non-zero fields, so the registry's pages become
// resident as connections arrive, and the empty timer wheel's never do.
static LOOP: LoopCell<Loop> = LoopCell::new();
// All three are all zeros, so they sit in .bss: no bytes in the file, and no resident
// page until touched.
static CONNS: ConstStaticCell<[Option<TcpStream>; SOURCES]> =
    ConstStaticCell::new([const { None }; SOURCES]);
static FREE: ConstStaticCell<[u16; SOURCES]> = ConstStaticCell::new([0; SOURCES]);
static RINGS: ConstStaticCell<[RingBuf<RING>; SOURCES]> =
    ConstStaticCell::new([const { RingBuf::new() }; SOURCES]);

/// What a connection waits for, given its ring: room to read into, bytes to write.
fn interest_of(ring: &RingBuf<RING>, eof: bool) -> Interest {
    match (ring.has_remaining_mut() && !eof, ring.has_remaining()) {
        (true, true) => Interest::BOTH,
        (false, true) => Interest::WRITABLE,
        _ => Interest::READABLE,
    }
}

impl Echo {
    fn accept(&mut self, event_loop: &mut Loop) {
        let Some(listener) = &self.listener else {
            return;
        };
        // Bounded: a level-triggered listener reports the rest next turn.
        for _ in 0..EVENTS {
            let stream = match listener.accept() {
                Ok(Some((stream, _))) => stream,
                _ => return,
            };
            let slot = if self.free_len > 0 {
                self.free_len -= 1;
                usize::from(self.free[self.free_len])
            } else if self.fresh < SOURCES {
                self.fresh += 1;
                self.fresh - 1
            } else {
                continue; // Full: dropping the stream closes it; its client sees EOF.
            };
            if event_loop.register(&stream, Token(slot)).is_err() {
                // Back on the free list (slots are below SOURCES, so fit in a u16).
                self.free[self.free_len] = slot as u16;
                self.free_len += 1;
                continue;
            }
            self.conns[slot] = Some(stream);
        }
    }

    fn is_eof(&self, slot: usize) -> bool {
        self.eof[slot / 64] & (1 << (slot % 64)) != 0
    }

    fn set_eof(&mut self, slot: usize, on: bool) {
        if on {
            self.eof[slot / 64] |= 1 << (slot % 64);
        } else {
            self.eof[slot / 64] &= !(1 << (slot % 64));
        }
    }

    fn close(&mut self, event_loop: &mut Loop, slot: usize) {
        if let Some(stream) = self.conns[slot].take() {
            let _ = event_loop.deregister(&stream, Token(slot));
            // Reading an untouched ring maps no page; only a used one is written.
            if !self.rings[slot].is_empty() {
                self.rings[slot].clear();
            }
            self.set_eof(slot, false);
            self.free[self.free_len] = slot as u16;
            self.free_len += 1;
        }
    }

    /// Moves bytes for connection `slot`; `Err` when it should close.
    fn pump(&mut self, slot: usize, ready: Ready) -> Result<(), ()> {
        let mut eof = self.is_eof(slot);
        let Some(stream) = &self.conns[slot] else {
            return Ok(());
        };
        let ring = &mut self.rings[slot];
        let readable =
            ready.is_readable() || ready.is_read_closed() || ready.is_hup() || ready.is_error();
        if readable && !eof && ring.has_remaining_mut() {
            match stream.try_read_buf(ring) {
                Ok(Some(0)) => eof = true,
                Ok(_) => {}
                Err(_) => return Err(()),
            }
        }
        while ring.has_remaining() {
            match stream.try_write_buf(ring) {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return Err(()),
            }
        }
        if eof && !ring.has_remaining() {
            return Err(());
        }
        self.set_eof(slot, eof);
        Ok(())
    }
}

impl Handler for Echo {
    type Timeout = ();
    type Message = ();
    type Loop = Loop;

    fn ready(&mut self, event_loop: &mut Loop, token: Token, ready: Ready) {
        if token == LISTENER {
            return self.accept(event_loop);
        }
        let slot = token.0;
        if self.conns[slot].is_none() {
            return;
        }
        // The ring changes only here, so its state now is what the last visit
        // registered interest for.
        let before = interest_of(&self.rings[slot], self.is_eof(slot));
        if self.pump(slot, ready).is_err() {
            return self.close(event_loop, slot);
        }
        let after = interest_of(&self.rings[slot], self.is_eof(slot));
        let Some(stream) = &self.conns[slot] else {
            return;
        };
        if after != before
            && event_loop
                .reregister(stream, token, after, PollOpt::level())
                .is_err()
        {
            self.close(event_loop, slot);
        }
    }
}

// On musl the libc crate leaves linking the C library to std; with no std, ask for it
// here: statically, as the musl target links by default (crt-static).
#[cfg(all(panic = "abort", target_env = "musl", target_feature = "crt-static"))]
#[link(name = "c", kind = "static", modifiers = "-bundle")]
unsafe extern "C" {}

/// Writes `bytes` to standard error (2) or output (1), ignoring failures.
fn say(fd: c_int, parts: &[&[u8]]) {
    for part in parts {
        // SAFETY: `part` is valid for reads of its length for the call.
        let _ = unsafe { libc::write(fd, part.as_ptr().cast(), part.len()) };
    }
}

/// The C entry point: libc's start-up calls it with the arguments.
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // A write to a closed pipe would otherwise kill the process (sockets here use
    // MSG_NOSIGNAL, but nothing should depend on every write path remembering it).
    // SAFETY: installing SIG_IGN for SIGPIPE has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };

    let arg: &[u8] = if argc > 1 {
        // SAFETY: C's start-up passes `argc` valid pointers to NUL-terminated strings
        // in `argv`, alive for the whole run.
        unsafe { CStr::from_ptr(*argv.add(1)) }.to_bytes()
    } else {
        DEFAULT_ADDR.as_bytes()
    };
    let Some(addr) = core::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse::<SocketAddr>().ok())
    else {
        say(
            2,
            &[
                b"nostd_echo: bad address ",
                arg,
                b" (expected e.g. 127.0.0.1:7878)\n",
            ],
        );
        return 2;
    };
    let Ok(event_loop) = LOOP.init(Config::new()) else {
        say(2, &[b"nostd_echo: cannot create the event loop\n"]);
        return 1;
    };
    let Ok(listener) = TcpListener::bind(addr) else {
        say(2, &[b"nostd_echo: cannot listen on ", arg, b"\n"]);
        return 1;
    };
    if event_loop.register(&listener, LISTENER).is_err() {
        return 1;
    }
    let mut echo = Echo {
        listener: Some(listener),
        conns: CONNS.take(),
        free: FREE.take(),
        eof: [0; SOURCES.div_ceil(64)],
        free_len: 0,
        fresh: 1,
        rings: RINGS.take(),
    };
    say(1, &[b"nostd_echo: listening on ", arg, b"\n"]);
    match event_loop.run(&mut echo) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

#[cfg(panic = "abort")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: abort(3) has no preconditions; it never returns.
    unsafe { libc::abort() }
}
