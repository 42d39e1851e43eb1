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
//! Built the documented way, as `examples/echo` is: a `SourceTable` owns the
//! connections, an `Acceptor` takes them and pauses when descriptors run out (resuming
//! on a timer or when a connection closes), and each connection is read into one shared
//! scratch buffer and echoed at once; only what a write leaves over moves into a buffer
//! lent from a `BufPool`, and that connection is not read again until the buffer has
//! drained and gone back.
//!
//! Memory: everything the server keeps lives in one zeroed `static` (`.bss`: no bytes
//! in the file, no resident page until written), see [`Memory`]. A connection costs
//! its table slot (8 bytes) and the loop's registry slot (8 bytes), whether idle or
//! after echoing: buffers are resident only while lent.
//!
//! Behaviour: a connection with bytes in flight (a partial write) waits for writable
//! and is not read; the pool empty, a connection is not read (a buffer is lent before
//! each read, so no read byte lacks a place) and goes quiet (oneshot) until a buffer
//! returns. EOF or an error closes it. With the table full a new connection is accepted
//! and closed at once (its client sees EOF). `SIGPIPE` is ignored (sockets use
//! `MSG_NOSIGNAL` anyway); a panic aborts.
//!
//! `no_std` applies where panics abort, as in the `min-size` profile above and any
//! `panic = "abort"` build. Built with unwinding panics (the workspace's `dev`
//! profile, for `cargo clippy`/`cargo doc --workspace`) it links std instead, because
//! rustc refuses a `no_std` binary that unwinds; the code is the same either way.
#![cfg_attr(panic = "abort", no_std)]
#![no_main]

use core::ffi::{CStr, c_char, c_int, c_void};
use core::mem::MaybeUninit;
use core::net::{IpAddr, SocketAddr};

use static_cell::ConstStaticCell;
use statio::buf::{Buf, BufPool, LentBuf, MutBuf, RingBuf};
use statio::net::{TcpListener, TcpStream};
use statio::{
    Accepted, Acceptor, Config, EventLoop, Handler, Interest, LoopCell, PollOpt, Ready,
    SourceTable, Token,
};

/// Connections at once: tokens `0..CONNS` are the table's.
const CONNS: usize = 1024;
/// Tokens: the table's and the listener's.
const SOURCES: usize = CONNS + 1;
const LISTENER: Token = Token(CONNS);
/// Events taken per turn.
const EVENTS: usize = 64;
/// Buffers in the pool: bytes in flight for up to 64 connections at once.
const BUFS: usize = 64;
/// Bytes of a pooled buffer: a `RingBuf` keeps two `usize`s after its bytes, so a
/// ring of 4,080 takes a page's worth; the scratch buffer is as large, so any leftover
/// of one read fits one buffer.
const BUF: usize = 4096 - 2 * size_of::<usize>();
const DEFAULT_ADDR: &str = "127.0.0.1:7878";

type Loop = EventLoop<Echo, SOURCES, 1, EVENTS>;
type Pool = BufPool<RingBuf<BUF>, BUFS>;

const _: () = assert!(
    size_of::<RingBuf<BUF>>() == 4096,
    "a pooled buffer is 4 KiB"
);

/// All the server's memory, in one zeroed `static`: in `.bss`, so a page becomes
/// resident only when something writes to it. Fields in this order (`repr(C)`): what
/// every connection writes first, packed together, then what is written only while
/// bytes are in flight, so that the pages 1,000 connections touch are few:
///
/// - `event_loop`: `LoopCell::init` writes only the loop's non-zero fields, and a
///   token's registry slot (8 bytes) is written when it is registered.
/// - `conns`: the table, 8 bytes a slot, written as connections come and go.
/// - `starved`: one bit per slot: not read for want of a buffer.
/// - `scratch`: every read goes through it (a short message touches its first page).
/// - `pending`: per connection, whether it holds a lent buffer (a bitmap) and the
///   buffer; a slot is written only when a write comes up short.
/// - `pool`: its buffers, touched only while lent (LIFO reuse keeps the few in use the
///   same ones), then its counters, written by every lend.
#[repr(C)]
struct Memory {
    event_loop: LoopCell<Loop>,
    conns: SourceTable<TcpStream, (), CONNS>,
    starved: [u64; CONNS / 64],
    scratch: [u8; BUF],
    pending: PendingBufs,
    pool: Pool,
}

type Lent = LentBuf<'static, RingBuf<BUF>, BUFS>;

/// Per connection, the lent buffer holding its unsent bytes, if any: the buffers in
/// `MaybeUninit` slots (zero bytes when empty) and a bitmap of which are set. An array
/// of `Option<LentBuf>` would not do: its `None` is not zero bytes (the niche is the
/// buffer's `bool`), so the `static` would go to `.data`, 300 KiB of file.
#[repr(C)]
struct PendingBufs {
    set: [u64; CONNS / 64],
    bufs: [MaybeUninit<Lent>; CONNS],
}

impl PendingBufs {
    fn is_set(&self, slot: usize) -> bool {
        self.set[slot / 64] & (1 << (slot % 64)) != 0
    }

    /// Keeps `buf` for `slot`, which holds none.
    fn put(&mut self, slot: usize, buf: Lent) {
        debug_assert!(!self.is_set(slot));
        self.bufs[slot].write(buf);
        self.set[slot / 64] |= 1 << (slot % 64);
    }

    fn get_mut(&mut self, slot: usize) -> Option<&mut Lent> {
        // SAFETY: a set bit means `put` wrote the slot and `take` has not read it since.
        self.is_set(slot)
            .then(|| unsafe { self.bufs[slot].assume_init_mut() })
    }

    /// Takes `slot`'s buffer out (to drop it: back to the pool).
    fn take(&mut self, slot: usize) -> Option<Lent> {
        if !self.is_set(slot) {
            return None;
        }
        self.set[slot / 64] &= !(1 << (slot % 64));
        // SAFETY: as in `get_mut`; the bit is cleared first, so it is read once.
        Some(unsafe { self.bufs[slot].assume_init_read() })
    }
}

/// [`Memory`] for the program's one thread. The pool is not `Sync` (one loop lends and
/// returns its buffers), so the lent buffers that borrow it are not `Send`, and a
/// `ConstStaticCell` holds only `Send` values.
#[repr(transparent)]
struct OneThread<T>(T);

// SAFETY: this program never starts a thread: the memory is taken (once) and used by
// the thread that runs `main`, the only one there is.
unsafe impl<T> Send for OneThread<T> {}

static MEMORY: ConstStaticCell<OneThread<Memory>> = ConstStaticCell::new(OneThread(Memory {
    event_loop: LoopCell::new(),
    conns: SourceTable::new(),
    starved: [0; CONNS / 64],
    scratch: [0; BUF],
    pending: PendingBufs {
        set: [0; CONNS / 64],
        bufs: [const { MaybeUninit::zeroed() }; CONNS],
    },
    pool: Pool::new(),
}));

/// The server: small itself, on `main`'s stack; what it borrows is [`MEMORY`]'s.
struct Echo {
    acceptor: Acceptor<TcpListener>,
    pool: &'static Pool,
    scratch: &'static mut [u8; BUF],
    pending: &'static mut PendingBufs,
    conns: &'static mut SourceTable<TcpStream, (), CONNS>,
    starved: &'static mut [u64; CONNS / 64],
    /// Connections waiting for a buffer.
    waiting: usize,
}

impl Echo {
    fn accept(&mut self, event_loop: &mut Loop) {
        // Bounded: a level-triggered listener reports the rest next turn.
        for _ in 0..EVENTS {
            let stream = match self.acceptor.accept(event_loop, || ()) {
                Accepted::Stream(stream, _) => stream,
                Accepted::Failed(_) => continue,
                Accepted::Empty | Accepted::Paused(_) => return,
            };
            // Full: the stream comes back in `Rejected` and is dropped, closing it.
            let _ = self
                .conns
                .insert(event_loop, stream, (), Interest::READABLE, PollOpt::level());
        }
    }

    fn is_starved(&self, slot: usize) -> bool {
        self.starved[slot / 64] & (1 << (slot % 64)) != 0
    }

    fn set_starved(&mut self, slot: usize, on: bool) {
        let (word, bit) = (&mut self.starved[slot / 64], 1 << (slot % 64));
        if (*word & bit != 0) != on {
            *word ^= bit;
            if on {
                self.waiting += 1;
            } else {
                self.waiting -= 1;
            }
        }
    }

    fn close(&mut self, event_loop: &mut Loop, token: Token) {
        if self.conns.remove(event_loop, token).is_none() {
            return;
        } // Dropping the stream closes it.
        self.set_starved(token.0, false);
        let returned = self.pending.take(token.0).is_some();
        let _ = self.acceptor.descriptor_freed(event_loop);
        if returned {
            self.wake_one(event_loop);
        }
    }

    /// A buffer returned: re-arm one connection that waits for one (a scan of the
    /// bitmap, 16 words, only while one waits).
    fn wake_one(&mut self, event_loop: &mut Loop) {
        if self.waiting == 0 {
            return;
        }
        let Some(slot) = (0..CONNS).find(|&slot| self.is_starved(slot)) else {
            return;
        };
        self.set_starved(slot, false);
        let token = Token(slot);
        if self
            .conns
            .reregister(event_loop, token, Interest::READABLE, PollOpt::level())
            .is_err()
        {
            self.close(event_loop, token);
        }
    }

    /// Reads once and echoes; returns the interest needed next, `None` to close.
    fn read(&mut self, token: Token) -> Option<Interest> {
        let (stream, ()) = self.conns.get(token)?;
        let Ok(mut spare) = self.pool.lend() else {
            self.set_starved(token.0, true);
            return Some(Interest::READABLE);
        };
        let n = match stream.try_read(&mut self.scratch[..]) {
            Ok(Some(0)) | Err(_) => return None,
            Ok(Some(n)) => n,
            Ok(None) => return Some(Interest::READABLE),
        };
        let mut written = 0;
        while written < n {
            match stream.try_write(&self.scratch[written..n]) {
                Ok(Some(w)) => written += w,
                Ok(None) => break,
                Err(_) => return None,
            }
        }
        if written == n {
            return Some(Interest::READABLE); // `spare` goes back untouched
        }
        // Cannot fail: the leftover is at most `BUF`, the empty buffer's size.
        let _ = spare.try_write_all(&self.scratch[written..n]);
        self.pending.put(token.0, spare);
        Some(Interest::WRITABLE)
    }

    /// Writes the pending bytes; returns the interest needed next, `None` to close.
    fn flush(&mut self, event_loop: &mut Loop, token: Token) -> Option<Interest> {
        let (stream, ()) = self.conns.get(token)?;
        let pending = self.pending.get_mut(token.0)?;
        while pending.has_remaining() {
            match stream.try_write_buf(pending) {
                Ok(Some(_)) => {}
                Ok(None) => return Some(Interest::WRITABLE),
                Err(_) => return None,
            }
        }
        drop(self.pending.take(token.0)); // back to the pool
        self.wake_one(event_loop);
        Some(Interest::READABLE)
    }
}

impl Handler for Echo {
    type Timeout = ();
    type Message = ();
    type Loop = Loop;

    fn timeout(&mut self, event_loop: &mut Loop, (): ()) {
        // Refused: still paused, with a new timer.
        let _ = self.acceptor.resume(event_loop, || ());
    }

    fn ready(&mut self, event_loop: &mut Loop, token: Token, _: Ready) {
        if token == LISTENER {
            return self.accept(event_loop);
        }
        if !self.conns.contains(token) {
            return;
        }
        let was_writing = self.pending.is_set(token.0);
        let was_starved = self.is_starved(token.0);
        let next = if was_writing {
            self.flush(event_loop, token)
        } else {
            self.read(token)
        };
        let Some(interest) = next else {
            return self.close(event_loop, token);
        };
        if !self.conns.contains(token) {
            return;
        }
        let starved = self.is_starved(token.0);
        if (was_writing, was_starved) == (interest.is_writable(), starved) {
            return;
        }
        let opt = if starved {
            PollOpt::level().with_oneshot()
        } else {
            PollOpt::level()
        };
        if self
            .conns
            .reregister(event_loop, token, interest, opt)
            .is_err()
        {
            self.close(event_loop, token);
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

/// Raises the descriptor limit to what the table needs, or says that accepting pauses
/// beyond the limit.
fn check_descriptors() {
    // The table, plus the listener, the selector, stdio and a few spare.
    let wanted = CONNS as u64 + 16;
    match statio::limits::raise_nofile(wanted) {
        Ok(got) if got.soft >= wanted => {}
        Ok(_) => say(
            2,
            &[b"nostd_echo: fewer descriptors allowed than the table holds: accepting pauses at the limit\n"],
        ),
        Err(_) => say(2, &[b"nostd_echo: cannot read the descriptor limit\n"]),
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
        event_loop,
        conns,
        starved,
        scratch,
        pending,
        pool,
    } = &mut MEMORY.take().0;
    let Ok(event_loop) = LoopCell::init(event_loop, Config::new()) else {
        say(2, &[b"nostd_echo: cannot create the event loop\n"]);
        return 1;
    };
    let Ok(listener) = TcpListener::bind(addr) else {
        say(2, &[b"nostd_echo: cannot listen on ", arg, b"\n"]);
        return 1;
    };
    let Ok(acceptor) = Acceptor::register(listener, event_loop, LISTENER) else {
        return 1;
    };
    check_descriptors();
    let mut echo = Echo {
        acceptor,
        pool,
        scratch,
        pending,
        conns,
        starved,
        waiting: 0,
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
