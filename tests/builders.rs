//! The socket builders through the loop (issue 14, item 1): an unconnected socket
//! registered before it connects keeps its registration as the stream, a listener
//! built with `SO_REUSEPORT` shares its port, and a UDP builder's `SO_REUSEADDR`.

mod util;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};

use statio::net::{TcpSocket, UdpBuilder, UnixListener, UnixSocket};
use statio::{Interest, PollOpt, Ready, Token};
use util::{rec_loop, run_until, set_timeouts_tcp, temp_path};

const CLIENT: Token = Token(1);
const LISTENER: Token = Token(2);

fn localhost() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

#[test]
fn unix_socket_registered_before_connect_reports_the_connected_stream() {
    let path = temp_path("builder");
    let listener = UnixListener::bind(path.bytes()).unwrap();
    let (mut el, mut rec) = rec_loop();
    let socket = UnixSocket::stream().unwrap();
    el.register_opt(&socket, CLIENT, Interest::BOTH, PollOpt::edge())
        .unwrap();
    let stream = socket.connect(path.bytes()).unwrap();
    run_until(&mut el, &mut rec, "client writable", 100, |r| {
        r.saw(CLIENT, Ready::WRITABLE)
    });
    assert_eq!(stream.take_error().unwrap(), None);
    assert_eq!(stream.try_write(b"hello").unwrap(), Some(5));

    // The other way: the registration made on the socket reports the stream's data.
    let (server, _) = listener.accept().unwrap().expect("a pending connection");
    let mut buf = [0u8; 8];
    assert_eq!(server.try_read(&mut buf).unwrap(), Some(5));
    rec.clear();
    assert_eq!(server.try_write(b"back").unwrap(), Some(4));
    run_until(&mut el, &mut rec, "client readable", 100, |r| {
        r.saw(CLIENT, Ready::READABLE)
    });
    assert_eq!(stream.try_read(&mut buf).unwrap(), Some(4));
    assert_eq!(&buf[..4], b"back");
    el.deregister(&stream, CLIENT).unwrap();
}

#[test]
fn tcp_socket_registered_before_connect_reports_the_connected_stream() {
    let listener = std::net::TcpListener::bind(localhost()).unwrap();
    let (mut el, mut rec) = rec_loop();
    let socket = TcpSocket::v4().unwrap();
    socket.set_nodelay(true).unwrap();
    el.register_opt(&socket, CLIENT, Interest::BOTH, PollOpt::edge())
        .unwrap();
    let stream = socket.connect(listener.local_addr().unwrap()).unwrap();
    run_until(&mut el, &mut rec, "client writable", 100, |r| {
        r.saw(CLIENT, Ready::WRITABLE)
    });
    assert_eq!(stream.take_error().unwrap(), None);
    let (mut peer, _) = listener.accept().unwrap();
    set_timeouts_tcp(&peer);
    assert_eq!(stream.try_write(b"ping").unwrap(), Some(4));
    let mut buf = [0u8; 4];
    peer.read_exact(&mut buf).unwrap();
    rec.clear();
    peer.write_all(b"pong").unwrap();
    run_until(&mut el, &mut rec, "client readable", 100, |r| {
        r.saw(CLIENT, Ready::READABLE)
    });
    assert_eq!(stream.try_read(&mut buf).unwrap(), Some(4));
    el.deregister(&stream, CLIENT).unwrap();
}

#[test]
fn listeners_sharing_a_port_with_reuseport_both_serve() {
    let first = TcpSocket::v4().unwrap();
    first.set_reuseport(true).unwrap();
    first.bind(localhost()).unwrap();
    let addr = first.local_addr().unwrap();
    let second = TcpSocket::v4().unwrap();
    second.set_reuseport(true).unwrap();
    second.bind(addr).unwrap();
    let listeners = [first.listen(64).unwrap(), second.listen(64).unwrap()];
    let (mut el, mut rec) = rec_loop();
    for (i, listener) in listeners.iter().enumerate() {
        el.register(listener, Token(LISTENER.0 + i)).unwrap();
    }
    // Connections land on one or the other (Linux balances by hash, the BSDs pick the
    // last bound): every one is accepted by one of them.
    let clients: Vec<_> = (0..8)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let mut accepted = 0;
    run_until(&mut el, &mut rec, "all connections accepted", 100, |_| {
        for listener in &listeners {
            while let Some((_stream, _)) = listener.accept().unwrap() {
                accepted += 1;
            }
        }
        accepted == clients.len()
    });
}

#[test]
fn udp_builder_reuseaddr_binds_a_held_port() {
    let first = UdpBuilder::v4().unwrap();
    first.set_reuseaddr(true).unwrap();
    let first = first.bind(localhost()).unwrap();
    let addr = first.local_addr().unwrap();
    let second = UdpBuilder::v4().unwrap();
    second.set_reuseaddr(true).unwrap();
    let second = second.bind(addr).unwrap();
    let (mut el, mut rec) = rec_loop();
    el.register(&first, Token(0)).unwrap();
    el.register(&second, Token(1)).unwrap();
    let sender = std::net::UdpSocket::bind(localhost()).unwrap();
    sender.send_to(b"which", addr).unwrap();
    // One of the two receives it.
    run_until(&mut el, &mut rec, "a receiver readable", 100, |r| {
        r.saw(Token(0), Ready::READABLE) || r.saw(Token(1), Ready::READABLE)
    });
    let mut buf = [0u8; 8];
    let got = [&first, &second]
        .iter()
        .find_map(|socket| socket.recv(&mut buf).unwrap())
        .expect("a datagram");
    assert_eq!(&buf[..got.len], b"which");
}
