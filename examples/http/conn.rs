//! One HTTP connection and what moves its bytes: read, answer with
//! `statio_protocols::http`, write, and keep only what could not go through at once.
//!
//! Bytes go through one scratch buffer per loop: a read lands in the scratch, the
//! complete requests in it are answered into the loop's output buffer, and that buffer
//! goes out in one write (pipelined responses coalesced). A connection borrows a
//! buffer from the loop's pool only for what is left: the start of an incomplete
//! request (`input`) or responses the socket did not take (`output`). One that has
//! neither, the usual case between requests, holds no buffer at all.
//!
//! The read rule: a read shorter than the buffer drained the stream socket, so the
//! read that would return `EAGAIN` is not made: a byte that arrives after it makes a
//! new edge (edge-triggered) or is reported next turn (level-triggered).

use statio::buf::{Buf, BufPool, LentBuf, LinearBuf, MutBuf};
use statio::net::{Shutdown, TcpStream};
use statio::{OsError, Registration};
use statio_protocols::Next;
use statio_protocols::http::Http;

use crate::timers::Phase;

/// Bytes of the scratch, the output buffer and every pooled buffer: 4 KiB with a
/// `LinearBuf`'s two counters, and room for a whole request and response of
/// `Limits::DEFAULT`.
pub const BUF: usize = 4080;

const _: () = assert!(
    statio_protocols::http::Limits::DEFAULT.request() <= BUF
        && statio_protocols::http::Limits::DEFAULT.response() <= BUF,
    "a pooled buffer must hold the largest request and the largest response"
);

/// A pooled buffer.
pub type Buffer = LinearBuf<BUF>;
/// Reads a connection gets per event before the others' turn (with a scratch of
/// `BUF` bytes each).
pub const READS_PER_EVENT: usize = 16;

/// The loop's pool of `P` buffers.
pub type Pool<const P: usize> = BufPool<Buffer, P>;
type Lent<const P: usize> = LentBuf<'static, Buffer, P>;

/// What a connection waits for after [`Conn::pump`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Wait {
    /// More bytes from the client.
    Read,
    /// Its turn is over: it had [`READS_PER_EVENT`] reads and the socket may hold more.
    /// The server re-arms it, so a client that pipelines faster than it is answered
    /// cannot keep the loop to itself.
    Yield,
    /// Room in the send buffer for the responses it holds.
    Write,
    /// Nothing: close it (end of stream, or a lingering close that ended).
    Close,
}

/// Why a connection is dropped at once, without a lingering close.
#[derive(Debug)]
pub enum Abort {
    /// A read or write failed (reset, broken pipe).
    Os(#[allow(dead_code)] OsError),
    /// The pool was empty; cannot happen when it holds two buffers per connection.
    PoolEmpty,
}

impl From<OsError> for Abort {
    fn from(err: OsError) -> Self {
        Abort::Os(err)
    }
}

/// What the loop lends a connection while it is pumped: the parts every connection
/// shares.
pub struct Shared<'a, const P: usize> {
    /// Where reads land.
    pub scratch: &'a mut [u8; BUF],
    /// Where responses are written; empty between pumps.
    pub out: &'a mut Buffer,
    /// The protocol.
    pub http: &'a Http,
    /// Where leftovers go.
    pub pool: &'static Pool<P>,
}

/// The state of a client connection, kept beside its stream in the loop's table.
pub struct Conn<const P: usize> {
    /// The start of a request not complete yet, or (with `unserved`) requests that
    /// wait for the output to drain.
    input: Option<Lent<P>>,
    /// `input` may hold complete requests: serve it before reading.
    unserved: bool,
    /// Responses the socket did not take yet.
    output: Option<Lent<P>>,
    /// A response said close: send the output, shut down writing, then read and
    /// discard until the client closes (so that unread input does not make the close
    /// a reset, which could destroy the response in flight).
    closing: bool,
    /// Writing was shut down (`closing`, output sent).
    shut: bool,
    /// Bytes arrived since the idle timer was last armed.
    pub active: bool,
    /// Whether it waits for room to write (level-triggered: its registration is for
    /// writability, else readability).
    pub writing: bool,
    /// The connection's one timer, if armed, and what it is for.
    pub timer: Option<(statio::TimerKey, Phase)>,
    /// Its registration: what its timer carries, to find it again.
    pub registration: Option<Registration>,
}

impl<const P: usize> Conn<P> {
    /// A connection with nothing buffered.
    pub const fn new() -> Self {
        Conn {
            input: None,
            unserved: false,
            output: None,
            closing: false,
            shut: false,
            active: false,
            writing: false,
            timer: None,
            registration: None,
        }
    }

    /// The phase its timer should measure now.
    pub fn phase(&self) -> Phase {
        if self.closing {
            Phase::Closing
        } else if self.input.is_some() {
            Phase::Request
        } else {
            Phase::Idle
        }
    }

    /// Moves bytes until the connection must wait: sends pending responses, serves
    /// kept requests, reads and answers, until a read is short (drained), the socket
    /// is full, the connection is done, or it had [`READS_PER_EVENT`] reads.
    ///
    /// # Errors
    /// [`Abort`]: drop the connection now.
    pub fn pump(&mut self, stream: &TcpStream, shared: &mut Shared<'_, P>) -> Result<Wait, Abort> {
        let mut reads = 0;
        loop {
            if let Some(pending) = self.output.as_mut() {
                stream.try_write_buf(&mut **pending)?;
                if pending.has_remaining() {
                    return Ok(Wait::Write);
                }
                self.output = None;
            }
            if self.closing {
                return self.linger(stream, shared.scratch);
            }
            if reads == READS_PER_EVENT {
                return Ok(Wait::Yield);
            }
            reads += 1;
            let drained = match self.input.take() {
                Some(input) => self.pump_kept(stream, input, shared)?,
                None => self.pump_scratch(stream, shared)?,
            };
            match drained {
                _ if self.closing => {}
                None => return Ok(Wait::Close),
                Some(_) if self.output.is_some() => return Ok(Wait::Write),
                Some(true) => return Ok(Wait::Read),
                Some(false) => {}
            }
        }
    }

    /// Reads into the scratch and answers from there; keeps what is left in a lent
    /// buffer. `Ok(None)`: end of stream; `Ok(Some(drained))`.
    fn pump_scratch(
        &mut self,
        stream: &TcpStream,
        shared: &mut Shared<'_, P>,
    ) -> Result<Option<bool>, Abort> {
        let n = match stream.try_read(&mut shared.scratch[..])? {
            None => return Ok(Some(true)),
            Some(0) => return Ok(None),
            Some(n) => n,
        };
        self.active = true;
        let bytes = &shared.scratch[..n];
        let consumed = serve(
            bytes,
            shared.out,
            shared.http,
            shared.pool,
            stream,
            &mut self.output,
            &mut self.closing,
            &mut self.unserved,
        )?;
        let rest = &bytes[consumed..];
        if !rest.is_empty() && !self.closing {
            let mut kept = shared.pool.lend().map_err(|_| Abort::PoolEmpty)?;
            // Fits: the scratch is no larger than a pooled buffer.
            kept.write_truncating(rest);
            self.input = Some(kept);
        }
        Ok(Some(n < BUF))
    }

    /// Serves what `input` holds when it may hold complete requests, else reads more
    /// into it and serves it; keeps it while bytes are left.
    fn pump_kept(
        &mut self,
        stream: &TcpStream,
        mut input: Lent<P>,
        shared: &mut Shared<'_, P>,
    ) -> Result<Option<bool>, Abort> {
        let mut drained = false;
        if !self.unserved {
            // Room: `Next::NeedInput` leaves less than a request, and a request fits.
            let free = input.remaining_mut();
            match stream.try_read_buf(&mut *input)? {
                None => {
                    self.input = Some(input);
                    return Ok(Some(true));
                }
                Some(0) => return Ok(None),
                Some(n) => drained = n < free,
            }
            self.active = true;
        }
        let consumed = serve(
            input.filled(),
            shared.out,
            shared.http,
            shared.pool,
            stream,
            &mut self.output,
            &mut self.closing,
            &mut self.unserved,
        )?;
        input.advance(consumed);
        if input.has_remaining() && !self.closing {
            self.input = Some(input);
        }
        // Dropped otherwise: the buffer returns to the pool.
        Ok(Some(drained))
    }

    /// The lingering close: shuts down writing once the responses are sent, then
    /// reads and discards until the client closes.
    fn linger(&mut self, stream: &TcpStream, scratch: &mut [u8; BUF]) -> Result<Wait, Abort> {
        if !self.shut {
            self.shut = true;
            self.input = None;
            stream.shutdown(Shutdown::Write)?;
        }
        loop {
            match stream.try_read(&mut scratch[..])? {
                None => return Ok(Wait::Read),
                Some(0) => return Ok(Wait::Close),
                Some(n) if n < BUF => return Ok(Wait::Read),
                Some(_) => {}
            }
        }
    }
}

/// Answers the complete requests at the start of `bytes` into `out`, sending `out`
/// whenever it fills and at the end; returns the bytes consumed. Stops early when
/// the socket does not take everything: the rest of `out` then moves into a lent
/// `output`, and `unserved` says requests may be left.
#[allow(clippy::too_many_arguments)] // the disjoint parts of a `Conn` and `Shared`
fn serve<const P: usize>(
    bytes: &[u8],
    out: &mut Buffer,
    http: &Http,
    pool: &'static Pool<P>,
    stream: &TcpStream,
    output: &mut Option<Lent<P>>,
    closing: &mut bool,
    unserved: &mut bool,
) -> Result<usize, Abort> {
    let mut consumed = 0;
    loop {
        let served = http.serve(&bytes[consumed..], out);
        consumed += served.consumed;
        let sent = send(out, pool, stream, output)?;
        match served.next {
            Next::OutputFull if sent => continue,
            Next::OutputFull => *unserved = true,
            Next::NeedInput => *unserved = false,
            Next::Close => *closing = true,
        }
        return Ok(consumed);
    }
}

/// Writes `out`; what the socket does not take moves into a lent buffer (`output`).
/// `Ok(true)`: all of it went.
fn send<const P: usize>(
    out: &mut Buffer,
    pool: &'static Pool<P>,
    stream: &TcpStream,
    output: &mut Option<Lent<P>>,
) -> Result<bool, Abort> {
    if out.is_empty() {
        return Ok(true);
    }
    if let Some(n) = stream.try_write(out.filled())? {
        out.advance(n);
    }
    if out.is_empty() {
        return Ok(true);
    }
    let mut pending = pool.lend().map_err(|_| Abort::PoolEmpty)?;
    // Fits: `out` is no larger than a pooled buffer.
    pending.write_truncating(out.filled());
    out.clear();
    *output = Some(pending);
    Ok(false)
}
