//! Shared helpers of statio's benchmarks. The benchmarks themselves are the `[[bench]]`
//! targets of this package; the server peers of `benches/scripts` are its examples.

pub mod peers;
