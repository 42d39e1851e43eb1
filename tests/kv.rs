//! The key-value example's server (`examples/kv/server`) on a loop thread, driven by
//! blocking std clients speaking RESP on loopback: every RESP error of issue 12, `SET`'s
//! options, expiry (lazy and on the wheel), pipelining with and without a client that
//! reads, a full table, and zero heap allocations on the loop's thread; then the
//! example binary itself: `kill -TERM` and bad arguments.

// The signal handling is driven through the example binary (signals are process-wide).
#[allow(dead_code)]
#[path = "../examples/kv/server/mod.rs"]
mod server;
mod util;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use server::conn::Store;
use server::{KvLoop, Pool, Server, Stats};
use statio::SourceTable;
use statio_test_support::alloc::{Counting, count_allocations};
use util::{IO_TIMEOUT, Rng, tcp_client};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The longest one turn of the server thread sleeps, so it sees the stop flag soon.
const SERVER_TURN: Duration = Duration::from_millis(20);
/// The server thread stops by itself after this long, even if a test forgot to.
const SERVER_LIFETIME: Duration = Duration::from_secs(120);
/// Keys in the tests' store: few, so that filling it is quick.
const KEYS: usize = 16;
/// How often a test polls for an expiry before it fails (10 ms apart: 5 s at least).
const POLLS: usize = 500;

/// What the server thread reports when it stops.
struct Report {
    stats: Stats,
    /// Heap allocations on the loop's thread, from its first turn to its last.
    allocations: usize,
    /// Pooled buffers still lent, and the most ever lent at once.
    lent: usize,
    peak_lent: usize,
    connections: usize,
}

/// A server with a table of `N` on its own thread until [`stop`](Self::stop).
struct Running {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Report>>,
}

impl Running {
    fn start<const N: usize, const SOURCES: usize, const BUFS: usize>() -> Running {
        Running::start_reading::<N, SOURCES, BUFS>(server::conn::READS_PER_EVENT)
    }

    /// As `start`, with `reads` full reads per connection per event.
    fn start_reading<const N: usize, const SOURCES: usize, const BUFS: usize>(
        reads: usize,
    ) -> Running {
        let stop = Arc::new(AtomicBool::new(false));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name(format!("kv<{N}>"))
            .stack_size(16 * 1024 * 1024)
            .spawn(move || serve::<N, SOURCES, BUFS>(&flag, &addr_tx, reads))
            .expect("spawn the server thread");
        let addr = addr_rx
            .recv_timeout(IO_TIMEOUT)
            .expect("the server thread did not start");
        Running {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    fn client(&self) -> Client {
        Client::new(tcp_client(self.addr))
    }

    /// Stops the server and returns what it reported.
    fn stop(mut self) -> Report {
        self.stop.store(true, Ordering::Release);
        let thread = self.thread.take().expect("not stopped twice");
        thread.join().expect("the server thread panicked")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn serve<const N: usize, const SOURCES: usize, const BUFS: usize>(
    stop: &AtomicBool,
    addr_tx: &std::sync::mpsc::Sender<SocketAddr>,
    reads: usize,
) -> Report {
    // Leaked: the server borrows them for 'static, as the example's statics.
    let store: &'static mut Store<KEYS> = Box::leak(Box::new(Store::new()));
    let pool: &'static Pool<BUFS> = Box::leak(Box::new(Pool::new()));
    let table = Box::leak(Box::new(SourceTable::new()));
    let mut event_loop = Box::new(KvLoop::<'static, N, SOURCES, BUFS, KEYS>::new().expect("loop"));
    let mut server = Server::<'static, N, SOURCES, BUFS, KEYS>::new(table, store, pool);
    server.set_reads_per_event(reads);
    let addr = server
        .listen(&mut event_loop, "127.0.0.1:0".parse().unwrap())
        .expect("listen");
    addr_tx.send(addr).unwrap();
    let started = Instant::now();
    let ((), allocations) = count_allocations(|| {
        while !stop.load(Ordering::Acquire) && started.elapsed() < SERVER_LIFETIME {
            event_loop
                .run_once(&mut server, Some(SERVER_TURN))
                .expect("run_once");
        }
    });
    let (lent, peak_lent) = server.buffers();
    Report {
        stats: server.stats,
        allocations,
        lent,
        peak_lent,
        connections: server.connections(),
    }
}

/// A blocking RESP client: sends commands, reads replies as text (`+OK`, `:1`, `$-1`,
/// `$1 v`, `*2 [...]`).
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn new(stream: TcpStream) -> Client {
        Client {
            reader: BufReader::new(stream),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("send");
    }

    /// One command in RESP, its reply as text.
    fn call(&mut self, args: &[&str]) -> String {
        self.send(&resp(args));
        self.reply()
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read a reply");
        assert!(line.ends_with("\r\n"), "a reply line: {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    /// The next reply, as text: a bulk string as `$len value`, an array as
    /// `*len [a, b]`, a RESP3 map as `%len [k, v, ...]`.
    fn reply(&mut self) -> String {
        let line = self.line();
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" | "-" | ":" | "_" => line,
            "$" | "*" if rest == "-1" => line,
            "$" => {
                let len: usize = rest.parse().expect("a bulk length");
                let mut value = vec![0; len + 2];
                self.reader.read_exact(&mut value).expect("a bulk string");
                value.truncate(len);
                format!("${len} {}", String::from_utf8_lossy(&value))
            }
            "*" => {
                let len: usize = rest.parse().expect("an array length");
                let items: Vec<String> = (0..len).map(|_| self.reply()).collect();
                format!("*{len} [{}]", items.join(", "))
            }
            "%" => {
                let len: usize = rest.parse().expect("a map length");
                let items: Vec<String> = (0..2 * len).map(|_| self.reply()).collect();
                format!("%{len} [{}]", items.join(", "))
            }
            _ => panic!("not a RESP reply: {line:?}"),
        }
    }

    /// Whether the server closed the connection: EOF before any other byte.
    fn closed(&mut self) -> bool {
        let mut byte = [0];
        matches!(self.reader.read(&mut byte), Ok(0))
    }
}

fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

/// The tests' server: 64 connections, two buffers each, a store of [`KEYS`].
fn start() -> Running {
    Running::start::<64, 66, 128>()
}

/// Stops `server`, checks that it allocated nothing and returned every buffer.
fn stop_clean(server: Running) -> Report {
    let report = server.stop();
    assert_eq!(
        report.allocations, 0,
        "heap allocations on the loop's thread"
    );
    assert_eq!(
        report.lent, 0,
        "pooled buffers still lent with no bytes in flight"
    );
    report
}

#[test]
fn commands_answer_as_redis_does() {
    let server = start();
    let mut c = server.client();
    assert_eq!(c.call(&["PING"]), "+PONG");
    assert_eq!(c.call(&["ECHO", "hi"]), "$2 hi");
    assert_eq!(c.call(&["SET", "k", "v"]), "+OK");
    assert_eq!(c.call(&["GET", "k"]), "$1 v");
    assert_eq!(c.call(&["GET", "nope"]), "$-1");
    assert_eq!(c.call(&["INCR", "n"]), ":1");
    assert_eq!(c.call(&["INCRBY", "n", "41"]), ":42");
    assert_eq!(c.call(&["DECR", "n"]), ":41");
    assert_eq!(c.call(&["MSET", "a", "1", "b", "2"]), "+OK");
    assert_eq!(c.call(&["MGET", "a", "b", "c"]), "*3 [$1 1, $1 2, $-1]");
    assert_eq!(c.call(&["EXISTS", "a", "b", "c"]), ":2");
    assert_eq!(c.call(&["DEL", "a", "c"]), ":1");
    assert_eq!(c.call(&["DBSIZE"]), ":3");
    // SET's options.
    assert_eq!(c.call(&["SET", "k", "w", "NX"]), "$-1");
    assert_eq!(c.call(&["SET", "new", "w", "XX"]), "$-1");
    assert_eq!(c.call(&["SET", "k", "w", "XX", "EX", "100"]), "+OK");
    assert_eq!(c.call(&["TTL", "k"]), ":100");
    assert_eq!(c.call(&["SET", "p", "x", "NX", "PX", "100000"]), "+OK");
    let pttl = c.call(&["PTTL", "p"]);
    let ms: i64 = pttl[1..].parse().unwrap();
    assert!((1..=100_000).contains(&ms), "PTTL {pttl}");
    assert_eq!(c.call(&["TTL", "n"]), ":-1");
    assert_eq!(c.call(&["TTL", "nope"]), ":-2");
    assert_eq!(c.call(&["EXPIRE", "n", "50"]), ":1");
    assert_eq!(c.call(&["TTL", "n"]), ":50");
    // What redis-cli and redis-benchmark send first.
    assert_eq!(c.call(&["COMMAND", "DOCS"]), "*0 []");
    assert_eq!(c.call(&["CONFIG", "GET", "save"]), "*2 [$4 save, $0 ]");
    // Inline, as nc or telnet send them.
    c.send(b"PING\r\nGET k\n");
    assert_eq!((c.reply(), c.reply()), ("+PONG".into(), "$1 w".into()));
    assert_eq!(c.call(&["FLUSHALL"]), "+OK");
    assert_eq!(c.call(&["DBSIZE"]), ":0");
    stop_clean(server);
}

/// What redis-py 8 and go-redis 9 send first: `HELLO 3`, then RESP3 for that
/// connection only.
#[test]
fn hello_3_switches_one_connection_to_resp3() {
    let server = start();
    let mut c = server.client();
    let mut other = server.client();
    assert_eq!(c.call(&["SET", "a", "1"]), "+OK");
    let hello = c.call(&["HELLO", "3"]);
    assert!(
        hello.starts_with("%7 [$6 server, $9 statio-kv, $7 version, $6 7.0.15, $5 proto, :3,"),
        "{hello}"
    );
    assert_eq!(c.call(&["GET", "nope"]), "_");
    assert_eq!(c.call(&["MGET", "a", "nope"]), "*2 [$1 1, _]");
    assert_eq!(c.call(&["CONFIG", "GET", "save"]), "%1 [$4 save, $0 ]");
    assert_eq!(other.call(&["GET", "nope"]), "$-1");
    assert_eq!(
        c.call(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version"
    );
    assert!(c.call(&["HELLO", "2"]).starts_with("*14 ["));
    assert_eq!(c.call(&["GET", "nope"]), "$-1");
    stop_clean(server);
}

#[test]
fn every_error_of_the_issue_is_a_redis_error_and_the_connection_goes_on() {
    let server = start();
    let mut c = server.client();
    assert_eq!(
        c.call(&["NOPE", "x"]),
        "-ERR unknown command 'NOPE', with args beginning with: 'x' "
    );
    assert_eq!(
        c.call(&["GET"]),
        "-ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(c.call(&["SET", "s", "abc"]), "+OK");
    assert_eq!(
        c.call(&["INCR", "s"]),
        "-ERR value is not an integer or out of range"
    );
    assert_eq!(
        c.call(&["INCRBY", "n", "x"]),
        "-ERR value is not an integer or out of range"
    );
    let large = "v".repeat(257);
    assert_eq!(
        c.call(&["SET", "big", &large]),
        "-ERR string exceeds maximum allowed size (this server's values are at most 256 bytes)"
    );
    // The store holds KEYS keys: one more is refused, an existing one still changes.
    let mut mset = vec!["MSET".to_string()];
    for i in 1..KEYS {
        mset.extend([format!("key{i}"), i.to_string()]);
    }
    let mset: Vec<&str> = mset.iter().map(String::as_str).collect();
    assert_eq!(c.call(&mset), "+OK");
    assert_eq!(c.call(&["DBSIZE"]), format!(":{KEYS}"));
    assert_eq!(
        c.call(&["SET", "one-more", "v"]),
        format!("-OOM command not allowed when the store is full ({KEYS} keys)")
    );
    assert_eq!(c.call(&["SET", "s", "changed"]), "+OK");
    assert_eq!(c.call(&["PING"]), "+PONG", "the connection goes on");
    stop_clean(server);
}

#[test]
fn malformed_resp_is_an_error_then_close() {
    let server = start();
    for (input, error) in [
        (
            &b"*x\r\n"[..],
            "-ERR Protocol error: invalid multibulk length",
        ),
        (b"*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length"),
        (
            b"*1\r\n$4\r\nPINGxx\r\n",
            "-ERR Protocol error: expected CRLF after a bulk string",
        ),
    ] {
        let mut c = server.client();
        assert_eq!(c.call(&["PING"]), "+PONG");
        c.send(input);
        assert_eq!(c.reply(), error, "{input:?}");
        assert!(c.closed(), "closed after {input:?}");
    }
    let mut c = server.client();
    c.send(b"QUIT\r\nPING\r\n");
    assert_eq!(c.reply(), "+OK");
    assert!(
        c.closed(),
        "closed after QUIT, the PING after it not answered"
    );
    let report = stop_clean(server);
    assert_eq!(report.stats.closed, 4);
}

#[test]
fn keys_expire_on_read_and_on_the_wheel() {
    let server = start();
    let mut c = server.client();
    // Lazy: a read never sees an expired key. Polled: no assumption on how fast.
    assert_eq!(c.call(&["SET", "lazy", "v", "PX", "1"]), "+OK");
    let expired = (0..POLLS).any(|_| {
        thread::sleep(Duration::from_millis(10));
        c.call(&["GET", "lazy"]) == "$-1"
    });
    assert!(expired, "GET still saw the key after {POLLS} polls");
    assert_eq!(c.call(&["PTTL", "lazy"]), ":-2");
    // Active: DBSIZE counts expired keys not yet removed and reads no key, so it
    // drops to 0 only when the sweep on the loop's wheel removed them.
    assert_eq!(c.call(&["FLUSHALL"]), "+OK");
    assert_eq!(c.call(&["SET", "a", "v", "PX", "1"]), "+OK");
    assert_eq!(c.call(&["SET", "b", "v", "EX", "1"]), "+OK");
    assert_eq!(c.call(&["DBSIZE"]), ":2");
    let swept = (0..POLLS).any(|_| {
        thread::sleep(Duration::from_millis(10));
        c.call(&["DBSIZE"]) == ":0"
    });
    assert!(swept, "the sweep did not remove the expired keys");
    stop_clean(server);
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let server = start();
    let mut c = server.client();
    // Far more than one read or one reply buffer: 10,000 commands in one write.
    let mut burst = Vec::new();
    for _ in 0..10_000 {
        burst.extend_from_slice(&resp(&["INCR", "n"]));
    }
    c.send(&burst);
    for i in 1..=10_000 {
        assert_eq!(c.reply(), format!(":{i}"));
    }
    stop_clean(server);
}

/// `MULTI` ... `EXEC` one command at a time, as `redis-cli` sends them: the queue waits
/// in the connection's input across reads (another client's command between them does
/// not run inside it), runs whole at `EXEC`, and its buffer goes back to the pool; a
/// transaction pipelined in one write as redis-py sends its pipelines; a refused
/// command discards it; one whose queue outgrows the input buffer says so.
#[test]
fn transactions_queue_across_reads_and_run_whole_at_exec() {
    let server = start();
    let mut c = server.client();
    let mut other = server.client();
    assert_eq!(c.call(&["MULTI"]), "+OK");
    assert_eq!(c.call(&["SET", "t", "1"]), "+QUEUED");
    assert_eq!(other.call(&["SET", "t", "100"]), "+OK");
    assert_eq!(c.call(&["INCR", "t"]), "+QUEUED");
    assert_eq!(
        other.call(&["GET", "t"]),
        "$3 100",
        "nothing ran before EXEC"
    );
    assert_eq!(c.call(&["GET", "t"]), "+QUEUED");
    assert_eq!(c.call(&["EXEC"]), "*3 [+OK, :2, $1 2]");
    assert_eq!(other.call(&["GET", "t"]), "$1 2");
    // Pipelined in one write.
    let mut burst = resp(&["MULTI"]);
    for _ in 0..50 {
        burst.extend_from_slice(&resp(&["INCR", "p"]));
    }
    burst.extend_from_slice(&resp(&["EXEC"]));
    c.send(&burst);
    assert_eq!(c.reply(), "+OK");
    for _ in 0..50 {
        assert_eq!(c.reply(), "+QUEUED");
    }
    let exec = c.reply();
    assert!(
        exec.starts_with("*50 [:1, :2,") && exec.ends_with(", :50]"),
        "{exec}"
    );
    // A refused command: EXECABORT, nothing ran.
    assert_eq!(c.call(&["MULTI"]), "+OK");
    assert_eq!(c.call(&["INCR", "p"]), "+QUEUED");
    assert_eq!(
        c.call(&["GET"]),
        "-ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        c.call(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(c.call(&["GET", "p"]), "$2 50");
    // More queued than the 4,080-byte input buffer holds: each still QUEUED, then why.
    assert_eq!(c.call(&["MULTI"]), "+OK");
    let value = "v".repeat(200);
    for i in 0..30 {
        assert_eq!(c.call(&["SET", &format!("big{i}"), &value]), "+QUEUED");
    }
    assert_eq!(
        c.call(&["EXEC"]),
        "-EXECABORT Transaction discarded because its queued commands outgrew this \
         server's input buffer."
    );
    assert_eq!(c.call(&["EXISTS", "big0"]), ":0");
    assert_eq!(c.call(&["DISCARD"]), "-ERR DISCARD without MULTI");
    stop_clean(server);
}

/// `WATCH` across connections, as redis-py's `transaction()` uses it: another client's
/// write to a watched key makes `EXEC` answer null and run nothing, and the retry (a new
/// `WATCH`) goes through.
#[test]
fn a_write_by_another_client_fails_a_watched_transaction() {
    let server = start();
    let mut c = server.client();
    let mut other = server.client();
    assert_eq!(c.call(&["SET", "w", "1"]), "+OK");
    assert_eq!(c.call(&["WATCH", "w"]), "+OK");
    assert_eq!(other.call(&["INCR", "w"]), ":2");
    assert_eq!(c.call(&["MULTI"]), "+OK");
    assert_eq!(c.call(&["SET", "w", "10"]), "+QUEUED");
    assert_eq!(c.call(&["EXEC"]), "*-1");
    assert_eq!(
        other.call(&["GET", "w"]),
        "$1 2",
        "the queued SET did not run"
    );
    assert_eq!(c.call(&["WATCH", "w"]), "+OK");
    assert_eq!(other.call(&["GET", "w"]), "$1 2");
    assert_eq!(c.call(&["MULTI"]), "+OK");
    assert_eq!(c.call(&["SET", "w", "10"]), "+QUEUED");
    assert_eq!(c.call(&["EXEC"]), "*1 [+OK]");
    assert_eq!(other.call(&["GET", "w"]), "$2 10");
    stop_clean(server);
}

/// A client that pipelines more than a connection reads per event (one 4 KiB read
/// here) is served in shares: each time the server re-arms it for the next turn, and
/// nothing is lost, reordered or left unread on the way; another client is served
/// meanwhile.
#[test]
fn a_pipelining_client_is_served_in_shares_and_loses_nothing() {
    let server = Running::start_reading::<64, 66, 128>(1);
    let mut flood = server.client();
    let mut other = server.client();
    let mut burst = Vec::new();
    for _ in 0..10_000 {
        burst.extend_from_slice(&resp(&["INCR", "n"]));
    }
    flood.send(&burst);
    assert_eq!(other.call(&["PING"]), "+PONG");
    for i in 1..=10_000 {
        assert_eq!(flood.reply(), format!(":{i}"));
    }
    assert_eq!(other.call(&["GET", "n"]), "$5 10000");
    let report = stop_clean(server);
    assert!(
        report.stats.yields >= 1,
        "230 KB pipelined in one write, one read per event: no share ended"
    );
}

#[test]
fn a_client_that_reads_late_gets_every_reply() {
    let server = start();
    let c = server.client();
    let mut writer = c.reader.get_ref().try_clone().unwrap();
    // 4 MiB of commands, written before a single reply is read: the server stops
    // reading while its replies wait, then goes on as they are read.
    let value = "v".repeat(200);
    let command = resp(&["ECHO", &value]);
    let count = 4 * 1024 * 1024 / command.len();
    let sender = thread::spawn(move || {
        for _ in 0..count {
            writer.write_all(&command).expect("send");
        }
    });
    thread::sleep(Duration::from_millis(200));
    let mut c = c;
    let expected = format!("$200 {value}");
    for i in 0..count {
        assert_eq!(c.reply(), expected, "reply {i}");
    }
    sender.join().unwrap();
    assert_eq!(c.call(&["PING"]), "+PONG");
    let report = server.stop();
    assert_eq!(report.allocations, 0);
    assert!(
        report.peak_lent >= 1,
        "the replies waited in a pooled buffer"
    );
}

/// A client that pipelines commands, reads no reply, and resets the connection
/// (SO_LINGER 0) while replies wait in a pooled buffer: the server drops it, gets its
/// buffers back, and serves the next client.
#[test]
fn a_client_that_resets_while_replies_wait_is_dropped_and_the_next_served() {
    let server = start();
    let mut stream = util::small_window_client(server.addr, Some(0));
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    // 20 MiB of ECHOs, more than every socket buffer on the way holds: the server's
    // replies wait in a pooled buffer and it stops reading, and then the client's
    // writes stall: a write that times out proves the server holds replies.
    let command = resp(&["ECHO", &"v".repeat(200)]);
    let burst = command.repeat(20 * 1024 * 1024 / command.len());
    let stalled = stream.write_all(&burst).unwrap_err();
    assert!(
        matches!(stalled.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{stalled}"
    );
    drop(stream); // SO_LINGER 0: a reset
    let mut next = server.client();
    assert_eq!(next.call(&["PING"]), "+PONG");
    drop(next);
    let report = stop_clean(server);
    assert!(report.peak_lent >= 1, "no reply waited in a pooled buffer");
}

#[test]
fn zero_allocations_per_command() {
    let server = start();
    let clients: Vec<_> = (0..8)
        .map(|t| {
            let mut c = server.client();
            thread::spawn(move || {
                for i in 0..500 {
                    let key = format!("k{t}");
                    assert_eq!(c.call(&["SET", &key, &i.to_string(), "EX", "60"]), "+OK");
                    assert_eq!(c.call(&["INCR", &key]), format!(":{}", i + 1));
                    let value = (i + 1).to_string();
                    assert_eq!(c.call(&["GET", &key]), format!("${} {value}", value.len()));
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    let report = stop_clean(server);
    assert_eq!(report.stats.accepted, 8);
    assert_eq!(report.connections, 8 - report.stats.closed);
}

#[test]
fn a_full_table_closes_new_connections_at_once() {
    // 7 connections.
    let server = Running::start::<7, 9, 14>();
    let mut held: Vec<Client> = (0..7).map(|_| server.client()).collect();
    for c in &mut held {
        assert_eq!(c.call(&["PING"]), "+PONG");
    }
    let mut extra = server.client();
    assert!(extra.closed(), "the eighth connection was not closed");
    assert_eq!(held[0].call(&["PING"]), "+PONG", "the others go on");
    let report = stop_clean(server);
    assert_eq!(report.stats.rejected, 1);
}

/// The example binary, built for this test binary's profile (`util::example_binary`);
/// `None` when the tests were cross-built (run under an emulator): the caller skips.
fn example() -> Option<std::path::PathBuf> {
    util::example_binary(None, "kv")
}

/// SIGUSR1 prints the marks and the server goes on; SIGTERM closes every connection,
/// prints the marks, and exits 0.
#[test]
fn sigusr1_reports_and_sigterm_closes_every_connection_and_exits_0() {
    let Some(example) = example() else {
        return;
    };
    let mut child = Command::new(&example)
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start examples/kv");
    let stderr = util::lines_of(child.stderr.take().unwrap());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("kv: listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .parse()
        .unwrap();
    let mut c = Client::new(tcp_client(addr));
    assert_eq!(c.call(&["SET", "k", "v"]), "+OK");
    // SIGUSR1: the marks as they are, and serving goes on.
    // SAFETY: kill has no memory preconditions; the pid is our child's.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGUSR1) }, 0);
    let marks = util::next_marks(&stderr, "kv: marks");
    assert_eq!(marks.label, "kv: marks on SIGUSR1");
    assert_eq!(marks.row("table slots")[..3], [1, 1, 1022], "{marks:?}");
    assert_eq!(c.call(&["GET", "k"]), "$1 v");
    let mut d = Client::new(tcp_client(addr));
    assert_eq!(d.call(&["PING"]), "+PONG");
    let sent = Instant::now();
    // SAFETY: kill has no memory preconditions; the pid is our child's.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("examples/kv still running 10 s after SIGTERM");
        }
        thread::sleep(Duration::from_millis(5));
    };
    let took = sent.elapsed();
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM");
    assert!(
        took < Duration::from_secs(1),
        "exited {took:?} after SIGTERM"
    );
    assert!(c.closed(), "the client's connection was closed");
    assert!(d.closed(), "the second client's connection was closed");
    // Printed after the connections closed: none now, both at the peak.
    let marks = util::next_marks(&stderr, "kv: marks");
    assert_eq!(marks.label, "kv: marks at shutdown");
    assert_eq!(marks.row("table slots")[..3], [0, 2, 1022], "{marks:?}");
    assert_eq!(marks.row("listener")[3], 0, "{marks:?}");
}

#[test]
fn bad_arguments_are_a_message_and_exit_2() {
    let Some(example) = example() else {
        return;
    };
    for args in [
        &["nonsense"][..],
        &["127.0.0.1:1", "extra"],
        &["127.0.0.1:99999"],
    ] {
        let out = Command::new(&example)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run examples/kv");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("kv: "), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn out_of_descriptors_pauses_accepting_and_serves_the_waiting_clients_later() {
    let Some(example) = example() else {
        return;
    };
    // 24 descriptors: stdio, the selector's, the signals', the listener's and about 16
    // connections; 30 clients connect (the backlog holds the rest).
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 24 && exec '{}' 127.0.0.1:0",
            example.display()
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start examples/kv under ulimit -n 24");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("kv: listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .parse()
        .unwrap();
    let mut clients: Vec<Client> = (0..30).map(|_| Client::new(tcp_client(addr))).collect();
    // The first one is served at once; send every client a PING.
    assert_eq!(clients[0].call(&["PING"]), "+PONG");
    for c in &mut clients[1..] {
        c.send(&resp(&["PING"]));
    }
    // Close the first 15 (served, since they got a descriptor before the limit): the
    // waiting ones get their descriptors and replies.
    let mut served = 1;
    let waiting = clients.split_off(15);
    for mut c in clients.drain(1..) {
        assert_eq!(c.reply(), "+PONG");
        served += 1;
    }
    drop(clients);
    for mut c in waiting {
        assert_eq!(c.reply(), "+PONG", "a client waiting in the backlog");
        served += 1;
    }
    assert_eq!(served, 30);
    // SAFETY: kill has no memory preconditions; the pid is our child's.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("accept paused"), "stderr: {stderr}");
}

/// A stream of `count` commands: sets (values up to 300 bytes: some over the limit),
/// gets, increments, MGETs (some replies too large for the output buffer), ECHOs of
/// binary data up to 3,000 bytes, deletes, and `MULTI`, `EXEC`, `DISCARD`, `WATCH` (so
/// some transactions run, some are discarded, some outgrow the input buffer, some fail
/// on a watched key); 20 keys for a store of 16, so some writes are refused; RESP and
/// inline.
fn random_commands(rng: &mut Rng, count: usize) -> Vec<u8> {
    let mut stream = Vec::new();
    let key = |rng: &mut Rng| format!("k{}", rng.below(20));
    for _ in 0..count {
        let command: Vec<Vec<u8>> = match rng.below(11) {
            0 => vec![b"SET".to_vec(), key(rng).into(), vec![b'v'; rng.below(301)]],
            1 => vec![b"GET".to_vec(), key(rng).into()],
            2 => vec![b"INCR".to_vec(), key(rng).into()],
            3 => {
                let mut mget = vec![b"MGET".to_vec()];
                mget.extend((0..1 + rng.below(20)).map(|_| key(rng).into_bytes()));
                mget
            }
            4 => {
                let len = rng.below(3001);
                let data = (0..len).map(|_| rng.below(256) as u8).collect();
                vec![b"ECHO".to_vec(), data]
            }
            5 => vec![b"DEL".to_vec(), key(rng).into(), key(rng).into()],
            6 => vec![b"EXISTS".to_vec(), key(rng).into()],
            7 => vec![b"MULTI".to_vec()],
            8 => vec![b"EXEC".to_vec()],
            9 => vec![b"DISCARD".to_vec()],
            _ => vec![b"WATCH".to_vec(), key(rng).into(), key(rng).into()],
        };
        stream_command(&mut stream, &command, rng);
    }
    // No transaction left open: the stream is answered whole.
    stream.extend_from_slice(b"DISCARD\r\n");
    stream
}

/// Appends `command` to `stream`: inline when every argument is one plain word (one
/// time in three), else in RESP.
fn stream_command(stream: &mut Vec<u8>, command: &[Vec<u8>], rng: &mut Rng) {
    let plain = command
        .iter()
        .all(|arg| !arg.is_empty() && arg.iter().all(u8::is_ascii_alphanumeric));
    if plain && rng.below(3) == 0 {
        stream.extend_from_slice(&command.join(&b' '));
        stream.extend_from_slice(b"\r\n");
    } else {
        stream.extend_from_slice(format!("*{}\r\n", command.len()).as_bytes());
        for arg in command {
            stream.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            stream.extend_from_slice(arg);
            stream.extend_from_slice(b"\r\n");
        }
    }
}

/// What the protocol alone answers to `input` on a fresh store, through an output
/// buffer of the server's size emptied after each call: the replies the server must
/// send, byte for byte.
fn replies_of(input: &[u8]) -> Vec<u8> {
    use statio::buf::LinearBuf;
    use statio_protocols::Next;
    use statio_protocols::kv::Session;
    let mut kv: Box<Store<KEYS>> = Box::new(Store::new());
    let mut session = Session::new();
    let mut out: LinearBuf<{ server::conn::BUF }> = LinearBuf::new();
    let (mut replies, mut at) = (Vec::new(), 0);
    loop {
        let served = kv.serve(&mut session, &input[at..], &mut out, 0);
        replies.extend_from_slice(out.filled());
        out.clear();
        at += served.consumed;
        if served.next != Next::OutputFull {
            assert_eq!(at, input.len(), "the stream ends with a whole command");
            return replies;
        }
    }
}

/// Random command streams, written in random pieces and read back at random paces
/// (some 9 MB of replies behind a 4 KiB window, read only once the writes stalled or
/// ended), each on a fresh server: every reply arrives, in order, byte for byte what the
/// protocol alone answers, whatever the reads, the kept input, the stalls and the
/// partial writes of the server in between.
#[test]
fn random_streams_get_the_replies_of_the_protocol_alone() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..12 {
        let server = if round % 2 == 0 {
            start()
        } else {
            Running::start_reading::<64, 66, 128>(1)
        };
        // A slow reader behind a small window, for more replies than the server's
        // socket buffer holds (4 MiB at most on Linux by default): its writes go partial.
        let slow = round % 4 == 0;
        let input = random_commands(&mut rng, if slow { 30_000 } else { 1000 });
        let expected = replies_of(&input);
        assert!(
            expected.windows(5).any(|w| w == b"*-1\r\n"),
            "round {round}: no transaction failed on a watched key"
        );
        let stream = if slow {
            util::small_window_client(server.addr, None)
        } else {
            tcp_client(server.addr)
        };
        let (sender, stalled) = util::write_in_pieces(&stream, input, &mut rng);
        let mut reader = stream;
        let mut got = Vec::with_capacity(expected.len());
        let mut buf = vec![0; 16384];
        if slow {
            // Nothing read until the writes stall or end, and a little longer: the
            // server's writes go partial unless the kernel's buffers took everything (a
            // receive buffer autotunes up to tcp_rmem's maximum, 32 MiB here) and the
            // server lagged behind. Likely, not certain: the partial writes are
            // asserted by `a_client_that_reads_late_gets_every_reply`.
            stalled
                .recv_timeout(IO_TIMEOUT)
                .expect("stalled or written");
            thread::sleep(Duration::from_millis(300));
        }
        while got.len() < expected.len() {
            let want = 1 + rng.below(buf.len());
            match reader.read(&mut buf[..want]) {
                Ok(0) => panic!("round {round}: closed after {} bytes", got.len()),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(err) => panic!("round {round}: {err} after {} bytes", got.len()),
            }
            if rng.below(if slow { 8 } else { 50 }) == 0 {
                thread::sleep(Duration::from_millis(1));
            }
        }
        sender.join().unwrap();
        util::assert_same_bytes(&got, &expected, &format!("round {round}: the replies"));
        drop(reader);
        stop_clean(server);
    }
}
