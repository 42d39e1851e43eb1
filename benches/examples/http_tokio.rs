//! statio's HTTP/1.1 server logic (`statio_protocols::http`) over tokio, as a tokio
//! user writes a server: a `current_thread` runtime, one task per connection, each with
//! its own input and output buffers (4 KiB each, in the task). A peer for
//! benches/scripts/http.py; never run in CI.
//!
//! `http_tokio [ADDR]` (default 127.0.0.1:8080, port 0 allowed) prints
//! `http_tokio: listening on ADDR` first.

use std::io;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use statio_core::buf::{Buf, LinearBuf, MutBuf};
use statio_protocols::Next;
use statio_protocols::http::{Http, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// 4 KiB with the buffer's counters; holds a whole request and response (`Limits::DEFAULT`).
type Buffer = LinearBuf<4080>;

fn main() -> io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:8080")
        .parse()
        .expect("an address such as 127.0.0.1:8080");
    const _: () = assert!(Limits::DEFAULT.request() <= 4080 && Limits::DEFAULT.response() <= 4080);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(addr).await?;
        println!("http_tokio: listening on {}", listener.local_addr()?);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue; // EMFILE and the like: try again
            };
            tokio::spawn(async move {
                let _ = connection(stream).await;
            });
        }
    })
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn connection(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut http = Http::new(Limits::DEFAULT);
    let mut input = Buffer::new();
    let mut output = Buffer::new();
    loop {
        // Room: the rest of a request is shorter than the buffer (`Next::NeedInput`).
        let n = stream.read(input.chunks_mut().0).await?;
        if n == 0 {
            return Ok(());
        }
        input.commit(n);
        http.set_time(unix_secs());
        loop {
            let served = http.serve(input.filled(), &mut output);
            input.advance(served.consumed);
            stream.write_all(output.filled()).await?;
            output.clear();
            match served.next {
                Next::NeedInput => break,
                Next::OutputFull => {}
                Next::Close => return Ok(()),
            }
        }
    }
}
