//! The echo example under `ulimit -n 64` with 200 clients: once accepting has run out
//! of descriptors the server sleeps (≤ 0.1 s of CPU over 5 s, from /proc/PID/stat),
//! the connections it holds are served, and the waiting ones are served within a
//! second of others closing. Runs on the native port, and on poll(2) with
//! `--features force-poll` (the example is built with this test's features). Ignored
//! in the full suite, whose load could skew the CPU figure: `.ci/run` runs it alone.

#![cfg(target_os = "linux")]

mod util;

use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use util::{IO_TIMEOUT, example_binary, tcp_client};

const CLIENTS: usize = 200;
const LIMIT: u32 = 64;

/// The server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server's CPU time so far (user + system), from /proc/PID/stat.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // After the command name, which ends with the last ')': state is field 3, utime
    // and stime fields 14 and 15 (proc(5)).
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf takes no pointers.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / hz)
}

/// Sends a tag and reads it back within `within`.
fn ping(client: &mut TcpStream, tag: u8, within: Duration) -> Result<(), String> {
    client.set_read_timeout(Some(within)).unwrap();
    client.write_all(&[tag; 8]).map_err(|e| e.to_string())?;
    let mut back = [0u8; 8];
    client.read_exact(&mut back).map_err(|e| e.to_string())?;
    if back != [tag; 8] {
        return Err(format!("echoed {back:?}"));
    }
    Ok(())
}

#[test]
#[ignore = "measures the server's CPU: run alone, as .ci/run's exhaustion step does (--ignored)"]
fn echo_at_its_descriptor_limit_sleeps_and_serves() {
    let Some(bin) = example_binary(None, "echo") else {
        return;
    };
    // `ulimit -n` in a shell that then becomes the server.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {LIMIT} && exec \"$0\" 127.0.0.1:0"))
        .arg(&bin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sh");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (line_tx, line_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = line_tx.send(line);
        }
    });
    let first = line_rx.recv_timeout(IO_TIMEOUT).expect("echo's first line");
    let addr: SocketAddr = first
        .strip_prefix("echo: listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    let pid = server.0.id();

    let mut clients: Vec<TcpStream> = (0..CLIENTS).map(|_| tcp_client(addr)).collect();
    // The first ones are accepted and served.
    for (i, client) in clients.iter_mut().enumerate().take(10) {
        ping(client, i as u8, IO_TIMEOUT).unwrap_or_else(|e| panic!("client {i}: {e}"));
    }
    // The last one waits in the backlog: the server is at its limit.
    let last = clients.last_mut().unwrap();
    last.write_all(&[0xee; 8]).unwrap();
    last.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(
        last.read(&mut [0u8; 8]).is_err(),
        "client {CLIENTS} was served: the limit was not reached"
    );

    let before = cpu_time(pid);
    thread::sleep(Duration::from_secs(5));
    let spent = cpu_time(pid) - before;
    assert!(
        spent <= Duration::from_millis(100),
        "the server used {spent:?} of CPU in 5 s at its descriptor limit"
    );
    // Still serving the connections it holds.
    for (i, client) in clients.iter_mut().enumerate().take(10) {
        ping(client, 100 + i as u8, IO_TIMEOUT).unwrap_or_else(|e| panic!("client {i}: {e}"));
    }

    // 40 clients leave: as many waiting ones are accepted at once (the server frees a
    // descriptor with each close and resumes accepting).
    clients.drain(..40);
    let closed = Instant::now();
    for (i, client) in clients.iter_mut().enumerate().skip(20).take(10) {
        ping(client, 200 + i as u8, Duration::from_secs(1))
            .unwrap_or_else(|e| panic!("waiting client {i} not served within 1 s: {e}"));
    }
    eprintln!(
        "waiting clients served {:?} after 40 closed; {spent:?} CPU in 5 s at the limit",
        closed.elapsed()
    );
}
