//! The echo server of `examples/echo`, written on mio 1.x, for the side-by-side
//! footprint in `docs/FOOTPRINT.md`: `mio_echo [ADDR]`, default 127.0.0.1:7878. Up to
//! 1,023 connections. Written as the C echo (benches/examples/c_echo.c) is: every
//! connection is read into one shared 4 KiB buffer and echoed at once; only the tail
//! of a partial write is kept (a `Vec` per such connection), and reads pause until it
//! is sent. Never part of statio's dependencies.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

const SERVER: Token = Token(0);
const MAX_CONNS: usize = 1023;

struct Conn {
    stream: TcpStream,
    /// The unsent tail of a partial write: empty (unallocated) otherwise.
    unsent: Vec<u8>,
}

fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:7878")
        .parse()
        .expect("an address such as 127.0.0.1:7878");
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(256);
    let mut listener = TcpListener::bind(addr)?;
    poll.registry()
        .register(&mut listener, SERVER, Interest::READABLE)?;
    println!("mio_echo: listening on {}", listener.local_addr()?);
    let mut conns: HashMap<Token, Conn> = HashMap::new();
    let mut scratch = [0u8; 4096];
    let mut next = 1;
    loop {
        poll.poll(&mut events, None)?;
        for event in &events {
            if event.token() == SERVER {
                loop {
                    let (mut stream, _) = match listener.accept() {
                        Ok(accepted) => accepted,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => break,
                    };
                    if conns.len() >= MAX_CONNS {
                        continue;
                    }
                    let token = Token(next);
                    next += 1;
                    poll.registry()
                        .register(&mut stream, token, Interest::READABLE)?;
                    conns.insert(
                        token,
                        Conn {
                            stream,
                            unsent: Vec::new(),
                        },
                    );
                }
                continue;
            }
            let token = event.token();
            let Some(conn) = conns.get_mut(&token) else {
                continue;
            };
            let was_writing = !conn.unsent.is_empty();
            let mut close = false;
            // mio is edge-triggered: send what is pending, then read until would-block
            // (or until a write is partial: then wait for writability).
            while !close && !conn.unsent.is_empty() {
                match conn.stream.write(&conn.unsent) {
                    Ok(n) => drop(conn.unsent.drain(..n)),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => close = true,
                }
            }
            if conn.unsent.is_empty() && conn.unsent.capacity() > 0 {
                conn.unsent = Vec::new(); // give the memory back
            }
            while !close && conn.unsent.is_empty() {
                let n = match conn.stream.read(&mut scratch) {
                    Ok(n) => n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => 0, // closed as at EOF
                };
                close = n == 0;
                let mut written = 0;
                while !close && written < n {
                    match conn.stream.write(&scratch[written..n]) {
                        Ok(k) => written += k,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => close = true,
                    }
                }
                if !close && written < n {
                    conn.unsent = scratch[written..n].to_vec();
                }
            }
            if close {
                let mut conn = conns.remove(&token).expect("present");
                poll.registry().deregister(&mut conn.stream)?;
                continue;
            }
            let writing = !conn.unsent.is_empty();
            if writing != was_writing {
                let interest = if writing {
                    Interest::WRITABLE
                } else {
                    Interest::READABLE
                };
                poll.registry()
                    .reregister(&mut conn.stream, token, interest)?;
            }
        }
    }
}
