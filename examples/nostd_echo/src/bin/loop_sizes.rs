//! Prints what statio's fixed structures cost in bytes, from their `MEMORY` consts
//! (each exactly `size_of`), for `docs/FOOTPRINT.md` (`scripts/footprint.py` runs it)
//! and docs/TUNING.md. A std program: sizes only.

use statio::buf::{BufPool, LinearBuf, RingBuf};
use statio::net::TcpStream;
use statio::{Channel, EventLoop, Handler, Slab, SourceTable, Wheel};

/// One row of the loop table: the whole and its parts, for timers of `u64`.
macro_rules! loops {
    ($(($s:literal, $t:literal, $e:literal)),*) => {$({
        struct H;
        impl Handler for H {
            type Timeout = u64;
            type Message = ();
            type Loop = EventLoop<H, $s, $t, $e>;
        }
        type L = EventLoop<H, $s, $t, $e>;
        let rest = L::MEMORY - L::REGISTRY_MEMORY - L::EVENTS_MEMORY - L::TIMERS_MEMORY;
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            $s, $t, $e, L::MEMORY, L::REGISTRY_MEMORY, L::EVENTS_MEMORY, L::TIMERS_MEMORY, rest
        );
    })*};
}

/// One row of the parts table: a type and its `MEMORY`.
macro_rules! parts {
    ($($t:ty),*) => {$(
        println!("| `{}` | {} |", stringify!($t), <$t>::MEMORY);
    )*};
}

fn main() {
    println!("The native loop (timers of `u64`), `EventLoop::MEMORY` and its parts; the");
    println!("rest is the selector, the config and the loop's own words.");
    println!();
    println!("| SOURCES | TIMERS | EVENTS | MEMORY | registry | events | timers | rest |");
    println!("|---|---|---|---|---|---|---|---|");
    loops!(
        (16, 0, 16),
        (1025, 0, 64),
        (1024, 1024, 256),
        (10240, 10240, 1024)
    );
    println!();
    println!("The parts beside the loop, `MEMORY` of each:");
    println!();
    println!("| type | MEMORY (bytes) |");
    println!("|---|---|");
    parts!(
        Channel<u64, 256>,
        Wheel<u64, 1024>,
        Slab<u64, 1024>,
        SourceTable<TcpStream, (), 1024>,
        SourceTable<TcpStream, u64, 1024>,
        RingBuf<4080>,
        LinearBuf<4080>,
        BufPool<LinearBuf<4080>, 64>,
        BufPool<LinearBuf<4080>, 1024>
    );
}
