//! Unix domain sockets through the loop: a stream echo by filesystem path and by
//! abstract name, and datagram exchanges.

mod util;

use std::io::{Read, Write};
use std::thread::{self, JoinHandle};

use statio::net::{UnixDatagram, UnixListener, UnixStream};
use statio::{EventLoop, Handler, Interest, PollOpt, Ready, Token};
use util::{assert_same_bytes, pattern, rec_loop, run_until, set_timeouts_unix, temp_path};

const LISTENER: Token = Token(0);

/// A Unix stream echo server: token 0 is the listener, token `i + 1` connection `i`.
/// Buffers without bound (it is a test): reads everything, writes what it can.
struct UnixEcho {
    listener: UnixListener,
    conns: Vec<Option<Conn>>,
    closed: usize,
}

struct Conn {
    stream: UnixStream,
    pending: Vec<u8>,
    eof: bool,
}

type EchoLoop = EventLoop<UnixEcho, 16, 0, 16>;

impl Handler for UnixEcho {
    type Timeout = ();
    type Message = ();
    type Loop = EchoLoop;

    fn ready(&mut self, el: &mut EchoLoop, token: Token, _: Ready) {
        if token == LISTENER {
            while let Some((stream, _)) = self.listener.accept().expect("accept") {
                let token = Token(self.conns.len() + 1);
                el.register(&stream, token).expect("register a connection");
                self.conns.push(Some(Conn {
                    stream,
                    pending: Vec::new(),
                    eof: false,
                }));
            }
            return;
        }
        let slot = &mut self.conns[token.0 - 1];
        let Some(conn) = slot.as_mut() else {
            panic!("event for closed connection {token:?}");
        };
        let mut failed = false;
        let mut buf = [0u8; 4096];
        while !conn.eof && !failed {
            match conn.stream.try_read(&mut buf) {
                Ok(Some(0)) => conn.eof = true,
                Ok(Some(n)) => conn.pending.extend_from_slice(&buf[..n]),
                Ok(None) => break,
                Err(_) => failed = true,
            }
        }
        while !conn.pending.is_empty() && !failed {
            match conn.stream.try_write(&conn.pending) {
                Ok(Some(n)) => drop(conn.pending.drain(..n)),
                Ok(None) => break,
                Err(_) => failed = true,
            }
        }
        if failed || (conn.eof && conn.pending.is_empty()) {
            el.deregister(&conn.stream, token).expect("deregister");
            *slot = None;
            self.closed += 1;
            return;
        }
        let interest = if conn.pending.is_empty() {
            Interest::READABLE
        } else {
            Interest::BOTH
        };
        el.reregister(&conn.stream, token, interest, PollOpt::level())
            .expect("reregister");
    }
}

/// A client that sends messages of several sizes and reads each back, then closes.
fn client(mut stream: std::os::unix::net::UnixStream) -> JoinHandle<()> {
    set_timeouts_unix(&stream);
    thread::spawn(move || {
        for (i, len) in [1, 100, 4096, 100_000].into_iter().enumerate() {
            let want = pattern(i as u64, len);
            stream.write_all(&want).expect("client write");
            let mut got = vec![0u8; len];
            stream.read_exact(&mut got).expect("client read back");
            assert_same_bytes(&got, &want, &format!("message {i}"));
        }
        stream
            .shutdown(std::net::Shutdown::Write)
            .expect("client shutdown");
        let mut rest = [0u8; 1];
        assert_eq!(stream.read(&mut rest).expect("EOF"), 0);
    })
}

/// Serves until the client is done and its connection closed.
fn serve(listener: UnixListener, client: JoinHandle<()>) {
    let mut el = EchoLoop::new().unwrap();
    el.register(&listener, LISTENER).unwrap();
    let mut echo = UnixEcho {
        listener,
        conns: Vec::new(),
        closed: 0,
    };
    run_until(&mut el, &mut echo, "client served and closed", 400, |e| {
        client.is_finished() && e.closed == 1
    });
    client.join().expect("client failed");
    assert_eq!(echo.conns.len(), 1, "connections accepted");
}

#[test]
fn stream_echo_by_path() {
    let path = temp_path("stream");
    let listener = UnixListener::bind(path.bytes()).expect("bind path");
    assert!(path.path().exists(), "no socket file at the path");
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.bytes())
    );
    let stream = std::os::unix::net::UnixStream::connect(path.path()).expect("connect");
    serve(listener, client(stream));
    let file = path.path().to_owned();
    drop(path);
    assert!(!file.exists(), "socket file left behind");
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn stream_echo_by_abstract_name() {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;

    let name = util::abstract_name("stream");
    let listener = UnixListener::bind_abstract(&name).expect("bind abstract");
    assert_eq!(
        listener.local_addr().unwrap().as_abstract_name(),
        Some(&name[..])
    );
    // The same name again is taken.
    assert!(UnixListener::bind_abstract(&name).is_err());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
    let stream = std::os::unix::net::UnixStream::connect_addr(&addr).expect("connect");
    serve(listener, client(stream));
}

#[test]
fn statio_client_connects_by_path() {
    let path = temp_path("client");
    let std_listener = std::os::unix::net::UnixListener::bind(path.path()).unwrap();
    let (mut el, mut rec) = rec_loop();
    let stream = UnixStream::connect(path.bytes()).expect("connect");
    assert_eq!(
        stream.peer_addr().unwrap().as_pathname(),
        Some(path.bytes())
    );
    el.register(&stream, Token(1)).unwrap();
    let (mut peer, _) = std_listener.accept().unwrap();
    set_timeouts_unix(&peer);
    peer.write_all(b"hello").unwrap();
    run_until(&mut el, &mut rec, "stream readable", 100, |r| {
        r.saw(Token(1), Ready::READABLE)
    });
    let mut buf = [0u8; 16];
    assert_eq!(stream.try_read(&mut buf).unwrap(), Some(5));
    assert_eq!(&buf[..5], b"hello");
    assert_eq!(stream.try_write(b"back").unwrap(), Some(4));
    peer.read_exact(&mut buf[..4]).unwrap();
    assert_eq!(&buf[..4], b"back");
}

#[test]
fn datagram_exchange_by_path() {
    let (path_a, path_b) = (temp_path("dgram-a"), temp_path("dgram-b"));
    let a = UnixDatagram::bind(path_a.bytes()).unwrap();
    let b = UnixDatagram::bind(path_b.bytes()).unwrap();
    let (mut el, mut rec) = rec_loop();
    el.register(&a, Token(0)).unwrap();
    el.register(&b, Token(1)).unwrap();

    assert_eq!(b.send_to(b"ping", path_a.bytes()).unwrap(), Some(4));
    run_until(&mut el, &mut rec, "A readable", 100, |r| {
        r.saw(Token(0), Ready::READABLE)
    });
    assert!(!rec.saw(Token(1), Ready::READABLE));
    let mut buf = [0u8; 64];
    let (got, from) = a.recv_from(&mut buf).unwrap().expect("a datagram");
    assert_eq!(&buf[..got.len], b"ping");
    assert_eq!(from.as_pathname(), Some(path_b.bytes()));

    rec.clear();
    assert_eq!(a.send_to_addr(b"pong!", &from).unwrap(), Some(5));
    run_until(&mut el, &mut rec, "B readable", 100, |r| {
        r.saw(Token(1), Ready::READABLE)
    });
    assert_eq!(b.recv(&mut buf).unwrap().map(|got| got.len), Some(5));
    assert_eq!(&buf[..5], b"pong!");
    assert_eq!(b.recv(&mut buf).unwrap(), None);

    // An unbound sender arrives unnamed.
    let anonymous = UnixDatagram::unbound().unwrap();
    rec.clear();
    assert_eq!(anonymous.send_to(b"x", path_a.bytes()).unwrap(), Some(1));
    run_until(&mut el, &mut rec, "A readable again", 100, |r| {
        r.saw(Token(0), Ready::READABLE)
    });
    let (got, from) = a.recv_from(&mut buf).unwrap().expect("a datagram");
    assert_eq!((got.len, from.is_unnamed()), (1, true));
}

#[test]
fn datagram_pair_through_the_loop() {
    let (x, y) = UnixDatagram::pair().unwrap();
    let (mut el, mut rec) = rec_loop();
    el.register_opt(&x, Token(2), Interest::BOTH, PollOpt::level())
        .unwrap();
    run_until(&mut el, &mut rec, "x writable", 100, |r| {
        r.saw(Token(2), Ready::WRITABLE)
    });
    assert!(
        !rec.saw(Token(2), Ready::READABLE),
        "readable with nothing sent"
    );
    for message in [&b"first"[..], b"second"] {
        assert_eq!(y.send(message).unwrap(), Some(message.len()));
    }
    rec.clear();
    run_until(&mut el, &mut rec, "x readable", 100, |r| {
        r.saw(Token(2), Ready::READABLE)
    });
    let mut buf = [0u8; 64];
    for message in [&b"first"[..], b"second"] {
        let got = x.recv(&mut buf).unwrap().expect("a datagram");
        assert_eq!(&buf[..got.len], message);
    }
    // The peer closed: a send is refused (unix(7): ECONNREFUSED), not dropped.
    drop(y);
    assert!(x.send(b"nobody").is_err());
}
