//! UDP through the loop on 127.0.0.1: readiness, addressed and connected exchange,
//! writability, multicast membership.

mod util;

use std::net::{Ipv4Addr, SocketAddr};

use statio::net::{Received, UdpSocket};
use statio::{Interest, PollOpt, Ready, Token};
use util::{assert_would_block, expect_no_events, rec_loop, run_until};

const A: Token = Token(0);
const B: Token = Token(1);

fn bind() -> UdpSocket {
    UdpSocket::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind 127.0.0.1:0")
}

/// A datagram of `len` bytes received whole.
fn whole(len: usize) -> Received {
    Received {
        len,
        truncated: false,
    }
}

#[test]
fn datagram_makes_the_receiver_readable_with_the_sender_address() {
    let (mut el, mut rec) = rec_loop();
    let (a, b) = (bind(), bind());
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    assert_eq!(a_addr.ip(), Ipv4Addr::LOCALHOST);
    assert_ne!(a_addr.port(), 0, "bound to port 0, not an ephemeral port");
    el.register(&a, A).unwrap();
    el.register(&b, B).unwrap();

    // Nothing sent yet: no event, and recv_from would block.
    expect_no_events(&mut el, &mut rec, 1, "before any datagram");
    let mut buf = [0u8; 64];
    assert_would_block(a.recv_from(&mut buf));

    assert_eq!(b.send_to(b"ping", a_addr).unwrap(), Some(4));
    run_until(&mut el, &mut rec, "A readable", 100, |r| {
        r.saw(A, Ready::READABLE)
    });
    assert!(
        !rec.saw(B, Ready::READABLE),
        "B readable without a datagram"
    );
    assert_eq!(a.recv_from(&mut buf).unwrap(), Some((whole(4), b_addr)));
    assert_eq!(&buf[..4], b"ping");
    assert_eq!(
        a.recv_from(&mut buf).unwrap(),
        None,
        "one datagram, read twice"
    );

    // And back, to the address the datagram came from.
    rec.clear();
    assert_eq!(a.send_to(b"pong!", b_addr).unwrap(), Some(5));
    run_until(&mut el, &mut rec, "B readable", 100, |r| {
        r.saw(B, Ready::READABLE)
    });
    assert_eq!(b.recv_from(&mut buf).unwrap(), Some((whole(5), a_addr)));
    assert_eq!(&buf[..5], b"pong!");
}

#[test]
fn datagrams_keep_their_boundaries() {
    let (mut el, mut rec) = rec_loop();
    let (a, b) = (bind(), bind());
    let a_addr = a.local_addr().unwrap();
    el.register(&a, A).unwrap();
    for message in [&b"one"[..], b"", b"three"] {
        assert_eq!(b.send_to(message, a_addr).unwrap(), Some(message.len()));
    }
    run_until(&mut el, &mut rec, "A readable", 100, |r| {
        r.saw(A, Ready::READABLE)
    });
    let mut buf = [0u8; 64];
    for message in [&b"one"[..], b"", b"three"] {
        let (got, _) = a.recv_from(&mut buf).unwrap().expect("a queued datagram");
        assert_eq!((got, &buf[..got.len]), (whole(message.len()), message));
    }
    // A datagram longer than the buffer is truncated, not split.
    assert_eq!(b.send_to(b"0123456789", a_addr).unwrap(), Some(10));
    rec.clear();
    run_until(&mut el, &mut rec, "A readable again", 100, |r| {
        r.saw(A, Ready::READABLE)
    });
    let mut small = [0u8; 4];
    let truncated = Received {
        len: 4,
        truncated: true,
    };
    assert_eq!(a.recv(&mut small).unwrap(), Some(truncated));
    assert_eq!(&small, b"0123");
    assert_eq!(
        a.recv(&mut buf).unwrap(),
        None,
        "the rest of a truncated datagram"
    );
}

#[test]
fn connected_sockets_send_and_recv() {
    let (mut el, mut rec) = rec_loop();
    let (a, b, stranger) = (bind(), bind(), bind());
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    a.connect(b_addr).unwrap();
    b.connect(a_addr).unwrap();
    assert_eq!(a.peer_addr().unwrap(), b_addr);
    assert_eq!(b.peer_addr().unwrap(), a_addr);
    el.register(&b, B).unwrap();

    // A connected socket takes datagrams from its peer only (udp(7)).
    assert_eq!(stranger.send_to(b"spam", b_addr).unwrap(), Some(4));
    assert_eq!(a.send(b"hello").unwrap(), Some(5));
    run_until(&mut el, &mut rec, "B readable", 100, |r| {
        r.saw(B, Ready::READABLE)
    });
    let mut buf = [0u8; 64];
    assert_eq!(b.recv(&mut buf).unwrap(), Some(whole(5)));
    assert_eq!(&buf[..5], b"hello");
    assert_eq!(
        b.recv(&mut buf).unwrap(),
        None,
        "the stranger's datagram got through"
    );

    el.register(&a, A).unwrap();
    rec.clear();
    assert_eq!(b.send(b"hi").unwrap(), Some(2));
    run_until(&mut el, &mut rec, "A readable", 100, |r| {
        r.saw(A, Ready::READABLE)
    });
    assert_eq!(a.recv_from(&mut buf).unwrap(), Some((whole(2), b_addr)));
    assert_eq!(&buf[..2], b"hi");
}

#[test]
fn unconnected_socket_cannot_send_without_address() {
    let a = bind();
    assert!(a.send(b"x").is_err(), "send on an unconnected UDP socket");
    assert!(
        a.peer_addr().is_err(),
        "peer_addr on an unconnected UDP socket"
    );
}

#[test]
fn fresh_socket_is_writable_and_not_readable() {
    let (mut el, mut rec) = rec_loop();
    let a = bind();
    el.register_opt(&a, A, Interest::BOTH, PollOpt::edge())
        .unwrap();
    run_until(&mut el, &mut rec, "A writable", 100, |r| {
        r.saw(A, Ready::WRITABLE)
    });
    assert!(!rec.saw(A, Ready::READABLE | Ready::ERROR | Ready::HUP));
    // Edge-triggered: no new edge, no new event.
    rec.clear();
    expect_no_events(&mut el, &mut rec, 1, "edge-triggered, no new edge");
}

#[test]
fn multicast_join_and_leave_on_loopback() {
    let a = UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))).unwrap();
    let group = Ipv4Addr::new(224, 0, 0, 123);
    // Not a multicast address: refused with an error, whatever the sandbox allows.
    assert!(
        a.join_multicast_v4(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST)
            .is_err(),
        "joined a unicast address as a group"
    );
    match a.join_multicast_v4(group, Ipv4Addr::LOCALHOST) {
        Ok(()) => {
            // Member: a second join is refused on Linux, a leave succeeds once.
            assert!(a.join_multicast_v4(group, Ipv4Addr::LOCALHOST).is_err());
            a.leave_multicast_v4(group, Ipv4Addr::LOCALHOST)
                .expect("leave a joined group");
            assert!(
                a.leave_multicast_v4(group, Ipv4Addr::LOCALHOST).is_err(),
                "left a group twice"
            );
        }
        // The sandbox may refuse multicast on lo: a typed error, not a panic.
        Err(err) => eprintln!("multicast join refused here: {err}"),
    }
    // Leaving a group never joined is an error.
    let other = Ipv4Addr::new(224, 0, 0, 124);
    assert!(a.leave_multicast_v4(other, Ipv4Addr::LOCALHOST).is_err());
    a.set_multicast_loop_v4(true).unwrap();
    a.set_multicast_ttl_v4(1).unwrap();
}
