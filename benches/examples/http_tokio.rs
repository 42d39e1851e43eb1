//! statio's HTTP/1.1 server logic (`statio_protocols::http`) over tokio, as a tokio
//! user writes a server: a `current_thread` runtime, one task per connection, each with
//! its own input and output buffers (4 KiB each, in the task). A peer for
//! benches/scripts/bench_http.py; never run in CI.
//!
//! `http_tokio [ADDR]` (default 127.0.0.1:8080, port 0 allowed) prints
//! `http_tokio: listening on ADDR` first.

use statio_benches::peers::{listen_addr, unix_secs};
use statio_protocols::http::{Http, Limits};
use tokio::net::TcpListener;

include!("tokio_peer/connection.rs");

fn main() -> std::io::Result<()> {
    let addr = listen_addr("127.0.0.1:8080");
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
                let mut http = Http::new(Limits::DEFAULT);
                let _ = connection(stream, |input, output| {
                    http.set_time(unix_secs()); // formats only when the second changed
                    http.serve(input, output)
                })
                .await;
            });
        }
    })
}
