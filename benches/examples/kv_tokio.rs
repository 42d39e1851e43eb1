//! statio's key-value logic (`statio_protocols::kv`) over tokio: a `current_thread`
//! runtime, one local task per connection, each with its own 4 KiB input and output
//! buffers, one store for all. A peer for benches/scripts/bench_kv.py (besides redis-server),
//! and a way to drive the logic with redis-cli and redis-benchmark; never run in CI.
//!
//! `kv_tokio [ADDR]` (default 127.0.0.1:6380, port 0 allowed) prints
//! `kv_tokio: listening on ADDR` first.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use statio_benches::peers::listen_addr;
use statio_protocols::kv::{Kv, Session};
use tokio::net::TcpListener;
use tokio::task::LocalSet;

include!("tokio_peer/connection.rs");
/// 4,096 keys of up to 64 bytes, values of up to 256 bytes (about 1.4 MiB).
type Store = Kv<4096, 64, 256>;

fn main() -> std::io::Result<()> {
    let addr = listen_addr("127.0.0.1:6380");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    // Built on the stack, then moved to the heap: small enough for the main thread.
    let store: Rc<RefCell<Store>> = Rc::new(RefCell::new(Store::new()));
    let started = Instant::now();
    LocalSet::new().block_on(&runtime, async move {
        let listener = TcpListener::bind(addr).await?;
        println!("kv_tokio: listening on {}", listener.local_addr()?);
        // Redis's active expiry: 20 keys every 100 ms.
        let sweeper = store.clone();
        tokio::task::spawn_local(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let now = started.elapsed().as_millis() as u64;
                sweeper.borrow_mut().expire(now, 20);
            }
        });
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue; // EMFILE and the like: try again
            };
            let store = store.clone();
            let mut session = Session::new();
            tokio::task::spawn_local(async move {
                let _ = connection(stream, |input, output| {
                    let now = started.elapsed().as_millis() as u64;
                    store.borrow_mut().serve(&mut session, input, output, now)
                })
                .await;
            });
        }
    })
}
