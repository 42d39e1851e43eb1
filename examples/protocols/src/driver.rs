//! The tests' stand-in for a server loop: feeds input in chunks, keeps what was not
//! consumed, sends (collects) the output after every call, and checks the [`Next`]
//! contract as it goes.

use std::vec::Vec;

use statio_core::buf::LinearBuf;

use crate::{Next, Served};

/// What a connection sent back.
#[derive(Debug)]
pub struct Transcript {
    /// Every byte of output, in order.
    pub output: Vec<u8>,
    /// Whether a call said [`Next::Close`].
    pub closed: bool,
    /// The input kept unconsumed at the end.
    pub kept: Vec<u8>,
}

/// Feeds `input` to `serve` `chunk` bytes per "read", as a loop would, with an output
/// buffer of `OUT` bytes emptied after each call. Checks that a [`Next::NeedInput`]
/// keeps less than `request_limit` bytes and that [`Next::OutputFull`] leaves something
/// to send.
pub fn drive<const OUT: usize>(
    input: &[u8],
    chunk: usize,
    request_limit: usize,
    mut serve: impl FnMut(&[u8], &mut LinearBuf<OUT>) -> Served,
) -> Transcript {
    let mut kept = Vec::new();
    let mut out = LinearBuf::<OUT>::new();
    let mut output = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        kept.extend_from_slice(piece);
        // Each OutputFull sends a non-empty buffer, so the input moves on: bounded.
        for turn in 0.. {
            assert!(turn < 100_000, "no progress after {turn} calls");
            let served = serve(&kept, &mut out);
            assert!(
                served.consumed <= kept.len(),
                "{served:?} of {} bytes",
                kept.len()
            );
            let sent = out.filled().len();
            output.extend_from_slice(out.filled());
            out.clear();
            match served.next {
                Next::NeedInput => {
                    kept.drain(..served.consumed);
                    assert!(
                        kept.len() < request_limit,
                        "NeedInput kept {} bytes, at or over the {request_limit}-byte limit",
                        kept.len()
                    );
                    break;
                }
                Next::OutputFull => {
                    assert!(sent > 0, "OutputFull with nothing to send");
                    kept.drain(..served.consumed);
                }
                Next::Close => {
                    kept.drain(..served.consumed);
                    return Transcript {
                        output,
                        closed: true,
                        kept,
                    };
                }
            }
        }
    }
    Transcript {
        output,
        closed: false,
        kept,
    }
}
