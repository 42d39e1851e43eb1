// The program of `static_table_10` and `static_table_10k` (included by both with their
// `SLOTS`): a `SourceTable` of `SLOTS` connections with 8 KiB of state each, and its
// loop, in `static`s; a few slots filled with socketpairs. scripts/footprint.py
// compares the two stripped binaries (a zeroed table is in `.bss`, not the file) and
// runs both (nothing is built on the stack).

use static_cell::ConstStaticCell;
use statio::net::UnixStream;
use statio::{Config, EventLoop, Handler, Interest, LoopCell, PollOpt, SourceTable};

/// A connection's state: 8 KiB of buffers.
struct Slot {
    input: [u8; 4096],
    output: [u8; 4096],
}

struct App;

impl Handler for App {
    type Timeout = ();
    type Message = ();
    type Loop = Loop;
}

type Loop = EventLoop<App, SLOTS, 0, 16>;

static TABLE: ConstStaticCell<SourceTable<UnixStream, Slot, SLOTS>> =
    ConstStaticCell::new(SourceTable::new());
static LOOP: LoopCell<Loop> = LoopCell::new();

/// Slots filled: each takes two descriptors.
const FILL: usize = if SLOTS < 8 { SLOTS } else { 8 };

fn main() {
    // In place: `take` hands out the `static` itself, `init` builds the loop in its cell.
    let table = TABLE.take();
    let event_loop = LOOP.init(Config::new()).expect("the loop");
    let mut peers = Vec::new();
    for i in 0..FILL {
        let (conn, peer) = UnixStream::pair().expect("socketpair");
        let slot = Slot {
            input: [i as u8; 4096],
            output: [0; 4096],
        };
        let token = table
            .insert(event_loop, conn, slot, Interest::READABLE, PollOpt::level())
            .expect("a free slot");
        let (_, slot) = table.get(token).expect("the slot just filled");
        assert_eq!((slot.input[4095], slot.output[0]), (i as u8, 0));
        peers.push(peer);
    }
    println!(
        "{} of {SLOTS} slots of {} bytes filled; table {} bytes, loop {} bytes",
        table.len(),
        size_of::<Slot>(),
        size_of_val(table),
        size_of::<Loop>()
    );
}
