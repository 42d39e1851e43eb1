//! A 10,000-slot `SourceTable` of 8 KiB slots (80 MB) and its loop in `static`s: in `.bss`, so its stripped
//! binary is within a few KiB of `static_table_10`'s (see `static_table/program.rs`).

const SLOTS: usize = 10_000;

include!("static_table/program.rs");
