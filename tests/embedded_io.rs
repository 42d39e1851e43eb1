//! embedded-io over statio streams, driven by a crate from crates.io that is generic
//! over `embedded_io::Read`/`Write`: `embedded-io-adapters` 0.7 (its `ToStd`, which
//! turns any embedded-io stream into a `std::io` one), and through it std's
//! `BufReader::read_line` and `io::copy`. Also statio's ring buffers through the loop's
//! sockets. Loopback only; every wait is bounded.

mod util;

use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::net::{Shutdown, TcpListener};
use std::thread;
use std::time::Duration;

use embedded_io::{ErrorKind, ReadReady, WriteReady};
use embedded_io_adapters::std::ToStd;
use statio::buf::{Buf, RingBuf};
use statio::net::{Blocking, TcpStream, UnixStream};
use util::{IO_TIMEOUT, assert_same_bytes, pattern, set_timeouts_tcp};

/// A std server on loopback that answers each line with the line upper-cased, then
/// echoes whatever follows a line "RAW" byte for byte until EOF.
fn line_server() -> (std::net::SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        set_timeouts_tcp(&conn);
        let mut writer = conn.try_clone().unwrap();
        let mut reader = BufReader::new(conn);
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                return;
            }
            if line == "RAW\n" {
                std::io::copy(&mut reader, &mut writer).unwrap();
                writer.shutdown(Shutdown::Write).unwrap();
                return;
            }
            writer.write_all(line.to_uppercase().as_bytes()).unwrap();
        }
    });
    (addr, handle)
}

#[test]
fn generic_std_adapter_drives_a_statio_tcp_stream() {
    let (addr, server) = line_server();
    let stream = TcpStream::connect(addr).unwrap();
    // Not connected yet: the first blocking write waits for writability.
    let io = Blocking::with_timeout(&stream, IO_TIMEOUT);
    let mut lines = BufReader::new(ToStd::new(io));
    for word in ["hello", "embedded", "io"] {
        writeln!(lines.get_mut(), "{word}").unwrap();
        let mut reply = String::new();
        lines.read_line(&mut reply).unwrap();
        assert_eq!(reply, format!("{}\n", word.to_uppercase()));
    }

    // A payload far larger than the socket buffers: blocking writes wait for room
    // while the server echoes; a reader thread keeps the other direction moving.
    let payload = pattern(5, 4 << 20);
    writeln!(lines.get_mut(), "RAW").unwrap();
    let got = thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut got = Vec::new();
            ToStd::new(Blocking::with_timeout(&stream, IO_TIMEOUT))
                .read_to_end(&mut got)
                .unwrap();
            got
        });
        std::io::copy(&mut &payload[..], lines.get_mut()).unwrap();
        lines.get_mut().flush().unwrap();
        stream.shutdown(statio::net::Shutdown::Write).unwrap();
        reader.join().unwrap()
    });
    assert_same_bytes(&got, &payload, "echo through ToStd");
    server.join().unwrap();
}

#[test]
fn ready_traits_and_timeouts_on_a_tcp_stream() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut peer, _) = listener.accept().unwrap();
    assert!(!stream.read_ready().unwrap());
    set_timeouts_tcp(&peer);
    let mut io = Blocking::with_timeout(&stream, Duration::from_millis(20));
    let mut buf = [0u8; 4];
    let err = embedded_io::Read::read(&mut io, &mut buf).unwrap_err();
    assert_eq!(embedded_io::Error::kind(&err), ErrorKind::TimedOut);
    assert!(!io.read_ready().unwrap());
    assert!(io.write_ready().unwrap());
    peer.write_all(b"ping").unwrap();
    io.set_timeout(Some(IO_TIMEOUT));
    embedded_io::Read::read_exact(&mut io, &mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    embedded_io::Write::write_all(&mut io, b"pong").unwrap();
    peer.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"pong");
    drop(peer);
    assert!(
        io.read_ready().unwrap(),
        "EOF is ready: the read returns at once"
    );
    assert_eq!(embedded_io::Read::read(&mut io, &mut buf).unwrap(), 0);
}

#[test]
fn rings_through_a_unix_stream_pair_keep_order() {
    let (a, b) = UnixStream::pair().unwrap();
    let data = pattern(9, 100_000);
    let mut out: RingBuf<4096> = RingBuf::new();
    let mut inn: RingBuf<1000> = RingBuf::new();
    let mut sent = 0;
    let mut got = Vec::new();
    for _ in 0..1_000_000 {
        if got.len() == data.len() {
            break;
        }
        sent += statio::buf::MutBuf::write_truncating(&mut out, &data[sent..]);
        a.try_write_buf(&mut out).unwrap();
        if let Some(n) = b.try_read_buf(&mut inn).unwrap() {
            assert!(n > 0, "end of stream before the data");
        }
        let (first, second) = inn.chunks();
        got.extend_from_slice(first);
        got.extend_from_slice(second);
        let n = inn.remaining();
        inn.advance(n);
    }
    assert_same_bytes(&got, &data, "ring to ring");
}
