// One connection of a tokio peer, included by `http_tokio.rs` and `kv_tokio.rs`: reads
// into a 4 KiB input buffer, lets a `statio_protocols` server answer into a 4 KiB output
// buffer, writes that, as a tokio user writes a connection task.

use statio_core::buf::{Buf, LinearBuf, MutBuf};
use statio_protocols::{Next, Served};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// 4 KiB with the buffer's counters: holds a whole request and its response.
type Buffer = LinearBuf<4080>;

/// Serves `stream` with `serve` until it says close or the peer closes.
async fn connection(
    mut stream: TcpStream,
    mut serve: impl FnMut(&[u8], &mut Buffer) -> Served,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut input = Buffer::new();
    let mut output = Buffer::new();
    loop {
        // Room: the rest of a request is shorter than the buffer (`Next::NeedInput`).
        let n = stream.read(input.chunks_mut().0).await?;
        if n == 0 {
            return Ok(());
        }
        input.commit(n);
        loop {
            let served = serve(input.filled(), &mut output);
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
