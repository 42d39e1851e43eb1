// The program of `static_table_10` and `static_table_10k` (included by both with their
// `SLOTS`): a connection table of `SLOTS` 8 KiB slots in a `static`, filled.
// scripts/footprint.py compares the two stripped binaries (a zeroed table is in `.bss`,
// not the file) and runs both (nothing is built on the stack).

use static_cell::ConstStaticCell;
use statio::Slab;

/// A connection's state: 8 KiB of buffers.
struct Slot {
    input: [u8; 4096],
    output: [u8; 4096],
}

static TABLE: ConstStaticCell<Slab<Slot, SLOTS>> = ConstStaticCell::new(Slab::new());

fn main() {
    // In place: `take` hands out the `static` itself.
    let table = TABLE.take();
    let mut filled = 0;
    while let Some(key) = table.insert_with(|key| Slot {
        input: [key.index() as u8; 4096],
        output: [0; 4096],
    }) {
        filled += 1;
        assert_eq!(table.get(key).map(|slot| slot.input[4095]), Some(key.index() as u8));
        assert_eq!(table.get(key).map(|slot| slot.output[0]), Some(0));
    }
    println!("{filled} of {SLOTS} slots of {} bytes filled", size_of::<Slot>());
}
