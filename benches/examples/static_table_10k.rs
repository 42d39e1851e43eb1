//! A 10,000-slot table of 8 KiB slots (80 MB) in a `static`: in `.bss`, so its stripped
//! binary is within a few KiB of `static_table_10`'s (see `static_table/program.rs`).

const SLOTS: usize = 10_000;

include!("static_table/program.rs");
