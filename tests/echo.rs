//! The echo example's server (`examples/echo/server.rs`) on a loop thread, driven by
//! blocking std clients on loopback: concurrency, varied sizes, a slow reader, EOF,
//! and a full table.

// Its signal handling is tested through the example binary (process-wide state).
#[allow(dead_code)]
#[path = "../examples/echo/server.rs"]
mod server;
mod util;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use server::{Echo, EchoLoop, Pool, Table};
use util::{IO_TIMEOUT, assert_same_bytes, pattern, tcp_client, wait_for};

/// The longest one turn of the server thread sleeps, so it sees the stop flag soon.
const SERVER_TURN: Duration = Duration::from_millis(20);
/// The server thread stops by itself after this long, even if a test forgot to.
const SERVER_LIFETIME: Duration = Duration::from_secs(120);

/// What the server counted, read after each turn.
#[derive(Default)]
struct Counters {
    closed: AtomicUsize,
    rejected: AtomicUsize,
    accept_errors: AtomicUsize,
    write_waits: AtomicUsize,
    timed_out: AtomicUsize,
    starved: AtomicUsize,
}

/// An echo server on its own thread; stops (and is joined) on [`stop`](Self::stop),
/// or stops without a join when dropped (e.g. by a failing test).
struct Running {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// Starts `Echo<N, S, P>` on 127.0.0.1 with an ephemeral port.
    fn start<const N: usize, const S: usize, const P: usize>() -> Running {
        Running::start_idle::<N, S, P>(server::IDLE_TIMEOUT)
    }

    /// Starts `Echo<N, S, P>` closing connections idle for longer than `idle`.
    fn start_idle<const N: usize, const S: usize, const P: usize>(idle: Duration) -> Running {
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = {
            let (stop, counters) = (stop.clone(), counters.clone());
            thread::Builder::new()
                .name(format!("echo<{N},{S},{P}>"))
                // The server (its table and scratch buffer) lives on this thread's stack.
                .stack_size(16 * 1024 * 1024)
                .spawn(move || serve::<N, S, P>(&stop, &counters, &addr_tx, idle))
                .expect("spawn the server thread")
        };
        let addr = addr_rx
            .recv_timeout(IO_TIMEOUT)
            .expect("the server thread did not start");
        Running {
            addr,
            stop,
            counters,
            thread: Some(thread),
        }
    }

    fn closed(&self) -> usize {
        self.counters.closed.load(Ordering::Acquire)
    }

    fn write_waits(&self) -> usize {
        self.counters.write_waits.load(Ordering::Acquire)
    }

    fn starved(&self) -> usize {
        self.counters.starved.load(Ordering::Acquire)
    }

    fn timed_out(&self) -> usize {
        self.counters.timed_out.load(Ordering::Acquire)
    }

    fn rejected(&self) -> usize {
        self.counters.rejected.load(Ordering::Acquire)
    }

    /// Stops the server thread and joins it, propagating its panic.
    fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take()
            && let Err(panic) = thread.join()
        {
            std::panic::resume_unwind(panic);
        }
        assert_eq!(
            self.counters.accept_errors.load(Ordering::Acquire),
            0,
            "accept failed"
        );
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Release: pairs with the Acquire load of the server thread.
        self.stop.store(true, Ordering::Release);
    }
}

/// The server thread: bounded turns until the stop flag or its lifetime ends.
fn serve<const N: usize, const S: usize, const P: usize>(
    stop: &AtomicBool,
    counters: &Counters,
    addr_tx: &std::sync::mpsc::Sender<SocketAddr>,
    idle: Duration,
) {
    // The pool is lent from for the server's life: leaked, one per server.
    let pool: &'static Pool<P> = Box::leak(Box::new(Pool::new()));
    let table: &'static mut Table<N, P> = Box::leak(Box::new(Table::new()));
    let mut echo = Echo::<N, S, P>::new(pool, table);
    echo.set_idle_timeout(idle);
    let mut event_loop = EchoLoop::<N, S, P>::new().expect("EventLoop::new");
    let addr = echo
        .listen(&mut event_loop, "127.0.0.1:0".parse().unwrap())
        .expect("listen");
    addr_tx.send(addr).unwrap();
    let deadline = Instant::now() + SERVER_LIFETIME;
    // Acquire: pairs with the Release store of `Running::stop`/`drop`.
    while !stop.load(Ordering::Acquire) && Instant::now() < deadline {
        event_loop
            .run_once(&mut echo, Some(SERVER_TURN))
            .expect("run_once");
        // Release: pairs with the Acquire loads of the test thread.
        counters.closed.store(echo.closed, Ordering::Release);
        counters.rejected.store(echo.rejected, Ordering::Release);
        counters
            .accept_errors
            .store(echo.accept_errors, Ordering::Release);
        counters
            .write_waits
            .store(echo.write_waits, Ordering::Release);
        counters.timed_out.store(echo.timed_out, Ordering::Release);
        counters.starved.store(echo.starved, Ordering::Release);
    }
}

/// Sends `messages` on one connection from a writer thread while this thread reads
/// everything back; returns what came back.
fn exchange(addr: SocketAddr, messages: Vec<Vec<u8>>) -> Vec<u8> {
    let stream = tcp_client(addr);
    let total: usize = messages.iter().map(Vec::len).sum();
    let mut writer = stream.try_clone().unwrap();
    let writing = thread::spawn(move || {
        for message in &messages {
            writer.write_all(message).expect("client write");
        }
    });
    let mut got = vec![0u8; total];
    let mut stream = stream;
    stream.read_exact(&mut got).expect("client read back");
    writing.join().expect("writer thread");
    // Nothing more: the server echoes only what it got.
    stream.shutdown(Shutdown::Write).unwrap();
    let mut rest = [0u8; 1];
    assert_eq!(stream.read(&mut rest).unwrap(), 0, "bytes beyond the echo");
    got
}

#[test]
fn hundred_concurrent_clients_get_their_bytes_back() {
    const CLIENTS: usize = 100;
    let server = Running::start::<128, 130, 64>();
    let addr = server.addr;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            thread::spawn(move || {
                // Sizes around the server's 4 KiB buffer, odd sizes, and every tenth
                // client a 256 KiB message.
                let mut sizes = vec![1, 1 + i % 17, 1000 + 37 * i, 4095, 4096, 4097];
                sizes.push(16 * 1024 + 113 * i);
                if i % 10 == 0 {
                    sizes.push(256 * 1024);
                }
                let messages: Vec<Vec<u8>> = sizes
                    .iter()
                    .enumerate()
                    .map(|(m, &len)| pattern((i * 100 + m) as u64, len))
                    .collect();
                let want = messages.concat();
                let got = exchange(addr, messages);
                assert_same_bytes(&got, &want, &format!("client {i}"));
            })
        })
        .collect();
    for (i, client) in clients.into_iter().enumerate() {
        client
            .join()
            .unwrap_or_else(|_| panic!("client {i} failed"));
    }
    wait_for("all 100 connections closed by the server", || {
        server.closed() == CLIENTS
    });
    assert_eq!(server.rejected(), 0);
    server.stop();
}

/// The most a TCP send buffer grows to by autotuning (`tcp_wmem[2]`, tcp(7)); the
/// Linux default, 4 MiB, where the file cannot be read.
fn max_send_buffer() -> usize {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 * 1024 * 1024)
}

#[test]
fn slow_reader_gets_every_byte_in_order() {
    let server = Running::start::<8, 10, 64>();
    let mut stream = tcp_client(server.addr);
    // A fixed receive buffer on the client (no autotuning), so what the server can
    // write before the client reads is bounded: its send buffer (at most tcp_wmem[2])
    // plus the client's receive buffer (twice the value set, socket(7)).
    let rcvbuf: usize = 32 * 1024;
    let value = rcvbuf as libc::c_int;
    // SAFETY: SO_RCVBUF takes a c_int, passed by pointer with its size.
    let ret = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&stream),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(ret, 0, "SO_RCVBUF: {}", std::io::Error::last_os_error());
    // More than fits in both buffers: the server's writes must come up short.
    let len = max_send_buffer() + 2 * rcvbuf + 1024 * 1024;
    let want = pattern(7, len);
    let mut writer = stream.try_clone().unwrap();
    let data = want.clone();
    let writing = thread::spawn(move || {
        writer.write_all(&data).expect("client write");
        writer.shutdown(Shutdown::Write).unwrap();
    });
    // Not reading until the server has had a partial write and waits to write.
    wait_for("a partial write on the server", || server.write_waits() > 0);
    let mut got = Vec::with_capacity(len);
    stream.read_to_end(&mut got).expect("read back until EOF");
    writing.join().expect("writer thread");
    assert_same_bytes(&got, &want, "slow reader");
    wait_for("the connection closed by the server", || {
        server.closed() == 1
    });
    server.stop();
}

#[test]
fn peer_eof_closes_the_connection() {
    let server = Running::start::<8, 10, 64>();
    let mut stream = tcp_client(server.addr);
    stream.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    assert_eq!(server.closed(), 0, "closed before the client's EOF");
    stream.shutdown(Shutdown::Write).unwrap();
    // The server closes its side: this read sees EOF (not a timeout).
    assert_eq!(stream.read(&mut buf).expect("EOF from the server"), 0);
    wait_for("the server counts the connection closed", || {
        server.closed() == 1
    });
    // A dropped client (both directions at once) is closed as well.
    let mut second = tcp_client(server.addr);
    second.write_all(b"x").unwrap();
    second.read_exact(&mut buf[..1]).unwrap();
    drop(second);
    wait_for("the dropped client's connection closed", || {
        server.closed() == 2
    });
    server.stop();
}

#[test]
fn full_table_closes_new_connections_and_keeps_serving() {
    // A table of 3 connections.
    let server = Running::start::<3, 5, 16>();
    let ping = |stream: &mut std::net::TcpStream, tag: u64| {
        let want = pattern(tag, 200);
        stream.write_all(&want).unwrap();
        let mut got = vec![0u8; want.len()];
        stream.read_exact(&mut got).expect("echo");
        assert_same_bytes(&got, &want, "echo on a table connection");
    };
    let mut kept: Vec<_> = (0..3).map(|_| tcp_client(server.addr)).collect();
    for (i, stream) in kept.iter_mut().enumerate() {
        ping(stream, i as u64);
    }
    let mut fourth = tcp_client(server.addr);
    let mut buf = [0u8; 1];
    assert_eq!(
        fourth.read(&mut buf).expect("EOF, not a timeout"),
        0,
        "the 4th connection was not closed at once"
    );
    wait_for("the 4th connection counted as rejected", || {
        server.rejected() == 1
    });
    for (i, stream) in kept.iter_mut().enumerate() {
        ping(stream, 10 + i as u64);
    }
    // Freeing a slot lets a new connection in.
    drop(kept.pop());
    wait_for("a table slot freed", || server.closed() == 1);
    let mut fifth = tcp_client(server.addr);
    ping(&mut fifth, 20);
    assert_eq!(server.rejected(), 1);
    server.stop();
}

#[test]
fn an_idle_connection_is_closed_after_its_timeout_and_an_active_one_is_not() {
    let idle = Duration::from_secs(2);
    let server = Running::start_idle::<8, 10, 16>(idle);

    let mut silent = tcp_client(server.addr);
    silent.write_all(b"x").unwrap();
    let mut byte = [0u8; 1];
    silent.read_exact(&mut byte).unwrap();
    let went_silent = Instant::now();
    // Not closed at once: still open well inside its timeout. Checked only when the read
    // itself ran well inside it, so a machine that stalls this thread cannot fail it.
    silent.set_nonblocking(true).unwrap();
    let early = silent.read(&mut byte).map_err(|err| err.kind());
    if went_silent.elapsed() < idle / 2 {
        assert_eq!(
            early,
            Err(std::io::ErrorKind::WouldBlock),
            "closed before its idle timeout"
        );
    }
    silent.set_nonblocking(false).unwrap();

    // Another connection keeps talking for longer than the idle timeout: its timer is
    // restarted by every message, so it stays open.
    let mut chatty = tcp_client(server.addr);
    for round in 0..30u8 {
        chatty.write_all(&[round]).unwrap();
        chatty.read_exact(&mut byte).unwrap();
        assert_eq!(byte[0], round);
        thread::sleep(Duration::from_millis(100));
    }

    // The silent one is closed by the server: EOF.
    assert_eq!(silent.read(&mut byte).unwrap(), 0, "expected EOF");
    wait_for("the idle connection to be counted", || {
        server.timed_out() == 1
    });
    chatty.write_all(b"!").unwrap();
    chatty.read_exact(&mut byte).unwrap();
    assert_eq!(&byte, b"!");
    assert_eq!(server.timed_out(), 1);
    server.stop();
}

/// A pool of one buffer: a client that does not read holds it with its unsent echo,
/// so another client is not read at all (its bytes wait in the kernel) until the
/// buffer returns; then it is served, and no byte of either is lost.
#[test]
fn an_empty_pool_parks_a_connection_until_a_buffer_returns() {
    let server = Running::start::<8, 10, 1>();
    let mut hog = tcp_client(server.addr);
    let len = max_send_buffer() + 4 * 1024 * 1024;
    let want = pattern(3, len);
    let mut writer = hog.try_clone().unwrap();
    let data = want.clone();
    let writing = thread::spawn(move || writer.write_all(&data).expect("hog write"));
    wait_for("the hog's partial write holds the buffer", || {
        server.write_waits() > 0
    });

    let mut parked = tcp_client(server.addr);
    parked.write_all(b"hello").unwrap();
    wait_for("the second connection parked", || server.starved() > 0);
    parked
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut byte = [0u8; 1];
    let err = parked
        .read(&mut byte)
        .expect_err("no echo while the pool is empty");
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );

    // The hog reads everything: its buffer drains and returns, the parked one is read.
    let mut got = vec![0u8; len];
    hog.read_exact(&mut got).expect("the hog's echo");
    writing.join().expect("hog writer");
    assert_same_bytes(&got, &want, "the hog's bytes");
    parked.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut hello = [0u8; 5];
    parked.read_exact(&mut hello).expect("the parked echo");
    assert_eq!(&hello, b"hello");
    server.stop();
}

/// The example binary on a port the kernel picks, with its address and its stderr's
/// lines; `None` where it cannot run (a cross-built test).
fn spawn_echo() -> Option<(
    std::process::Child,
    SocketAddr,
    std::sync::mpsc::Receiver<String>,
)> {
    use std::process::{Command, Stdio};

    let bin = util::example_binary(None, "echo")?;
    let mut child = Command::new(bin)
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn echo");
    let stdout = util::lines_of(child.stdout.take().unwrap());
    let stderr = util::lines_of(child.stderr.take().unwrap());
    let first = stdout.recv_timeout(IO_TIMEOUT).expect("echo's first line");
    let addr: SocketAddr = first
        .strip_prefix("echo: listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    Some((child, addr, stderr))
}

/// Sends `signal` to `child`.
fn signal(child: &std::process::Child, signal: libc::c_int) {
    // SAFETY: kill(2) takes no pointers; the pid is our child's, not yet reaped.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

/// Sends `ping` on `client` and reads it back.
fn ping(client: &mut std::net::TcpStream) {
    client.write_all(b"ping").unwrap();
    let mut back = [0u8; 4];
    client.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"ping");
}

/// The example binary stops on SIGTERM: it closes every connection (each client reads
/// EOF), prints its marks, and exits 0. The design target is within a second; the test
/// waits up to 10 s (a loaded machine) and reports how long it took.
#[test]
fn sigterm_closes_every_connection_and_exits_0() {
    let Some((mut child, addr, stderr)) = spawn_echo() else {
        return;
    };
    let mut clients: Vec<_> = (0..3).map(|_| tcp_client(addr)).collect();
    for client in &mut clients {
        ping(client);
    }
    let signalled = Instant::now();
    signal(&child, libc::SIGTERM);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("echo did not exit within 10 s of SIGTERM");
        }
        thread::sleep(Duration::from_millis(5));
    };
    let took = signalled.elapsed();
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status} after {took:?}"
    );
    for client in &mut clients {
        let mut byte = [0u8; 1];
        assert_eq!(client.read(&mut byte).expect("EOF, not an error"), 0);
    }
    // Printed after the connections closed: none now, the three at the peak.
    let marks = util::next_marks(&stderr, "echo: marks");
    assert_eq!(marks.label, "echo: marks at shutdown");
    assert_eq!(marks.row("table slots")[..3], [0, 3, 10_000], "{marks:?}");
    assert_eq!(marks.row("listener")[3], 0, "{marks:?}");
    eprintln!("echo exited 0 {took:?} after SIGTERM");
}

/// SIGUSR1 prints the marks as they are, and the server goes on serving, the
/// connections it had and new ones.
#[test]
fn sigusr1_prints_the_marks_and_serving_goes_on() {
    let Some((mut child, addr, stderr)) = spawn_echo() else {
        return;
    };
    let mut clients: Vec<_> = (0..2).map(|_| tcp_client(addr)).collect();
    for client in &mut clients {
        ping(client);
    }
    signal(&child, libc::SIGUSR1);
    let marks = util::next_marks(&stderr, "echo: marks");
    assert_eq!(marks.label, "echo: marks on SIGUSR1");
    assert_eq!(marks.row("table slots")[..3], [2, 2, 10_000], "{marks:?}");
    // The listener, the signals and the two connections.
    assert_eq!(marks.row("sources")[..2], [4, 4], "{marks:?}");
    clients.push(tcp_client(addr));
    for client in &mut clients {
        ping(client);
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "echo exited on SIGUSR1"
    );
    signal(&child, libc::SIGTERM);
    let marks = util::next_marks(&stderr, "echo: marks");
    assert_eq!(marks.label, "echo: marks at shutdown");
    assert_eq!(marks.row("table slots")[..2], [0, 3], "{marks:?}");
    let status = child.wait().expect("echo's exit status");
    assert_eq!(status.code(), Some(0), "{status}");
}
