//! statio's HTTP/1.1 server logic (`statio_protocols::http`) over mio 1.x, as a mio
//! user writes a server: one thread, edge-triggered, reads until `WouldBlock`, each
//! connection with its own input and output buffers (4 KiB each, allocated at
//! accept), a `slab` of connections. A peer for benches/scripts/bench_http.py; never run in
//! CI.
//!
//! `http_mio [ADDR]` (default 127.0.0.1:8080, port 0 allowed) prints
//! `http_mio: listening on ADDR` first.

use std::io::{self, ErrorKind, Read, Write};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use statio_benches::peers::{listen_addr, unix_secs};
use statio_core::buf::{Buf, LinearBuf, MutBuf};
use statio_protocols::Next;
use statio_protocols::http::{Http, Limits};

const LISTENER: Token = Token(usize::MAX);
/// 4 KiB with the buffer's counters; holds a whole request and response (`Limits::DEFAULT`).
type Buffer = LinearBuf<4080>;
const MAX_CONNS: usize = 10_000;

struct Conn {
    stream: TcpStream,
    input: Box<Buffer>,
    output: Box<Buffer>,
}

fn main() -> io::Result<()> {
    let addr = listen_addr("127.0.0.1:8080");
    const _: () = assert!(Limits::DEFAULT.request() <= 4080 && Limits::DEFAULT.response() <= 4080);
    let mut http = Http::new(Limits::DEFAULT);
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mut listener = TcpListener::bind(addr)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    println!("http_mio: listening on {}", listener.local_addr()?);
    let mut conns: Slab<Conn> = Slab::with_capacity(1024);
    loop {
        poll.poll(&mut events, None)?;
        http.set_time(unix_secs());
        for event in &events {
            if event.token() == LISTENER {
                accept(&mut listener, &mut conns, &poll)?;
                continue;
            }
            let key = event.token().0;
            let Some(conn) = conns.get_mut(key) else {
                continue;
            };
            if !matches!(drive(conn, &http), Ok(true)) {
                let mut conn = conns.remove(key);
                poll.registry().deregister(&mut conn.stream)?;
            }
        }
    }
}

fn accept(listener: &mut TcpListener, conns: &mut Slab<Conn>, poll: &Poll) -> io::Result<()> {
    loop {
        let mut stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // EMFILE and the like: the connections wait in the backlog until the
            // listener's next edge (a new connection), the usual mio server's behaviour.
            Err(_) => return Ok(()),
        };
        if conns.len() >= MAX_CONNS {
            continue; // dropped: closed
        }
        stream.set_nodelay(true)?;
        let entry = conns.vacant_entry();
        poll.registry().register(
            &mut stream,
            Token(entry.key()),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        entry.insert(Conn {
            stream,
            input: Box::new(Buffer::new()),
            output: Box::new(Buffer::new()),
        });
    }
}

/// Sends what `output` holds until it is empty or the socket would block.
fn flush(stream: &mut TcpStream, output: &mut Buffer) -> io::Result<()> {
    while output.has_remaining() {
        match stream.write(output.filled()) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => {
                output.advance(n);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Answers what is buffered and reads until `WouldBlock` (edge-triggered), not
/// reading while a response waits to be sent. `Ok(false)`: close the connection.
fn drive(conn: &mut Conn, http: &Http) -> io::Result<bool> {
    loop {
        flush(&mut conn.stream, &mut conn.output)?;
        if conn.output.has_remaining() {
            return Ok(true); // the next writable edge resumes
        }
        let served = http.serve(conn.input.filled(), &mut *conn.output);
        conn.input.advance(served.consumed);
        match served.next {
            Next::OutputFull => continue,
            Next::Close => {
                // Best effort: a benchmark peer does not linger for the last bytes.
                flush(&mut conn.stream, &mut conn.output)?;
                return Ok(false);
            }
            Next::NeedInput if conn.output.has_remaining() => continue,
            Next::NeedInput => {}
        }
        // Room: the rest of a request is shorter than the buffer (`Next::NeedInput`).
        match conn.stream.read(conn.input.chunks_mut().0) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                conn.input.commit(n);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
