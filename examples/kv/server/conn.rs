//! One connection of the key-value server: read, serve, write, with no buffer of its
//! own unless bytes are in flight.
//!
//! Reads go into the server's one scratch buffer, replies into its one output buffer;
//! a connection borrows a [`LinearBuf`] from the pool only for what is left over: an
//! incomplete command (its next reads go straight into that buffer until the command
//! is whole) or the unsent tail of a reply. A connection whose commands and replies go
//! through at once holds no buffer.
//!
//! The read rule of statio's streams: a read shorter than the buffer proves the socket
//! drained, so the read that would block is never made. Where edges are native (epoll,
//! kqueue) a connection is registered edge-triggered for both directions, once: no
//! `epoll_ctl` per request. On the poll(2) port, whose edges are emulated and can miss
//! a request that arrives before the next poll saw the socket empty (statio's read-rule
//! table), it is level-triggered: readable while no reply waits, writable while one
//! does (one `reregister` each way, only when the socket's send buffer filled up).
//! While replies wait to be sent the connection is not read (nor its kept commands
//! run): a client that does not read its replies stops being served, and its bytes
//! wait in the kernel, where TCP's flow control slows it down.

use statio::buf::{Buf, BufPool, LentBuf, LinearBuf, MutBuf};
use statio::net::TcpStream;
use statio::{OsError, Ready};
use statio_protocols::Next;
use statio_protocols::kv::{Kv, Session};

/// Bytes of every buffer: the scratch, the output and the pooled ones (4 KiB each with
/// their two counters). Also the longest command (the `Kv`'s `COMMAND` limit), so
/// that an incomplete command always fits a pooled buffer with room to read into.
pub const BUF: usize = 4080;

/// A buffer of the pool.
pub type Block = LinearBuf<BUF>;

/// Full reads a connection gets per event (64 KiB) before the others' turn: a client
/// that pipelines faster than it is served cannot keep the loop to itself. Redis reads
/// one 16 KiB buffer per client per turn; this reads more per event, since each event
/// costs a `select` entry and the replies of a read go out in one write.
pub const READS_PER_EVENT: usize = 16;

/// The store the server holds: `KEYS` keys of up to 64 bytes, values of up to 256.
pub type Store<const KEYS: usize> = Kv<KEYS, 64, 256, BUF>;

/// What every connection of a loop shares: the store, the scratch buffers and the pool.
pub struct Shared<'p, const KEYS: usize, const BUFS: usize> {
    pub store: &'p mut Store<KEYS>,
    pub pool: &'p BufPool<Block, BUFS>,
    /// Where every read lands first.
    pub scratch: [u8; BUF],
    /// Where every reply is written first; empty between calls.
    pub out: Block,
    /// The loop's clock, in milliseconds, when the current event began.
    pub now_ms: u64,
    /// Reads a connection gets per event, at least 1 ([`READS_PER_EVENT`] unless set).
    pub reads_per_event: usize,
}

/// What a connection does after an event.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum After {
    /// Wait for the next event: nothing to read (the socket is drained) or nothing more
    /// can be sent until it is writable.
    Wait,
    /// Close it: end of stream, an error, `QUIT` or malformed input (its reply sent, as
    /// far as the socket took it at once).
    Close,
    /// Come back next turn: it had its reads for this event and the socket may hold
    /// more. Its replies are sent; the server re-arms it (on epoll and kqueue a
    /// re-registration reports what is pending again, after the other connections'
    /// events; poll(2)'s level-triggered registration reports it anyway).
    Yield,
}

/// A connection's state beside its socket (the table holds both): only while bytes
/// are in flight, a buffer or two.
pub struct Conn<'p, const BUFS: usize> {
    /// Input kept between events: an incomplete command, or commands not yet run
    /// because their replies had no room ([`Next::OutputFull`]).
    input: Option<LentBuf<'p, Block, BUFS>>,
    /// Replies the socket did not take yet.
    output: Option<LentBuf<'p, Block, BUFS>>,
    /// The socket may hold unread bytes: set by a readable event, cleared by a short
    /// read (the read rule) or a read that would block.
    unread: bool,
    /// `input` starts with a complete command to run once `output` is sent.
    stalled: bool,
    /// Close once `output` is sent (`QUIT`, a protocol error).
    closing: bool,
    /// What it negotiated with `HELLO`: RESP2 or RESP3.
    session: Session,
}

/// A fault that closes the connection: the socket's error, or no pooled buffer.
enum Fault {
    Os,
    PoolEmpty,
}

impl From<OsError> for Fault {
    fn from(_: OsError) -> Fault {
        Fault::Os
    }
}

impl<'p, const BUFS: usize> Conn<'p, BUFS> {
    /// A connection just accepted: it may have bytes already.
    pub const fn new() -> Self {
        Conn {
            input: None,
            output: None,
            unread: true,
            stalled: false,
            closing: false,
            session: Session::new(),
        }
    }

    /// Whether replies wait for the socket to be writable.
    pub fn writing(&self) -> bool {
        self.output.is_some()
    }

    /// Handles an event: sends what waits, then reads and serves until the socket is
    /// drained, the replies wait for room, or it had its reads for this event
    /// ([`After::Yield`]).
    pub fn ready<const KEYS: usize>(
        &mut self,
        stream: &TcpStream,
        ready: Ready,
        shared: &mut Shared<'p, KEYS, BUFS>,
    ) -> After {
        if ready.intersects(Ready::READABLE | Ready::READ_CLOSED | Ready::HUP | Ready::ERROR) {
            self.unread = true;
        }
        match self.pump(stream, shared) {
            Ok(after) => after,
            Err(Fault::Os | Fault::PoolEmpty) => After::Close,
        }
    }

    fn pump<const KEYS: usize>(
        &mut self,
        stream: &TcpStream,
        shared: &mut Shared<'p, KEYS, BUFS>,
    ) -> Result<After, Fault> {
        let mut reads = 0;
        loop {
            if let Some(output) = self.output.as_mut() {
                if stream.try_write_buf(output)?.is_none() || output.has_remaining() {
                    // The send buffer is full: its writable edge comes when it drains.
                    return Ok(After::Wait);
                }
                self.output = None;
            }
            if self.closing {
                return Ok(After::Close);
            }
            if self.stalled {
                self.serve_kept(stream, shared)?;
                continue;
            }
            if !self.unread {
                return Ok(After::Wait);
            }
            if reads == shared.reads_per_event.max(1) {
                return Ok(After::Yield);
            }
            reads += 1;
            match self.input.as_mut() {
                // An incomplete command: read the rest straight after it.
                Some(input) => {
                    let room = input.remaining_mut();
                    match stream.try_read_buf(input)? {
                        None => self.unread = false,
                        Some(0) => return Ok(After::Close),
                        Some(n) => {
                            self.unread = n == room;
                            self.serve_kept(stream, shared)?;
                        }
                    }
                }
                None => match stream.try_read(&mut shared.scratch)? {
                    None => self.unread = false,
                    Some(0) => return Ok(After::Close),
                    Some(n) => {
                        self.unread = n == BUF;
                        self.serve_scratch(stream, n, shared)?;
                    }
                },
            }
        }
    }

    /// Runs the commands in the first `n` bytes of the scratch buffer; keeps what
    /// was not run in a pooled buffer.
    fn serve_scratch<const KEYS: usize>(
        &mut self,
        stream: &TcpStream,
        n: usize,
        shared: &mut Shared<'p, KEYS, BUFS>,
    ) -> Result<(), Fault> {
        let input = &shared.scratch[..n];
        let served = (shared.store).serve(&mut self.session, input, &mut shared.out, shared.now_ms);
        let rest = &input[served.consumed..];
        if !rest.is_empty() && served.next != Next::Close {
            let mut kept = shared.pool.lend().map_err(|_| Fault::PoolEmpty)?;
            // Fits: the scratch is no larger than a pooled buffer.
            kept.write_truncating(rest);
            self.input = Some(kept);
        }
        self.after_serve(stream, served.next, shared)
    }

    /// Runs the commands kept in `self.input`; drops the buffer once it is empty.
    fn serve_kept<const KEYS: usize>(
        &mut self,
        stream: &TcpStream,
        shared: &mut Shared<'p, KEYS, BUFS>,
    ) -> Result<(), Fault> {
        let Some(input) = self.input.as_mut() else {
            self.stalled = false;
            return Ok(());
        };
        let served = shared.store.serve(
            &mut self.session,
            input.filled(),
            &mut shared.out,
            shared.now_ms,
        );
        input.advance(served.consumed);
        if !input.has_remaining() {
            self.input = None;
        }
        self.after_serve(stream, served.next, shared)
    }

    /// Sends the replies of one `serve` call, in one write; keeps what the socket did
    /// not take in a pooled buffer.
    fn after_serve<const KEYS: usize>(
        &mut self,
        stream: &TcpStream,
        next: Next,
        shared: &mut Shared<'p, KEYS, BUFS>,
    ) -> Result<(), Fault> {
        self.stalled = next == Next::OutputFull;
        self.closing = next == Next::Close;
        let kept = self.send(stream, shared);
        // Empty for the next connection, whatever happened to these replies.
        shared.out.clear();
        kept
    }

    fn send<const KEYS: usize>(
        &mut self,
        stream: &TcpStream,
        shared: &Shared<'p, KEYS, BUFS>,
    ) -> Result<(), Fault> {
        let replies = shared.out.filled();
        if replies.is_empty() {
            return Ok(());
        }
        let sent = stream.try_write(replies)?.unwrap_or(0);
        if sent < replies.len() {
            let mut unsent = shared.pool.lend().map_err(|_| Fault::PoolEmpty)?;
            // Fits: the output scratch is no larger than a pooled buffer.
            unsent.write_truncating(&replies[sent..]);
            self.output = Some(unsent);
        }
        Ok(())
    }
}
