//! The echo server of `examples/echo`, written on mio 1.x, for the side-by-side
//! footprint in `docs/FOOTPRINT.md`: `mio_echo [ADDR]`, default 127.0.0.1:7878. Up to
//! 1,023 connections, a 4 KiB buffer each (allocated per connection, as mio users do);
//! reads pause while a partial write is pending. Never part of statio's dependencies.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

const SERVER: Token = Token(0);
const MAX_CONNS: usize = 1023;

struct Conn {
    stream: TcpStream,
    buf: Box<[u8; 4096]>,
    written: usize,
    filled: usize,
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
                    let buf = Box::new([0; 4096]);
                    conns.insert(
                        token,
                        Conn {
                            stream,
                            buf,
                            written: 0,
                            filled: 0,
                        },
                    );
                }
                continue;
            }
            let token = event.token();
            let Some(conn) = conns.get_mut(&token) else {
                continue;
            };
            let was_writing = conn.written < conn.filled;
            let mut close = false;
            if !was_writing {
                match conn.stream.read(&mut conn.buf[..]) {
                    Ok(0) => close = true,
                    Ok(n) => (conn.written, conn.filled) = (0, n),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(_) => close = true,
                }
            }
            while !close && conn.written < conn.filled {
                match conn.stream.write(&conn.buf[conn.written..conn.filled]) {
                    Ok(n) => conn.written += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => close = true,
                }
            }
            if close {
                let mut conn = conns.remove(&token).expect("present");
                poll.registry().deregister(&mut conn.stream)?;
                continue;
            }
            let writing = conn.written < conn.filled;
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
