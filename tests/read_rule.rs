//! The read rule through the loop (issue 12): on a stream socket or a pipe registered
//! edge-triggered, a read shorter than the buffer proves it drained, so a reader that
//! stops there, without the read that would block, still gets an event for the next
//! arrival. Also: an empty buffer is refused, never read as end of stream.

mod util;

use std::net::{Ipv4Addr, SocketAddr};

use statio::ErrorKind;
use statio::net::{TcpListener, TcpStream, TryRead, TryWrite, UnixStream, pipe};
use statio::{Interest, PollOpt, Ready, Token};
use util::{rec_loop, run_until};

const READER: Token = Token(3);

/// Writes twice, each time reading once into a larger buffer and stopping at the
/// short read: the second write must still be reported.
fn short_read_is_enough<R: TryRead + statio::Source<statio::RawFd>, W: TryWrite>(
    reader: &R,
    writer: &W,
) {
    let (mut el, mut rec) = rec_loop();
    el.register_opt(reader, READER, Interest::READABLE, PollOpt::edge())
        .unwrap();
    let mut buf = [0u8; 64];
    for message in [&b"first"[..], b"second"] {
        assert_eq!(writer.try_write(message).unwrap(), Some(message.len()));
        run_until(&mut el, &mut rec, "reader readable", 100, |r| {
            r.saw(READER, Ready::READABLE)
        });
        let n = reader.try_read(&mut buf).unwrap().expect("the data");
        assert_eq!(&buf[..n], message);
        assert!(n < buf.len(), "a short read");
        rec.clear();
        // A turn that sees nothing: no event without an arrival (and, on the poll(2)
        // port's emulated edges, the look that re-arms the drained registration).
        el.run_once(&mut rec, Some(std::time::Duration::ZERO))
            .unwrap();
        assert!(
            !rec.saw(READER, Ready::READABLE),
            "an event with no arrival"
        );
    }
    assert_eq!(
        reader.try_read(&mut []).unwrap_err().kind(),
        ErrorKind::InvalidInput,
        "an empty buffer read as end of stream"
    );
    el.deregister(reader, READER).unwrap();
}

#[test]
fn tcp() {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let server = (0..1000)
        .find_map(|_| {
            let accepted = listener.accept().unwrap();
            if accepted.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            accepted
        })
        .expect("accepted within 5 s")
        .0;
    short_read_is_enough(&server, &client);
}

#[test]
fn unix_stream() {
    let (a, b) = UnixStream::pair().unwrap();
    short_read_is_enough(&a, &b);
}

#[test]
fn pipe_ends() {
    let (rx, tx) = pipe().unwrap();
    short_read_is_enough(&rx, &tx);
}
