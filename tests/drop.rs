//! Every descriptor type closes on drop, and is created close-on-exec and
//! non-blocking.
//!
//! Closing is checked through the peer where it can see it (EOF, a refused
//! connection, `POLLERR`): race-free under parallel tests. Where no peer can (a TCP
//! listener, a UDP socket), the descriptor is moved to a number above 900 first, so
//! that no other test reuses the number between the drop and the check.

mod util;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Mutex;

use statio::Fd;
use statio::net::{TcpListener, UdpSocket, UnixDatagram, UnixListener, UnixStream, pipe};
use util::{assert_cloexec_nonblocking, tcp_pair, temp_path, wait_fd};

/// The longest wait for a peer to see a close, in milliseconds.
const WAIT_MS: libc::c_int = 10_000;

fn localhost() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

/// Waits for `fd` to be readable and asserts a read gives end of stream.
fn assert_eof(fd: i32, read: impl FnOnce(&mut [u8]) -> statio::net::Result<Option<usize>>) {
    let revents = wait_fd(fd, libc::POLLIN, WAIT_MS);
    assert_ne!(revents, 0, "fd {fd}: no readiness after the peer's drop");
    let mut buf = [0u8; 16];
    assert_eq!(read(&mut buf).unwrap(), Some(0), "fd {fd}: no EOF");
}

/// Asserts that dropping a `T` closes its descriptor, by its number.
fn assert_drop_closes<T: From<Fd>>(value: T, into_fd: impl FnOnce(T) -> Fd) {
    // One check at a time: a number freed by one could be taken by another.
    static HIGH_NUMBERS: Mutex<()> = Mutex::new(());
    let _guard = HIGH_NUMBERS.lock().unwrap_or_else(|e| e.into_inner());
    let fd = into_fd(value);
    // SAFETY: `fd` is open; F_DUPFD_CLOEXEC takes the lowest number to use.
    let high = unsafe { libc::fcntl(fd.raw(), libc::F_DUPFD_CLOEXEC, 900) };
    assert!(
        high >= 900,
        "F_DUPFD_CLOEXEC: {}",
        std::io::Error::last_os_error()
    );
    drop(fd);
    // SAFETY: `high` is a new descriptor that nothing else owns.
    let value = T::from(unsafe { Fd::from_raw(high) });
    // SAFETY: F_GETFD only reads the flags of a descriptor number.
    assert!(unsafe { libc::fcntl(high, libc::F_GETFD) } >= 0);
    drop(value);
    // SAFETY: as above.
    let ret = unsafe { libc::fcntl(high, libc::F_GETFD) };
    let err = std::io::Error::last_os_error();
    assert_eq!(ret, -1, "fd {high} still open after drop");
    assert_eq!(err.raw_os_error(), Some(libc::EBADF));
}

#[test]
fn every_descriptor_is_cloexec_and_nonblocking() {
    let (client, accepted) = tcp_pair();
    let listener = TcpListener::bind(localhost()).unwrap();
    assert_cloexec_nonblocking(listener.as_raw_fd(), "TcpListener");
    assert_cloexec_nonblocking(client.as_raw_fd(), "TcpStream (connect)");
    assert_cloexec_nonblocking(accepted.as_raw_fd(), "TcpStream (accept)");
    let udp = UdpSocket::bind(localhost()).unwrap();
    assert_cloexec_nonblocking(udp.as_raw_fd(), "UdpSocket");

    let path = temp_path("flags");
    let unix_listener = UnixListener::bind(path.bytes()).unwrap();
    let unix_client = UnixStream::connect(path.bytes()).unwrap();
    let revents = wait_fd(unix_listener.as_raw_fd(), libc::POLLIN, WAIT_MS);
    assert_ne!(revents, 0, "no Unix connection to accept");
    let (unix_accepted, _) = unix_listener.accept().unwrap().expect("a connection");
    let (pair_a, pair_b) = UnixStream::pair().unwrap();
    assert_cloexec_nonblocking(unix_listener.as_raw_fd(), "UnixListener");
    assert_cloexec_nonblocking(unix_client.as_raw_fd(), "UnixStream (connect)");
    assert_cloexec_nonblocking(unix_accepted.as_raw_fd(), "UnixStream (accept)");
    assert_cloexec_nonblocking(pair_a.as_raw_fd(), "UnixStream (pair)");
    assert_cloexec_nonblocking(pair_b.as_raw_fd(), "UnixStream (pair)");

    let dgram_path = temp_path("flags-dgram");
    let bound = UnixDatagram::bind(dgram_path.bytes()).unwrap();
    let unbound = UnixDatagram::unbound().unwrap();
    let (dgram_a, dgram_b) = UnixDatagram::pair().unwrap();
    assert_cloexec_nonblocking(bound.as_raw_fd(), "UnixDatagram (bind)");
    assert_cloexec_nonblocking(unbound.as_raw_fd(), "UnixDatagram (unbound)");
    assert_cloexec_nonblocking(dgram_a.as_raw_fd(), "UnixDatagram (pair)");
    assert_cloexec_nonblocking(dgram_b.as_raw_fd(), "UnixDatagram (pair)");

    let (rx, tx) = pipe().unwrap();
    assert_cloexec_nonblocking(rx.as_raw_fd(), "pipe Receiver");
    assert_cloexec_nonblocking(tx.as_raw_fd(), "pipe Sender");
}

#[test]
fn tcp_streams_close_on_drop() {
    let (client, accepted) = tcp_pair();
    drop(client);
    assert_eof(accepted.as_raw_fd(), |buf| accepted.try_read(buf));

    let (client, accepted) = tcp_pair();
    drop(accepted);
    assert_eof(client.as_raw_fd(), |buf| client.try_read(buf));
}

#[test]
fn tcp_listener_closes_on_drop() {
    let listener = TcpListener::bind(localhost()).unwrap();
    assert_drop_closes(listener, TcpListener::into_fd);
}

#[test]
fn udp_socket_closes_on_drop() {
    let udp = UdpSocket::bind(localhost()).unwrap();
    assert_drop_closes(udp, UdpSocket::into_fd);
}

#[test]
fn unix_streams_close_on_drop() {
    let (a, b) = UnixStream::pair().unwrap();
    drop(a);
    assert_eof(b.as_raw_fd(), |buf| b.try_read(buf));

    let path = temp_path("drop-stream");
    let listener = UnixListener::bind(path.bytes()).unwrap();
    let client = UnixStream::connect(path.bytes()).unwrap();
    let revents = wait_fd(listener.as_raw_fd(), libc::POLLIN, WAIT_MS);
    assert_ne!(revents, 0, "no Unix connection to accept");
    let (accepted, _) = listener.accept().unwrap().expect("a connection");
    drop(accepted);
    assert_eof(client.as_raw_fd(), |buf| client.try_read(buf));
}

#[test]
fn unix_listener_closes_on_drop() {
    let path = temp_path("drop-listener");
    let listener = UnixListener::bind(path.bytes()).unwrap();
    drop(UnixStream::connect(path.bytes()).expect("connect while listening"));
    drop(listener);
    // The file stays, but nobody listens on it any more.
    let err = UnixStream::connect(path.bytes()).expect_err("connect after drop");
    assert_eq!(err.code(), libc::ECONNREFUSED, "{err}");
}

#[test]
fn unix_datagrams_close_on_drop() {
    let path = temp_path("drop-dgram");
    let bound = UnixDatagram::bind(path.bytes()).unwrap();
    let sender = UnixDatagram::unbound().unwrap();
    assert_eq!(sender.send_to(b"x", path.bytes()).unwrap(), Some(1));
    drop(bound);
    let err = sender
        .send_to(b"x", path.bytes())
        .expect_err("send after drop");
    assert_eq!(err.code(), libc::ECONNREFUSED, "{err}");

    let (a, b) = UnixDatagram::pair().unwrap();
    assert_eq!(b.send(b"x").unwrap(), Some(1));
    drop(a);
    assert!(b.send(b"x").is_err(), "send to a dropped pair end");
}

#[test]
fn pipe_ends_close_on_drop() {
    let (rx, tx) = pipe().unwrap();
    drop(tx);
    assert_eof(rx.as_raw_fd(), |buf| rx.try_read(buf));

    // No write to the orphaned sender (SIGPIPE): poll reports POLLERR instead.
    let (rx, tx) = pipe().unwrap();
    assert_eq!(wait_fd(tx.as_raw_fd(), libc::POLLOUT, 0), libc::POLLOUT);
    drop(rx);
    let revents = wait_fd(tx.as_raw_fd(), libc::POLLOUT, WAIT_MS);
    assert_ne!(
        revents & libc::POLLERR,
        0,
        "sender not told of the closed reader"
    );
}
