//! Helpers shared by core's unit tests.

extern crate std;

use proptest::test_runner::{Config, RngAlgorithm};

/// A proptest configuration running `cases` cases (the caller picks fewer under Miri)
/// that also works under Miri: no failure files (Miri isolates tests from the file
/// system, where proptest keeps them) and the XorShift generator (ChaCha costs Miri more
/// than the tests themselves).
pub(crate) fn proptest_config(cases: u32) -> Config {
    let default = Config::default();
    Config {
        cases,
        failure_persistence: if cfg!(miri) {
            None
        } else {
            default.failure_persistence.clone()
        },
        rng_algorithm: if cfg!(miri) {
            RngAlgorithm::XorShift
        } else {
            default.rng_algorithm
        },
        ..default
    }
}
