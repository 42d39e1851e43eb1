//! A 10-slot table of 8 KiB slots in a `static`: the size `static_table_10k` is compared
//! with (see `static_table/program.rs`).

const SLOTS: usize = 10;

include!("static_table/program.rs");
