//! Prints `size_of` of the native event loop for three capacity sets, for
//! `docs/FOOTPRINT.md` (`scripts/footprint.py` runs it). A std program: sizes only.

use statio::{EventLoop, Handler};

macro_rules! sizes {
    ($(($s:literal, $t:literal, $e:literal)),*) => {$({
        struct H;
        impl Handler for H {
            type Timeout = ();
            type Message = ();
            type Loop = EventLoop<H, $s, $t, $e>;
        }
        println!(
            "| {} | {} | {} | {} |",
            $s, $t, $e,
            core::mem::size_of::<EventLoop<H, $s, $t, $e>>()
        );
    })*};
}

fn main() {
    println!("| SOURCES | TIMERS | EVENTS | size_of (bytes) |");
    println!("|---|---|---|---|");
    sizes!((16, 0, 16), (1025, 0, 64), (1024, 1024, 256));
}
