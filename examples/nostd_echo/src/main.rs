//! statio's echo server with no `std` and no allocator: `nostd_echo [ADDR]`.
//!
//! Listens on `ADDR` (`a.b.c.d:port` or `[v6]:port`, default `127.0.0.1:7878`) and
//! sends every byte back, like `examples/echo`, but `#![no_std]` and `#![no_main]`: it
//! links libc (for the syscalls and the C start-up) and nothing that could allocate;
//! there is no global allocator, so any allocation would be a link error. Build it
//! small and static (`build.rs` adds link flags that save pages there):
//!
//! ```sh
//! cargo build -p nostd-echo --profile min-size --target x86_64-unknown-linux-musl
//! ```
//!
//! Memory: everything the server keeps lives in one zeroed, page-aligned `static`
//! (`.bss`: no bytes in the file, no resident page until written), laid out so that
//! 1,000 idle connections touch as few pages as possible (see [`Memory`]): a connection
//! table of 4-byte entries that fills exactly one page, the loop (whose registry takes
//! 8 bytes a token), and each connection's 2 KiB ring, half a page, touched only once
//! its connection sends bytes. Idle connections cost their table entry and the loop's
//! registry slot, nothing more.
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

use core::ffi::{CStr, c_char, c_int, c_void};
use core::mem::ManuallyDrop;
use core::net::{IpAddr, SocketAddr};

use static_cell::ConstStaticCell;
use statio::buf::{Buf, MutBuf, RingBuf};
use statio::net::{TcpListener, TcpStream};
use statio::{Config, EventLoop, Fd, Handler, Interest, LoopCell, PollOpt, Ready, Token};

/// Connections at once. 1,024 4-byte table entries are exactly one page.
const CONNS: usize = 1024;
/// Tokens: the listener is 0, connection slot `i` is `i + 1`.
const SOURCES: usize = CONNS + 1;
/// Events taken per turn.
const EVENTS: usize = 64;
/// Bytes of ring per connection: a `RingBuf` keeps two `usize`s after its bytes, so
/// 2,032 makes each ring exactly 2 KiB, two to a page (see [`Ring`]).
const RING: usize = 2048 - 2 * size_of::<usize>();
const LISTENER: Token = Token(0);
const DEFAULT_ADDR: &str = "127.0.0.1:7878";

type Loop = EventLoop<Echo, SOURCES, 0, EVENTS>;

/// A connection's ring, aligned to its size: a ring in use makes one page resident, never
/// the two a ring straddling a page boundary would.
#[repr(C, align(2048))]
struct Ring(RingBuf<RING>);

const _: () = assert!(size_of::<Ring>() == 2048, "a Ring is half a page");

/// The connection table: each slot's stream as its descriptor, 4 bytes (an
/// `Option<TcpStream>` is 8: the descriptor has no niche), so 1,024 slots fill one page.
///
/// An entry is `!fd` for an open stream the table owns and 0 for none: descriptors are
/// non-negative, so `!fd` is never 0, and an empty table is zero bytes (`.bss`).
struct Conns([i32; CONNS]);

const _: () = assert!(size_of::<Conns>() == 4096, "the table is one page");

impl Conns {
    fn is_vacant(&self, slot: usize) -> bool {
        self.0[slot] == 0
    }

    /// Gives the table `stream` to own in the vacant `slot`.
    fn insert(&mut self, slot: usize, stream: TcpStream) {
        debug_assert!(self.is_vacant(slot));
        self.0[slot] = !stream.into_fd().into_raw();
    }

    /// Calls `f` with the stream in `slot`, if there is one.
    fn with<R>(&self, slot: usize, f: impl FnOnce(&TcpStream) -> R) -> Option<R> {
        let raw = self.0[slot];
        // SAFETY: a non-zero entry is `!fd` of an open descriptor the table owns (put
        // there by `insert`, removed only by `take`); `ManuallyDrop` lends it to `f`
        // without closing it, and `f` gets only a `&TcpStream`, so cannot take it.
        let stream = (raw != 0)
            .then(|| ManuallyDrop::new(TcpStream::from(unsafe { Fd::from_raw(!raw) })))?;
        Some(f(&stream))
    }

    /// Takes the stream out of `slot`, leaving it vacant.
    fn take(&mut self, slot: usize) -> Option<TcpStream> {
        let raw = core::mem::replace(&mut self.0[slot], 0);
        // SAFETY: as in `with`; the entry is cleared first, so the table gives up the
        // descriptor it owned to exactly one `TcpStream`.
        (raw != 0).then(|| TcpStream::from(unsafe { Fd::from_raw(!raw) }))
    }
}

/// All the server's memory, in one zeroed `static`: in `.bss`, so a page becomes
/// resident only when something writes to it. Fields in this order (`repr(C)`), from a
/// page boundary ([`PageAligned`]):
///
/// - `rings`: 2 MiB, ring `i` the half page at `i * 2 KiB`; idle ones are never touched.
/// - `conns`: at 2 MiB, so exactly the next page.
/// - `event_loop`: `LoopCell::init` writes only the loop's non-zero fields, and a
///   token's registry slot is written when it is registered, so the loop's resident
///   pages are those of the registry's used slots and its few other fields.
/// - `eof`: a few words after the loop, on the loop's last page, which is resident
///   anyway; so is `ConstStaticCell`'s `taken` flag, right after this struct (rounded
///   up to 2 KiB, `rings`' alignment, not to a page). A table in a cell of its own
///   would instead spend a page on that flag alone, and one not page-aligned would
///   straddle pages.
#[repr(C)]
struct Memory {
    rings: [Ring; CONNS],
    conns: Conns,
    event_loop: LoopCell<Loop>,
    /// One bit per slot: the peer shut down writing; drain the ring, then close.
    eof: [u64; CONNS / 64],
}

/// Places its content at a page boundary.
#[repr(C, align(4096))]
struct PageAligned<T>(T);

static MEMORY: PageAligned<ConstStaticCell<Memory>> = PageAligned(ConstStaticCell::new(Memory {
    rings: [const { Ring(RingBuf::new()) }; CONNS],
    conns: Conns([0; CONNS]),
    event_loop: LoopCell::new(),
    eof: [0; CONNS / 64],
}));

/// The server: small itself, on `main`'s stack; the tables it borrows are [`MEMORY`]'s.
struct Echo {
    /// Kept apart from the table: its token is 0, not a slot's.
    listener: TcpListener,
    conns: &'static mut Conns,
    rings: &'static mut [Ring; CONNS],
    eof: &'static mut [u64; CONNS / 64],
    /// Where the search for a vacant slot starts: after the last slot taken.
    next: usize,
}

/// What a connection waits for, given its ring: room to read into, bytes to write.
fn interest_of(ring: &RingBuf<RING>, eof: bool) -> Interest {
    match (ring.has_remaining_mut() && !eof, ring.has_remaining()) {
        (true, true) => Interest::BOTH,
        (false, true) => Interest::WRITABLE,
        _ => Interest::READABLE,
    }
}

impl Echo {
    /// A vacant slot, if any: the table itself is the free list (a scan of one page
    /// at most, from after the last slot taken), so no other array is kept or touched.
    fn vacant_slot(&mut self) -> Option<usize> {
        let slot = (0..CONNS)
            .map(|i| (self.next + i) % CONNS)
            .find(|&slot| self.conns.is_vacant(slot))?;
        self.next = (slot + 1) % CONNS;
        Some(slot)
    }

    fn accept(&mut self, event_loop: &mut Loop) {
        // Bounded: a level-triggered listener reports the rest next turn.
        for _ in 0..EVENTS {
            let stream = match self.listener.accept() {
                Ok(Some((stream, _))) => stream,
                _ => return,
            };
            // Full: dropping the stream closes it; its client sees EOF.
            let Some(slot) = self.vacant_slot() else {
                continue;
            };
            if event_loop.register(&stream, Token(slot + 1)).is_ok() {
                self.conns.insert(slot, stream);
            }
        }
    }

    fn is_eof(&self, slot: usize) -> bool {
        self.eof[slot / 64] & (1 << (slot % 64)) != 0
    }

    fn set_eof(&mut self, slot: usize, on: bool) {
        let (word, bit) = (&mut self.eof[slot / 64], 1 << (slot % 64));
        // Written only on a change: an idle connection's never is.
        if (*word & bit != 0) != on {
            *word ^= bit;
        }
    }

    fn close(&mut self, event_loop: &mut Loop, slot: usize) {
        if let Some(stream) = self.conns.take(slot) {
            let _ = event_loop.deregister(&stream, Token(slot + 1));
            // Reading an untouched ring maps no page; only a used one is written.
            let ring = &mut self.rings[slot].0;
            if !ring.is_empty() {
                ring.clear();
            }
            self.set_eof(slot, false);
        } // Dropping `stream` closes it.
    }

    /// Moves bytes for connection `slot`; `Err` when it should close.
    fn pump(&mut self, slot: usize, ready: Ready) -> Result<(), ()> {
        let mut eof = self.is_eof(slot);
        let ring = &mut self.rings[slot].0;
        let readable =
            ready.is_readable() || ready.is_read_closed() || ready.is_hup() || ready.is_error();
        let pumped = self.conns.with(slot, |stream| {
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
            Ok(())
        });
        match pumped {
            None => return Ok(()),
            Some(Err(())) => return Err(()),
            Some(Ok(())) => {}
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
        let slot = token.0 - 1;
        if self.conns.is_vacant(slot) {
            return;
        }
        // The ring changes only here, so its state now is what the last visit
        // registered interest for.
        let before = interest_of(&self.rings[slot].0, self.is_eof(slot));
        if self.pump(slot, ready).is_err() {
            return self.close(event_loop, slot);
        }
        let after = interest_of(&self.rings[slot].0, self.is_eof(slot));
        if after == before {
            return;
        }
        let changed = self.conns.with(slot, |stream| {
            event_loop.reregister(stream, token, after, PollOpt::level())
        });
        if changed.is_some_and(|r| r.is_err()) {
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

unsafe extern "C" {
    /// POSIX `inet_pton(3)`: text to a binary address; 1 on success.
    fn inet_pton(af: c_int, src: *const c_char, dst: *mut c_void) -> c_int;
}

/// Parses `a.b.c.d:port` or `[v6]:port`.
///
/// With libc's `inet_pton` rather than core's `SocketAddr` parser, which is about 2 KiB
/// of code here, a tenth of the binary: enough that code and read-only data fit on four
/// pages instead of five, one page less resident. (It accepts the same addresses, less
/// IPv6 scope ids.)
fn parse_addr(arg: &[u8]) -> Option<SocketAddr> {
    let colon = arg.iter().rposition(|&b| b == b':')?;
    let (host, port) = (&arg[..colon], &arg[colon + 1..]);
    if port.is_empty() || port.len() > 5 || !port.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let port = port.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    let port = u16::try_from(port).ok()?;
    let (af, host) = match host {
        [b'[', v6 @ .., b']'] => (libc::AF_INET6, v6),
        _ => (libc::AF_INET, host),
    };
    // NUL-terminated copy; the longest IPv6 text is 45 bytes.
    let mut text = [0u8; 46];
    text.get_mut(..host.len())?.copy_from_slice(host);
    let mut bytes = [0u8; 16];
    // SAFETY: `text` is NUL-terminated (at most 45 bytes copied into 46 zeros) and
    // `bytes` has room for either family's address (4 or 16 bytes).
    let ok = unsafe { inet_pton(af, text.as_ptr().cast(), bytes.as_mut_ptr().cast()) };
    if ok != 1 {
        return None;
    }
    let ip = if af == libc::AF_INET6 {
        IpAddr::from(bytes)
    } else {
        IpAddr::from([bytes[0], bytes[1], bytes[2], bytes[3]])
    };
    Some(SocketAddr::new(ip, port))
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
    let Some(addr) = parse_addr(arg) else {
        say(
            2,
            &[
                b"nostd_echo: bad address ",
                arg,
                b" (expected e.g. 127.0.0.1:7878 or [::1]:7878)\n",
            ],
        );
        return 2;
    };
    let Memory {
        rings,
        conns,
        event_loop,
        eof,
    } = MEMORY.0.take();
    // `ConstStaticCell` keeps its flag after the value (rustc orders fields by
    // alignment), so the value starts at the page boundary `PageAligned` gives.
    debug_assert_eq!((&raw const *conns).addr() % 4096, 0, "the table is a page");
    let Ok(event_loop) = LoopCell::init(event_loop, Config::new()) else {
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
        listener,
        conns,
        rings,
        eof,
        next: 0,
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
