//! Shared helpers of statio's benchmarks: medians and ratios over interleaved runs.
//! The benchmarks themselves are the `[[bench]]` targets of this package.
